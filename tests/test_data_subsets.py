"""ic.data.subsets: deterministic, balanced, disjoint subsets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ic.data.subsets import balanced_labelled, class_indices, k_per_class, train_test_split_indices

LABELS = np.repeat(np.arange(4), [10, 12, 8, 15])
np.random.default_rng(123).shuffle(LABELS)


def test_class_indices_first_k():
    idx, y = class_indices(LABELS, 2)
    assert np.array_equal(idx, np.flatnonzero(LABELS < 2))
    assert np.array_equal(y, LABELS[idx]) and set(y.tolist()) == {0, 1}


def test_class_indices_by_name_and_index_remaps_in_given_order():
    names = ["a", "b", "c", "d"]
    idx, y = class_indices(LABELS, ["d", "b"], names)
    assert np.array_equal(idx, np.flatnonzero(np.isin(LABELS, [3, 1])))
    assert np.array_equal(y, np.where(LABELS[idx] == 3, 0, 1))
    idx2, y2 = class_indices(torch.as_tensor(LABELS), [3, 1])
    assert np.array_equal(idx, idx2) and np.array_equal(y, y2)
    with pytest.raises(ValueError, match="class_names"):
        class_indices(LABELS, ["a"])
    with pytest.raises(ValueError, match="unknown class"):
        class_indices(LABELS, ["x"], names)


def test_class_indices_skips_unlabelled():
    idx, y = class_indices(np.array([-1, 0, 1, -1, 0]), 1)
    assert idx.tolist() == [1, 4] and y.tolist() == [0, 0]


def test_k_per_class_deterministic_and_balanced():
    a = k_per_class(LABELS, 5, seed=0)
    assert np.array_equal(a, k_per_class(LABELS, 5, seed=0))
    assert not np.array_equal(a, k_per_class(LABELS, 5, seed=1))
    assert np.bincount(LABELS[a]).tolist() == [5, 5, 5, 5]
    assert len(set(a.tolist())) == 20 and np.all(np.diff(a) > 0)
    with pytest.raises(ValueError, match="class 2: 8"):
        k_per_class(LABELS, 9, seed=0)


def test_k_per_class_ignores_unlabelled():
    y = np.array([-1, -1, 0, 0, 1, 1, -1])
    assert sorted(y[k_per_class(y, 2, seed=3)].tolist()) == [0, 0, 1, 1]


def test_balanced_labelled():
    b = balanced_labelled(LABELS, 12, seed=7)
    assert np.bincount(LABELS[b]).tolist() == [3, 3, 3, 3]
    assert np.array_equal(b, balanced_labelled(LABELS, 12, seed=7))
    with pytest.raises(ValueError, match="multiple of 4"):
        balanced_labelled(LABELS, 10, seed=0)


@pytest.mark.parametrize("stratify", [False, True])
def test_train_test_split(stratify):
    tr, te = train_test_split_indices(LABELS, test_fraction=0.2, seed=0, stratify=stratify)
    assert len(np.intersect1d(tr, te)) == 0
    assert np.array_equal(np.sort(np.concatenate([tr, te])), np.arange(len(LABELS)))
    assert np.all(np.diff(tr) > 0) and np.all(np.diff(te) > 0)
    tr2, te2 = train_test_split_indices(LABELS, test_fraction=0.2, seed=0, stratify=stratify)
    assert np.array_equal(te, te2)
    _, te3 = train_test_split_indices(LABELS, test_fraction=0.2, seed=1, stratify=stratify)
    assert not np.array_equal(te, te3)
    if stratify:
        assert np.bincount(LABELS[te], minlength=4).tolist() == [2, 2, 2, 3]  # round(0.2 * [10, 12, 8, 15])
    else:
        assert len(te) == 9


def test_train_test_split_count_and_errors():
    tr, te = train_test_split_indices(100, test_fraction=0.25, seed=3)
    assert len(tr) == 75 and len(te) == 25
    with pytest.raises(ValueError):
        train_test_split_indices(100, test_fraction=1.0)
    with pytest.raises(ValueError, match="labels"):
        train_test_split_indices(100, stratify=True)
