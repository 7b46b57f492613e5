"""Tables and figures of the cGAN chapter, built from the results store (the notebooks only call these)."""

from __future__ import annotations

import base64
import io
import math

import numpy as np
import pandas as pd

from .. import reference
from ..plotting import figsize, subplots
from ..report import Collected, collect, empty_figure, frame
from .profiles import get_profile

NAN = float("nan")
STUDY = "cgan"


def collect_parts(profile: str, names: list[str], run_missing: bool = True) -> Collected:
    """The records of several parts of the study at once (each job once)."""
    get_profile(profile)                       # an unknown profile fails here, at the notebook's first cell
    cols = [collect(STUDY, profile, name, run_missing) for name in names]
    jobs, seen = [], set()
    for c in cols:
        for j in c.jobs:
            if j.key not in seen:
                seen.add(j.key)
                jobs.append(j)
    return Collected(profile, jobs, {k: v for c in cols for k, v in c.records.items()})


def training_parts(profile: str) -> list[str]:
    return [f"training nz={nz}" for nz in get_profile(profile).noise_sizes]


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
        "d_fake": ("result.d_fake_mean", NAN), "wall_min": lambda j, r: r["wall_time_s"] / 60})
    return df.sort_values(["nz", "epoch"]).reset_index(drop=True)


def training_progress(col: Collected, train: pd.DataFrame, profile: str) -> str:
    """One sentence on the state of the trainings, for the top of the chapter."""
    p = get_profile(profile)
    parts = []
    for nz in p.noise_sizes:
        rows = train[train.nz == nz]
        if rows.empty:
            parts.append(f"nz {nz}: not started")
        else:
            parts.append(f"nz {nz}: {int(rows.trained.sum())} epochs, {_status(rows, p)}")
    hours = col.cpu_hours()
    return (f"Profile {profile}: " + "; ".join(parts) + f". {col.n_done} of {col.n_jobs} training and baseline jobs "
            f"are in the results store ({hours:.1f} CPU-hours).")


def grid_epochs(train: pd.DataFrame, profile: str) -> list[int]:
    """Epochs whose sample grids the book shows for the main generator: the first, the selected, the last."""
    rows = train[(train.nz == main_nz(profile)) & train.trained]
    if rows.empty:
        return []
    eligible = rows[rows.eligible]
    chosen = [int(rows.epoch.min())]
    if len(eligible):
        chosen.append(int(eligible.loc[eligible.conditioning.idxmax()].epoch))
    chosen.append(int(rows.epoch.max()))
    return sorted(set(chosen))


def _status(rows: pd.DataFrame, p) -> str:
    trained = rows[rows.trained]
    if (~rows.trained).any():
        return f"stopped by the rule after epoch {int(trained.epoch.max())}"
    if len(trained) >= p.max_epochs:
        return f"reached the cap of {p.max_epochs} epochs"
    return "training"


def selection_table(train: pd.DataFrame, profile: str) -> pd.DataFrame:
    """Per noise size: epochs trained, state, the selected epoch with its scores, the curve accuracy there, and
    the spread of the curve accuracy over the epochs from the 10th on (how much the checkpoint matters); beside
    the epoch the source's author picked by eye. Numeric; ``attrs['display']`` for the book."""
    p = get_profile(profile)
    out = []
    for nz, rows in train.groupby("nz", sort=False):
        trained = rows[rows.trained]
        eligible = trained[trained.eligible]
        sel = eligible.loc[eligible.conditioning.idxmax()] if len(eligible) else None
        late = trained[trained.epoch >= 9]
        out.append({"nz": int(nz), "epochs": int(len(trained)), "state": _status(rows, p),
                    "selected_epoch": int(sel.epoch) if sel is not None else -1,
                    "conditioning": float(sel.conditioning) if sel is not None else NAN,
                    "diversity": float(sel.diversity) if sel is not None else NAN,
                    "curve_ic": float(sel.curve_ic) if sel is not None else NAN,
                    "curve_ic_min": float(late.curve_ic.min()) if len(late) else NAN,
                    "curve_ic_max": float(late.curve_ic.max()) if len(late) else NAN,
                    "source_epoch": reference.CGAN_PICKED_EPOCH.get(int(nz), -1)})
    df = pd.DataFrame(out)
    df.attrs["display"] = {
        "noise size": "nz", "epochs trained": "epochs", "state": "state",
        "selected epoch": lambda r: "—" if r["selected_epoch"] < 0 else str(r["selected_epoch"]),
        "conditioning score": lambda r: _f(r["conditioning"]), "diversity": lambda r: _f(r["diversity"]),
        "IC accuracy (curve probes)": lambda r: _f(r["curve_ic"]),
        "IC range, epochs ≥ 10": lambda r: ("—" if math.isnan(r["curve_ic_min"])
                                           else f"{r['curve_ic_min']:.2f}–{r['curve_ic_max']:.2f}"),
        "source's pick (by eye)": "source_epoch"}
    return df


