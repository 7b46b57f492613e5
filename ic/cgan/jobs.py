"""Jobs of the cGAN study (all in ``results/cgan/``), one constructor per kind and one cost formula each.

* ``train_judge`` — the small MNIST CNN that judges the GAN's samples (and is the forward baseline).
* ``gan_epoch``   — one epoch of one GAN (noise size nz, GAN seed), resumed from the previous epoch's full
  training state; its result holds the losses, the model-selection scores, the inverse-classification accuracy
  on the curve probes, a sample grid and the SHA-256 of the generator checkpoint. Once the stopping rule has
  fired, a later epoch's job records that it was not trained.
* ``ic``          — one repeat (noise-initialisation seed) of inverse classification of the probes with the
  *selected* checkpoint of one GAN; the selection is a fixed function of the training jobs (its deps), so the
  key pins the generator. Per-probe predictions are stored for paired comparisons between settings.
* ``baseline``    — a classifier the source names but never ran, on the same probes: the nearest neighbour in
  pixel space over the 60 000 training images, and the small CNN (the judge).
* ``reconstruct`` — reconstructions, final class vectors and per-iteration gradient norms of a few probes.
"""

from __future__ import annotations

import functools
from dataclasses import asdict

from ..store import Job
from .profiles import Profile, epoch_cap
from .training import GANConfig

STUDY = "cgan"
VERSIONS = {"train_judge": 1, "gan_epoch": 1, "ic": 1, "baseline": 1, "reconstruct": 1, "class_oracle": 1}

#: measured on a 2-core Xeon with AMX at one thread: a D+G step of batch 128 takes 1.6 s in bf16, 3.2 s in fp32;
#: inverse classification 440 probe-iterations/s in bf16, 230 in fp32
STEP_S = {"bf16": 1.6, "fp32": 3.2}
PROBE_IT_PER_S = {"bf16": 440.0, "fp32": 230.0}


#: the σ of the Gaussian noise on the generator's class input during its step (the source's, see GANConfig)
LABEL_NOISE = GANConfig.label_noise


def gan_config(p: Profile, nz: int, label_noise: float = LABEL_NOISE) -> GANConfig:
    return GANConfig(nz=nz, precision=p.precision, batch_size=p.batch_size, max_batches=p.max_batches,
                     label_noise=float(label_noise))


def _variant(label_noise: float) -> tuple[str, str]:
    """The group suffix and label suffix of a GAN trained with ``label_noise`` (none for the source's σ)."""
    if label_noise == LABEL_NOISE:
        return "", ""
    if label_noise == 0:
        return "-nolabelnoise", " without label noise"
    return f"-labelnoise{label_noise:g}", f" with label noise {label_noise:g}"


def judge_job(p: Profile) -> Job:
    config = {"arch": "SmallCNN", "epochs": p.judge_epochs, "max_steps": p.judge_max_steps, "batch_size": 128,
              "lr": 1e-3, "val_last": 5000}
    steps = p.judge_max_steps or p.judge_epochs * 430
    return Job(STUDY, "train_judge", config, seed=0, version=VERSIONS["train_judge"], cost_s=steps * 0.05,
               label="MNIST judge (small CNN)")


@functools.lru_cache(maxsize=4096)
def epoch_job(p: Profile, nz: int, epoch: int, label_noise: float = LABEL_NOISE) -> Job:
    """Epoch ``epoch`` (0-based) of the GAN with noise size ``nz`` trained with ``label_noise`` on the generator's
    class input (the default keeps the source's σ and the keys of every GAN of the book); depends on the previous
    epoch and the judge."""
    judge = judge_job(p)
    gan = asdict(gan_config(p, nz, label_noise))
    config = {"gan": gan, "epoch": epoch, "judge": judge.key,
              "select": {"per_class": p.select_per_class, "seed": p.select_seed},
              "stop": {"min_epochs": p.min_epochs, "patience": p.patience, "min_gain": p.min_gain},
              "curve": {"probes": p.curve_probes, "iterations": p.curve_iterations, "alpha": 1.0, "late_k": -1,
                        "bn": "ghost4", "seed": 0}}
    deps = (judge,) if epoch == 0 else (judge, epoch_job(p, nz, epoch - 1, label_noise))
    batches = p.max_batches or 469
    curve_s = p.curve_probes * p.curve_iterations / PROBE_IT_PER_S[p.precision]
    cost = batches * STEP_S[p.precision] * p.batch_size / 128 + curve_s + 15
    group, label = _variant(label_noise)
    return Job(STUDY, "gan_epoch", config, seed=p.gan_seed, version=VERSIONS["gan_epoch"], cost_s=cost,
               label=f"GAN nz={nz}{label} epoch {epoch}", group=f"gan-nz{nz}{group}", deps=deps)


