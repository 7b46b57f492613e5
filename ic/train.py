"""One supervised training loop for every model of the study that is fitted by a plain loss.

``fit`` runs minibatch Adam over a tensor dataset, optionally holds out a validation fraction (as Keras'
``validation_split``: the last part of the already shuffled training array) and keeps the weights with the
lowest validation loss (or, with ``monitor_train`` and no hold-out, the lowest loss on the training set itself,
for data sets too small to split), records the per-epoch losses, and stops on a non-finite loss with a clear error.
Training noise or any other per-batch transformation belongs in ``loss_fn``.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field
from collections.abc import Callable

import torch
from torch import nn


@dataclass
class FitConfig:
    epochs: int = 100
    batch_size: int = 16
    lr: float = 1e-3
    val_fraction: float = 0.0          # 0: no validation, keep the last epoch (unless monitor_train)
    monitor_train: bool = False        # without validation: keep the epoch with the lowest loss on the whole
                                       # training set, evaluated in eval mode (recorded as ``val_loss``)
    patience: int | None = None        # early stopping (epochs without val improvement); None = never
    min_epochs: int = 0                # never stop early before this many epochs
    min_rel_improvement: float = 0.0   # for patience: only a drop below (1 - this) × the last reference counts
    max_steps: int | None = None       # optional cap on optimiser steps
    log_every: int = 1                 # record the loss every n epochs
    clip_grad_norm: float | None = None  # clip the global gradient norm (None: no clipping)
    lr_schedule: str = "constant"      # "constant" | "cosine" (to lr_min over all epochs)
    lr_min: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FitHistory:
    epochs: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    best_val_loss: float | None = None
    steps: int = 0
    sequences_seen: int = 0
    seconds: float = 0.0
    stopped_early: bool = False
    epochs_run: int = 0

    def to_dict(self) -> dict:
        r = lambda xs: [float(f"{x:.6g}") for x in xs]  # noqa: E731
        return {"epochs": self.epochs, "train_loss": r(self.train_loss), "val_loss": r(self.val_loss),
                "best_epoch": self.best_epoch, "best_val_loss": self.best_val_loss, "steps": self.steps,
                "sequences_seen": self.sequences_seen, "seconds": round(self.seconds, 2),
                "epochs_run": self.epochs_run, "stopped_early": self.stopped_early}


def fit(
    model: nn.Module,
    tensors: tuple[torch.Tensor, ...],
    loss_fn: Callable[[nn.Module, tuple[torch.Tensor, ...]], torch.Tensor],
    config: FitConfig,
    *,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> FitHistory:
    """Train ``model`` in place on ``tensors`` (aligned along dim 0); returns the loss history.

    ``loss_fn(model, batch)`` returns the scalar loss of a batch (a tuple of tensors). Shuffling uses a
    generator seeded with ``seed``; the model's own initialisation must be seeded by the caller.
    """
    if config.epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {config.epochs}")
    n = tensors[0].shape[0]
    if any(t.shape[0] != n for t in tensors):
        raise ValueError("all tensors must have the same length along dim 0")
    n_val = int(math.floor(n * config.val_fraction)) if config.val_fraction > 0 else 0
    n_train = n - n_val
    if n_train < 1:
        raise ValueError(f"no training data left (n={n}, val_fraction={config.val_fraction})")
    device = torch.device(device)
    model.to(device)
    data = tuple(t.to(device) for t in tensors)
    train = tuple(t[:n_train] for t in data)
    val = tuple(t[n_train:] for t in data) if n_val else (train if config.monitor_train else None)
    gen = torch.Generator()
    gen.manual_seed(int(seed))
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    if config.lr_schedule not in ("constant", "cosine"):
        raise ValueError(f"Unknown lr_schedule {config.lr_schedule!r}: use constant or cosine.")
    hist = FitHistory()
    best_state, best_val, since_best = None, math.inf, 0
    stall_ref = math.inf               # the loss an improvement must beat by min_rel_improvement (patience)
    bs = max(1, min(config.batch_size, n_train))
    t0 = time.perf_counter()
    for epoch in range(config.epochs):
        if config.lr_schedule == "cosine":
            frac = epoch / max(1, config.epochs - 1)
            for group in opt.param_groups:
                group["lr"] = config.lr_min + 0.5 * (config.lr - config.lr_min) * (1 + math.cos(math.pi * frac))
        model.train()
        perm = torch.randperm(n_train, generator=gen).to(device)
        total, count = 0.0, 0
        for i in range(0, n_train, bs):
            idx = perm[i:i + bs]
            batch = tuple(t[idx] for t in train)
            loss = loss_fn(model, batch)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"Non-finite training loss at epoch {epoch}, step {hist.steps}: "
                                         f"lower the learning rate (now {config.lr}) or check the data.")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if config.clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad_norm)
            opt.step()
            total += float(loss.detach()) * len(idx)
            count += len(idx)
            hist.steps += 1
            if config.max_steps and hist.steps >= config.max_steps:
                break
        hist.sequences_seen += count
        hist.epochs_run = epoch + 1
        train_loss = total / count
        val_loss = None
        if val is not None:
            model.eval()
            with torch.no_grad():
                val_loss = float(loss_fn(model, val))
            if val_loss < best_val:
                best_val = val_loss
                best_state = copy.deepcopy(model.state_dict())
                hist.best_epoch, hist.best_val_loss = epoch, val_loss
            if val_loss < stall_ref * (1.0 - config.min_rel_improvement):
                stall_ref, since_best = val_loss, 0
            else:
                since_best += 1
        if epoch % config.log_every == 0 or epoch == config.epochs - 1:
            hist.epochs.append(epoch)
            hist.train_loss.append(train_loss)
            if val_loss is not None:
                hist.val_loss.append(val_loss)
        if config.max_steps and hist.steps >= config.max_steps:
            break
        if (config.patience is not None and val is not None and since_best > config.patience
                and epoch + 1 >= config.min_epochs):
            hist.stopped_early = epoch + 1 < config.epochs
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        hist.best_epoch = epoch
    model.eval()
    hist.seconds = time.perf_counter() - t0
    return hist
