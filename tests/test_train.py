"""The shared training loop."""

import math

import pytest
import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_pre_hook

from ic.train import FitConfig, fit


def linear_problem(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.1
    return x, y


def mse(model, batch):
    x, y = batch
    return ((model(x) - y) ** 2).mean()


def test_fit_learns_and_records_history():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    hist = fit(model, linear_problem(), mse, FitConfig(epochs=60, batch_size=8, lr=0.05), seed=0)
    assert hist.train_loss[-1] < 0.01 < hist.train_loss[0]
    assert hist.steps == 60 * 8 and hist.sequences_seen == 60 * 64


def test_best_validation_checkpoint_is_kept():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    hist = fit(model, linear_problem(), mse, FitConfig(epochs=30, batch_size=8, lr=0.05, val_fraction=0.25), seed=0)
    assert hist.best_val_loss == min(hist.val_loss)
    x, y = linear_problem()
    with torch.no_grad():
        assert float(mse(model, (x[48:], y[48:]))) == pytest.approx(hist.best_val_loss, rel=1e-5)


def test_without_validation_monitor_train_keeps_the_best_epoch_on_the_training_set():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    x, y = linear_problem(n=16)
    hist = fit(model, (x, y), mse, FitConfig(epochs=40, batch_size=4, lr=0.3, monitor_train=True), seed=0)
    assert len(hist.val_loss) == 40 and hist.best_epoch == min(range(40), key=hist.val_loss.__getitem__)
    with torch.no_grad():
        assert float(mse(model, (x, y))) == pytest.approx(min(hist.val_loss), rel=1e-5)
    plain = fit(nn.Linear(3, 1), (x, y), mse, FitConfig(epochs=3, batch_size=4), seed=0)
    assert plain.val_loss == [] and plain.best_epoch == 2          # default: the last epoch


def test_same_seed_same_result_other_seed_other_order():
    runs = {}
    for seed in (3, 3, 4):
        torch.manual_seed(1)
        model = nn.Linear(3, 1)
        fit(model, linear_problem(), mse, FitConfig(epochs=3, batch_size=8, lr=0.01), seed=seed)
        runs.setdefault(seed, []).append(model.weight.detach().clone())
    assert torch.equal(runs[3][0], runs[3][1])
    assert not torch.equal(runs[3][0], runs[4][0])      # the seed drives the shuffling


def test_step_cap_stops_mid_epoch():
    """64 samples in batches of 8: 8 steps per epoch, so a cap of 13 stops after 5 steps of the second epoch."""
    batches = []
    hist = fit(nn.Linear(3, 1), linear_problem(), lambda m, b: batches.append(len(b[0])) or mse(m, b),
               FitConfig(epochs=100, batch_size=8, lr=0.01, max_steps=13), seed=3)
    assert len(batches) == 13 and hist.steps == 13
    assert hist.epochs_run == 2 and hist.sequences_seen == 13 * 8 and hist.epochs == [0, 1]


class _StepRecorder:
    """Records, at every optimiser step of ``fit``, the learning rate and the global norm of the gradient the
    optimiser is about to apply (after any clipping)."""

    def __enter__(self):
        self.lr, self.grad_norm = [], []

        def record(optimizer, args, kwargs):
            self.lr.append(optimizer.param_groups[0]["lr"])
            grads = [p.grad.flatten() for group in optimizer.param_groups for p in group["params"]]
            self.grad_norm.append(float(torch.linalg.vector_norm(torch.cat(grads))))
        self._handle = register_optimizer_step_pre_hook(record)
        return self

    def __exit__(self, *exc):
        self._handle.remove()


def test_cosine_schedule_goes_from_lr_to_lr_min_over_the_epochs():
    epochs, steps_per_epoch, lr, lr_min = 9, 8, 0.05, 1e-4
    torch.manual_seed(0)
    with _StepRecorder() as rec:
        hist = fit(nn.Linear(3, 1), linear_problem(), mse,
                   FitConfig(epochs=epochs, batch_size=8, lr=lr, lr_schedule="cosine", lr_min=lr_min), seed=0)
    per_epoch = [rec.lr[e * steps_per_epoch:(e + 1) * steps_per_epoch] for e in range(epochs)]
    assert len(rec.lr) == epochs * steps_per_epoch and all(len(set(lrs)) == 1 for lrs in per_epoch)
    rates = [lrs[0] for lrs in per_epoch]
    assert rates[0] == pytest.approx(lr) and rates[-1] == pytest.approx(lr_min)
    assert rates[epochs // 2] == pytest.approx((lr + lr_min) / 2)          # half-way: the mean of the two
    assert rates[1] == pytest.approx(lr_min + (lr - lr_min) * math.cos(math.pi / 16) ** 2)  # a cosine, not a line
    assert all(a > b for a, b in zip(rates, rates[1:]))
    assert hist.train_loss[-1] < hist.train_loss[0]
    with _StepRecorder() as constant:
        fit(nn.Linear(3, 1), linear_problem(), mse, FitConfig(epochs=2, batch_size=8, lr=lr), seed=0)
    assert constant.lr == [lr] * 16
    with pytest.raises(ValueError, match="lr_schedule"):
        fit(nn.Linear(3, 1), linear_problem(), mse, FitConfig(epochs=1, lr_schedule="step"), seed=0)


def test_clipping_bounds_the_global_gradient_norm():
    def steep(model, batch):                     # gradients far above the clipping threshold
        return 100.0 * mse(model, batch)
    torch.manual_seed(0)
    with _StepRecorder() as unclipped:
        fit(nn.Linear(3, 1), linear_problem(), steep, FitConfig(epochs=2, batch_size=8, lr=0.01), seed=0)
    assert min(unclipped.grad_norm) > 10.0
    torch.manual_seed(0)
    with _StepRecorder() as clipped:
        fit(nn.Linear(3, 1), linear_problem(), steep,
            FitConfig(epochs=2, batch_size=8, lr=0.01, clip_grad_norm=1.0), seed=0)
    assert clipped.grad_norm == pytest.approx([1.0] * 16, rel=1e-4)


def test_non_finite_loss_stops_with_a_clear_error():
    model = nn.Linear(3, 1)
    with pytest.raises(FloatingPointError, match="learning rate"):
        fit(model, linear_problem(), lambda m, b: mse(m, b) * math.inf, FitConfig(epochs=1), seed=0)


def test_early_stopping_waits_for_min_epochs_then_stops_on_a_stalled_validation_loss():
    torch.manual_seed(0)
    frozen = FitConfig(epochs=50, batch_size=8, lr=0.0, val_fraction=0.25, patience=3, min_epochs=10)
    hist = fit(nn.Linear(3, 1), linear_problem(), mse, frozen, seed=0)      # lr 0: the loss never moves
    assert hist.epochs_run == 10 and hist.stopped_early and hist.best_epoch == 0
    learning = FitConfig(epochs=50, batch_size=8, lr=0.002, val_fraction=0.25, patience=3)  # slow, steady descent
    torch.manual_seed(0)
    full = fit(nn.Linear(3, 1), linear_problem(), mse, learning, seed=0)
    torch.manual_seed(0)
    demanding = fit(nn.Linear(3, 1), linear_problem(), mse,
                    FitConfig(**{**learning.to_dict(), "min_rel_improvement": 0.5}), seed=0)
    assert demanding.stopped_early and demanding.epochs_run < full.epochs_run
    assert demanding.best_val_loss == min(demanding.val_loss)       # the checkpoint still tracks every improvement
    assert not fit(nn.Linear(3, 1), linear_problem(), mse, FitConfig(epochs=5, val_fraction=0.25), seed=0).stopped_early


def test_zero_epochs_is_a_clear_error():
    import pytest
    import torch

    from ic.train import FitConfig, fit

    model = torch.nn.Linear(2, 1)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        fit(model, (torch.zeros(4, 2), torch.zeros(4, 1)), lambda m, b: ((m(b[0]) - b[1]) ** 2).mean(),
            FitConfig(epochs=0))
