"""Where things live: dataset root, results store, untracked cache.

Every location can be overridden by an environment variable, so CI, Binder and a GPU machine can point the
same code at their own folders:

* ``IC_DATA_DIR``    — dataset root (default ``<repo>/data``)
* ``IC_RESULTS_DIR`` — committed results store (default ``<repo>/results``)
* ``IC_CACHE_DIR``   — untracked cache: trained weights, smoke-profile results (default ``$XDG_CACHE_HOME/ic``,
  else ``~/.cache/ic``: outside the clone, so that weights that took hours to train outlive it)
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env_path(name: str, default: Path) -> Path:
    """A relative path in the variable is taken relative to the repository root (not the current folder),
    so ``IC_DATA_DIR=../shared/datasets`` means the same from a notebook in ``notebooks/`` as from the root."""
    value = os.environ.get(name)
    if value:
        path = Path(value).expanduser()
        return (path if path.is_absolute() else REPO_ROOT / path).resolve()
    return default


def data_root() -> Path:
    """Dataset root: ``$IC_DATA_DIR`` if set, else ``<repo>/data``."""
    return _env_path("IC_DATA_DIR", REPO_ROOT / "data")


def results_root() -> Path:
    """Root of the committed results store (``results/<study>/<key>.json``)."""
    return _env_path("IC_RESULTS_DIR", REPO_ROOT / "results")


def cache_root() -> Path:
    """Untracked cache for trained weights and smoke-profile results (outside the clone by default)."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    default = (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "ic"
    return _env_path("IC_CACHE_DIR", default)
