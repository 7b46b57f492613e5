"""What every benchmark shares: the machine, a same-run matmul peak, FLOP counting, timing, the table, the record.

A benchmark (one module per study, registered in :mod:`ic.bench`) builds **rows**: one measured setting each,
made by :func:`measure` from a callable that does one unit of work. This module times the callable, counts its
FLOPs, and relates the achieved rate to the peak of a plain matmul of the setting's dominant shape, measured in
the same run and the same precision (:func:`matmul_peak`), and to the speed of a baseline row (the source-style
loop). :func:`finish` adds the machine, prints the table and writes a JSON record to ``benchmarks/``.

FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` (matrix products and convolutions, 2 per
multiply-add; element-wise work is not counted) with oneDNN switched off for the counting run only: fused oneDNN
kernels such as the CPU LSTM are invisible to the counter, and without them PyTorch runs the same products as
plain matmuls. The count is of the work the callable executes, wasted or not.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..paths import REPO_ROOT
from ..store import atomic_write_bytes, environment_info

RECORD_DIR = REPO_ROOT / "benchmarks"
GOAL_FRACTION = 0.6          # project goal for every hot kernel: ≥ 60 % of the same-run matmul peak
MACHINE_PEAK_SHAPE = (1024, 1024, 1024)


# ------------------------------------------------------------------------------------------------- the machine
def _cpuinfo() -> tuple[str | None, set[str]]:
    """CPU model name and flags from /proc/cpuinfo (Linux; elsewhere ``(None, set())``)."""
    model, flags = None, set()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model is None:
                    model = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return model, flags


def has_amx_bf16() -> bool:
    """True when the CPU has AMX bf16 tiles (then bf16 matmuls are several times faster than fp32)."""
    return "amx_bf16" in _cpuinfo()[1]


def machine_info(device: torch.device) -> dict:
    """Device, CPU model, threads, torch version and the CPU features that decide the matmul peak."""
    model, flags = _cpuinfo()
    info = environment_info(str(device))
    info.setdefault("cpu_model", model or "unknown")
    info.update({
        "threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_flags": sorted(f for f in flags if f.startswith(("amx", "avx512f", "avx512_bf16", "avx2", "fma"))),
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    })
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


# ------------------------------------------------------------------------------------------- timing and FLOPs
def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def clock_for(device: torch.device) -> str:
    """``"cpu"`` (this process's CPU time) on a CPU with one torch thread, else ``"wall"``. On a shared machine
    CPU time leaves out the time other processes hold the core, so rates and peaks stay comparable; with more
    threads it would add the threads up, so wall time is used."""
    return "cpu" if device.type == "cpu" and torch.get_num_threads() == 1 else "wall"


def time_call(fn: Callable[[], object], device: torch.device, seconds: float, min_calls: int = 3,
              max_calls: int = 10_000) -> dict:
    """Seconds per call of ``fn`` on the clock of :func:`clock_for`: one warm-up call, then calls until
    ``seconds`` of wall time have passed (at least ``min_calls``). Reports the median and the minimum."""
    clock = time.process_time if clock_for(device) == "cpu" else time.perf_counter
    fn()
    _sync(device)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < min_calls or (time.perf_counter() - start < seconds and len(times) < max_calls):
        t0 = clock()
        fn()
        _sync(device)
        times.append(clock() - t0)
    return {"calls": len(times), "seconds_per_call": statistics.median(times), "min_seconds_per_call": min(times)}


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs of one call of ``fn`` as ``FlopCounterMode`` counts them (oneDNN off, see the module doc)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="TF32 acceleration on top of oneDNN")
        with torch.backends.mkldnn.flags(enabled=False), FlopCounterMode(display=False) as counter:
            fn()
    return int(counter.get_total_flops())


def matmul_peak(shape: Sequence[int], dtype: torch.dtype, device: torch.device, seconds: float = 0.5) -> float:
    """GFLOP/s of a plain ``(m, k) @ (k, n)`` matmul in ``dtype`` on ``device``, now (same run, same load)."""
    m, k, n = shape
    g = torch.Generator().manual_seed(0)
    a = torch.randn(m, k, generator=g).to(device=device, dtype=dtype)
    b = torch.randn(k, n, generator=g).to(device=device, dtype=dtype)
    out = torch.empty(m, n, device=device, dtype=dtype)
    reps = min(2000, max(1, int(2e8 // (2 * m * k * n))))   # ~0.2 GFLOP per timed call
    t = time_call(lambda: [torch.mm(a, b, out=out) for _ in range(reps)], device, seconds)
    return 2 * m * k * n * reps / t["seconds_per_call"] / 1e9


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


# ------------------------------------------------------------------------------------------------------ rows
@dataclass
class Row:
    """One measured setting. ``throughput`` is in ``unit`` (e.g. probes/s); ``gflops`` is the achieved rate of
    the counted FLOPs; ``peak_shape`` is the dominant matmul whose same-run peak the row is compared with."""

    name: str
    label: str
    unit: str
    throughput: float
    seconds_per_call: float
    calls: int
    flops_per_call: int
    gflops: float
    dtype: str
    peak_shape: tuple[int, int, int]
    baseline: str | None = None
    notes: str = ""
    fraction_of_peak: float | None = None
    fraction_of_machine_peak: float | None = None
    speedup: float | None = None
    extra: dict = field(default_factory=dict)


def measure(name: str, label: str, fn: Callable[[], object], *, device: torch.device, seconds: float,
            items_per_call: float, unit: str, peak_shape: Sequence[int], dtype: torch.dtype = torch.float32,
            baseline: str | None = None, notes: str = "", flops: int | None = None, **extra) -> Row:
    """Time ``fn`` (one call does ``items_per_call`` of the items ``unit`` counts, e.g. probes) and count the
    FLOPs of one call (or take ``flops``, counted by the caller on equivalent work where ``FlopCounterMode``
    cannot follow ``fn``)."""
    t = time_call(fn, device, seconds)
    flops = count_flops(fn) if flops is None else int(flops)
    per_call = t["seconds_per_call"]
    return Row(name=name, label=label, unit=unit, throughput=items_per_call / per_call, seconds_per_call=per_call,
               calls=t["calls"], flops_per_call=flops, gflops=flops / per_call / 1e9, dtype=_dtype_name(dtype),
               peak_shape=tuple(int(s) for s in peak_shape), baseline=baseline, notes=notes, extra=extra)


def measure_peaks(shapes: Iterable[tuple[Sequence[int], str]], device: torch.device, seconds: float) -> dict:
    """Same-run matmul peaks (GFLOP/s) of the given ``(shape, dtype name)`` pairs, plus a large square matmul
    (the machine's peak) in fp32 and — on a CPU with AMX, or a GPU — bf16. Keys: ``"float32 286x205x820"``."""
    wanted = {(tuple(int(s) for s in shape), dt) for shape, dt in shapes} | {(MACHINE_PEAK_SHAPE, "float32")}
    if device.type != "cpu" or has_amx_bf16():
        wanted.add((MACHINE_PEAK_SHAPE, "bfloat16"))
    return {_peak_key(shape, dt): matmul_peak(shape, getattr(torch, dt), device, seconds)
            for shape, dt in sorted(wanted)}


def row_shapes(rows: Iterable[Row]) -> set[tuple[tuple[int, ...], str]]:
    return {(r.peak_shape, r.dtype) for r in rows}


def _peak_key(shape: Sequence[int], dtype: str) -> str:
    return f"{dtype} {'x'.join(str(s) for s in shape)}"


def relate(rows: Sequence[Row], peaks: Mapping[str, float]) -> None:
    """Fill each row's fraction of its shape's peak, of the machine's peak in its precision, and its speedup
    over its baseline row."""
    by_name = {r.name: r for r in rows}
    for r in rows:
        r.fraction_of_peak = r.gflops / peaks[_peak_key(r.peak_shape, r.dtype)]
        machine = peaks.get(_peak_key(MACHINE_PEAK_SHAPE, r.dtype))
        r.fraction_of_machine_peak = r.gflops / machine if machine else None
        if r.baseline is not None:
            if r.baseline not in by_name:
                raise ValueError(f"row {r.name!r} names an unknown baseline {r.baseline!r}")
            r.speedup = r.throughput / by_name[r.baseline].throughput


# -------------------------------------------------------------------------------------------- table, record
def finish(benchmark: str, rows: list[Row], *, device: torch.device, seconds: float, config: dict,
           peaks_before: Mapping[str, float], verbose: bool = True, record_dir: Path | None = RECORD_DIR) -> dict:
    """Measure the peaks again (after the rows; the larger of the two counts), relate the rows to them, print
    the table and write the record (``record_dir=None``: do not write). Returns the record."""
    peaks_after = measure_peaks(row_shapes(rows), device, seconds=min(seconds, 1.0))
    peaks = {k: max(peaks_before.get(k, 0.0), v) for k, v in peaks_after.items()}
    relate(rows, peaks)
    record = {
        "benchmark": benchmark,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(device),
        "config": {**config, "seconds": seconds},
        "clock": clock_for(device),
        "goal_fraction_of_peak": GOAL_FRACTION,
        "peaks_gflops": peaks,
        "peaks_gflops_before_rows": dict(peaks_before),
        "peaks_gflops_after_rows": peaks_after,
        "rows": [asdict(r) for r in rows],
    }
    if verbose:
        print(format_table(record))
    if record_dir is not None:
        record["path"] = str(write_record(record, record_dir))
        if verbose:
            print(f"record: {record['path']}")
    return record


def record_path(record: Mapping, directory: Path) -> Path:
    m = record["machine"]
    day = record["date"][:10]
    return directory / f"{record['benchmark']}-{day}-{m['device'].replace(':', '')}-{m['threads']}t.json"


def write_record(record: Mapping, directory: Path = RECORD_DIR) -> Path:
    """Write the record as JSON (atomically) to ``directory``; one file per benchmark, day, device, threads."""
    path = record_path(record, Path(directory))
    atomic_write_bytes(path, (json.dumps(record, indent=1, sort_keys=False) + "\n").encode())
    return path


def _fmt(x: float | None, spec: str, suffix: str = "") -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:{spec}}{suffix}"


def format_table(record: Mapping) -> str:
    m, rows = record["machine"], record["rows"]
    load = ", ".join(f"{x:.2f}" for x in m["load_average"]) if m.get("load_average") else "n/a"
    peaks = "; ".join(f"{k}: {v:.0f}" for k, v in record["peaks_gflops"].items())
    width = max(len(r["label"]) for r in rows) + 2
    lines = [
        f"{record['benchmark']} benchmark — device {m['device']} ({m.get('cpu_model', '?')}), torch {m['torch']}, "
        f"{m['threads']} threads, {m['cpu_count']} CPUs, load average {load}",
        f"same-run matmul peaks, GFLOP/s: {peaks}",
        "times: " + ("CPU time of this process (one thread; other processes' share of the core left out)"
                     if record.get("clock") == "cpu" else "wall-clock time"),
        "",
        f"{'setting':<{width}} {'throughput':>19} {'GFLOP/s':>8} {'of peak':>8} {'of 1024³':>9} {'speed-up':>9}",
        "-" * (width + 58),
    ]
    for r in rows:
        lines.append(f"{r['label']:<{width}} {r['throughput']:>10.3g} {r['unit']:<8} {_fmt(r['gflops'], '>8.1f')} "
                     f"{_fmt(r['fraction_of_peak'], '>8.0%')} {_fmt(r['fraction_of_machine_peak'], '>9.0%')} "
                     f"{_fmt(r['speedup'], '>8.1f', 'x')}")
    goal = record["goal_fraction_of_peak"]
    lines += ["",
              f"'of peak': achieved GFLOP/s over the same-run peak of a plain matmul of the setting's dominant shape "
              f"in its precision (goal ≥ {goal:.0%}); 'of 1024³': over the peak of a 1024³ matmul in that precision. "
              "'speed-up': throughput over the setting's source-style loop."]
    if m["device"] == "cpu" and m.get("load_average") and m["threads"] > 1 \
            and m["load_average"][0] + m["threads"] > m["cpu_count"] + 0.5:
        lines.append(f"WARNING: {m['threads']} torch threads on {m['cpu_count']} CPUs with load "
                     f"{m['load_average'][0]:.1f}: oversubscribed CPUs make multi-threaded torch erratic; "
                     "use --threads 1.")
    return "\n".join(lines)
