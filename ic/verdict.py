"""Verdicts on the sources' claims — one evidential standard for every chapter.

A chapter states each claim of its source once and judges it from our runs:

* :func:`level` — *level claim*, "the source's number is v": our runs against the source's number, or against the
  source's own per-run values when it published them (Welch's t);
* :func:`compare` — *comparison claim* between two of our settings measured on the same units (data splits,
  seeds): "A beats B" or "A ≈ B", from paired differences (paired t);
* :func:`compare_probes` — the same claims from per-probe correctness of two settings on the same probes
  (exact McNemar test);
* :func:`best` — "X is the best of several settings": X against every rival, with a stated multiplicity rule.

Every verdict is read off one interval at :data:`CONFIDENCE`, compared with the source's value and the metric's
equivalence margin (:class:`Metric`); the geometry is in :func:`level_geometry` and :func:`direction_geometry`.
:func:`rule_sections` writes the rule in words from the constants below (the book's page "How we judge");
:func:`claims_table` collects verdicts into the numeric table each chapter opens with, :func:`format_claims`
renders it for display.

This module replaced the earlier rule of a fixed tolerance of 0.05 whatever our spread.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

# ------------------------------------------------------------------------------------------- the standard
#: Significance level of every test. Each verdict reads a two-sided interval at CONFIDENCE = 1 − ALPHA, so a
#: two-sided question ("is there a difference?") is tested at ALPHA and each one-sided question ("is the
#: difference above the margin?", "is A ahead of B?") at ALPHA / 2.
ALPHA = 0.05
#: Confidence level of every interval shown and used (level claims, paired differences, McNemar).
CONFIDENCE = 1 - ALPHA
#: Fewest runs (or pairs) that give an interval at all; with fewer, every verdict is "inconclusive".
MIN_N = 2
#: Fewest runs (or pairs) for a negative verdict ("not reproduced", "contradicts") on the interval alone: with
#: fewer, the spread estimate is too unreliable, and a negative verdict needs an overwhelming difference.
MIN_N_NEGATIVE = 5
#: "Overwhelming", in multiples of the metric's margin: every single run (or paired difference) misses the
#: source's value by more than OVERWHELMING × margin, all on the same side.
OVERWHELMING = 2.0
#: Delta degrees of freedom of the standard deviation we report (1: the sample std the t-interval uses; the
#: sources computed theirs with numpy's default 0, smaller by √((n − 1)/n), i.e. × 0.89 at n = 5).
STD_DDOF = 1
#: Random resamples of the sign-flip check when the exact enumeration (2ⁿ sign patterns) would be larger.
SIGNFLIP_RESAMPLES = 2**16
SIGNFLIP_SEED = 0

# Verdict words (the claims table's vocabulary).
REPRODUCED, PARTLY, NOT_REPRODUCED = "reproduced", "partly", "not reproduced"
SUPPORTS, CONTRADICTS = "supports", "contradicts"
INCONCLUSIVE, PENDING = "inconclusive", "pending"
NEGATIVE = (NOT_REPRODUCED, CONTRADICTS)

#: Claim kinds: a level, a directional comparison, an equivalence of two settings, the best of several.
LEVEL, BEATS, EQUAL, BEST = "level", "beats", "equal", "best"


# ------------------------------------------------------------------------------------------- metrics
@dataclass(frozen=True)
class Metric:
    """A measured quantity in the unit the source reports it, with its equivalence margin.

    ``margin`` is the largest difference (in the metric's unit) we still call "the same number"; ``plausible``
    bounds every value given for it, so that a fraction passed where a percentage is expected (or the reverse)
    is an error instead of a silent verdict.
    """

    name: str
    unit: str                        # "fraction" or "percent"
    margin: float
    plausible: tuple[float, float]
    why: str                         # the reason for the margin (shown in the book)
    digits: int = 2                  # decimals shown at least

    def __post_init__(self):
        if self.unit not in ("fraction", "percent"):
            raise ValueError(f"unit must be 'fraction' or 'percent', not {self.unit!r}")
        if not self.margin > 0:
            raise ValueError(f"the margin of {self.name} must be positive")

    def check(self, values, what: str) -> np.ndarray:
        """``values`` as a float array, or a ValueError naming the unit when a value is NaN or implausible."""
        v = np.atleast_1d(np.asarray(values, dtype=float))
        lo, hi = self.plausible
        bad = v[~((v >= lo) & (v <= hi))]
        if len(bad):
            hint = ("multiply fractions by 100" if self.unit == "percent" else "divide percentages by 100")
            raise ValueError(f"{what}: {self.name} is a {self.unit} in [{lo:g}, {hi:g}], got {bad[0]!r} "
                             f"({hint}, or use the metric of the right unit)")
        return v

    @property
    def bounds(self) -> tuple[float, float]:
        """The range the quantity can take (0–1 for a fraction, 0–100 for a percentage)."""
        return (0.0, 100.0) if self.unit == "percent" else (0.0, 1.0)

    def short_unit(self, difference: bool = False) -> str:
        if self.unit == "percent":
            return " pp" if difference else " %"
        return ""


#: Test accuracy as a fraction (the thesis and the cGAN post).
ACCURACY = Metric(
    "accuracy", "fraction", 0.05, (0.0, 1.0),
    "5 percentage points of test accuracy: well below the effects the thesis's claims rest on; the settings of "
    "the GAN post differ by less, so its claims are judged as comparisons, not as levels")
#: The VAE paper's accuracy, in percent of the (not rejected) test probes.
VAE_ACCURACY = Metric(
    "accuracy (%)", "percent", 0.5, (1.0, 100.0),
    "half a percentage point: near 98 % that is a quarter of the error rate; the paper's settings differ by "
    "tenths of a point, so those claims are judged as comparisons, not as levels")
#: The VAE paper's probability of miss (correct but rejected probes / all test probes), a fraction.
P_MISS = Metric(
    "P_miss", "fraction", 0.01, (0.0, 1.0),
    "one percent of the test set (100 of 10 000 probes), the order of the steps between the paper's "
    "adjacent thresholds", digits=3)

METRICS = (ACCURACY, VAE_ACCURACY, P_MISS)


# ------------------------------------------------------------------------------------------- intervals
@dataclass(frozen=True)
class Interval:
    """An estimate with its interval at ``confidence`` and the two-sided p-value of the test it inverts."""

    estimate: float
    lo: float
    hi: float
    p: float
    confidence: float
    method: str
    zero_spread: bool = False


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():          # scipy warns about precision loss on near-constant samples
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kwargs)


def _point(estimate: float, confidence: float, method: str) -> Interval:
    """Zero spread: the interval shrinks to the estimate; p is 1 for no difference, else 0."""
    return Interval(estimate, estimate, estimate, 1.0 if estimate == 0 else 0.0, confidence, method, True)


def mean_interval(d, confidence: float = CONFIDENCE) -> Interval:
    """Student's t-interval of the mean of ``d`` (the paired differences, or our runs minus a constant)."""
    d = np.asarray(d, dtype=float)
    n, mean = len(d), float(np.mean(d)) if len(d) else math.nan
    if n < MIN_N:
        return Interval(mean, math.nan, math.nan, math.nan, confidence, "t")
    if np.ptp(d) == 0:
        return _point(mean, confidence, "t")
    res = _quiet(stats.ttest_1samp, d, 0.0)
    ci = res.confidence_interval(confidence)
    return Interval(mean, float(ci.low), float(ci.high), float(res.pvalue), confidence, "t")


def welch_interval(x, y, confidence: float = CONFIDENCE) -> Interval:
    """Welch's interval of mean(x) − mean(y) (unequal variances), e.g. our runs against the source's runs."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    est = float(x.mean() - y.mean()) if len(x) and len(y) else math.nan
    if len(x) < MIN_N or len(y) < MIN_N:
        return Interval(est, math.nan, math.nan, math.nan, confidence, "Welch t")
    if np.ptp(x) == 0 and np.ptp(y) == 0:
        return _point(est, confidence, "Welch t")
    res = _quiet(stats.ttest_ind, x, y, equal_var=False)
    ci = res.confidence_interval(confidence)
    return Interval(est, float(ci.low), float(ci.high), float(res.pvalue), confidence, "Welch t")


def mcnemar_interval(correct_a, correct_b, confidence: float = CONFIDENCE) -> Interval:
    """Accuracy difference A − B from per-probe correctness on the same probes: exact McNemar test, with the
    Clopper–Pearson interval of the share of discordant probes that A wins, scaled to the accuracy difference
    (conditional on the number of discordant probes; it excludes 0 exactly when McNemar's test rejects)."""
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"per-probe correctness must be two 1-D arrays over the same probes, got {a.shape} "
                         f"and {b.shape}")
    n = len(a)
    wins, losses = int(np.sum(a & ~b)), int(np.sum(~a & b))
    discordant = wins + losses
    est = (wins - losses) / n if n else math.nan
    if discordant == 0:
        return _point(est, confidence, "McNemar exact")
    test = stats.binomtest(wins, discordant, 0.5)
    ci = test.proportion_ci(confidence, method="exact")
    scale = discordant / n
    return Interval(est, scale * (2 * ci.low - 1), scale * (2 * ci.high - 1), float(test.pvalue), confidence,
                    "McNemar exact")


def signflip_p(d) -> float:
    """Two-sided p-value of the sign-flip permutation test of mean(d) = 0 (exact up to 2ⁿ ≤
    :data:`SIGNFLIP_RESAMPLES`). A check that assumes no normality; it cannot go below 2 / 2ⁿ."""
    d = np.asarray(d, dtype=float)
    if len(d) < MIN_N:
        return math.nan
    if not np.any(d):
        return 1.0
    res = stats.permutation_test((d,), np.mean, permutation_type="samples", vectorized=True,
                                 n_resamples=SIGNFLIP_RESAMPLES, rng=np.random.default_rng(SIGNFLIP_SEED))
    return float(res.pvalue)


# ------------------------------------------------------------------------------------------- geometry
def level_geometry(lo: float, hi: float, target: float, margin: float) -> str:
    """Where an interval lies against ``target ± margin``: 'inside' (equivalent), 'outside' (different by more
    than the margin), 'resolved' (excludes the target but reaches into the margin) or 'unresolved' (contains the
    target and reaches beyond the margin)."""
    if math.isnan(lo) or math.isnan(hi):
        return "unresolved"
    if target - margin <= lo and hi <= target + margin:
        return "inside"
    if hi < target - margin or lo > target + margin:
        return "outside"
    return "unresolved" if lo <= target <= hi else "resolved"


def direction_geometry(lo: float, hi: float, source_difference: float, margin: float) -> str:
    """Where an interval of our difference A − B lies for the claim "A beats B" that the source made with a
    difference ``source_difference``: 'supports' (wholly on the source's side of 0), 'partly' (so, but wholly
    below the margin while the source's difference exceeded it), 'contradicts' (wholly on the other side of 0, or
    — when the source's difference exceeded the margin — wholly below the margin) or 'inconclusive'."""
    if source_difference == 0:
        raise ValueError("the source's difference is 0: state the claim as 'A ≈ B' (kind='equal')")
    if math.isnan(lo) or math.isnan(hi):
        return INCONCLUSIVE
    s = 1.0 if source_difference > 0 else -1.0
    low, high = sorted((s * lo, s * hi))
    floor = margin if abs(source_difference) > margin else 0.0
    if low > 0:
        return PARTLY if high < floor else SUPPORTS
    if high < floor:
        return CONTRADICTS
    return INCONCLUSIVE


def overwhelming(values, target: float, margin: float, sides=(1, -1)) -> bool:
    """Every value misses ``target`` by more than OVERWHELMING × margin, all on one of ``sides``."""
    v = np.asarray(values, dtype=float) - target
    return len(v) > 0 and any(bool(np.all(side * v > OVERWHELMING * margin)) for side in sides)


# ------------------------------------------------------------------------------------------- verdicts
@dataclass(frozen=True)
class Verdict:
    """One judged claim: a row of the claims table. For a level claim ``estimate`` is our mean and ``lo``/``hi``
    the decisive interval on the same scale; for a comparison they are our (mean paired) difference A − B and
    its interval, and ``source_value`` is the source's difference."""

    claim: str
    source: str
    kind: str
    metric: Metric
    source_value: float
    estimate: float
    std: float
    n: int
    lo: float
    hi: float
    p: float
    method: str
    verdict: str
    note: str = ""
    source_lo: float = math.nan     # the source's own interval (when it published per-run values)
    source_hi: float = math.nan
    p_signflip: float = math.nan
    details: tuple = field(default=(), repr=False)   # per-rival verdicts of a 'best' claim

    def row(self) -> dict:
        return {"claim": self.claim, "source": self.source, "kind": self.kind, "metric": self.metric.name,
                "unit": self.metric.unit, "source_value": self.source_value, "source_lo": self.source_lo,
                "source_hi": self.source_hi, "ours": self.estimate, "std": self.std, "n": self.n, "lo": self.lo,
                "hi": self.hi, "margin": self.metric.margin, "p": self.p, "p_signflip": self.p_signflip,
                "method": self.method, "verdict": self.verdict, "note": self.note}


def _values(x, metric: Metric, what: str) -> np.ndarray:
    if isinstance(x, Mapping):
        x = list(x.values())
    return metric.check(x, what)


def _source(source, metric: Metric) -> tuple[float, np.ndarray | None]:
    """The source's value and, when it published per-run values, those runs."""
    if np.ndim(source) == 0:
        return float(metric.check(source, "source value")[0]), None
    runs = _values(source, metric, "source runs")
    return float(runs.mean()), (runs if len(runs) >= MIN_N else None)


def _paired(a, b, metric: Metric) -> np.ndarray:
    """A − B per unit; mappings are aligned on their keys (split, seed), sequences by position."""
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        if not (isinstance(a, Mapping) and isinstance(b, Mapping)) or set(a) != set(b):
            raise ValueError("paired values must be two mappings with the same keys (e.g. split → accuracy); "
                             f"keys only in one: {sorted(set(dict(a)) ^ set(dict(b)), key=str)}")
        keys = sorted(a, key=str)
        a, b = [a[k] for k in keys], [b[k] for k in keys]
    a, b = metric.check(a, "A"), metric.check(b, "B")
    if len(a) != len(b):
        raise ValueError(f"paired values need as many A as B runs, got {len(a)} and {len(b)}")
    return a - b


def _std(v: np.ndarray) -> float:
    return float(np.std(v, ddof=STD_DDOF)) if len(v) > STD_DDOF else math.nan


def _guard(verdict: str, n: int, expected_n: int | None, strong: bool) -> tuple[str, str]:
    """The few-runs rules on top of the interval's verdict; returns (verdict, note)."""
    if expected_n is not None and n < expected_n:
        return PENDING, f"{n} of {expected_n} runs"
    if n < MIN_N:
        return INCONCLUSIVE, f"n = {n}: no interval"
    if verdict in NEGATIVE and n < MIN_N_NEGATIVE:
        if strong:
            return verdict, f"n = {n} < {MIN_N_NEGATIVE}: negative only because the difference is overwhelming"
        return INCONCLUSIVE, f"n = {n} < {MIN_N_NEGATIVE}: too few runs for a negative verdict"
    return verdict, ""


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


LEVEL_WORDS = {"inside": REPRODUCED, "outside": NOT_REPRODUCED, "resolved": PARTLY, "unresolved": INCONCLUSIVE}
EQUAL_WORDS = {"inside": SUPPORTS, "outside": CONTRADICTS, "resolved": PARTLY, "unresolved": INCONCLUSIVE}


def level(ours, source, *, metric: Metric = ACCURACY, claim: str = "", source_label: str = "",
          expected_n: int | None = None) -> Verdict:
    """Judge "the source's number is v" from our runs ``ours`` (sequence or mapping of per-run values).

    ``source`` is the source's number, or its per-run values (then the interval is Welch's for our mean minus
    theirs, shifted to their mean, so that it carries both spreads). ``expected_n``: the runs the profile
    plans; with fewer the verdict is 'pending'.
    """
    x = _values(ours, metric, "our runs")
    value, runs = _source(source, metric)
    n = len(x)
    if runs is None:
        diff = mean_interval(x - value)
        source_lo = source_hi = math.nan
        basis = "source's number taken as exact"
    else:
        diff = welch_interval(x, runs)
        own = mean_interval(runs)
        source_lo, source_hi = own.lo, own.hi
        basis = f"against the source's {len(runs)} runs"
    # cut at the metric's range: the part of an interval beyond it holds no possible value (an accuracy of 1.06)
    lo, hi = np.clip([value + diff.lo, value + diff.hi], *metric.bounds).tolist()
    word = LEVEL_WORDS[level_geometry(lo, hi, value, metric.margin)]
    word, guard_note = _guard(word, n, expected_n, overwhelming(x, value, metric.margin))
    return Verdict(claim, source_label, LEVEL, metric, value, float(x.mean()) if n else math.nan, _std(x), n, lo,
                   hi, diff.p, diff.method, word,
                   _join(basis, "zero spread: the interval is a point" if diff.zero_spread else "", guard_note),
                   source_lo, source_hi)


def _comparison(kind: str, our: Interval, d: np.ndarray | None, n: int, source_difference: float,
                metric: Metric, expected_n: int | None) -> tuple[str, str]:
    """The verdict of a comparison from its interval, then the few-runs rules."""
    if kind == BEATS:
        word = direction_geometry(our.lo, our.hi, source_difference, metric.margin)
        sides = (-1.0 if source_difference > 0 else 1.0,)
    elif kind == EQUAL:
        word = EQUAL_WORDS[level_geometry(our.lo, our.hi, 0.0, metric.margin)]
        sides = (1, -1)
    else:
        raise ValueError(f"kind must be {BEATS!r} or {EQUAL!r}, not {kind!r}")
    strong = d is not None and overwhelming(d, source_difference, metric.margin, sides)
    word, note = _guard(word, n, expected_n, strong)
    return word, _join("zero spread: the interval is a point" if our.zero_spread else "", note)


def _source_difference(source_a, source_b, metric: Metric) -> tuple[float, float, float]:
    a, runs_a = _source(source_a, metric)
    b, runs_b = _source(source_b, metric)
    if runs_a is not None and runs_b is not None:
        own = welch_interval(runs_a, runs_b)
        return a - b, own.lo, own.hi
    return a - b, math.nan, math.nan


def compare(a, b, source_a, source_b, *, kind: str = BEATS, metric: Metric = ACCURACY, claim: str = "",
            source_label: str = "", expected_n: int | None = None) -> Verdict:
    """Judge "A beats B" (``kind='beats'``, in the direction of the source's difference) or "A ≈ B"
    (``kind='equal'``) from our runs of A and B on the same units: ``a``/``b`` are sequences in the same unit
    order or mappings unit → value. ``source_a``/``source_b``: the source's numbers or per-run values."""
    d = _paired(a, b, metric)
    src, src_lo, src_hi = _source_difference(source_a, source_b, metric)
    our = mean_interval(d)
    word, note = _comparison(kind, our, d, len(d), src, metric, expected_n)
    return Verdict(claim, source_label, kind, metric, src, our.estimate, _std(d), len(d), our.lo, our.hi, our.p,
                   "paired t", word, note, src_lo, src_hi, signflip_p(d))


#: words of :func:`effect` (a comparison of two of our settings that the source did not make)
HIGHER, LOWER, EQUIVALENT = "higher", "lower", "equivalent"


def effect(a, b, *, metric: Metric = ACCURACY, claim: str = "", expected_n: int | None = None) -> Verdict:
    """A beyond-the-source comparison of two of our settings on the same units (paired, as :func:`compare`):
    'higher' / 'lower' when the interval of the mean difference A − B excludes 0, 'equivalent' when it lies
    within ± the metric's margin, else 'inconclusive'. The same few-runs rules apply, an equivalence counting as
    a negative finding (no 'equivalent' from fewer than MIN_N_NEGATIVE runs unless every difference is 0)."""
    d = _paired(a, b, metric)
    our = mean_interval(d)
    geometry = level_geometry(our.lo, our.hi, 0.0, metric.margin)
    if geometry == "inside":
        word = EQUIVALENT
    elif geometry == "unresolved" or math.isnan(our.lo):
        word = INCONCLUSIVE
    else:
        word = HIGHER if our.lo > 0 else LOWER
    n = len(d)
    missing = expected_n is not None and n < expected_n    # runs still missing: 'pending', whatever the interval
    if not missing and word == EQUIVALENT and n < MIN_N_NEGATIVE and not (n and np.all(d == 0)):
        note = f"n = {n} < {MIN_N_NEGATIVE}: too few runs to call the settings equivalent"
        if not our.zero_spread and (our.lo > 0 or our.hi < 0):   # still a difference: the positive finding
            word, note = HIGHER if our.lo > 0 else LOWER, _join(note, f"smaller than the margin {metric.margin:g}")
        else:
            word = INCONCLUSIVE
    else:
        word, note = _guard(word, n, expected_n, False)
    return Verdict(claim, "ours only", "effect", metric, math.nan, our.estimate, _std(d), n, our.lo, our.hi, our.p,
                   "paired t", word, _join("zero spread: the interval is a point" if our.zero_spread else "", note),
                   p_signflip=signflip_p(d) if n else math.nan)


def level_probes(correct_runs, source, *, metric: Metric = ACCURACY, claim: str = "",
                 source_label: str = "") -> Verdict:
    """As :func:`level`, for runs scored on a subset of the source's test set (a probe set): the units are the
    probes, each with its correctness averaged over the runs (the same probes in every run), so that the error
    of using the subset counts. ``correct_runs``: one boolean array per run; the accuracy in ``metric``'s unit."""
    runs = [np.asarray(c, dtype=float) for c in correct_runs]
    if not runs or len({r.shape for r in runs}) != 1 or runs[0].ndim != 1:
        raise ValueError("level_probes needs one 1-D correctness array per run, all over the same probes")
    per_probe = (100.0 if metric.unit == "percent" else 1.0) * np.mean(runs, axis=0)
    v = level(per_probe, source, metric=replace(metric, plausible=metric.bounds), claim=claim,
              source_label=source_label)
    return probe_unit(v, len(runs))


def probe_unit(v: Verdict, runs: int) -> Verdict:
    """``v`` judged on per-probe values (averaged over ``runs`` runs) as shown to a reader: no ± (the spread of
    0/1 outcomes over probes says nothing), the unit in the note."""
    return replace(v, std=math.nan, note=_join(f"unit: {v.n} probes, each averaged over {runs} "
                                               f"run{'s' if runs > 1 else ''}", v.note))


def probe_interval(correct_a, correct_b, metric: Metric, confidence: float = CONFIDENCE) -> Interval:
    """:func:`mcnemar_interval` in the unit of ``metric`` (an accuracy difference in percentage points when the
    metric is a percentage)."""
    iv = mcnemar_interval(correct_a, correct_b, confidence)
    k = 100.0 if metric.unit == "percent" else 1.0
    return replace(iv, estimate=k * iv.estimate, lo=k * iv.lo, hi=k * iv.hi)


def compare_probes(correct_a, correct_b, source_a, source_b, *, kind: str = BEATS, metric: Metric = ACCURACY,
                   claim: str = "", source_label: str = "") -> Verdict:
    """As :func:`compare`, from per-probe correctness (booleans) of A and B on the same probes (McNemar); the
    source's accuracies and the verdict in the unit of ``metric`` (fraction or percent)."""
    src, src_lo, src_hi = _source_difference(source_a, source_b, metric)
    our = probe_interval(correct_a, correct_b, metric)
    n = len(np.asarray(correct_a))
    word, note = _comparison(kind, our, None, n, src, metric, None)
    return Verdict(claim, source_label, kind, metric, src, our.estimate, math.nan, n, our.lo, our.hi, our.p,
                   our.method, word, note, src_lo, src_hi)


def best(ours: Mapping, source: Mapping, claimed, *, metric: Metric = ACCURACY, probes: bool = False,
         claim: str = "", source_label: str = "", expected_n: int | None = None,
         untestable: Mapping[str, str] | None = None) -> Verdict:
    """Judge "``claimed`` is the best of these settings" from our paired runs per setting (``ours``: setting →
    runs on the same units, or per-probe correctness when ``probes``) and the source's numbers or runs.

    Every rival is compared with ``claimed`` as "claimed beats rival". The claim is supported only when every
    comparison supports it at CONFIDENCE (an intersection–union test: all must hold, no adjustment needed);
    a rival contradicts it when the interval at 1 − ALPHA/(K − 1) (Bonferroni over the K − 1 rivals) does, so
    that the chance of a false contradiction stays at ALPHA/2 however many rivals there are.

    ``untestable`` maps rivals whose runs cannot test the claim to the reason (e.g. a model that failed to train):
    their comparison is computed and shown, but its verdict is inconclusive with the reason as its note, so the
    claim as a whole cannot be supported — only contradicted by the other rivals, or left inconclusive."""
    untestable = dict(untestable or {})
    if set(untestable) - set(ours) or claimed in untestable:
        raise ValueError(f"untestable rivals {sorted(untestable)} must be rivals of {claimed!r} in ours")
    if claimed not in ours or set(ours) != set(source):
        raise ValueError(f"ours and source must name the same settings, including the claimed {claimed!r}")
    rivals = [r for r in ours if r != claimed]
    if not rivals:
        raise ValueError("'best' needs at least one rival")
    adjusted = 1 - ALPHA / len(rivals)
    details = []
    for r in rivals:
        src, src_lo, src_hi = _source_difference(source[claimed], source[r], metric)
        if src <= 0:
            raise ValueError(f"the source does not rank {claimed!r} above {r!r}: not a 'best' claim")
        if probes:
            d, n = None, len(np.asarray(ours[claimed]))
            our, wide = (probe_interval(ours[claimed], ours[r], metric),
                         probe_interval(ours[claimed], ours[r], metric, adjusted))
        else:
            d = _paired(ours[claimed], ours[r], metric)
            n, our, wide = len(d), mean_interval(d), mean_interval(d, adjusted)
        word = direction_geometry(our.lo, our.hi, src, metric.margin)
        if word not in (SUPPORTS, PARTLY):
            word = CONTRADICTS if direction_geometry(wide.lo, wide.hi, src, metric.margin) == CONTRADICTS \
                else INCONCLUSIVE
        strong = d is not None and overwhelming(d, src, metric.margin, (-1.0,))
        word, note = _guard(word, n, expected_n, strong)
        if r in untestable and word != PENDING:
            word, note = INCONCLUSIVE, _join(untestable[r], note)
        note = _join(f"contradiction read at {adjusted:.1%} (Bonferroni over {len(rivals)} rivals)"
                     if word == CONTRADICTS else "", note)
        details.append(Verdict(f"{claimed} beats {r}", source_label, BEATS, metric, src, our.estimate,
                               _std(d) if d is not None else math.nan, n, our.lo, our.hi, our.p,
                               our.method if probes else "paired t", word, note, src_lo, src_hi,
                               signflip_p(d) if d is not None else math.nan))
    words = [v.verdict for v in details]
    if PENDING in words:
        overall = PENDING
    elif CONTRADICTS in words:
        overall = CONTRADICTS
    elif all(w == SUPPORTS for w in words):
        overall = SUPPORTS
    elif all(w in (SUPPORTS, PARTLY) for w in words):
        overall = PARTLY
    else:
        overall = INCONCLUSIVE
    closest = min(details, key=lambda v: v.estimate)
    means = {k: float(np.mean(np.asarray(list(v.values()) if isinstance(v, Mapping) else v, dtype=float)))
             for k, v in ours.items()}
    ours_best = max(means, key=means.get)
    note = _join(f"closest rival: {closest.claim.split(' beats ', 1)[1]}",
                 f"our best: {ours_best}" if ours_best != claimed else "",
                 f"{sum(w == SUPPORTS for w in words)} of {len(words)} rivals resolved behind",
                 f"not testable: {', '.join(map(str, untestable))}" if untestable else "")
    return replace(closest, claim=claim or f"{claimed} is best", kind=BEST, verdict=overall, note=note,
                   details=tuple(details))


# ------------------------------------------------------------------------------------------- tables
CLAIM_COLUMNS = ["claim", "source", "kind", "metric", "unit", "source_value", "source_lo", "source_hi", "ours", "std",
                 "n", "lo", "hi", "margin", "p", "p_signflip", "method", "verdict", "note"]


def claims_table(verdicts: Sequence[Verdict], details: bool = False) -> pd.DataFrame:
    """The numeric claims table (one row per claim; with ``details`` a 'best' claim is followed by its rivals)."""
    rows = []
    for v in verdicts:
        rows.append(v.row())
        if details:
            rows.extend(d.row() for d in v.details)
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


def _digits(metric_name: str, width: float) -> int:
    """Decimals: the metric's, or more when the interval is narrow (two significant digits of its width)."""
    base = next((m.digits for m in METRICS if m.name == metric_name), 2)
    if not (width > 0 and math.isfinite(width)):
        return base
    return int(min(4, max(base, 1 - math.floor(math.log10(width)))))


def _number(x: float, digits: int, signed: bool, unit: str) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:+.{digits}f}{unit}" if signed else f"{x:.{digits}f}{unit}"


