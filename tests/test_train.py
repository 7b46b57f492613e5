"""The shared training loop."""

import math

import pytest
import torch
from torch import nn

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


def test_same_seed_same_result_and_step_cap():
    runs = []
    for _ in range(2):
        torch.manual_seed(1)
        model = nn.Linear(3, 1)
        fit(model, linear_problem(), mse, FitConfig(epochs=100, batch_size=8, lr=0.01, max_steps=13), seed=3)
        runs.append(model.weight.detach().clone())
    assert torch.equal(runs[0], runs[1])


def test_cosine_schedule_and_clipping_run():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    hist = fit(model, linear_problem(), mse, FitConfig(epochs=40, batch_size=8, lr=0.05, lr_schedule="cosine",
                                                       lr_min=1e-4, clip_grad_norm=1.0), seed=0)
    assert hist.train_loss[-1] < hist.train_loss[0]
    with pytest.raises(ValueError, match="lr_schedule"):
        fit(model, linear_problem(), mse, FitConfig(epochs=1, lr_schedule="step"), seed=0)


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
