"""Reporting for every chapter: the records of a study's part, numeric rows per job kind, bookkeeping tables,
and the one step that turns a numeric table into what the book shows.

Tables are numeric: a summary of runs is three columns ``<stem>_mean``, ``<stem>_std``, ``<stem>_n``, and a
table carries how it is shown in ``df.attrs["display"]`` (label → column, summary stem or function of the row),
applied only by :func:`public` when the table is shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import verdict as V
from .plotting import empty_figure, use_book_style
from .runner import Context, Study, get_study
from .store import Job, store_for

__all__ = ["Collected", "collect", "frame", "summary_columns", "summary_text", "level_columns", "interval_text",
           "progress_note", "cost_table", "public", "claims_style", "empty_figure"]

use_book_style()


@dataclass
class Collected:
    """The jobs of one part of a study and the records of those that are done."""

    profile: str
    jobs: list
    records: dict            # key -> record (only jobs that are done)

    @property
    def n_done(self) -> int:
        return sum(j.key in self.records for j in self.jobs)

    @property
    def n_jobs(self) -> int:
        return len(self.jobs)

    def get(self, job: Job) -> dict | None:
        r = self.records.get(job.key)
        return r["result"] if r else None

    def cpu_hours(self) -> float:
        return sum(r["cpu_time_s"] for r in self.records.values()) / 3600

    def devices(self) -> str:
        return ", ".join(sorted({r["environment"]["device"] for r in self.records.values()})) or "—"


def collect(study: Study | str, profile: str, part: str, run_missing: bool = True) -> Collected:
    """Records of one part of ``study`` (a name of ``study.parts(profile)``, or ``all`` for the whole plan): read
    from the store, running only the missing jobs when ``run_missing``."""
    study = get_study(study) if isinstance(study, str) else study
    if part == "all":
        jobs = study.plan(profile)
    else:
        parts = study.parts(profile)
        if part not in parts:
            raise ValueError(f"Unknown part {part!r} of study {study.name}: use one of {', '.join(parts)} or all.")
        jobs = parts[part]
    store = store_for(profile)
    ctx = Context(study=study, store=store) if run_missing else None
    records = {}
    for j in jobs:
        if store.has(j):
            records[j.key] = store.load(j)
        elif run_missing:
            records[j.key] = ctx.require(j)
    return Collected(profile, jobs, records)


def collect_parts(study: Study | str, profile: str, names: Iterable[str], run_missing: bool = True) -> Collected:
    """The records of several parts of ``study`` at once, each job once (in the order the parts list them)."""
    cols = [collect(study, profile, name, run_missing) for name in names]
    jobs = list({j.key: j for c in cols for j in c.jobs}.values())
    return Collected(profile, jobs, {k: v for c in cols for k, v in c.records.items()})


# ------------------------------------------------------------------------------------------- rows
_MISSING = object()


def _lookup(path: str, namespace: Mapping, default=_MISSING):
    value = namespace
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            if default is _MISSING:
                raise KeyError(f"{path!r} is not in the job or its record (give a default: (path, default))")
            return default
        value = value[part]
    return value


def frame(col: Collected, kind: str | Iterable[str], fields: Mapping[str, str | tuple | Callable]) -> pd.DataFrame:
    """One row per finished job of ``kind`` (one kind or several) in ``col``, one column per field.

    A field is a dotted path into the job and its record — ``config.…``, ``seed``, ``kind``, ``result.…``,
    ``cpu_time_s`` — or a pair (path, default for records that lack it), or a function ``(job, record) ->
    value``."""
    kinds = {kind} if isinstance(kind, str) else set(kind)
    rows = []
    for j in col.jobs:
        record = col.records.get(j.key)
        if j.kind not in kinds or record is None:
            continue
        namespace = {**record, "config": j.config, "seed": j.seed, "kind": j.kind}
        row = {}
        for name, spec in fields.items():
            if callable(spec):
                row[name] = spec(j, record)
            elif isinstance(spec, tuple):
                row[name] = _lookup(spec[0], namespace, spec[1])
            else:
                row[name] = _lookup(spec, namespace)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(fields))


# ------------------------------------------------------------------------------------------- summaries
#: How the book states the spread of runs (table headers and captions say it with this text).
STD_NOTE = f"sd: the sample standard deviation (n − {V.STD_DDOF}), as in every verdict"


def summary_columns(stem: str, values: Iterable[float]) -> dict:
    """``{stem}_mean``, ``{stem}_std``, ``{stem}_n`` of the runs ``values``; the std is the one :mod:`ic.verdict`
    reports (``ddof`` :data:`ic.verdict.STD_DDOF`; NaN when there are too few runs for it)."""
    v = np.asarray(list(values), dtype=float)
    std = float(np.std(v, ddof=V.STD_DDOF)) if len(v) > V.STD_DDOF else math.nan
    return {f"{stem}_mean": float(v.mean()) if len(v) else math.nan, f"{stem}_std": std, f"{stem}_n": len(v)}


def summary_text(row: Mapping, stem: str, digits: int = 2) -> str:
    """'mean ± sd (n=N)' of a row's summary columns ('mean (n=1)' without a spread; 'not run yet' when n = 0)."""
    n = row[f"{stem}_n"]
    n = 0 if n is None or (isinstance(n, float) and math.isnan(n)) else int(n)
    if n == 0:
        return "not run yet"
    std = row[f"{stem}_std"]
    spread = "" if std is None or math.isnan(std) else f" ± {std:.{digits}f}"
    return f"{row[f'{stem}_mean']:.{digits}f}{spread} (n={n})"


