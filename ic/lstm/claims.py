"""The LSTM chapter's claims, judged by :mod:`ic.verdict` on our runs (the chapter's claims table).

The source's side of every claim is the thesis's five per-instance values (:mod:`ic.reference`); ours are the
runs of the paper profile, paired by instance (instance *i* trains and tests on data split *i* in every setting).
Forward classifiers are scored as the thesis scored them, with its strict rounding rule
(:func:`ic.lstm.frames.sparsity_frame`, column ``thesis_rule``).

The claims are numbered by the chapter's two findings — 1: training noise, 2: sparse data — and a letter.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from string import ascii_lowercase

import pandas as pd

from .. import reference
from .. import verdict as V
from ..report import Collected, frame
from .frames import IC_FIELDS, ic_frame, sparsity_frame
from .jobs import is_sparse_control
from .profiles import get_profile

NOISE_SOURCE = "thesis, noise table"
SPARSITY_SOURCE = "blog, sparse data"
#: the noise level of the claim "noise beats no noise": the one σ near the top of the thesis's table for every
#: class count (its best: 0.4 for 2 and 4 classes, 0.3 for 20)
NOISE_CLAIM_SIGMA = 0.3
#: what the chapter calls each setting of the sparsity comparison, in a claim
LABELS = {"sparse1": "IC sparse1", "sparse4": "IC sparse4", "all data": "IC all data",
          "sparse comparison": "forward sparse4", "comparison": "forward all data"}
#: "for 2 and 4 classes the five methods are about equal": sparse1 (one sequence per class) ≈ each other setting
EQUAL_TO_SPARSE1 = ("sparse4", "all data", "sparse comparison", "comparison")


def _by_instance(d: pd.DataFrame, column: str) -> dict[int, float]:
    return {int(i): float(a) for i, a in zip(d.instance, d[column])}


def _aligned(*runs: dict) -> list[dict]:
    """The runs restricted to the instances all of them have (a missing instance leaves the claim pending)."""
    common = set.intersection(*(set(r) for r in runs)) if runs else set()
    return [{i: r[i] for i in sorted(common)} for r in runs]


def thesis_sparsity_runs(setting: str, k: int, profile: str) -> list[float] | None:
    """The thesis's per-instance values of a sparsity setting: 'all data' is its noise-table row at the best σ."""
    if setting == "all data":
        return reference.LSTM_NOISE_RUNS.get((get_profile(profile).best_sigma[k], k))
    return reference.LSTM_SPARSITY_RUNS.get((setting, k))


def noise_claims(noise: Collected) -> dict[str, V.Verdict]:
    """Finding 1: σ 0.3 beats σ 0, per class count (paired by instance)."""
    p = get_profile(noise.profile)
    if not {0.0, NOISE_CLAIM_SIGMA} <= set(p.noise_sigmas):
        return {}
    df = ic_frame(noise)
    df = df[df.variant == "all"]
    out = {}
    for k in p.noise_class_counts:
        runs = (_by_instance(df[(df.k == k) & (df.sigma == s)], "accuracy") for s in (NOISE_CLAIM_SIGMA, 0.0))
        a, b = _aligned(*runs)
        out[f"noise_k{k}"] = V.compare(
            a, b, reference.LSTM_NOISE_RUNS[(NOISE_CLAIM_SIGMA, k)], reference.LSTM_NOISE_RUNS[(0.0, k)],
            claim=f"{k} classes: σ {NOISE_CLAIM_SIGMA:g} beats σ 0", source_label=NOISE_SOURCE,
            expected_n=p.instances)
    return out


def _judge_pair(runs_a: dict, runs_b: dict, k: int, a: str, b: str, kind: str, profile: str,
                qualifier: str = "") -> V.Verdict:
    """One paired claim of the sparsity comparison, "{a} beats / ≈ {b}" at k classes, against the thesis's runs
    (``qualifier`` follows the name of setting a in the claim)."""
    x, y = _aligned(runs_a, runs_b)
    verb = "≈" if kind == V.EQUAL else "beats"
    return V.compare(x, y, thesis_sparsity_runs(a, k, profile), thesis_sparsity_runs(b, k, profile), kind=kind,
                     claim=f"{k} classes: {LABELS[a]}{qualifier} {verb} {LABELS[b]}", source_label=SPARSITY_SOURCE,
                     expected_n=get_profile(profile).instances)


