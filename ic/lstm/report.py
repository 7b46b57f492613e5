"""Tables and figures of the LSTM chapter, built from the results store (the notebooks only call these)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .. import reference
from ..compare import VERDICT_RULE, fmt, summarise, verdict
from ..runner import Context
from ..store import Job, store_for
from . import study as S

SETTING_ORDER = ["sparse1", "sparse4", "all data", "sparse comparison", "comparison"]


@dataclass
class Collected:
    profile: str
    jobs: list
    records: dict            # key -> record (only jobs that are done)

    @property
    def n_done(self) -> int:
        return sum(j.key in self.records for j in self.jobs)

    @property
    def n_jobs(self) -> int:
        return len(self.jobs)

    def get(self, job: Job) -> dict | None:
        r = self.records.get(job.key)
        return r["result"] if r else None

    def cpu_hours(self) -> float:
        return sum(r["cpu_time_s"] for r in self.records.values()) / 3600

    def devices(self) -> str:
        return ", ".join(sorted({r["environment"]["device"] for r in self.records.values()})) or "—"


def collect(profile: str, part: str, run_missing: bool = True) -> Collected:
    """Records of one part of the study (``noise``, ``heatmaps``, ``protocol``, ``renormalise``, ``sparsity``,
    ``multistart``, ``diagnostics``, ``data_size`` or ``all``):
    read from the store, running only the missing jobs when ``run_missing``."""
    p = S.get_profile(profile)
    data_id = S.data_identity(S.load_data())
    parts = {
        "noise": lambda: [j for pair in S.noise_jobs(p, data_id) for j in pair],
        "heatmaps": lambda: S.heatmap_jobs(p, data_id),
        "protocol": lambda: [j for pair in S.protocol_check_jobs(p, data_id) for j in pair],
        "renormalise": lambda: [j for pair in S.renormalise_jobs(p, data_id) for j in pair],
        "sparsity": lambda: S.sparsity_jobs(p, data_id),
        "multistart": lambda: S.multistart_jobs(p, data_id),
        "diagnostics": lambda: S.diagnostic_jobs(p, data_id),
        "data_size": lambda: S.data_size_jobs(p, data_id),
        "all": lambda: S.STUDY.plan(profile),
    }
    if part not in parts:
        raise ValueError(f"Unknown part {part!r}: use one of {', '.join(parts)}.")
    jobs = parts[part]()
    store = store_for(profile)
    ctx = Context(study=S.STUDY, store=store) if run_missing else None
    records = {}
    for j in jobs:
        if store.has(j):
            records[j.key] = store.load(j)
        elif run_missing:
            records[j.key] = ctx.require(j)
    return Collected(profile, jobs, records)


# ------------------------------------------------------------------------------------------ noise table
def _verdict(ours: dict, ref: float | None, instances: int) -> str:
    """The verdict rule, once every instance of the profile is in; before that, 'pending' (a partial run's
    mean is shown but not judged)."""
    if 0 < ours["n"] < instances and ref is not None:
        return f"pending ({ours['n']} of {instances})"
    return verdict(ours, ref)


def ic_frame(col: Collected) -> pd.DataFrame:
    """One row per finished IC run: k, σ, variant, instance, split, accuracy, …"""
    rows = []
    for j in col.jobs:
        if j.kind != "ic" or j.key not in col.records:
            continue
        g, r = j.config["gen_config"], col.get(j)
        rows.append({"k": g["k"], "sigma": g["sigma"], "variant": g["variant"], "instance": j.config["gen_seed"],
                     "split": g["split_seed"], "batch_size": g["batch_size"], "accuracy": r["accuracy"],
                     "accuracy_first250": r["accuracy_first250"], "rmse": r["rmse_mean"], "n_test": r["n_test"]})
    return pd.DataFrame(rows, columns=["k", "sigma", "variant", "instance", "split", "batch_size", "accuracy",
                                       "accuracy_first250", "rmse", "n_test"])


def noise_table(col: Collected) -> pd.DataFrame:
    """σ × k: the thesis's number (mean ± std of its 5 instances) | ours (mean ± std, n) | verdict."""
    df = ic_frame(col)
    df = df[df.variant == "all"]
    p = S.get_profile(col.profile)
    rows = []
    for sigma in p.noise_sigmas:
        for k in p.noise_class_counts:
            ref_runs = reference.LSTM_NOISE_RUNS.get((sigma, k))
            ref = summarise(ref_runs) if ref_runs else None
            ours = summarise(df[(df.k == k) & (df.sigma == sigma)].accuracy)
            rows.append({"σ": sigma, "classes": k, "thesis": fmt(ref) if ref else "—", "ours": fmt(ours),
                         "verdict": _verdict(ours, ref["mean"] if ref else None, p.instances),
                         "ours_mean": ours["mean"], "ours_std": ours["std"], "ours_n": ours["n"],
                         "thesis_mean": ref["mean"] if ref else math.nan})
    return pd.DataFrame(rows)