def format_claims(df: pd.DataFrame, note: bool = True) -> pd.DataFrame:
    """The claims table for display: text cells, values in each metric's unit (comparisons as signed
    differences, in percentage points for percentages), ours as mean ± std, the decisive interval."""
    out = []
    for r in df.itertuples(index=False):
        signed = r.kind != LEVEL
        unit = (" pp" if signed else " %") if r.unit == "percent" else ""
        k = _digits(r.metric, r.hi - r.lo)
        std = "" if math.isnan(r.std) else f" ± {r.std:.{k}f}"
        row = {"claim": r.claim, "source": r.source, "source's value": _number(r.source_value, k, signed, unit),
               "ours": _number(r.ours, k, signed, unit) + std, "n": str(r.n),
               f"{_pct(CONFIDENCE)} interval": ("—" if math.isnan(r.lo) else
                                               f"[{_number(r.lo, k, signed, '')}, {_number(r.hi, k, signed, '')}]"),
               "verdict": r.verdict}
        if note:
            row["note"] = r.note
        out.append(row)
    return pd.DataFrame(out)


# ------------------------------------------------------------------------------------------- the rule in words
def _pct(x: float) -> str:
    return f"{100 * x:g} %"


def rule_sections() -> dict[str, str]:
    """The verdict rule in plain words (Markdown), generated from this module's constants: one paragraph or list
    per section — 'level', 'comparison', 'ours', 'best', 'few runs', 'reading'."""
    c, a = _pct(CONFIDENCE), _pct(ALPHA)
    return {
        "level": (
            f"We run each setting *n* times (seeds, data splits) and report our mean, our standard deviation "
            f"(with *n* − {STD_DDOF}) and the {c} interval of our mean (Student's t), cut at the metric's range "
            f"(an accuracy cannot exceed 1). When the source published "
            f"its individual runs, the interval is Welch's interval of our mean minus theirs (unequal variances), "
            f"placed around their mean, so that it carries both spreads; when it published one number, that "
            f"number is taken as exact. When our runs scored only a subset of the source's test set (a probe "
            f"set), the units are the probes instead — each probe's correctness averaged over our runs — so that "
            f"the interval also carries the error of using the subset. Each metric has an equivalence margin *m*, "
            f"the largest difference we "
            f"still call the same number (table below). Against the source's value *v*:\n\n"
            f"- **reproduced**: the whole interval lies within *v* ± *m*;\n"
            f"- **not reproduced**: the whole interval lies outside *v* ± *m*;\n"
            f"- **partly**: the interval excludes *v* but reaches into *v* ± *m* (a real difference, perhaps "
            f"smaller than the margin);\n"
            f"- **inconclusive**: the interval contains *v* and reaches beyond *v* ± *m*: our runs are too few "
            f"or too spread to tell."),
        "comparison": (
            f"A claim that compares two settings A and B (\"A beats B\", \"A ≈ B\") is judged from paired "
            f"differences: both settings run on the same data splits or seeds, and we take the {c} t-interval of "
            f"the mean difference A − B. When both settings classified the same probes, the difference of "
            f"their accuracies is judged by McNemar's exact test on the probes one setting gets right and the "
            f"other wrong; its interval is the exact (Clopper–Pearson) interval of the share of those probes "
            f"that A wins, scaled to the accuracy difference. For \"A beats B\", where the source found a "
            f"difference *δ*:\n\n"
            f"- **supports**: the whole interval lies on the source's side of zero;\n"
            f"- **partly**: it does, but it also lies within the margin *m* while the source's *δ* exceeded it "
            f"(the same direction, a smaller effect);\n"
            f"- **contradicts**: the whole interval lies on the other side of zero, or, when the source's *δ* "
            f"exceeded the margin, within *m* of zero or below: our data rule out an advantage as large as "
            f"the margin;\n"
            f"- **inconclusive**: anything else.\n\n"
            f"\"A ≈ B\" is judged like a level claim with zero as the value: **supports** when the interval lies "
            f"within ± *m*, **contradicts** when it lies wholly outside, **partly** when it excludes zero but "
            f"reaches into ± *m*, **inconclusive** otherwise."),
        "ours": (
            f"Comparisons of two of our own settings that the source did not make (an ablation, a control, a "
            f"training schedule against another) use the same paired {c} interval of the mean difference A − B: "
            f"**equivalent** when it lies within ± *m*, else **higher** or **lower** when it excludes zero, "
            f"**inconclusive** otherwise. An equivalence counts as a negative finding under the few-runs rule "
            f"below; with too few runs for it, an interval within ± *m* that excludes zero is called **higher** "
            f"or **lower** (a difference smaller than the margin), one that includes zero **inconclusive**."),
        "best": (
            f"\"X is the best of K settings\" is the set of K − 1 claims \"X beats Y\", one per rival Y. It is "
            f"**supported** only when every one of them is supported by its {c} interval: all must hold at once, "
            f"and such an intersection of tests keeps its error rate without adjustment. It is **contradicted** "
            f"when any one rival contradicts it, read from intervals at 1 − α/(K − 1) (Bonferroni over the "
            f"rivals; for \"at least one rival\", Holm's step-down procedure takes the same first step), so that "
            f"more rivals do not make a false contradiction more likely. When every rival is resolved behind X "
            f"but some by less than the margin the source exceeded, the claim is **partly** supported; "
            f"otherwise it is **inconclusive**. A rival whose runs cannot test the claim (a model that failed to "
            f"train, so that it measures the training and not the setting) is shown with its interval but "
            f"counts as **inconclusive**, with the reason: the claim can then be contradicted by the other "
            f"rivals, never supported."),
        "few runs": (
            f"An interval needs at least {MIN_N} runs (or pairs); with fewer, the verdict is **inconclusive**. "
            f"With fewer than {MIN_N_NEGATIVE}, the spread itself is too uncertain for a negative verdict (**not "
            f"reproduced**, **contradicts**) unless the difference is overwhelming: every single run (or paired "
            f"difference) misses the source's value by more than {OVERWHELMING:g} × *m*, all on the same side; "
            f"otherwise the verdict is **inconclusive**. When all our runs agree exactly, the interval shrinks to "
            f"a point and the table's note says so. While runs of a setting are still missing, its verdict is "
            f"**pending**."),
        "reading": (
            f"Every verdict reads one two-sided interval at {c}: a two-sided question (is there a difference?) "
            f"is thus tested at α = {a}, a one-sided one (is A ahead? is the difference inside the margin?) at "
            f"α/2 = {_pct(ALPHA / 2)}. An interval inside the margin is the two one-sided tests (TOST) of "
            f"equivalence at α/2 per side, stricter than the common {_pct(1 - 2 * ALPHA)} convention. The numeric "
            f"claims table also carries the p-value of the test each interval comes from, and for paired runs "
            f"the exact sign-flip permutation p-value, a check that does not assume normally distributed "
            f"differences: with *n* pairs it cannot fall below 2/2ⁿ ({2 / 2**MIN_N_NEGATIVE:.4g} at *n* = "
            f"{MIN_N_NEGATIVE}), so it is shown, not used to decide."),
    }


def rule_text() -> str:
    """The whole rule as one Markdown text (section titles in bold)."""
    titles = {"level": "Level claims", "comparison": "Comparison claims", "ours": "Our own comparisons",
              "best": "The best of several settings",
              "few runs": "Few runs", "reading": "One standard"}
    return "\n\n".join(f"**{titles[k]}.** {v}" for k, v in rule_sections().items())


def metrics_table() -> pd.DataFrame:
    """The metrics, their units and equivalence margins (for the book)."""
    return pd.DataFrame([{"metric": m.name, "unit": m.unit, "margin m": f"{m.margin:g}{m.short_unit(True)}",
                          "why this margin": m.why} for m in METRICS])
