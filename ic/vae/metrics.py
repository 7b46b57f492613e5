"""The source's metrics, computed from stored per-probe scores for any threshold (no re-scoring).

For a threshold Thr a probe is **rejected** when its KL(best ‖ second) < Thr (the source's Eq. 6); then

* Acc = 100 · (correct and not rejected) / (not rejected)            — a percentage, as printed;
* P_miss = (correct and rejected) / (all probes)                       — a fraction, as printed;
* rejection = 100 · rejected / all probes                              — a percentage (its Table VI).

Thr = 0 rejects nothing (the "no rejection" row). When every probe is rejected, Acc is undefined (None).
"""

from __future__ import annotations

import numpy as np

RANKS = ("mean", "median", "min")


def _arrays(*xs):
    out = [np.asarray(x) for x in xs]
    n = len(out[0])
    if any(len(x) != n for x in out):
        raise ValueError(f"arrays of different lengths: {[len(x) for x in out]}")
    return out


def rejection_metrics(pred, labels, kl, thr: float) -> dict:
    pred, labels, kl = _arrays(pred, labels, kl)
    n = len(pred)
    if n == 0:
        raise ValueError("no probes")
    correct = pred == labels
    rejected = kl < thr
    kept = int((~rejected).sum())
    return {"thr": float(thr), "n": n, "n_rejected": int(rejected.sum()),
            "acc": 100.0 * float((correct & ~rejected).sum()) / kept if kept else None,
            "p_miss": float((correct & rejected).sum()) / n,
            "rejection": 100.0 * float(rejected.sum()) / n}


def rejection_table(pred, labels, kl, thresholds) -> list[dict]:
    """:func:`rejection_metrics` for each threshold (0 = no rejection)."""
    return [rejection_metrics(pred, labels, kl, t) for t in thresholds]


def coverage_curve(pred, labels, kl) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy (%) of the kept probes against coverage (fraction kept) as the threshold sweeps over every
    stored KL value: the probes are kept in decreasing KL order (ties kept together)."""
    pred, labels, kl = _arrays(pred, labels, kl)
    order = np.argsort(-kl, kind="stable")
    correct = (pred == labels)[order].astype(float)
    kept = np.arange(1, len(kl) + 1)
    acc = 100.0 * np.cumsum(correct) / kept
    sorted_kl = kl[order]
    last_of_tie = np.r_[sorted_kl[1:] != sorted_kl[:-1], True]
    return kept[last_of_tie] / len(kl), acc[last_of_tie]


def auroc(score_in, score_out) -> float:
    """Area under the ROC curve of a score that should be higher for in-distribution probes:
    P(score_in > score_out) + ½ P(tie) (Mann–Whitney)."""
    a, b = np.asarray(score_in, dtype=float), np.asarray(score_out, dtype=float)
    if not len(a) or not len(b):
        raise ValueError("auroc needs both in- and out-of-distribution scores")
    allv = np.concatenate([a, b])
    order = allv.argsort(kind="stable")
    ranks = np.empty(len(allv))
    sorted_v = allv[order]
    # average ranks of ties
    _, first, counts = np.unique(sorted_v, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[:len(a)].sum() - len(a) * (len(a) + 1) / 2) / (len(a) * len(b)))


def predictions(scores: dict, rank: str = "mean") -> np.ndarray:
    """Predicted class per probe: the smallest per-class ``mean`` / ``median`` / ``min`` cross-entropy."""
    if rank not in RANKS:
        raise ValueError(f"Unknown rank {rank!r}: use one of {', '.join(RANKS)}.")
    return np.asarray(scores[rank]).argmin(axis=1)


def at_p_miss(pred, labels, kl, target: float) -> dict:
    """The operating point whose P_miss is the largest not above ``target``: reject the probes of smallest KL, as
    many as P_miss ≤ target allows (so that two classifiers whose KL scales differ can be compared at the same
    miss rate). Returns the threshold (the KL of the first kept probe), Acc (%) of the kept, P_miss and
    rejection (%) at that point."""
    pred, labels, kl = _arrays(pred, labels, kl)
    n = len(kl)
    if n == 0 or not 0 <= target <= 1:
        raise ValueError(f"need probes and a target P_miss in [0, 1], got {n} probes and {target}")
    order = np.argsort(kl, kind="stable")
    correct = (pred == labels)[order]
    misses = np.r_[0, np.cumsum(correct)]                  # correct among the first i rejected, i = 0..n
    sorted_kl = kl[order]
    # a cut may only fall between distinct KL values (a threshold rejects ties together)
    allowed = np.r_[True, sorted_kl[1:] != sorted_kl[:-1], True]
    i = int(np.flatnonzero(allowed & (misses <= target * n + 1e-9)).max())
    kept = n - i
    return {"thr": float(sorted_kl[i]) if i < n else float("inf"), "n": n, "n_rejected": i,
            "acc": 100.0 * float(correct[i:].sum()) / kept if kept else None,
            "p_miss": float(misses[i]) / n, "rejection": 100.0 * i / n}