def ic_loss_curves(col: Collected):
    """Mean reconstruction loss over the 200 inverse-classification iterations, per class count and σ
    (each line: one instance's mean over its test probes)."""
    rows = []
    for j in col.jobs:
        if j.kind == "ic" and j.key in col.records:
            g = j.config["gen_config"]
            for it, v in enumerate(col.get(j)["loss_curve_mean"]):
                rows.append({"k": g["k"], "σ": g["sigma"], "instance": j.config["gen_seed"], "iteration": it, "MSE": v})
    df = pd.DataFrame(rows, columns=["k", "σ", "instance", "iteration", "MSE"])
    if df.empty:
        return _empty_figure("no inverse-classification job in the results store yet")
    ks = sorted(df.k.unique())
    fig, axes = plt.subplots(1, len(ks), figsize=(4.2 * len(ks), 3.3), squeeze=False)
    for ax, k in zip(axes[0], ks):
        sns.lineplot(data=df[df.k == k], x="iteration", y="MSE", hue="σ", units="instance", estimator=None,
                     ax=ax, palette="viridis", lw=0.8, alpha=0.8)
        ax.set_yscale("log")
        ax.set_title(f"{k} classes")
    axes[0][0].set_ylabel("mean reconstruction MSE of the probes")
    fig.tight_layout()
    return fig


def renormalise_table(noise: Collected, renorm: Collected) -> pd.DataFrame:
    """At the best σ per class count of the ablation: clip-only training noise (as the thesis ran) vs clip +
    renormalise (as the blog describes)."""
    a, b = ic_frame(noise), ic_frame(renorm)
    rows = []
    for k in S.get_profile(noise.profile).renormalise_class_counts:
        s = S.BEST_SIGMA[k]
        clip = summarise(a[(a.k == k) & (a.sigma == s) & (a.variant == "all")].accuracy)
        ren = summarise(b[(b.k == k)].accuracy)
        rows.append({"classes": k, "σ": s, "clip only (thesis code)": fmt(clip), "clip + renormalise (blog)": fmt(ren),
                     "difference of means": (ren["mean"] - clip["mean"]) if clip["n"] and ren["n"] else math.nan})
    return pd.DataFrame(rows)


def multistart_table(multi: Collected) -> pd.DataFrame:
    """Beyond the sources: the sources' uniform start against the best of uniform + every vertex (lowest final
    reconstruction loss per probe), with the same generators, per class count and σ."""
    rows = []
    for j in multi.jobs:
        r = multi.get(j)
        if r is None:
            continue
        g = j.config["gen_config"]
        rows.append({"k": g["k"], "sigma": g["sigma"], "instance": j.config["gen_seed"],
                     "uniform": r["accuracy_per_start"][0], "multi": r["accuracy"],
                     "vertex_won": 1 - r["start_won"][0]})
    df = pd.DataFrame(rows, columns=["k", "sigma", "instance", "uniform", "multi", "vertex_won"])
    out = []
    for (k, sigma), d in (df.groupby(["k", "sigma"]) if len(df) else []):
        d = d.sort_values("instance")
        out.append({"classes": k, "σ": sigma, "uniform start (the sources' rule)": fmt(summarise(d.uniform)),
                    "uniform + every vertex": fmt(summarise(d.multi)),
                    "per instance (uniform → multi-start)": ", ".join(
                        f"{u:.2f} → {m:.2f}" for u, m in zip(d.uniform, d.multi)),
                    "probes won by a vertex start": f"{d.vertex_won.mean():.2f}"})
    return pd.DataFrame(out, columns=["classes", "σ", "uniform start (the sources' rule)", "uniform + every vertex",
                                      "per instance (uniform → multi-start)", "probes won by a vertex start"])


# ------------------------------------------------------------------------------------------ diagnostics
DIAG_COLUMNS = ["classes", "training data", "σ", "IC, uniform start (the sources' rule)", "decoding at the vertices",
                "nearest centre (no model)", "per instance (IC → vertices)"]


def diagnostic_frame(ics: list[Collected], diag: Collected) -> pd.DataFrame:
    """One row per generator with both results: IC accuracy (uniform start) and vertex-decoding accuracy."""
    ic = pd.concat([ic_frame(c) for c in ics]).drop_duplicates(["k", "sigma", "variant", "instance", "batch_size"])
    rows = []
    for j in diag.jobs:
        r = diag.get(j)
        if j.kind != "vertex" or r is None:
            continue
        g = j.config["gen_config"]
        rows.append({"k": g["k"], "sigma": g["sigma"], "variant": g["variant"], "instance": j.config["gen_seed"],
                     "batch_size": g["batch_size"], "vertex": r["accuracy"]})
    vx = pd.DataFrame(rows, columns=["k", "sigma", "variant", "instance", "batch_size", "vertex"])
    return ic.merge(vx, on=["k", "sigma", "variant", "instance", "batch_size"], how="inner")


