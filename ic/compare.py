"""Comparing our numbers with a source's: summary statistics and a stated verdict rule (every study)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

VERDICT_RULE = ("reproduced: |ours − source| ≤ 0.05; partly: 0.05 < |ours − source| ≤ 0.15, or the source's number "
                "lies inside the 95 % t-interval of our mean (a difference our instances cannot resolve); "
                "not reproduced: |ours − source| > 0.15 and the source's number lies outside that interval")


def summarise(values: Iterable[float]) -> dict:
    """Mean, population std (ddof 0, as the sources report), n, and a 95 % t-interval of the mean."""
    v = np.asarray(list(values), dtype=float)
    n = len(v)
    if n == 0:
        return {"mean": math.nan, "std": math.nan, "n": 0, "ci95": (math.nan, math.nan)}
    mean, std = float(v.mean()), float(v.std())
    if n > 1:
        from scipy import stats

        half = float(stats.t.ppf(0.975, n - 1) * v.std(ddof=1) / math.sqrt(n))
    else:
        half = math.nan
    return {"mean": mean, "std": std, "n": n, "ci95": (mean - half, mean + half)}


def fmt(summary: dict, digits: int = 2) -> str:
    if summary["n"] == 0:
        return "not run yet"
    return f"{summary['mean']:.{digits}f} ± {summary['std']:.{digits}f} (n={summary['n']})"


def verdict(ours: dict, reference: float | None) -> str:
    """Verdict for one number (accuracies in [0, 1]), by :data:`VERDICT_RULE`."""
    if reference is None or ours["n"] == 0 or math.isnan(ours["mean"]):
        return "—"
    diff = abs(ours["mean"] - reference)
    lo, hi = ours["ci95"]
    inside = not (math.isnan(lo) or math.isnan(hi)) and lo <= reference <= hi
    if diff <= 0.05:
        return "reproduced"
    if diff <= 0.15 or inside:
        return "partly"
    return "not reproduced"
