"""Jobs of the LSTM study (all in ``results/lstm/``), one constructor per kind and one cost formula each.

* ``train_gen`` — one generative LSTM (class count k, training noise σ, data variant all | sparse1 | sparse4,
  data split, instance seed). Result: loss history, sizes, time, the SHA-256 of its weights (new runs). Weights
  → untracked cache.
* ``ic``        — inverse classification of the test split with one trained generator (its dep). Result:
  accuracy, per-probe predictions, RMSE of the final vectors, mean loss curve.
* ``heatmap``   — the 11 × 11 latent grid of a 2-class generator against fixed 'a' and 'b' targets (DTW, MSE).
* ``train_fwd`` — one forward LSTM classifier (comparison | sparse comparison), trained and scored; with
  ``train_fraction`` in its config (beyond the sources) on a stratified part of the training split only.
* ``vertex``, ``nearest_centre`` — beyond the sources: decoding a test split at a generator's vertices, and
  the nearest-centre classifier of a sparse training set.

Every job that works on a trained generator names it in its config (key and configuration) and declares it in
``deps``; ``group`` (the generator's key) keeps them in one shard.
"""

from __future__ import annotations

from ..store import Job
from .profiles import Profile

STUDY = "lstm"
# Version of each job kind: bump when the meaning of a job of that kind changes (new key → recomputed).
VERSIONS = {"train_gen": 1, "ic": 1, "heatmap": 1, "train_fwd": 1, "vertex": 1, "nearest_centre": 1}

#: start rules of inverse classification: the sources' uniform vector, or (beyond the sources) the uniform vector
#: and every one-hot vertex, keeping per probe the start with the lowest final reconstruction loss
STARTS = ("uniform", "uniform+vertices")
#: loss scales of inverse classification: the mean over all elements of a trajectory (ours), or the per-step MSE
#: summed over the time steps (the thesis's code; T times larger — Adam is scale-invariant only far from its ε)
IC_LOSSES = ("mean", "sum_over_time")


# ------------------------------------------------------------------------------------------- cost formulas
# Expected CPU seconds per job at hidden size 205 on one core of the 2-core development machine (measured on the
# paper profile); models scale with hidden² and with their expected epochs relative to the profile's.
GEN_S_PER_MODEL = {2: 80, 4: 160, 20: 300}          # minibatch generator at the profile's epochs
GEN_BATCH1_S_PER_EPOCH = 110 / 140                  # batch-1 generator (2 classes), per epoch
FWD_S_PER_MODEL = {2: 60, 4: 120, 20: 300}
IC_S_PER_START = {2: 25, 4: 50, 20: 250}            # one start of inverse classification of a test split
HEATMAP_S, VERTEX_S, NEAREST_CENTRE_S = 15, 2, 2


def _stopping_rule(p: Profile, k: int, variant: str) -> dict:
    """Config entries of the early-stopping schedule (all-data models of the class counts in ``max_epochs``)."""
    if variant != "all" or k not in p.max_epochs:
        return {}
    return {"max_epochs": p.max_epochs[k], "patience": p.patience, "min_rel_improvement": p.min_rel_improvement}


def _sparse_control_rule(p: Profile, k: int) -> dict:
    """Config entries of the sparse-generator control: the all-data models' stopping rule, counted in optimiser
    steps of all-data epochs (a sparse epoch is a few steps)."""
    return {"max_epochs": p.sparse_control_max_epochs[k], "patience": p.patience,
            "min_rel_improvement": p.min_rel_improvement, "stop_rule": "all_data_epochs_of_steps"}


def is_sparse_control(gen_config: dict) -> bool:
    """Whether a generator's training config is the sparse-generator control's (trained to convergence by
    :func:`_sparse_control_rule`)."""
    return "stop_rule" in gen_config


def _checkpoint_rule(variant: str) -> dict:
    """Sparse models have no validation data: they keep their best epoch on their own training sequences."""
    return {} if variant == "all" else {"checkpoint": "best_train"}


