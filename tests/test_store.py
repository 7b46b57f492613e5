"""The results store and the runner: keys, atomic writes, no reruns, budget, resumption."""

from __future__ import annotations

import io
import json
import math
import re
from dataclasses import replace

import pytest

from ic import runner
from ic.store import Job, ResultStore, WeightCache, atomic_write_bytes, store_for


def job(**kw) -> Job:
    base = dict(study="toy", kind="square", config={"x": 3}, seed=0)
    base.update(kw)
    return Job(**base)


def test_key_depends_on_config_seed_and_version_only():
    a = job()
    assert a.key == job(cost_s=999, label="other label", group="g").key
    assert a.key != job(config={"x": 4}).key
    assert a.key != job(seed=1).key
    assert a.key != job(version=2).key
    assert a.key.startswith("square-")


def test_same_key_is_never_recomputed(tmp_path):
    store = ResultStore(tmp_path)
    calls = []

    def compute():
        calls.append(1)
        return {"y": 9}

    first = store.run(job(), compute)
    second = ResultStore(tmp_path).run(job(), compute)   # a new process would see the file
    assert calls == [1]
    assert first["result"] == second["result"] == {"y": 9}
    record = json.loads(store.path(job()).read_text())
    assert record["config"] == {"x": 3} and record["seed"] == 0 and record["version"] == 1
    assert record["environment"]["torch"] and record["wall_time_s"] >= 0


def test_interrupted_job_leaves_no_file(tmp_path):
    store = ResultStore(tmp_path)

    def crash():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.run(job(), crash)
    assert not store.has(job())
    assert list(tmp_path.rglob("*")) == [] or all(p.is_dir() for p in tmp_path.rglob("*"))


def test_nan_result_is_refused_and_nothing_written(tmp_path):
    store = ResultStore(tmp_path)
    with pytest.raises(ValueError, match="non-finite"):
        store.run(job(), lambda: {"loss": [1.0, math.nan]})
    assert not store.has(job())


def test_atomic_write_keeps_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "r.json"
    atomic_write_bytes(target, b"old")

    class Boom(bytes):
        pass

    with pytest.raises(TypeError):
        atomic_write_bytes(target, object())  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_corrupt_result_file_gives_clear_error(tmp_path):
    store = ResultStore(tmp_path)
    store.path(job()).parent.mkdir(parents=True)
    store.path(job()).write_text("{not json")
    with pytest.raises(RuntimeError, match="delete it"):
        store.load(job())


def test_weight_cache_roundtrip(tmp_path):
    import torch

    cache = WeightCache(tmp_path)
    cache.save(job(), {"w": torch.arange(3)})
    assert cache.has(job())
    assert cache.load(job())["w"].tolist() == [0, 1, 2]


def test_store_for_profiles(monkeypatch, tmp_path):
    monkeypatch.setenv("IC_RESULTS_DIR", str(tmp_path / "res"))
    monkeypatch.setenv("IC_CACHE_DIR", str(tmp_path / "cache"))
    assert store_for("paper").root == tmp_path / "res"
    assert store_for("smoke").root == tmp_path / "cache" / "results-smoke"
    assert store_for("cpu").root == tmp_path / "res"       # a study's own profile is committed like paper
    with pytest.raises(ValueError, match="Unknown profile"):
        store_for("")


# --------------------------------------------------------------------------- runner with a toy study
class ToyStudy:
    name = "toy"
    title = "toy"

    def __init__(self):
        self.executed = []

    def plan(self, profile):
        model = Job("toy", "model", {"w": 2}, seed=0, cost_s=0.1)
        uses = [Job("toy", "use", {"model": model.key, "x": x}, seed=0, cost_s=1, group=model.key) for x in range(3)]
        return [model, *uses]

    def execute(self, job, ctx):
        self.executed.append(job.kind)
        if job.kind == "model":
            ctx.weights_cache.save(job, {"w": job.config["w"]})
            return {"trained": True}
        model = self.plan("smoke")[0]
        w = ctx.weights(model)["w"]
        return {"y": w * job.config["x"]}


@pytest.fixture
def toy(monkeypatch, tmp_path):
    study = ToyStudy()
    monkeypatch.setitem(runner.STUDY_MODULES, "toy", "toy")
    monkeypatch.setattr(runner, "get_study", lambda name: study)
    monkeypatch.setenv("IC_RESULTS_DIR", str(tmp_path / "res"))
    monkeypatch.setenv("IC_CACHE_DIR", str(tmp_path / "cache"))
    return study


