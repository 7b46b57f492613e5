"""ic.data.idx: IDX parsing and its errors on corrupt data."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from ic.data.idx import IDXFormatError, parse_idx, read_images, read_labels


def _idx(magic, dims, data: bytes) -> bytes:
    return struct.pack(">I", magic) + struct.pack(f">{len(dims)}I", *dims) + data


def test_parse_images_and_labels(tmp_path):
    pixels = np.arange(2 * 28 * 28, dtype=np.uint64).astype(np.uint8)
    p = tmp_path / "imgs.gz"
    p.write_bytes(gzip.compress(_idx(2051, (2, 28, 28), pixels.tobytes())))
    imgs = read_images(p)
    assert imgs.shape == (2, 28, 28) and imgs.dtype == np.uint8
    assert np.array_equal(imgs.reshape(-1), pixels)
    q = tmp_path / "labels"  # plain (not gzip) works too
    q.write_bytes(_idx(2049, (3,), bytes([7, 2, 1])))
    assert read_labels(q).tolist() == [7, 2, 1]


def test_wrong_magic(tmp_path):
    p = tmp_path / "x.gz"
    p.write_bytes(gzip.compress(_idx(2049, (3,), bytes(3))))
    with pytest.raises(IDXFormatError, match="magic number 2049, expected 2051"):
        read_images(p)


def test_truncated_data():
    with pytest.raises(IDXFormatError, match="truncated or corrupt"):
        parse_idx(_idx(2049, (5,), bytes(4)), 2049)
    with pytest.raises(IDXFormatError, match="too short"):
        parse_idx(b"\x00\x00", 2049)


def test_corrupt_gzip(tmp_path):
    p = tmp_path / "x.gz"
    raw = bytearray(gzip.compress(_idx(2049, (1000,), bytes(1000))))
    p.write_bytes(bytes(raw[: len(raw) // 2]))
    with pytest.raises(IDXFormatError, match="not a readable"):
        read_labels(p)
