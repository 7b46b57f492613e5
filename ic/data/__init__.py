"""The three datasets of the study: MNIST, Fashion-MNIST and UCI Character Trajectories.

Files are looked up under the dataset root (``$IC_DATA_DIR``, default ``<repo>/data``) in the canonical
layout, verified by SHA-256 and downloaded when missing (:mod:`ic.data.files`). Offline, point
``IC_DATA_DIR`` at the mirror: ``IC_DATA_DIR=../shared/datasets``.
"""

from .files import (REGISTRY, ChecksumError, DataError, DataUnavailableError, FileSpec, ensure_file, get_spec,
                    sha256_file)
from .idx import IDXFormatError, read_idx
from .mnist import FASHION_MNIST_CLASSES, MNIST_CLASSES, load_fashion_mnist, load_mnist
from .subsets import balanced_labelled, class_indices, k_per_class, train_test_split_indices
from .trajectories import CLASSES as TRAJECTORY_CLASSES
from .trajectories import TrajectoryDataset, load_character_trajectories

__all__ = [
    "REGISTRY", "ChecksumError", "DataError", "DataUnavailableError", "FileSpec", "ensure_file", "get_spec",
    "sha256_file", "IDXFormatError", "read_idx", "MNIST_CLASSES", "FASHION_MNIST_CLASSES", "load_mnist",
    "load_fashion_mnist", "balanced_labelled", "class_indices", "k_per_class", "train_test_split_indices",
    "TRAJECTORY_CLASSES", "TrajectoryDataset", "load_character_trajectories",
]
