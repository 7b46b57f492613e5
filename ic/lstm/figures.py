"""Figures of the LSTM chapter, built from the results store in the book's style (:mod:`ic.plotting`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from .. import plotting, reference
from ..report import Collected, empty_figure
from .frames import VARIANT_NAMES, diagnostic_frame, fit_frame, heatmap_frame, ic_frame, sparsity_frame
from .profiles import get_profile
from .report import SETTING_ORDER

plotting.use_book_style()


def _finish(fig, legend_ax, title: str | None = None):
    """Tight layout, with room for one legend under the panels (the handles of ``legend_ax``)."""
    plotting.legend_outside(fig, legend_ax, title=title)
    fig.tight_layout(rect=(0, 0.16, 1, 1))
    return fig


def noise_accuracy_figure(col: Collected):
    """Inverse-classification accuracy per σ and class count: our instances, their mean ± sd, the thesis's mean."""
    df = ic_frame(col)
    df = df[df.variant == "all"]
    if df.empty:
        return empty_figure("no inverse-classification job in the results store yet")
    ref = pd.DataFrame([{"sigma": s, "k": k, "accuracy": float(np.mean(v))}
                        for (s, k), v in reference.LSTM_NOISE_RUNS.items()])
    ks = sorted(df.k.unique())
    fig, axes = plotting.panel_grid(len(ks), sharey=True, panel_aspect=1.0)
    for ax, k in zip(axes, ks):
        d = df[df.k == k]
        sns.stripplot(data=d, x="sigma", y="accuracy", ax=ax, color="tab:blue", alpha=0.6, size=5, jitter=0.15)
        sns.pointplot(data=d, x="sigma", y="accuracy", ax=ax, color="tab:blue", errorbar="sd", markers="o",
                      linestyles="-", label="ours (mean ± sd)")
        r = ref[ref.k == k].set_index("sigma").reindex(sorted(d.sigma.unique()))
        ax.plot(range(len(r)), r.accuracy.values, "s--", color="tab:orange", label="thesis (mean of 5)")
        ax.axhline(reference.CHANCE[k], color="grey", lw=1, ls=":", label="chance")
        ax.set(title=f"{k} classes", xlabel="training noise σ", ylabel="", ylim=(0, 1.05))
    axes[0].set_ylabel("IC accuracy")
    return _finish(fig, axes[-1])


def ic_loss_curves(col: Collected):
    """Mean reconstruction loss over the inverse-classification iterations, per class count and σ (each line:
    one instance's mean over its test probes)."""
    rows = [{"k": j.config["gen_config"]["k"], "σ": j.config["gen_config"]["sigma"], "instance": j.config["gen_seed"],
             "iteration": it, "MSE": v}
            for j in col.jobs if j.kind == "ic" and j.key in col.records
            for it, v in enumerate(col.get(j)["loss_curve_mean"])]
    df = pd.DataFrame(rows, columns=["k", "σ", "instance", "iteration", "MSE"])
    if df.empty:
        return empty_figure("no inverse-classification job in the results store yet")
    ks = sorted(df.k.unique())
    fig, axes = plotting.panel_grid(len(ks), panel_aspect=1.0)
    for ax, k in zip(axes, ks):
        sns.lineplot(data=df[df.k == k], x="iteration", y="MSE", hue="σ", units="instance", estimator=None,
                     ax=ax, palette="viridis", lw=1, alpha=0.8)
        plotting.log_y(ax)
        ax.set(title=f"{k} classes", ylabel="")
    axes[0].set_ylabel("mean probe MSE")
    return _finish(fig, axes[-1], title="σ")


def diagnostic_figure(ics: list[Collected], diag: Collected):
    """One dot per generator: IC accuracy (uniform start) against decoding at its vertices."""
    df = diagnostic_frame(ics, diag)
    if df.empty:
        return empty_figure("no generator with both results in the store yet")
    df = df.assign(data=df.variant.map(VARIANT_NAMES), σ=df.sigma.map("{:.1f}".format))
    sigmas = sorted(df.σ.unique())
    palette = dict(zip(sigmas, sns.color_palette("viridis", len(sigmas))))
    ks = sorted(df.k.unique())
    fig, axes = plotting.panel_grid(len(ks), panel_aspect=1.0)
    for ax, k in zip(axes, ks):
        d = df[df.k == k]
        sns.scatterplot(data=d, x="vertex", y="accuracy", hue="σ", hue_order=sigmas, palette=palette, style="data",
                        style_order=["all data", "sparse4", "sparse1"], ax=ax, s=45, alpha=0.85)
        lo = min(reference.CHANCE[k], d.accuracy.min(), d.vertex.min())
        ax.plot([lo, 1], [lo, 1], color="grey", lw=1, ls="--")
        ax.set(xlim=(lo - 0.05, 1.03), ylim=(lo - 0.05, 1.03), title=f"{k} classes", xlabel="vertex decoding",
               ylabel="")
    axes[0].set_ylabel("IC accuracy, uniform start")
    plotting.legend_outside(fig, axes[-1], ncol=5)
    fig.tight_layout(rect=(0, 0.22, 1, 1))
    return fig


