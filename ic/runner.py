"""Run a study's jobs through the results store: resumable, budgeted, with a progress bar.

A *study* (one per source document) is an object with

* ``name`` and ``title``;
* ``plan(profile) -> list[Job]`` — every job of the profile, in a sensible order (dependencies first);
* ``execute(job, ctx) -> dict`` — compute one job's result (``ctx.require`` gives the records of the jobs it
  depends on, ``ctx.weights`` the trained weights of a model job).

A job declares the jobs it needs in ``Job.deps``. ``reproduce`` runs the missing jobs until a wall-time budget
is used up: before a job it runs the job's missing deps (recursively, each once), and it starts the job only if
the expected wall time of the job *and* those deps fits in what is left. A job whose result exists is never run
again, and a killed run resumes where it stopped because every result is written atomically on completion.

Sharding (``--shard i/n``): a job belongs to the shard of its *anchor*: its ``group`` if it has one (a study
gives a model and the jobs that use it one group), else the anchor of its first dep, else its own key. So a
job runs in the same process as the deps of its group; a dep shared by several groups (the cGAN's judge) is
run by whichever process needs it first — perhaps by two at once, which costs time but never changes a
result (same seed, atomic writes).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import logging
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

from .store import Job, ResultStore, WeightCache, cpu_model, recorded_weights_sha256, store_for

log = logging.getLogger("ic.runner")

#: name -> module that defines ``STUDY``; in the order the book presents them.
STUDY_MODULES = {
    "lstm": "ic.lstm.study",
    "cgan": "ic.cgan.study",
    "vae": "ic.vae.study",
}


class Study(Protocol):
    name: str
    title: str

    def plan(self, profile: str) -> list[Job]: ...

    def execute(self, job: Job, ctx: Context) -> dict: ...


def choose_device(preference: str | None = None) -> Any:
    """:func:`ic.device.choose_device`, imported when needed (so that listing studies and profiles needs no torch)."""
    from .device import choose_device as choose

    return choose(preference)


class RebuildMismatch(RuntimeError):
    """Weights rebuilt from a stored model job differ from those its result was computed with."""


class UsageError(ValueError):
    """A mistake in what was asked for (study, profile, budget, shard, device): the message names the fix."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`reproduce`: ``kept`` results were written in this run before it; every result is
    written atomically when its job ends, so the same call resumes with the jobs still missing."""

    def __init__(self, kept: int, store_root):
        super().__init__(kept, store_root)
        self.kept = kept
        self.store_root = store_root


def get_study(name: str) -> Study:
    if name not in STUDY_MODULES:
        raise UsageError(f"Unknown study {name!r}: known studies are {', '.join(STUDY_MODULES)}.")
    return importlib.import_module(STUDY_MODULES[name]).STUDY


def profiles_module(name: str):
    """The ``profiles`` module beside study ``name``'s ``study`` module (light: no torch), or None."""
    module = STUDY_MODULES[name]
    if not module.endswith(".study"):
        return None
    return importlib.import_module(module.removesuffix(".study") + ".profiles")


def study_profiles(name: str) -> tuple[str, ...] | None:
    """The profile names of study ``name`` (its ``PROFILES``), or None when it has no profiles module."""
    module = profiles_module(name)
    return tuple(module.PROFILES) if module is not None else None