def diagnostic_table(ics: list[Collected], diag: Collected) -> pd.DataFrame:
    """Beyond the sources: per class count, training data and σ, inverse classification from the uniform start
    against decoding at the vertices (same generators, no optimisation) and, for the sparse training sets, the
    nearest-centre classifier on the same centres."""
    df = diagnostic_frame(ics, diag)
    centre = pd.DataFrame([{"k": j.config["k"], "variant": j.config["variant"], "accuracy": diag.get(j)["accuracy"]}
                           for j in diag.jobs if j.kind == "nearest_centre" and diag.get(j) is not None],
                          columns=["k", "variant", "accuracy"])
    out = []
    order = {"all": 0, "sparse4": 1, "sparse1": 2}
    for (k, variant, sigma), d in (df.groupby(["k", "variant", "sigma"]) if len(df) else []):
        d = d.sort_values("instance")
        c = centre[(centre.k == k) & (centre.variant == variant)].accuracy
        out.append({"classes": k, "training data": {"all": "all data"}.get(variant, variant), "σ": sigma,
                    "IC, uniform start (the sources' rule)": fmt(summarise(d.accuracy)),
                    "decoding at the vertices": fmt(summarise(d.vertex)),
                    "nearest centre (no model)": fmt(summarise(c)) if variant != "all" else "—",
                    "per instance (IC → vertices)": ", ".join(f"{a:.2f} → {v:.2f}"
                                                              for a, v in zip(d.accuracy, d.vertex)),
                    "_order": (k, order[variant], sigma)})
    out.sort(key=lambda r: r["_order"])
    return pd.DataFrame(out, columns=DIAG_COLUMNS + ["_order"]).drop(columns="_order")


def diagnostic_figure(ics: list[Collected], diag: Collected):
    """One dot per generator: IC accuracy (uniform start) against decoding at its vertices."""
    df = diagnostic_frame(ics, diag)
    if df.empty:
        return _empty_figure("no generator with both results in the store yet")
    ks = sorted(df.k.unique())
    df = df.assign(data=df.variant.map({"all": "all data"}).fillna(df.variant), σ=df.sigma.map("{:.1f}".format))
    sigmas = sorted(df.σ.unique())
    palette = dict(zip(sigmas, sns.color_palette("viridis", len(sigmas))))
    fig, axes = plt.subplots(1, len(ks), figsize=(3.6 * len(ks), 3.5), squeeze=False)
    for ax, k in zip(axes[0], ks):
        d = df[df.k == k]
        sns.scatterplot(data=d, x="vertex", y="accuracy", hue="σ", hue_order=sigmas, palette=palette, style="data",
                        style_order=["all data", "sparse4", "sparse1"], ax=ax, s=40, alpha=0.85,
                        legend=(k == ks[-1]))
        ax.set_ylabel("")
        lo = min(reference.CHANCE[k], d.accuracy.min(), d.vertex.min())
        ax.plot([lo, 1], [lo, 1], color="grey", lw=0.8, ls="--")
        ax.set_xlim(lo - 0.05, 1.03)
        ax.set_ylim(lo - 0.05, 1.03)
        ax.set_title(f"{k} classes")
        ax.set_xlabel("decoding at the vertices")
    axes[0][0].set_ylabel("IC accuracy, uniform start")
    if axes[0][-1].get_legend() is not None:
        sns.move_legend(axes[0][-1], "upper left", bbox_to_anchor=(1.02, 1), fontsize=8, title=None)
    fig.tight_layout()
    return fig


def noise_accuracy_figure(col: Collected):
    df = ic_frame(col)
    df = df[df.variant == "all"]
    ref = pd.DataFrame([{"sigma": s, "k": k, "accuracy": float(np.mean(v))}
                        for (s, k), v in reference.LSTM_NOISE_RUNS.items()])
    ks = sorted(df.k.unique()) if len(df) else []
    fig, axes = plt.subplots(1, max(1, len(ks)), figsize=(4.2 * max(1, len(ks)), 3.4), sharey=True, squeeze=False)
    for ax, k in zip(axes[0], ks):
        d = df[df.k == k]
        sns.stripplot(data=d, x="sigma", y="accuracy", ax=ax, color="tab:blue", alpha=0.6, size=5, jitter=0.15)
        sns.pointplot(data=d, x="sigma", y="accuracy", ax=ax, color="tab:blue", errorbar="sd", markers="o",
                      linestyles="-", label="ours (mean ± sd)")
        r = ref[ref.k == k].set_index("sigma").reindex(sorted(d.sigma.unique()))
        ax.plot(range(len(r)), r.accuracy.values, "s--", color="tab:orange", label="thesis (mean of 5)")
        ax.axhline(reference.CHANCE[k], color="grey", lw=0.8, ls=":")
        ax.set_title(f"{k} classes")
        ax.set_xlabel("training noise σ")
        ax.set_ylim(0, 1.05)
    axes[0][0].set_ylabel("inverse-classification accuracy")
    for ax in axes[0][:-1]:                      # seaborn adds a partial legend to every panel: keep one
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    axes[0][-1].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------ heat maps
def heatmap_frame(col: Collected) -> pd.DataFrame:
    rows = []
    for j in col.jobs:
        if j.kind != "heatmap" or j.key not in col.records:
            continue
        r = col.get(j)
        rows.append({"sigma": j.config["gen_config"]["sigma"], "instance": j.config["gen_seed"],
                     "split": j.config["gen_config"]["split_seed"], **{m: np.array(r[m]) for m in
                                                                      ("dtw_a", "dtw_b", "mse_a", "mse_b")},
                     "agreement_dtw": r["diagonal_agreement_dtw"], "agreement_mse": r["diagonal_agreement_mse"],
                     "offset_dtw": r["boundary_offset_dtw"], "offset_mse": r["boundary_offset_mse"]})
    return pd.DataFrame(rows, columns=["sigma", "instance", "split", "dtw_a", "dtw_b", "mse_a", "mse_b",
                                       "agreement_dtw", "agreement_mse", "offset_dtw", "offset_mse"])


