"""The 2-D latent heat maps of the thesis (research notes §A.9) and dynamic time warping.

An 11 × 11 grid of (unnormalised) 2-class input vectors [a, b] ∈ {0, 0.1, …, 1}² is fed to a generative model;
each generated trajectory is compared with a fixed target trajectory of class 'a' (and 'b'). Rows of a map
index the 'a' entry, columns the 'b' entry. The thesis used fastDTW with a Euclidean point distance (the blog
says MSE); we compute exact DTW (fastDTW approximates it) and MSE.
"""

from __future__ import annotations

import numpy as np
import torch


def grid_vectors(steps: int = 11) -> torch.Tensor:
    """(steps², 2) input vectors; row-major with the 'a' entry varying slowest."""
    v = torch.linspace(0.0, 1.0, steps)
    a, b = torch.meshgrid(v, v, indexing="ij")
    return torch.stack([a.reshape(-1), b.reshape(-1)], dim=1)


def dtw_distance(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Exact DTW with Euclidean point distance between batches of sequences.

    ``x``: (B, n, d), ``y``: (B, m, d) or (m, d) (broadcast). Returns (B,) path sums. Vectorised over the
    batch and along anti-diagonals of the cost matrix (n + m − 1 steps, no loop over samples).
    """
    if y.dim() == 2:
        y = y.unsqueeze(0).expand(x.shape[0], -1, -1)
    cost = torch.cdist(x.double(), y.double())                          # (B, n, m)
    B, n, m = cost.shape
    inf = torch.tensor(float("inf"), dtype=cost.dtype)
    D = torch.full((B, n + 1, m + 1), float("inf"), dtype=cost.dtype)
    D[:, 0, 0] = 0.0
    for s in range(2, n + m + 1):                                       # s = i + j in 1-based D coordinates
        i = torch.arange(max(1, s - m), min(n, s - 1) + 1)
        j = s - i
        best = torch.minimum(torch.minimum(D[:, i - 1, j], D[:, i, j - 1]), D[:, i - 1, j - 1])
        D[:, i, j] = cost[:, i - 1, j - 1] + torch.where(torch.isinf(best), inf, best)
    return D[:, n, m]


def mse_distance(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if y.dim() == 2:
        y = y.unsqueeze(0)
    return ((x - y) ** 2).flatten(1).mean(dim=1)


def choose_target(X_test: np.ndarray, X_train_class: np.ndarray) -> int:
    """Index (into ``X_test``) of the test trajectory closest (DTW) to the class's mean training trajectory:
    our fixed rule for the thesis's hand-picked "stereotypical" target."""
    mean = torch.tensor(X_train_class.mean(axis=0))
    d = dtw_distance(torch.tensor(X_test), mean)
    return int(torch.argmin(d))


def diagonal_agreement(dist_a: np.ndarray, dist_b: np.ndarray) -> float:
    """How close the model's decision boundary is to the diagonal, as a number in [0, 1].

    At every off-diagonal grid cell the model 'decides' the class whose target is nearer (dist_a < dist_b →
    'a'); a perfectly separated latent space decides the class with the larger input entry. Returns the
    fraction of off-diagonal cells where the two agree (1 = boundary on the diagonal, 0.5 ≈ chance).
    """
    steps = dist_a.shape[0]
    a_weight, b_weight = np.meshgrid(np.arange(steps), np.arange(steps), indexing="ij")
    off = a_weight != b_weight
    model_says_a = dist_a < dist_b
    ideal_a = a_weight > b_weight
    return float((model_says_a == ideal_a)[off].mean())


def boundary_offset(dist_a: np.ndarray, dist_b: np.ndarray) -> float:
    """Signed mean position of the model's boundary relative to the diagonal, in input units.

    For each row (fixed 'a' entry) the boundary lies just before the first column where 'b' wins; the offset
    is the mean over rows of (diagonal position − boundary position), i.e. the lead the 'a' entry needs over
    the 'b' entry for the model to produce an 'a'. Positive: boundary above the diagonal (the σ 0.1 panel
    of the source); ~0: on the diagonal; negative: 'a' wins even when 'b' is larger.
    """
    steps = dist_a.shape[0]
    says_a = dist_a < dist_b
    offsets = []
    for r in range(steps):
        cols_b = np.where(~says_a[r])[0]
        switch = cols_b[0] if len(cols_b) else steps        # first column where 'b' wins
        offsets.append((r - (switch - 0.5)) / (steps - 1))
    return float(np.mean(offsets))
