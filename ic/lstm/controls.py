"""Controls and diagnostics of the LSTM chapter beyond the sources' tables: the convergence rule applied to the
tables, the sparse-generator control, the batch-1 check, the IC sensitivity (iterations, loss scale), the final
vectors (the thesis's Table 5.1 RMSE, where 20-class predictions go, what failing instances do) and the heat-map
metric's calibration. Every paired comparison of two of our settings is judged by :func:`ic.verdict.effect`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import reference
from .. import verdict as V
from ..report import Collected, difference_text, frame, summary_columns, summary_text
from .convergence import convergence_frame
from .frames import IC_FIELDS, SETTING_FIELDS, VARIANT_NAMES, ic_frame
from .heatmap import boundary_offset, diagonal_agreement
from .jobs import is_sparse_control
from .profiles import get_profile

#: the thesis's Table 5.1 rows by our setting names (the 'all data' row is its noise row at the best σ)
_RMSE_ROWS = {"σ 0": 0.0, "σ 0.1": 0.1, "σ 0.2": 0.2, "σ 0.3": 0.3, "σ 0.4": 0.4}


def _by_instance(d: pd.DataFrame, column: str = "accuracy") -> dict[int, float]:
    return {int(i): float(v) for i, v in zip(d.instance, d[column]) if v == v}      # NaN: not run


def _pair(a: dict, b: dict) -> tuple[dict, dict]:
    common = sorted(set(a) & set(b))
    return {i: a[i] for i in common}, {i: b[i] for i in common}


def effect_row(label: str, a: dict, b: dict, expected_n: int | None = None, **extra) -> dict:
    """A row of a paired comparison table: both means, the paired verdict of A − B and its interval, and the
    per-instance values as 'B → A'."""
    a, b = _pair(a, b)
    v = V.effect(a, b, claim=label, expected_n=expected_n)
    return {"comparison": label, **summary_columns("a", list(a.values())), **summary_columns("b", list(b.values())),
            "diff": v.estimate, "lo": v.lo, "hi": v.hi, "p": v.p, "verdict": v.verdict, "note": v.note,
            "runs": ", ".join(f"{b[i]:.2f} → {a[i]:.2f}" for i in a), **extra}


def _effect_display(a_label: str, b_label: str, means: bool = True) -> dict:
    """How a table of :func:`effect_row` rows is shown; ``means=False`` leaves out the two means (the per-instance
    values carry them) where a table has many rows."""
    return {"comparison": "comparison", **({a_label: "a", b_label: "b"} if means else {}),
            "difference (95 % interval)": lambda r: "—" if math.isnan(r["diff"]) else
            difference_text(r["diff"], r["lo"], r["hi"]), "verdict": "verdict",
            f"per instance ({b_label} → {a_label})": "runs"}


# ------------------------------------------------------------------------------------------ convergence rule
def gen_converged(*cols: Collected) -> dict[str, bool]:
    """Generator key → whether it meets the convergence rule (judged among the peers of its setting)."""
    f = pd.concat([convergence_frame(c) for c in cols]).drop_duplicates("key")
    return dict(zip(f.key, f.converged))


def with_convergence(ic: pd.DataFrame, col: Collected, converged: dict[str, bool]) -> pd.DataFrame:
    """``ic`` (an :func:`ic_frame` of ``col``) with a column ``converged``: its generator meets the rule."""
    keys = [j.config["generator"] for j in col.jobs if j.kind == "ic" and j.key in col.records]
    return ic.assign(converged=[converged.get(k, False) for k in keys])


def noise_table_converged(noise: Collected, converged: dict[str, bool]) -> pd.DataFrame:
    """The noise table over all generators and over the converged ones only (σ × k; the thesis's runs are kept in
    the numeric table, the noise table beside it shows them)."""
    df = with_convergence(ic_frame(noise), noise, converged)
    df = df[df.variant == "all"]
    p = get_profile(noise.profile)
    rows = []
    for sigma in p.noise_sigmas:
        for k in p.noise_class_counts:
            d = df[(df.k == k) & (df.sigma == sigma)]
            conv = d[d.converged]
            thesis = reference.LSTM_NOISE_RUNS.get((sigma, k), [])
            rows.append({"sigma": sigma, "k": k, **summary_columns("thesis", thesis),
                         **summary_columns("all", d.accuracy),
                         **summary_columns("conv", conv.accuracy),
                         "excluded": ", ".join(f"#{int(i)} ({a:.2f})" for i, a in
                                               zip(d[~d.converged].instance, d[~d.converged].accuracy))})
    out = pd.DataFrame(rows)
    out.attrs["display"] = {"σ": lambda r: f"{r['sigma']:g}", "classes": "k", "ours, all models": "all",
                            "ours, converged models": lambda r: "—" if r["conv_n"] == 0 else summary_text(r, "conv"),
                            "not converged (IC accuracy)": "excluded"}
    return out


def convergence_rule_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The rule's result per setting (from :func:`ic.lstm.convergence.convergence_summary`), named as the chapter
    names settings."""
    s = summary.copy()
    s["model"] = np.where(s.kind == "train_gen", "generator", "forward")
    s["data"] = [VARIANT_NAMES[v] + ("" if f == 1.0 else f" ×{f:g}") for v, f in zip(s.variant, s.train_fraction)]
    s["noise"] = ["—" if (isinstance(x, float) and math.isnan(x)) else f"σ {x:g}" + (" renorm." if r else "")
                  for x, r in zip(s.sigma, s.renormalise)]
    s = s.sort_values(["k", "kind", "variant", "sigma", "batch_size", "schedule"], na_position="first")
    s.attrs["display"] = {
        "models": lambda r: f"{int(r['k'])} classes, {r['model']}, {r['data']}" + (
            "" if r["noise"] == "—" else f", {r['noise']}"),
        "training": lambda r: ("batch 1" if r["batch_size"] == 1 else "minibatch") + f", {r['schedule']}, " + (
            f"{r['epochs_min']}" if r["epochs_min"] == r["epochs_max"] else f"{r['epochs_min']}–{r['epochs_max']}")
            + " epochs",
        "best monitored loss: median (range)":
            lambda r: f"{r['best_median']:.3f} ({r['best_min']:.3f}–{r['best_max']:.3f})",
        "finished · at level · converged":
            lambda r: f"{r['finished']} · {r['at_level']} · {r['converged']} of {r['n']}"}
    return s


