"""The committed results store is well-formed and belongs to the current plan."""

from __future__ import annotations

import json

import pytest

from ic import paths, runner
from ic.store import Job

RESULT_FILES = sorted(paths.REPO_ROOT.joinpath("results").glob("*/*.json"))


@pytest.mark.parametrize("path", RESULT_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_result_file_is_well_formed(path):
    record = json.loads(path.read_text())
    for field in ("study", "kind", "config", "seed", "version", "key", "result", "cpu_time_s", "environment"):
        assert field in record, f"{path} lacks {field!r}"
    job = Job(record["study"], record["kind"], record["config"], record["seed"], record["version"])
    assert job.key == record["key"] == path.stem, f"{path}: key does not match its content"
    assert path.parent.name == record["study"]


def test_committed_results_belong_to_the_current_paper_plan(mirror_dir, monkeypatch):
    monkeypatch.setenv("IC_DATA_DIR", str(mirror_dir))
    by_study: dict[str, set] = {}
    for path in RESULT_FILES:
        by_study.setdefault(path.parent.name, set()).add(path.stem)
    for study, keys in by_study.items():
        planned = {j.key for j in runner.get_study(study).plan("paper")}
        stale = sorted(keys - planned)
        assert not stale, (f"results/{study} holds {len(stale)} result(s) that no current job produces "
                           f"(a job's meaning changed?): {stale[:5]}")
