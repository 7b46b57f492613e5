"""Speed benchmarks: ``python -m ic bench lstm [--device auto|cpu|cuda] [--seconds S]``.

``lstm`` measures, on one device in one run, the two costs of the LSTM study:

* **training throughput** (sequences/s) of the generative LSTM with the study's loss (σ-noise on the input
  sequence, MSE to the trajectory), Adam, one optimiser step per batch, through the study's own training loop
  (:func:`ic.train.fit`): batch 1 (the original thesis's per-sample loop), and minibatches of 16 (the paper
  profile) and 64;
* **inverse-classification throughput** (probes/s at the study's 200 iterations) of :func:`ic.engine.invert`:
  one ``invert`` call per probe (batch 1, the original's loop over test samples) versus all probes in one
  tensor (the batched engine).

The data are synthetic (random one-hot classes, random standardised N(0, 1) trajectories) and the model is
randomly initialised: the speed depends on the shapes, not on the values. Each measurement runs for about
``seconds`` after a short warm-up. Inverse classification is timed over fewer iterations than it uses
(``ic_timed_iterations``, default 20) and scaled to ``ic_iterations`` (200): the per-iteration cost is
constant, and the one-off cost per ``invert`` call (initialisation, final forward pass) is small.
"""

from __future__ import annotations

import os
import platform
import time

import torch
import torch.nn.functional as F

from .device import choose_device
from .engine import ICConfig, class_only_generator, class_only_groups, invert
from .lstm.models import GenerativeLSTM
from .train import FitConfig, fit

