"""The inverse-classification engine on generators whose answer is known."""

from __future__ import annotations

import logging

import pytest
import torch
from torch import nn

from ic.engine import (ICConfig, InputGroup, class_only_generator, class_only_groups, constant_init,
                       decode_at_vertices, invert, invert_multistart, nearest_prototype, normal_init,
                       simplex_clip_renormalise, uniform_init)


def linear_generator(k=4, out=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(k, out, generator=g)
    return W, (lambda inputs: inputs["class"] @ W)


def test_recovers_the_known_input_of_a_linear_generator():
    W, gen = linear_generator()
    true = torch.tensor([[0.7, 0.1, 0.1, 0.1], [0.0, 0.0, 1.0, 0.0], [0.2, 0.3, 0.1, 0.4], [0.0, 0.6, 0.0, 0.4]])
    res = invert(gen, true @ W, class_only_groups(4), ICConfig(iterations=600, lr=0.02, optimizer="adam"))
    assert torch.allclose(res.inputs["class"], true, atol=2e-2)
    assert res.predictions.tolist() == [0, 2, 3, 1]
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


# --------------------------------------------------------------------------- groups: frozen, seeded
def test_a_group_with_trainable_false_keeps_its_initial_value():
    gen = lambda inputs: inputs["class"] + inputs["noise"]  # noqa: E731
    target = torch.tensor([[1.0, 1.0], [0.0, 2.0]])
    groups = [InputGroup("class", constant_init(0.0, 2)), InputGroup("noise", constant_init(0.25, 2), trainable=False)]
    res = invert(gen, target, groups, ICConfig(iterations=50, lr=0.5, optimizer="sgd", record_grad_norms=True))
    assert torch.equal(res.inputs["noise"], torch.full((2, 2), 0.25))        # its gradient is not zero
    assert torch.allclose(res.inputs["class"], target - 0.25, atol=0.02)     # the other group did all the work
    assert set(res.extras["grad_norms"]) == {"class"}


def test_normal_init_draws_from_the_engine_seed_whatever_the_chunking():
    gen = lambda inputs: inputs["class"] + inputs["noise"].sum(dim=1, keepdim=True)  # noqa: E731
    groups = [InputGroup("class", uniform_init(2)), InputGroup("noise", normal_init(3, std=2.0), trainable=False)]
    target = torch.zeros(6, 2)
    cfg = ICConfig(iterations=1)
    a = invert(gen, target, groups, cfg, seed=5).inputs["noise"]
    expected = torch.randn(6, 3, generator=torch.Generator().manual_seed(5)) * 2.0
    assert torch.equal(a, expected)
    assert torch.equal(invert(gen, target, groups, ICConfig(iterations=1, chunk_size=4), seed=5).inputs["noise"], a)
    assert not torch.allclose(invert(gen, target, groups, cfg, seed=6).inputs["noise"], a)


# --------------------------------------------------------------------------- guards
def test_sources_adam_with_eps_0_takes_no_step_where_the_gradient_was_always_0():
    """ε = 0 (the cGAN source): entry 2 never affects the output, so m = v = 0 there; 0/0 must not be NaN."""
    gen = lambda inputs: inputs["class"][:, :2] * torch.tensor([1.0, 2.0])  # noqa: E731
    target = torch.tensor([[0.5, 0.2], [0.1, 1.5]])
    groups = [InputGroup("class", uniform_init(3))]                          # no projection: raw steps
    res = invert(gen, target, groups, ICConfig(iterations=30, lr=0.05, optimizer="source_adam", eps=0.0))
    assert torch.isfinite(res.inputs["class"]).all() and torch.isfinite(res.loss_history).all()
    assert torch.equal(res.inputs["class"][:, 2], torch.full((2,), 1 / 3))
    assert (res.inputs["class"][:, :2] - 1 / 3).abs().min() > 0.05           # the used entries moved


def test_a_row_with_no_positive_entry_falls_back_to_uniform_and_is_counted(caplog):
    x = torch.tensor([[-0.5, -0.1, -2.0], [0.2, -1.0, 0.6], [0.0, 0.0, 0.0]])
    p, fell = simplex_clip_renormalise.with_fallbacks(x)
    assert torch.allclose(p[0], torch.full((3,), 1 / 3)) and torch.allclose(p[2], torch.full((3,), 1 / 3))
    assert torch.allclose(p[1], torch.tensor([0.25, 0.0, 0.75]), atol=1e-6)
    assert fell.tolist() == [True, False, True]
    # in the engine: SGD with a large rate pushes every entry of probe 0 below zero in the first step
    gen = lambda inputs: inputs["class"]  # noqa: E731
    target = torch.tensor([[-50.0, -50.0, -50.0], [0.0, 1.0, 0.0], [-50.0, -50.0, -50.0], [1.0, 0.0, 0.0]])
    with caplog.at_level(logging.WARNING, logger="ic.engine"):
        res = invert(gen, target, class_only_groups(3), ICConfig(iterations=3, lr=1.0, optimizer="sgd"))
    assert res.extras["fallback_rows"] == {"class": 2}
    assert res.extras["fallback"]["class"].tolist() == [True, False, True, False]
    assert torch.allclose(res.inputs["class"].sum(dim=1), torch.ones(4))   # on the simplex, not a zero row
    assert res.predictions[1] == 1 and res.predictions[3] == 0
    assert any("2 of 4 rows" in r.getMessage() for r in caplog.records)


def test_a_generator_in_train_mode_does_not_change_its_running_statistics():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5))
    bn = model[1]
    before = {k: v.clone() for k, v in bn.state_dict().items()}
    gen = lambda inputs: model(inputs["class"])  # noqa: E731
    target = torch.randn(8, 5)
    model.train()
    with pytest.raises(RuntimeError, match="running statistics.*eval mode"):
        invert(gen, target, class_only_groups(3), ICConfig(iterations=5))
    assert all(torch.equal(v, before[k]) for k, v in bn.state_dict().items())   # restored
    model.eval()
    invert(gen, target, class_only_groups(3), ICConfig(iterations=5))
    assert all(torch.equal(v, before[k]) for k, v in bn.state_dict().items())
    model.train()                                    # found through a bound method too
    with pytest.raises(RuntimeError, match="running statistics"):
        invert(class_only_generator(model.forward), target, class_only_groups(3), ICConfig(iterations=2))


