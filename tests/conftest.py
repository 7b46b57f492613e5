"""Shared fixtures: where the dataset files are (the offline mirror or ``$IC_DATA_DIR``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
MIRROR_MARKER = "MNIST/raw/train-labels-idx1-ubyte.gz"


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
