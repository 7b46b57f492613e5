"""Deterministic subsets of a dataset, as index arrays into it.

Every function takes the labels (numpy array, list or torch tensor) and returns int64 index arrays
**sorted in ascending order** (so a subset keeps the dataset's original order), drawn with
``numpy.random.default_rng(seed)``: the same seed gives the same subset on every machine. Negative labels
(``-1``: unlabelled recording) belong to no class and are never selected by :func:`class_indices`,
:func:`k_per_class` or :func:`balanced_labelled`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _labels(labels) -> np.ndarray:
    arr = np.asarray(labels.cpu() if hasattr(labels, "cpu") else labels)
    if arr.ndim != 1:
        raise ValueError(f"labels must be one-dimensional, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _classes_present(y: np.ndarray) -> np.ndarray:
    return np.unique(y[y >= 0])


def class_indices(labels, classes: int | Sequence[int | str],
                  class_names: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Samples of the selected classes and their labels remapped to ``0..k-1``.

    ``classes`` is an int ``k`` (the first ``k`` class indices, ``0..k-1``) or a list of class indices or
    names (names need ``class_names``, the name of each class index). The new label of a sample is the
    position of its class in that list. Returns ``(indices, new_labels)``, indices ascending.
    """
    y = _labels(labels)
    if isinstance(classes, (int, np.integer)):
        if classes < 1:
            raise ValueError(f"number of classes must be positive, not {classes}")
        if class_names is not None and classes > len(class_names):
            raise ValueError(f"asked for the first {classes} classes but there are only {len(class_names)}")
        selected = list(range(int(classes)))
    else:
        selected = []
        for c in classes:
            if isinstance(c, str):
                if class_names is None:
                    raise ValueError(f"class {c!r} given by name: pass class_names")
                names = list(class_names)
                if c not in names:
                    raise ValueError(f"unknown class {c!r}; known: {', '.join(names)}")
                selected.append(names.index(c))
            else:
                idx = int(c)
                if idx < 0 or (class_names is not None and idx >= len(class_names)):
                    raise ValueError(f"class index {idx} out of range")
                selected.append(idx)
        if not selected:
            raise ValueError("no classes selected")
    if len(set(selected)) != len(selected):
        raise ValueError(f"classes selected more than once: {selected}")
    mapping = np.full(max(int(y.max(initial=0)), max(selected)) + 1, -1, dtype=np.int64)
    mapping[selected] = np.arange(len(selected))
    new = np.where(y >= 0, mapping[np.clip(y, 0, None)], -1)
    indices = np.flatnonzero(new >= 0).astype(np.int64)
    return indices, new[indices]


def k_per_class(labels, k: int, seed: int) -> np.ndarray:
    """``k`` random samples of every class present in ``labels`` (ascending indices).

    Raises ``ValueError`` naming the classes with fewer than ``k`` samples.
    """
    y = _labels(labels)
    if k < 1:
        raise ValueError(f"k must be positive, not {k}")
    classes = _classes_present(y)
    if classes.size == 0:
        raise ValueError("no labelled samples")
    members = [np.flatnonzero(y == c) for c in classes]
    short = {int(c): len(m) for c, m in zip(classes, members) if len(m) < k}
    if short:
        raise ValueError(f"{k} samples per class requested but some classes have fewer: "
                         + ", ".join(f"class {c}: {n}" for c, n in short.items()))
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(m, size=k, replace=False) for m in members]
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def balanced_labelled(labels, n: int, seed: int) -> np.ndarray:
    """``n`` labelled samples, ``n / n_classes`` of each class present (ascending indices).

    ``n`` must be a positive multiple of the number of classes.
    """
    y = _labels(labels)
    n_classes = len(_classes_present(y))
    if n_classes == 0:
        raise ValueError("no labelled samples")
    if n < 1 or n % n_classes:
        raise ValueError(f"n={n} cannot be balanced over {n_classes} classes: use a positive multiple of "
                         f"{n_classes} (e.g. {max(1, round(n / n_classes)) * n_classes})")
    return k_per_class(y, n // n_classes, seed)


def train_test_split_indices(n_or_labels, test_fraction: float = 0.2, seed: int = 0,
                             stratify: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint ``(train_idx, test_idx)`` covering ``0..n-1``, both sorted ascending.

    ``n_or_labels`` is the number of samples or their labels. The test set has ``round(n * test_fraction)``
    samples; with ``stratify=True`` (labels needed) each label value — including ``-1`` — is split on its own,
    ``round(n_c * test_fraction)`` of its ``n_c`` samples going to the test set.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), not {test_fraction}")
    if isinstance(n_or_labels, (int, np.integer)):
        if stratify:
            raise ValueError("stratify=True needs the labels, not just a count")
        groups = [np.arange(int(n_or_labels), dtype=np.int64)]
        n = int(n_or_labels)
    else:
        y = _labels(n_or_labels)
        n = len(y)
        groups = [np.flatnonzero(y == c) for c in np.unique(y)] if stratify else [np.arange(n, dtype=np.int64)]
    if n < 2:
        raise ValueError(f"cannot split {n} samples")
    rng = np.random.default_rng(seed)
    test = []
    for g in groups:
        n_test = int(round(len(g) * test_fraction))
        test.append(rng.permutation(g)[:n_test])
    test_idx = np.sort(np.concatenate(test)).astype(np.int64)
    mask = np.ones(n, dtype=bool)
    mask[test_idx] = False
    return np.flatnonzero(mask).astype(np.int64), test_idx
