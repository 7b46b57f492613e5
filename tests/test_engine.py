"""The inverse-classification engine on generators whose answer is known."""

from __future__ import annotations

import pytest
import torch

from ic.engine import (ICConfig, InputGroup, class_only_groups, constant_init, decode_at_vertices, invert,
                       invert_multistart, nearest_prototype, simplex_clip_renormalise, uniform_init)


def linear_generator(k=4, out=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(k, out, generator=g)
    return W, (lambda inputs: inputs["class"] @ W)


def test_recovers_the_known_input_of_a_linear_generator():
    W, gen = linear_generator()
    true = torch.tensor([[0.7, 0.1, 0.1, 0.1], [0.0, 0.0, 1.0, 0.0], [0.25, 0.25, 0.25, 0.25], [0.0, 0.6, 0.0, 0.4]])
    res = invert(gen, true @ W, class_only_groups(4), ICConfig(iterations=600, lr=0.02, optimizer="adam"))
    assert torch.allclose(res.inputs["class"], true, atol=2e-2)
    assert res.predictions.tolist() == [0, 2, res.predictions[2].item(), 1]
    assert res.loss_history.shape == (600, 4)
    assert (res.final_loss <= res.loss_history[0]).all() and res.final_loss.max() < 1e-3


def test_predicts_one_hot_targets_with_the_sources_adam():
    W, gen = linear_generator(k=5, out=30, seed=1)
    labels = torch.tensor([0, 1, 2, 3, 4, 2, 1])
    targets = torch.nn.functional.one_hot(labels, 5).float() @ W
    res = invert(gen, targets, class_only_groups(5), ICConfig(iterations=200, lr=0.05, optimizer="source_adam"))
    assert res.predictions.tolist() == labels.tolist()


def test_sources_adam_first_step_is_lr_times_sign_of_gradient():
    # one iteration from uniform, no projection: every entry moves by exactly lr (no bias correction)
    W = torch.eye(3)
    gen = lambda inputs: inputs["class"] @ W  # noqa: E731
    target = torch.tensor([[1.0, 0.0, 0.5]])
    groups = [InputGroup("class", uniform_init(3))]
    res = invert(gen, target, groups, ICConfig(iterations=1, lr=0.05, optimizer="source_adam"))
    assert torch.allclose(res.inputs["class"], torch.tensor([[1 / 3 + 0.05, 1 / 3 - 0.05, 1 / 3 + 0.05]]), atol=1e-6)
    res = invert(gen, target, groups, ICConfig(iterations=1, lr=0.05, optimizer="sgd"))
    grad = 2 * (torch.full((1, 3), 1 / 3) - target) / 3
    assert torch.allclose(res.inputs["class"], 1 / 3 - 0.05 * grad, atol=1e-6)


def test_simplex_projection_clips_and_renormalises():
    x = torch.tensor([[0.5, -0.2, 0.5, 1.5], [0.2, 0.2, 0.2, 0.2], [-1.0, -1.0, 2.0, 0.0]])
    p = simplex_clip_renormalise(x)
    assert torch.allclose(p[0], torch.tensor([0.25, 0.0, 0.25, 0.5]), atol=1e-6)
    assert torch.allclose(p[1], torch.full((4,), 0.25), atol=1e-6)
    assert torch.allclose(p[2], torch.tensor([0.0, 0.0, 1.0, 0.0]), atol=1e-6)
    assert (p >= 0).all() and torch.allclose(p.sum(dim=1), torch.ones(3), atol=1e-6)


def test_per_group_start_iteration_and_rate():
    # generator = class + noise; the noise group starts late and moves at a tenth of the rate
    gen = lambda inputs: inputs["class"] + inputs["noise"]  # noqa: E731
    target = torch.tensor([[1.0, 1.0]])
    groups = [InputGroup("class", constant_init(0.0, 2)),
              InputGroup("noise", constant_init(0.0, 2), lr_factor=0.1, start_iter=3)]
    cfg = ICConfig(iterations=3, lr=0.1, optimizer="source_adam")
    res = invert(gen, target, groups, cfg, seed=0)
    assert torch.allclose(res.inputs["noise"], torch.zeros(1, 2))          # iterations 0,1,2: frozen
    res = invert(gen, target, groups, ICConfig(iterations=4, lr=0.1, optimizer="source_adam"), seed=0)
    assert torch.allclose(res.inputs["noise"], torch.full((1, 2), 0.01), atol=1e-6)   # one step of lr·0.1
    assert (res.inputs["class"] > 0.3).all()                                          # four full-rate steps


def test_batched_equals_one_by_one():
    W, gen = linear_generator(k=3, out=8, seed=2)
    W = W.double()
    gen = lambda inputs: inputs["class"] @ W  # noqa: E731
    targets = torch.softmax(torch.randn(6, 3, generator=torch.Generator().manual_seed(3)), 1).double() @ W
    cfg = ICConfig(iterations=50)
    together = invert(gen, targets, class_only_groups(3), cfg)
    alone = torch.cat([invert(gen, targets[i:i + 1], class_only_groups(3), cfg).inputs["class"] for i in range(6)])
    chunked = invert(gen, targets, class_only_groups(3), ICConfig(iterations=50, chunk_size=4))
    assert torch.allclose(together.inputs["class"], alone, atol=1e-6)
    assert torch.allclose(chunked.inputs["class"], alone, atol=1e-6)


def test_non_finite_loss_is_a_clear_error():
    gen = lambda inputs: inputs["class"] * float("nan")  # noqa: E731
    with pytest.raises(FloatingPointError, match="learning rate"):
        invert(gen, torch.zeros(2, 3), class_only_groups(3), ICConfig(iterations=2))


def test_bad_configuration_is_rejected():
    with pytest.raises(ValueError, match="optimizer"):
        ICConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match="class_group"):
        invert(lambda i: i["z"], torch.zeros(1, 2), [InputGroup("z", uniform_init(2))], ICConfig(iterations=1))


