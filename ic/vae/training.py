"""Training all class VAEs of a configuration together: one batched Adam step per step, every class on its own data.

* **Data**: model k gets the images of class k only (a common VAE: K = 1 on all images), pixels in [0, 1]. Before
  training, each model's images are shuffled with the training seed and the last ``holdout`` fraction (at least one
  image) is held out for early stopping.
* **Batches**: every step draws one batch of ``B = min(batch_size, smallest training part)`` images per model, in
  parallel, each model walking through its own reshuffled permutations (a class with fewer images starts its
  next pass sooner). The loss of a step is Σ_k mean_b −ELBO(x_kb), so model k's gradient is that of its own
  mean loss, and Adam (element-wise) makes the step equal to K separate per-class Adam steps.
* **Budget and early stopping** (fixed before any test accuracy was seen): training runs in *rounds* of
  ``round_steps`` steps (40 steps of 128 ≈ one pass over an MNIST class); after each round the −ELBO of each
  model's held-out images is measured with a fixed noise draw. A model whose held-out loss has not improved for
  ``patience`` rounds stops (a per-model mask: its best weights are frozen, its later steps are discarded); training
  ends when every model has stopped or after ``max_rounds`` rounds. Each model keeps the weights of its best round.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from .model import X_DIM, BatchedVAE


@dataclass(frozen=True)
class TrainConfig:
    dim_z: int = 15
    sigma2: float = 1.0                 # variance of the re-parameterisation noise
    activation: str = "elu_tanh"
    batch_size: int = 128
    lr: float = 1e-3
    holdout: float = 0.1                # fraction of each model's images held out for early stopping
    round_steps: int = 40               # optimiser steps between two held-out evaluations
    max_rounds: int = 100               # the budget: 100 × 40 × 128 ≈ 95 passes over an MNIST class
    patience: int = 10                  # rounds without a new best held-out loss before a model stops
    precision: str = "fp32"             # or "bf16" (autocast; CPU AMX)

    def to_dict(self) -> dict:
        return asdict(self)


def split_holdout(n: int, holdout: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) positions of a shuffled ``range(n)``; at least one image on each side."""
    if n < 2:
        raise ValueError(f"a model has {n} training image(s): need at least 2 (one to train, one to hold out)")
    perm = rng.permutation(n)
    n_hold = min(n - 1, max(1, int(round(n * holdout))))
    return perm[:n - n_hold], perm[n - n_hold:]


def _pad(parts: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack ragged ``[n_k, 784]`` tensors into ``[K, n_max, 784]`` and a validity mask ``[K, n_max]``."""
    n_max = max(len(p) for p in parts)
    out = torch.zeros(len(parts), n_max, X_DIM)
    mask = torch.zeros(len(parts), n_max, dtype=torch.bool)
    for k, p in enumerate(parts):
        out[k, :len(p)] = p
        mask[k, :len(p)] = True
    return out, mask


class ParallelBatches:
    """Index batches ``[K, B]`` into each model's training images: one permutation stream per model."""

    def __init__(self, sizes: list[int], batch: int, rng: np.random.Generator):
        self.sizes, self.batch, self.rng = sizes, batch, rng
        self.queues = [np.empty(0, dtype=np.int64) for _ in sizes]

    def next(self) -> torch.Tensor:
        rows = []
        for k, n in enumerate(self.sizes):
            while len(self.queues[k]) < self.batch:
                self.queues[k] = np.concatenate([self.queues[k], self.rng.permutation(n)])
            rows.append(self.queues[k][:self.batch])
            self.queues[k] = self.queues[k][self.batch:]
        return torch.from_numpy(np.stack(rows))


def _autocast(precision: str):
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"Unknown precision {precision!r}: use fp32 or bf16.")
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")


def _at_least_fp32(t: torch.Tensor) -> torch.Tensor:
    return t.to(torch.promote_types(t.dtype, torch.float32))


def batched_step(model: BatchedVAE, opt: torch.optim.Optimizer, xb: torch.Tensor, eps: torch.Tensor,
                 sigma2: float, precision: str = "fp32") -> torch.Tensor:
    """One Adam step of every model on its batch ``xb[k]``; returns the per-model mean −ELBO ``[K]``."""
    with _autocast(precision):
        per_model = _at_least_fp32(model.negative_elbo(xb, eps, sigma2)).mean(dim=1)
    loss = per_model.sum()
    if not torch.isfinite(loss):
        raise FloatingPointError(f"Non-finite VAE training loss ({per_model.tolist()}): lower the learning rate "
                                 "or check that the pixels are in [0, 1].")
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return per_model.detach()


