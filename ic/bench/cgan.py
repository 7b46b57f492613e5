"""The cGAN benchmark: ``python -m ic bench cgan``.

Production shapes of the cGAN study (the source's generator with noise size 25; 28 × 28 MNIST-sized images;
random weights and probes: the speed depends on the shapes, not the values):

* **inverse classification** of B probes over class vector and noise, BatchNorm per group of 4 probes (the
  source's train-mode BatchNorm on batches of 4) — the source-style loop (one call per batch of 4, as its code
  ran) against all probes in one tensor, in fp32 and (the CPU profile's precision) bf16;
* **one training step** (discriminator and generator, batch 128, SGD), fp32 and bf16 autocast.

Each row's achieved GFLOP/s is compared with a plain matmul of the dominant shape (the generator's first
linear layer, B × 1025 → 50 176) measured in the same run and precision. Inverse classification is timed over
a few iterations and scaled to 200 (the per-iteration cost is constant).
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..cgan.inversion import GanICConfig, invert_gan
from ..cgan.models import Generator
from ..cgan.training import GANConfig, GANState, train_epoch
from ..device import choose_device
from .common import RECORD_DIR, Row, count_flops, finish, measure, measure_peaks

FC_OUT = 64 * 28 * 28


def _ic_row(name: str, label: str, G: Generator, probes: torch.Tensor, per_call: int, precision: str, *,
            device, seconds, iterations, timed, baseline: str | None, notes: str = "") -> Row:
    cfg = GanICConfig(iterations=timed, precision=precision)
    n = probes.shape[0]

    def run():
        for i in range(0, n, per_call):
            invert_gan(G, probes[i:i + per_call], cfg, seed=0)

    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    # FlopCounterMode cannot follow torch.autograd.grad through nn.Module hooks, so the FLOPs of a call are
    # counted on the same work written with .backward(): n probes × timed iterations of forward + input gradients
    flops = _iteration_flops(G, probes[:per_call], cfg) * (n // per_call) * timed
    return measure(name, label, run, device=device, seconds=seconds, items_per_call=n * timed / iterations,
                   unit="probes/s", peak_shape=(per_call, G.nz + 1000, FC_OUT), dtype=dtype, baseline=baseline,
                   notes=notes, flops=flops, probes=n, probes_per_call=per_call, timed_iterations=timed,
                   iterations=iterations)


def _iteration_flops(G: Generator, probes: torch.Tensor, cfg: GanICConfig) -> int:
    """FLOPs of one inverse-classification iteration of ``probes``: the forward pass and the gradients of the
    loss with respect to the class vector and the noise (frozen weights: no weight gradients)."""
    from ..cgan.inversion import frozen, gan_generator

    gen = gan_generator(frozen(G, cfg.precision), cfg)
    b = probes.shape[0]

    def step():
        inputs = {"class": torch.full((b, 10), 0.1, requires_grad=True),
                  "noise": torch.randn(b, G.nz, requires_grad=True)}
        ((gen(inputs) - probes) ** 2).mean().backward()

    return count_flops(step)


def _train_row(precision: str, *, nz, batch, device, seconds, steps, baseline: str | None) -> Row:
    cfg = GANConfig(nz=nz, precision=precision, max_batches=steps, batch_size=batch)
    state = GANState.fresh(cfg, seed=0)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(batch * steps, 28, 28, generator=g)
    y = torch.randint(0, 10, (batch * steps,), generator=g)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    return measure(f"train_{precision}", f"training step, batch {batch}, {precision}",
                   lambda: train_epoch(state, x, y, cfg, device=device), device=device, seconds=seconds,
                   items_per_call=steps, unit="steps/s", peak_shape=(batch, nz + 1000, FC_OUT), dtype=dtype,
                   baseline=baseline, notes="D on real and fake, G with label noise (the source's loop)")


def bench_cgan(device: str | torch.device | None = None, seconds: float = 5.0, *, nz: int = 25, n_probes: int = 200,
               iterations: int = 200, timed_iterations: int = 3, train_steps: int = 2, train_batch: int = 128,
               threads: int | None = None,
               verbose: bool = True, record_dir: Path | None = RECORD_DIR) -> dict:
    """Run the cGAN benchmark; returns the record (see :func:`ic.bench.common.finish`)."""
    dev = device if isinstance(device, torch.device) else choose_device(device)
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        torch.manual_seed(0)
        G = Generator(nz).to(dev)
        probes = torch.rand(n_probes, 28, 28, generator=torch.Generator().manual_seed(1)).to(dev)
        kw = dict(device=dev, seconds=seconds, iterations=iterations, timed=timed_iterations)
        shapes = {((b, nz + 1000, FC_OUT), dt) for b in (4, n_probes, train_batch) for dt in ("float32", "bfloat16")}
        peaks_before = measure_peaks(shapes, dev, seconds=min(seconds, 1.0))
        rows = [
            _ic_row("ic_loop_fp32", f"IC {iterations} it, batches of 4 (source-style), fp32", G, probes, 4, "fp32",
                    baseline=None, notes="one engine call per batch of 4 probes, as the source's loop", **kw),
            _ic_row("ic_batched_fp32", f"IC {iterations} it, {n_probes} probes, fp32", G, probes, n_probes, "fp32",
                    baseline="ic_loop_fp32", notes="all probes in one tensor, ghost BatchNorm (groups of 4)", **kw),
            _ic_row("ic_loop_bf16", f"IC {iterations} it, batches of 4 (source-style), bf16", G, probes, 4, "bf16",
                    baseline=None, **kw),
            _ic_row("ic_batched_bf16", f"IC {iterations} it, {n_probes} probes, bf16", G, probes, n_probes, "bf16",
                    baseline="ic_loop_bf16", notes="the CPU profile's setting", **kw),
            _train_row("fp32", nz=nz, batch=train_batch, device=dev, seconds=seconds, steps=train_steps,
                       baseline=None),
            _train_row("bf16", nz=nz, batch=train_batch, device=dev, seconds=seconds, steps=train_steps,
                       baseline="train_fp32"),
        ]
        config = {"nz": nz, "n_probes": n_probes, "iterations": iterations, "timed_iterations": timed_iterations,
                  "train_steps_per_call": train_steps, "train_batch": train_batch, "data": "random weights and images"}
        return finish("cgan", rows, device=dev, seconds=seconds, config=config, peaks_before=peaks_before,
                      verbose=verbose, record_dir=record_dir)
    finally:
        torch.set_num_threads(before)


__all__ = ["bench_cgan"]
