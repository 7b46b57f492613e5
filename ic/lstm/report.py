"""Tables of the LSTM chapter, built from the results store (figures: :mod:`ic.lstm.figures`).

Every table is numeric (summaries as ``<stem>_mean/_std/_n``) and carries how the book shows it
(:func:`ic.report.public`). The notebooks collect a part of the study with :func:`collect` and glue numbers with
:func:`ic.report.summary_text`. Every verdict comes from :mod:`ic.verdict` (levels here, the chapter's claims in
:mod:`ic.lstm.claims`).
"""

from __future__ import annotations

import math

import pandas as pd

from .. import reference
from .. import report as base
from .. import verdict as V
from ..report import (STD_NOTE, Collected, frame, interval_text, level_columns, public, summary_columns,  # noqa: F401
                      summary_text)
from .claims import thesis_sparsity_runs
from .data import load_data, make_split
from .frames import (MULTISTART_FIELDS, SETTING_FIELDS, VARIANT_NAMES, diagnostic_frame, fit_frame,  # noqa: F401
                     heatmap_frame, ic_frame, sparsity_frame)
from .profiles import get_profile
from .study import STUDY

SETTING_ORDER = ["sparse1", "sparse4", "all data", "sparse comparison", "comparison"]


def collect(profile: str, part: str, run_missing: bool = True) -> Collected:
    """Records of one part of the study (a name of ``STUDY.parts``, or ``all``)."""
    return base.collect(STUDY, profile, part, run_missing)


def _runs(d: pd.DataFrame, column: str) -> tuple:
    return tuple(float(v) for v in d.sort_values("instance")[column])


def _arrows(a: str, b: str):
    return lambda r: ", ".join(f"{x:.2f} → {y:.2f}" for x, y in zip(r[a], r[b]))


# ------------------------------------------------------------------------------------------ noise table
INTERVAL_LABEL = f"{V.CONFIDENCE:.0%} interval".replace("%", " %")


def noise_table(col: Collected) -> pd.DataFrame:
    """σ × k: the thesis's five instances (mean ± sd) | ours (mean ± sd, n) | the level verdict against the thesis's
    runs (:func:`ic.verdict.level`) and its interval."""
    df = ic_frame(col)
    df = df[df.variant == "all"]
    p = get_profile(col.profile)
    rows = []
    for sigma in p.noise_sigmas:
        for k in p.noise_class_counts:
            runs, ours = reference.LSTM_NOISE_RUNS.get((sigma, k), []), df[(df.k == k) & (df.sigma == sigma)].accuracy
            rows.append({"sigma": sigma, "k": k, **summary_columns("thesis", runs), **summary_columns("ours", ours),
                         **level_columns(ours, runs, p.instances)})
    out = pd.DataFrame(rows)
    out.attrs["display"] = {"σ": "sigma", "classes": "k", "thesis (mean ± sd)": _or_dash("thesis"),
                            "ours (mean ± sd)": "ours", INTERVAL_LABEL: interval_text, "verdict": "verdict"}
    return out


def _or_dash(stem: str, digits: int = 2):
    return lambda r: "—" if r[f"{stem}_n"] == 0 else summary_text(r, stem, digits)


def renormalise_table(noise: Collected, renorm: Collected) -> pd.DataFrame:
    """At the best σ per class count of the ablation: clip-only training noise (as the thesis ran) vs clip +
    renormalise (as the blog describes)."""
    a, b = ic_frame(noise), ic_frame(renorm)
    p = get_profile(noise.profile)
    rows = []
    for k in p.renormalise_class_counts:
        s = p.best_sigma[k]
        clip, ren = a[(a.k == k) & (a.sigma == s) & (a.variant == "all")].accuracy, b[b.k == k].accuracy
        rows.append({"k": k, "sigma": s, **summary_columns("clip", clip), **summary_columns("renorm", ren),
                     "difference": ren.mean() - clip.mean() if len(clip) and len(ren) else math.nan})
    out = pd.DataFrame(rows)
    out.attrs["display"] = {"classes": "k", "σ": "sigma", "clip only (thesis code)": "clip",
                            "clip + renormalise (blog)": "renorm", "difference of means": "difference"}
    return out


