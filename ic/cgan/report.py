"""Tables and figures of the cGAN chapter, built from the results store (the notebooks only call these)."""

from __future__ import annotations

import base64
import io
import math

import numpy as np
import pandas as pd

from .. import reference
from ..plotting import figsize, log_y, panel_grid, subplots
from .. import report as base
from ..report import Collected, difference_text, empty_figure, frame
from ..report import progress_note as progress_line  # noqa: F401  (the pages' one-line progress note)
from .jobs import LABEL_NOISE
from .profiles import epoch_cap, get_profile

NAN = float("nan")
STUDY = "cgan"


def collect_parts(profile: str, names: list[str], run_missing: bool = True) -> Collected:
    """The records of several parts of the study at once (each job once)."""
    get_profile(profile)                       # an unknown profile fails here, at the notebook's first cell
    return base.collect_parts(STUDY, profile, names, run_missing)


def study_parts(profile: str) -> list[str]:
    from .study import STUDY as study

    return list(study.parts(profile))


def training_parts(profile: str) -> list[str]:
    return [f"training nz={nz}" for nz in get_profile(profile).noise_sizes]


def control_parts(profile: str) -> list[str]:
    """The parts of the label-noise controls (a noise size trained without label noise, with its runs)."""
    from .study import control_part

    return [control_part(nz) for nz in get_profile(profile).label_noise_controls]


def control_sizes(profile: str) -> list[int]:
    return list(get_profile(profile).label_noise_controls)


def main_nz(profile: str) -> int:
    return get_profile(profile).main_nz


# ------------------------------------------------------------------------------------------- training
def training_frame(col: Collected) -> pd.DataFrame:
    """One row per finished epoch job: noise size, epoch, whether it trained, the selection scores, the
    inverse-classification accuracy on the curve probes, the discriminator's outputs and the wall time."""
    df = frame(col, "gan_epoch", {
        "nz": "config.gan.nz", "epoch": "config.epoch", "trained": ("result.trained", True),
        "conditioning": ("result.conditioning_score", NAN), "diversity": ("result.diversity", NAN),
        "eligible": ("result.eligible", False), "curve_ic": ("result.curve_ic_accuracy", NAN),
        "curve_n": ("result.curve_n", 0), "d_real": ("result.d_real_mean", NAN),
        "d_fake": ("result.d_fake_mean", NAN), "wall_min": lambda j, r: r["wall_time_s"] / 60,
        "label_noise": "config.gan.label_noise"})
    return df.sort_values(["nz", "label_noise", "epoch"], ascending=[True, False, True]).reset_index(drop=True)


def gan_rows(train: pd.DataFrame, nz: int, label_noise: float = LABEL_NOISE) -> pd.DataFrame:
    """The epochs of one GAN in the training frame: noise size ``nz`` trained with ``label_noise``."""
    return train[(train.nz == nz) & (train.label_noise == label_noise)]


def gan_label(nz: int, label_noise: float = LABEL_NOISE) -> str:
    """How the book names a GAN: "nz 25", or "nz 100, no label noise" for a control."""
    if label_noise == LABEL_NOISE:
        return f"nz {nz}"
    return f"nz {nz}, no label noise" if label_noise == 0 else f"nz {nz}, label noise {label_noise:g}"


def conditioning_milestones(train: pd.DataFrame, nz: int) -> dict[str, str]:
    """Texts for the chapter on how one GAN learnt its classes (epochs counted from 1): the highest conditioning
    score of the first three epochs, the first epoch at or above 0.5, the latest epoch with its conditioning
    score and curve accuracy, and the range and standard deviation of the curve accuracy from the tenth epoch on
    (``late_range``, ``late_sd``), with the binomial standard error of one such accuracy (``curve_se``)."""
    d = gan_rows(train, nz)
    d = d[d.trained].sort_values("epoch")
    if d.empty:
        return {"early": "—", "half": "not yet", "last_epoch": "—", "last_score": "—", "last_curve": "—",
                "late_range": "—", "curve_se": "—", "late_sd": "—"}
    above = d[d.conditioning >= 0.5]
    last = d.iloc[-1]
    late = d[d.epoch >= 9]
    return {"early": f"{d.conditioning.iloc[:3].max():.2f}",
            "half": "not yet" if above.empty else f"epoch {int(above.epoch.iloc[0]) + 1}",
            "last_epoch": str(int(last.epoch) + 1), "last_score": f"{last.conditioning:.2f}",
            "last_curve": f"{last.curve_ic:.2f}",
            "late_range": "—" if late.empty else f"{late.curve_ic.min():.2f} to {late.curve_ic.max():.2f}",
            "curve_se": "—" if late.empty else
            f"{probe_sampling_se(float(late.curve_ic.mean()), int(late.curve_n.iloc[0])):.3f}",
            "late_sd": f"{late.curve_ic.std(ddof=1):.3f}" if len(late) > 1 else "—"}


def selected_row(rows: pd.DataFrame) -> pd.Series | None:
    """The selected epoch's row among one GAN's trained epochs (sorted by epoch): the selection rule of
    :func:`ic.cgan.selection.select_epoch` — the eligible epoch with the highest conditioning score, the earliest
    on a tie — on the training frame; ``None`` if no epoch is eligible."""
    from .selection import select_epoch

    best = select_epoch(rows.rename(columns={"conditioning": "conditioning_score"}).to_dict("records"))
    return None if best is None else rows[rows.epoch == best["epoch"]].iloc[0]


def _prob(v: float) -> str:
    """A probability to three decimals, with "< 0.001" / "> 0.999" instead of 0.000 / 1.000."""
    return "< 0.001" if v < 0.0005 else "> 0.999" if v > 0.9995 else f"{v:.3f}"


