"""The results store: one small JSON file per job, written atomically, never recomputed.

A *job* is one expensive unit of work (one trained model, one scored configuration, one repeat of an
inverse-classification run). It has a study, a kind, a configuration and a seed; its **key** is a hash of
those plus a version that the code bumps when the meaning of a job of that kind changes. The result lives at
``<root>/<study>/<key>.json`` together with its configuration, seed, version, wall and CPU time, device and
library versions, so every number in the book can be traced to the run that produced it.

Trained weights are not results: they go to the untracked cache (:class:`WeightCache`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterable, Iterator, Mapping

from . import paths



def canonical_json(obj: Any) -> str:
    """Deterministic JSON used for hashing (sorted keys, no whitespace, NaN forbidden)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class Job:
    """One unit of work. ``cost_s`` (expected wall seconds on this device) is a planning estimate, not part of
    the key. ``deps`` are the jobs whose results or weights this job needs; the runner runs the missing ones
    first (recursively) and counts them with the job in the budget. ``group`` names the shard unit (a model and
    the jobs that use it); neither is part of the key."""

    study: str
    kind: str
    config: Mapping[str, Any]
    seed: int
    version: int = 1
    cost_s: float = 60.0
    label: str = ""
    group: str = ""     # jobs sharing a group (a model and the jobs that use it) run in the same shard
    deps: tuple = ()    # jobs whose results this job needs (run first)

    @property
    def identity(self) -> dict:
        return {"study": self.study, "kind": self.kind, "config": dict(self.config), "seed": int(self.seed),
                "version": int(self.version)}

    @property
    def key(self) -> str:
        digest = hashlib.sha256(canonical_json(self.identity).encode()).hexdigest()
        return f"{self.kind}-{digest[:16]}"

    def describe(self) -> str:
        return self.label or f"{self.study}/{self.kind} seed={self.seed}"


#: result fields in which a model job records the SHA-256 of the weights it saved (``WeightCache.save``)
WEIGHT_HASH_FIELDS = ("weights_sha256", "generator_sha256")


def recorded_weights_sha256(record: Mapping[str, Any]) -> str | None:
    """The SHA-256 of the saved weights that a stored record names, or None (an older result without one)."""
    result = record.get("result", {})
    return next((result[f] for f in WEIGHT_HASH_FIELDS if result.get(f)), None)


def unique_jobs(jobs: Iterable[Job]) -> list[Job]:
    """Each key once, in first-seen order, every job preceded by its deps (recursively): the ordered union of a
    study's parts that its ``plan`` returns."""
    seen: set[str] = set()
    out: list[Job] = []

    def add(j: Job) -> None:
        if j.key in seen:
            return
        seen.add(j.key)
        for d in j.deps:
            add(d)
        out.append(j)

    for j in jobs:
        add(j)
    return out


def _check_finite(obj: Any, where: str = "result") -> None:
    if isinstance(obj, float) and not math.isfinite(obj):
        raise ValueError(f"{where} is {obj}: a job produced a non-finite number (NaN/inf loss?). "
                         "Nothing was written; lower the learning rate or check the inputs.")
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            _check_finite(v, f"{where}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _check_finite(v, f"{where}[{i}]")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo; else ``platform.processor()``)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment_info(device: str | None = None) -> dict:
    import numpy
    import torch

    from . import __version__

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "ic": __version__,
        "machine": platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": device or "cpu",
    }