def level_columns(values: Iterable[float], source, instances: int, metric: V.Metric = V.ACCURACY) -> dict:
    """The level verdict (:func:`ic.verdict.level`) of our runs ``values`` against the source's number or per-run
    values, as table columns ``verdict``, ``lo``, ``hi`` (the decisive interval). While fewer than
    ``instances`` runs are in, 'pending (n of N runs)'; '—' without runs or without a source."""
    values = list(values)
    if source is None or (np.ndim(source) > 0 and len(source) == 0) or not values:
        return {"verdict": "—", "lo": math.nan, "hi": math.nan}
    v = V.level(values, source, metric=metric, expected_n=instances)
    word = f"{v.verdict} ({len(values)} of {instances} runs)" if v.verdict == V.PENDING else v.verdict
    return {"verdict": word, "lo": v.lo, "hi": v.hi}


def probe_level_columns(correct_runs: Sequence, source, instances: int, metric: V.Metric = V.ACCURACY) -> dict:
    """As :func:`level_columns`, for runs scored on a *subset* of the test set the source used (a probe set): the
    level is judged on per-probe correctness averaged over the runs (the same probes in every run), so that the
    error of using the subset counts — with 1 000 probes it is often larger than the spread between runs.
    ``correct_runs``: one boolean array per run; accuracy in the unit of ``metric``."""
    runs = list(correct_runs)
    if source is None or not runs:
        return {"verdict": "—", "lo": math.nan, "hi": math.nan}
    if len(runs) < instances:
        return {"verdict": f"{V.PENDING} ({len(runs)} of {instances} runs)", "lo": math.nan, "hi": math.nan}
    v = V.level_probes(runs, source, metric=metric)
    return {"verdict": v.verdict, "lo": v.lo, "hi": v.hi}


def interval_text(row: Mapping, digits: int = 2) -> str:
    """'[lo, hi]' of a row's ``lo``/``hi`` columns ('—' when there is none)."""
    lo, hi = row["lo"], row["hi"]
    return "—" if lo is None or math.isnan(lo) or math.isnan(hi) else f"[{lo:.{digits}f}, {hi:.{digits}f}]"


def difference_text(d: float, lo: float, hi: float, digits: int = 2) -> str:
    """A signed difference with its interval, as the book quotes it: '+0.026 (+0.010 to +0.042)'; without the
    interval when it has none (NaN bounds)."""
    if math.isnan(lo) or math.isnan(hi):
        return f"{d:+.{digits}f}"
    return f"{d:+.{digits}f} ({lo:+.{digits}f} to {hi:+.{digits}f})"