def converged_counts(summary: pd.DataFrame) -> str:
    """'k classes [variant]: c of n; …' for the settings of a :func:`convergence_summary` frame."""
    return "; ".join(f"{int(r.k)} classes{'' if r.variant == 'all' else ' ' + r.variant}: {int(r.converged)} of "
                     f"{int(r.n)}" for r in summary.itertuples())


# ------------------------------------------------------------------------------------------ sparse control
GEN_FIT = {"key": lambda j, r: j.key, "k": "config.k", "variant": "config.variant", "instance": "seed",
           "control": lambda j, r: is_sparse_control(j.config), "steps": "result.fit.steps",
           "train_mse": "result.train_mse_clean_inputs"}


def sparse_control_table(sparse: Collected, control: Collected, diag: Collected) -> pd.DataFrame:
    """Per class count and sparse variant: the generators of the sparsity comparison (fixed step count) against
    the control trained to the convergence rule — steps, fit to their own sequences, converged (rule), IC and
    vertex decoding — with the paired verdict on IC accuracy."""
    fits = pd.concat([frame(c, "train_gen", GEN_FIT) for c in (sparse, control)]).drop_duplicates("key")
    conv = pd.concat([convergence_frame(c) for c in (sparse, control)]).drop_duplicates("key")
    fits = fits.merge(conv[["key", "converged"]], on="key").astype({"control": bool, "converged": bool})
    ic = pd.concat([frame(c, "ic", {**IC_FIELDS, "generator": "config.generator"}) for c in (sparse, control)])
    vx = frame(diag, "vertex", {"generator": "config.generator", "vertex": "result.accuracy"})
    vx = pd.concat([vx, frame(control, "vertex", {"generator": "config.generator", "vertex": "result.accuracy"})])
    ic = ic[ic.variant != "all"].drop_duplicates("generator").merge(vx.drop_duplicates("generator"), on="generator",
                                                                   how="left")
    ic = ic.merge(fits[["key", "control"]], left_on="generator", right_on="key").astype({"control": bool})
    p = get_profile(control.profile)
    rows = []
    for k, variant in ((k, v) for k in p.sparse_control_class_counts for v in p.sparse_control_variants):
        f = fits[(fits.k == k) & (fits.variant == variant)]
        d = ic[(ic.k == k) & (ic.variant == variant)]
        fixed, ctrl = d[~d.control], d[d.control]
        ff, fc = f[~f.control], f[f.control]
        verdict = effect_row("", _by_instance(ctrl), _by_instance(fixed), len(ff))
        vx_verdict = effect_row("", _by_instance(ctrl, "vertex"), _by_instance(fixed, "vertex"), len(ff))
        centre = frame(diag, "nearest_centre", {"k": "config.k", "variant": "config.variant",
                                                "accuracy": "result.accuracy"})
        centre = centre[(centre.k == k) & (centre.variant == variant)].accuracy
        rows.append({"k": k, "variant": variant, "steps_fixed": ff.steps.mean(),
                     "steps_control_min": fc.steps.min() if len(fc) else math.nan,
                     "steps_control_max": fc.steps.max() if len(fc) else math.nan,
                     **summary_columns("mse_fixed", ff.train_mse),
                     **summary_columns("mse_control", fc.train_mse), "conv_fixed": int(ff.converged.sum()),
                     "conv_control": int(fc.converged.sum()), "n_fixed": len(ff), "n_control": len(fc),
                     **summary_columns("ic_fixed", fixed.accuracy), **summary_columns("ic_control", ctrl.accuracy),
                     **summary_columns("vx_fixed", fixed.vertex), **summary_columns("vx_control", ctrl.vertex),
                     **{f"effect_{c}": verdict[c] for c in ("diff", "lo", "hi", "verdict", "note")},
                     **{f"vx_effect_{c}": vx_verdict[c] for c in ("diff", "lo", "hi", "verdict")},
                     **summary_columns("centre", centre)})
    out = pd.DataFrame(rows)
    out.attrs["display"] = {
        "classes": "k", "data": "variant",
        "optimiser steps (fixed | to convergence)": lambda r: f"{r['steps_fixed']:.0f} | " + (
            "not run yet" if math.isnan(r["steps_control_min"]) else
            f"{r['steps_control_min']:.0f}–{r['steps_control_max']:.0f}"),
        "MSE on own sequences (fixed | to convergence)": lambda r: f"{summary_text(r, 'mse_fixed', 3)} | "
                                                                  f"{summary_text(r, 'mse_control', 3)}",
        "converged (rule)": lambda r: f"{r['conv_fixed']}/{r['n_fixed']} | {r['conv_control']}/{r['n_control']}",
        "IC (fixed | to convergence)": lambda r: f"{summary_text(r, 'ic_fixed')} | {summary_text(r, 'ic_control')}",
        "vertex decoding (fixed | to convergence)": lambda r: f"{summary_text(r, 'vx_fixed')} | "
                                                              f"{summary_text(r, 'vx_control')}",
        "IC gain (95 % interval), verdict": lambda r: "—" if math.isnan(r["effect_diff"]) else
        f"{difference_text(r['effect_diff'], r['effect_lo'], r['effect_hi'])}, {r['effect_verdict']}"}
    return out


