"""Inverse classification with the conditional GAN, through the one engine (:func:`ic.engine.invert`).

The source's procedure (its ``test_IC.py``): two input groups, the class vector (starts uniform at 0.1,
clamped to [0, 1] and renormalised to sum 1 after every step) and the noise z (starts N(0, 1), no projection);
loss = MSE between G(z, c) and the probe; the source's hand-written Adam (lr 0.05, β = (0.9, 0.99), no bias
correction, ε = 0) with the noise's learning rate α × that of the class vector ("update rate") and the noise
frozen for the first k + 1 iterations ("late update after k"; k = −1: from the start); 200 iterations; the
prediction is the argmax of the final class vector. The generator's weights are frozen.

BatchNorm: ``bn="ghost4"`` (the source's behaviour: training mode on its batches of 4 consecutive test images)
normalises every group of 4 consecutive probes with its own statistics, all probes in one tensor; ``bn="eval"``
uses the running statistics (the ablation).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from ..engine import ICConfig, ICResult, InputGroup, constant_init, invert, normal_init, simplex_clip_renormalise
from .models import N_CLASSES, Generator
from .training import autocast

BN_MODES = {"ghost4": 4, "eval": None}


@dataclass(frozen=True)
class GanICConfig:
    alpha: float = 1.0            # noise learning rate = alpha × class learning rate
    late_k: int = -1              # noise updated only at iterations i > late_k
    iterations: int = 200
    lr: float = 0.05
    optimizer: str = "source_adam"
    bn: str = "ghost4"
    precision: str = "bf16"

    def __post_init__(self) -> None:
        if self.bn not in BN_MODES:
            raise ValueError(f"Unknown BatchNorm mode {self.bn!r}: use one of {', '.join(BN_MODES)}.")


def frozen(G: Generator, precision: str = "fp32") -> Generator:
    """A copy of the generator with its weights frozen (no gradients; BatchNorm's running statistics are never
    updated: the ghost mode computes batch statistics itself, the eval mode uses the running ones). With
    ``precision="bf16"`` the weights of its linear and transposed-convolution layers are stored in bfloat16
    once, instead of autocast casting 51 M fp32 weights at every iteration; BatchNorm stays fp32."""
    G = copy.deepcopy(G)
    G.eval()
    for p in G.parameters():
        p.requires_grad_(False)
    if precision == "bf16":
        for m in (G.label_fc, G.fc, G.deconv1, G.deconv2):
            m.to(torch.bfloat16)
    return G


def fixed_init(values: torch.Tensor):
    """An initialiser that returns ``values`` (one row per probe) and draws nothing from the generator, so that
    the other groups start exactly as with :func:`ic.engine.constant_init`."""
    def init(batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        if batch != values.shape[0]:
            raise ValueError(f"fixed class vectors for {values.shape[0]} probes, asked for {batch}")
        return values.clone()
    return init


def gan_groups(nz: int, cfg: GanICConfig, fixed_class: torch.Tensor | None = None) -> list[InputGroup]:
    """The source's two input groups; with ``fixed_class`` (B, 10) the class vector is held at those values
    (e.g. the true one-hot: a diagnostic) and only the noise is optimised, from the same initial noise."""
    if fixed_class is None:
        cls = InputGroup("class", constant_init(1.0 / N_CLASSES, N_CLASSES), project=simplex_clip_renormalise)
    else:
        cls = InputGroup("class", fixed_init(fixed_class.float()), trainable=False)
    return [cls, InputGroup("noise", normal_init(nz), lr_factor=cfg.alpha, start_iter=cfg.late_k + 1)]


def gan_generator(G: Generator, cfg: GanICConfig):
    """The engine's calling convention: a dict of inputs → images (fp32)."""
    group = BN_MODES[cfg.bn]

    def generate(inputs):
        with autocast(cfg.precision, inputs["class"].device):
            return G(inputs["noise"], inputs["class"], bn_group=group).float()
    return generate


def invert_gan(G: Generator, probes: torch.Tensor, cfg: GanICConfig, seed: int, *, chunk: int | None = None,
               record_grad_norms: bool = False, fixed_class: torch.Tensor | None = None) -> ICResult:
    """Inverse classification of ``probes`` (B, 28, 28); B a multiple of 4 in the ghost-BatchNorm mode.
    ``chunk`` (a multiple of 4) bounds the probes optimised at once (memory); groups of 4 stay intact.
    ``fixed_class``: hold the class vector at these rows and optimise the noise only (see :func:`gan_groups`)."""
    G = frozen(G, cfg.precision)
    if BN_MODES[cfg.bn] and probes.shape[0] % BN_MODES[cfg.bn]:
        raise ValueError(f"{probes.shape[0]} probes: the {cfg.bn} BatchNorm mode needs a multiple of "
                         f"{BN_MODES[cfg.bn]}")
    ic_cfg = ICConfig(iterations=cfg.iterations, lr=cfg.lr, optimizer=cfg.optimizer, betas=(0.9, 0.99),
                      eps=0.0 if cfg.optimizer == "source_adam" else 1e-8, chunk_size=chunk,
                      batch_group=BN_MODES[cfg.bn] or 1, record_grad_norms=record_grad_norms)
    return invert(gan_generator(G, cfg), probes, gan_groups(G.nz, cfg, fixed_class), ic_cfg, seed=seed)