class EarlyStopping:
    """The per-model stopping rule: after each round, a model still active whose held-out loss is below its best
    so far records a new best; an active model without a new best for ``patience`` rounds stops, and a stopped
    model's later losses are ignored."""

    def __init__(self, n_models: int, patience: int):
        self.patience = patience
        self.best_loss = torch.full((n_models,), math.inf, dtype=torch.float64)
        self.best_round = torch.full((n_models,), -1, dtype=torch.long)
        self.stopped_round = torch.full((n_models,), -1, dtype=torch.long)
        self.since = torch.zeros(n_models, dtype=torch.long)
        self.active = torch.ones(n_models, dtype=torch.bool)
        self.round = -1

    def update(self, held_out: torch.Tensor) -> torch.Tensor:
        """Record one round's held-out losses ``[K]``; returns the mask of models with a new best."""
        self.round += 1
        held_out = held_out.to(torch.float64)
        improved = self.active & (held_out < self.best_loss)
        self.best_loss = torch.where(improved, held_out, self.best_loss)
        self.best_round[improved] = self.round
        self.since = torch.where(improved, torch.zeros_like(self.since), self.since + 1)
        newly = self.active & (self.since >= self.patience)
        self.stopped_round[newly] = self.round
        self.active &= ~newly
        return improved


def train_vaes(images: list[torch.Tensor], cfg: TrainConfig, seed: int, *, device="cpu") -> tuple[BatchedVAE, dict]:
    """Train one VAE per entry of ``images`` (model k on ``images[k]``, ``[n_k, 28, 28]`` or ``[n_k, 784]`` in
    [0, 1]) as one batched model; returns the model (best held-out round per model, eval mode) and a history."""
    if not images:
        raise ValueError("no models to train: images is empty")
    flat = [im.reshape(len(im), -1).float() for im in images]
    for k, f in enumerate(flat):
        if f.shape[1] != X_DIM:
            raise ValueError(f"model {k}: images have {f.shape[1]} pixels, expected {X_DIM} (28 × 28)")
        if len(f) and (f.min() < 0 or f.max() > 1):
            raise ValueError(f"model {k}: pixel values outside [0, 1]; divide uint8 images by 255")
    rng = np.random.default_rng(seed)
    splits = [split_holdout(len(f), cfg.holdout, rng) for f in flat]
    train_parts = [f[torch.from_numpy(tr)] for f, (tr, _) in zip(flat, splits)]
    hold_parts = [f[torch.from_numpy(ho)] for f, (_, ho) in zip(flat, splits)]
    K = len(flat)
    device = torch.device(device)
    x_train, _ = _pad(train_parts)
    x_hold, hold_mask = _pad(hold_parts)
    x_train, x_hold, hold_mask = x_train.to(device), x_hold.to(device), hold_mask.to(device)
    B = min(cfg.batch_size, min(len(p) for p in train_parts))
    gen = torch.Generator().manual_seed(int(seed))
    model = BatchedVAE(K, cfg.dim_z, cfg.activation, generator=gen).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    batches = ParallelBatches([len(p) for p in train_parts], B, rng)
    hold_eps = torch.randn(K, x_hold.shape[1], cfg.dim_z, generator=gen).to(device)
    n_hold = hold_mask.sum(dim=1)

    def held_out_loss() -> torch.Tensor:
        with torch.no_grad(), _autocast(cfg.precision):
            per_image = _at_least_fp32(model.negative_elbo(x_hold, hold_eps, cfg.sigma2))
        return (per_image * hold_mask).sum(dim=1) / n_hold

    best = {n: p.detach().clone() for n, p in model.named_parameters()}
    stopping = EarlyStopping(K, cfg.patience)
    hist_train, hist_hold = [], []
    rows = torch.arange(K, device=device).unsqueeze(1)
    t0 = time.perf_counter()
    rounds = 0
    for r in range(cfg.max_rounds):
        model.train()
        total = torch.zeros(K, device=device)
        for _ in range(cfg.round_steps):
            idx = batches.next().to(device)
            eps = torch.randn(K, B, cfg.dim_z, generator=gen).to(device)
            total += batched_step(model, opt, x_train[rows, idx], eps, cfg.sigma2, cfg.precision)
        model.eval()
        hold = held_out_loss().cpu()
        rounds = r + 1
        hist_train.append((total / cfg.round_steps).cpu().tolist())
        hist_hold.append(hold.tolist())
        improved = stopping.update(hold).to(device)
        with torch.no_grad():
            for n, p in model.named_parameters():
                best[n][improved] = p.detach()[improved]
        if not stopping.active.any():
            break
    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(best[n])
    model.eval()
    r6 = lambda rows_: [[float(f"{v:.6g}") for v in row] for row in rows_]  # noqa: E731
    history = {"rounds_run": rounds, "batch": B, "best_round": stopping.best_round.tolist(),
               "stopped_round": stopping.stopped_round.tolist(),
               "best_held_out_loss": r6([stopping.best_loss.tolist()])[0],
               "n_train": [len(p) for p in train_parts], "n_held_out": [len(p) for p in hold_parts],
               "steps": rounds * cfg.round_steps, "train_loss": r6(hist_train), "held_out_loss": r6(hist_hold),
               "seconds": round(time.perf_counter() - t0, 2)}
    return model, history
