"""Reader of the IDX format of MNIST and Fashion-MNIST (optionally gzip-compressed), with numpy only.

An IDX file is a big-endian header — a magic number ``0x0000 <type> <ndim>`` followed by ``ndim`` uint32
dimensions — and then the data. MNIST uses unsigned bytes (type ``0x08``): magic 2051 for images
(``N × rows × cols``, 16 header bytes) and 2049 for labels (``N``, 8 header bytes).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from .files import DataError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
_UBYTE = 0x08


class IDXFormatError(DataError):
    """The bytes are not a well-formed IDX file of the expected kind."""


def _read_bytes(path: Path) -> bytes:
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
        if head == b"\x1f\x8b":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise IDXFormatError(f"{path} is not a readable (gzip) IDX file: {exc}. Delete or replace it.") from exc


def parse_idx(raw: bytes, expected_magic: int | None = None, source: str = "<bytes>") -> np.ndarray:
    """Parse IDX ``raw`` bytes of unsigned-byte data into a read-only uint8 array of the header's shape."""
    if len(raw) < 4:
        raise IDXFormatError(f"{source}: {len(raw)} bytes, too short for an IDX header.")
    magic = int.from_bytes(raw[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise IDXFormatError(f"{source}: IDX magic number {magic}, expected {expected_magic}; wrong or corrupt file.")
    if raw[0] != 0 or raw[1] != 0 or raw[2] != _UBYTE or raw[3] == 0:
        raise IDXFormatError(f"{source}: magic number {magic} is not an unsigned-byte IDX header.")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXFormatError(f"{source}: truncated header ({len(raw)} bytes, {ndim} dimensions need {header}).")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    n_expected = int(np.prod(shape, dtype=np.int64))
    n_actual = len(raw) - header
    if n_actual != n_expected:
        raise IDXFormatError(f"{source}: header declares shape {shape} ({n_expected:,} bytes of data) but "
                             f"the file holds {n_actual:,}; the file is truncated or corrupt.")
    arr = np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)
    return arr


def read_idx(path: Path | str, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (``.gz`` or plain) into a uint8 array; validate its magic number and size."""
    return parse_idx(_read_bytes(Path(path)), expected_magic, source=str(path))


def read_images(path: Path | str, rows: int = 28, cols: int = 28) -> np.ndarray:
    """Images ``(N, rows, cols)`` uint8 from an IDX image file (magic 2051)."""
    arr = read_idx(path, IMAGES_MAGIC)
    if arr.ndim != 3 or arr.shape[1:] != (rows, cols):
        raise IDXFormatError(f"{path}: images of shape {arr.shape[1:]}, expected {(rows, cols)}.")
    return arr


def read_labels(path: Path | str) -> np.ndarray:
    """Labels ``(N,)`` uint8 from an IDX label file (magic 2049)."""
    arr = read_idx(path, LABELS_MAGIC)
    if arr.ndim != 1:
        raise IDXFormatError(f"{path}: labels of shape {arr.shape}, expected one dimension.")
    return arr