def _f(v: float, digits: int = 2) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def training_figure(train: pd.DataFrame):
    """Conditioning score (left) and inverse-classification accuracy on the curve probes (right) per epoch,
    one line per noise size; the selected epoch is circled."""
    trained = train[train.trained]
    if trained.empty:
        return empty_figure("no GAN epoch in the results store yet")
    fig, axes = subplots(1, 2, aspect=0.42, sharex=True)
    ax1, ax2 = axes[0]
    for nz, rows in trained.groupby("nz", sort=True):
        x = rows.epoch + 1
        line, = ax1.plot(x, rows.conditioning, marker="o", ms=3, label=f"nz {nz}")
        ax2.plot(x, rows.curve_ic, marker="o", ms=3, color=line.get_color())
        eligible = rows[rows.eligible]
        if len(eligible):
            best = eligible.loc[eligible.conditioning.idxmax()]
            ax1.plot(best.epoch + 1, best.conditioning, "o", ms=11, mfc="none", color=line.get_color())
            ax2.plot(best.epoch + 1, best.curve_ic, "o", ms=11, mfc="none", color=line.get_color())
    from matplotlib.ticker import MaxNLocator

    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.axhline(0.1, color="grey", ls=":", lw=1)
        ax.set_xlabel("epochs trained")
        ax.set_ylim(0, 1)
    ax1.set_ylabel("fraction")
    ax1.set_title("conditioning score")
    ax2.set_title("IC accuracy, curve probes")
    ax1.legend(loc="lower right", frameon=True)
    fig.tight_layout()
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
        "predictions": "result.predictions", "labels": "result.labels"})


def probe_sampling_se(accuracy: float, n: int) -> float:
    """Binomial standard error of an accuracy measured on ``n`` probes (the error of using a subset of the test
    set, which the repeats do not show: every repeat sees the same probes)."""
    return math.sqrt(accuracy * (1 - accuracy) / n) if n else NAN


BASELINE_NAMES = {"nearest_neighbour": "nearest neighbour (pixels, 60 000 training images)",
                  "small_cnn": "small CNN (the judge)"}


def baseline_table(col: Collected) -> pd.DataFrame:
    """Accuracy of each baseline on the probes, with its probe-sampling standard error."""
    df = frame(col, "baseline", {"method": "config.method", "accuracy": "result.accuracy",
                                 "n_probes": "result.n_probes"})
    df["se"] = [probe_sampling_se(a, n) for a, n in zip(df.accuracy, df.n_probes)]
    df.attrs["display"] = {"classifier": lambda r: BASELINE_NAMES.get(r["method"], r["method"]),
                           "accuracy": lambda r: f"{r['accuracy']:.3f} ± {r['se']:.3f}", "probes": "n_probes"}
    return df


# ------------------------------------------------------------------------------------------- reconstructions
def reconstruction_figure(record: dict | None):
    """Probes (top), their reconstructions (middle) and final class vectors (bottom: bars, true class marked)."""
    if record is None:
        return empty_figure("the reconstruction job has not run yet")
    probes, recon = _png(record["probe_png"]), _png(record["reconstruction_png"])
    vec = np.asarray(record["class_vectors"])
    n = vec.shape[0]
    fig, axes = subplots(3, 1, aspect=0.62)
    axes[0][0].imshow(probes, cmap="gray")
    axes[1][0].imshow(recon, cmap="gray")
    for ax, title in ((axes[0][0], "probes"), (axes[1][0], "reconstructions")):
        ax.set_axis_off()
        ax.set_title(title)
    ax = axes[2][0]
    im = ax.imshow(vec.T, aspect="auto", cmap="viridis", vmin=0, vmax=1, extent=(-0.5, n - 0.5, 9.5, -0.5))
    ax.scatter(np.arange(n), record["labels"], marker="s", s=40, facecolors="none", edgecolors="red",
               label="true class")
    ax.set_xlabel("probe")
    ax.set_ylabel("class")
    ax.set_yticks(range(0, 10, 3))
    ax.legend(loc="upper right", fontsize="small")
    fig.colorbar(im, ax=ax, label="final class vector")
    fig.tight_layout()
    return fig


def grad_norm_figure(record: dict | None):
    """Mean gradient norm of the class vector and of the noise per iteration (log scale)."""
    if record is None:
        return empty_figure("the reconstruction job has not run yet")
    fig, axes = subplots(1, 1, aspect=0.45)
    ax = axes[0][0]
    for name, values in record["grad_norms"].items():
        ax.plot(np.arange(1, len(values) + 1), values, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("mean gradient norm")
    ax.legend()
    fig.set_size_inches(*figsize(0.45))
    fig.tight_layout()
    return fig