BENCHMARKS = ("lstm",)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _synthetic(n: int, k: int, seq_len: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    cls = F.one_hot(torch.randint(0, k, (n,), generator=g), k).float()
    traj = torch.randn(n, seq_len, 2, generator=g)   # standardised targets
    return cls, traj


def _train_throughput(batch_size: int, *, device, seconds, k, hidden, seq_len, sigma, lr, n_data, seed) -> dict:
    """Sequences/s of ``fit`` (the study's training loop) at ``batch_size``, one Adam step per batch."""
    torch.manual_seed(seed)
    model = GenerativeLSTM(k, hidden=hidden, seq_len=seq_len)
    cls, traj = _synthetic(max(n_data, batch_size), k, seq_len, seed)
    noise_gen = torch.Generator().manual_seed(seed + 1)

    def loss_fn(m, batch):   # as the study's generator training (ic/lstm/study.py)
        c, target = batch
        inp = m.noisy_input_sequence(c, sigma if m.training else 0.0, False, generator=noise_gen)
        return ((m(inp) - target) ** 2).mean()

    def run(steps: int):
        _sync(device)
        t0 = time.perf_counter()
        hist = fit(model, (cls, traj), loss_fn, FitConfig(epochs=10**9, batch_size=batch_size, lr=lr,
                                                          max_steps=steps), seed=seed, device=device)
        _sync(device)
        return hist, time.perf_counter() - t0

    run(2)                                    # warm-up (allocations, kernels)
    hist, wall = run(2)                       # calibration: seconds per step
    per_step = wall / hist.steps
    steps = max(2, int(round(seconds / per_step)))
    hist, wall = run(steps)
    return {"batch_size": batch_size, "steps": hist.steps, "sequences": hist.sequences_seen,
            "seconds": hist.seconds, "sequences_per_s": hist.sequences_seen / max(hist.seconds, 1e-12)}


def _ic_throughput(batch: int, *, device, seconds, k, hidden, seq_len, iterations, timed_iterations,
                   n_probes, seed) -> dict:
    """Probes/s of ``invert`` at ``iterations`` (timed over ``timed_iterations`` and scaled), with ``batch``
    probes per call; batch 1 is the per-sample loop."""
    torch.manual_seed(seed)
    model = GenerativeLSTM(k, hidden=hidden, seq_len=seq_len).to(device).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    _, probes = _synthetic(max(n_probes, batch), k, seq_len, seed)
    probes = probes.to(device)
    gen, groups = class_only_generator(model.generate), class_only_groups(k)
    cfg = ICConfig(iterations=timed_iterations, lr=0.05, optimizer="source_adam")
    invert(gen, probes[:batch], groups, ICConfig(iterations=2))   # warm-up
    done, calls, i = 0, 0, 0
    _sync(device)
    t0 = time.perf_counter()
    while True:
        chunk = probes[i:i + batch]
        if len(chunk) < batch:
            i, chunk = 0, probes[:batch]
        invert(gen, chunk, groups, cfg)
        _sync(device)
        i += batch
        done += batch
        calls += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            break
    scale = iterations / timed_iterations
    return {"batch": batch, "calls": calls, "probes": done, "timed_iterations": timed_iterations,
            "iterations": iterations, "seconds": elapsed,
            "probes_per_s": done / (elapsed * scale), "iterations_per_s": calls * timed_iterations / elapsed}


def bench_lstm(device: str | torch.device | None = None, seconds: float = 5.0, hidden: int = 205, *,
               k: int = 4, seq_len: int = 205, sigma: float = 0.2, lr: float = 1e-2,
               train_batch_sizes: tuple[int, ...] = (1, 16, 64), n_data: int = 256,
               ic_batch: int = 64, ic_iterations: int = 200, ic_timed_iterations: int = 20,
               seed: int = 0, threads: int | None = None, verbose: bool = True) -> dict:
    """Training (sequences/s) and inverse-classification (probes/s) throughput of the generative LSTM.

    Returns ``{"device", "torch", "threads", ..., "train": {"batch1": {...}, "batch16": {...}, ...},
    "ic": {"per_sample": {...}, "batched": {...}}}``; every entry has its throughput and its ``speedup``
    over the per-sample (batch 1) setting. Prints a table when ``verbose``. ``threads`` sets torch's CPU
    threads for the run (``None``: leave as is, i.e. ``OMP_NUM_THREADS`` or torch's default).
    """
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        return _bench_lstm(device, seconds, hidden, k=k, seq_len=seq_len, sigma=sigma, lr=lr,
                           train_batch_sizes=train_batch_sizes, n_data=n_data, ic_batch=ic_batch,
                           ic_iterations=ic_iterations, ic_timed_iterations=ic_timed_iterations, seed=seed,
                           verbose=verbose)
    finally:
        torch.set_num_threads(before)


def _bench_lstm(device, seconds, hidden, *, k, seq_len, sigma, lr, train_batch_sizes, n_data, ic_batch,
                ic_iterations, ic_timed_iterations, seed, verbose) -> dict:
    dev = device if isinstance(device, torch.device) else choose_device(device)
    common = dict(device=dev, seconds=seconds, k=k, hidden=hidden, seq_len=seq_len, seed=seed)
    sizes = tuple(dict.fromkeys((1, *train_batch_sizes)))   # the per-sample loop is always the baseline
    train = {f"batch{b}": _train_throughput(b, sigma=sigma, lr=lr, n_data=n_data, **common) for b in sizes}
    base = train["batch1"]["sequences_per_s"]
    for r in train.values():
        r["speedup"] = r["sequences_per_s"] / base
    ic_kw = dict(iterations=ic_iterations, timed_iterations=min(ic_timed_iterations, ic_iterations),
                 n_probes=max(ic_batch, 1), **common)
    ic = {"per_sample": _ic_throughput(1, **ic_kw), "batched": _ic_throughput(ic_batch, **ic_kw)}
    for r in ic.values():
        r["speedup"] = r["probes_per_s"] / ic["per_sample"]["probes_per_s"]
    result = {
        "benchmark": "lstm", "device": str(dev), "torch": torch.__version__, "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(), "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "machine": platform.machine(),
        "config": {"k": k, "hidden": hidden, "seq_len": seq_len, "sigma": sigma, "lr": lr, "seconds": seconds,
                   "ic_batch": ic_batch, "ic_iterations": ic_iterations,
                   "ic_timed_iterations": ic_kw["timed_iterations"], "data": "synthetic"},
        "train": train, "ic": ic,
    }
    if verbose:
        print(format_table(result))
    return result


def format_table(r: dict) -> str:
    c = r["config"]
    load = ", ".join(f"{x:.2f}" for x in r["load_average"]) if r["load_average"] else "n/a"
    lines = [
        f"LSTM benchmark — device {r['device']}, torch {r['torch']}, {r['threads']} torch threads, "
        f"{r['cpu_count']} CPUs, load average {load}",
        f"GenerativeLSTM(k={c['k']}, hidden={c['hidden']}), {c['seq_len']} steps; synthetic data "
        f"(random classes, N(0,1) targets), random weights; ~{c['seconds']:g} s per measurement.",
        "",
        f"{'setting':<50} {'throughput':>18} {'speed-up':>9}",
        "-" * 79,
    ]
    for t in r["train"].values():
        label = ("train, per-sample loop (batch 1)" if t["batch_size"] == 1 else
                 f"train, minibatch {t['batch_size']}")
        lines.append(f"{label:<50} {t['sequences_per_s']:>10.1f} seq/s {t['speedup']:>8.1f}x")
    for name, t in r["ic"].items():
        label = (f"IC {c['ic_iterations']} it, per-sample loop (batch 1)" if name == "per_sample" else
                 f"IC {c['ic_iterations']} it, batched engine ({t['batch']} probes)")
        lines.append(f"{label:<50} {t['probes_per_s']:>8.3g} probes/s {t['speedup']:>8.1f}x")
    lines += ["",
              f"Training: Adam, one optimiser step per batch, MSE with σ={c['sigma']} input noise, via ic.train.fit. "
              f"IC: timed over {c['ic_timed_iterations']} iterations and scaled to {c['ic_iterations']}.",
              "Speed-ups are relative to the per-sample loop of the same kind. If other processes share the CPUs "
              "(see load average), absolute numbers are lower than on an idle machine."]
    if r["device"] == "cpu" and r["load_average"] and r["cpu_count"] and r["threads"] > 1 \
            and r["load_average"][0] + r["threads"] > r["cpu_count"] + 0.5:
        lines.append(f"WARNING: {r['threads']} torch threads on {r['cpu_count']} CPUs "
                     f"with load {r['load_average'][0]:.1f}: "
                     "oversubscribed CPUs make multi-threaded torch erratic and slow; compare with "
                     "OMP_NUM_THREADS=1.")
    return "\n".join(lines)


def run(what: str, device: str | None = None, seconds: float = 5.0, threads: int | None = None) -> dict:
    if what not in BENCHMARKS:
        raise ValueError(f"Unknown benchmark {what!r}: use one of {', '.join(BENCHMARKS)}.")
    return bench_lstm(device=device, seconds=seconds, threads=threads)