def collapse_facts(train: pd.DataFrame, nz: int, label_noise: float = LABEL_NOISE) -> dict[str, str] | None:
    """How the GAN of noise size ``nz`` collapsed (epochs counted from 1), or ``None`` if none of its epochs fell
    below the diversity threshold: the first collapsed epoch and its diversity (and the epoch before's), the
    discriminator's mean outputs on generated and real images at their most confident epoch, whether it
    recovered, when training ended and whether by the rule, and the selected epoch with its conditioning score."""
    rows = gan_rows(train, nz, label_noise)
    d = rows[rows.trained].sort_values("epoch")
    bad = d[~d.eligible]
    if bad.empty:
        return None
    first = bad.iloc[0]
    before = d[d.epoch < first.epoch]
    sure = bad.loc[bad.d_fake.idxmin()]
    after = d[d.epoch > bad.epoch.max()]
    sel = selected_row(d)
    return {"first": str(int(first.epoch) + 1), "diversity": f"{first.diversity:.2f}",
            "diversity_before": f"{before.diversity.iloc[-1]:.2f}" if len(before) else "—",
            "d_fake": _prob(sure.d_fake), "d_real": _prob(sure.d_real), "d_epoch": str(int(sure.epoch) + 1),
            "recovered": f"after {int(after.epoch.iloc[0]) + 1} epochs" if len(after) else "no",
            "epochs": str(len(d)), "stopped_by_rule": "yes" if (~rows.trained).any() else "no",
            "selected": "—" if sel is None else str(int(sel.epoch) + 1),
            "selected_score": "—" if sel is None else f"{sel.conditioning:.2f}"}


def training_progress(col: Collected, train: pd.DataFrame, profile: str) -> str:
    """One sentence on the state of the trainings, for the top of the chapter."""
    p = get_profile(profile)
    parts = []
    for nz in p.noise_sizes:
        rows = gan_rows(train, nz)
        if rows.empty:
            parts.append(f"nz {nz}: not started")
        else:
            parts.append(f"nz {nz}: {int(rows.trained.sum())} epochs, {_status(rows, p)}")
    hours = col.cpu_hours()
    return (f"Profile {profile}: " + "; ".join(parts) + f". {col.n_done} of {col.n_jobs} training and baseline jobs "
            f"are in the results store ({hours:.1f} CPU-hours).")


def grid_epochs(train: pd.DataFrame, profile: str) -> list[int]:
    """Epochs whose sample grids the book shows for the main generator: the first, the selected, the last."""
    rows = gan_rows(train, main_nz(profile))
    rows = rows[rows.trained]
    if rows.empty:
        return []
    sel = selected_row(rows.sort_values("epoch"))
    chosen = [int(rows.epoch.min())]
    if sel is not None:
        chosen.append(int(sel.epoch))
    chosen.append(int(rows.epoch.max()))
    return sorted(set(chosen))


def _status(rows: pd.DataFrame, p) -> str:
    trained = rows[rows.trained]
    if (~rows.trained).any():
        return f"stopped by the rule after epoch {int(trained.epoch.max())}"
    cap = epoch_cap(p, int(rows.nz.iloc[0]))
    if len(trained) >= cap:
        return f"reached the cap of {cap} epochs"
    return "training"


def untrained_sizes(train: pd.DataFrame, profile: str) -> dict[int, str]:
    """Noise sizes whose GAN (trained with the source's label noise) ended its training without learning its
    classes — the checkpoint the rule selects scores below :data:`ic.cgan.selection.MIN_CONDITIONING` — each with
    the reason, for :func:`claims`. A GAN still in training is never listed."""
    from .selection import MIN_CONDITIONING

    if train.empty:
        return {}
    sel = selection_table(train[train.label_noise == LABEL_NOISE], profile)
    return {int(r.nz): (f"its GAN did not learn its classes (conditioning {r.conditioning:.2f} at the selected "
                        f"epoch): the comparison tests that training, not the noise size")
            for r in sel.itertuples() if r.state != "training" and r.conditioning < MIN_CONDITIONING}


def selection_table(train: pd.DataFrame, profile: str) -> pd.DataFrame:
    """Per noise size: epochs trained, state, the selected epoch with its scores, the curve accuracy there, and
    the spread of the curve accuracy over the epochs from the 10th on (how much the checkpoint matters); beside
    the epoch the source's author picked by eye. Numeric; ``attrs['display']`` for the book."""
    p = get_profile(profile)
    out = []
    for (nz, sigma), rows in train.groupby(["nz", "label_noise"], sort=False):
        trained = rows[rows.trained]
        sel = selected_row(trained.sort_values("epoch"))
        late = trained[trained.epoch >= 9]
        out.append({"nz": int(nz), "label_noise": float(sigma), "epochs": int(len(trained)),
                    "state": _status(rows, p),
                    "selected_epoch": int(sel.epoch) if sel is not None else -1,
                    "conditioning": float(sel.conditioning) if sel is not None else NAN,
                    "diversity": float(sel.diversity) if sel is not None else NAN,
                    "curve_ic": float(sel.curve_ic) if sel is not None else NAN,
                    "curve_ic_min": float(late.curve_ic.min()) if len(late) else NAN,
                    "curve_ic_max": float(late.curve_ic.max()) if len(late) else NAN,
                    "source_epoch": reference.CGAN_PICKED_EPOCH.get(int(nz), -1)})
    df = pd.DataFrame(out)
    df.attrs["display"] = {
        "noise size": lambda r: gan_label(r["nz"], r["label_noise"]).removeprefix("nz "), "epochs trained": "epochs",
        "selected (epochs trained)": lambda r: "—" if r["selected_epoch"] < 0 else str(r["selected_epoch"] + 1),
        "conditioning score": lambda r: _f(r["conditioning"]), "diversity": lambda r: _f(r["diversity"]),
        "IC, 200 probes": lambda r: _f(r["curve_ic"]),
        "IC from epoch 10": lambda r: ("—" if math.isnan(r["curve_ic_min"])
                                            else f"{r['curve_ic_min']:.2f}–{r['curve_ic_max']:.2f}"),
        "source's pick": lambda r: str(r["source_epoch"] + 1)}
    return df