def _empty_figure(message: str, size=(8, 2)):
    fig, ax = plt.subplots(figsize=size)
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=11)
    ax.axis("off")
    return fig


def _panel(ax, m, title, vmin=None, vmax=None):
    steps = m.shape[0]
    ticks = [f"{v:.1f}" for v in np.linspace(0, 1, steps)]
    sns.heatmap(m, ax=ax, cmap="Blues", vmin=vmin, vmax=vmax, square=True, cbar=True,
                xticklabels=ticks, yticklabels=ticks, cbar_kws={"shrink": 0.7})
    ax.plot([0, steps], [0, steps], color="crimson", lw=0.8, ls="--")
    ax.set_xlabel("'b' entry")
    ax.set_ylabel("'a' entry")
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=6)


def heatmap_panels(col: Collected, metric: str = "dtw", instance: int = 0):
    """The source's six panels (σ 0 … 0.4 to target 'a', and σ 0.3 to target 'b'), all from one instance
    chosen by a fixed rule (instance 0), not cherry-picked. Light = close to the target."""
    df = heatmap_frame(col)
    df = df[df.instance == instance].set_index("sigma")
    if df.empty:
        return _empty_figure(f"no heat-map job of instance {instance} in the results store yet")
    sigmas = [s for s in S.get_profile(col.profile).noise_sigmas if s in df.index]
    panels = [(s, "a") for s in sigmas] + ([(0.3, "b")] if 0.3 in df.index else [])
    fig, axes = plt.subplots(2, 3, figsize=(13, 8))
    for ax, (s, t) in zip(axes.flat, panels):
        label = "no noise" if s == 0 else f"σ = {s}"
        _panel(ax, df.loc[s, f"{metric}_{t}"], f"{label}: {metric.upper()} to target '{t}'")
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def heatmap_all_instances(col: Collected, metric: str = "dtw", target: str = "a"):
    """Every instance (columns) for every σ (rows): what a single published panel hides."""
    df = heatmap_frame(col)
    if df.empty:
        return _empty_figure("no heat-map job in the results store yet")
    sigmas = sorted(df.sigma.unique())
    insts = sorted(df.instance.unique())
    fig, axes = plt.subplots(len(sigmas), len(insts), figsize=(2.3 * len(insts), 2.2 * len(sigmas)), squeeze=False)
    for r, s in enumerate(sigmas):
        for c, i in enumerate(insts):
            ax = axes[r][c]
            row = df[(df.sigma == s) & (df.instance == i)]
            if len(row):
                m = row.iloc[0][f"{metric}_{target}"]
                sns.heatmap(m, ax=ax, cmap="Blues", cbar=False, xticklabels=False, yticklabels=False, square=True)
                ax.plot([0, m.shape[0]], [0, m.shape[0]], color="crimson", lw=0.6, ls="--")
                ax.set_title(f"σ {s}, #{i}: agree {row.iloc[0][f'agreement_{metric}']:.2f}", fontsize=7)
            else:
                ax.axis("off")
    fig.tight_layout()
    return fig


def simplex_profiles(heat: Collected, noise: Collected, metric: str = "mse"):
    """Distance to the 'a' target along the simplex (the grid's anti-diagonal, c = [t, 1 − t]) per instance,
    coloured by the instance's inverse-classification accuracy. Inverse classification starts at t = 0.5 and
    can only follow the slope: a step-shaped profile leaves it on a flat plateau on the wrong side."""
    df = heatmap_frame(heat)
    if df.empty:
        return _empty_figure("no heat-map job in the results store yet")
    acc = ic_frame(noise)
    acc = acc[(acc.k == 2) & (acc.variant == "all")].set_index(["sigma", "instance"]).accuracy
    sigmas = sorted(df.sigma.unique())
    fig, axes = plt.subplots(1, len(sigmas), figsize=(3.2 * len(sigmas), 3.0), sharey=True, squeeze=False)
    cmap = plt.get_cmap("RdYlGn")
    for ax, s in zip(axes[0], sigmas):
        for _, row in df[df.sigma == s].iterrows():
            prof = np.fliplr(row[f"{metric}_a"]).diagonal()     # the anti-diagonal: c = [t, 1 − t]
            t = np.linspace(0, 1, len(prof))
            a = acc.get((s, row.instance), np.nan)
            ax.plot(t, prof, color=cmap(0.0 if np.isnan(a) else (a - 0.5) / 0.5), lw=1.4,
                    label=f"#{row.instance}: acc {a:.2f}")
        ax.axvline(0.5, color="grey", ls=":", lw=0.8)
        ax.set_title(f"σ = {s}", fontsize=9)
        ax.set_xlabel("'a' entry t of c = [t, 1 − t]")
        ax.legend(fontsize=6)
    axes[0][0].set_ylabel(f"{metric.upper()} to the 'a' target")
    fig.tight_layout()
    return fig


def diagonal_table(col: Collected) -> pd.DataFrame:
    df = heatmap_frame(col)
    rows = []
    for s in sorted(df.sigma.unique()):
        d = df[df.sigma == s]
        rows.append({"σ": s, "diagonal agreement (DTW)": fmt(summarise(d.agreement_dtw)),
                     "diagonal agreement (MSE)": fmt(summarise(d.agreement_mse)),
                     "boundary offset (DTW)": fmt(summarise(d.offset_dtw)),
                     "source's panel": reference.LSTM_HEATMAP_PANELS.get(s, "—"),
                     "agreement_dtw_mean": float(d.agreement_dtw.mean())})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------ training check