def multistart_table(multi: Collected) -> pd.DataFrame:
    """Beyond the sources: the sources' uniform start against the best of uniform + every vertex (lowest final
    reconstruction loss per probe), with the same generators, per class count and σ."""
    df = frame(multi, "ic", MULTISTART_FIELDS)
    rows = [{"k": k, "sigma": sigma, **summary_columns("uniform", d.uniform), **summary_columns("multi", d.multi),
             "uniform_runs": _runs(d, "uniform"), "multi_runs": _runs(d, "multi"), "vertex_won": d.vertex_won.mean()}
            for (k, sigma), d in (df.groupby(["k", "sigma"]) if len(df) else [])]
    out = pd.DataFrame(rows)
    out.attrs["display"] = {"classes": "k", "σ": "sigma", "uniform start (the sources' rule)": "uniform",
                            "uniform + every vertex": "multi",
                            "per instance (uniform → multi-start)": _arrows("uniform_runs", "multi_runs"),
                            "probes won by a vertex start": "vertex_won"}
    return out


# ------------------------------------------------------------------------------------------ diagnostics
def centre_text(row) -> str:
    """The nearest-centre cell of a diagnostic row ('—' for all-data generators, which have no centres)."""
    return "—" if row["variant"] == "all" else summary_text(row, "centre")


def diagnostic_table(ics: list[Collected], diag: Collected) -> pd.DataFrame:
    """Beyond the sources: per class count, training data and σ, inverse classification from the uniform start
    against decoding at the vertices (same generators, no optimisation) and, for the sparse training sets, the
    nearest-centre classifier on the same centres."""
    df = diagnostic_frame(ics, diag)
    centre = frame(diag, "nearest_centre",
                   {"k": "config.k", "variant": "config.variant", "accuracy": "result.accuracy"})
    order = {"all": 0, "sparse4": 1, "sparse1": 2}
    rows = [{"k": k, "variant": variant, "sigma": sigma, **summary_columns("ic", d.accuracy),
             **summary_columns("vertex", d.vertex),
             **summary_columns("centre", centre[(centre.k == k) & (centre.variant == variant)].accuracy),
             "ic_runs": _runs(d, "accuracy"), "vertex_runs": _runs(d, "vertex")}
            for (k, variant, sigma), d in (df.groupby(["k", "variant", "sigma"]) if len(df) else [])]
    rows.sort(key=lambda r: (r["k"], order[r["variant"]], r["sigma"]))
    out = pd.DataFrame(rows)
    out.attrs["display"] = {"classes": "k", "training data": lambda r: VARIANT_NAMES[r["variant"]], "σ": "sigma",
                            "IC, uniform start (the sources' rule)": "ic", "decoding at the vertices": "vertex",
                            "nearest centre (no model)": centre_text,
                            "per instance (IC → vertices)": _arrows("ic_runs", "vertex_runs")}
    return out


def diagonal_table(col: Collected) -> pd.DataFrame:
    df = heatmap_frame(col)
    rows = [{"sigma": s, **summary_columns("agreement_dtw", d.agreement_dtw),
             **summary_columns("agreement_mse", d.agreement_mse), **summary_columns("offset_dtw", d.offset_dtw),
             "source_panel": reference.LSTM_HEATMAP_PANELS.get(s, "—")} for s, d in df.groupby("sigma")]
    out = pd.DataFrame(rows)
    out.attrs["display"] = {"σ": "sigma", "diagonal agreement (DTW)": "agreement_dtw",
                            "diagonal agreement (MSE)": "agreement_mse", "boundary offset (DTW)": "offset_dtw",
                            "source's panel": "source_panel"}
    return out


# ------------------------------------------------------------------------------------------ training check
def convergence_table(col: Collected) -> pd.DataFrame:
    """Per class count and σ: best validation MSE and the epoch it was reached, against the epochs run.
    A best epoch in the last tenth of a model's epochs means it was still improving when training stopped
    (with early stopping that happens only when a model reaches the maximum number of epochs)."""
    f = fit_frame(col)
    f = f[(f.kind == "train_gen") & (f.variant == "all")]
    rows = [{"k": k, "sigma": sigma, **summary_columns("best_val", d.best_val_loss),
             "best_epoch": float(d.best_epoch.mean()), "epochs_min": int(d.epochs_run.min()),
             "epochs_max": int(d.epochs_run.max()), "improving": int(sum(d.best_epoch + 1 > 0.9 * d.epochs_run)),
             "cpu_min": float(d.cpu_s.mean() / 60), "n": len(d)}
            for (k, sigma), d in (f.groupby(["k", "sigma"]) if len(f) else [])]
    out = pd.DataFrame(rows, columns=["k", "sigma", "best_val_mean", "best_val_std", "best_val_n", "best_epoch",
                                      "epochs_min", "epochs_max", "improving", "cpu_min", "n"])
    out.attrs["display"] = {"classes": "k", "σ": "sigma",
                            "best validation MSE": lambda r: summary_text(r, "best_val", 3),
                            "best epoch (mean)": "best_epoch",
                            "epochs run": lambda r: f"{int(r['epochs_min'])}" + (
                                "" if r["epochs_min"] == r["epochs_max"] else f"–{int(r['epochs_max'])}"),
                            "still improving at the end": "improving", "CPU min per model": "cpu_min", "n": "n"}
    return out