# ------------------------------------------------------------------------------------------ paired checks
def protocol_effect(noise: Collected, protocol: Collected) -> pd.DataFrame:
    """Batch-1 (the thesis's protocol) against our minibatch models of the same setting, split and seed."""
    check = get_profile(noise.profile).protocol_check
    a = ic_frame(noise)
    a = a[(a.k == check.k) & (a.sigma == check.sigma) & (a.variant == "all") & (a.batch_size != 1)]
    b = ic_frame(protocol)
    out = pd.DataFrame([effect_row(f"{check.k} classes, σ {check.sigma:g}: batch 1 − minibatch", _by_instance(b),
                                   _by_instance(a), check.instances,
                                   failures_b1=int((b.accuracy < _failure_line(check.k)).sum()),
                                   failures_mb=int((a.accuracy < _failure_line(check.k)).sum()))])
    out.attrs["display"] = {**_effect_display("batch 1 (thesis)", "minibatch (ours)"),
                            "failures (batch 1 | minibatch)": lambda r: f"{r['failures_b1']} | {r['failures_mb']}"}
    return out


def _failure_line(k: int) -> float:
    """An instance 'fails' below the midpoint between chance and a perfect score (0.75 for 2 classes)."""
    return (reference.CHANCE[k] + 1.0) / 2