@dataclass
class ResultStore:
    """Results of jobs under ``root`` (``results/`` for the paper profile, the cache for smoke runs)."""

    root: Path
    _memo: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root)

    def path(self, job: Job) -> Path:
        return self.root / job.study / f"{job.key}.json"

    def has(self, job: Job) -> bool:
        return self.path(job).is_file()

    def load(self, job: Job) -> dict:
        p = self.path(job)
        if p not in self._memo:
            try:
                record = json.loads(p.read_text())
            except json.JSONDecodeError as exc:
                raise RuntimeError(f"Result file {p} is not valid JSON ({exc}); "
                                   "delete it to recompute the job.") from exc
            if record.get("key") != job.key:
                raise RuntimeError(f"Result file {p} belongs to key {record.get('key')!r}, not {job.key!r}; delete it.")
            self._memo[p] = record
        return self._memo[p]

    def save(self, job: Job, result: Mapping[str, Any], *, wall_s: float, cpu_s: float, device: str,
             rebuild_s: float = 0.0) -> dict:
        """Write the record of ``job`` atomically. ``rebuild_s``: wall seconds of ``wall_s`` spent retraining
        weights this job needed but the cache had lost (recorded when > 0, so that time estimates can leave
        it out)."""
        _check_finite(result)
        record = {
            **job.identity,
            "key": job.key,
            "label": job.label,
            "result": dict(result),
            "wall_time_s": round(wall_s, 3),
            "cpu_time_s": round(cpu_s, 3),
            **({"rebuild_wall_s": round(rebuild_s, 3)} if rebuild_s > 0 else {}),
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "environment": environment_info(device),
        }
        data = json.dumps(record, indent=1, sort_keys=True, allow_nan=False).encode() + b"\n"
        atomic_write_bytes(self.path(job), data)
        self._memo[self.path(job)] = record
        return record

    def run(self, job: Job, fn: Callable[[], Mapping[str, Any]], *, device: str = "cpu",
            rebuild_clock: Callable[[], float] | None = None) -> dict:
        """Return the stored record of ``job``; compute it with ``fn()`` only when it is missing.
        ``rebuild_clock()``: a running total of seconds spent rebuilding weights (its increase during ``fn`` is
        recorded as the job's ``rebuild_wall_s``)."""
        if self.has(job):
            return self.load(job)
        t_wall, t_cpu = time.perf_counter(), time.process_time()
        r0 = rebuild_clock() if rebuild_clock else 0.0
        result = fn()
        rebuild_s = (rebuild_clock() - r0) if rebuild_clock else 0.0
        return self.save(job, result, wall_s=time.perf_counter() - t_wall, cpu_s=time.process_time() - t_cpu,
                         device=device, rebuild_s=rebuild_s)

    def records(self, study: str | None = None) -> Iterator[dict]:
        folders = [self.root / study] if study else sorted(p for p in self.root.glob("*") if p.is_dir())
        for folder in folders:
            for p in sorted(folder.glob("*.json")):
                yield json.loads(p.read_text())


def store_for(profile: str) -> ResultStore:
    """The store a profile reads and writes: ``smoke`` → the untracked cache; every other profile (``paper``,
    a study's own such as ``cpu``) → the committed ``results/``."""
    if not profile or not isinstance(profile, str):
        raise ValueError(f"Unknown profile {profile!r}: use smoke, paper or a study's own profile.")
    if profile == "smoke":
        return ResultStore(paths.cache_root() / "results-smoke")
    return ResultStore(paths.results_root())


class WeightCache:
    """Trained weights, keyed like results, in the untracked cache (``<cache>/weights/<study>/<key>.pt``).

    A job may keep several tagged checkpoints (``<key>.<tag>.pt``, e.g. the full training state beside the
    generator). ``save`` returns the SHA-256 of the bytes written, which a model job records in its result so
    that weights rebuilt elsewhere can be checked against it."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else paths.cache_root() / "weights"

    def path(self, job: Job, tag: str | None = None) -> Path:
        return self.root / job.study / (f"{job.key}.pt" if tag is None else f"{job.key}.{tag}.pt")

    def has(self, job: Job, tag: str | None = None) -> bool:
        return self.path(job, tag).is_file()

    def save(self, job: Job, state: Any, tag: str | None = None) -> str:
        import io

        import torch

        buf = io.BytesIO()
        torch.save(state, buf)
        data = buf.getvalue()
        atomic_write_bytes(self.path(job, tag), data)
        return hashlib.sha256(data).hexdigest()

    def sha256(self, job: Job, tag: str | None = None) -> str:
        h = hashlib.sha256()
        with open(self.path(job, tag), "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()

    def load(self, job: Job, tag: str | None = None) -> Any:
        import torch

        return torch.load(self.path(job, tag), map_location="cpu", weights_only=False)

    def delete(self, job: Job, tag: str | None = None) -> None:
        self.path(job, tag).unlink(missing_ok=True)
