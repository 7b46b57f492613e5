"""MNIST and Fashion-MNIST loaders against the dataset files (skipped when they are absent)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from ic.data import (FASHION_MNIST_CLASSES, MNIST_CLASSES, ChecksumError, DataUnavailableError, load_fashion_mnist,
                     load_mnist)

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_mnist_train(mirror_dir):
    x, y = load_mnist("train", root=mirror_dir)
    assert x.shape == (60000, 28, 28) and x.dtype == torch.uint8
    assert y.shape == (60000,) and y.dtype == torch.int64
    assert y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(y.numpy()).tolist() == MNIST_TRAIN_COUNTS
    assert int(x.max()) == 255 and int(x.min()) == 0


def test_mnist_test_float(mirror_dir):
    x, y = load_mnist("test", root=mirror_dir, dtype="float")
    assert x.shape == (10000, 28, 28) and x.dtype == torch.float32
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0 and float(x.max()) == 1.0
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(y.numpy()).tolist() == MNIST_TEST_COUNTS
    xu, _ = load_mnist("test", root=mirror_dir)
    assert torch.equal((x * 255).round().to(torch.uint8), xu)


def test_mnist_train_pixel_statistics(mirror_dir):
    x, _ = load_mnist("train", root=mirror_dir, dtype="float")
    assert float(x.mean()) == pytest.approx(0.1307, abs=1e-4)
    assert float(x.std()) == pytest.approx(0.3081, abs=1e-4)


def test_loads_return_fresh_tensors(mirror_dir):
    x1, y1 = load_mnist("test", root=mirror_dir)
    x1[0] = 0
    y1[0] = 3
    x2, y2 = load_mnist("test", root=mirror_dir)
    assert int(x2[0].sum()) > 0 and int(y2[0]) == 7


def test_fashion_mnist(mirror_dir):
    x, y = load_fashion_mnist("train", root=mirror_dir)
    assert x.shape == (60000, 28, 28)
    assert y[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert np.bincount(y.numpy()).tolist() == [6000] * 10
    xt, yt = load_fashion_mnist("test", root=mirror_dir, dtype="float")
    assert xt.shape == (10000, 28, 28) and xt.dtype == torch.float32
    assert np.bincount(yt.numpy()).tolist() == [1000] * 10
    assert not torch.equal(x[:100], load_mnist("train", root=mirror_dir)[0][:100])


def test_class_names():
    assert MNIST_CLASSES == tuple("0123456789")
    assert len(FASHION_MNIST_CLASSES) == 10
    assert FASHION_MNIST_CLASSES[0] == "T-shirt/top" and FASHION_MNIST_CLASSES[9] == "Ankle boot"


def test_bad_arguments(mirror_dir):
    with pytest.raises(ValueError, match="split"):
        load_mnist("valid", root=mirror_dir)
    with pytest.raises(ValueError, match="dtype"):
        load_mnist("test", root=mirror_dir, dtype="float64")


def test_corrupt_copy_is_refused(mirror_dir, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copyfile(mirror_dir / "MNIST/raw" / name, raw / name)
    target = raw / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(target.read_bytes())
    data[-20] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="t10k-labels-idx1-ubyte.gz"):
        load_mnist("test", root=tmp_path)


def test_missing_offline(tmp_path, offline):
    with pytest.raises(DataUnavailableError) as err:
        load_mnist("test", root=tmp_path)
    assert "IC_DATA_DIR" in str(err.value)
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz" in str(err.value)