def _f(v: float, digits: int = 2) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def training_figure(train: pd.DataFrame):
    """Per epoch, one line per noise size: the conditioning score, the diversity of the samples (with the
    eligibility threshold of the selection rule) and the inverse-classification accuracy on the curve probes.
    The selected epoch is circled; epochs below the diversity threshold (mode collapse) are crossed."""
    from matplotlib.ticker import MaxNLocator

    from .selection import MIN_DIVERSITY

    trained = train[train.trained]
    if trained.empty:
        return empty_figure("no GAN epoch in the results store yet")
    fig, axes = panel_grid(3, max_cols=3, panel_aspect=1.05, sharex=True)
    ax1, ax_div, ax2 = axes
    for (nz, sigma), rows in trained.groupby(["nz", "label_noise"], sort=True):
        x = rows.epoch + 1
        line, = ax1.plot(x, rows.conditioning, marker="o", ms=3, label=gan_label(nz, sigma),
                         ls="-" if sigma == LABEL_NOISE else "--")
        color = line.get_color()
        ax_div.plot(x, rows.diversity, marker="o", ms=3, color=color)
        ax2.plot(x, rows.curve_ic, marker="o", ms=3, color=color)
        collapsed = rows[~rows.eligible]
        for ax, col in ((ax1, "conditioning"), (ax_div, "diversity"), (ax2, "curve_ic")):
            ax.plot(collapsed.epoch + 1, collapsed[col], "x", ms=8, mew=1.5, color=color)
        best = selected_row(rows)
        if best is not None:
            for ax, col in ((ax1, "conditioning"), (ax_div, "diversity"), (ax2, "curve_ic")):
                ax.plot(best.epoch + 1, best[col], "o", ms=11, mfc="none", color=color)
    for ax in (ax1, ax_div, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epochs trained")
        ax.set_ylim(0, 1.1 if ax is ax_div else 1)
    for ax in (ax1, ax2):
        ax.axhline(0.1, color="grey", ls=":", lw=1)
    ax_div.axhline(MIN_DIVERSITY, color="grey", ls="--", lw=1)
    ax1.set_ylabel("fraction")
    ax1.set_title("conditioning score")
    ax_div.set_title("diversity")
    ax2.set_title("IC accuracy (curve probes)", fontsize="medium")
    handles, labels = ax1.get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    return fig


def _png(b64: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))))


def sample_grids_figure(col: Collected, nz: int, epochs: list[int]):
    """The stored sample grids (rows: classes 0–9) of the GAN with noise size ``nz`` after the given epochs."""
    grids = {}
    for j in col.jobs:
        r = col.get(j)
        if j.kind == "gan_epoch" and j.config["gan"]["nz"] == nz and r and r.get("trained", True):
            grids[j.config["epoch"]] = r["sample_grid_png"]
    shown = [e for e in epochs if e in grids]
    if not shown:
        return empty_figure(f"no sample grid of nz {nz} in the results store yet")
    fig, axes = subplots(1, len(shown), aspect=0.75 if len(shown) > 2 else 0.6)
    for ax, e in zip(axes[0], shown):
        ax.imshow(_png(grids[e]), cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"after {e + 1} epoch{'s' if e else ''}")
        ax.set_yticks(np.arange(10) * 28 + 14, [str(c) for c in range(10)])
        ax.set_xticks([])
        ax.grid(False)
    axes[0][0].set_ylabel("conditioned on class")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------- inverse classification
def ic_frame(col: Collected) -> pd.DataFrame:
    """One row per finished inverse-classification run: the setting, the repeat, accuracy and what it rests on."""
    return frame(col, "ic", {
        "nz": "config.generator.nz", "alpha": "config.alpha", "late_k": "config.late_k", "bn": "config.bn",
        "optimizer": "config.optimizer", "precision": "config.precision", "repeat": "seed",
        "accuracy": "result.accuracy", "n_probes": "result.n_probes", "selected_epoch": "result.selected_epoch",
        "final_loss": "result.final_loss_mean", "max_entry": "result.max_entry_mean",
        "predictions": "result.predictions", "labels": "result.labels",
        "label_noise": ("config.generator.label_noise", LABEL_NOISE)})


def probe_sampling_se(accuracy: float, n: int) -> float:
    """Binomial standard error of an accuracy measured on ``n`` probes (the error of using a subset of the test
    set, which the repeats do not show: every repeat sees the same probes)."""
    return math.sqrt(accuracy * (1 - accuracy) / n) if n else NAN


BASELINE_NAMES = {"nearest_neighbour": "nearest neighbour (pixels, 60 000 training images)",
                  "small_cnn": "small CNN (the judge)"}


def baseline_table(col: Collected) -> pd.DataFrame:
    """Accuracy of each baseline on the probes, with its probe-sampling standard error."""
    df = frame(col, "baseline", {"method": "config.method", "accuracy": "result.accuracy",
                                 "n_probes": "result.n_probes", "predictions": "result.predictions",
                                 "labels": "result.labels"})
    df["se"] = [probe_sampling_se(a, n) for a, n in zip(df.accuracy, df.n_probes)]
    df.attrs["display"] = {"classifier": lambda r: BASELINE_NAMES.get(r["method"], r["method"]),
                           "accuracy": lambda r: f"{r['accuracy']:.3f} ± {r['se']:.3f}", "probes": "n_probes"}
    return df


# ------------------------------------------------------------------------------------------- reconstructions
def oracle_table(record: dict | None) -> pd.DataFrame:
    """Where the class goes (the ``class_oracle`` job): per probe, the final reconstruction loss of the free
    inversion and of the same inversion with the class vector held at the true one-hot (noise alone optimised,
    from the same start). Per outcome of the free inversion: the probes, both median losses, and the share of
    probes that the true class reconstructs *better* (lower loss) than the free inversion did, with its exact
    95 % interval. Misclassified probes that the true class fits better are failures of the search; those that
    a wrong class fits better show that the reconstruction objective itself prefers the wrong class."""
    from scipy import stats

    columns = ["outcome", "n", "free_median", "held_median", "better", "better_lo", "better_hi"]
    if record is None:
        return pd.DataFrame(columns=columns)
    right = np.asarray(record["predictions"]) == np.asarray(record["labels"])
    free, held = np.asarray(record["final_loss_free"]), np.asarray(record["final_loss_true_class"])
    rows = []
    for outcome, mask in (("classified correctly", right), ("misclassified", ~right)):
        n = int(mask.sum())
        k = int((held[mask] < free[mask]).sum())
        ci = stats.binomtest(k, n).proportion_ci(0.95, method="exact") if n else None
        rows.append({"outcome": outcome, "n": n,
                     "free_median": float(np.median(free[mask])) if n else NAN,
                     "held_median": float(np.median(held[mask])) if n else NAN,
                     "better": 100 * k / n if n else NAN,
                     "better_lo": 100 * ci.low if ci else NAN, "better_hi": 100 * ci.high if ci else NAN})
    df = pd.DataFrame(rows, columns=columns)
    df.attrs["display"] = {
        "probes (free inversion)": "outcome", "n": "n",
        "final MSE, free (median)": lambda r: _f(r["free_median"], 4),
        "final MSE, true class held (median)": lambda r: _f(r["held_median"], 4),
        "true class fits better (%, 95 % interval)": lambda r: (
            "—" if math.isnan(r["better"]) else f"{r['better']:.0f} [{r['better_lo']:.0f}, {r['better_hi']:.0f}]")}
    return df


