"""The data a job of the LSTM study sees: the prepared trajectories, seeded splits, sparse training sets, and the
training schedule that follows from them."""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass

import numpy as np

from ..data.files import DataError
from ..data.subsets import train_test_split_indices
from ..data.trajectories import (MAT_SPEC, MIRROR_LABELLED_COUNTS, NPZ_SPEC, UCI_CLASS_COUNTS,
                                 load_character_trajectories)
from ..train import FitConfig
from .preprocess import PreparedTrajectories, prepare
from .sparse import class_centres

log = logging.getLogger("ic.lstm")

VARIANTS = ("all", "sparse1", "sparse4")


#: labelled recordings of each source; fixed by the file (the UCI file's per-class counts are checked on reading,
#: the mirror's SHA-256)
N_LABELLED = {"uci-mat": sum(UCI_CLASS_COUNTS.values()), "mirror-npz": sum(MIRROR_LABELLED_COUNTS.values())}


def planned_source(root: str | None = None) -> str:
    """The file a run reads, from the files present alone (none is read or downloaded): the UCI file when it is
    present, else the offline mirror when it is present, else the UCI file, which :func:`load_data` downloads."""
    if MAT_SPEC.path(root).is_file():
        return "uci-mat"
    if NPZ_SPEC.path(root).is_file():
        return "mirror-npz"
    _warn_no_file(str(MAT_SPEC.path(root).parent))
    return "uci-mat"


@functools.cache
def _warn_no_file(folder: str) -> None:
    log.warning("No Character Trajectories file in %s (set IC_DATA_DIR): the LSTM jobs are planned for the UCI "
                "file a run would download, so results computed on the offline mirror count as missing", folder)


def planned_data_identity(root: str | None = None) -> dict:
    """``data_identity(load_data(root))`` without loading anything: what the jobs' keys need, so that a plan
    (``python -m ic status``) costs no data loading and works without the dataset."""
    source = planned_source(root)
    return {"source": source, "n_labelled": N_LABELLED[source]}


@functools.lru_cache(maxsize=2)
def load_data(root: str | None = None) -> PreparedTrajectories:
    """The prepared trajectories of the file :func:`planned_source` names (the UCI file is downloaded only when
    neither file is present), checked against :func:`planned_data_identity`."""
    ds = load_character_trajectories(root, download=planned_source(root) == "uci-mat")
    prepared = prepare(ds)
    log.info("Character Trajectories from %s: %d labelled recordings (standardised on %d)", ds.source,
             len(prepared.labels), prepared.n_recordings_for_stats)
    if data_identity(prepared) != planned_data_identity(root):
        raise DataError(f"{ds.path}: read {data_identity(prepared)}, but the jobs were planned for "
                        f"{planned_data_identity(root)}; replace the file with the canonical one.")
    return prepared


def data_identity(data: PreparedTrajectories) -> dict:
    """Part of every job config: results on the 1429-label mirror and the 2858-label UCI file differ."""
    return {"source": data.source, "n_labelled": int(len(data.labels))}


@dataclass(frozen=True)
class Split:
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def make_split(data: PreparedTrajectories, k: int, split_seed: int, test_fraction: float = 0.2) -> Split:
    """The first k classes, split 80/20 with a seeded shuffle (unstratified, like the thesis's
    ``train_test_split(test_size=0.2, shuffle=True)``, which had no seed)."""
    X, y = data.first_classes(k)
    tr, te = train_test_split_indices(len(y), test_fraction=test_fraction, seed=split_seed)
    rng = np.random.default_rng(split_seed)
    tr = rng.permutation(tr)          # shuffled order, as Keras saw the array (its validation = the last 20 %)
    return Split(X[tr], y[tr], X[te], y[te])


def probe_split(k: int, split_seed: int, max_test: int | None) -> tuple[Split, np.ndarray, np.ndarray]:
    """The split and its test probes (the first ``max_test`` of them when capped)."""
    split = make_split(load_data(), k, split_seed)
    X, y = split.X_test, split.y_test
    return (split, X[:max_test], y[:max_test]) if max_test else (split, X, y)


def training_set(split: Split, variant: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if variant == "all":
        return split.X_train, split.y_train
    if variant in ("sparse1", "sparse4"):
        return class_centres(split.X_train, split.y_train, int(variant[-1]), seed=seed)
    raise ValueError(f"Unknown data variant {variant!r}: use all, sparse1 or sparse4.")


def steps_per_epoch(n: int, batch_size: int, val_fraction: float) -> int:
    n_grad = n - int(math.floor(n * val_fraction))
    return math.ceil(n_grad / max(1, min(batch_size, n_grad)))


def fit_config_for(config: dict, n_all_train: int, n_train: int) -> FitConfig:
    """Training schedule of a model job (its ``config`` holds epochs, batch_size, lr, val_fraction, variant).

    All-data models: the epochs with a validation hold-out, best checkpoint kept (as Keras'
    ``validation_split`` + checkpointing). Sparse models (8–80 sequences): the same number of optimiser steps
    as the all-data model of the same k, no validation; the research notes' default (§A.5) keeps the last epoch,
    we keep the epoch with the lowest clean-input loss on the model's own training sequences (``checkpoint:
    best_train`` in the job's config), so that a loss spike in the last epoch does not decide the result.
    With ``max_epochs`` in the config, all-data models train at least ``epochs`` and at most ``max_epochs`` epochs
    and stop early on a stalled held-out loss; sparse models keep the step count of ``epochs``, except the
    sparse-generator control (``stop_rule``), which follows the same rule on its own training loss, with every
    epoch count converted to the optimiser steps of that many all-data epochs."""
    epochs, bs, lr, vf = config["epochs"], config["batch_size"], config["lr"], config["val_fraction"]
    if config["variant"] == "all":
        if "max_epochs" in config:
            return FitConfig(epochs=config["max_epochs"], min_epochs=epochs, patience=config["patience"],
                             min_rel_improvement=config["min_rel_improvement"], batch_size=bs, lr=lr,
                             val_fraction=vf)
        return FitConfig(epochs=epochs, batch_size=bs, lr=lr, val_fraction=vf)
    all_epoch = steps_per_epoch(n_all_train, bs, vf)      # optimiser steps of one all-data epoch
    per_epoch = steps_per_epoch(n_train, bs, 0.0)
    checkpoint = config.get("checkpoint", "last")
    if checkpoint not in ("last", "best_train"):
        raise ValueError(f"Unknown checkpoint rule {checkpoint!r}: use last or best_train.")
    stop = {}
    if "max_epochs" in config:          # the sparse-generator control: the all-data rule, in all-data epochs of steps
        if config.get("stop_rule") != "all_data_epochs_of_steps" or checkpoint != "best_train":
            raise ValueError("a sparse model with max_epochs needs stop_rule 'all_data_epochs_of_steps' and "
                             "checkpoint 'best_train' (build it with ic.lstm.jobs.gen_job(..., converge=True))")
        to_sparse = lambda e: math.ceil(e * all_epoch / per_epoch)  # noqa: E731
        steps = config["max_epochs"] * all_epoch
        stop = {"min_epochs": to_sparse(epochs), "patience": to_sparse(config["patience"]),
                "min_rel_improvement": config["min_rel_improvement"]}
    else:
        steps = epochs * all_epoch
    n_epochs = math.ceil(steps / per_epoch)
    return FitConfig(epochs=n_epochs, batch_size=bs, lr=lr, val_fraction=0.0, max_steps=steps,
                     monitor_train=checkpoint == "best_train", log_every=max(1, n_epochs // 300), **stop)
