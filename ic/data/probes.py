"""The book's MNIST probe set: one fixed, stratified subset of the MNIST test set that every MNIST chapter
(the conditional GAN, the per-class VAEs, the baselines) scores, so that methods compare on the same images.

``mnist_probe_indices()`` — 1 000 test images, 100 per digit, drawn with ``numpy.random.default_rng(2026)``
(:func:`ic.data.subsets.k_per_class`), in test-file order. ``mnist_probe_indices(n)`` with ``n`` a multiple of 10
gives a stratified *prefix* subset: the first ``n / 10`` of each digit's probes, so smaller runs use a subset of
the same probes.
"""

from __future__ import annotations

import numpy as np

from .mnist import load_mnist
from .subsets import k_per_class

PROBE_SEED = 2026
PROBES_PER_CLASS = 100


def mnist_probe_indices(n: int = 10 * PROBES_PER_CLASS, *, root=None) -> np.ndarray:
    """Indices into the MNIST test set (ascending) of the first ``n / 10`` probes of every digit."""
    if n % 10 or not 0 < n <= 10 * PROBES_PER_CLASS:
        raise ValueError(f"n = {n}: the probe set has {10 * PROBES_PER_CLASS} images; ask for a multiple of 10 "
                         "up to that")
    _, y = load_mnist("test", root=root)
    idx = k_per_class(y.numpy(), PROBES_PER_CLASS, seed=PROBE_SEED)
    y_sel = y.numpy()[idx]
    keep = np.concatenate([idx[y_sel == c][: n // 10] for c in range(10)])
    return np.sort(keep)


def mnist_probes(n: int = 10 * PROBES_PER_CLASS, *, root=None):
    """``(images [n, 28, 28] float in [0, 1], labels [n], test-set indices [n])`` of the probe set."""
    import torch

    idx = mnist_probe_indices(n, root=root)
    x, y = load_mnist("test", root=root, dtype="float")
    t = torch.as_tensor(idx)
    return x[t], y[t], idx