def ablation_effects(noise: Collected, renorm: Collected) -> pd.DataFrame:
    """The renormalisation ablation as paired verdicts (renormalised − clip-only, same splits and seeds)."""
    a, b = ic_frame(noise), ic_frame(renorm)
    p = get_profile(noise.profile)
    rows = []
    for k in p.renormalise_class_counts:
        s = p.best_sigma[k]
        clip = a[(a.k == k) & (a.sigma == s) & (a.variant == "all")]
        rows.append(effect_row(f"{k} classes, σ {s:g}: renormalised − clip only", _by_instance(b[b.k == k]),
                               _by_instance(clip), p.instances))
    out = pd.DataFrame(rows)
    out.attrs["display"] = _effect_display("clip + renormalise (blog)", "clip only (thesis code)")
    return out


def noise_step_effects(noise: Collected) -> pd.DataFrame:
    """Each step up the noise ladder (σ → the next σ) per class count, paired by instance, with the thesis's
    difference of means beside it."""
    df = ic_frame(noise)
    df = df[df.variant == "all"]
    p = get_profile(noise.profile)
    rows = []
    for k in p.noise_class_counts:
        for lo, hi in zip(p.noise_sigmas[:-1], p.noise_sigmas[1:]):
            at = [_by_instance(df[(df.k == k) & (df.sigma == s)]) for s in (hi, lo)]
            t_hi, t_lo = (reference.LSTM_NOISE_RUNS.get((s, k)) for s in (hi, lo))
            thesis = float(np.mean(t_hi) - np.mean(t_lo)) if t_hi and t_lo else math.nan
            rows.append(effect_row(f"{k} classes: σ {hi:g} − σ {lo:g}", *at, p.instances, k=k, thesis_diff=thesis))
    out = pd.DataFrame(rows)
    out.attrs["display"] = {**_effect_display("higher σ", "lower σ", means=False),
                            "thesis: difference of means": "thesis_diff"}
    return out


def sensitivity_table(base: Collected, sens: Collected) -> pd.DataFrame:
    """IC of the same generators with the sources' settings (200 iterations, loss = mean over all elements) against
    500 iterations and against the thesis code's loss scale (per-step MSE summed over time), paired."""
    p = get_profile(sens.profile)
    fields = {**IC_FIELDS, "generator": "config.generator", "iterations": "config.iterations",
              "loss": ("config.loss", "mean"), "starts": ("config.starts", "uniform"),
              "max_entry": ("result.max_entry_mean", math.nan)}
    d = pd.concat([frame(c, "ic", fields) for c in (base, sens)]).drop_duplicates(["generator", "iterations", "loss",
                                                                                     "starts"])
    d = d[d.starts == "uniform"]
    gens = set(frame(sens, "ic", {"generator": "config.generator"}).generator)
    d = d[d.generator.isin(gens)]
    rows = []
    for (k, sigma, variant), g in d.groupby(["k", "sigma", "variant"]):
        ref = g[(g.iterations == p.ic_iterations) & (g.loss == "mean")]
        setting = f"{k} classes, {VARIANT_NAMES[variant]}{' (to convergence)' if variant != 'all' else ''}, σ {sigma:g}"
        for label, alt in ((f"{p.ic_long_iterations} iterations", g[g.iterations == p.ic_long_iterations]),
                           ("loss summed over time", g[g.loss == "sum_over_time"])):
            rows.append(effect_row(f"{setting}: {label}", _by_instance(alt), _by_instance(ref), p.instances))
    out = pd.DataFrame(rows)
    out.attrs["display"] = _effect_display("variant", "sources' settings", means=False)
    return out


