"""Numeric rows of the LSTM study's finished jobs, one frame per kind of result (:func:`ic.report.frame`)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..report import Collected, frame

#: the data variant of a generator as the chapter names it
VARIANT_NAMES = {"all": "all data", "sparse1": "sparse1", "sparse4": "sparse4"}


def epochs_run(record: dict) -> int:
    """Epochs a model job ran; records written before early stopping existed ran every epoch up to the last one
    they logged (sparse models logged every n-th epoch, always the last)."""
    fit = record["result"]["fit"]
    return fit.get("epochs_run", fit["epochs"][-1] + 1)


def _gen(field: str) -> str:
    return f"config.gen_config.{field}"


IC_FIELDS = {"k": _gen("k"), "sigma": _gen("sigma"), "variant": _gen("variant"), "instance": "config.gen_seed",
             "split": _gen("split_seed"), "batch_size": _gen("batch_size"), "accuracy": "result.accuracy",
             "accuracy_first250": "result.accuracy_first250", "rmse": "result.rmse_mean", "n_test": "result.n_test"}
VERTEX_FIELDS = {"k": _gen("k"), "sigma": _gen("sigma"), "variant": _gen("variant"), "instance": "config.gen_seed",
                 "batch_size": _gen("batch_size"), "vertex": "result.accuracy"}
MULTISTART_FIELDS = {"k": _gen("k"), "sigma": _gen("sigma"), "instance": "config.gen_seed",
                     "uniform": lambda j, r: r["result"]["accuracy_per_start"][0], "multi": "result.accuracy",
                     "vertex_won": lambda j, r: 1 - r["result"]["start_won"][0]}
HEATMAP_FIELDS = {"sigma": _gen("sigma"), "instance": "config.gen_seed", "split": _gen("split_seed"),
                  **{m: (lambda j, r, m=m: np.array(r["result"][m])) for m in ("dtw_a", "dtw_b", "mse_a", "mse_b")},
                  "agreement_dtw": "result.diagonal_agreement_dtw", "agreement_mse": "result.diagonal_agreement_mse",
                  "offset_dtw": "result.boundary_offset_dtw", "offset_mse": "result.boundary_offset_mse"}
FIT_FIELDS = {"kind": "kind", "k": "config.k", "sigma": ("config.sigma", None), "variant": "config.variant",
              "batch_size": "config.batch_size", "instance": "seed", "steps": "result.fit.steps",
              "best_epoch": "result.fit.best_epoch", "best_val_loss": "result.fit.best_val_loss",
              "final_train_loss": lambda j, r: (r["result"]["fit"]["train_loss"] or [math.nan])[-1],
              "cpu_s": "cpu_time_s", "epochs": "result.fit.epochs", "train_loss": "result.fit.train_loss",
              "val_loss": "result.fit.val_loss", "sequences_per_s": ("result.sequences_per_s", None),
              "epochs_run": lambda j, r: epochs_run(r),
              "min_epochs": lambda j, r: j.config["epochs"] if "max_epochs" in j.config else None}
SETTING_FIELDS = {"k": "config.k", "instance": "seed", "split": "config.split_seed", "accuracy": "result.accuracy",
                  "accuracy_strict": ("result.accuracy_strict", math.nan), "n_train": "result.n_train",
                  "variant": "config.variant", "train_fraction": ("config.train_fraction", 1.0)}


def ic_frame(col: Collected) -> pd.DataFrame:
    """One row per finished IC run: k, σ, variant, instance, split, accuracy, …"""
    return frame(col, "ic", IC_FIELDS)


def heatmap_frame(col: Collected) -> pd.DataFrame:
    return frame(col, "heatmap", HEATMAP_FIELDS)


def fit_frame(col: Collected) -> pd.DataFrame:
    return frame(col, ("train_gen", "train_fwd"), FIT_FIELDS)


def diagnostic_frame(ics: list[Collected], diag: Collected) -> pd.DataFrame:
    """One row per generator with both results: IC accuracy (uniform start) and vertex-decoding accuracy."""
    keys = ["k", "sigma", "variant", "instance", "batch_size"]
    ic = pd.concat([ic_frame(c) for c in ics]).drop_duplicates(keys)
    return ic.merge(frame(diag, "vertex", VERTEX_FIELDS), on=keys, how="inner")


def sparsity_frame(col: Collected) -> pd.DataFrame:
    """One row per finished IC run and forward classifier of the sparsity comparison, with its setting.

    ``accuracy`` is the argmax accuracy; ``thesis_rule`` the accuracy as the thesis scored each method: the argmax
    for inverse classification, the strict rounding rule (every rounded softmax output equals the one-hot label)
    for forward classifiers — the column every comparison with the thesis's numbers uses."""
    ic = ic_frame(col)
    ic = ic.assign(setting=ic.variant.map(VARIANT_NAMES), thesis_rule=ic.accuracy)
    fwd = frame(col, "train_fwd", SETTING_FIELDS)
    fwd = fwd.assign(setting=fwd.variant.map({"all": "comparison", "sparse4": "sparse comparison"}),
                     thesis_rule=fwd.accuracy_strict)
    columns = ["setting", "k", "instance", "split", "accuracy", "thesis_rule"]
    return pd.concat([ic[columns], fwd[columns]], ignore_index=True)
