"""Jobs of the VAE study (all in ``results/vae/``), one constructor per kind and one cost formula each.

* ``train``    — the VAEs of one configuration (dataset, dim_z, σ², N labelled, seed), all classes in one batched
  model (or one common VAE on all classes); its result holds the training history and the weights' SHA-256.
* ``score``    — one trained configuration on one test set (MNIST test, Fashion-MNIST test, or the book's MNIST
  probe set), possibly with a test-only σ²: per-probe scores (10 class means, stds, medians, mins and the
  KL(best ‖ second) of three estimators), from which every table is computed for every threshold.
* ``examples`` — the raw 300 cross-entropies per class of a correctly classified and a rejected probe (Fig. 4).
* ``filters``  — decoder last-layer filters of the per-class VAEs and of the common VAE (Fig. 5).

Configurations shared by several tables have one job: Table I's dim_z 15 model is also Table V's "supervised"
row and Table VI's model.
"""

from __future__ import annotations

from ..store import Job
from .profiles import Profile
from .training import TrainConfig

STUDY = "vae"
VERSIONS = {"train": 1, "score": 1, "examples": 1, "filters": 1}
DATASETS = ("mnist", "fashion_mnist")
TEST_SETS = ("mnist_test", "fashion_mnist_test", "mnist_probes")
TEST_SET_SIZE = {"mnist_test": 10_000, "fashion_mnist_test": 10_000}

#: measured on this machine (Intel Xeon with AMX, torch 2.13 CPU, one torch thread, nice 10) as CPU time of the
#: measuring process while two long trainings held both cores (load 2–7 on 2 cores: wall times were 2–17× the CPU
#: times, and CPU time itself is inflated by the shared core — pessimistic numbers). One batched training step
#: (10 models × batch 128 × dim_z 15): 0.237 s fp32, 0.167 s bf16 (median of timed steps; a whole round of 40 steps
#: with its held-out evaluation on real MNIST took 0.27 s a step, data loading included); one scoring chunk of 10
#: probes × 10 classes × 300 re-generations: 0.716 s fp32 (14.0 probes/s), 0.528 s bf16 (18.9 probes/s). Earlier
#: measurements at a lighter load gave 0.150 / 0.124 s a step and 17.1 / 24.4 probes/s. → seconds per
#: (model × image) and per (probe × class × re-generation)
TRAIN_S_PER_IMAGE = {"fp32": 0.237 / 1280, "bf16": 0.167 / 1280}
SCORE_S_PER_REGEN = {"fp32": 0.716 / (10 * 3000), "bf16": 0.528 / (10 * 3000)}
#: images per class of the smallest training split (MNIST digit 5: 5 421; Fashion-MNIST: 6 000 each)
SMALLEST_CLASS = {"mnist": 5421, "fashion_mnist": 6000}


def train_config(p: Profile, dim_z: int, sigma2: float) -> TrainConfig:
    return TrainConfig(dim_z=dim_z, sigma2=float(sigma2), activation=p.activation, batch_size=p.batch_size, lr=p.lr,
                       holdout=p.holdout, round_steps=p.round_steps, max_rounds=p.max_rounds, patience=p.patience,
                       precision=p.train_precision)


def train_job(p: Profile, dataset: str, dim_z: int, sigma2: float = 1.0, seed: int = 0, *,
              n_labelled: int | None = None, common: bool = False, note: str = "") -> Job:
    """The per-class VAEs (or, with ``common``, one VAE on all classes) of one configuration. ``n_labelled``: train
    on N labelled images in all, N / 10 of each class (the semi-supervised rows of Table V); None: all images.
    ``note``: added to the label (not to the key), e.g. to tell a control's budget apart."""
    if dataset not in DATASETS:
        raise ValueError(f"Unknown dataset {dataset!r}: use one of {', '.join(DATASETS)}.")
    if n_labelled is not None and (n_labelled % 10 or n_labelled < 20):
        raise ValueError(f"n_labelled = {n_labelled}: use a multiple of 10 (N / 10 images per class), at least 20")
    cfg = train_config(p, dim_z, sigma2)
    config = {"dataset": dataset, "models": "common" if common else "per_class", "n_labelled": n_labelled,
              "max_per_class": p.max_per_class, "train": cfg.to_dict()}
    # the upper bound: every round of the budget (early stopping ends sooner); the batch is capped by the
    # smallest class's training part (N / 10 labelled images minus the held-out tenth)
    per_class = n_labelled // 10 if n_labelled else SMALLEST_CLASS[dataset]
    if p.max_per_class is not None:
        per_class = min(per_class, p.max_per_class)
    n_models, batch = (1, cfg.batch_size) if common else (10, min(cfg.batch_size, int(per_class * (1 - cfg.holdout))))
    cost = cfg.max_rounds * cfg.round_steps * n_models * batch * TRAIN_S_PER_IMAGE[cfg.precision] + 10
    what = "common VAE" if common else f"N={n_labelled}" if n_labelled else "all labels"
    return Job(STUDY, "train", config, seed=seed, version=VERSIONS["train"], cost_s=cost,
               label=f"train {dataset} dim_z={dim_z} σ²={sigma2:g} {what}{note} #{seed}",
               group=_group(dataset, config, seed))