def _epoch_factor(p: Profile, k: int, variant: str, converge: bool = False) -> float:
    """Expected epochs over the profile's epochs: early-stopped models are assumed to run halfway between their
    minimum and maximum."""
    rule = _sparse_control_rule(p, k) if converge else _stopping_rule(p, k, variant)
    return (p.epochs[k] + rule["max_epochs"]) / 2 / p.epochs[k] if rule else 1.0


def train_gen_cost(p: Profile, k: int, variant: str, converge: bool = False) -> float:
    scale = (p.hidden / 205) ** 2
    if p.batch_size == 1:
        return p.epochs[k] * GEN_BATCH1_S_PER_EPOCH * scale
    return GEN_S_PER_MODEL[k] * scale * _epoch_factor(p, k, variant, converge)


def train_fwd_cost(p: Profile, k: int, variant: str, train_fraction: float) -> float:
    return FWD_S_PER_MODEL[k] * (p.hidden / 205) ** 2 * _epoch_factor(p, k, variant) * train_fraction


def ic_cost(p: Profile, k: int, n_starts: int, iterations: int | None = None) -> float:
    return IC_S_PER_START[k] * (p.hidden / 205) * n_starts * (iterations or p.ic_iterations) / p.ic_iterations


# ------------------------------------------------------------------------------------------- constructors
def gen_job(p: Profile, k: int, sigma: float, variant: str, instance: int, data_id: dict,
            renormalise: bool = False, converge: bool = False, replica: bool = False) -> Job:
    """A generator; ``converge`` (sparse variants only): trained to the all-data models' stopping rule (the
    sparse-generator control) instead of the all-data models' fixed step count; ``replica``: the same setting, split
    and seed trained again as a job of its own (with its weights at hand), for tests that need a generator's
    weights when the original's cannot be rebuilt bit for bit on this machine."""
    if converge and variant == "all":
        raise ValueError("converge=True is the sparse-generator control: use a sparse variant")
    split_seed = p.split_of(instance)
    config = {"data": data_id, "k": k, "sigma": sigma, "renormalise": renormalise, "variant": variant,
              "split_seed": split_seed, "hidden": p.hidden, "batch_size": p.batch_size, "lr": p.lr_for(k),
              "epochs": p.epochs[k], "val_fraction": p.val_fraction, **_checkpoint_rule(variant),
              **(_sparse_control_rule(p, k) if converge else _stopping_rule(p, k, variant)),
              **({"replica": 1} if replica else {})}
    note = ((" batch-1 protocol" if p.batch_size == 1 else "") + (" renormalised noise" if renormalise else "")
            + (" to convergence" if converge else "") + (" (replica)" if replica else ""))
    return Job(STUDY, "train_gen", config, seed=instance, version=VERSIONS["train_gen"],
               cost_s=train_gen_cost(p, k, variant, converge),
               label=f"gen k={k} σ={sigma} {variant} split={split_seed} #{instance}{note}")


def _on_generator(p: Profile, gen: Job, kind: str, extra: dict, cost_s: float, label: str) -> Job:
    """A job that works on the trained generator ``gen``: names it in its config and depends on it."""
    config = {"generator": gen.key, "gen_config": dict(gen.config), "gen_seed": gen.seed, **extra}
    return Job(STUDY, kind, config, seed=0, version=VERSIONS[kind], cost_s=cost_s, label=f"{label} of {gen.label}",
               group=gen.key, deps=(gen,))