@dataclass
class Context:
    """What a job needs while it runs: the store, the weight cache, the device and the study."""

    study: Study
    store: ResultStore
    weights_cache: WeightCache = field(default_factory=WeightCache)
    device: Any = None
    log: Any = None
    #: wall seconds this context spent retraining weights the cache had lost (see :meth:`rebuilding`)
    rebuild_s: float = 0.0
    _rebuild_depth: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if self.device is None:
            self.device = choose_device()

    def require(self, job: Job) -> dict:
        """The record of ``job``, computed (and stored) first if it is missing."""
        return self.store.run(job, lambda: self.study.execute(job, self), device=str(self.device),
                              rebuild_clock=lambda: self.rebuild_s)

    @contextlib.contextmanager
    def rebuilding(self, record: dict | None = None):
        """A block that retrains lost weights: run with the torch thread count ``record`` (the stored result of
        what is rebuilt) recorded, its wall time counted in :attr:`rebuild_s` (and so in the ``rebuild_wall_s``
        of the job that needed it, which time estimates leave out)."""
        from .device import recorded_threads, torch_threads

        outermost = not self._rebuild_depth     # a chain rebuilds its earlier epochs inside: count the time once
        self._rebuild_depth += 1
        t0 = time.perf_counter()
        try:
            with torch_threads(recorded_threads(record, self.device)):
                yield
        finally:
            self._rebuild_depth -= 1
            if outermost:
                self.rebuild_s += time.perf_counter() - t0

    def weights(self, job: Job) -> Any:
        """Trained weights of a model job: from the cache, else by (re)running the job, which saves them.

        When the result is stored but the weights are not cached (a fresh clone), the job is executed again
        with the same seed and the torch thread count its result recorded (on a CPU) to rebuild them (the
        stored result is left untouched), and the rebuilt file is
        checked against the SHA-256 the result recorded (:func:`ic.store.recorded_weights_sha256`); a result
        without one (older LSTM results) is rebuilt unchecked, with a log line.
        """
        if not self.weights_cache.has(job):
            if self.store.has(job):
                with self.rebuilding(self.store.load(job)):
                    rebuilt = self.study.execute(job, self)
                    self._check_rebuilt(job, rebuilt)
            else:
                self.require(job)
        if not self.weights_cache.has(job):
            raise RuntimeError(f"Job {job.key} ({job.describe()}) did not save weights to "
                               f"{self.weights_cache.path(job)}")
        return self.weights_cache.load(job)

    def _check_rebuilt(self, job: Job, rebuilt: dict | None = None) -> None:
        if not self.weights_cache.has(job):
            return                      # weights() reports the missing file
        record = self.store.load(job)
        expected = recorded_weights_sha256(record)
        if expected is None:        # older results: compare the training history the rebuild reproduced instead
            same = _same_history(record.get("result", {}), rebuilt or {})
            if same is None:
                log.info("rebuilt the weights of %s unchecked: its result records no SHA-256", job.describe())
                return
            if same:
                log.info("rebuilt the weights of %s: its loss history equals the stored one", job.describe())
                return
            difference = "its loss history differs from the stored one"
        else:
            got = self.weights_cache.sha256(job)
            if got == expected:
                return
            difference = f"SHA-256 {got[:12]}… vs {expected[:12]}…"
        kept = self.weights_cache.path(job, "mismatch")
        self.weights_cache.path(job).replace(kept)
        env = record.get("environment", {})
        raise RebuildMismatch(
            f"{job.describe()} ({job.key}): the rebuilt weights differ from those its stored result was computed "
            f"with ({difference}). Retraining is bit-exact only with the same torch "
            f"thread count, CPU (or GPU) and torch version, the usual reasons for a difference: the result was "
            f"made with {env.get('torch_threads', '?')} threads on {env.get('cpu_model', 'an unrecorded CPU')} "
            f"({env.get('device', '?')}), torch {env.get('torch', '?')}; here {_torch_threads()} threads on "
            f"{cpu_model()} ({self.device}), torch {_torch_version()} (set the threads with --threads). The rebuilt "
            f"file was moved to {kept}. Either rebuild on a matching machine, or accept the difference by deleting "
            f"{self.store.path(job)} (and the results of the jobs that use it) so that they are recomputed here.")


def _same_history(stored: dict, rebuilt: dict) -> bool | None:
    """Whether a rebuilt model job retraced the stored one's training (its recorded train and validation losses,
    to their stored 6 digits); None when either result has no loss history to compare."""
    a, b = stored.get("fit"), rebuilt.get("fit")
    if not a or not b:
        return None
    return all(a.get(f) == b.get(f) for f in ("train_loss", "val_loss", "best_epoch", "steps"))


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def _torch_version() -> str:
    import torch

    return torch.__version__