def oracle_texts(table: pd.DataFrame) -> dict[str, str]:
    """Glue texts of :func:`oracle_table`: ``cgan_oracle_wrong_n`` and ``cgan_oracle_wrong_better`` (the share of
    misclassified probes the true class fits better, with its interval), the same for the correct ones."""
    out = {}
    for key, outcome in (("wrong", "misclassified"), ("right", "classified correctly")):
        row = table[table.outcome == outcome]
        if not len(row) or not row.n.iloc[0]:
            for name in ("n", "better", "free_median", "held_median"):
                out[f"cgan_oracle_{key}_{name}"] = "not run yet"
            continue
        r = row.iloc[0]
        out[f"cgan_oracle_{key}_n"] = str(int(r["n"]))
        out[f"cgan_oracle_{key}_free_median"] = f"{r['free_median']:.4f}"
        out[f"cgan_oracle_{key}_held_median"] = f"{r['held_median']:.4f}"
        out[f"cgan_oracle_{key}_better"] = f"{r['better']:.0f} % ({r['better_lo']:.0f} to {r['better_hi']:.0f} %)"
    return out


def reconstruction_figure(record: dict | None):
    """Probes (top), their reconstructions (middle) and final class vectors (bottom, one column per probe; the
    true class framed in red), columns aligned."""
    import matplotlib.pyplot as plt

    if record is None:
        return empty_figure("the reconstruction job has not run yet")
    probes, recon = _png(record["probe_png"]), _png(record["reconstruction_png"])
    vec = np.asarray(record["class_vectors"])
    n = vec.shape[0]
    fig, axes = plt.subplots(3, 1, figsize=figsize(0.75), gridspec_kw={"height_ratios": [1, 1, 2.3]})
    for ax, img, title in ((axes[0], probes, "probes"), (axes[1], recon, "reconstructions")):
        ax.imshow(img, cmap="gray", extent=(-0.5, n - 0.5, 1, 0), aspect="auto")
        ax.set_axis_off()
        ax.set_title(title)
    ax = axes[2]
    im = ax.imshow(vec.T, aspect="auto", cmap="viridis", vmin=0, vmax=1, extent=(-0.5, n - 0.5, 9.5, -0.5))
    ax.scatter(np.arange(n), record["labels"], marker="s", s=90, facecolors="none", edgecolors="red", lw=1.5)
    ax.grid(False)
    ax.set_xticks(range(n))
    ax.set_yticks(range(10))
    ax.tick_params(axis="y", labelsize="small")
    ax.set_xlabel("probe")
    ax.set_ylabel("class")
    ax.set_title("final class vector (red: true class)")
    fig.colorbar(im, ax=list(axes), shrink=0.5, anchor=(0.0, 0.0))
    return fig


def grad_norm_figure(record: dict | None):
    """Mean gradient norm of the class vector and of the noise per iteration (log scale)."""
    if record is None:
        return empty_figure("the reconstruction job has not run yet")
    fig, axes = subplots(1, 1, aspect=0.45)
    ax = axes[0][0]
    for name, values in record["grad_norms"].items():
        ax.plot(np.arange(1, len(values) + 1), values, label=name)
    log_y(ax)
    ax.set_xlabel("iteration")
    ax.set_ylabel("mean gradient norm")
    ax.legend()
    fig.set_size_inches(*figsize(0.45))
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------- experiments and claims
#: the source's per-run values of each table, keyed by the setting's value
SOURCE_RUNS = {"nz": reference.CGAN_NOISE_SIZE_RUNS, "alpha": reference.CGAN_UPDATE_RATE_RUNS,
               "late_k": reference.CGAN_LATE_UPDATE_RUNS}
#: the other settings of each table's runs (the source's main setting otherwise)
TABLE_FILTER = {"nz": {"alpha": 1.0, "late_k": -1}, "alpha": {"late_k": -1}, "late_k": {"alpha": 1.0}}
MAIN = {"bn": "ghost4", "optimizer": "source_adam"}
SETTING_LABEL = {"nz": "noise size", "alpha": "update rate α", "late_k": "noise updated after iteration"}


def table_runs(ic: pd.DataFrame, setting: str, profile: str,
               label_noise: float | None = LABEL_NOISE) -> pd.DataFrame:
    """The runs of one source table: the main BatchNorm mode, optimiser and precision, the table's fixed
    settings (and nz 25 for Tables 2 and 3), on GANs trained with ``label_noise`` (``None``: any)."""
    p = get_profile(profile)
    if ic.empty:
        return ic
    keep = (ic.bn == MAIN["bn"]) & (ic.optimizer == MAIN["optimizer"]) & (ic.precision == p.precision)
    if label_noise is not None:
        keep &= ic.label_noise == label_noise
    for col, value in TABLE_FILTER[setting].items():
        keep &= ic[col] == value
    if setting != "nz":
        keep &= ic.nz == p.main_nz
    return ic[keep]


def max_entry_text(ic: pd.DataFrame, profile: str) -> str:
    """The mean largest entry of the final class vector in the main setting (α 1, noise moving from the start),
    over its probes and repeats: how far the search is from a one-hot class vector when it stops."""
    runs = table_runs(ic, "alpha", profile)
    main = runs[runs.alpha == 1.0] if not runs.empty else runs
    return "not run yet" if main.empty else f"{main.max_entry.mean():.2f}"


def per_probe(runs: pd.DataFrame) -> np.ndarray:
    """Per-probe correctness averaged over the repeats of one setting (the same probes in every repeat):
    the units on which levels and paired comparisons are judged, so that the probe-sampling error counts."""
    correct = [np.asarray(p) == np.asarray(lab) for p, lab in zip(runs.predictions, runs.labels)]
    return np.mean(correct, axis=0)