def sparsity_claims(sparse: Collected) -> dict[str, V.Verdict]:
    """Finding 2, the blog's claims on sparse data: for 2 and 4 classes the five settings are about equal (sparse1
    ≈ each other setting); for 20 classes the forward classifier on all data is best of the five, inverse
    classification gets better with less data (sparse4 beats all data, sparse1 beats sparse4), and sparse1 is as
    good as the forward classifier on the same centres."""
    p = get_profile(sparse.profile)
    df = sparsity_frame(sparse)

    def ours(k, setting):
        return _by_instance(df[(df.k == k) & (df.setting == setting)], "thesis_rule")

    def source(k, setting):
        return thesis_sparsity_runs(setting, k, sparse.profile)

    def pair(k, a, b, kind, key):
        out[key] = _judge_pair(ours(k, a), ours(k, b), k, a, b, kind, sparse.profile)

    out = {}
    for k in (k for k in p.sparsity_class_counts if k in (2, 4)):
        for other in EQUAL_TO_SPARSE1:
            pair(k, "sparse1", other, V.EQUAL, f"equal_k{k}_{other.replace(' ', '_')}")
    if 20 in p.sparsity_class_counts:
        settings = list(LABELS)
        # aligned on the same instances, passed in instance order (ic.verdict.best takes sequences)
        runs = dict(zip(settings, (list(r.values()) for r in _aligned(*(ours(20, s) for s in settings)))))
        with warnings.catch_warnings():        # no runs yet: 'pending', after numpy's warning on an empty mean
            warnings.simplefilter("ignore", RuntimeWarning)
            out["best_k20"] = V.best({LABELS[s]: runs[s] for s in settings},
                                     {LABELS[s]: source(20, s) for s in settings}, LABELS["comparison"],
                                     claim="20 classes: forward all data beats the four others",
                                     source_label=SPARSITY_SOURCE, expected_n=p.instances)
        pair(20, "sparse4", "all data", V.BEATS, "less_data_k20_sparse4")
        pair(20, "sparse1", "sparse4", V.BEATS, "less_data_k20_sparse1")
        pair(20, "sparse1", "sparse comparison", V.EQUAL, "equal_k20_sparse_comparison")
    return out


#: the 20-class claims on sparse1 that the sparse control judges again with its generators
CONTROL_CLAIMS = {"less_data_k20_sparse1": ("sparse4", V.BEATS), "equal_k20_sparse_comparison":
                  ("sparse comparison", V.EQUAL)}


def control_claims(sparse: Collected, control: Collected) -> dict[str, V.Verdict]:
    """The 20-class claims on sparse1 (claims 2k and 2l of the chapter) judged again with the sparse1 generators
    trained to convergence (the sparse control): their IC runs at the profile's iterations and loss, paired by
    instance with the sparsity comparison's runs of the other setting."""
    p = get_profile(sparse.profile)
    if 20 not in p.sparsity_class_counts:
        return {}
    fields = {**IC_FIELDS, "control": lambda j, r: is_sparse_control(j.config["gen_config"]),
              "default_ic": lambda j, r: "loss" not in j.config and j.config["iterations"] == p.ic_iterations}
    ic = frame(control, "ic", fields)
    ic = ic[ic.control & ic.default_ic & (ic.k == 20) & (ic.variant == "sparse1")] if len(ic) else ic
    converged = _by_instance(ic, "accuracy") if len(ic) else {}
    df = sparsity_frame(sparse)
    return {key: _judge_pair(converged, _by_instance(df[(df.k == 20) & (df.setting == other)], "thesis_rule"), 20,
                             "sparse1", other, kind, sparse.profile, " (trained to convergence)")
            for key, (other, kind) in CONTROL_CLAIMS.items()}


def numbered(claims: dict[str, V.Verdict], finding: int) -> dict[str, V.Verdict]:
    """The claims of one finding with their numbers in front: '1a. …', '1b. …'."""
    return {key: replace(v, claim=f"{finding}{letter}. {v.claim}")
            for letter, (key, v) in zip(ascii_lowercase, claims.items())}


def chapter_claims(noise: Collected, sparse: Collected) -> dict[str, V.Verdict]:
    """Every numbered claim of the chapter, in order (key → verdict); ``V.claims_table(list(...values()))``."""
    return {**numbered(noise_claims(noise), 1), **numbered(sparsity_claims(sparse), 2)}
