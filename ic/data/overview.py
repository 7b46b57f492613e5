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
    fig, axes = plt.subplots(len(classes), n_per_class, figsize=(n_per_class * 0.9, len(classes) * 0.95),
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
        row[0].set_ylabel(classes[c], rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout(pad=0.3)
    return fig


def pen_path(seq: np.ndarray) -> np.ndarray:
    """Pen positions ``(T, 2)``: cumulative sums of the x and y velocity channels."""
    return np.cumsum(np.asarray(seq)[:, :2], axis=0)


def first_example_per_class(ds: TrajectoryDataset) -> list[int]:
    """Index (into ``ds.sequences``) of the first labelled recording of each class."""
    return [int(np.flatnonzero(ds.labels == c)[0]) for c in range(len(ds.classes))]


def trajectory_grid(ds: TrajectoryDataset, ncols: int = 5) -> plt.Figure:
    """One recording per letter drawn as its pen path, coloured by pen force, in a grid (4 × 5 for 20)."""
    picks = first_example_per_class(ds)
    nrows = int(np.ceil(len(picks) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 1.9, nrows * 1.9), squeeze=False)
    forces = np.concatenate([ds.sequences[i][:, 2] for i in picks])
    vmin, vmax = float(forces.min()), float(forces.max())
    for ax, c, i in zip(axes.flat, range(len(picks)), picks):
        seq = ds.sequences[i]
        xy = pen_path(seq)
        ax.plot(xy[:, 0], xy[:, 1], color="0.75", lw=0.8, zorder=1)
        sc = ax.scatter(xy[:, 0], xy[:, 1], c=seq[:, 2], s=4, cmap="viridis", vmin=vmin, vmax=vmax, zorder=2)
        ax.set_title(f"'{ds.classes[c]}' (#{i})", fontsize=9)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in list(axes.flat)[len(picks):]:
        ax.set_visible(False)
    fig.tight_layout(pad=0.4)
    fig.colorbar(sc, ax=axes, shrink=0.6, label="pen force")
    return fig
