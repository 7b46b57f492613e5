"""Shared test set-up.

* One torch thread per process — this one and every notebook kernel nbval starts (they inherit the
  environment set here) — so that a second busy process on the machine cannot slow the suite down manyfold.
* A fresh, temporary results/weights cache (``IC_CACHE_DIR``) per run, removed afterwards, unless the caller
  set ``IC_CACHE_DIR``: notebooks under nbval then compute their smoke jobs instead of reusing an earlier run's,
  and no test writes into the user's cache.
* Fixtures: ``mirror_dir`` (where the dataset files are) and ``offline`` (every download attempt fails).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
from pathlib import Path

import pytest
import torch

from ic.data import files

REPO_ROOT = Path(__file__).resolve().parent.parent
MIRROR_MARKER = "MNIST/raw/train-labels-idx1-ubyte.gz"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")

_temporary_cache: Path | None = None


def pytest_configure(config):
    global _temporary_cache
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    torch.set_num_threads(1)
    if not os.environ.get("IC_CACHE_DIR"):
        _temporary_cache = Path(tempfile.mkdtemp(prefix="ic-test-cache-"))
        os.environ["IC_CACHE_DIR"] = str(_temporary_cache)


def pytest_unconfigure(config):
    global _temporary_cache
    if _temporary_cache is not None:
        shutil.rmtree(_temporary_cache, ignore_errors=True)
        os.environ.pop("IC_CACHE_DIR", None)
        _temporary_cache = None


@pytest.fixture(scope="session")
def mirror_dir() -> Path:
    """Folder holding the datasets in the canonical layout: ``$IC_DATA_DIR`` if set, else
    ``<repo>/../shared/datasets``; the test is skipped when neither holds the files."""
    candidates = [Path(os.environ["IC_DATA_DIR"]).expanduser()] if os.environ.get("IC_DATA_DIR") else []
    candidates.append(REPO_ROOT.parent / "shared" / "datasets")
    for folder in candidates:
        if (folder / MIRROR_MARKER).is_file():
            return folder.resolve()
    pytest.skip("dataset files not found: set IC_DATA_DIR to a folder holding the canonical layout "
                "(e.g. IC_DATA_DIR=../shared/datasets)")


@pytest.fixture
def offline(monkeypatch):
    """No download reaches the network: every attempt fails as if offline. The cache of verified files is
    cleared before and after, so that each test verifies the files it uses."""
    def refuse(url, timeout=None):
        raise urllib.error.URLError("offline (test)")
    monkeypatch.setattr(files, "_open_url", refuse)
    files.clear_verification_cache()
    yield
    files.clear_verification_cache()