def setting_table(ic: pd.DataFrame, setting: str, profile: str,
                  selection: pd.DataFrame | None = None) -> pd.DataFrame:
    """One source table: per setting value, our repeats (mean ± std), the probe-sampling error, the source's
    five runs and the level verdict (:func:`ic.verdict.level` on per-probe correctness against the source's
    runs; 'pending' until every repeat is in). Numeric, with ``attrs['display']``.

    ``selection`` (:func:`selection_table`, for the noise-size table, where every row is its own GAN) adds the
    checkpoint each row's GAN was used at and its conditioning score, so that a row whose GAN never learnt its
    classes is visible as such."""
    from .. import verdict as V

    p = get_profile(profile)
    runs = table_runs(ic, setting, profile)
    rows = []
    for value, source in SOURCE_RUNS[setting].items():
        mine = runs[runs[setting] == value] if not runs.empty else runs
        row = {setting: value, "source_mean": float(np.mean(source)), "source_std": float(np.std(source)),
               "source_n": len(source), "ours_n": int(len(mine))}
        if len(mine):
            acc = mine.accuracy.to_numpy()
            row.update(ours_mean=float(acc.mean()), ours_std=float(acc.std(ddof=1)) if len(acc) > 1 else NAN,
                       probe_se=probe_sampling_se(float(acc.mean()), int(mine.n_probes.iloc[0])),
                       selected_epoch=int(mine.selected_epoch.iloc[0]))
            if len(mine) < p.repeats:
                row["verdict"] = f"pending ({len(mine)} of {p.repeats})"
            else:
                row["verdict"] = V.level(per_probe(mine), source).verdict
        else:
            row.update(ours_mean=NAN, ours_std=NAN, probe_se=NAN, selected_epoch=-1, verdict="not run yet")
        rows.append(row)
    df = pd.DataFrame(rows)
    df.attrs["display"] = {
        SETTING_LABEL[setting]: lambda r: _value_label(setting, r[setting]),
        "source (5 runs)": lambda r: f"{r['source_mean']:.3f} ± {r['source_std']:.3f}",
        "ours": _ours_text,
        "probe-sampling error": lambda r: _f(r["probe_se"], 3),
        "verdict": "verdict"}
    if selection is not None:
        sel = selection[selection.label_noise == LABEL_NOISE].set_index("nz")
        chosen = [int(sel.selected_epoch.get(int(v), -1)) for v in df[setting]]
        for v, ran, c in zip(df[setting], df.selected_epoch, chosen):
            _check_checkpoint(f"noise size {v}", ran, c)
        df["selected_epoch"] = chosen
        df["conditioning"] = [float(sel.conditioning.get(int(v), NAN)) for v in df[setting]]
        df["epochs_trained"] = [int(sel.epochs.get(int(v), 0)) for v in df[setting]]
        (first, label), *rest = df.attrs["display"].items()
        df.attrs["display"] = {
            first: label,
            "checkpoint (of epochs trained)": lambda r: ("—" if r["selected_epoch"] < 0 else
                                                         f"{r['selected_epoch'] + 1} of {r['epochs_trained']}"),
            "conditioning score": lambda r: _f(r["conditioning"]), **dict(rest)}
    return df


def label_noise_table(ic: pd.DataFrame, train: pd.DataFrame, profile: str) -> pd.DataFrame:
    """The label-noise control: per noise size of ``profile.label_noise_controls``, its GAN trained with the
    source's label noise (Table 1's row) and without, each at the checkpoint the rule selects — how long it
    trained, its conditioning score, whether and when it collapsed, the inverse-classification accuracy (Table 1's
    setting) with its level verdict against the source's runs — and, on the control's row, the paired effect of
    dropping the label noise (:func:`ic.verdict.effect` on per-probe correctness, the same probes and noise
    initialisations). Numeric, with ``attrs['display']``."""
    from .. import verdict as V

    p = get_profile(profile)
    runs = table_runs(ic, "nz", profile, label_noise=None)
    rows = []
    for nz in p.label_noise_controls:
        source = SOURCE_RUNS["nz"].get(nz)
        with_noise = None
        for sigma in (LABEL_NOISE, 0.0):
            g = gan_rows(train, nz, sigma)
            trained = g[g.trained].sort_values("epoch")
            sel = selected_row(trained) if len(trained) else None
            collapse = collapse_facts(train, nz, sigma)
            mine = runs[(runs.nz == nz) & (runs.label_noise == sigma)] if len(runs) else runs
            row = {"nz": nz, "label_noise": sigma, "epochs": int(len(trained)),
                   "stopped": bool((~g.trained).any()), "selected_epoch": -1 if sel is None else int(sel.epoch),
                   "conditioning": NAN if sel is None else float(sel.conditioning),
                   "collapsed_after": -1 if collapse is None else int(collapse["first"]),
                   "ours_n": int(len(mine)), "ours_mean": NAN, "ours_std": NAN,
                   "source_mean": float(np.mean(source)) if source is not None else NAN,
                   "source_std": float(np.std(source)) if source is not None else NAN,
                   "verdict": "not run yet", "effect": "", "effect_verdict": ""}
            if len(mine):
                _check_checkpoint(gan_label(nz, sigma), int(mine.selected_epoch.iloc[0]),
                                  -1 if sel is None else int(sel.epoch))
                acc = mine.accuracy.to_numpy()
                row.update(ours_mean=float(acc.mean()), ours_std=float(acc.std(ddof=1)) if len(acc) > 1 else NAN)
                complete = len(mine) == p.repeats
                row["verdict"] = (V.level(per_probe(mine), source).verdict if complete and source is not None
                                  else f"pending ({len(mine)} of {p.repeats})")
                if sigma == LABEL_NOISE:
                    with_noise = mine if complete else None
                elif with_noise is not None and complete:
                    shared = sorted(set(mine.repeat) & set(with_noise.repeat))
                    v = V.effect(per_probe(mine[mine.repeat.isin(shared)]),
                                 per_probe(with_noise[with_noise.repeat.isin(shared)]))
                    row.update(effect=difference_text(v.estimate, v.lo, v.hi, 3), effect_verdict=v.verdict)
            rows.append(row)
    df = pd.DataFrame(rows)
    df.attrs["display"] = {
        "noise size": "nz", "label noise": lambda r: "none" if r["label_noise"] == 0 else f"σ {r['label_noise']:g}",
        "checkpoint (of epochs trained)": lambda r: ("—" if r["selected_epoch"] < 0 else
                                                     f"{r['selected_epoch'] + 1} of {r['epochs']}"),
        "conditioning score": lambda r: _f(r["conditioning"]),
        "collapsed": lambda r: ("—" if r["epochs"] == 0 else "no" if r["collapsed_after"] < 0 else
                                f"after {r['collapsed_after']} epochs"),
        "source (5 runs)": lambda r: f"{r['source_mean']:.3f} ± {r['source_std']:.3f}",
        "ours": _ours_text,
        "verdict": "verdict"}
    if df.nz.nunique() == 1:        # one control (the page's heading names its noise size): a narrower table
        del df.attrs["display"]["noise size"]
    return df


