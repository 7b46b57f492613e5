"""The VAE benchmark: ``python -m ic bench vae [--device D] [--seconds S] [--threads N]``.

Production shapes of the VAE study (ten per-class VAEs 784-500-500-2·dim_z / dim_z-500-500-784, dim_z 15; random
weights and probes: the speed depends on the shapes, not the values):

* **training**: one Adam step of the ten VAEs on a batch of 128 images each — ten sequential per-class steps (ten
  one-model :class:`~ic.vae.model.BatchedVAE`, the source-style loop, the baseline) against one batched step over
  the class axis (the study's path), in fp32 and bf16 autocast;
* **scoring** (classification by re-generation): a chunk of 10 probes × 10 classes × 300 re-generations through
  :func:`ic.vae.scoring.cross_entropies` and :func:`~ic.vae.scoring.summarise` (the three KL estimators), in fp32
  and bf16 (the cpu profile's precision), against one probe at a time (the per-probe loop, the baseline).
  Throughput in probe-class-samples per second (one re-generation of one probe by one class's VAE).

Each row's achieved GFLOP/s is related to a plain matmul of the decoder's output layer (rows × 500 → 784) measured
in the same run and precision.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..device import choose_device
from ..vae.model import HIDDEN, X_DIM, BatchedVAE
from ..vae.scoring import cross_entropies, summarise
from ..vae.training import batched_step
from .common import RECORD_DIR, Row, finish, measure, measure_peaks

CLASSES = 10


def _models(k: int, n: int, dim_z: int) -> list[BatchedVAE]:
    return [BatchedVAE(k, dim_z, generator=torch.Generator().manual_seed(i)) for i in range(n)]


def _train_row(batched: bool, precision: str, *, device, seconds, dim_z, batch, baseline) -> Row:
    models = _models(CLASSES, 1, dim_z) if batched else _models(1, CLASSES, dim_z)
    models = [m.to(device) for m in models]
    opts = [torch.optim.Adam(m.parameters(), lr=1e-3) for m in models]
    g = torch.Generator().manual_seed(0)
    x = torch.rand(CLASSES, batch, X_DIM, generator=g).to(device)
    eps = torch.randn(CLASSES, batch, dim_z, generator=g).to(device)

    def run():
        if batched:
            batched_step(models[0], opts[0], x, eps, 1.0, precision)
        else:
            for k, (m, o) in enumerate(zip(models, opts)):
                batched_step(m, o, x[k:k + 1], eps[k:k + 1], 1.0, precision)

    how = "one batched step" if batched else "ten per-class steps"
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    return measure(f"train_{'batched' if batched else 'loop'}_{precision}",
                   f"train, 10 classes × batch {batch}, {how}, {precision}", run, device=device, seconds=seconds,
                   items_per_call=CLASSES * batch, unit="images/s", peak_shape=(batch, HIDDEN, X_DIM), dtype=dtype,
                   baseline=baseline, batched=batched)


def _score_row(per_call: int, precision: str, *, device, seconds, dim_z, probes, samples, baseline) -> Row:
    model = _models(CLASSES, 1, dim_z)[0].to(device).eval()
    g = torch.Generator().manual_seed(1)
    x = torch.rand(probes, X_DIM, generator=g).to(device)
    eps = torch.randn(probes, CLASSES, samples, dim_z, generator=g).to(device)

    def run():
        for i in range(0, probes, per_call):
            summarise(cross_entropies(model, x[i:i + per_call], eps[i:i + per_call], 1.0, precision))

    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    how = "one probe at a time" if per_call == 1 else f"{per_call} probes a call"
    return measure(f"score_{'loop' if per_call == 1 else 'batched'}_{precision}",
                   f"score, {probes} probes × 10 × {samples}, {how}, {precision}", run, device=device,
                   seconds=seconds, items_per_call=probes * CLASSES * samples, unit="regen/s",
                   peak_shape=(per_call * samples, HIDDEN, X_DIM), dtype=dtype, baseline=baseline,
                   notes="regen = one re-generation of one probe by one class's VAE (decode + cross-entropy)",
                   probes=probes, probes_per_call=per_call, samples=samples)


def bench_vae(device: str | torch.device | None = None, seconds: float = 5.0, *, dim_z: int = 15, batch: int = 128,
              probes: int = 10, samples: int = 300, threads: int | None = None, verbose: bool = True,
              record_dir: Path | None = RECORD_DIR) -> dict:
    """Run the VAE benchmark; returns the record (see :func:`ic.bench.common.finish`). The scoring throughput in
    probes/s is the regen/s over 10 × ``samples``."""
    dev = device if isinstance(device, torch.device) else choose_device(device)
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        shapes = {((rows, HIDDEN, X_DIM), dt) for rows in (batch, samples, probes * samples)
                  for dt in ("float32", "bfloat16")}
        peaks_before = measure_peaks(shapes, dev, seconds=min(seconds, 1.0))
        tr = dict(device=dev, seconds=seconds, dim_z=dim_z, batch=batch)
        sc = dict(device=dev, seconds=seconds, dim_z=dim_z, probes=probes, samples=samples)
        rows = [
            _train_row(False, "fp32", baseline=None, **tr),
            _train_row(True, "fp32", baseline="train_loop_fp32", **tr),
            _train_row(True, "bf16", baseline="train_loop_fp32", **tr),
            _score_row(1, "fp32", baseline=None, **sc),
            _score_row(probes, "fp32", baseline="score_loop_fp32", **sc),
            _score_row(probes, "bf16", baseline="score_loop_fp32", **sc),
        ]
        for r in rows:
            if r.unit == "regen/s":
                r.extra["probes_per_s"] = r.throughput / (CLASSES * samples)
        config = {"classes": CLASSES, "dim_z": dim_z, "hidden": HIDDEN, "train_batch": batch, "probes": probes,
                  "samples": samples, "data": "random weights, images and noise"}
        return finish("vae", rows, device=dev, seconds=seconds, config=config, peaks_before=peaks_before,
                      verbose=verbose, record_dir=record_dir)
    finally:
        torch.set_num_threads(before)


__all__ = ["bench_vae"]
