"""The convergence rule of the LSTM study, applied to every trained model (generators and forward classifiers).

It reads only a model's loss history — never an inverse-classification or test accuracy — and has two parts:

* **finished**: in the last :data:`TAIL` of the epochs the model ran, its monitored loss (held-out loss for
  all-data models; the loss on its own training sequences for sparse models, which have no held-out data) fell by
  less than :data:`REL_TOL` of its earlier best, or by less than :data:`ABS_TOL` — the model had stopped improving
  when its training ended;
* **at its setting's level**: its best monitored loss is at most :data:`PLATEAU_FACTOR` times the median best loss
  of the models of its setting, plus :data:`ABS_TOL` (a setting: same kind, class count, σ, data, batch size,
  noise variant and schedule) — it did not stop on a plateau its peers left.

A model that meets both is *converged*. The thresholds are round numbers chosen for minibatch loss curves (a 2 %
fall over the last fifth of training is within the spread of the curve; a best loss twice the median of five
peers is a different solution, not noise); the chapter states that the rule was fixed after the study's accuracies
were known, and shows every table over all models and over the converged ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..report import Collected, frame
from .frames import epochs_run
from .jobs import is_sparse_control

TAIL = 0.2
REL_TOL = 0.02
ABS_TOL = 1e-3
PLATEAU_FACTOR = 2.0

#: the columns that define a model's setting (its peers share all of them)
SETTING = ["kind", "k", "sigma", "variant", "batch_size", "renormalise", "train_fraction", "schedule"]

_FIELDS = {
    "key": lambda j, r: j.key, "kind": "kind", "k": "config.k", "sigma": ("config.sigma", np.nan),
    "variant": "config.variant", "batch_size": "config.batch_size", "instance": "seed",
    "renormalise": ("config.renormalise", False), "train_fraction": ("config.train_fraction", 1.0),
    "schedule": lambda j, r: "to convergence" if is_sparse_control(j.config) else (
        "early stopping" if "max_epochs" in j.config else "fixed"),
    "steps": "result.fit.steps", "best_epoch": "result.fit.best_epoch",
    "epochs_run": lambda j, r: epochs_run(r),
    "logged_epochs": "result.fit.epochs", "monitored": "result.fit.val_loss",
}


def improvement_in_tail(epochs: list[int], losses: list[float], epochs_run: int, tail: float = TAIL) -> tuple:
    """(absolute, relative) fall of the best monitored loss during the last ``tail`` of ``epochs_run`` epochs:
    best before the tail minus best overall. ``losses[i]`` is the loss logged after epoch ``epochs[i]``."""
    if not losses or len(epochs) != len(losses):
        raise ValueError("a loss history needs one logged loss per logged epoch")
    start = (1.0 - tail) * epochs_run
    before = [v for e, v in zip(epochs, losses) if e + 1 <= start]
    if not before:                                  # too few epochs logged to tell
        return np.nan, np.nan
    best_before, best = min(before), min(losses)
    fall = best_before - best
    return fall, (fall / best_before if best_before > 0 else 0.0)


def is_finished(epochs: list[int], losses: list[float], epochs_run: int) -> bool:
    fall, rel = improvement_in_tail(epochs, losses, epochs_run)
    return bool(np.isnan(fall) or fall < ABS_TOL or rel < REL_TOL)


def convergence_frame(col: Collected) -> pd.DataFrame:
    """One row per trained model in ``col``: its setting, best monitored loss, the fall in the last fifth of its
    training, and the rule's verdicts ``finished``, ``at_level`` and ``converged``."""
    f = frame(col, ("train_gen", "train_fwd"), _FIELDS)
    if f.empty:
        return f.assign(best_loss=[], fall=[], rel_fall=[], finished=[], setting_median=[], at_level=[],
                        converged=[])
    f["best_loss"] = [min(v) for v in f.monitored]
    falls = [improvement_in_tail(e, v, n) for e, v, n in zip(f.logged_epochs, f.monitored, f.epochs_run)]
    f["fall"], f["rel_fall"] = [a for a, _ in falls], [b for _, b in falls]
    f["finished"] = [is_finished(e, v, n) for e, v, n in zip(f.logged_epochs, f.monitored, f.epochs_run)]
    f["setting_median"] = f.groupby(SETTING, dropna=False).best_loss.transform("median")
    f["at_level"] = f.best_loss <= PLATEAU_FACTOR * f.setting_median + ABS_TOL
    f["converged"] = f.finished & f.at_level
    return f.drop(columns=["logged_epochs", "monitored"])


def converged_keys(*cols: Collected) -> set[str]:
    """Keys of the converged models among the records of ``cols`` (each judged with the peers in its own
    collection — pass collections that hold whole settings)."""
    out = set()
    for c in cols:
        f = convergence_frame(c)
        out |= set(f.key[f.converged])
    return out


def convergence_summary(*cols: Collected) -> pd.DataFrame:
    """Per setting: how many models meet each part of the rule, and their best monitored loss (median, range)."""
    f = pd.concat([convergence_frame(c) for c in cols]).drop_duplicates("key")
    rows = []
    for setting, d in f.groupby(SETTING, dropna=False):
        rows.append({**dict(zip(SETTING, setting)), "n": len(d), "finished": int(d.finished.sum()),
                     "at_level": int(d.at_level.sum()), "converged": int(d.converged.sum()),
                     "best_median": float(d.best_loss.median()), "best_min": float(d.best_loss.min()),
                     "best_max": float(d.best_loss.max()), "epochs_min": int(d.epochs_run.min()),
                     "epochs_max": int(d.epochs_run.max()), "steps_mean": float(d.steps.mean())})
    return pd.DataFrame(rows)
