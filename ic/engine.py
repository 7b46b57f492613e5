"""The inverse-classification engine: written once, generic over any differentiable generator.

Classification by inversion: freeze a generative model ``G``; for each probe ``x`` start from an initial
input (for the class vector: uniform), and repeat for a fixed number of iterations

    loss_i = L(G(inputs), x)          (per probe, e.g. MSE)
    inputs <- optimiser step on d loss_i / d inputs
    inputs <- projection(inputs)      (e.g. clip to [0, 1] and renormalise to sum 1)

then predict the argmax of the optimised class vector. The inputs come in named **groups** (the LSTM has one,
the class vector; the conditional GAN has two, class vector and noise), each with its own learning-rate factor,
start iteration and projection. All probes are optimised together in one tensor: the loss is a sum of
per-probe losses and the optimisers act element-wise, so each probe's trajectory is independent of the others
(unless the generator itself couples them, e.g. BatchNorm in training mode, for which ``chunk_size`` fixes the
batch a probe is optimised with).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable, Mapping, Sequence

import torch

OPTIMISERS = ("source_adam", "adam", "sgd")


def simplex_clip_renormalise(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """The sources' projection: clip every entry to [0, 1], then divide each row by its sum (+ ``eps``)."""
    x = x.clamp(0.0, 1.0)
    return x / (x.sum(dim=-1, keepdim=True) + eps)