def fit_frame(col: Collected) -> pd.DataFrame:
    rows = []
    for j in col.jobs:
        if j.kind not in ("train_gen", "train_fwd") or j.key not in col.records:
            continue
        r = col.records[j.key]
        fit = r["result"]["fit"]
        rows.append({"kind": j.kind, "k": j.config["k"], "sigma": j.config.get("sigma"), "variant": j.config["variant"],
                     "batch_size": j.config["batch_size"], "instance": j.seed, "steps": fit["steps"],
                     "best_epoch": fit["best_epoch"], "best_val_loss": fit["best_val_loss"],
                     "final_train_loss": fit["train_loss"][-1] if fit["train_loss"] else math.nan,
                     "cpu_s": r["cpu_time_s"], "epochs": fit["epochs"], "train_loss": fit["train_loss"],
                     "val_loss": fit["val_loss"], "sequences_per_s": r["result"].get("sequences_per_s"),
                     # records written before early stopping existed logged every epoch and ran them all
                     "epochs_run": fit.get("epochs_run", len(fit["epochs"])),
                     "min_epochs": j.config["epochs"] if "max_epochs" in j.config else None})
    return pd.DataFrame(rows, columns=["kind", "k", "sigma", "variant", "batch_size", "instance", "steps", "best_epoch",
                                       "best_val_loss", "final_train_loss", "cpu_s", "epochs", "train_loss",
                                       "val_loss", "sequences_per_s", "epochs_run", "min_epochs"])


def training_curves(cols: list[Collected], k: int = 2, sigma: float = 0.2):
    """Training and validation loss per epoch for one setting: minibatch runs and batch-1 (thesis) runs."""
    frames = [fit_frame(c) for c in cols]
    df = pd.concat(frames) if frames else pd.DataFrame()
    df = df[(df.kind == "train_gen") & (df.k == k) & (df.sigma == sigma) & (df.variant == "all")] if len(df) else df
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
    for ax, (bs, title) in zip(axes, [(None, "minibatch (ours)"), (1, "batch 1 (thesis protocol)")]):
        d = df[df.batch_size == 1] if bs == 1 else df[df.batch_size != 1]
        for _, row in d.iterrows():
            ax.plot(row.epochs, row.train_loss, color="tab:blue", alpha=0.5, lw=0.8)
            if row.val_loss:
                ax.plot(row.epochs, row.val_loss, color="tab:orange", alpha=0.6, lw=0.8)
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(f"{k} classes, σ {sigma}: {title} — {len(d)} runs", fontsize=9)
    axes[0].set_ylabel("MSE (blue: train with noise, orange: validation)")
    fig.tight_layout()
    return fig


def convergence_table(col: Collected) -> pd.DataFrame:
    """Per class count and σ: best validation MSE and the epoch it was reached, against the epochs run.
    A best epoch in the last tenth of a model's epochs means it was still improving when training stopped
    (with early stopping that happens only when a model reaches the maximum number of epochs)."""
    f = fit_frame(col)
    f = f[(f.kind == "train_gen") & (f.variant == "all")] if len(f) else f
    rows = []
    for (k, sigma), d in (f.groupby(["k", "sigma"]) if len(f) else []):
        lo, hi = int(d.epochs_run.min()), int(d.epochs_run.max())
        rows.append({"classes": k, "σ": sigma, "best validation MSE": fmt(summarise(d.best_val_loss), 3),
                     "best epoch (mean)": float(d.best_epoch.mean()),
                     "epochs run": str(lo) if lo == hi else f"{lo}–{hi}",
                     "still improving at the end": int(sum(d.best_epoch + 1 > 0.9 * d.epochs_run)),
                     "CPU min per model": float(d.cpu_s.mean() / 60), "n": len(d)})
    return pd.DataFrame(rows, columns=["classes", "σ", "best validation MSE", "best epoch (mean)", "epochs run",
                                       "still improving at the end", "CPU min per model", "n"])


