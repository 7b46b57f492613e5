"""The inverse-classification engine: written once, generic over any differentiable generator.

Classification by inversion: freeze a generative model ``G``; for each probe ``x`` start from an initial
input (for the class vector: uniform), and repeat for a fixed number of iterations

    loss_i = L(G(inputs), x)          (per probe, e.g. MSE)
    inputs <- optimiser step on d loss_i / d inputs
    inputs <- projection(inputs)      (e.g. clip to [0, 1] and renormalise to sum 1)

then predict the argmax of the optimised class vector. The inputs come in named **groups** (the LSTM has one,
the class vector; the conditional GAN has two, class vector and noise), each with its own learning-rate factor,
start iteration and projection.

What the engine guarantees:

* **Batched, independent probes.** All probes are optimised together in one tensor: the loss is a sum of
  per-probe losses and the optimisers act element-wise, so each probe's trajectory is independent of the others
  — unless the generator itself couples probes (BatchNorm with batch statistics, e.g. the cGAN's ghost
  BatchNorm over groups of 4 consecutive probes). Such a generator declares ``ICConfig.batch_group``: the
  engine then refuses a probe count or ``chunk_size`` that is not a multiple of it, so that every group of
  consecutive probes is optimised together, exactly as in a run over those probes alone.
* **Multi-start = one run.** :func:`invert_multistart` stacks its S starts on the batch axis, start-major (row
  ``s·B + b`` is probe ``b`` from start ``s``), and optimises the S·B rows in one run. With B a multiple of
  ``batch_group``, every coupled group lies inside one start and holds the same probes as in a single-start run.
* **No host synchronisation per iteration.** The loss history, gradient norms and projection fallbacks stay on
  the device; the finiteness check reads the history every ``check_every`` iterations and at the end, and
  names the first non-finite iteration.
* **The generator is left as it was.** Buffers (BatchNorm's running statistics) of the ``nn.Module`` objects
  the generator callable holds (itself, a bound method's object, closure variables) are compared with a
  snapshot after the first iteration and at the end; a change is restored and reported as an error (a module
  in training mode; put it in eval mode, or compute batch statistics without updating the running ones as the
  cGAN's ghost BatchNorm does). The engine does not switch modes itself: that would silently change what a
  train-mode generator computes.
* **Projections never hide a degenerate row.** :data:`simplex_clip_renormalise` maps a row with no positive
  entry after clipping to the uniform vector (not to zeros, whose argmax is class 0), and the result counts
  the rows that needed it (``extras["fallback_rows"]``).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field, fields
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn

log = logging.getLogger("ic.engine")

OPTIMISERS = ("source_adam", "adam", "sgd")


class SimplexClipRenormalise:
    """The sources' projection: clip every entry to [0, 1], then divide each row by its sum (+ ``eps``).

    A row with no positive entry after clipping (all entries ≤ 0) has no direction on the simplex; the sources
    would return zeros (argmax: class 0). Here it falls back to the uniform vector 1/k, and
    :meth:`with_fallbacks` says which rows did, so that the engine can count them."""

    def __init__(self, eps: float = 1e-8):
        self.eps = eps

    def with_fallbacks(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(projected rows, bool mask of the rows that fell back to uniform)."""
        x = x.clamp(0.0, 1.0)
        total = x.sum(dim=-1, keepdim=True)
        empty = total <= 0
        uniform = torch.full_like(x, 1.0 / x.shape[-1])
        return torch.where(empty, uniform, x / (total + self.eps)), empty.squeeze(-1)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.with_fallbacks(x)[0]

    def __repr__(self) -> str:
        return f"SimplexClipRenormalise(eps={self.eps:g})"