def label_noise_effect_note(table: pd.DataFrame) -> str:
    """One sentence per control of :func:`label_noise_table`: the paired effect of dropping the label noise."""
    out = []
    for _, r in table[table.label_noise != LABEL_NOISE].iterrows():
        what = (f"{r['effect']} ({r['effect_verdict']})" if r["effect"] else
                "not measured yet (both GANs need their three inversions)")
        out.append(f"Noise size {int(r['nz'])}, accuracy without label noise minus with it, per probe and paired "
                   f"on the same probes and noise initialisations (95 % interval): {what}.")
    return " ".join(out)


def label_noise_texts(table: pd.DataFrame) -> dict[str, str]:
    """The glue texts of :func:`label_noise_table`, per control GAN (``cgan_nz<nz>_nolabel_…``): ``epochs``,
    ``checkpoint``, ``conditioning``, ``collapsed`` ("no" or "after N epochs"), ``accuracy`` (or "not run
    yet"), ``verdict`` and ``effect`` (the paired difference to the GAN with label noise, with its verdict)."""
    out = {}
    for _, r in table[table.label_noise != LABEL_NOISE].iterrows():
        k = f"cgan_nz{int(r['nz'])}_nolabel"
        out.update({
            f"{k}_epochs": str(int(r["epochs"])),
            f"{k}_checkpoint": "—" if r["selected_epoch"] < 0 else str(int(r["selected_epoch"]) + 1),
            f"{k}_conditioning": _f(r["conditioning"]),
            f"{k}_collapsed": "no" if r["collapsed_after"] < 0 else f"after {int(r['collapsed_after'])} epochs",
            f"{k}_accuracy": "not run yet" if r["ours_n"] == 0 else f"{r['ours_mean']:.3f}",
            f"{k}_verdict": r["verdict"],
            f"{k}_effect": f"{r['effect']}, {r['effect_verdict']}" if r["effect"] else "not run yet"})
    return out


def _check_checkpoint(gan: str, ran: int, chosen: int) -> None:
    """Refuse inversion runs made at epoch ``ran`` when the selection rule now picks ``chosen`` (the GAN trained
    on after its runs); -1: no runs, or no eligible epoch."""
    if ran >= 0 and chosen >= 0 and ran != chosen:
        raise ValueError(f"{gan}: the inverse-classification runs used epoch {ran + 1}, the selection rule now "
                         f"picks epoch {chosen + 1} (the GAN trained on after its runs); delete its ic results "
                         "and run them again")


def _ours_text(r) -> str:
    """Our repeats of one row as the tables show them: mean ± std (n), or "not run yet"."""
    if r["ours_n"] == 0:
        return "not run yet"
    return f"{r['ours_mean']:.3f} ± {0 if math.isnan(r['ours_std']) else r['ours_std']:.3f} (n={r['ours_n']})"


def _value_label(setting: str, value) -> str:
    if setting == "alpha":
        return f"{value:g}"
    return str(int(value))


def setting_texts(table: pd.DataFrame, setting: str, prefix: str) -> dict[str, str]:
    """The glue texts of a setting table: ``{prefix}_{value}`` → our mean (or "not run yet") and
    ``{prefix}_{value}_verdict`` → its verdict ("." as "_", "-" as "m" in the key: ``cgan_late_m1``)."""
    texts = {}
    for _, row in table.iterrows():
        key = f"{prefix}_{_value_label(setting, row[setting])}".replace(".", "_").replace("-", "m")
        texts[key] = "not run yet" if row["ours_n"] == 0 else f"{row['ours_mean']:.3f}"
        texts[key + "_verdict"] = row["verdict"]
    return texts


def claims(ic: pd.DataFrame, baselines: pd.DataFrame, profile: str, train: pd.DataFrame | None = None) -> list:
    """The source's claims judged on our runs (:mod:`ic.verdict`): levels and paired comparisons on per-probe
    correctness (the same probes and noise seeds in every setting). The best-size claim needs the training frame
    ``train`` (without it, it is left out): a noise size whose GAN did not learn its classes
    (:func:`untrained_sizes`) is an untestable rival."""
    from .. import verdict as V

    p = get_profile(profile)
    out = []
    src = SOURCE_RUNS
    label = "Hobbhahn 2020"

    def probes_of(setting, value):
        runs = table_runs(ic, setting, profile)
        mine = runs[runs[setting] == value] if not runs.empty else runs
        return per_probe(mine) if len(mine) == p.repeats else None

    main = probes_of("nz", p.main_nz)
    if main is not None:
        out.append(V.probe_unit(V.level(main, src["nz"][p.main_nz], claim=f"accuracy with nz {p.main_nz}: 0.71",
                                        source_label=label + ", Table 1"), p.repeats))
    sizes = {nz: probes_of("nz", nz) for nz in src["nz"] if nz in p.noise_sizes}
    if train is not None and len(sizes) > 1 and all(v is not None for v in sizes.values()):
        failed = untrained_sizes(train, profile)
        out.append(V.best({f"nz {k}": v for k, v in sizes.items()}, {f"nz {k}": src["nz"][k] for k in sizes},
                          f"nz {p.main_nz}", claim=f"nz {p.main_nz} is the best noise size",
                          source_label=label + ", Table 1",
                          untestable={f"nz {k}": why for k, why in failed.items() if k in sizes and k != p.main_nz}))
    pairs = [("alpha", 0.5, 1.0, "α 0.5 beats α 1", "Table 2"), ("alpha", 1.0, 2.0, "α 1 beats α 2", "Table 2"),
             ("alpha", 1.0, 0.1, "α 1 beats α 0.1", "Table 2"),
             ("late_k", 10, -1, "late update after 10 beats none", "Table 3")]
    for setting, a, b, text, table in pairs:
        base = ("nz", p.main_nz) if b == -1 else (setting, b)
        pa, pb = probes_of(setting, a), probes_of(*base)
        source_b = src["nz"][p.main_nz] if b == -1 else src[setting][b]
        if pa is not None and pb is not None:
            out.append(V.probe_unit(V.compare(pa, pb, src[setting][a], source_b, claim=text,
                                              source_label=f"{label}, {table}"), p.repeats))
    nn = baselines[baselines.method == "nearest_neighbour"] if not baselines.empty else baselines
    if len(nn) and main is not None:
        nn_correct = (np.asarray(nn.predictions.iloc[0]) == np.asarray(nn.labels.iloc[0])).astype(float)
        # the source: a nearest neighbour "far beyond 90 percent", the best IC "around 20 percent away"
        out.append(V.probe_unit(V.compare(nn_correct, main, 0.9, float(np.mean(src["nz"][p.main_nz])),
                                          claim=f"nearest neighbour beats IC (nz {p.main_nz}) by about 0.2",
                                          source_label=label + ", text"), p.repeats))
    return out