def validation_curves(col: Collected, k: int = 20):
    """Held-out MSE per epoch of every all-data generator of one class count, one panel per σ; dotted: the
    minimum number of epochs of an early-stopped schedule."""
    f = fit_frame(col)
    f = f[(f.kind == "train_gen") & (f.variant == "all") & (f.k == k)] if len(f) else f
    if not len(f):
        return _empty_figure(f"no {k}-class generator in the results store yet")
    sigmas = sorted(f.sigma.unique())
    fig, axes = plt.subplots(1, len(sigmas), figsize=(2.6 * len(sigmas) + 1, 3.2), sharey=True, squeeze=False)
    for ax, sigma in zip(axes[0], sigmas):
        d = f[f.sigma == sigma]
        for _, row in d.iterrows():
            ax.plot(row.epochs, row.val_loss, lw=0.9, label=f"#{row.instance}")
            ax.plot(row.best_epoch, row.best_val_loss, "k.", ms=4)
        if d.min_epochs.notna().any():
            ax.axvline(float(d.min_epochs.dropna().iloc[0]), color="grey", ls=":", lw=1)
        ax.set_yscale("log")
        ax.set_title(f"σ {sigma} (n = {len(d)})", fontsize=9)
        ax.set_xlabel("epoch")
    axes[0][0].set_ylabel(f"validation MSE, {k} classes")
    axes[0][-1].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def protocol_table(noise: Collected, protocol: Collected) -> pd.DataFrame:
    """IC accuracy of the protocol-check setting: our minibatch models vs the thesis's batch-1 training."""
    k, sigma = S.PROTOCOL_CHECK["k"], S.PROTOCOL_CHECK["sigma"]
    a = ic_frame(noise)
    a = a[(a.k == k) & (a.sigma == sigma) & (a.variant == "all")]
    b = ic_frame(protocol)
    fits = pd.concat([fit_frame(noise), fit_frame(protocol)])
    fits = fits[(fits.kind == "train_gen") & (fits.k == k) & (fits.sigma == sigma)] if len(fits) else fits
    rows = []
    for label, d, bs in (("minibatch 16, Adam 1e-2 (ours)", a, "mb"), ("batch 1, Adam 1e-3 (thesis)", b, 1)):
        f = fits[fits.batch_size == 1] if bs == 1 else fits[fits.batch_size != 1]
        rows.append({"training": label, "IC accuracy": fmt(summarise(d.accuracy)),
                     "best validation MSE": fmt(summarise(f.best_val_loss), 3) if len(f) else "—",
                     "optimiser steps": int(f.steps.mean()) if len(f) else 0,
                     "CPU min per model": round(float(f.cpu_s.mean()) / 60, 1) if len(f) else math.nan,
                     "acc_mean": summarise(d.accuracy)["mean"], "acc_std": summarise(d.accuracy)["std"],
                     "n": len(d)})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------ sparsity
def sparsity_frame(col: Collected) -> pd.DataFrame:
    rows = []
    for j in col.jobs:
        if j.key not in col.records or j.kind not in ("ic", "train_fwd"):
            continue
        r = col.get(j)
        if j.kind == "ic":
            g = j.config["gen_config"]
            setting = {"all": "all data"}.get(g["variant"], g["variant"])
            k, inst, split = g["k"], j.config["gen_seed"], g["split_seed"]
        else:
            setting = {"all": "comparison", "sparse4": "sparse comparison"}[j.config["variant"]]
            k, inst, split = j.config["k"], j.seed, j.config["split_seed"]
        rows.append({"setting": setting, "k": k, "instance": inst, "split": split, "accuracy": r["accuracy"],
                     "accuracy_strict": r.get("accuracy_strict", math.nan), "n_test": r["n_test"]})
    return pd.DataFrame(rows, columns=["setting", "k", "instance", "split", "accuracy", "accuracy_strict", "n_test"])


def sparsity_table(col: Collected) -> pd.DataFrame:
    df = sparsity_frame(col)
    rows = []
    p = S.get_profile(col.profile)
    for k in p.sparsity_class_counts:
        for setting in SETTING_ORDER:
            ours = summarise(df[(df.k == k) & (df.setting == setting)].accuracy)
            ref = reference.LSTM_SPARSITY_BARS[setting][k]
            runs = (reference.LSTM_NOISE_RUNS.get((S.BEST_SIGMA[k], k)) if setting == "all data"
                    else reference.LSTM_SPARSITY_RUNS.get((setting, k)))
            rows.append({"classes": k, "setting": setting, "source (bar plot)": f"{ref:.2f}",
                         "thesis raw runs": fmt(summarise(runs)) if runs else "—", "ours": fmt(ours),
                         "verdict": _verdict(ours, ref, p.instances), "ours_mean": ours["mean"],
                         "ours_std": ours["std"], "ours_n": ours["n"]})
    return pd.DataFrame(rows)


def sparsity_barplot(col: Collected):
    df = sparsity_frame(col)
    ref = pd.DataFrame([{"setting": s, "k": k, "accuracy": v} for s, d in reference.LSTM_SPARSITY_BARS.items()
                        for k, v in d.items()])
    ks = S.get_profile(col.profile).sparsity_class_counts
    fig, axes = plt.subplots(1, 2, figsize=(13, 3.8), sharey=True)
    order = [s for s in SETTING_ORDER]
    sns.barplot(data=df, x="k", y="accuracy", hue="setting", hue_order=order, order=list(ks), errorbar="sd",
                capsize=0.08, ax=axes[0], palette="colorblind")
    axes[0].set_title("ours: mean ± sd over instances (each on its own split)")
    sns.barplot(data=ref[ref.k.isin(ks)], x="k", y="accuracy", hue="setting", hue_order=order, order=list(ks),
                ax=axes[1], palette="colorblind")
    axes[1].set_title("source's bar plot (mean of 5, no error bars)")
    for ax in axes:
        ax.set_xlabel("number of classes")
        ax.set_ylim(0, 1.05)
        ax.legend(fontsize=7, loc="lower left")
    axes[0].set_ylabel("test accuracy")
    fig.tight_layout()
    return fig


def _f(v: float) -> str:
    return "—" if math.isnan(v) else f"{v:.2f}"


def _outcome(values: list[float], test, complete: bool = True) -> str:
    if any(math.isnan(v) for v in values):
        return "not run yet"
    if not complete:
        return "pending (not all instances done)"
    return "holds" if test(*values) else "does not hold"