#: the projection of the class vector used by every study
simplex_clip_renormalise = SimplexClipRenormalise()


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
    """Initialiser: N(0, std²) entries drawn from the engine's seeded generator (the same seed, the same start)."""
    def init(batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(batch, dim, generator=generator) * std
    return init


@dataclass
class InputGroup:
    """One named input of the generator that inverse classification optimises.

    ``start_iter``: the group is first updated at iteration ``start_iter`` (0-based); its optimiser state
    starts then. ``lr_factor`` multiplies the engine's learning rate for this group. ``project`` is applied
    after every update (``None``: no projection); a projection object with a ``with_fallbacks(x) -> (x, mask)``
    method (as :data:`simplex_clip_renormalise`) also reports rows it had to reset. ``trainable=False`` keeps
    the group at its initial value.
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
    chunk_size: int | None = None   # rows (probes × starts) optimised together; None = all at once (memory bound)
    batch_group: int = 1            # the generator couples consecutive probes in groups of this size (ghost BN: 4)
    check_every: int = 50           # iterations between finiteness checks (the only host synchronisations)
    record_grad_norms: bool = False  # extras["grad_norms"]: per group, the mean per-probe gradient norm per iteration

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMISERS:
            raise ValueError(f"Unknown optimizer {self.optimizer!r}: use one of {', '.join(OPTIMISERS)}.")
        if self.iterations < 1:
            raise ValueError("iterations must be >= 1")
        if self.batch_group < 1 or self.check_every < 1:
            raise ValueError("batch_group and check_every must be >= 1")
        if self.chunk_size is not None and (self.chunk_size < 1 or self.chunk_size % self.batch_group):
            raise ValueError(f"chunk_size {self.chunk_size} must be a positive multiple of batch_group "
                             f"{self.batch_group}, so that no group of coupled probes is split")


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
            # eps = 0 (the cGAN source) an element whose squared gradients were all 0 (or underflowed) has
            # denominator 0: it takes no step instead of the source's 0/0 = NaN.
            denom = self.v.sqrt() + self.eps
            nonzero = denom > 0
            return x - self.lr * torch.where(nonzero, self.m / torch.where(nonzero, denom, 1.0), 0.0)
        m_hat = self.m / (1 - b1**self.t)
        v_hat = self.v / (1 - b2**self.t)
        return x - self.lr * m_hat / (v_hat.sqrt() + self.eps)


def mse_per_probe(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error over all non-batch dimensions → (B,)."""
    return ((output - target) ** 2).flatten(1).mean(dim=1)


# --------------------------------------------------------------------------- the generator is left as it was
def _modules_of(fn, depth: int = 3) -> list[nn.Module]:
    """The ``nn.Module`` objects a generator callable holds: itself, a bound method's object, a partial's
    function and arguments, closure variables (recursively, ``depth`` levels)."""
    found: dict[int, nn.Module] = {}

    def visit(obj, d: int) -> None:
        if isinstance(obj, nn.Module):
            found.setdefault(id(obj), obj)
            return
        if d == 0 or obj is None:
            return
        if isinstance(obj, functools.partial):
            for o in (obj.func, *obj.args, *obj.keywords.values()):
                visit(o, d - 1)
            return
        visit(getattr(obj, "__self__", None), d - 1)
        for cell in getattr(obj, "__closure__", None) or ():
            try:
                visit(cell.cell_contents, d - 1)
            except ValueError:          # an empty cell
                pass

    visit(fn, depth)
    return list(found.values())


class _BufferGuard:
    """Snapshot of the generator modules' buffers; :meth:`check` restores them and raises if any changed."""

    def __init__(self, generator):
        self.buffers = [(f"{type(m).__name__}.{name}", b, b.detach().clone())
                        for m in _modules_of(generator) for name, b in m.named_buffers()]

    def check(self, when: str) -> None:
        changed = [name for name, b, saved in self.buffers if not torch.equal(b, saved)]
        if changed:
            with torch.no_grad():
                for _, b, saved in self.buffers:
                    b.copy_(saved)
            raise RuntimeError(
                f"The generator changed its buffers {', '.join(changed[:4])} during inverse classification ({when}): "
                "a module in training mode updates BatchNorm's running statistics. They were restored. Put the "
                "generator in eval mode (model.eval()), or compute batch statistics without updating the running "
                "ones (as the cGAN's ghost BatchNorm does), and declare the coupling with ICConfig.batch_group.")


# --------------------------------------------------------------------------- the optimisation loop
def _project(group: InputGroup, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    if group.project is None:
        return x, None
    if hasattr(group.project, "with_fallbacks"):
        return group.project.with_fallbacks(x)
    return group.project(x), None


def _initial_values(groups: Sequence[InputGroup], batch: int, rng: torch.Generator) -> dict[str, torch.Tensor]:
    """Every group's initial (unprojected) values for ``batch`` probes, drawn in group order from ``rng``
    (independent of how the run is chunked)."""
    return {g.name: g.init(batch, rng) for g in groups}


def _check_finite(history: torch.Tensor, lo: int, hi: int, offset: int) -> None:
    """Raise at the first iteration in [lo, hi) whose loss is not finite for some probe (one host sync)."""
    bad = ~torch.isfinite(history[lo:hi]).all(dim=1)
    if bool(bad.any()):
        it = lo + int(bad.nonzero()[0, 0])
        probes = (~torch.isfinite(history[it])).nonzero().flatten()[:5] + offset
        raise FloatingPointError(f"Non-finite inverse-classification loss at iteration {it} (rows "
                                 f"{probes.tolist()}…); lower the learning rate or check the generator and the probes.")


def _optimise_chunk(generator, target, values, groups, config, loss_fn, guard, offset):
    """One run of the loop over the rows of ``target`` from the initial ``values``; nothing read back."""
    n = target.shape[0]
    device = target.device
    fallback = {}
    for g in groups:
        values[g.name], mask = _project(g, values[g.name])
        if mask is not None:
            fallback[g.name] = mask
    opts = {g.name: _ElementwiseOptimiser(config.optimizer, config.lr * g.lr_factor, config.betas, config.eps)
            for g in groups}
    history = None
    grad_norm_sum = ({g.name: torch.zeros(config.iterations, device=device) for g in groups if g.trainable}
                     if config.record_grad_norms else {})
    checked = 0
    for it in range(config.iterations):
        active = [g for g in groups if g.trainable and it >= g.start_iter]
        active_names = {g.name for g in active}
        leaves = {name: v.detach().requires_grad_(name in active_names) for name, v in values.items()}
        per_probe = loss_fn(generator(leaves), target)
        if history is None:
            history = torch.empty(config.iterations, n, device=device, dtype=per_probe.dtype)
        history[it] = per_probe.detach()
        if it == 0:
            guard.check("after the first iteration")
        if active:
            grads = torch.autograd.grad(per_probe.sum(), [leaves[g.name] for g in active])
            with torch.no_grad():
                for g, grad in zip(active, grads):
                    if g.name in grad_norm_sum:
                        grad_norm_sum[g.name][it] = grad.flatten(1).norm(dim=1).sum()
                    values[g.name], mask = _project(g, opts[g.name].step(values[g.name], grad))
                    if mask is not None:
                        fallback[g.name] = fallback[g.name] | mask
        if (it + 1) % config.check_every == 0:
            _check_finite(history, checked, it + 1, offset)
            checked = it + 1
    _check_finite(history, checked, config.iterations, offset)
    with torch.no_grad():
        final = loss_fn(generator(values), target)
    return values, history, final, fallback, grad_norm_sum


def _optimise(generator, targets, values, groups, config, loss_fn) -> tuple[dict, torch.Tensor, torch.Tensor, dict]:
    """Optimise all rows of ``targets`` from the initial ``values`` (dicts of (N, d) tensors), in chunks of
    ``config.chunk_size`` rows; returns final inputs, history (iterations, N), final loss (N,) — all on the CPU —
    and the extras (fallback counts, gradient norms)."""
    n = targets.shape[0]
    if n % config.batch_group:
        raise ValueError(f"{n} probes: a generator coupling probes in groups of {config.batch_group} "
                         f"(ICConfig.batch_group) needs a multiple of {config.batch_group}")
    device, dtype = targets.device, targets.dtype
    values = {k: v.to(device=device, dtype=dtype) for k, v in values.items()}
    chunk = config.chunk_size or n
    guard = _BufferGuard(generator)
    parts = [_optimise_chunk(generator, targets[i:i + chunk], {k: v[i:i + chunk] for k, v in values.items()},
                             groups, config, loss_fn, guard, i) for i in range(0, n, chunk)]
    guard.check("at the end")
    inputs = {k: torch.cat([p[0][k] for p in parts]).detach().cpu() for k in values}
    history = torch.cat([p[1] for p in parts], dim=1).cpu()
    final = torch.cat([p[2] for p in parts]).cpu()
    extras: dict = {}
    masks = {k: torch.cat([p[3][k] for p in parts]).cpu() for k in parts[0][3]}
    if masks:
        extras["fallback"] = masks
        extras["fallback_rows"] = {k: int(m.sum()) for k, m in masks.items()}
        for k, count in extras["fallback_rows"].items():
            if count:
                log.warning("inverse classification: %d of %d rows of group %r had no positive entry after "
                            "clipping at least once and restarted from the uniform vector", count, n, k)
    if config.record_grad_norms:
        extras["grad_norms"] = {k: (sum(p[4][k] for p in parts) / n).cpu().tolist() for k in parts[0][4]}
    return inputs, history, final, extras


def _validate(groups: Sequence[InputGroup], class_group: str) -> list[str]:
    names = [g.name for g in groups]
    if len(set(names)) != len(names):
        raise ValueError(f"Input group names must be unique, got {names}")
    if class_group not in names:
        raise ValueError(f"class_group {class_group!r} is not one of the input groups {names}")
    return names


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
    batch of outputs comparable with ``targets`` by ``loss_fn`` (which returns one loss per probe). Random
    initialisers draw from one generator seeded with ``seed``, for all B probes at once (the chunking does not
    change the start). ``extras``: ``fallback`` / ``fallback_rows`` (per projected group with fallbacks: which /
    how many probes reset to uniform at least once), ``grad_norms`` when ``config.record_grad_norms``.
    """
    config = config or ICConfig()
    _validate(groups, class_group)
    rng = torch.Generator()
    rng.manual_seed(int(seed))
    inputs, history, final, extras = _optimise(generator, targets, _initial_values(groups, targets.shape[0], rng),
                                               groups, config, loss_fn)
    return ICResult(inputs=inputs, loss_history=history, final_loss=final, class_group=class_group, extras=extras)


def _same_except_init(a: InputGroup, b: InputGroup) -> bool:
    return all(getattr(a, f.name) == getattr(b, f.name) for f in fields(InputGroup) if f.name != "init")


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

    ``starts`` holds one list of input groups per start; they may differ only in ``init``. The S starts are
    stacked on the batch axis, start-major, and optimised in one run of S·B rows (start s draws its random
    initial values from seed ``seed + s``, so the first start alone reproduces ``invert(..., starts[0],
    seed=seed)``). ``extras``: ``start_index`` (B,) of the winning start, ``final_loss_per_start`` (S, B),
    ``predictions_per_start`` (S, B), ``fallback`` (per group, (S, B)) and ``fallback_rows`` (counted over
    the S·B rows), ``grad_norms`` (mean over the S·B rows) when recorded.
    """
    config = config or ICConfig()
    if not starts:
        raise ValueError("invert_multistart needs at least one start")
    names = [sorted(g.name for g in groups) for groups in starts]
    if any(n != names[0] for n in names):
        raise ValueError(f"every start must have the same input groups, got {names}")
    groups = list(starts[0])
    _validate(groups, class_group)
    for other in starts[1:]:
        by_name = {g.name: g for g in other}
        if not all(_same_except_init(g, by_name[g.name]) for g in groups):
            raise ValueError("the starts of a multi-start run may differ only in their initialisers (init)")
    S, B = len(starts), targets.shape[0]
    per_start = []
    for s, start in enumerate(starts):
        rng = torch.Generator()
        rng.manual_seed(int(seed) + s)
        per_start.append(_initial_values(start, B, rng))
    values = {g.name: torch.cat([v[g.name] for v in per_start]) for g in groups}
    stacked = targets.repeat(S, *([1] * (targets.dim() - 1)))
    inputs, history, final, extras = _optimise(generator, stacked, values, groups, config, loss_fn)
    final = final.view(S, B)
    best = final.argmin(dim=0)                                           # first start wins ties
    idx = torch.arange(B)
    per_start_inputs = {k: v.view(S, B, -1) for k, v in inputs.items()}
    if "fallback" in extras:
        extras["fallback"] = {k: m.view(S, B) for k, m in extras["fallback"].items()}
    extras.update(start_index=best, final_loss_per_start=final,
                  predictions_per_start=per_start_inputs[class_group].argmax(dim=-1))
    return ICResult(inputs={k: v[best, idx] for k, v in per_start_inputs.items()},
                    loss_history=history.view(-1, S, B)[:, best, idx], final_loss=final[best, idx],
                    class_group=class_group, extras=extras)


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