def _group(dataset: str, config: dict, seed: int) -> str:
    t = config["train"]
    return f"vae-{dataset}-{config['models']}-{config['n_labelled']}-{t['dim_z']}-{t['sigma2']:g}-{seed}"


def stored_n_probes(p: Profile, test_set: str, first: int | None = None) -> int | None:
    """The ``n_probes`` a score job stores: the probe set's size, the first ``first`` test images when given,
    else the profile's ``test_probes`` (None: the whole test set)."""
    if test_set == "mnist_probes":
        return p.probe_set
    return first if first is not None else p.test_probes


def n_probes(p: Profile, test_set: str, first: int | None = None) -> int:
    return stored_n_probes(p, test_set, first) or TEST_SET_SIZE[test_set]


def probe_set(p: Profile, dataset: str) -> tuple[str, int | None]:
    """(test set, first n) of a dataset's 1 000-image probe set: the book's stratified MNIST probe set
    (:mod:`ic.data.probes`), or the first ``probe_set`` Fashion-MNIST test images (87–115 per class in the first
    1 000: the test file is not ordered by class)."""
    return ("mnist_probes", None) if dataset == "mnist" else (f"{dataset}_test", p.probe_set)


def sigma_set(p: Profile, dataset: str) -> tuple[str, int | None]:
    """(test set, first n) the σ² tables and the test-only σ² ablation score: the dataset's probe set when the
    profile says so (``sigma_on_probe_sets``), else its whole test set."""
    return probe_set(p, dataset) if p.sigma_on_probe_sets else (f"{dataset}_test", None)


def score_job(p: Profile, model: Job, test_set: str, sigma2: float | None = None, first: int | None = None) -> Job:
    """``model`` (a ``train`` job) scored on ``test_set`` (its first ``first`` images when given, else the
    profile's ``test_probes``); ``sigma2`` the re-generation noise variance at test (None: the training σ²)."""
    if test_set not in TEST_SETS:
        raise ValueError(f"Unknown test set {test_set!r}: use one of {', '.join(TEST_SETS)}.")
    if model.kind != "train" or model.config["models"] != "per_class":
        raise ValueError("a score job needs a per-class train job")
    train_sigma2 = model.config["train"]["sigma2"]
    test_sigma2 = float(train_sigma2 if sigma2 is None else sigma2)
    n = n_probes(p, test_set, first)
    config = {"model": model.key, "test_set": test_set, "n_probes": stored_n_probes(p, test_set, first),
              "samples": p.samples, "sigma2": test_sigma2, "precision": p.score_precision}
    cost = n * 10 * p.samples * SCORE_S_PER_REGEN[p.score_precision] + 5
    extra = "" if test_sigma2 == train_sigma2 else f" test σ²={test_sigma2:g}"
    part = f" (first {n})" if first is not None and test_set != "mnist_probes" else ""
    return Job(STUDY, "score", config, seed=model.seed, version=VERSIONS["score"], cost_s=cost,
               label=f"score {model.label.removeprefix('train ')} on {test_set}{part}{extra}", group=model.group,
               deps=(model,))


def examples_job(p: Profile, score: Job) -> Job:
    """Raw cross-entropies of one correctly classified and one rejected probe of ``score`` (Fig. 4)."""
    config = {"score": score.key, "thr_correct": max(p.mnist_thresholds),
              "thr_rejected": min(t for t in p.mnist_thresholds if t > 0)}
    model = score.deps[0]
    cost = 2 * 10 * p.samples * SCORE_S_PER_REGEN[p.score_precision] + 5
    return Job(STUDY, "examples", config, seed=score.seed, version=VERSIONS["examples"], cost_s=cost,
               label=f"examples of {score.label.removeprefix('score ')}", group=score.group, deps=(model, score))


def filters_job(p: Profile, per_class: Job, common: Job) -> Job:
    config = {"per_class": per_class.key, "common": common.key, "n_filters": p.n_filters}
    return Job(STUDY, "filters", config, seed=per_class.seed, version=VERSIONS["filters"], cost_s=5,
               label="decoder filters: per-class VAEs vs common VAE", group=per_class.group, deps=(per_class, common))
