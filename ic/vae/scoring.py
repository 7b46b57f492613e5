"""Classification by re-generation: S re-generations per probe and class → S cross-entropies → scores and KL.

For probe x and class k: encode x with class k's encoder (μ_k, σ_k), draw z_s = μ_k + σ_k ⊙ √σ² · ε_s
(s = 1..S, S = 300 in the source), decode the Bernoulli means y_s = sigmoid(logits_s), and record the
cross-entropy CE_ks = Σ_pixels BCE(x, y_s) = Σ_j softplus(l_sj) − x_j l_sj (from the logits: exact). The class is
the one with the smallest mean CE (variants: median — the lower middle value — or minimum). The rejection score
is the KL divergence **KL(P_first ‖ P_second)** between the PDFs of the CEs of the best and the second-best class
(the direction of the source's rule, its Eq. 6), estimated three ways:

* ``gaussian`` (primary) — a Gaussian fitted to each set of S values (maximum likelihood: mean and standard
  deviation with 1/S), closed-form KL;
* ``histogram`` — both sets binned on the same 30 equal bins spanning both, ½ added to every count (so that an
  empty bin of the second PDF does not make the KL infinite), Σ p log(p / q); bounded by about log(2S), so its
  thresholds are not comparable with the other two;
* ``kde`` — Gaussian kernel density estimates (Scott's bandwidth σ̂ S^(−1/5)) evaluated on 256 points spanning
  both sets ± 4 bandwidths, KL by the trapezoidal rule in log space (float64).

Everything broadcasts over probes × classes × samples in one graph; probes are processed in chunks to bound
memory (a chunk of P probes holds K·P·S·784 logits: 94 MB for P = 10, K = 10, S = 300).

**Noise**: the ε of the probes in block b = ⌊index / 100⌋ of the scored set come from a generator seeded with
(seed, b), so the scores do not depend on the chunk size, and scoring the first n probes gives the same numbers
as the first n of a longer run.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .model import X_DIM, BatchedVAE
from .training import _autocast

NOISE_BLOCK = 100
KL_ESTIMATORS = ("gaussian", "histogram", "kde")
HIST_BINS, HIST_PSEUDOCOUNT = 30, 0.5
KDE_GRID, KDE_SPAN = 256, 4.0


def block_noise(block: int, n_models: int, samples: int, dim_z: int, seed: int) -> torch.Tensor:
    """ε ``[NOISE_BLOCK, K, S, dim_z]`` of probe block ``block``."""
    state = np.random.SeedSequence([int(seed), int(block)]).generate_state(2, dtype=np.uint32)
    gen = torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))
    return torch.randn(NOISE_BLOCK, n_models, samples, dim_z, generator=gen)


def regeneration_noise(start: int, n: int, n_models: int, samples: int, dim_z: int, seed: int) -> torch.Tensor:
    """ε ``[n, K, S, dim_z]`` of the probes ``start .. start + n − 1`` of a scored set."""
    first, last = start // NOISE_BLOCK, (start + n - 1) // NOISE_BLOCK
    blocks = torch.cat([block_noise(b, n_models, samples, dim_z, seed) for b in range(first, last + 1)])
    off = start - first * NOISE_BLOCK
    return blocks[off:off + n]


def cross_entropies(model: BatchedVAE, x: torch.Tensor, eps: torch.Tensor, sigma2: float = 1.0,
                    precision: str = "fp32") -> torch.Tensor:
    """CE ``[P, K, S]`` of probes x ``[P, 784]`` re-generated with noise eps ``[P, K, S, dim_z]``."""
    x = x.reshape(len(x), -1).float()
    P, K = len(x), model.n_models
    if x.shape[1] != X_DIM or eps.shape[:2] != (P, K) or eps.shape[3] != model.dim_z:
        raise ValueError(f"shapes: probes {tuple(x.shape)}, noise {tuple(eps.shape)}; expected [P, 784] and "
                         f"[P, {K}, S, {model.dim_z}]")
    S = eps.shape[2]
    with torch.no_grad(), _autocast(precision):
        mu, sigma = model.encode_all(x)                                     # [K, P, dz]
        z = mu.unsqueeze(2) + sigma.unsqueeze(2) * (math.sqrt(sigma2) * eps.transpose(0, 1).to(mu.dtype))
        logits = model.decode_logits(z.reshape(K, P * S, model.dim_z)).float().view(K, P, S, X_DIM)
        ce = F.softplus(logits).sum(-1) - torch.einsum("kpsj,pj->kps", logits, x)
    return ce.transpose(0, 1)


# ------------------------------------------------------------------------------------------------ KL estimators
def gaussian_kl(m1, s1, m2, s2):
    """KL(N(m1, s1²) ‖ N(m2, s2²)), element-wise (tensors or arrays)."""
    lib = torch if isinstance(m1, torch.Tensor) else np
    return lib.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5


def gaussian_fit_kl(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """KL(first ‖ second) of Gaussians fitted (ML) to the rows of a and b ``[P, S]``."""
    a, b = a.double(), b.double()
    return gaussian_kl(a.mean(1), a.std(1, correction=0), b.mean(1), b.std(1, correction=0)).float()


def histogram_kl(a: torch.Tensor, b: torch.Tensor, bins: int = HIST_BINS, pseudo: float = HIST_PSEUDOCOUNT):
    """KL(p ‖ q) of smoothed histograms of the rows of a and b ``[P, S]`` on shared equal bins per row."""
    a, b = a.double(), b.double()
    lo = torch.minimum(a.min(1).values, b.min(1).values).unsqueeze(1)
    hi = torch.maximum(a.max(1).values, b.max(1).values).unsqueeze(1)
    width = (hi - lo).clamp_min(1e-12)

    def hist(v):
        idx = ((v - lo) / width * bins).long().clamp(0, bins - 1)
        counts = torch.zeros(len(v), bins, dtype=torch.float64).scatter_add_(1, idx, torch.ones_like(v))
        counts += pseudo
        return counts / counts.sum(1, keepdim=True)

    p, q = hist(a), hist(b)
    return (p * (p.log() - q.log())).sum(1).float()


def _kde_log_density(v: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """log of the Gaussian KDE of each row of v ``[P, S]`` at grid ``[P, G]`` (Scott's bandwidth)."""
    S = v.shape[1]
    h = (v.std(1, correction=1) * S ** (-0.2)).clamp_min(1e-6).unsqueeze(1)          # [P, 1]
    d = (grid.unsqueeze(2) - v.unsqueeze(1)) / h.unsqueeze(2)                          # [P, G, S]
    return torch.logsumexp(-0.5 * d * d, dim=2) - math.log(S) - torch.log(h) - 0.5 * math.log(2 * math.pi)


def kde_kl(a: torch.Tensor, b: torch.Tensor, grid_points: int = KDE_GRID) -> torch.Tensor:
    """KL(p ‖ q) of Gaussian KDEs of the rows of a and b ``[P, S]``, trapezoidal rule on a shared grid."""
    a, b = a.double(), b.double()
    S = a.shape[1]
    h = torch.maximum(a.std(1), b.std(1)) * S ** (-0.2)
    lo = torch.minimum(a.min(1).values, b.min(1).values) - KDE_SPAN * h
    hi = torch.maximum(a.max(1).values, b.max(1).values) + KDE_SPAN * h
    t = torch.linspace(0, 1, grid_points, dtype=torch.float64)
    grid = lo.unsqueeze(1) + (hi - lo).unsqueeze(1) * t
    logp, logq = _kde_log_density(a, grid), _kde_log_density(b, grid)
    p = logp.exp()
    dx = (hi - lo) / (grid_points - 1)
    z = torch.trapezoid(p, dx=1.0, dim=1) * dx
    kl = torch.trapezoid(p * (logp - logq), dx=1.0, dim=1) * dx / z
    return kl.clamp_min(0).float()


KL_FUNCTIONS = {"gaussian": gaussian_fit_kl, "histogram": histogram_kl, "kde": kde_kl}


# ------------------------------------------------------------------------------------------------ summaries
def summarise(ce: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-probe scores from CE ``[P, K, S]``: per class ``mean``, ``std`` (1/S), ``median`` (lower middle),
    ``min`` ``[P, K]``; the best and second class by mean, and the KL(best ‖ second) of each estimator ``[P]``."""
    mean = ce.double().mean(2)
    order = mean.argsort(dim=1)
    best, second = order[:, 0], order[:, 1]
    rows = torch.arange(len(ce))
    a, b = ce[rows, best], ce[rows, second]
    out = {"mean": mean.float(), "std": ce.double().std(2, correction=0).float(),
           "median": ce.median(dim=2).values, "min": ce.min(dim=2).values, "best": best, "second": second}
    for name, fn in KL_FUNCTIONS.items():
        out[f"kl_{name}"] = fn(a, b)
    return out


def score_probes(model: BatchedVAE, x: torch.Tensor, *, samples: int = 300, sigma2: float = 1.0, seed: int = 0,
                 chunk: int = 10, precision: str = "fp32", keep_ce: bool = False,
                 first: int = 0) -> dict[str, torch.Tensor]:
    """:func:`summarise` of every probe of x ``[N, 784]``, computed noise block by block and ``chunk`` probes at a
    time (concatenated in probe order). ``first``: the position of x[0] in the scored set (its noise block), so that
    a part of a set can be re-scored with the same noise. With ``keep_ce`` the raw CEs ``[N, K, S]`` are returned
    as ``ce``."""
    if chunk < 1 or samples < 2:
        raise ValueError(f"chunk ({chunk}) must be ≥ 1 and samples ({samples}) ≥ 2")
    model.eval()
    x = x.reshape(len(x), -1).float()
    parts: list[dict[str, torch.Tensor]] = []
    starts = [0] + list(range(NOISE_BLOCK - first % NOISE_BLOCK, len(x), NOISE_BLOCK))
    for start, end in zip(starts, starts[1:] + [len(x)]):
        if end <= start:
            continue
        n = end - start
        eps = regeneration_noise(first + start, n, model.n_models, samples, model.dim_z, seed)
        for i in range(0, n, chunk):
            ce = cross_entropies(model, x[start + i:start + i + chunk], eps[i:i + chunk], sigma2, precision)
            part = summarise(ce)
            if keep_ce:
                part["ce"] = ce
            parts.append(part)
    return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}


# ------------------------------------------------------------------------------------------------ precision
#: How far bf16 scores may be from fp32 scores with the same noise (the cpu profile scores in bf16): identical
#: predicted classes; the best class's mean cross-entropy within ``best_mean_nats``; every class mean within
#: ``mean_rel``; the Gaussian KL within ``kl_rel`` or ``kl_abs``, whichever is larger.
BF16_TOLERANCE = {"best_mean_nats": 0.25, "mean_rel": 0.01, "kl_rel": 0.05, "kl_abs": 0.1}


def precision_agreement(ref: dict[str, torch.Tensor], other: dict[str, torch.Tensor]) -> dict[str, float]:
    """How far the :func:`summarise` scores ``other`` are from ``ref`` (same probes, same noise), in the terms of
    :data:`BF16_TOLERANCE`, with ``ok`` = all within it."""
    rows = torch.arange(len(ref["mean"]))
    best = ref["mean"].argmin(1)
    d_mean = (ref["mean"] - other["mean"]).abs()
    ka, kb = ref["kl_gaussian"], other["kl_gaussian"]
    kl_tol = torch.clamp(BF16_TOLERANCE["kl_rel"] * ka.abs(), min=BF16_TOLERANCE["kl_abs"])
    kl_bad = (ka - kb).abs() > kl_tol
    out = {"same_class": float((best == other["mean"].argmin(1)).float().mean()),
           "best_mean_nats": float(d_mean[rows, best].max()),
           "mean_rel": float((d_mean / ref["mean"].abs().clamp_min(1e-6)).max()),
           "kl_outside": float(kl_bad.float().mean()), "kl_abs_max": float((ka - kb).abs().max())}
    out["ok"] = (out["same_class"] == 1.0 and out["best_mean_nats"] <= BF16_TOLERANCE["best_mean_nats"]
                 and out["mean_rel"] <= BF16_TOLERANCE["mean_rel"] and out["kl_outside"] == 0.0)
    return out