def protocol_table(noise: Collected, protocol: Collected) -> pd.DataFrame:
    """IC accuracy of the protocol-check setting: our minibatch models vs the thesis's batch-1 training."""
    check = get_profile(noise.profile).protocol_check
    a = ic_frame(noise)
    a = a[(a.k == check.k) & (a.sigma == check.sigma) & (a.variant == "all")]
    b = ic_frame(protocol)
    fits = pd.concat([fit_frame(noise), fit_frame(protocol)])
    fits = fits[(fits.kind == "train_gen") & (fits.k == check.k) & (fits.sigma == check.sigma)]
    rows = []
    for label, d, thesis in (("minibatch 16, Adam 1e-2 (ours)", a, False), ("batch 1, Adam 1e-3 (thesis)", b, True)):
        f = fits[(fits.batch_size == check.batch_size) == thesis]
        rows.append({"training": label, **summary_columns("acc", d.accuracy),
                     **summary_columns("best_val", f.best_val_loss), "steps": int(f.steps.mean()) if len(f) else 0,
                     "cpu_min": round(float(f.cpu_s.mean()) / 60, 1) if len(f) else math.nan})
    out = pd.DataFrame(rows)
    out.attrs["display"] = {"training": "training", "IC accuracy": "acc",
                            "best validation MSE": _or_dash("best_val", 3), "optimiser steps": "steps",
                            "CPU min per model": "cpu_min", "n": "acc_n"}
    return out


# ------------------------------------------------------------------------------------------ sparsity
def sparsity_table(col: Collected) -> pd.DataFrame:
    """Per class count and setting: the blog's bar, the thesis's runs behind it, ours (forward classifiers scored
    with the thesis's strict rule) and the level verdict against the thesis's runs."""
    df = sparsity_frame(col)
    p = get_profile(col.profile)
    rows = []
    for k in p.sparsity_class_counts:
        for setting in SETTING_ORDER:
            ours = df[(df.k == k) & (df.setting == setting)].thesis_rule
            runs = thesis_sparsity_runs(setting, k, col.profile) or []
            rows.append({"k": k, "setting": setting, "source_bar": reference.LSTM_SPARSITY_BARS[setting][k],
                         **summary_columns("thesis", runs), **summary_columns("ours", ours),
                         **level_columns(ours, runs, p.instances)})
    out = pd.DataFrame(rows)
    out.attrs["display"] = {"classes": "k", "setting": "setting", "source (bar plot)": "source_bar",
                            "thesis's runs (mean ± sd)": _or_dash("thesis"), "ours (mean ± sd)": "ours",
                            INTERVAL_LABEL: interval_text, "verdict": "verdict"}
    return out


def data_size_table(sparse: Collected, size: Collected) -> pd.DataFrame:
    """Beyond the sources: the forward classifier on all of our training split and on a stratified part of it
    (same split, seed and schedule per instance), per class count: both accuracies with the thesis's strict rule
    (as the thesis's forward number they are set against), the paired loss (:func:`ic.verdict.effect`), and how
    each arm trained — mean optimiser steps and how many models meet the convergence rule
    (:mod:`ic.lstm.convergence`), since the same epochs on half the data are half the steps."""
    from .convergence import convergence_frame

    p = get_profile(size.profile)
    fields = {**SETTING_FIELDS, "key": lambda j, r: j.key, "steps": ("result.fit.steps", math.nan)}
    full, part = (frame(c, "train_fwd", fields) for c in (sparse, size))
    full = full[(full.variant == "all") & (full.train_fraction == 1.0)]
    part = part[(part.variant == "all") & (part.train_fraction == p.data_size_fraction)]
    conv = {}
    for c in (sparse, size):
        with_fit = Collected(c.profile, [j for j in c.jobs if "fit" in (c.get(j) or {})], c.records)
        f = convergence_frame(with_fit)
        conv.update(zip(f.key, f.converged))
    rows = []
    for k in p.data_size_class_counts:
        fk, pk = full[full.k == k], part[part.k == k]
        pairs = fk.merge(pk, on="instance", suffixes=("_all", "_part"))
        drop = summary_columns("drop", pairs.accuracy_strict_all - pairs.accuracy_strict_part)
        v = V.effect(dict(zip(pairs.instance, pairs.accuracy_strict_all)),
                     dict(zip(pairs.instance, pairs.accuracy_strict_part)), expected_n=p.instances)
        rows.append({"k": k, "n_part": pairs.n_train_part.mean(), "n_all": pairs.n_train_all.mean(),
                     **summary_columns("part", pk.accuracy_strict), **summary_columns("full", fk.accuracy_strict),
                     **drop, "verdict": v.verdict, "lo": v.lo, "hi": v.hi,
                     "steps_part": pk.steps.mean(), "steps_all": fk.steps.mean(),
                     "conv_part": sum(conv.get(x, False) for x in pk.key),
                     "conv_all": sum(conv.get(x, False) for x in fk.key),
                     "models_part": len(pk), "models_all": len(fk),
                     "thesis": reference.LSTM_SPARSITY_BARS["comparison"][k]})
    out = pd.DataFrame(rows)
    out.attrs["display"] = {
        "classes": "k", "training sequences (part | all)":
            lambda r: "—" if math.isnan(r["n_part"]) else f"{int(r['n_part'])} | {int(r['n_all'])}",
        f"forward, {p.data_size_fraction:g} of our training split": "part",
        "forward, all of our training split": "full", "lost by the cut (paired)": "drop", "verdict": "verdict",
        "optimiser steps (part | all)": lambda r: "—" if math.isnan(r["steps_part"]) else
        f"{r['steps_part']:.0f} | {r['steps_all']:.0f}",
        "converged (part | all)": lambda r: f"{r['conv_part']}/{r['models_part']} | {r['conv_all']}/{r['models_all']}",
        "thesis (all data, twice ours)": "thesis"}
    return out