# ------------------------------------------------------------------------------------------ final vectors
def uniform_rmse(k: int) -> float:
    """RMSE between the uniform vector 1/k and a one-hot vector: the score of a vector that never moved."""
    return math.sqrt((k - 1) / k**2)


def rmse_table(noise: Collected, sparse: Collected) -> pd.DataFrame:
    """The thesis's Table 5.1 (mean RMSE between the final class vector — or the forward softmax — and the
    one-hot label) beside ours, per class count and setting, with the uniform vector's RMSE."""
    ic = pd.concat([ic_frame(noise), ic_frame(sparse)]).drop_duplicates(["k", "sigma", "variant", "instance",
                                                                          "batch_size"])
    ic = ic[ic.batch_size != 1]
    fwd = frame(sparse, "train_fwd", {**SETTING_FIELDS, "rmse": "result.rmse_mean"})
    fwd = fwd[fwd.train_fraction == 1.0]
    p = get_profile(noise.profile)
    rows = []
    for k in p.class_counts:
        settings = [(name, ic[(ic.k == k) & (ic.variant == "all") & (ic.sigma == s)].rmse)
                    for name, s in _RMSE_ROWS.items()]
        settings += [(v, ic[(ic.k == k) & (ic.variant == v) & (ic.sigma == p.best_sigma[k])].rmse)
                     for v in ("sparse1", "sparse4")]
        settings += [(name, fwd[(fwd.k == k) & (fwd.variant == v)].rmse)
                     for name, v in (("comparison", "all"), ("sparse comparison", "sparse4"))]
        for name, values in settings:
            rows.append({"k": k, "setting": name, "thesis": reference.LSTM_RMSE.get(k, {}).get(name, math.nan),
                         **summary_columns("ours", values), "uniform": uniform_rmse(k)})
    out = pd.DataFrame(rows)
    out.attrs["display"] = {"classes": "k", "setting": "setting",
                            "thesis (Table 5.1)": lambda r: "—" if math.isnan(r["thesis"]) else f"{r['thesis']:.2f}",
                            "ours (mean ± sd)": lambda r: summary_text(r, "ours"),
                            "uniform vector": "uniform"}
    return out


def _prediction_fields() -> dict:
    return {**IC_FIELDS, "predictions": "result.predictions", "labels": "result.labels",
            "max_entry": ("result.max_entry_mean", math.nan), "starts": ("config.starts", "uniform"),
            "iterations": "config.iterations", "loss": ("config.loss", "mean")}


def ic_predictions(*cols: Collected) -> pd.DataFrame:
    """IC runs with the sources' settings, with their per-probe predictions and labels."""
    d = pd.concat([frame(c, "ic", _prediction_fields()) for c in cols])
    d = d[(d.starts == "uniform") & (d.loss == "mean")]
    return d.drop_duplicates(["k", "sigma", "variant", "instance", "batch_size", "iterations"])


def pileup_table(noise: Collected, sparse: Collected, k: int = 20) -> pd.DataFrame:
    """Where the predictions go at ``k`` classes: per setting, the mean largest entry of the final vectors, the
    share of predictions on each run's most predicted class and on its three most predicted, and how many classes
    a run never predicts (a balanced test split gives about 1/k and 3/k)."""
    d = ic_predictions(noise, sparse)
    d = d[(d.k == k) & (d.batch_size != 1)]
    d = d[(d.variant != "all") | d.sigma.isin(get_profile(noise.profile).noise_sigmas)]
    rows = []
    for (variant, sigma), g in d.groupby(["variant", "sigma"]):
        shares = [np.sort(np.bincount(p, minlength=k))[::-1] / len(p) for p in g.predictions]
        rows.append({"variant": variant, "sigma": sigma, **summary_columns("acc", g.accuracy),
                     **summary_columns("max_entry", g.max_entry), "top1": float(np.mean([s[0] for s in shares])),
                     "top3": float(np.mean([s[:3].sum() for s in shares])),
                     "unused": float(np.mean([(s == 0).sum() for s in shares])), "n": len(g)})
    columns = ["variant", "sigma", *summary_columns("acc", []), *summary_columns("max_entry", []), "top1", "top3",
               "unused", "n"]
    out = pd.DataFrame(rows, columns=columns)
    out.attrs["display"] = {"training data": lambda r: VARIANT_NAMES[r["variant"]], "σ": "sigma", "IC accuracy": "acc",
                            "largest entry of the final vector": "max_entry",
                            "on the most predicted class": "top1", "on the three most predicted": "top3",
                            "classes never predicted": "unused", "n": "n"}
    return out