def training_jobs(p: Profile, nz: int, label_noise: float = LABEL_NOISE) -> list[Job]:
    return [epoch_job(p, nz, e, label_noise) for e in range(epoch_cap(p, nz))]


def _generator_ref(p: Profile, nz: int, label_noise: float = LABEL_NOISE) -> dict:
    """What identifies the selected generator of noise size ``nz``: its training chain (the first epoch's key
    holds the GAN's configuration, stopping and selection rules) and the cap."""
    ref = {"nz": nz, "training": epoch_job(p, nz, 0, label_noise).key, "max_epochs": epoch_cap(p, nz),
           "checkpoint": "selected"}
    if label_noise != LABEL_NOISE:      # named only when not the source's, so that the book's keys stay as they are
        ref["label_noise"] = float(label_noise)
    return ref


def ic_job(p: Profile, nz: int, *, alpha: float = 1.0, late_k: int = -1, repeat: int = 0, bn: str = "ghost4",
           optimizer: str = "source_adam", precision: str | None = None, label_noise: float = LABEL_NOISE) -> Job:
    precision = precision or p.precision
    config = {"generator": _generator_ref(p, nz, label_noise), "alpha": float(alpha), "late_k": int(late_k), "bn": bn,
              "optimizer": optimizer, "precision": precision, "probes": p.probes, "iterations": p.iterations}
    n = p.probes or 10_000
    cost = n * p.iterations / PROBE_IT_PER_S[precision] + 10
    main = (bn, optimizer, precision) == ("ghost4", "source_adam", p.precision)
    extra = "" if main else f" {bn} {optimizer} {precision}"
    group, variant = _variant(label_noise)
    return Job(STUDY, "ic", config, seed=repeat, version=VERSIONS["ic"], cost_s=cost,
               label=f"IC nz={nz}{variant} α={alpha:g} after {late_k}{extra} #{repeat}", group=f"gan-nz{nz}{group}",
               deps=tuple(training_jobs(p, nz, label_noise)))


BASELINES = ("nearest_neighbour", "small_cnn")


def baseline_job(p: Profile, method: str) -> Job:
    if method not in BASELINES:
        raise ValueError(f"Unknown baseline {method!r}: use one of {', '.join(BASELINES)}.")
    config = {"method": method, "probes": p.probes}
    deps = (judge_job(p),) if method == "small_cnn" else ()
    return Job(STUDY, "baseline", config, seed=0, version=VERSIONS["baseline"], cost_s=30, label=f"baseline {method}",
               deps=deps)


def reconstruct_job(p: Profile, nz: int, n_probes: int = 12) -> Job:
    config = {"generator": _generator_ref(p, nz), "alpha": 1.0, "late_k": -1, "bn": "ghost4",
              "optimizer": "source_adam", "precision": p.precision, "n_probes": n_probes, "iterations": p.iterations}
    return Job(STUDY, "reconstruct", config, seed=0, version=VERSIONS["reconstruct"], cost_s=30,
               label=f"reconstructions nz={nz}", group=f"gan-nz{nz}", deps=tuple(training_jobs(p, nz)))


def oracle_job(p: Profile, nz: int, repeat: int = 0) -> Job:
    """The diagnostic of where the class goes: the main setting's inversion (as ``ic_job(p, nz, repeat=repeat)``,
    the same noise initialisation) and the same inversion with the class vector held at the true one-hot, the
    noise optimised alone; both final losses per probe are stored."""
    config = {"generator": _generator_ref(p, nz), "alpha": 1.0, "late_k": -1, "bn": "ghost4",
              "optimizer": "source_adam", "precision": p.precision, "probes": p.probes, "iterations": p.iterations}
    n = p.probes or 10_000
    cost = 2 * n * p.iterations / PROBE_IT_PER_S[p.precision] + 10
    return Job(STUDY, "class_oracle", config, seed=repeat, version=VERSIONS["class_oracle"], cost_s=cost,
               label=f"IC nz={nz}, free and with the true class held #{repeat}", group=f"gan-nz{nz}",
               deps=tuple(training_jobs(p, nz)))
