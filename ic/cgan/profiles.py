"""Profiles of the cGAN study: every setting that differs between the smoke run, this CPU and the source.

* ``smoke`` — seconds: a few batches, a handful of probes; checks the whole pipeline.
* ``cpu``   — what a 2-core CPU affords (about 40 CPU-hours): the source's GAN training exactly (SGD 0.01, batch
  128, label noise 0.2) with bf16 autocast, each noise size trained until the model-selection score stalls
  (at most 30 epochs for noise size 25, 20 for the others; the source trained 61 and picked epochs 24–51 by
  eye), inverse classification on the
  book's 1 000 MNIST probes with 3 repeats per setting.
* ``paper`` — the source's protocol: 61 epochs per noise size in fp32, the whole test set (10 000 probes),
  5 repeats per setting. GPU work; checked at smoke scale in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..study import lookup_profile


@dataclass(frozen=True)
class Profile:
    name: str
    noise_sizes: tuple = (25, 10, 50, 100, 200)     # training order: nz 25 serves Tables 2 and 3
    precision: str = "bf16"
    batch_size: int = 128
    max_batches: int | None = None        # batches per GAN epoch (smoke only)
    max_epochs: int = 30                  # the cap of the main noise size: epoch jobs in the plan
    # the cap of every other noise size (None: max_epochs). cpu: 20, decided when the main GAN had trained 10
    # epochs and before any other noise size started, so that the worst case of the profile fits its 40 CPU-hours
    # (5 × 30 epochs of ≈ 14 min and the inversions would need ≈ 44)
    other_max_epochs: int | None = None
    # stopping rule (ic.cgan.selection.should_stop), fixed before any inverse-classification result was seen
    min_epochs: int = 10
    patience: int = 6
    min_gain: float = 0.005
    select_per_class: int = 100           # samples per class for the conditioning score
    select_seed: int = 7
    judge_epochs: int = 4
    judge_max_steps: int | None = None
    # the per-epoch inverse-classification curve: the first n / 10 probes of each digit of the probe set
    curve_probes: int = 200
    curve_iterations: int = 200
    # the experiments
    probes: int = 1000                    # None: the whole test set
    repeats: int = 3
    iterations: int = 200
    gan_seed: int = 0
    update_rates: tuple = (1.0, 0.5, 0.1, 2.0)            # Table 2 (nz 25)
    late_ks: tuple = (1, 2, 5, 10, 25, 50, 100)          # Table 3 (nz 25, α 1)
    main_nz: int = 25                                     # the noise size of Tables 2 and 3
    # ablations on the main setting (nz 25, α 1, no late update): the fp32 check of bf16 (one repeat), BatchNorm
    # with running statistics, torch's Adam; and the late update at α 0.5 (the source does not say which α)
    ablation_repeats: int = 3
    late_k_alpha_half: tuple = (10,)
    # noise sizes also trained without label noise, each followed by its Table 1 runs: the source saved its
    # noise-size-100 generator without the label-noise tag of the others (it may have been trained without it)
    label_noise_controls: tuple = (100,)


def epoch_cap(p: Profile, nz: int) -> int:
    """The most epochs the GAN of noise size ``nz`` trains under profile ``p``."""
    return p.max_epochs if nz == p.main_nz or p.other_max_epochs is None else min(p.max_epochs, p.other_max_epochs)


PROFILES = {
    "smoke": Profile(name="smoke", noise_sizes=(25, 10), precision="fp32", batch_size=32, max_batches=3, max_epochs=2,
                     min_epochs=1, patience=1, select_per_class=8, judge_epochs=1, judge_max_steps=30,
                     curve_probes=20, curve_iterations=10, probes=40, repeats=2, iterations=10,
                     update_rates=(1.0, 0.5), late_ks=(2,), ablation_repeats=1, label_noise_controls=(10,)),
    "cpu": Profile(name="cpu", other_max_epochs=20),
    "paper": Profile(name="paper", precision="fp32", max_epochs=61, min_epochs=61, patience=61, probes=None,
                     repeats=5),
}


def get_profile(profile: str | Profile) -> Profile:
    return lookup_profile(PROFILES, profile, "cGAN")