def ic_job(p: Profile, gen: Job, starts: str = "uniform", iterations: int | None = None,
           loss: str = "mean") -> Job:
    """Inverse classification of a generator's test split. Beyond the sources' settings: ``starts``, more
    ``iterations`` than the profile's, and ``loss`` 'sum_over_time' (the thesis code's scale: per-step MSE summed
    over the time steps, instead of the mean over all elements)."""
    if starts not in STARTS:
        raise ValueError(f"Unknown start rule {starts!r}: use one of {', '.join(STARTS)}.")
    if loss not in IC_LOSSES:
        raise ValueError(f"Unknown IC loss {loss!r}: use one of {', '.join(IC_LOSSES)}.")
    iterations = iterations or p.ic_iterations
    extra = {"iterations": iterations, "lr": p.ic_lr, "optimizer": p.ic_optimizer, "max_test": p.max_test}
    if starts != "uniform":                     # the sources' settings keep the original job keys
        extra["starts"] = starts
    if loss != "mean":
        extra["loss"] = loss
    k = gen.config["k"]
    n_starts = 1 if starts == "uniform" else 1 + k
    label = ("IC" if starts == "uniform" else "multi-start IC") + (
        f" ({iterations} it)" if iterations != p.ic_iterations else "") + (f" ({loss} loss)" if loss != "mean" else "")
    return _on_generator(p, gen, "ic", extra, ic_cost(p, k, n_starts, iterations), label)


def heatmap_job(p: Profile, gen: Job) -> Job:
    extra = {"steps": p.heatmap_steps,
             "target_rule": "test sample closest (DTW) to the class's mean training trajectory"}
    return _on_generator(p, gen, "heatmap", extra, HEATMAP_S, "heat map")


def vertex_job(p: Profile, gen: Job) -> Job:
    """Beyond the sources: the generator's one-hot outputs as class prototypes (no optimisation) — what inverse
    classification would score if its optimiser always found the right vertex."""
    return _on_generator(p, gen, "vertex", {"max_test": p.max_test}, VERTEX_S, "vertex decoding")


def nearest_centre_job(p: Profile, k: int, variant: str, instance: int, data_id: dict) -> Job:
    """Beyond the sources: classify by the nearest training trajectory of a sparse training set (its class
    means or k-means centres) — what those sequences tell without any model."""
    if variant not in ("sparse1", "sparse4"):
        raise ValueError(f"Unknown nearest-centre variant {variant!r}: use sparse1 or sparse4.")
    split_seed = p.split_of(instance)
    config = {"data": data_id, "k": k, "variant": variant, "split_seed": split_seed, "max_test": p.max_test}
    return Job(STUDY, "nearest_centre", config, seed=instance, version=VERSIONS["nearest_centre"],
               cost_s=NEAREST_CENTRE_S, label=f"nearest centre k={k} {variant} split={split_seed} #{instance}")


def fwd_job(p: Profile, k: int, variant: str, instance: int, data_id: dict, train_fraction: float = 1.0) -> Job:
    """A forward classifier; with ``train_fraction`` < 1 (variant 'all' only) trained on a stratified part of the
    training split (same split, seed and schedule; the key of a full-data job does not change)."""
    split_seed = p.split_of(instance)
    config = {"data": data_id, "k": k, "variant": variant, "split_seed": split_seed, "hidden": p.hidden,
              "batch_size": p.batch_size, "lr": p.lr_for(k), "epochs": p.epochs[k], "val_fraction": p.val_fraction,
              "loss": "mse_softmax_onehot", **_checkpoint_rule(variant), **_stopping_rule(p, k, variant)}
    if train_fraction != 1.0:
        if variant != "all" or not 0.0 < train_fraction < 1.0:
            raise ValueError(f"train_fraction {train_fraction} needs variant 'all' and a value in (0, 1)")
        config["train_fraction"] = train_fraction
    part = "" if train_fraction == 1.0 else f" ×{train_fraction:g}"
    return Job(STUDY, "train_fwd", config, seed=instance, version=VERSIONS["train_fwd"],
               cost_s=train_fwd_cost(p, k, variant, train_fraction),
               label=f"forward k={k} {variant}{part} split={split_seed} #{instance}")


def class_count(job: Job) -> int:
    """The class count of any job of the study (its own or its generator's)."""
    return job.config["gen_config"]["k"] if "gen_config" in job.config else job.config["k"]
