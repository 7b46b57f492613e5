"""MNIST (LeCun et al., 1998) and Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017) as torch tensors.

Both come as the four canonical gzip IDX files under ``<root>/MNIST/raw/`` and ``<root>/FashionMNIST/raw/``
(see :mod:`ic.data.files`). Images are returned in the original file order, as ``[N, 28, 28]`` uint8 or
float32 in ``[0, 1]``; labels as int64.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from . import idx
from .files import DataError, ensure_file, get_spec

MNIST_CLASSES: tuple[str, ...] = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES: tuple[str, ...] = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                          "Shirt", "Sneaker", "Bag", "Ankle boot")
SPLITS = ("train", "test")
SPLIT_SIZES = {"train": 60000, "test": 10000}
_PREFIX = {"train": "train", "test": "t10k"}
_DTYPES = ("uint8", "float")

_MEMO: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def _check(split: str, dtype: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be one of {_DTYPES}, not {dtype!r}")


def load_idx_arrays(dataset: str, split: str, *, root: Path | str | None = None,
                    download: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Read-only uint8 numpy arrays ``(images [N,28,28], labels [N])`` of ``dataset`` (``"mnist"`` or
    ``"fashion_mnist"``); verified files, memoised per process (keyed on the files' path, size and mtime)."""
    _check(split, "uint8")
    specs = [get_spec(dataset, f"{_PREFIX[split]}-{kind}-idx{nd}-ubyte.gz")
             for kind, nd in (("images", 3), ("labels", 1))]
    files = [ensure_file(s, root, download) for s in specs]
    key = tuple((str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    if key not in _MEMO:
        images, labels = idx.read_images(files[0]), idx.read_labels(files[1])
        if len(images) != len(labels) or len(images) != SPLIT_SIZES[split]:
            raise DataError(f"{dataset} {split}: {len(images)} images and {len(labels)} labels, expected "
                            f"{SPLIT_SIZES[split]} of each ({files[0]}, {files[1]}).")
        if labels.max(initial=0) > 9:
            raise DataError(f"{files[1]}: label {labels.max()} outside 0..9.")
        _MEMO[key] = (images, labels)
    return _MEMO[key]


def _load(dataset: str, split: str, root, dtype: str, download: bool) -> tuple[torch.Tensor, torch.Tensor]:
    _check(split, dtype)
    images, labels = load_idx_arrays(dataset, split, root=root, download=download)
    x = torch.from_numpy(images.copy())
    if dtype == "float":
        x = x.to(torch.float32).div_(255.0)
    return x, torch.from_numpy(labels.astype(np.int64))


def load_mnist(split: str = "train", *, root: Path | str | None = None, dtype: str = "uint8",
               download: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST ``split`` (``"train"``: 60,000, ``"test"``: 10,000) in file order.

    Returns ``(images, labels)``: images ``[N, 28, 28]`` uint8 (``dtype="uint8"``) or float32 in ``[0, 1]``
    (``dtype="float"``), labels int64 ``[N]``. Fresh tensors on every call (safe to modify).
    """
    return _load("mnist", split, root, dtype, download)


def load_fashion_mnist(split: str = "train", *, root: Path | str | None = None, dtype: str = "uint8",
                       download: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST ``split``; same conventions as :func:`load_mnist`; classes :data:`FASHION_MNIST_CLASSES`."""
    return _load("fashion_mnist", split, root, dtype, download)