# ------------------------------------------------------------------------------------------ heat maps
def heatmap_panels(col: Collected, metric: str = "dtw", instance: int = 0):
    """The source's six panels (σ 0 … 0.4 to target 'a', and σ 0.3 to target 'b'), all from one instance
    chosen by a fixed rule (instance 0), not cherry-picked. Light = close to the target."""
    df = heatmap_frame(col)
    df = df[df.instance == instance].set_index("sigma")
    if df.empty:
        return empty_figure(f"no heat-map job of instance {instance} in the results store yet")
    sigmas = [s for s in get_profile(col.profile).noise_sigmas if s in df.index]
    panels = [(s, "a") for s in sigmas] + ([(0.3, "b")] if 0.3 in df.index else [])
    cells = {(i // 3, i % 3): panel for i, panel in enumerate(panels)}
    maps = {cell: df.loc[s, f"{metric}_{t}"] for cell, (s, t) in cells.items()}
    titles = {cell: f"{'no noise' if s == 0 else f'σ {s}'}, to '{t}'" for cell, (s, t) in cells.items()}
    return plotting.heatmap_grid(maps, sorted({r for r, _ in cells}), [0, 1, 2], titles=titles, xlabel="'b' entry",
                                 ylabel="'a' entry", cbar_label=f"{metric.upper()} to the target")


def heatmap_all_instances(col: Collected, metric: str = "dtw", target: str = "a"):
    """Every instance (columns) for every σ (rows) on one relative scale (0: the cell nearest the target, 1: the
    farthest), with each model's diagonal agreement: what a single published panel hides."""
    df = heatmap_frame(col)
    if df.empty:
        return empty_figure("no heat-map job in the results store yet")

    def relative(m):
        return (m - m.min()) / max(m.max() - m.min(), 1e-12)

    maps = {(r.sigma, r.instance): relative(r[f"{metric}_{target}"]) for _, r in df.iterrows()}
    notes = {(r.sigma, r.instance): f"{r[f'agreement_{metric}']:.2f}" for _, r in df.iterrows()}
    return plotting.heatmap_grid(maps, sorted(df.sigma.unique()), sorted(df.instance.unique()),
                                 row_label=lambda s: f"σ {s}", col_label=lambda i: f"#{i}", xlabel="'b' entry",
                                 ylabel="'a' entry", notes=notes,
                                 cbar_label=f"relative {metric.upper()} to target '{target}'")


def simplex_profiles(heat: Collected, noise: Collected, metric: str = "mse"):
    """Distance to the 'a' target along the simplex (the grid's anti-diagonal, c = [t, 1 − t]) per instance,
    coloured by the instance's inverse-classification accuracy. Inverse classification starts at t = 0.5 and
    can only follow the slope: a step-shaped profile leaves it on a flat plateau on the wrong side."""
    df = heatmap_frame(heat)
    if df.empty:
        return empty_figure("no heat-map job in the results store yet")
    acc = ic_frame(noise)
    acc = acc[(acc.k == 2) & (acc.variant == "all")].set_index(["sigma", "instance"]).accuracy
    sigmas = sorted(df.sigma.unique())
    fig, axes = plotting.panel_grid(len(sigmas) + 1, sharey=True, panel_aspect=0.9)
    cmap, norm = plt.get_cmap("RdYlGn"), plt.Normalize(0.5, 1.0)
    for ax, s in zip(axes, sigmas):
        for _, row in df[df.sigma == s].iterrows():
            prof = np.fliplr(row[f"{metric}_a"]).diagonal()     # the anti-diagonal: c = [t, 1 − t]
            a = acc.get((s, row.instance), np.nan)
            ax.plot(np.linspace(0, 1, len(prof)), prof, color="grey" if np.isnan(a) else cmap(norm(a)), lw=1.8)
        ax.axvline(0.5, color="grey", ls=":", lw=1)
        ax.set(title=f"σ = {s}", xlabel="t")
    axes[0].set_ylabel(f"{metric.upper()} to 'a'")
    axes[-1].axis("off")
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes[-1], fraction=0.5, aspect=12,
                 label="IC accuracy")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------ training
def training_curves(cols: list[Collected], k: int = 2, sigma: float = 0.2):
    """Training and validation loss per epoch for one setting: minibatch runs and batch-1 (thesis) runs."""
    df = pd.concat([fit_frame(c) for c in cols])
    df = df[(df.kind == "train_gen") & (df.k == k) & (df.sigma == sigma) & (df.variant == "all")]
    fig, axes = plotting.subplots(1, 2, sharey=True)
    for ax, (batch1, title) in zip(axes[0], [(False, "minibatch (ours)"), (True, "batch 1 (thesis)")]):
        d = df[(df.batch_size == 1) == batch1]
        for _, row in d.iterrows():
            ax.plot(row.epochs, row.train_loss, color="tab:blue", alpha=0.5, lw=1)
            if row.val_loss:
                ax.plot(row.epochs, row.val_loss, color="tab:orange", alpha=0.6, lw=1)
        plotting.log_y(ax)
        ax.set(xlabel="epoch", title=f"{title}: {len(d)} runs")
    axes[0][0].set_ylabel("MSE")
    handles = [Line2D([], [], color="tab:blue", label="training (noisy inputs)"),
               Line2D([], [], color="tab:orange", label="validation")]
    fig.legend(handles=handles, loc="lower center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def validation_curves(col: Collected, k: int = 20):
    """Held-out MSE per epoch of every all-data generator of one class count, one panel per σ; dotted: the
    minimum number of epochs of an early-stopped schedule."""
    f = fit_frame(col)
    f = f[(f.kind == "train_gen") & (f.variant == "all") & (f.k == k)]
    if not len(f):
        return empty_figure(f"no {k}-class generator in the results store yet")
    sigmas = sorted(f.sigma.unique())
    fig, axes = plotting.panel_grid(len(sigmas) + 1, sharey=True, panel_aspect=0.85)
    for ax, sigma in zip(axes, sigmas):
        d = f[f.sigma == sigma]
        for _, row in d.iterrows():
            ax.plot(row.epochs, row.val_loss, lw=1.2, label=f"#{row.instance}")
            ax.plot(row.best_epoch, row.best_val_loss, "k.", ms=6)
        if d.min_epochs.notna().any():
            ax.axvline(float(d.min_epochs.dropna().iloc[0]), color="grey", ls=":", lw=1.2)
        plotting.log_y(ax)
        ax.set(title=f"σ {sigma} (n = {len(d)})", xlabel="epoch")
    axes[0].set_ylabel("validation MSE")
    plotting.legend_in(axes[-1], axes[0], title=f"{k} classes, instance")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------ sparsity
def sparsity_barplot(col: Collected):
    """Accuracy per setting and class count: ours (mean ± sd over instances; forward classifiers scored with the
    thesis's strict rule, like the source's bars) beside the source's bar plot."""
    df = sparsity_frame(col)
    df = df.assign(accuracy=df.thesis_rule)
    ks = list(get_profile(col.profile).sparsity_class_counts)
    ref = pd.DataFrame([{"setting": s, "k": k, "accuracy": v} for s, d in reference.LSTM_SPARSITY_BARS.items()
                        for k, v in d.items() if k in ks])
    fig, axes = plotting.subplots(1, 2, sharey=True, aspect=0.5)
    for ax, data, title, err in ((axes[0][0], df, "ours (mean ± sd)", "sd"),
                                 (axes[0][1], ref, "source's bar plot (mean of 5)", None)):
        sns.barplot(data=data, x="k", y="accuracy", hue="setting", hue_order=SETTING_ORDER, order=ks, errorbar=err,
                    capsize=0.08 if err else 0, ax=ax, palette="colorblind")
        ax.set(title=title, xlabel="number of classes", ylim=(0, 1.05))
    axes[0][0].set_ylabel("test accuracy")
    plotting.legend_outside(fig, axes[0][0], ncol=3)
    fig.tight_layout(rect=(0, 0.18, 1, 1))
    return fig


def confusion_figure(matrices: dict[str, np.ndarray]):
    """Row-normalised confusion matrices (true letter × predicted letter) side by side, one colour scale."""
    from ..data.trajectories import CLASSES

    if not matrices or all(m.sum() == 0 for m in matrices.values()):
        return empty_figure("no inverse-classification run of these settings in the results store yet")
    fig, axes = plotting.subplots(1, len(matrices), aspect=0.55 if len(matrices) > 1 else 0.9)
    im = None
    for ax, (title, m) in zip(axes[0], matrices.items()):
        k = m.shape[0]
        im = ax.imshow(m, cmap="Blues", vmin=0, vmax=1)
        letters = list(CLASSES[:k])
        step = 1 if k <= 10 else 2
        ax.set_xticks(range(0, k, step), letters[::step])
        ax.set_yticks(range(0, k, step), letters[::step])
        ax.grid(False)
        ax.set(title=title, xlabel="predicted letter")
    axes[0][0].set_ylabel("true letter")
    fig.tight_layout(rect=(0, 0, 0.88, 1))
    cax = fig.add_axes((0.9, 0.2, 0.02, 0.6))
    fig.colorbar(im, cax=cax, label="share of the true letter's probes")
    return fig