def parse_budget(text: str | float | None) -> float | None:
    """'90m', '2h', '1h30m', '45s' or a number of seconds → seconds (None = unlimited)."""
    if text is None or text == "" or text == "none":
        return None
    if isinstance(text, (int, float)):
        return float(text)
    m = re.fullmatch(r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*", text)
    if not m or not any(m.groups()):
        raise UsageError(f"Cannot read budget {text!r}: use e.g. 45m, 2h, 1h30m or a number of seconds.")
    h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    return h * 3600 + mi * 60 + s


#: a done job whose wall time is below this fraction of its estimate did no real work (see :func:`expected_cost`)
NO_OP_FRACTION = 0.01


def expected_cost(job: Job, done: list[tuple[Job, dict]], device: str | None = None) -> float:
    """Wall seconds a missing job is expected to take, learnt from the done jobs (pairs of job and stored
    record) of the same study and kind that ran on ``device`` (a device type such as ``cpu`` or ``cuda``;
    None: any): the mean wall time of those of the same shape (the same estimate ``cost_s``, which the study
    derives from the job's size), else the job's estimate scaled by the mean ratio of measured to estimated
    wall time, else the job's estimate. Each record's time leaves out what its job spent rebuilding weights a new
    machine's cache had lost (``rebuild_wall_s``). Records that took under :data:`NO_OP_FRACTION` of their own
    estimate are left out: those jobs did not do the work the estimate describes (e.g. a training epoch after the
    stopping rule ended the training, stored as done in milliseconds), and would pull the mean far below a real
    job's time."""
    same_kind = [(j, r) for j, r in done if j.kind == job.kind and j.study == job.study
                 and _own_wall(r) >= NO_OP_FRACTION * j.cost_s
                 and (device is None or _device_type(r.get("environment", {}).get("device")) == _device_type(device))]
    same_shape = [_own_wall(r) for j, r in same_kind if j.cost_s == job.cost_s]
    if same_shape:
        return sum(same_shape) / len(same_shape)
    ratios = [_own_wall(r) / j.cost_s for j, r in same_kind if j.cost_s > 0]
    return job.cost_s * sum(ratios) / len(ratios) if ratios else job.cost_s


def _own_wall(record: dict) -> float:
    """A record's wall time without the time its job spent rebuilding lost weights (``rebuild_wall_s``)."""
    return record["wall_time_s"] - record.get("rebuild_wall_s", 0.0)


def _device_type(device: Any) -> str:
    return str(device or "cpu").split(":")[0]


def missing_deps(job: Job, store: ResultStore) -> list[Job]:
    """The deps of ``job`` without a stored result, recursively, each once, in the order to run them (every job
    after the deps it needs)."""
    order: list[Job] = []
    seen: set[str] = set()

    def visit(j: Job, path: tuple[str, ...]) -> None:
        for d in j.deps:
            if d.key in path:
                raise ValueError(f"dependency cycle: {' -> '.join(path)} -> {d.key}")
            if d.key in seen or store.has(d):
                continue
            visit(d, (*path, d.key))
            seen.add(d.key)
            order.append(d)

    visit(job, (job.key,))
    return order


def profile_owners() -> dict[str, list[str]]:
    """Profile name → the studies that have it (in study order); every study's profiles, first-seen order."""
    owners: dict[str, list[str]] = {}
    for name in STUDY_MODULES:
        for p in study_profiles(name) or ():
            owners.setdefault(p, []).append(name)
    return owners


def describe_profiles() -> str:
    """'smoke, paper, cpu (cgan, vae)': each profile, with the studies that have it unless every study does."""
    with_profiles = [n for n in STUDY_MODULES if study_profiles(n) is not None]
    return ", ".join(p if len(ns) == len(with_profiles) else f"{p} ({', '.join(ns)})"
                     for p, ns in profile_owners().items())


def select_studies(only: str | None, profile: str | None = None) -> list[str]:
    """The studies named in ``only`` (comma-separated; default: every study that has ``profile``), each checked
    to exist and to have ``profile``."""
    names = [s.strip() for s in (only or "").split(",") if s.strip()] or list(STUDY_MODULES)
    for n in names:
        if n not in STUDY_MODULES:
            raise UsageError(f"Unknown study {n!r} in --only: use one or more of {', '.join(STUDY_MODULES)} "
                             f"(comma-separated).")
    if profile is None:
        return names
    having = [n for n in names if study_profiles(n) is None or profile in study_profiles(n)]
    if not having and not only:
        raise UsageError(f"Unknown profile {profile!r}: use one of {describe_profiles()}.")
    for n in names if only else ():
        if n not in having:
            owners = profile_owners().get(profile)
            hint = f"; {profile!r} is a profile of {', '.join(owners)}" if owners else ""
            raise UsageError(f"{profile!r} is not a profile of the {n} study: use one of "
                             f"{', '.join(study_profiles(n))}{hint}.")
    return having


def _note_selection(names: list[str], only: str | None, profile: str, out) -> None:
    if not only and len(names) < len(STUDY_MODULES):
        print(f"profile {profile}: only {', '.join(names)} (the other studies have no such profile)", file=out)


def status(profile: str = "paper", only: str | None = None, out=None) -> list[dict]:
    """Print (to ``out``, default the current ``sys.stdout``) and return, per study, jobs done / missing and wall
    time spent / still expected (on this device)."""
    out = out or sys.stdout
    store = store_for(profile)
    dev = str(choose_device())
    names = select_studies(only, profile)
    _note_selection(names, only, profile, out)
    rows = []
    for name in names:
        study = get_study(name)
        jobs = study.plan(profile)
        done = [(j, store.load(j)) for j in jobs if store.has(j)]
        done_records = [r for _, r in done]
        missing = [j for j in jobs if not store.has(j)]
        per_kind = defaultdict(lambda: [0, 0])
        for j in jobs:
            per_kind[j.kind][0 if store.has(j) else 1] += 1
        rows.append({
            "study": name, "title": study.title, "jobs": len(jobs), "done": len(done_records),
            "missing": len(missing),
            "wall_spent_h": sum(r["wall_time_s"] for r in done_records) / 3600,
            "wall_expected_h": sum(expected_cost(j, done, dev) for j in missing) / 3600,
            "per_kind": {k: {"done": v[0], "missing": v[1]} for k, v in per_kind.items()},
        })
    print(f"results store: {store.root}  (profile {profile})", file=out)
    print(f"{'study':<10}{'done':>7}{'missing':>9}{'wall h spent':>14}{'wall h to go':>14}", file=out)
    for r in rows:
        print(f"{r['study']:<10}{r['done']:>7}{r['missing']:>9}{r['wall_spent_h']:>14.2f}{r['wall_expected_h']:>14.2f}",
              file=out)
        for kind, c in r["per_kind"].items():
            print(f"  {kind:<16}{c['done']:>5} done {c['missing']:>5} missing", file=out)
    return rows


def parse_shard(text: str | None) -> tuple[int, int]:
    """'i/n' → (i, n): this process runs the job groups whose hash falls in shard i of n."""
    if not text:
        return 0, 1
    m = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not m or not 0 <= int(m.group(1)) < int(m.group(2)):
        raise UsageError(f"Cannot read shard {text!r}: use i/n with 0 <= i < n, e.g. 0/2 and 1/2.")
    return int(m.group(1)), int(m.group(2))


def shard_anchor(job: Job) -> str:
    """What decides a job's shard: its group, else its first dep's anchor, else its key (see the module text)."""
    while not job.group and job.deps:
        job = job.deps[0]
    return job.group or job.key


def in_shard(job: Job, shard: tuple[int, int]) -> bool:
    i, n = shard
    if n == 1:
        return True
    return int(hashlib.sha256(shard_anchor(job).encode()).hexdigest(), 16) % n == i


def select_parts(names: list[str], profile: str, patterns: str | None) -> dict[str, set[str] | None]:
    """Per study, the keys of the jobs in the parts whose names match one of the comma-separated glob
    ``patterns`` (``"*nz=10"``: "training nz=10" and "noise size nz=10", not "nz=100"); None (every job) without
    patterns. A pattern that matches no part of any selected study is a :class:`UsageError` listing the parts."""
    import fnmatch

    if not patterns:
        return {name: None for name in names}
    wanted = [p.strip() for p in patterns.split(",") if p.strip()]
    out: dict[str, set[str] | None] = {}
    available: list[str] = []
    used: set[str] = set()
    for name in names:
        parts = get_study(name).parts(profile)
        available += [f"{name}: {part}" for part in parts]
        hit = [part for part in parts if any(fnmatch.fnmatchcase(part, w) for w in wanted)]
        used |= {w for w in wanted if any(fnmatch.fnmatchcase(part, w) for part in parts)}
        out[name] = {j.key for part in hit for j in parts[part]}
    unknown = [w for w in wanted if w not in used]
    if unknown:
        raise UsageError(f"--part {', '.join(map(repr, unknown))} matches no part of profile {profile!r}; the parts "
                         f"are: {'; '.join(available)} (glob patterns, comma-separated, e.g. '*nz=10').")
    return out


def reproduce(profile: str = "smoke", only: str | None = None, budget: str | float | None = None,
              device: str | None = None, progress: bool = True, out=None, shard: str | None = None,
              parts: str | None = None) -> dict:
    """Run every missing job of the selected studies, in plan order, until the wall-time budget is used up.

    Before a job its missing deps run (recursively). A job is started only if the expected wall time of the job
    and its missing deps fits in the remaining budget; a job that needs a job left for the next run is left too.
    A started job runs to its end (its result is written atomically), so stopping never leaves a partial
    result. With ``shard="i/n"``, n processes can share the work (e.g. one per core): see :func:`shard_anchor`.
    With ``parts`` (glob patterns, :func:`select_parts`) only the jobs of those parts run (and their missing
    deps). Ctrl-C raises :class:`Interrupted`, which says how many results this run kept.
    """
    out = out or sys.stdout
    budget_s = parse_budget(budget)
    shard_ = parse_shard(shard)
    names = select_studies(only, profile)
    selected = select_parts(names, profile, parts)
    store = store_for(profile)
    dev = choose_device(device)
    _note_selection(names, only, profile, out)
    summary = {"ran": 0, "skipped_budget": 0, "already_done": 0, "seconds": 0.0, "stopped_at_budget": False,
               "failed": []}
    started: list[Job] = []
    try:
        _reproduce(names, profile, store, dev, budget_s, shard_, progress, out, summary, started, selected)
    except KeyboardInterrupt as exc:
        raise Interrupted(sum(store.has(j) for j in started), store.root) from exc
    msg = (f"ran {summary['ran']} jobs in {summary['seconds'] / 60:.1f} min; "
           f"{summary['already_done']} were done before")
    if summary["stopped_at_budget"]:
        msg += f"; {summary['skipped_budget']} left for the next run (budget {budget})"
    if summary["failed"]:
        msg += (f"; {len(summary['failed'])} could not run because weights they need do not rebuild here "
                f"(the 'failed' line above says why and what to do)")
    print(msg, file=out)
    return summary


def _reproduce(names: list[str], profile: str, store: ResultStore, dev: Any, budget_s: float | None,
               shard_: tuple[int, int], progress: bool, out, summary: dict, started: list[Job],
               selected: dict[str, set[str] | None] | None = None) -> None:
    """The loop of :func:`reproduce`: counts into ``summary``, and lists in ``started`` every job it starts (so
    that an interrupt can count the results this run kept)."""
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    for name in names:
        study = get_study(name)
        ctx = Context(study=study, store=store, device=dev)
        jobs = study.plan(profile)
        done = [(j, store.load(j)) for j in jobs if store.has(j)]      # the whole plan's: the cost estimates
        keys = (selected or {}).get(name)
        if keys is not None:
            jobs = [j for j in jobs if j.key in keys]
        missing = [j for j in jobs if not store.has(j) and in_shard(j, shard_)]
        summary["already_done"] += len(jobs) - len(missing)
        skipped: set[str] = set()
        unbuildable: set[str] = set()
        bar = tqdm(missing, desc=f"{name} ({profile})", unit="job", disable=not progress, file=out)
        for job in bar:
            if store.has(job):          # produced meanwhile as a dependency of an earlier job
                continue
            chain = [*missing_deps(job, store), job]
            expected = [expected_cost(j, done, str(dev)) for j in chain]
            elapsed = time.perf_counter() - t0
            # a job that needs a job left for the next run would run it first: leave it too (jobs of a study that
            # declares no deps: those of the group of a job left)
            left_behind = any(j.key in skipped for j in chain) or job.group in skipped
            if job.group in unbuildable:        # its group's weights failed to rebuild above
                summary["failed"].append(job.key)
                continue
            if budget_s is not None and (left_behind or elapsed + sum(expected) > budget_s):
                summary["stopped_at_budget"] = True
                summary["skipped_budget"] += 1
                skipped.add(job.key)
                continue
            bar.set_postfix_str(job.describe()[:60])
            try:
                for j, expected_s in zip(chain, expected):
                    started.append(j)
                    done.append((j, _run_logged(ctx, j, expected_s, progress, out)))
                    summary["ran"] += 1
            except RebuildMismatch as exc:     # this job cannot run here; the others may
                print(f"{time.strftime('%H:%M:%S')} failed {job.describe()}: {exc}", file=out, flush=True)
                summary["failed"].append(job.key)
                if job.group:                   # the other jobs of its group need the same weights
                    unbuildable.add(job.group)
        bar.close()
        summary["seconds"] = time.perf_counter() - t0


def _run_logged(ctx: Context, job: Job, expected_s: float, progress: bool, out) -> dict:
    """``ctx.require(job)``; without the progress bar, one timestamped line when it starts and one when done."""
    if not progress:
        print(f"{time.strftime('%H:%M:%S')} start {job.describe()} (expected {expected_s / 60:.1f} min)",
              file=out, flush=True)
    started = time.perf_counter()
    record = ctx.require(job)
    if not progress:
        print(f"{time.strftime('%H:%M:%S')} done  {job.key} in {(time.perf_counter() - started) / 60:.1f} min",
              file=out, flush=True)
    return record
