"""Speed benchmarks against the machine's own limit: ``python -m ic bench NAME``.

Each study registers one benchmark here: a module of this package with a function that measures production
shapes and returns a record built by :mod:`ic.bench.common` (achieved GFLOP/s, the fraction of a same-run
matmul peak, the speed-up over the source-style loop; written as JSON to ``benchmarks/``). Modules are imported
only when their benchmark runs.
"""

from __future__ import annotations

import importlib

# name → (module of this package, function, one-line description)
REGISTRY: dict[str, tuple[str, str, str]] = {
    "lstm": ("lstm", "bench_lstm", "generative LSTM: inverse classification (k = 20, 286 probes) and training"),
    "cgan": ("cgan", "bench_cgan", "conditional GAN: inverse classification (200 probes, batched vs batches of 4) "
                                   "and a training step, fp32 and bf16"),
    "vae": ("vae", "bench_vae", "per-class VAEs: batched training step against ten per-class steps, and "
                                "re-generation scoring (probe-class-samples/s), fp32 and bf16"),
}


def names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def get(name: str):
    """The benchmark function registered as ``name``."""
    if name not in REGISTRY:
        raise ValueError(f"Unknown benchmark {name!r}: use one of {', '.join(names())}.")
    module, function, _ = REGISTRY[name]
    return getattr(importlib.import_module(f"{__name__}.{module}"), function)


def run(name: str, device: str | None = None, seconds: float = 5.0, threads: int | None = None, **kwargs) -> dict:
    """Run benchmark ``name`` (prints its table, writes its record); returns the record."""
    return get(name)(device=device, seconds=seconds, threads=threads, **kwargs)