def confusion(noise: Collected, sparse: Collected, k: int, sigma: float, variant: str = "all") -> np.ndarray:
    """Confusion matrix (true × predicted, rows normalised) of a setting, summed over its instances."""
    d = ic_predictions(noise, sparse)
    d = d[(d.k == k) & (d.sigma == sigma) & (d.variant == variant) & (d.batch_size != 1)]
    m = np.zeros((k, k))
    for p, y in zip(d.predictions, d.labels):
        np.add.at(m, (np.asarray(y), np.asarray(p)), 1)
    return m / np.maximum(m.sum(axis=1, keepdims=True), 1)


def failing_runs(noise: Collected, multi: Collected | None = None) -> pd.DataFrame:
    """Every noise-table IC run below the failure line (midpoint of chance and 1): its accuracy, how far its final
    vectors left the uniform start (mean largest entry; uniform = 1/k) and the share of its predictions on one
    class — what a failing instance does."""
    d = ic_predictions(noise)
    d = d[(d.variant == "all") & (d.batch_size != 1) & (d.k != 20)]
    d = d[d.accuracy < d.k.map(_failure_line)]
    d = d.assign(modal_share=[np.bincount(p).max() / len(p) for p in d.predictions],
                 modal_class=[int(np.bincount(p).argmax()) for p in d.predictions])
    out = d[["k", "sigma", "instance", "accuracy", "max_entry", "modal_share", "modal_class"]].sort_values(
        ["k", "sigma", "instance"]).reset_index(drop=True)
    out.attrs["display"] = {"classes": "k", "σ": "sigma", "instance": lambda r: f"#{int(r['instance'])}",
                            "IC accuracy": "accuracy", "largest entry of the final vector (mean)": "max_entry",
                            "share of predictions on one class": "modal_share",
                            "that class": lambda r: "abcd"[int(r["modal_class"])]}
    return out