def setting_figure(table: pd.DataFrame, setting: str):
    """Accuracy per setting: ours (mean over repeats; bars: the probe-sampling error) against the source's
    five runs (mean ± std)."""
    if table.empty:
        return empty_figure("no runs yet")
    fig, axes = subplots(1, 1, aspect=0.42)
    ax = axes[0][0]
    x = np.arange(len(table))
    ax.errorbar(x - 0.08, table.source_mean, yerr=table.source_std, fmt="s", color="grey", capsize=3,
                label="source (mean ± std of 5 runs, 10 000 probes)")
    ours = table[table.ours_n > 0]
    ax.errorbar(x[table.ours_n > 0] + 0.08, ours.ours_mean, yerr=ours.probe_se, fmt="o", color="C0", capsize=3,
                label="ours (mean of repeats ± probe-sampling error)")
    ax.set_xticks(x, [_value_label(setting, v) for v in table[setting]])
    ax.set_xlabel(SETTING_LABEL[setting])
    ax.set_ylabel("accuracy")
    # the settings differ by hundredths: zoom on the data (chance, 0.1, is far below)
    values = np.concatenate([table.source_mean - table.source_std, table.source_mean + table.source_std,
                             ours.ours_mean - ours.probe_se, ours.ours_mean + ours.probe_se])
    ax.set_ylim(max(0.0, float(np.nanmin(values)) - 0.03), min(1.0, float(np.nanmax(values)) + 0.03))
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    return fig


ABLATIONS = (("main setting", {}), ("fp32 instead of bf16", {"precision": "fp32"}),
             ("BatchNorm with running statistics", {"bn": "eval"}), ("torch's Adam", {"optimizer": "adam"}),
             ("α 0.5, noise updated after iteration 10", {"alpha": 0.5, "late_k": 10}))
#: the glue key of each ablation (``cgan_abl_<key>``: its difference to the main setting and interval)
ABLATION_KEYS = {"fp32 instead of bf16": "fp32", "BatchNorm with running statistics": "eval",
                 "torch's Adam": "adam", "α 0.5, noise updated after iteration 10": "half_late"}


def ablation_table(ic: pd.DataFrame, profile: str) -> pd.DataFrame:
    """The main setting (nz 25, α 1, from the start, ghost BatchNorm, the source's Adam, the profile's precision)
    against one change at a time, paired on the same probes and repeats: the mean over probes of the difference
    in per-probe correctness (averaged over the repeats both settings have), with its t interval."""
    from .. import verdict as V

    p = get_profile(profile)
    base = {"nz": p.main_nz, "alpha": 1.0, "late_k": -1, "bn": "ghost4", "optimizer": "source_adam",
            "precision": p.precision, "label_noise": LABEL_NOISE}
    rows = []
    main_runs = None
    for name, change in ABLATIONS:
        want = {**base, **change}
        keep = np.ones(len(ic), dtype=bool)
        for col, value in want.items():
            keep &= (ic[col] == value).to_numpy() if len(ic) else keep
        runs = ic[keep] if len(ic) else ic
        if not change:
            main_runs = runs
        row = {"change": name, "n": int(len(runs)),
               "accuracy": float(runs.accuracy.mean()) if len(runs) else NAN, "difference": NAN, "lo": NAN,
               "hi": NAN, "p": NAN}
        if change and len(runs) and main_runs is not None and len(main_runs):
            shared = sorted(set(runs.repeat) & set(main_runs.repeat))
            if shared:
                a = per_probe(runs[runs.repeat.isin(shared)])
                b = per_probe(main_runs[main_runs.repeat.isin(shared)])
                iv = V.mean_interval(a - b)             # paired over probes, the book's one standard
                row.update(difference=iv.estimate, lo=iv.lo, hi=iv.hi, p=iv.p, n=len(shared))
        rows.append(row)
    df = pd.DataFrame(rows)
    df.attrs["display"] = {"setting": "change", "repeats": lambda r: str(int(r["n"])) if r["n"] else "not run yet",
                           "accuracy": lambda r: _f(r["accuracy"], 3),
                           "difference to the main setting (95 % interval)": lambda r: (
                               "—" if math.isnan(r["difference"]) else
                               f"{r['difference']:+.3f} [{r['lo']:+.3f}, {r['hi']:+.3f}]")}
    return df


def ablation_texts(table: pd.DataFrame) -> dict[str, str]:
    """The glue texts of :func:`ablation_table`: ``cgan_abl_<key>`` → "+0.009 (−0.009 to +0.027)" (or "not run
    yet") and ``cgan_abl_<key>_repeats`` → the repeats it rests on."""
    out = {}
    for _, r in table.iterrows():
        key = ABLATION_KEYS.get(r["change"])
        if key is None:
            continue
        out[f"cgan_abl_{key}"] = ("not run yet" if math.isnan(r["difference"]) else
                                  difference_text(r["difference"], r["lo"], r["hi"], 3))
        out[f"cgan_abl_{key}_repeats"] = str(int(r["n"]))
    return out