def uniform_init(n_classes: int) -> Callable[[int, torch.Generator | None], torch.Tensor]:
    """Initialiser: every probe starts from the uniform vector 1/k."""
    def init(batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.full((batch, n_classes), 1.0 / n_classes)
    return init


def vertex_init(n_classes: int, index: int) -> Callable[[int, torch.Generator | None], torch.Tensor]:
    """Initialiser: every probe starts from the one-hot vector of class ``index``."""
    def init(batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        x = torch.zeros(batch, n_classes)
        x[:, index] = 1.0
        return x
    return init


def constant_init(value: float, dim: int) -> Callable[[int, torch.Generator | None], torch.Tensor]:
    def init(batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.full((batch, dim), float(value))
    return init


def normal_init(dim: int, std: float = 1.0) -> Callable[[int, torch.Generator | None], torch.Tensor]:
    def init(batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(batch, dim, generator=generator) * std
    return init


@dataclass
class InputGroup:
    """One named input of the generator that inverse classification optimises.

    ``start_iter``: the group is first updated at iteration ``start_iter`` (0-based); its optimiser state
    starts then. ``lr_factor`` multiplies the engine's learning rate for this group. ``project`` is applied
    after every update (``None``: no projection). ``trainable=False`` keeps the group at its initial value.
    """

    name: str
    init: Callable[[int, torch.Generator | None], torch.Tensor]
    lr_factor: float = 1.0
    start_iter: int = 0
    project: Callable[[torch.Tensor], torch.Tensor] | None = None
    trainable: bool = True


@dataclass
class ICConfig:
    iterations: int = 200
    lr: float = 0.05
    optimizer: str = "source_adam"
    betas: tuple[float, float] = (0.9, 0.99)
    eps: float = 1e-8
    chunk_size: int | None = None   # probes optimised together; None = all at once

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMISERS:
            raise ValueError(f"Unknown optimizer {self.optimizer!r}: use one of {', '.join(OPTIMISERS)}.")
        if self.iterations < 1:
            raise ValueError("iterations must be >= 1")


@dataclass
class ICResult:
    inputs: dict[str, torch.Tensor]          # final (projected) inputs per group, (B, d)
    loss_history: torch.Tensor               # (iterations, B): loss of the forward pass at each iteration
    final_loss: torch.Tensor                 # (B,): loss at the final inputs
    class_group: str = "class"
    extras: dict = field(default_factory=dict)

    @property
    def predictions(self) -> torch.Tensor:
        return self.inputs[self.class_group].argmax(dim=-1)


class _ElementwiseOptimiser:
    """Adam (the sources' variant or torch's) or SGD, acting element-wise on one input group."""

    def __init__(self, kind: str, lr: float, betas: tuple[float, float], eps: float):
        self.kind, self.lr, self.betas, self.eps = kind, lr, betas, eps
        self.m = self.v = None
        self.t = 0

    def step(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        if self.kind == "sgd":
            return x - self.lr * g
        b1, b2 = self.betas
        if self.m is None:
            self.m, self.v = torch.zeros_like(x), torch.zeros_like(x)
        self.t += 1
        self.m = b1 * self.m + (1 - b1) * g
        self.v = b2 * self.v + (1 - b2) * g * g
        if self.kind == "source_adam":
            # Hand-written Adam of the sources: no bias correction; the first step is ~ lr * sign(g). With
            # eps = 0 (the cGAN source) an element whose gradient has always been 0 has m = v = 0: no step.
            denom = self.v.sqrt() + self.eps
            return x - self.lr * torch.where(denom > 0, self.m / denom.clamp_min(1e-30), torch.zeros_like(x))
        m_hat = self.m / (1 - b1**self.t)
        v_hat = self.v / (1 - b2**self.t)
        return x - self.lr * m_hat / (v_hat.sqrt() + self.eps)


def mse_per_probe(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error over all non-batch dimensions → (B,)."""
    return ((output - target) ** 2).flatten(1).mean(dim=1)


def _invert_chunk(generator, target, groups, config, loss_fn, rng) -> tuple[dict, torch.Tensor, torch.Tensor]:
    batch = target.shape[0]
    device = target.device
    values = {g.name: g.init(batch, rng).to(device=device, dtype=target.dtype) for g in groups}
    for g in groups:
        if g.project is not None:
            values[g.name] = g.project(values[g.name])
    opts = {g.name: _ElementwiseOptimiser(config.optimizer, config.lr * g.lr_factor, config.betas, config.eps)
            for g in groups}
    history = torch.empty(config.iterations, batch)
    for it in range(config.iterations):
        active = [g for g in groups if g.trainable and it >= g.start_iter]
        leaves = {name: v.detach().requires_grad_(any(g.name == name for g in active))
                  for name, v in values.items()}
        per_probe = loss_fn(generator(leaves), target)
        if not torch.isfinite(per_probe).all():
            raise FloatingPointError(f"Non-finite inverse-classification loss at iteration {it}; "
                                     "lower the learning rate or check the generator and the probes.")
        history[it] = per_probe.detach().cpu()
        if active:
            grads = torch.autograd.grad(per_probe.sum(), [leaves[g.name] for g in active])
            with torch.no_grad():
                for g, grad in zip(active, grads):
                    new = opts[g.name].step(values[g.name], grad)
                    values[g.name] = g.project(new) if g.project is not None else new
    with torch.no_grad():
        final = loss_fn(generator(values), target).cpu()
    return {k: v.detach().cpu() for k, v in values.items()}, history, final


def invert(
    generator: Callable[[Mapping[str, torch.Tensor]], torch.Tensor],
    targets: torch.Tensor,
    groups: list[InputGroup],
    config: ICConfig | None = None,
    *,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = mse_per_probe,
    class_group: str = "class",
    seed: int = 0,
) -> ICResult:
    """Optimise the generator's inputs so that ``generator(inputs)`` matches every probe in ``targets``.

    ``generator`` is called with a dict holding one (B, d) tensor per input group name, and returns a
    batch of outputs comparable with ``targets`` by ``loss_fn`` (which returns one loss per probe).
    """
    config = config or ICConfig()
    names = [g.name for g in groups]
    if len(set(names)) != len(names):
        raise ValueError(f"Input group names must be unique, got {names}")
    if class_group not in names:
        raise ValueError(f"class_group {class_group!r} is not one of the input groups {names}")
    rng = torch.Generator()
    rng.manual_seed(int(seed))
    n = targets.shape[0]
    chunk = config.chunk_size or n
    parts = [_invert_chunk(generator, targets[i:i + chunk], groups, config, loss_fn, rng) for i in range(0, n, chunk)]
    inputs = {k: torch.cat([p[0][k] for p in parts]) for k in names}
    return ICResult(inputs=inputs, loss_history=torch.cat([p[1] for p in parts], dim=1),
                    final_loss=torch.cat([p[2] for p in parts]), class_group=class_group)


def invert_multistart(
    generator: Callable[[Mapping[str, torch.Tensor]], torch.Tensor],
    targets: torch.Tensor,
    starts: Sequence[list[InputGroup]],
    config: ICConfig | None = None,
    *,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = mse_per_probe,
    class_group: str = "class",
    seed: int = 0,
) -> ICResult:
    """Inverse classification from several starts; per probe, the start with the lowest final loss wins.

    ``starts`` holds one list of input groups per start (same names; typically they differ only in ``init``).
    Each start is one batched ``invert`` call over all probes (start s uses seed ``seed + s``), so the first
    start alone reproduces ``invert(..., starts[0], seed=seed)``. ``extras``: ``start_index`` (B,) of the
    winning start, ``final_loss_per_start`` (S, B) and ``predictions_per_start`` (S, B).
    """
    if not starts:
        raise ValueError("invert_multistart needs at least one start")
    names = [sorted(g.name for g in groups) for groups in starts]
    if any(n != names[0] for n in names):
        raise ValueError(f"every start must have the same input groups, got {names}")
    runs = [invert(generator, targets, list(groups), config, loss_fn=loss_fn, class_group=class_group, seed=seed + s)
            for s, groups in enumerate(starts)]
    final = torch.stack([r.final_loss for r in runs])                    # (S, B)
    best = final.argmin(dim=0)                                           # first start wins ties
    idx = torch.arange(final.shape[1])
    inputs = {k: torch.stack([r.inputs[k] for r in runs])[best, idx] for k in runs[0].inputs}
    history = torch.stack([r.loss_history for r in runs])[best, :, idx].T  # (iterations, B)
    return ICResult(inputs=inputs, loss_history=history, final_loss=final[best, idx], class_group=class_group,
                    extras={"start_index": best, "final_loss_per_start": final,
                            "predictions_per_start": torch.stack([r.predictions for r in runs])})


def nearest_prototype(prototypes: torch.Tensor, targets: torch.Tensor,
                      loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = mse_per_probe,
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Assign every probe to its nearest prototype: (P, ...) prototypes, (B, ...) targets → index (B,) of the
    prototype with the lowest ``loss_fn``, and the loss matrix (B, P). One batched call per prototype."""
    if prototypes.shape[1:] != targets.shape[1:]:
        raise ValueError(f"prototypes {tuple(prototypes.shape)} and targets {tuple(targets.shape)} differ in shape")
    losses = torch.stack([loss_fn(p.expand_as(targets), targets) for p in prototypes], dim=1)   # (B, P)
    return losses.argmin(dim=1), losses


@torch.no_grad()
def decode_at_vertices(generate: Callable[[torch.Tensor], torch.Tensor], targets: torch.Tensor, n_classes: int,
                       loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = mse_per_probe,
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-iteration baseline of inverse classification for a class-conditional generator: generate the k
    one-hot vertices once and predict, per probe, the class whose output is nearest. Returns predictions (B,)
    and losses (B, k). Where inverse classification scores below this, its optimiser, not the generator, lost."""
    protos = generate(torch.eye(n_classes, device=targets.device, dtype=targets.dtype))
    return nearest_prototype(protos, targets, loss_fn)


def class_only_generator(generate: Callable[[torch.Tensor], torch.Tensor]):
    """Adapt a ``generate(class_vec)`` function to the engine's dict calling convention."""
    return lambda inputs: generate(inputs["class"])


def class_only_groups(n_classes: int, start: int | None = None) -> list[InputGroup]:
    """The LSTM study's single group: a class vector projected onto the simplex, starting from the uniform
    vector (``start=None``, the sources' rule) or from the one-hot vertex of class ``start``."""
    if start is None:
        init = uniform_init(n_classes)
    else:
        if not 0 <= start < n_classes:
            raise ValueError(f"start vertex {start} is not a class of a {n_classes}-class vector")
        init = vertex_init(n_classes, start)
    return [InputGroup("class", init, project=simplex_clip_renormalise)]