def test_non_finite_loss_names_its_iteration_between_checks():
    calls = []

    def gen(inputs):
        calls.append(1)
        return inputs["class"] * (float("nan") if len(calls) == 8 else 1.0)    # the 8th forward: iteration 7

    for every in (1, 5, 50):
        calls.clear()
        with pytest.raises(FloatingPointError, match="at iteration 7 .*learning rate"):
            invert(gen, torch.zeros(2, 3), class_only_groups(3), ICConfig(iterations=20, check_every=every))


def test_no_host_synchronisation_per_iteration(monkeypatch):
    """Reads of device values to the host (item, bool, cpu, tolist, equal) are few and do not grow with the
    number of iterations."""
    W, gen = linear_generator(k=4, out=12)
    targets = torch.randn(6, 12, generator=torch.Generator().manual_seed(0))
    reads = []
    for name in ("item", "__bool__", "cpu", "tolist"):
        original = getattr(torch.Tensor, name)

        def counted(self, *a, _original=original, **kw):
            reads.append(1)
            return _original(self, *a, **kw)
        monkeypatch.setattr(torch.Tensor, name, counted)
    original_equal = torch.equal
    monkeypatch.setattr(torch, "equal", lambda a, b: reads.append(1) or original_equal(a, b))
    counts = {}
    for iterations in (10, 200):
        reads.clear()
        invert(gen, targets, class_only_groups(4), ICConfig(iterations=iterations, check_every=iterations))
        counts[iterations] = len(reads)
    assert counts[200] == counts[10] < 20