def sparsity_claims(col: Collected) -> pd.DataFrame:
    """The blog's claims about the sparsity comparison, tested on our numbers."""
    t = sparsity_table(col).set_index(["classes", "setting"])
    m = lambda k, s: float(t.loc[(k, s), "ours_mean"]) if (k, s) in t.index else math.nan  # noqa: E731
    sd = lambda k, s: float(t.loc[(k, s), "ours_std"]) if (k, s) in t.index else math.nan  # noqa: E731
    instances = S.get_profile(col.profile).instances
    done = lambda k, names: all(  # noqa: E731
        (k, s) in t.index and t.loc[(k, s), "ours_n"] >= instances for s in names)
    ks = list(S.get_profile(col.profile).sparsity_class_counts)
    rows = []
    for k in [k for k in ks if k in (2, 4)]:
        means = [m(k, s) for s in SETTING_ORDER]
        rows.append({"claim": f"for {k} classes the five methods are about equal",
                     "test": "range of the five means ≤ 0.05",
                     "ours": "—" if any(math.isnan(v) for v in means) else f"range {max(means) - min(means):.2f}",
                     "outcome": _outcome(means, lambda *v: max(v) - min(v) <= 0.05, done(k, SETTING_ORDER))})
    if 20 in ks:
        comp, others = m(20, "comparison"), [m(20, s) for s in SETTING_ORDER if s != "comparison"]
        best = max(others) if not any(math.isnan(v) for v in others) else math.nan
        rows.append({"claim": "for 20 classes the forward model on all data wins by a big margin",
                     "test": "comparison − best other ≥ 0.2", "ours": f"{_f(comp)} vs {_f(best)}",
                     "outcome": _outcome([comp, best], lambda a, b: a - b >= 0.2, done(20, SETTING_ORDER))})
        three = [m(20, "all data"), m(20, "sparse4"), m(20, "sparse1")]
        rows.append({"claim": "for 20 classes IC gets better with less data (all < sparse4 < sparse1)",
                     "test": "ordering of the three means",
                     "ours": "all {}, sparse4 {}, sparse1 {}".format(*map(_f, three)),
                     "outcome": _outcome(three, lambda a, b, c: a < b < c,
                                         done(20, ["all data", "sparse4", "sparse1"]))})
        pair = [m(20, "sparse1"), m(20, "sparse comparison")]
        tol = max(0.05, 2 * max(sd(20, "sparse1"), sd(20, "sparse comparison"))) if not any(
            math.isnan(v) for v in pair) else math.nan
        rows.append({"claim": "for 20 classes sparse1 IC is as good as the sparse forward model",
                     "test": "|difference| ≤ max(0.05, 2 sd)", "ours": "{} vs {}".format(*map(_f, pair)),
                     "outcome": _outcome(pair + [tol], lambda a, b, t_: abs(a - b) <= t_,
                                         done(20, ["sparse1", "sparse comparison"]))})
    return pd.DataFrame(rows, columns=["claim", "test", "ours", "outcome"])


def _forward_accuracy(col: Collected, fraction: float) -> dict[tuple[int, int], tuple[float, int]]:
    """(k, instance) → (accuracy, training sequences) of the all-data forward classifiers trained on
    ``fraction`` of their training split (1: the comparison)."""
    out = {}
    for j in col.jobs:
        c = j.config
        if (j.kind == "train_fwd" and c["variant"] == "all" and c.get("train_fraction", 1.0) == fraction
                and j.key in col.records):
            r = col.get(j)
            out[(c["k"], j.seed)] = (r["accuracy"], r["n_train"])
    return out


def data_size_table(sparse: Collected, size: Collected) -> pd.DataFrame:
    """Beyond the sources: the forward classifier on all of our training split and on a stratified part of it
    (same split, seed and schedule per instance), per class count. The drop is paired per instance. If the
    learning curve flattens (the usual shape past the first examples), the next doubling of the data gains at
    most what the last one did: 'all + drop' bounds
    what the forward classifier could reach with twice our training data (the thesis's amount, on the UCI file).
    """
    p = S.get_profile(size.profile)
    full, part = _forward_accuracy(sparse, 1.0), _forward_accuracy(size, p.data_size_fraction)
    rows = []
    for k in p.data_size_class_counts:
        pairs = sorted(i for kk, i in full if kk == k and (k, i) in part)
        acc_part = summarise([part[(k, i)][0] for i in sorted(i for kk, i in part if kk == k)])
        acc_full = summarise([full[(k, i)][0] for i in sorted(i for kk, i in full if kk == k)])
        drop = summarise([full[(k, i)][0] - part[(k, i)][0] for i in pairs])
        complete = drop["n"] >= p.instances
        bound = acc_full["mean"] + drop["mean"] if complete else math.nan
        n_part = [part[(k, i)][1] for i in pairs]
        rows.append({"classes": k,
                     "training sequences (part | all)": (f"{int(np.mean(n_part))} | "
                                                         f"{int(np.mean([full[(k, i)][1] for i in pairs]))}"
                                                         if pairs else "—"),
                     f"forward, {p.data_size_fraction:g} of our training split": fmt(acc_part),
                     "forward, all of our training split": fmt(acc_full),
                     "lost by the cut (paired)": fmt(drop),
                     "at most with twice our data": "—" if math.isnan(bound) else f"{min(bound, 1.0):.2f}",
                     "thesis (all data, twice ours)": f"{reference.LSTM_SPARSITY_BARS['comparison'][k]:.2f}",
                     "drop_mean": drop["mean"], "drop_n": drop["n"], "bound_mean": bound})
    return pd.DataFrame(rows)


