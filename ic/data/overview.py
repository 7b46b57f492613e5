"""Tables and figures of the chapter "The three datasets at a glance" (``notebooks/00_data.ipynb``).

The notebook only calls these functions and displays what they return.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .mnist import FASHION_MNIST_CLASSES, MNIST_CLASSES, load_fashion_mnist, load_mnist
from .trajectories import MIRROR_LABELLED_COUNTS, UCI_CLASS_COUNTS, TrajectoryDataset

IMAGE_DATASETS = {
    "MNIST": (load_mnist, MNIST_CLASSES),
    "Fashion-MNIST": (load_fashion_mnist, FASHION_MNIST_CLASSES),
}


def image_counts_table(name: str, root: Path | str | None = None) -> pd.DataFrame:
    """Images per class and split of ``name`` (``"MNIST"`` or ``"Fashion-MNIST"``), with a total row."""
    loader, classes = IMAGE_DATASETS[name]
    cols = {}
    for split in ("train", "test"):
        _, labels = loader(split, root=root)
        cols[split] = np.bincount(labels.numpy(), minlength=len(classes))
    df = pd.DataFrame(cols, index=pd.Index(classes, name="class"))
    df["total"] = df["train"] + df["test"]
    df.loc["all"] = df.sum()
    return df


def trajectory_counts_table(ds: TrajectoryDataset) -> pd.DataFrame:
    """Labelled recordings per letter in the source read, next to the full UCI counts."""
    counts = ds.class_counts()
    df = pd.DataFrame({f"labelled ({ds.source})": [counts[c] for c in ds.classes],
                       "UCI (all labelled)": [UCI_CLASS_COUNTS[c] for c in ds.classes]},
                      index=pd.Index(ds.classes, name="letter"))
    df.loc["all"] = df.sum()
    return df


def summary(ds: TrajectoryDataset, root: Path | str | None = None) -> dict:
    """Key numbers of the three datasets (plain Python ints/strings, for printing and gluing)."""
    out = {}
    for name, (loader, classes) in IMAGE_DATASETS.items():
        key = name.lower().replace("-", "_")
        for split in ("train", "test"):
            images, _ = loader(split, root=root)
            out[f"{key}_{split}"] = int(images.shape[0])
        out[f"{key}_classes"] = len(classes)
    lengths = np.array([len(s) for s in ds.all_sequences])
    out.update(traj_source=ds.source, traj_file=ds.path.name, traj_total=ds.n_total,
               traj_labelled=ds.n_labelled, traj_unlabelled=ds.n_total - ds.n_labelled,
               traj_classes=len(ds.classes), traj_min_len=int(lengths.min()), traj_max_len=int(lengths.max()),
               traj_mirror_counts_match=ds.class_counts() == MIRROR_LABELLED_COUNTS)
    return out


def summary_text(s: dict) -> str:
    """Deterministic plain-text summary of :func:`summary` (no paths, no timings)."""
    return "\n".join([
        f"MNIST:         train {s['mnist_train']:>6,}  test {s['mnist_test']:>6,}  classes {s['mnist_classes']}",
        f"Fashion-MNIST: train {s['fashion_mnist_train']:>6,}  test {s['fashion_mnist_test']:>6,}  "
        f"classes {s['fashion_mnist_classes']}",
        f"Character Trajectories ({s['traj_source']}, {s['traj_file']}): {s['traj_total']:,} recordings, "
        f"{s['traj_labelled']:,} labelled, {s['traj_unlabelled']:,} unlabelled, {s['traj_classes']} letters, "
        f"{s['traj_min_len']}-{s['traj_max_len']} time steps",
    ])


def source_statement(ds: TrajectoryDataset) -> str:
    """One Markdown sentence saying which Character Trajectories file was read and how many recordings carry
    a label (numbers from the loaded dataset)."""
    if ds.source == "mirror-npz":
        return (f"This build read the **offline mirror** `{ds.path.name}`: it holds all {ds.n_total:,} recordings "
                f"but labels only **{ds.n_labelled:,} of {ds.n_total:,}**; the other "
                f"{ds.n_total - ds.n_labelled:,} have no label (they are never guessed). Experiments use the "
                f"{ds.n_labelled:,} labelled recordings; label-free statistics may use all {ds.n_total:,}.")
    return (f"This build read the **canonical UCI file** `{ds.path.name}`: {ds.n_labelled:,} of {ds.n_total:,} "
            f"recordings are labelled, with the per-class counts of the UCI repository.")


def image_grid(images, labels, classes, n_per_class: int = 8, seed: int | None = None,
               title: str | None = None) -> plt.Figure:
    """``n_per_class`` images of each class (rows = classes): the first ones in file order, or a random
    choice drawn with ``numpy.random.default_rng(seed)`` when ``seed`` is given."""
    images = np.asarray(images)
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed) if seed is not None else None
    fig, axes = plt.subplots(len(classes), n_per_class, figsize=(n_per_class * 0.72, len(classes) * 0.76),
                             squeeze=False)
    for c, row in enumerate(axes):
        members = np.flatnonzero(labels == c)
        idx = np.sort(rng.choice(members, size=min(n_per_class, len(members)), replace=False)) if rng is not None \
            else members[:n_per_class]
        for j, ax in enumerate(row):
            if j < len(idx):
                ax.imshow(images[idx[j]], cmap="gray_r", vmin=0, vmax=images.max() if images.size else 1,
                          interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
        row[0].set_ylabel(classes[c], rotation=0, ha="right", va="center", fontsize=12)
    if title:
        fig.suptitle(title, fontsize=13)
    fig.tight_layout(pad=0.3)
    return fig


def pen_path(seq: np.ndarray) -> np.ndarray:
    """Pen positions ``(T, 2)``: cumulative sums of the x and y velocity channels."""
    return np.cumsum(np.asarray(seq)[:, :2], axis=0)


def first_example_per_class(ds: TrajectoryDataset) -> list[int]:
    """Index (into ``ds.sequences``) of the first labelled recording of each class."""
    return [int(np.flatnonzero(ds.labels == c)[0]) for c in range(len(ds.classes))]


#: Value of the (normalised, unit-free) force channel below which the last time steps of a recording count as
#: the pen lifting off: while writing the channel stays within about ±1.5, at the end it falls to about −2.5.
LIFT_OFF_FORCE = -0.5


def lift_off_steps(sequences: list[np.ndarray], threshold: float = LIFT_OFF_FORCE) -> np.ndarray:
    """Per recording, how many of its last time steps (the zero padding at the end not counted) have a force
    channel below ``threshold``: the final run in which the pen lifts off. int64 ``(n,)``."""
    if not sequences:
        return np.zeros(0, dtype=np.int64)
    L = max(len(s) for s in sequences)
    x = np.zeros((len(sequences), L, 3))
    for i, s in enumerate(sequences):
        x[i, :len(s)] = s
    t = np.arange(L)
    recorded = np.any(x != 0, axis=2)                                    # zero padding is False
    last = np.where(recorded.any(axis=1), L - 1 - np.argmax(recorded[:, ::-1], axis=1), -1)
    above = recorded & (x[:, :, 2] >= threshold) & (t[None, :] <= last[:, None])
    last_above = np.where(above.any(axis=1), L - 1 - np.argmax(above[:, ::-1], axis=1), -1)
    first = np.argmax(recorded, axis=1)
    return np.where(last < 0, 0, last - np.maximum(last_above, first - 1)).astype(np.int64)


def lift_off_summary(ds: TrajectoryDataset, threshold: float = LIFT_OFF_FORCE) -> dict:
    """How the labelled recordings end: the length of the final run with the force channel below
    ``threshold`` (median, 5th and 95th percentile, in time steps), the share of recordings that end so (at least
    3 steps), how straight the pen moves in that run (median of net displacement / path length), which share of
    the drawn path it takes (median) and the share of runs that move up and to the right. Plain Python numbers."""
    steps = lift_off_steps(ds.sequences, threshold)
    straight, share, up_right = [], [], []
    for seq, k in zip(ds.sequences, steps):
        recorded = np.flatnonzero(np.any(seq != 0, axis=1))
        if k < 3 or not len(recorded):
            continue
        v = seq[recorded[-1] - k + 1:recorded[-1] + 1, :2]
        path = np.linalg.norm(v, axis=1).sum()
        straight.append(np.linalg.norm(v.sum(axis=0)) / path)
        up_right.append(bool(np.all(v.sum(axis=0) > 0)))
        share.append(path / np.linalg.norm(seq[:, :2], axis=1).sum())
    lo, mid, hi = np.percentile(steps, [5, 50, 95]) if len(steps) else (0, 0, 0)
    return dict(threshold=float(threshold), n=len(steps), share_with_tail=float(np.mean(steps >= 3)),
                steps_median=float(mid), steps_p5=float(lo), steps_p95=float(hi),
                straightness_median=float(np.median(straight)) if straight else float("nan"),
                path_share_median=float(np.median(share)) if share else float("nan"),
                up_right_share=float(np.mean(up_right)) if up_right else float("nan"))


def trajectory_grid(ds: TrajectoryDataset, ncols: int = 5, threshold: float = LIFT_OFF_FORCE) -> plt.Figure:
    """One recording per letter drawn as its pen path, in a grid (4 × 5 for 20 letters): the writing coloured by
    the force channel, the final lift-off run (force channel below ``threshold``) as a grey
    dashed line, the start as a black dot."""
    from matplotlib.colors import Normalize
    from matplotlib.lines import Line2D

    picks = first_example_per_class(ds)
    seqs = [ds.sequences[i] for i in picks]
    tails = lift_off_steps(seqs, threshold)
    nrows = int(np.ceil(len(picks) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 1.45, nrows * 1.45 + 0.8), squeeze=False)
    written = np.concatenate([s[np.any(s != 0, axis=1), 2][:-k or None] for s, k in zip(seqs, tails)])
    norm = Normalize(vmin=float(written.min()), vmax=float(written.max()))
    sc = None
    for ax, c, seq, k in zip(axes.flat, range(len(picks)), seqs, tails):
        recorded = np.flatnonzero(np.any(seq != 0, axis=1))
        seq = seq[recorded[0]:recorded[-1] + 1]                  # the zero padding adds no movement
        xy = pen_path(seq)
        body, tail = slice(0, len(seq) - k), slice(max(len(seq) - k - 1, 0), len(seq))
        ax.plot(xy[tail, 0], xy[tail, 1], color="0.55", lw=1.4, ls=(0, (3, 2)), zorder=1)
        ax.plot(xy[body, 0], xy[body, 1], color="0.8", lw=0.8, zorder=1)
        sc = ax.scatter(xy[body, 0], xy[body, 1], c=seq[body, 2], s=9, cmap="viridis", norm=norm, zorder=2,
                        linewidths=0)
        ax.plot(xy[0, 0], xy[0, 1], "o", color="black", ms=5, zorder=3)
        ax.set_title(f"'{ds.classes[c]}'", fontsize=12, pad=2)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in list(axes.flat)[len(picks):]:
        ax.set_visible(False)
    handles = [Line2D([], [], color="black", marker="o", ls="none", ms=6, label="start"),
               Line2D([], [], color="0.55", lw=1.6, ls=(0, (3, 2)),
                      label=f"end: pen lifting (force channel < {threshold:g})")]
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=12, frameon=False, bbox_to_anchor=(0.45, 0))
    fig.tight_layout(pad=0.4, rect=(0, 0.07, 1, 1))
    cbar = fig.colorbar(sc, ax=axes, shrink=0.7, pad=0.02)
    cbar.set_label("force channel (normalised, no unit)", fontsize=12)
    cbar.ax.tick_params(labelsize=12)
    return fig