def test_reproduce_runs_missing_jobs_once_and_resumes(toy, tmp_path):
    s1 = runner.reproduce("paper", only="toy", progress=False)
    assert s1["ran"] == 4 and toy.executed.count("model") == 1
    s2 = runner.reproduce("paper", only="toy", progress=False)
    assert s2["ran"] == 0 and s2["already_done"] == 4 and len(toy.executed) == 4
    results = sorted(r["result"].get("y", -1) for r in store_for("paper").records("toy"))
    assert results == [-1, 0, 2, 4]


def test_reproduce_without_bar_logs_each_job_it_runs(toy):
    out = io.StringIO()
    s = runner.reproduce("paper", only="toy", progress=False, out=out)
    lines = out.getvalue().splitlines()
    starts = [ln for ln in lines if re.match(r"\d\d:\d\d:\d\d start ", ln)]
    dones = [ln for ln in lines if re.match(r"\d\d:\d\d:\d\d done ", ln)]
    assert len(starts) == len(dones) == s["ran"] == 4
    assert all("expected" in ln for ln in starts)
    assert {ln.split()[2] for ln in dones} == {j.key for j in toy.plan("paper")}


def test_reproduce_stops_at_budget_then_resumes(toy):
    s = runner.reproduce("paper", only="toy", budget=0.5, progress=False)
    assert s["stopped_at_budget"] and s["ran"] == 1
    rows = runner.status("paper", only="toy")
    assert rows[0]["done"] == 1 and rows[0]["missing"] == 3
    s = runner.reproduce("paper", only="toy", progress=False)
    assert s["ran"] == 3


def test_budget_leaves_the_jobs_of_a_model_it_left(toy, monkeypatch):
    """The model is estimated dearer than the budget, the jobs that use it cheap: none of them may start,
    since each would train the model first."""
    plan = toy.plan

    def dear_model_plan(profile):
        model, *uses = plan(profile)
        return [replace(model, cost_s=100.0), *uses]

    monkeypatch.setattr(toy, "plan", dear_model_plan)
    s = runner.reproduce("paper", only="toy", budget=10, progress=False)
    assert s["ran"] == 0 and s["skipped_budget"] == 4 and toy.executed == []
    assert runner.reproduce("paper", only="toy", budget=1000, progress=False)["ran"] == 4


def test_expected_cost_from_jobs_of_the_same_shape_else_the_measured_ratio():
    small = Job("s", "fit", {"k": 2}, seed=0, cost_s=10)
    big = Job("s", "fit", {"k": 20}, seed=0, cost_s=100)
    done = [(small, {"cpu_time_s": 30.0}), (replace(small, seed=1), {"cpu_time_s": 50.0})]
    assert runner.expected_cost(replace(small, seed=2), done) == 40.0
    assert runner.expected_cost(big, done) == pytest.approx(400.0)       # measured 4 × the estimate
    assert runner.expected_cost(Job("s", "other", {}, seed=0, cost_s=7), done) == 7


def test_weights_rebuilt_when_result_committed_but_cache_empty(toy, tmp_path):
    runner.reproduce("paper", only="toy", progress=False)
    import shutil

    shutil.rmtree(tmp_path / "cache" / "weights")
    use = toy.plan("paper")[1]
    store_for("paper").path(use).unlink()
    before = store_for("paper").path(toy.plan("paper")[0]).read_text()
    runner.reproduce("paper", only="toy", progress=False)
    assert store_for("paper").has(use)
    assert store_for("paper").path(toy.plan("paper")[0]).read_text() == before  # result untouched


def test_shards_partition_the_jobs_and_keep_groups_together(toy):
    jobs = toy.plan("paper")
    shards = [[j for j in jobs if runner.in_shard(j, (i, 2))] for i in range(2)]
    assert sorted(j.key for s in shards for j in s) == sorted(j.key for j in jobs)
    model_shard = next(i for i, s in enumerate(shards) if jobs[0] in s)
    assert all(j in shards[model_shard] for j in jobs[1:])


@pytest.mark.parametrize("text,seconds", [("45m", 2700), ("2h", 7200), ("1h30m", 5400), ("90", 90), (None, None)])
def test_parse_budget(text, seconds):
    assert runner.parse_budget(text) == seconds


def test_parse_budget_rejects_nonsense():
    with pytest.raises(ValueError, match="budget"):
        runner.parse_budget("soon")


def test_unknown_study_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown study"):
        runner.get_study("nope")