def plateau_generator(out=6, seed=0):
    """2 classes; the output is exactly flat (zero gradient) wherever |c0 - c1| < 0.3, e.g. at the uniform start."""
    g = torch.Generator().manual_seed(seed)
    Wa, Wb = torch.randn(out, generator=g), torch.randn(out, generator=g)
    ramp = lambda d: ((d - 0.3) * 5).clamp(0.0, 1.0)  # noqa: E731

    def gen(inputs):
        c = inputs["class"]
        return ramp(c[:, :1] - c[:, 1:]) * Wa + ramp(c[:, 1:] - c[:, :1]) * Wb
    return Wa, Wb, gen


def test_multistart_escapes_a_plateau_that_traps_the_uniform_start():
    Wa, Wb, gen = plateau_generator()
    labels = torch.tensor([0, 1, 1, 0, 1])
    targets = torch.stack([Wa if y == 0 else Wb for y in labels])
    cfg = ICConfig(iterations=50, lr=0.05, optimizer="source_adam")
    single = invert(gen, targets, class_only_groups(2), cfg)
    assert torch.equal(single.inputs["class"], torch.full((5, 2), 0.5))     # zero gradient: never moves
    starts = [class_only_groups(2), class_only_groups(2, start=0), class_only_groups(2, start=1)]
    multi = invert_multistart(gen, targets, starts, cfg)
    assert multi.predictions.tolist() == labels.tolist()
    assert multi.extras["start_index"].tolist() == (labels + 1).tolist()    # the vertex of the true class wins
    assert torch.equal(multi.extras["predictions_per_start"][0], single.predictions)
    assert multi.loss_history.shape == (50, 5) and torch.allclose(multi.loss_history[-1], multi.final_loss)
    assert torch.allclose(multi.final_loss, multi.extras["final_loss_per_start"].min(dim=0).values)


def test_multistart_rejects_mismatched_starts():
    _, _, gen = plateau_generator()
    with pytest.raises(ValueError, match="same input groups"):
        invert_multistart(gen, torch.zeros(2, 6), [class_only_groups(2), [InputGroup("noise", uniform_init(2))]])
    with pytest.raises(ValueError, match="start vertex"):
        class_only_groups(2, start=2)


def test_decoding_at_the_vertices_finds_what_the_plateau_hides():
    Wa, Wb, gen = plateau_generator()
    labels = torch.tensor([0, 1, 1, 0, 1])
    jitter = 0.01 * torch.randn(5, 6, generator=torch.Generator().manual_seed(0))
    targets = torch.stack([Wa if y == 0 else Wb for y in labels]) + jitter
    pred, losses = decode_at_vertices(lambda c: gen({"class": c}), targets, 2)
    assert pred.tolist() == labels.tolist()            # the uniform start cannot move here (test above)
    assert losses.shape == (5, 2)
    assert torch.allclose(losses[0, 0], ((targets[0] - Wa) ** 2).mean())


def test_nearest_prototype_uses_the_loss_it_is_given():
    protos = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    targets = torch.tensor([[1.0, 0.0], [9.0, 0.0], [4.0, 0.0]])
    pred, losses = nearest_prototype(protos, targets)
    assert pred.tolist() == [0, 1, 0] and losses.shape == (3, 2)
    far_from_zero = lambda out, tgt: -((out - tgt) ** 2).mean(dim=1)          # noqa: E731 — a perverse loss
    assert nearest_prototype(protos, targets, far_from_zero)[0].tolist() == [1, 0, 1]
    with pytest.raises(ValueError, match="differ in shape"):
        nearest_prototype(torch.zeros(2, 3), targets)