def test_gradient_norms_are_recorded_per_iteration_and_group():
    gen = lambda inputs: inputs["class"] + inputs["noise"]  # noqa: E731
    target = torch.tensor([[1.0, 1.0], [3.0, -1.0]])
    groups = [InputGroup("class", constant_init(0.0, 2)), InputGroup("noise", constant_init(0.0, 2), start_iter=2)]
    res = invert(gen, target, groups, ICConfig(iterations=3, lr=0.01, optimizer="sgd", record_grad_norms=True))
    # iteration 0 from zeros: d mean((x - t)^2) / dx = 2 (x - t) / 2 = -t, per-probe norms √2 and √10
    expected0 = (2 ** 0.5 + 10 ** 0.5) / 2
    assert res.extras["grad_norms"]["class"][0] == pytest.approx(expected0, rel=1e-5)
    assert res.extras["grad_norms"]["noise"][:2] == [0.0, 0.0] and res.extras["grad_norms"]["noise"][2] > 0


# --------------------------------------------------------------------------- multi-start on the batch axis
def ghost_generator(W, group=4):
    """A batch-coupled generator: the output of every group of ``group`` consecutive probes is centred on the
    group's mean (as ghost BatchNorm), so a probe's result depends on the other probes of its group."""
    def gen(inputs):
        out = inputs["class"] @ W + inputs["noise"]
        g = out.view(-1, group, out.shape[1])
        return (g - g.mean(dim=1, keepdim=True)).view_as(out)
    return gen


def test_multistart_is_one_run_of_all_starts_and_keeps_coupled_groups_intact():
    torch.manual_seed(0)
    W = torch.randn(3, 10, dtype=torch.float64)
    targets = torch.randn(8, 10, dtype=torch.float64)
    calls = []
    ghost = ghost_generator(W)

    def gen(inputs):
        calls.append(inputs["class"].shape[0])
        return ghost(inputs)

    starts = [[InputGroup("class", init, project=simplex_clip_renormalise),
               InputGroup("noise", normal_init(10, 0.1), lr_factor=0.5)]
              for init in (uniform_init(3), constant_init(0.5, 3), uniform_init(3))]
    cfg = ICConfig(iterations=15, batch_group=4)
    multi = invert_multistart(gen, targets, starts, cfg, seed=3)
    assert set(calls) == {3 * 8} and len(calls) == 16                       # 15 iterations + the final loss
    for s, groups in enumerate(starts):                                     # start s = its own run, seed 3 + s
        alone = invert(ghost, targets, groups, cfg, seed=3 + s)
        assert torch.allclose(multi.extras["final_loss_per_start"][s], alone.final_loss, atol=1e-12)
        assert torch.equal(multi.extras["predictions_per_start"][s], alone.predictions)
    assert not torch.allclose(multi.extras["final_loss_per_start"][0], multi.extras["final_loss_per_start"][2])
    chunked = invert_multistart(ghost, targets, starts, ICConfig(iterations=15, batch_group=4, chunk_size=8), seed=3)
    assert torch.allclose(chunked.final_loss, multi.final_loss, atol=1e-12)


def test_coupled_groups_are_never_split():
    W = torch.randn(3, 10)
    groups = [InputGroup("class", uniform_init(3)), InputGroup("noise", constant_init(0.0, 10))]
    with pytest.raises(ValueError, match="multiple of 4"):
        invert(ghost_generator(W), torch.zeros(6, 10), groups, ICConfig(iterations=1, batch_group=4))
    with pytest.raises(ValueError, match="chunk_size 6 must be a positive multiple of batch_group 4"):
        ICConfig(chunk_size=6, batch_group=4)


def test_multistart_starts_may_differ_only_in_init():
    _, _, gen = plateau_generator()
    other = [InputGroup("class", uniform_init(2), project=simplex_clip_renormalise, lr_factor=2.0)]
    with pytest.raises(ValueError, match="only in their initialisers"):
        invert_multistart(gen, torch.zeros(2, 6), [class_only_groups(2), other])
