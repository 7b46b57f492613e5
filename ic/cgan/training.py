"""Training of the conditional GAN, one epoch at a time, exactly as the source's loop (research: its
``conditional_dcgan.py``), so that a long training runs as resumable one-epoch jobs.

Per batch of 128 shuffled training images (the last batch of an epoch has 96):

1. D on the real images with their true one-hot classes → BCE against 1;
2. D on fakes ``G(z, c)`` from fresh N(0, 1) noise and fresh random one-hot classes → BCE against 0;
   one SGD step of D on the sum (the source does not detach the fakes, but zeroes G's gradients before G's own
   step, so detaching changes nothing but the cost);
3. G on fresh noise and fresh random classes whose one-hots get N(0, σ²) noise and are clamped to [0, 1]
   (σ = 0.2, *label noise*; not renormalised) → BCE of D's output against 1; one SGD step of G.

Plain SGD, lr 0.01, no momentum, for both networks. ``precision="bf16"`` runs the forward passes under CPU
autocast in bfloat16 (weights, gradients and optimiser stay fp32), roughly halving a step on a CPU with AMX.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .models import N_CLASSES, Discriminator, Generator

PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class GANConfig:
    nz: int
    lr: float = 0.01
    batch_size: int = 128
    label_noise: float = 0.2
    precision: str = "bf16"
    max_batches: int | None = None      # smoke runs: batches per epoch

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"Unknown precision {self.precision!r}: use one of {', '.join(PRECISIONS)}.")


def autocast(precision: str, device: torch.device | str = "cpu"):
    """The autocast context of a precision (``fp32``: disabled)."""
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision {precision!r}: use one of {', '.join(PRECISIONS)}.")
    dev = torch.device(device).type
    return torch.autocast(dev, dtype=torch.bfloat16, enabled=precision == "bf16")


@dataclass
class GANState:
    """Everything that a resumed training needs: both networks, both optimisers (plain SGD: no state, kept
    for generality) and the random-number generators of shuffling and sampling."""

    G: Generator
    D: Discriminator
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    rng: torch.Generator
    epoch: int = 0                 # epochs completed

    @classmethod
    def fresh(cls, cfg: GANConfig, seed: int) -> GANState:
        torch.manual_seed(seed)
        G, D = Generator(cfg.nz), Discriminator()
        rng = torch.Generator().manual_seed(seed + 1)
        return cls(G, D, torch.optim.SGD(G.parameters(), lr=cfg.lr), torch.optim.SGD(D.parameters(), lr=cfg.lr),
                   rng)

    def to_dict(self) -> dict:
        return {"G": self.G.state_dict(), "D": self.D.state_dict(), "opt_g": self.opt_g.state_dict(),
                "opt_d": self.opt_d.state_dict(), "rng": self.rng.get_state(), "epoch": self.epoch,
                "torch_rng": torch.get_rng_state()}

    @classmethod
    def from_dict(cls, d: dict, cfg: GANConfig) -> GANState:
        state = cls.fresh(cfg, 0)
        state.G.load_state_dict(d["G"])
        state.D.load_state_dict(d["D"])
        state.opt_g.load_state_dict(d["opt_g"])
        state.opt_d.load_state_dict(d["opt_d"])
        state.rng.set_state(d["rng"])
        torch.set_rng_state(d["torch_rng"])
        state.epoch = int(d["epoch"])
        return state


def _set_requires_grad(module: torch.nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


def train_epoch(state: GANState, images: torch.Tensor, labels: torch.Tensor, cfg: GANConfig,
                device: torch.device | str = "cpu") -> dict:
    """One epoch over ``images`` (N, 28, 28) in [0, 1] with ``labels`` (N,); updates ``state`` in place.
    Returns the epoch's summed D and G losses (as the source prints them), mean D(real), mean D(fake),
    steps and seconds. A non-finite loss stops with an error (nothing is saved)."""
    device = torch.device(device)
    G, D, rng = state.G.to(device), state.D.to(device), state.rng
    G.train()
    D.train()
    n = images.shape[0]
    perm = torch.randperm(n, generator=rng)
    bs = cfg.batch_size
    n_batches = math.ceil(n / bs) if cfg.max_batches is None else min(cfg.max_batches, math.ceil(n / bs))
    d_sum = g_sum = real_sum = fake_sum = 0.0
    t0 = time.perf_counter()
    for b in range(n_batches):
        idx = perm[b * bs:(b + 1) * bs]
        x = images[idx].to(device)
        m = x.shape[0]
        onehot = F.one_hot(labels[idx], N_CLASSES).float().to(device)
        ones, zeros = torch.ones(m, device=device), torch.zeros(m, device=device)
        # 1–2: discriminator on real and on fake images (fresh noise, fresh random clean classes)
        z = torch.randn(m, G.nz, generator=rng).to(device)
        fake_c = F.one_hot(torch.randint(0, N_CLASSES, (m,), generator=rng), N_CLASSES).float().to(device)
        with autocast(cfg.precision, device):
            with torch.no_grad():
                fake = G(z, fake_c)
            out_real = D(x, onehot).float()
            err_real = F.binary_cross_entropy(out_real, ones)
            out_fake = D(fake, fake_c).float()
            err_fake = F.binary_cross_entropy(out_fake, zeros)
        state.opt_d.zero_grad(set_to_none=True)
        (err_real + err_fake).backward()
        state.opt_d.step()
        # 3: generator on fresh noise and fresh random classes with label noise (clamped, not renormalised)
        z = torch.randn(m, G.nz, generator=rng).to(device)
        c = F.one_hot(torch.randint(0, N_CLASSES, (m,), generator=rng), N_CLASSES).float()
        c = (c + cfg.label_noise * torch.randn(c.shape, generator=rng)).clamp(0.0, 1.0).to(device)
        _set_requires_grad(D, False)
        with autocast(cfg.precision, device):
            err_g = F.binary_cross_entropy(D(G(z, c), c).float(), ones)
        state.opt_g.zero_grad(set_to_none=True)
        err_g.backward()
        state.opt_g.step()
        _set_requires_grad(D, True)
        err_d = float((err_real + err_fake).detach())
        if not (math.isfinite(err_d) and math.isfinite(float(err_g.detach()))):
            raise FloatingPointError(f"Non-finite GAN loss at epoch {state.epoch}, batch {b} (D {err_d}, "
                                     f"G {float(err_g.detach())}): lower the learning rate or check the data.")
        d_sum += err_d
        g_sum += float(err_g.detach())
        real_sum += float(out_real.detach().mean())
        fake_sum += float(out_fake.detach().mean())
    state.epoch += 1
    return {"d_loss_sum": d_sum, "g_loss_sum": g_sum, "d_real_mean": real_sum / n_batches,
            "d_fake_mean": fake_sum / n_batches, "steps": n_batches, "seconds": time.perf_counter() - t0}