def data_size_finding(row: pd.Series) -> str:
    """One sentence on a row of :func:`data_size_table` for the chapter: what the cut costs and whether the
    missing half of the data can explain the gap to the thesis's forward classifier (the bound reaches the
    thesis's number within the 'reproduced' tolerance of the verdict rule)."""
    if row["drop_n"] == 0:
        return "The test has not run yet."
    lost, ref = row["lost by the cut (paired)"], float(row["thesis (all data, twice ours)"])
    if math.isnan(row["bound_mean"]):
        return f"So far the cut costs the forward classifier {lost}; the bound waits for every instance."
    bound = min(row["bound_mean"], 1.0)
    verdict_ = ("so the missing half of the recordings can explain the shortfall" if bound >= ref - 0.05 else
                "so the missing half of the recordings does not explain the whole shortfall")
    return (f"Training on half of our training split costs the forward classifier {lost}; with twice our data it "
            f"could reach at most {bound:.2f}, against the thesis's {ref:.2f}: {verdict_}.")


def public(df: pd.DataFrame) -> pd.DataFrame:
    """Drop the helper columns (``*_mean``, ``*_std``, ``*_n``) for display."""
    return df[[c for c in df.columns if not c.endswith(("_mean", "_std", "_n"))]]


def split_summary(profile: str) -> str:
    """Deterministic description of the data each instance sees (for the notebook and nbval)."""
    p = S.get_profile(profile)
    data = S.load_data()
    lines = [f"data: {data.source}, {len(data.labels)} labelled recordings, 205 steps × 2 coordinates"]
    for k in sorted(set(p.noise_class_counts) | set(p.sparsity_class_counts)):
        sizes = []
        for seed in sorted({S.split_of(p, i) for i in range(p.instances)}):
            sp = S.make_split(data, k, seed)
            sizes.append(f"split {seed}: {len(sp.y_train)} train / {len(sp.y_test)} test")
        lines.append(f"{k:>2} classes — " + "; ".join(sizes))
    return "\n".join(lines)


def progress_note(*cols: Collected) -> str:
    """One sentence: how many of the jobs behind ``cols`` are in the store, their CPU time and device."""
    done, total = sum(c.n_done for c in cols), sum(c.n_jobs for c in cols)
    cpu = sum(c.cpu_hours() for c in cols)
    devices = sorted({d for c in cols for d in c.devices().split(", ") if d != "—"}) or ["—"]
    return (f"{done} of the {total} {cols[0].profile}-profile jobs behind these results are in the results store "
            f"({cpu:.2f} CPU-hours, device: {', '.join(devices)}).")


_KIND_NAMES = {"train_gen": "train a generator", "train_fwd": "train a forward classifier",
               "ic": "inverse-classify a test split", "heatmap": "compute one model's heat maps",
               "vertex": "decode a test split at the vertices", "nearest_centre": "nearest-centre classifier"}


def cost_table(col: Collected) -> pd.DataFrame:
    """CPU time per kind of job and class count, over the jobs in the store (plus what is still missing)."""
    rows = []
    for j in col.jobs:
        r = col.records.get(j.key)
        model = j.config.get("gen_config", j.config)          # IC and heat-map jobs: their generator's config
        name = _KIND_NAMES.get(j.kind, j.kind)
        if "train_fraction" in model:
            name += f" on {model['train_fraction']:g} of the data"
        rows.append({"job": name, "classes": model["k"],
                     "batch": model.get("batch_size", "—"), "done": r is not None,   # nearest centre: no model
                     "cpu_s": r["cpu_time_s"] if r else np.nan})
    df = pd.DataFrame(rows)
    df["batch"] = df["batch"].astype(str)
    out = (df.groupby(["job", "classes", "batch"], sort=True)
             .agg(jobs=("done", "size"), done=("done", "sum"), cpu_h=("cpu_s", lambda s: s.sum() / 3600),
                  per_job_min=("cpu_s", lambda s: s.mean() / 60))
             .reset_index())
    total = {"job": "total", "classes": "", "batch": "", "jobs": int(out["jobs"].sum()),
             "done": int(out["done"].sum()), "cpu_h": out["cpu_h"].sum(), "per_job_min": np.nan}
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    out["CPU hours"] = out["cpu_h"].map(lambda v: f"{v:.2f}")
    out["CPU minutes per job"] = out["per_job_min"].map(
        lambda v: "—" if not np.isfinite(v) else f"{v:.1f}" if v >= 1 else f"{v:.2f}")
    return out.drop(columns=["cpu_h", "per_job_min"])


__all__ = ["collect", "noise_table", "noise_accuracy_figure", "heatmap_panels", "heatmap_all_instances",
           "diagonal_table", "training_curves", "validation_curves", "multistart_table",
           "protocol_table", "sparsity_table", "sparsity_barplot",
           "sparsity_claims", "data_size_table", "data_size_finding", "public", "progress_note", "cost_table",
           "VERDICT_RULE"]