# ------------------------------------------------------------------------------------------- bookkeeping
def progress_note(*cols: Collected) -> str:
    """One sentence: how many of the jobs behind ``cols`` are in the store, their CPU time and device."""
    done, total = sum(c.n_done for c in cols), sum(c.n_jobs for c in cols)
    cpu = sum(c.cpu_hours() for c in cols)
    devices = sorted({d for c in cols for d in c.devices().split(", ") if d != "—"}) or ["—"]
    return (f"{done} of the {total} {cols[0].profile}-profile jobs behind these results are in the results store "
            f"({cpu:.2f} CPU-hours, device: {', '.join(devices)}).")


def _label(v) -> str:
    """A grouping value as shown: '—' for none, integers without decimals."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _minutes(v: float) -> str:
    return "—" if not np.isfinite(v) else f"{v:.1f}" if v >= 1 else f"{v:.2f}"


def cost_table(col: Collected, describe: Callable[[Job], dict]) -> pd.DataFrame:
    """CPU time per group of jobs (``describe(job)`` gives the grouping columns, e.g. the job kind's name and its
    size), over the jobs in the store, with the number still missing and a total row. Numeric: ``jobs``,
    ``done``, ``cpu_h``, ``per_job_min``."""
    rows = [{**describe(j), "done": j.key in col.records,
             "cpu_s": col.records[j.key]["cpu_time_s"] if j.key in col.records else np.nan} for j in col.jobs]
    df = pd.DataFrame(rows)
    groups = [c for c in df.columns if c not in ("done", "cpu_s")]
    out = (df.groupby(groups, sort=True, dropna=False)
             .agg(jobs=("done", "size"), done=("done", "sum"), cpu_h=("cpu_s", lambda s: s.sum() / 3600),
                  per_job_min=("cpu_s", lambda s: s.mean() / 60))
             .reset_index())
    total = {**{g: "" for g in groups}, groups[0]: "total", "jobs": int(out["jobs"].sum()),
             "done": int(out["done"].sum()), "cpu_h": out["cpu_h"].sum(), "per_job_min": np.nan}
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    out.attrs["display"] = {**{g: (lambda r, g=g: _label(r[g])) for g in groups}, "jobs": "jobs", "done": "done",
                            "CPU hours": lambda r: f"{r['cpu_h']:.2f}",
                            "CPU minutes per job": lambda r: _minutes(r["per_job_min"])}
    return out


# ------------------------------------------------------------------------------------------- display
def public(df: pd.DataFrame, display: Mapping | None = None) -> pd.DataFrame:
    """What the book shows of a numeric table: one column per entry of ``display`` (default
    ``df.attrs["display"]``), label → a column (kept as is: numbers are formatted by the book), a summary stem
    (``<stem>_mean/_std/_n`` → 'mean ± std (n=N)') or a function of the row. Without a display spec, the
    table without its summary helper columns."""
    display = display if display is not None else df.attrs.get("display")
    if display is None:
        return df[[c for c in df.columns if not c.endswith(("_mean", "_std", "_n"))]]
    out = {}
    for label, spec in display.items():
        if callable(spec):
            out[label] = [spec(row) for _, row in df.iterrows()]
        elif spec in df.columns:
            out[label] = df[spec].tolist()
        elif f"{spec}_mean" in df.columns:
            out[label] = [summary_text(row, spec) for _, row in df.iterrows()]
        else:
            raise KeyError(f"display column {label!r}: {spec!r} is neither a column nor a summary stem of the table")
    return pd.DataFrame(out, columns=list(display))


def claims_style(shown: pd.DataFrame):
    """A claims table as :func:`ic.verdict.format_claims` renders it, styled to be read on a page 800 px wide: the
    claim column wide enough for its words, each interval on one line, a row's note in brackets after its claim
    (a column of its own would push the table past the page for the few rows that have one)."""
    if "note" in shown.columns:
        shown = shown.assign(claim=[f"{c} ({n})" if n else c for c, n in zip(shown["claim"], shown["note"])])
        shown = shown.drop(columns="note")
    interval = [i for i, c in enumerate(shown.columns) if c.endswith("interval")]
    return shown.style.hide(axis="index").set_table_styles(
        [{"selector": "th, td", "props": "padding: 3px 6px; text-align: left; vertical-align: top;"},
         {"selector": "th", "props": "border-bottom: 1px solid #888;"},
         {"selector": "td.col0", "props": "min-width: 12em;"},
         *({"selector": f"td.col{i}", "props": "white-space: nowrap;"} for i in interval)])
