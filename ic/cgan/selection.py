"""Model selection by a fixed rule instead of the source's eye.

The source saved its GAN every 3 epochs and picked a checkpoint per noise size by looking at sample grids. We
score every epoch instead, with a rule fixed before any inverse-classification accuracy was looked at:

* **conditioning score** — draw ``per_class`` samples of every class (fixed noise seed) and let the separately
  trained MNIST classifier (:mod:`ic.cgan.classifier`) label them; the score is the fraction labelled as the
  class they were conditioned on. The samples are drawn as the source drew its grids: one balanced batch,
  BatchNorm with the statistics of that batch.
* **diversity** — per class, the mean pairwise Euclidean distance between the samples divided by the same for
  ``per_class`` real training images of the class, averaged over classes: about 1 for a generator as varied as
  the data, near 0 for one that draws one image per class (mode collapse).
* **rule** — an epoch is *eligible* when its diversity is at least ``MIN_DIVERSITY``; the selected checkpoint
  is the eligible epoch with the highest conditioning score (the earliest on a tie).
* **learnt its classes** — a generator whose selected checkpoint draws the class it is asked for in fewer than
  ``MIN_CONDITIONING`` of its samples has not learnt the conditioning; inverting it measures that training, not
  inverse classification, so a comparison of settings with it cannot test a claim about the settings (this
  threshold was set after the noise-size-100 GAN's collapse had been seen, before the results of noise size 200
  and of the label-noise control).
* **stopping** — training stops after ``patience`` epochs without a gain of ``min_gain`` in the best eligible
  score (never before ``min_epochs``), or at the cap.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from .classifier import predict
from .models import N_CLASSES, Generator

MIN_DIVERSITY = 0.5
MIN_CONDITIONING = 0.5


def _mean_pairwise_distance(x: torch.Tensor) -> float:
    flat = x.flatten(1).double()
    d = torch.cdist(flat, flat)
    n = flat.shape[0]
    return float(d.sum() / (n * (n - 1)))


@torch.no_grad()
def class_samples(G: Generator, per_class: int, seed: int, precision: str = "fp32") -> torch.Tensor:
    """(10 · per_class, 28, 28) samples, class-major, from fixed N(0, 1) noise; BatchNorm over the whole batch
    (training-mode statistics, running statistics untouched)."""
    from .training import autocast

    g = torch.Generator().manual_seed(seed)
    z = torch.randn(N_CLASSES * per_class, G.nz, generator=g)
    c = F.one_hot(torch.arange(N_CLASSES).repeat_interleave(per_class), N_CLASSES).float()
    dev = next(G.parameters()).device
    with autocast(precision, dev):
        return G(z.to(dev), c.to(dev), bn_group=N_CLASSES * per_class).float().cpu()


def real_diversity(images: torch.Tensor, labels: torch.Tensor, per_class: int, seed: int) -> list[float]:
    """Mean pairwise distance of ``per_class`` random real images of each class (the reference of diversity)."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for c in range(N_CLASSES):
        idx = torch.nonzero(labels == c).squeeze(1)
        pick = idx[torch.randperm(len(idx), generator=g)[:per_class]]
        out.append(_mean_pairwise_distance(images[pick]))
    return out


@torch.no_grad()
def score_generator(G: Generator, judge: torch.nn.Module, real_div: Sequence[float], per_class: int,
                    seed: int, precision: str = "fp32") -> dict:
    """Conditioning score, per-class scores, what each class's samples are labelled as, and diversity."""
    samples = class_samples(G, per_class, seed, precision)
    pred = predict(judge, samples).view(N_CLASSES, per_class)
    target = torch.arange(N_CLASSES).unsqueeze(1)
    per_class_acc = (pred == target).float().mean(dim=1)
    majority = torch.mode(pred, dim=1).values
    div = [_mean_pairwise_distance(samples[c * per_class:(c + 1) * per_class]) / max(real_div[c], 1e-12)
           for c in range(N_CLASSES)]
    return {"conditioning_score": float(per_class_acc.mean()), "per_class_score": per_class_acc.tolist(),
            "majority_label": majority.tolist(), "diversity": sum(div) / len(div), "diversity_per_class": div,
            "eligible": sum(div) / len(div) >= MIN_DIVERSITY}


def select_epoch(epochs: Sequence[dict]) -> dict | None:
    """The selected checkpoint among per-epoch records (each with ``epoch``, ``conditioning_score``,
    ``eligible``): the eligible epoch with the highest score, the earliest on a tie; ``None`` if none is."""
    best = None
    for r in epochs:
        if r["eligible"] and (best is None or r["conditioning_score"] > best["conditioning_score"]):
            best = r
    return best


def should_stop(epochs: Sequence[dict], *, min_epochs: int, patience: int, min_gain: float, cap: int) -> bool:
    """Whether training stops after the epochs recorded so far (the stopping rule of the module docstring)."""
    n = len(epochs)
    if n >= cap:
        return True
    if n < min_epochs:
        return False
    best, best_at = -1.0, -1
    for i, r in enumerate(epochs):
        s = r["conditioning_score"] if r["eligible"] else -1.0
        if s >= best + min_gain:
            best, best_at = s, i
    return n - 1 - best_at >= patience
