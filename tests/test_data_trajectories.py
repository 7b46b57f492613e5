"""UCI Character Trajectories: the mirror .npz branch (real file) and the .mat branch (synthetic file)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from ic.data import files
from ic.data.files import DataError, DataUnavailableError
from ic.data.trajectories import (CLASSES, MIRROR_LABELLED_COUNTS, UCI_CLASS_COUNTS, TrajectoryDataset,
                                  load_character_trajectories)


pytestmark = pytest.mark.usefixtures("offline")   # no test touches the network (tests/conftest.py)


README_COUNTS = dict(a=83, b=84, c=66, d=71, e=96, g=75, h=57, l=79, m=67, n=62, o=66, p=70, q=57, r=58, s=65,
                     u=64, v=90, w=58, y=68, z=93)


def test_constants():
    assert CLASSES == tuple("abcdeghlmnopqrsuvwyz")
    assert MIRROR_LABELLED_COUNTS == README_COUNTS and sum(README_COUNTS.values()) == 1429
    assert sum(UCI_CLASS_COUNTS.values()) == 2858


def test_mirror(mirror_dir, caplog):
    with caplog.at_level(logging.INFO, logger="ic.data"):
        ds = load_character_trajectories(mirror_dir)
    assert ds.source == "mirror-npz" and ds.path.name == "character_trajectories.npz"
    assert "mirror-npz" in caplog.text and "1429 labelled" in caplog.text
    assert ds.n_labelled == 1429 and len(ds.labels) == 1429 and ds.labels.dtype == np.int64
    assert len(ds.all_sequences) == 2858
    assert ds.classes == CLASSES
    assert ds.class_counts() == README_COUNTS
    assert all(s.dtype == np.float64 and s.ndim == 2 and s.shape[1] == 3 for s in ds.sequences)
    lengths = [len(s) for s in ds.all_sequences]
    assert min(lengths) == 109 and max(lengths) == 205
    X, L = ds.padded()
    assert X.shape == (1429, 205, 3) and X.dtype == np.float32 and L.dtype == np.int64
    i = int(np.argmin(L))
    assert np.all(X[i, L[i]:] == 0) and np.allclose(X[i, : L[i]], ds.sequences[i])
    X2, L2 = ds.padded(150)
    assert X2.shape == (1429, 150, 3) and L2.max() == 150


def test_mirror_labelled_sequences_are_the_labelled_recordings(mirror_dir):
    ds = load_character_trajectories(mirror_dir)
    with np.load(mirror_dir / "CharacterTrajectories/character_trajectories.npz") as z:
        labels, offsets, lengths, data = z["labels"], z["offsets"], z["lengths"], z["data"]
    idx = np.flatnonzero(labels >= 0)
    assert np.array_equal(ds.labels, labels[idx])
    k = idx[7]
    assert np.array_equal(ds.sequences[7], data[offsets[k]:offsets[k] + lengths[k]])


def _write_mat(path, counts, key=True):
    scipy_io = pytest.importorskip("scipy.io")
    rng = np.random.default_rng(0)
    labels, cells = [], []
    for c, letter in enumerate(CLASSES):
        for _ in range(counts.get(letter, 0)):
            labels.append(c + 1)
            cells.append(rng.normal(size=(3, int(rng.integers(5, 12)))))
    mixout = np.empty((1, len(cells)), dtype=object)
    for i, cell in enumerate(cells):
        mixout[0, i] = cell
    consts = {"charlabels": np.array(labels, dtype=np.float64)[None, :], "Fs": 200}
    if key:
        keys = np.empty((1, len(CLASSES)), dtype=object)
        for i, ch in enumerate(CLASSES):
            keys[0, i] = ch
        consts["key"] = keys
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy_io.savemat(path, {"mixout": mixout, "consts": consts})
    return cells, np.array(labels) - 1


def test_mat_branch_synthetic(tmp_path, caplog):
    counts = {c: 1 + i % 3 for i, c in enumerate(CLASSES)}
    cells, labels = _write_mat(tmp_path / "CharacterTrajectories/mixoutALL_shifted.mat", counts)
    with caplog.at_level(logging.INFO, logger="ic.data"):
        ds = load_character_trajectories(tmp_path, download=False, expected_mat_counts=counts)
    assert isinstance(ds, TrajectoryDataset)
    assert ds.source == "uci-mat" and "uci-mat" in caplog.text
    assert ds.n_labelled == len(cells) == len(ds.all_sequences)
    assert np.array_equal(ds.labels, labels) and ds.labels.dtype == np.int64
    assert ds.class_counts() == counts
    assert all(np.array_equal(s, c.T) and s.shape[1] == 3 for s, c in zip(ds.sequences, cells))
    X, L = ds.padded()
    assert X.shape == (len(cells), max(c.shape[1] for c in cells), 3)


def test_mat_preferred_over_mirror_and_counts_checked(tmp_path, mirror_dir):
    counts = {c: 2 for c in CLASSES}
    _write_mat(tmp_path / "CharacterTrajectories/mixoutALL_shifted.mat", counts)
    (tmp_path / "CharacterTrajectories/character_trajectories.npz").symlink_to(
        mirror_dir / "CharacterTrajectories/character_trajectories.npz")
    # default check: the synthetic file lacks the UCI counts -> error, no silent fallback
    with pytest.raises(DataError, match=r"per-class counts.*a 2 \(expected 171\)"):
        load_character_trajectories(tmp_path)
    assert load_character_trajectories(tmp_path, expected_mat_counts=counts).source == "uci-mat"


def test_mat_wrong_counts_error(tmp_path):
    _write_mat(tmp_path / "CharacterTrajectories/mixoutALL_shifted.mat", {c: 1 for c in CLASSES})
    with pytest.raises(DataError, match="z 1 \\(expected 2\\)"):
        load_character_trajectories(tmp_path, expected_mat_counts={**{c: 1 for c in CLASSES}, "z": 2})


def test_nothing_available(tmp_path):
    with pytest.raises(DataUnavailableError) as err:
        load_character_trajectories(tmp_path)
    msg = str(err.value)
    assert "IC_DATA_DIR" in msg and "mixoutALL_shifted.mat" in msg and "character_trajectories.npz" in msg
    assert files.UCI_MAT_URL in msg
