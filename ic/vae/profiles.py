"""Profiles of the VAE study: every setting that differs between the smoke run and the source's protocol.

* ``smoke`` — seconds: 100 training images per class, 2 rounds of 3 steps, 20 probes, 20 re-generations, one
  seed, a few configurations; checks the whole pipeline (tests/test_vae.py runs it end to end).
* ``paper`` — the source's protocol: every configuration of Tables I–VI, the full training sets (batch 128,
  Adam 1e-3, at most 100 rounds of 40 steps with early stopping), the full 10 000-image test sets, 300
  re-generations per probe and class, 3 training seeds. Cost (one core, the constants measured in
  :mod:`ic.vae.jobs`): 180 jobs, ≈ 13 CPU-hours of training if every model used its whole budget (an upper bound;
  early stopping ends sooner) and ≈ 15 of scoring (≈ 10 min per 10 000-image test set); Tables II and IV (σ²)
  are 18 of the 28.6 hours. It does not fit 6 CPU-hours as it stands.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..study import lookup_profile


@dataclass(frozen=True)
class Profile:
    name: str
    seeds: int = 3                          # training seeds per configuration
    # training (ic.vae.training.TrainConfig)
    batch_size: int = 128
    lr: float = 1e-3
    holdout: float = 0.1
    round_steps: int = 40
    max_rounds: int = 100
    patience: int = 10
    activation: str = "elu_tanh"
    train_precision: str = "fp32"
    max_per_class: int | None = None        # cap on training images per class (smoke only)
    # scoring
    samples: int = 300                      # re-generations per probe and class (the source: 300)
    test_probes: int | None = None          # None: the whole test set; n: its first n images
    probe_set: int = 1000                   # images of the book's MNIST probe set (ic.data.probes)
    score_precision: str = "fp32"
    # the source's settings (sources.md §C); dim_z 15 and σ² 1 are its defaults
    main_dim: int = 15
    mnist_dims: tuple = (10, 15, 20)                       # Table I
    mnist_thresholds: tuple = (0, 1, 5, 10, 15, 20)        # Table I (0 = no rejection)
    sigma2s: tuple = (0.5, 0.75, 1.25)                     # Tables II and IV
    sigma_dims: tuple = (10, 15, 20)                       # Tables II and IV
    fmnist_dims: tuple = (15, 20, 25)                      # Table III
    fmnist_thresholds: tuple = (0, 1, 2, 3, 4, 5)          # Table III
    labelled: tuple = (600, 1000, 3000)                    # Table V: N labelled images in all, N / 10 per class
    unseen_thresholds: tuple = (10, 15, 20, 30)            # Table VI
    test_only_sigma2s: tuple = (0.5, 0.75, 1.25)           # ablation: σ² changed at test only (main model)
    # figures
    example_seed: int = 0                   # the training seed whose model the figures show
    n_filters: int = 16                     # decoder last-layer filters kept per model (Fig. 5)


PROFILES = {
    "smoke": Profile(name="smoke", seeds=1, batch_size=16, round_steps=3, max_rounds=2, patience=1,
                     max_per_class=100, samples=20, test_probes=20, probe_set=20,
                     mnist_dims=(10, 15), sigma2s=(0.5,), sigma_dims=(15,), fmnist_dims=(15,), labelled=(600,),
                     test_only_sigma2s=(0.5,), n_filters=4),
    "paper": Profile(name="paper"),
}


def get_profile(profile: str | Profile) -> Profile:
    return lookup_profile(PROFILES, profile, "VAE")