def claims_frame(ic: pd.DataFrame, baselines: pd.DataFrame, train: pd.DataFrame, profile: str) -> pd.DataFrame:
    """The chapter's claims table for display: every claim of the source the chapter tests, judged where our runs
    are complete (:func:`claims`; ``train``: the training frame of every GAN), else marked as not judged yet with
    the source's value."""
    from .. import verdict as V

    p = get_profile(profile)
    columns = ["claim", "source", "source's value", "ours", "n", f"{100 * V.CONFIDENCE:g} % interval", "verdict",
               "note"]
    judged = V.format_claims(V.claims_table(claims(ic, baselines, profile, train)))
    judged = judged if len(judged) else pd.DataFrame(columns=columns)
    main = float(np.mean(SOURCE_RUNS["nz"][p.main_nz]))
    expected = [
        (f"accuracy with nz {p.main_nz}: 0.71", "Table 1", f"{main:.2f}"),
        (f"nz {p.main_nz} is the best noise size", "Table 1",
         f"+{main - max(np.mean(v) for k, v in SOURCE_RUNS['nz'].items() if k != p.main_nz):.2f}"),
        ("α 0.5 beats α 1", "Table 2", f"{np.mean(SOURCE_RUNS['alpha'][0.5]) - main:+.2f}"),
        ("α 1 beats α 2", "Table 2", f"{main - np.mean(SOURCE_RUNS['alpha'][2.0]):+.2f}"),
        ("α 1 beats α 0.1", "Table 2", f"{main - np.mean(SOURCE_RUNS['alpha'][0.1]):+.2f}"),
        ("late update after 10 beats none", "Table 3", f"{np.mean(SOURCE_RUNS['late_k'][10]) - main:+.2f}"),
        (f"nearest neighbour beats IC (nz {p.main_nz}) by about 0.2", "text", f"{0.9 - main:+.2f}"),
    ]
    rows = []
    for claim, where, value in expected:
        hit = judged[judged.claim == claim]
        if len(hit):
            rows.append(hit.iloc[0].to_dict())
        else:
            rows.append(dict(zip(columns, [claim, f"Hobbhahn 2020, {where}", value, "—", "—", "—",
                                           "not judged yet", ""])))
    return pd.DataFrame(rows, columns=columns)


def best_size_table(ic: pd.DataFrame, baselines: pd.DataFrame, train: pd.DataFrame, profile: str) -> pd.DataFrame:
    """The claim that the main noise size is the best, for display: one comparison per rival once every noise
    size has all its repeats (:func:`ic.verdict.best`; a rival whose GAN did not learn its classes is untestable,
    :func:`untrained_sizes` of the training frame ``train``), until then its row of :func:`claims_frame` with the
    noise sizes still missing in the note."""
    from .. import verdict as V

    best = [v for v in claims(ic, baselines, profile, train) if v.kind == V.BEST]
    if best:
        return V.format_claims(V.claims_table(best, details=True))
    p = get_profile(profile)
    frame = claims_frame(ic, baselines, train, profile)
    row = frame[frame.claim == f"nz {p.main_nz} is the best noise size"].copy()
    runs = table_runs(ic, "nz", profile)
    missing = [nz for nz in p.noise_sizes if len(runs[runs.nz == nz]) < p.repeats] if len(runs) else \
        list(p.noise_sizes)
    row["note"] = (f"judged once noise size{'s' if len(missing) > 1 else ''} "
                   f"{', '.join(map(str, sorted(missing)))} {'have' if len(missing) > 1 else 'has'} "
                   f"{p.repeats} inversions")
    return row.reset_index(drop=True)


#: glue keys of the chapter's claims (:func:`claims_frame`), by the start of the claim's text
CLAIM_KEYS = {"accuracy with nz": "level", "nz ": "best_size", "α 0.5 beats α 1": "alpha_half",
              "α 1 beats α 2": "alpha_2", "α 1 beats α 0.1": "alpha_0_1", "late update after 10": "late_10",
              "nearest neighbour beats": "nearest"}


def claim_texts(frame: pd.DataFrame) -> dict[str, str]:
    """Glue texts of the claims table (:func:`claims_frame`): ``cgan_claim_<key>`` → our value with its interval
    ("+0.021 (+0.006 to +0.037)", or "not judged yet") and ``cgan_claim_<key>_verdict`` → the verdict."""
    out = {}
    interval = [c for c in frame.columns if c.endswith("interval")][0]
    for _, r in frame.iterrows():
        key = next(k for start, k in CLAIM_KEYS.items() if r["claim"].startswith(start))
        judged = r["verdict"] != "not judged yet"
        lo_hi = str(r[interval]).strip("[]").replace(", ", " to ")
        out[f"cgan_claim_{key}"] = f"{r['ours']} ({lo_hi})" if judged else "not judged yet"
        out[f"cgan_claim_{key}_verdict"] = r["verdict"]
    return out


def _part_label(part: str) -> str:
    """The name of a part in the cost table: the GAN trainings by noise size (padded so that they sort by size;
    HTML shows the padding as one space), the three tables by number."""
    if part.startswith("training nz="):
        return f"GAN training, noise size {int(part.split('=')[1]):>3}"
    if part.startswith("noise size"):
        return "Table 1: noise size"
    if part.startswith("control nz="):
        return f"control: noise size {int(part.split('=')[1].split()[0])} without label noise"
    return {"update rate": "Table 2: update rate", "late update": "Table 3: late update",
            "judge": "judge (small CNN)"}.get(part, part)


def cost_by_part(col: Collected, profile: str) -> pd.DataFrame:
    """CPU time of the study's jobs in the store per part (:func:`ic.report.cost_table`; a job shared by two
    parts counts in the first, in plan order: Table 1's noise-size-25 runs are Table 2's α 1 runs)."""
    from .study import STUDY as study

    label: dict[str, str] = {}
    for part, jobs in study.parts(profile).items():
        for j in jobs:
            label.setdefault(j.key, _part_label(part))
    return base.cost_table(col, lambda j: {"part": label.get(j.key, "other")})


def compute_summary(col: Collected, train: pd.DataFrame) -> dict:
    """What the profile costs on this machine, from the store: the median wall minutes of a trained epoch, the
    wall hours spent, and the wall hours the missing jobs are expected to take (:func:`ic.runner.expected_cost`,
    every GAN assumed to run to the cap)."""
    from ..runner import expected_cost

    done = [(j, col.records[j.key]) for j in col.jobs if j.key in col.records]
    missing = [j for j in col.jobs if j.key not in col.records]
    trained = train[train.trained]
    return {"epoch_min": float(trained.wall_min.median()) if len(trained) else NAN,
            "spent_h": sum(r["wall_time_s"] for _, r in done) / 3600,
            "to_go_h": sum(expected_cost(j, done) for j in missing) / 3600,
            "missing": len(missing), "jobs": len(col.jobs)}
