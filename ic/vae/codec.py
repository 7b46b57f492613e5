"""Per-probe score arrays in a result file, compactly: values rounded to fixed decimals, stored as integers
(the smallest integer type that holds them), zlib-compressed and base64-encoded. 10 000 probes × 43 numbers take
about 1 MB this way instead of about 3 MB as rounded JSON lists."""

from __future__ import annotations

import base64
import zlib

import numpy as np

_INT_TYPES = (np.int8, np.int16, np.int32, np.int64)


def pack(values, decimals: int) -> dict:
    """``{"shape", "decimals", "dtype", "zlib_b64"}`` of ``values`` rounded to ``decimals`` decimals."""
    arr = np.asarray(values, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise ValueError("pack: non-finite values (NaN/inf) cannot be stored; check the scores")
    ints = np.round(arr * 10.0 ** decimals)
    lo, hi = (ints.min(), ints.max()) if ints.size else (0, 0)
    dtype = next(t for t in _INT_TYPES if np.iinfo(t).min <= lo and hi <= np.iinfo(t).max)
    data = zlib.compress(ints.astype(dtype).tobytes(), 9)
    return {"shape": list(arr.shape), "decimals": int(decimals), "dtype": np.dtype(dtype).name,
            "zlib_b64": base64.b64encode(data).decode("ascii")}


def unpack(packed: dict) -> np.ndarray:
    """The float64 array that :func:`pack` stored (rounded values)."""
    raw = zlib.decompress(base64.b64decode(packed["zlib_b64"]))
    ints = np.frombuffer(raw, dtype=np.dtype(packed["dtype"])).reshape(packed["shape"])
    return ints.astype(np.float64) / 10.0 ** packed["decimals"]