def data_size_finding(row: pd.Series) -> str:
    """The chapter's sentence on a row of :func:`data_size_table`: what the cut costs, how alike the two arms
    trained, and what that leaves of the question whether the mirror's missing half of the recordings explains the
    gap to the thesis's forward classifier."""
    if row["drop_n"] == 0:
        return "The test has not run yet."
    lost = summary_text(row, "drop")
    if row["verdict"] == V.PENDING:
        return f"So far the cut costs the forward classifier {lost}; the verdict waits for every instance."
    alike = (row["conv_part"] == row["models_part"] and row["conv_all"] == row["models_all"]
             and abs(row["steps_part"] / row["steps_all"] - 1) < 0.2)
    training = ("Both arms trained to convergence with similar step counts." if alike else
                f"The arms did not train alike: the half-data classifiers ran {row['steps_part']:.0f} optimiser steps "
                f"on average against {row['steps_all']:.0f}, and {row['conv_part']} of {row['models_part']} against "
                f"{row['conv_all']} of {row['models_all']} full-data ones meet the convergence rule.")
    return (f"Scored with the thesis's strict rule, training on half of our training split costs the forward "
            f"classifier {lost} (paired interval {row['lo']:+.2f} to {row['hi']:+.2f}; {row['verdict']}). "
            f"{training} How much twice our data would add is not measured here, so that the mirror's missing half "
            f"of the recordings explains the gap to the thesis's {row['thesis']:.2f} can be neither confirmed nor "
            f"excluded.")


# ------------------------------------------------------------------------------------------ bookkeeping
def split_summary(profile: str) -> str:
    """Deterministic description of the data each instance sees (for the notebook and nbval)."""
    p = get_profile(profile)
    data = load_data()
    lines = [f"data: {data.source}, {len(data.labels)} labelled recordings, 205 steps × 2 coordinates"]
    for k in p.class_counts:
        sizes = []
        for seed in sorted({p.split_of(i) for i in range(p.instances)}):
            sp = make_split(data, k, seed)
            sizes.append(f"split {seed}: {len(sp.y_train)} train / {len(sp.y_test)} test")
        lines.append(f"{k:>2} classes — " + "; ".join(sizes))
    return "\n".join(lines)


_KIND_NAMES = {"train_gen": "train a generator", "train_fwd": "train a forward classifier",
               "ic": "inverse-classify a test split", "heatmap": "compute one model's heat maps",
               "vertex": "decode a test split at the vertices", "nearest_centre": "nearest-centre classifier"}


def describe_cost(job) -> dict:
    """The cost table's grouping of a job: what it does, its class count and its model's batch size."""
    model = job.config.get("gen_config", job.config)          # IC and heat-map jobs: their generator's config
    name = _KIND_NAMES.get(job.kind, job.kind)
    if "train_fraction" in model:
        name += f" on {model['train_fraction']:g} of the data"
    return {"job": name, "classes": model["k"], "batch": model.get("batch_size")}   # nearest centre: no model


def cost_table(col: Collected) -> pd.DataFrame:
    """CPU time per kind of job, class count and batch size, over the jobs in the store (plus what is missing)."""
    return base.cost_table(col, describe_cost)