# ------------------------------------------------------------------------------------------ heat-map metric
def _decision_maps(says_a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dist_a = np.where(says_a, 0.0, 1.0)
    return dist_a, 1.0 - dist_a


def reference_boundaries(steps: int = 11) -> dict[str, np.ndarray]:
    """Idealised decision maps (True = 'a') on the heat-map grid (rows: the 'a' entry, columns: the 'b' entry):
    the boundary on the diagonal, a centred vertical boundary (the source's σ 0 panel: 'a' whenever the 'b' entry
    is below 0.5), the source's σ 0.1 panel ('a' needs a lead of 0.25), and one answer everywhere."""
    a, b = np.meshgrid(np.linspace(0, 1, steps), np.linspace(0, 1, steps), indexing="ij")
    return {"on the diagonal": a > b, "vertical, centred ('b' below 0.5)": b < 0.5 - 1e-9,
            "step above the diagonal (lead 0.25)": a > b + 0.25 - 1e-9, "always 'a'": np.ones_like(a, dtype=bool)}


def heatmap_calibration(steps: int = 11) -> pd.DataFrame:
    """What the two heat-map numbers give for the idealised boundaries: diagonal agreement and boundary offset."""
    rows = [{"boundary": name, "agreement": diagonal_agreement(*_decision_maps(m)),
             "offset": boundary_offset(*_decision_maps(m))} for name, m in reference_boundaries(steps).items()]
    out = pd.DataFrame(rows)
    out.attrs["display"] = {"boundary": "boundary", "diagonal agreement": "agreement", "boundary offset": "offset"}
    return out


def boundary_shapes(heatmaps: pd.DataFrame, metric: str = "dtw") -> pd.DataFrame:
    """Per heat map (a :func:`ic.lstm.frames.heatmap_frame`): the share of grid cells on which its decision agrees
    with each idealised boundary — which published panel an instance resembles."""
    refs = reference_boundaries(heatmaps[f"{metric}_a"].iloc[0].shape[0]) if len(heatmaps) else {}
    rows = []
    for _, r in heatmaps.iterrows():
        says_a = r[f"{metric}_a"] < r[f"{metric}_b"]
        rows.append({"sigma": r["sigma"], "instance": int(r["instance"]),
                     **{name: float((says_a == m).mean()) for name, m in refs.items()}})
    out = pd.DataFrame(rows)
    out.attrs["display"] = {"σ": "sigma", "instance": lambda r: f"#{int(r['instance'])}",
                            **{f"agrees with: {n}": n for n in refs}}
    return out


def early_best_models(*cols: Collected, fraction: float = 0.1) -> pd.DataFrame:
    """Trained models whose kept checkpoint (best monitored loss) lies in the first ``fraction`` of the epochs they
    ran — a model that collapsed or saturated early and never improved afterwards — with their test accuracy."""
    f = pd.concat([convergence_frame(c) for c in cols]).drop_duplicates("key")
    f = f[f.best_epoch + 1 <= fraction * f.epochs_run]
    acc = {}
    for c in cols:
        for j in c.jobs:
            r = c.get(j)
            if r is not None and j.kind == "train_fwd":
                acc[j.key] = (r["accuracy"], r.get("accuracy_strict", math.nan))
    out = f.assign(accuracy=[acc.get(k, (math.nan, math.nan))[0] for k in f.key],
                   accuracy_strict=[acc.get(k, (math.nan, math.nan))[1] for k in f.key])
    out = out.sort_values(["k", "kind", "variant", "instance"]).reset_index(drop=True)
    out.attrs["display"] = {"classes": "k", "model": lambda r: "generator" if r["kind"] == "train_gen" else "forward",
                            "data": lambda r: VARIANT_NAMES[r["variant"]],
                            "instance": lambda r: f"#{int(r['instance'])}",
                            "kept epoch": lambda r: str(int(r["best_epoch"]) + 1), "epochs run": "epochs_run",
                            "best monitored loss": "best_loss", "test accuracy (argmax | strict rule)":
                            lambda r: "—" if math.isnan(r["accuracy"]) else
                            f"{r['accuracy']:.2f} | {r['accuracy_strict']:.2f}"}
    return out


# ------------------------------------------------------------------------------------------ sentences
def _interval(r, stem: str = "") -> str:
    d, lo, hi, v = (r[f"{stem}{c}"] for c in ("diff", "lo", "hi", "verdict"))
    return f"{d:+.2f} (95 % interval {lo:+.2f} to {hi:+.2f}; {v})"


def protocol_finding(table: pd.DataFrame, instances: int) -> str:
    """The chapter's sentence on :func:`protocol_effect`."""
    r = table.iloc[0]
    if r["verdict"] == V.PENDING:
        return (f"So far {int(r['a_n'])} of {instances} instances have run with batch 1; the paired verdict waits for "
                f"all of them.")
    meaning = {V.HIGHER: "batch-1 training is better, so some failures are an artefact of our minibatch protocol",
               V.LOWER: "minibatch training is better here",
               V.EQUIVALENT: "the two protocols give the same accuracy within ±0.05",
               V.INCONCLUSIVE: "five instances cannot tell whether minibatches cause some of the failures"}
    return (f"Over all {int(r['a_n'])} instances batch 1 minus minibatch is {_interval(r)}: "
            f"{meaning.get(r['verdict'], r['verdict'])}. Below 0.75 fall {r['failures_b1']} batch-1 and "
            f"{r['failures_mb']} minibatch instances.")


def sparse_control_finding(row: pd.Series) -> str:
    """The chapter's sentence on a row of :func:`sparse_control_table`."""
    name = f"{int(row['k'])}-class {row['variant']}"
    n, planned = int(row["n_control"]), int(row["n_fixed"])
    if n == 0:
        return f"The control of the {name} generators has not run yet."
    if row["effect_verdict"] == V.PENDING or int(row["ic_control_n"]) < planned:
        return (f"So far {n} of {planned} {name} generators have been trained to convergence; the paired verdict "
                f"waits for all of them.")
    lo, hi = row["steps_control_min"], row["steps_control_max"]
    steps = f"{lo:.0f}" if lo == hi else f"{lo:.0f}–{hi:.0f}"
    return (f"Trained to convergence, the {name} generators ran {steps} optimiser steps instead of "
            f"{row['steps_fixed']:.0f}; they fit their own "
            f"sequences to an MSE of {summary_text(row, 'mse_control', 3)} "
            f"(before: {summary_text(row, 'mse_fixed', 3)}), "
            f"decode {summary_text(row, 'vx_control')} at their vertices (before: {summary_text(row, 'vx_fixed')}) and "
            f"classify {summary_text(row, 'ic_control')} by inversion (before: {summary_text(row, 'ic_fixed')}); the "
            f"paired change of the inversion is {_interval(row, 'effect_')}, of the vertex decoding "
            f"{_interval(row, 'vx_effect_')}. " + _control_reading(row))


def _control_reading(row: pd.Series) -> str:
    """What the control says about where the 20-class sparse result is lost, from its two paired verdicts and the
    nearest centre of the same sequences (within the accuracy margin: 'as well as')."""
    margin = V.ACCURACY.margin
    generator_caught_up = row["vx_control_mean"] >= row["centre_mean"] - margin
    inversion_gained = row["effect_verdict"] == V.HIGHER
    if row["vx_effect_verdict"] == V.HIGHER and not inversion_gained:
        held = ("now decode about as well as the nearest centre on the same sequences "
                f"({summary_text(row, 'centre')})" if generator_caught_up else "hold more of the classes")
        gain = ("does not gain" if row["effect_verdict"] == V.EQUIVALENT else
                f"gains no more than the data can tell (at most {row['effect_hi']:+.2f})")
        return (f"The converged generators {held}, and the inversion {gain}. On the same generators, decoding at "
                f"the vertices reaches {summary_text(row, 'vx_control')} and inversion from the uniform start "
                f"{summary_text(row, 'ic_control')}: at 20 classes most of the accuracy is lost in the inversion, "
                f"not in the generators' training.")
    if inversion_gained:
        return "Training to convergence raises the inversion too: part of the first result was under-training."
    return "Neither the generators' vertices nor the inversion change by more than the data can tell."


def sensitivity_finding(table: pd.DataFrame | None) -> str:
    """The chapter's sentence on :func:`sensitivity_table`: each comparison with its verdict."""
    if table is None or table.empty or (table.verdict == V.PENDING).all():
        return "The test of the inversion's iterations and loss scale has not run yet."
    done = table[table.verdict != V.PENDING]
    parts = [f"{r['comparison']}: {_interval(r)}" for _, r in done.iterrows()]
    waiting = len(table) - len(done)
    return ("Against the sources' settings on the same generators — " + "; ".join(parts) + "."
            + (f" {waiting} more comparison{'s' if waiting > 1 else ''} still running." if waiting else ""))


def revision_cost(protocol: Collected, control: Collected, sens: Collected, first_instances: int = 3) -> dict:
    """CPU hours of the jobs added by the chapter's revision — the batch-1 instances beyond the first
    ``first_instances``, the sparse-generator control, the IC sensitivity with its replica generators — spent so
    far and still expected (the jobs' cost estimates)."""
    new = [(c, j) for c in (protocol, control, sens) for j in c.jobs
           if not (c is protocol and j.seed < first_instances)]
    seen, spent, to_go = set(), 0.0, 0.0
    for c, j in new:
        if j.key in seen:
            continue
        seen.add(j.key)
        if j.key in c.records:
            spent += c.records[j.key]["cpu_time_s"]
        else:
            to_go += j.cost_s
    return {"spent_h": spent / 3600, "to_go_h": to_go / 3600}
