"""Device choice: CUDA when present, else CPU; overridable with ``IC_DEVICE`` or an explicit argument."""

from __future__ import annotations

import contextlib
import os

import torch

VALID = ("auto", "cpu", "cuda", "mps")


def choose_device(preference: str | None = None) -> torch.device:
    """Return the device to compute on.

    ``preference`` (or, when it is ``None``, the environment variable ``IC_DEVICE``) is one of
    ``auto`` (default: CUDA if available, else CPU), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
    Asking for CUDA on a machine without it is an error, never a silent fallback.
    """
    pref = (preference or os.environ.get("IC_DEVICE") or "auto").strip().lower()
    base = pref.split(":", 1)[0]
    if base not in VALID:
        raise ValueError(f"Unknown device {pref!r}: use one of auto, cpu, cuda, cuda:N, mps (argument or IC_DEVICE).")
    if base == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if base == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"Device {pref!r} requested but CUDA is not available here; use 'auto' or 'cpu'.")
    if base == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise RuntimeError("Device 'mps' requested but MPS is not available here; use 'auto' or 'cpu'.")
    return torch.device(pref)


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run a block with ``n`` torch CPU threads (``None``: unchanged), restoring the count after.

    Rebuilding a model bit for bit needs the thread count it was trained with (a matrix product splits its sums
    by threads), so a rebuild runs with the count its stored result recorded, whatever this process uses.
    """
    before = torch.get_num_threads()
    if n and n != before:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def recorded_threads(record: dict | None, device: torch.device | str = "cpu") -> int | None:
    """The torch thread count a stored result was computed with, when it matters (a CPU run), else None."""
    if record is None or torch.device(device).type != "cpu":
        return None
    return record.get("environment", {}).get("torch_threads")
