"""The committed results store is well-formed and belongs to the current plan."""

from __future__ import annotations

import importlib
import json

import pytest

from ic import paths, runner
from ic.store import Job, recorded_weights_sha256

RESULT_FILES = sorted(paths.REPO_ROOT.joinpath("results").glob("*/*.json"))


@pytest.mark.parametrize("path", RESULT_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_result_file_is_well_formed(path):
    record = json.loads(path.read_text())
    for field in ("study", "kind", "config", "seed", "version", "key", "result", "cpu_time_s", "environment"):
        assert field in record, f"{path} lacks {field!r}"
    job = Job(record["study"], record["kind"], record["config"], record["seed"], record["version"])
    assert job.key == record["key"] == path.stem, f"{path}: key does not match its content"
    assert path.parent.name == record["study"]


def committed_profiles(study: str) -> list[str]:
    """The profiles whose results are committed: every profile but smoke of the study's ``profiles`` module (the
    study template's ``PROFILES``), else just ``paper``."""
    package = runner.STUDY_MODULES[study].rsplit(".", 1)[0]
    try:
        names = list(importlib.import_module(f"{package}.profiles").PROFILES)
    except (ImportError, AttributeError):
        names = ["paper"]
    return [n for n in names if n != "smoke"]


def test_committed_results_belong_to_a_current_plan(mirror_dir, monkeypatch):
    monkeypatch.setenv("IC_DATA_DIR", str(mirror_dir))
    by_study: dict[str, set] = {}
    for path in RESULT_FILES:
        by_study.setdefault(path.parent.name, set()).add(path.stem)
    for study, keys in by_study.items():
        profiles = committed_profiles(study)
        planned = {j.key for p in profiles for j in runner.get_study(study).plan(p)}
        stale = sorted(keys - planned)
        assert not stale, (f"results/{study} holds {len(stale)} result(s) that no job of the profiles "
                           f"{', '.join(profiles)} produces (a job's meaning changed?): {stale[:5]}")


def test_recorded_weight_hashes_are_sha256():
    """A model job's record names the SHA-256 of its saved weights (64 hex digits) where it records one."""
    for path in RESULT_FILES:
        sha = recorded_weights_sha256(json.loads(path.read_text()))
        assert sha is None or (len(sha) == 64 and int(sha, 16) >= 0), f"{path}: bad weights hash {sha!r}"
