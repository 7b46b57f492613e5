"""The results store and the runner: keys, atomic writes, no reruns, deps, wall-time budget, resumption, the
SHA-256 check of rebuilt weights."""

from __future__ import annotations

import io
import json
import logging
import math
import re
import shutil
import time
from dataclasses import replace

import pytest
import torch

from ic import runner
from ic import store as store_module
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


def test_atomic_write_keeps_old_file_when_writing_fails(tmp_path, monkeypatch):
    """The write fails after the new bytes went to disk (at fsync): the old file must be intact, no temp left."""
    target = tmp_path / "r.json"
    atomic_write_bytes(target, b"old")

    def failing_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(store_module.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"new content")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_corrupt_result_file_gives_clear_error(tmp_path):
    store = ResultStore(tmp_path)
    store.path(job()).parent.mkdir(parents=True)
    store.path(job()).write_text("{not json")
    with pytest.raises(RuntimeError, match="delete it"):
        store.load(job())


def test_result_file_of_another_key_is_a_clear_error(tmp_path):
    store = ResultStore(tmp_path)
    store.run(job(config={"x": 4}), lambda: {"y": 16})
    shutil.copy(store.path(job(config={"x": 4})), store.path(job()))       # e.g. a file renamed by hand
    with pytest.raises(RuntimeError, match="belongs to key .*delete it"):
        store.load(job())


def test_weight_cache_roundtrip(tmp_path):
    import torch

    cache = WeightCache(tmp_path)
    sha = cache.save(job(), {"w": torch.arange(3)})
    assert cache.has(job()) and not cache.has(job(), "state")
    assert cache.load(job())["w"].tolist() == [0, 1, 2]
    assert sha == cache.sha256(job()) and len(sha) == 64
    cache.save(job(), {"w": torch.arange(4)}, tag="state")                   # a tagged checkpoint beside it
    assert cache.load(job(), "state")["w"].tolist() == [0, 1, 2, 3] and cache.load(job())["w"].tolist() == [0, 1, 2]
    assert cache.sha256(job(), "state") != sha
    cache.delete(job(), "state")
    assert not cache.has(job(), "state") and cache.has(job())


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
    """A model job (saves weights, records their SHA-256) and three jobs that use it (declared as a dep).
    ``salt`` goes into the weights: changing it stands for retraining on another machine."""

    name = "toy"
    title = "toy"

    def __init__(self):
        self.executed = []
        self.salt = 0
        self.record_hash = True
        self.record_history = False      # a loss history in the model's result (what older LSTM results hold)

    def plan(self, profile):
        model = Job("toy", "model", {"w": 2}, seed=0, cost_s=0.1)
        uses = [Job("toy", "use", {"model": model.key, "x": x}, seed=0, cost_s=1, group=model.key, deps=(model,))
                for x in range(3)]
        return [model, *uses]

    def execute(self, job, ctx):
        self.executed.append(job.kind)
        if job.kind == "model":
            self.threads_seen = torch.get_num_threads()
            sha = ctx.weights_cache.save(job, {"w": job.config["w"], "salt": self.salt})
            fit = {"train_loss": [1.0, 0.5 + self.salt], "val_loss": [1.0, 0.6], "best_epoch": 1, "steps": 2}
            return {"trained": True, **({"weights_sha256": sha} if self.record_hash else {}),
                    **({"fit": fit} if self.record_history else {})}
        w = ctx.weights(job.deps[0])["w"]
        return {"y": w * job.config["x"]}


def install(study, monkeypatch, tmp_path):
    """Make ``study`` the only study the runner knows, with its store and cache under ``tmp_path``."""
    monkeypatch.setitem(runner.STUDY_MODULES, study.name, study.name)
    monkeypatch.setattr(runner, "get_study", lambda name: study)
    monkeypatch.setenv("IC_RESULTS_DIR", str(tmp_path / "res"))
    monkeypatch.setenv("IC_CACHE_DIR", str(tmp_path / "cache"))
    return study


@pytest.fixture
def toy(monkeypatch, tmp_path):
    return install(ToyStudy(), monkeypatch, tmp_path)


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


def test_expected_cost_is_wall_time_learnt_from_jobs_of_the_same_shape_else_the_measured_ratio():
    small = Job("s", "fit", {"k": 2}, seed=0, cost_s=10)
    big = Job("s", "fit", {"k": 20}, seed=0, cost_s=100)
    cpu = {"device": "cpu"}
    done = [(small, {"wall_time_s": 30.0, "cpu_time_s": 60.0, "environment": cpu}),
            (replace(small, seed=1), {"wall_time_s": 50.0, "cpu_time_s": 100.0, "environment": cpu})]
    assert runner.expected_cost(replace(small, seed=2), done, "cpu") == 40.0
    assert runner.expected_cost(big, done, "cpu") == pytest.approx(400.0)       # measured 4 × the estimate
    assert runner.expected_cost(Job("s", "other", {}, seed=0, cost_s=7), done, "cpu") == 7
    # records of another device say nothing about this one
    assert runner.expected_cost(replace(small, seed=2), done, "cuda:0") == 10
    gpu = [(replace(small, seed=3), {"wall_time_s": 1.0, "cpu_time_s": 1.0, "environment": {"device": "cuda:0"}})]
    assert runner.expected_cost(replace(small, seed=2), done + gpu, "cuda") == 1.0
    assert runner.expected_cost(replace(small, seed=2), done + gpu, "cpu") == 40.0
    # a job that did no work (an epoch after the stopping rule: milliseconds) does not lower the estimate
    no_op = [(replace(small, seed=4), {"wall_time_s": 0.001, "cpu_time_s": 0.001, "environment": cpu})]
    assert runner.expected_cost(replace(small, seed=2), done + no_op, "cpu") == 40.0
    # nor does the time a job spent retraining weights a new machine's cache had lost raise it
    rebuilt = [(replace(small, seed=5), {"wall_time_s": 140.0, "rebuild_wall_s": 100.0, "cpu_time_s": 140.0,
                                         "environment": cpu})]
    assert runner.expected_cost(replace(small, seed=2), done + rebuilt, "cpu") == 40.0


class SleepStudy:
    """Jobs that wait (wall time, no CPU time); ``chain`` jobs depend on each other, listed in reverse."""

    name = "sleep"
    title = "sleep"

    def __init__(self, seconds=0.3):
        self.seconds, self.executed = seconds, []

    def plan(self, profile):
        return [Job("sleep", "nap", {"i": i}, seed=0, cost_s=0.01) for i in range(3)]

    def execute(self, job, ctx):
        self.executed.append(job.key)
        for d in job.deps:
            assert ctx.store.has(d), f"{job.describe()} ran before its dep {d.describe()}"
        time.sleep(self.seconds)
        return {"i": job.config.get("i", -1)}


@pytest.fixture
def sleepy(monkeypatch, tmp_path):
    return install(SleepStudy(), monkeypatch, tmp_path)


def test_budget_is_wall_time(sleepy):
    """The first nap takes 0.3 s of wall time and almost no CPU time; learnt from it, a second nap does not fit
    in what is left of a 0.5 s budget (learnt from CPU time it would)."""
    s = runner.reproduce("paper", only="sleep", budget=0.5, progress=False)
    assert s["ran"] == 1 and s["stopped_at_budget"] and s["skipped_budget"] == 2
    record = next(store_for("paper").records("sleep"))
    assert record["wall_time_s"] >= 0.3 > 10 * record["cpu_time_s"]


def test_deps_run_first_once_in_order_and_logged(sleepy, monkeypatch):
    sleepy.seconds = 0.0
    a = Job("sleep", "nap", {"name": "a"}, seed=0, cost_s=1)
    b = Job("sleep", "nap", {"name": "b"}, seed=0, cost_s=1, deps=(a,))
    c = Job("sleep", "nap", {"name": "c"}, seed=0, cost_s=1, deps=(b, a))
    d = Job("sleep", "nap", {"name": "d"}, seed=0, cost_s=1, deps=(a,))
    monkeypatch.setattr(sleepy, "plan", lambda profile: [c, d])            # a and b are not in the plan
    out = io.StringIO()
    s = runner.reproduce("paper", only="sleep", progress=False, out=out)
    assert sleepy.executed == [a.key, b.key, c.key, d.key] and s["ran"] == 4
    dones = [ln.split()[2] for ln in out.getvalue().splitlines() if re.match(r"\d\d:\d\d:\d\d done ", ln)]
    assert dones == [a.key, b.key, c.key, d.key]


def test_budget_counts_the_missing_deps_with_the_job(sleepy, monkeypatch):
    """The job alone (1 s) fits in a 3 s budget, with its model (5 s) it does not: nothing may start."""
    model = Job("sleep", "model", {}, seed=0, cost_s=5)
    use = Job("sleep", "use", {}, seed=0, cost_s=1, deps=(model,))
    monkeypatch.setattr(sleepy, "plan", lambda profile: [use])
    s = runner.reproduce("paper", only="sleep", budget=3, progress=False)
    assert sleepy.executed == [] and s["skipped_budget"] == 1
    sleepy.seconds = 0.0
    assert runner.reproduce("paper", only="sleep", budget=7, progress=False)["ran"] == 2
    assert sleepy.executed == [model.key, use.key]


def test_dependency_cycle_is_a_clear_error():
    a = Job("s", "a", {}, seed=0)
    b = Job("s", "b", {}, seed=0, deps=(a,))
    object.__setattr__(a, "deps", (b,))                                   # a needs b needs a
    with pytest.raises(ValueError, match="cycle"):
        runner.missing_deps(b, ResultStore("/nonexistent"))


def test_weights_rebuilt_when_result_committed_but_cache_empty(toy, tmp_path):
    """A fresh clone: results stored, weight cache empty. The use job rebuilds the model's weights by re-running
    the model job, checks them against the recorded SHA-256 and leaves the model's result untouched."""
    runner.reproduce("paper", only="toy", progress=False)
    shutil.rmtree(tmp_path / "cache" / "weights")
    model, use = toy.plan("paper")[:2]
    store_for("paper").path(use).unlink()
    before = store_for("paper").path(model).read_text()
    runner.reproduce("paper", only="toy", progress=False)
    assert store_for("paper").has(use) and toy.executed.count("model") == 2
    assert store_for("paper").path(model).read_text() == before  # result untouched
    # the job that needed the rebuild records the time it took (left out of time estimates); others do not
    assert "rebuild_wall_s" in store_for("paper").load(use)
    assert not any("rebuild_wall_s" in store_for("paper").load(u) for u in toy.plan("paper")[2:])
    assert WeightCache(tmp_path / "cache" / "weights").has(model)


def test_weights_are_rebuilt_with_the_thread_count_their_result_recorded(toy, tmp_path):
    """Bit-exact retraining on a CPU needs the original's torch thread count: the rebuild runs with it (here a
    count different from this process's), and the process's own count is restored afterwards."""
    runner.reproduce("paper", only="toy", progress=False)
    model, use = toy.plan("paper")[:2]
    path = store_for("paper").path(model)
    record = json.loads(path.read_text())
    own = torch.get_num_threads()
    record["environment"]["torch_threads"] = 2 if own == 1 else 1
    path.write_text(json.dumps(record))
    shutil.rmtree(tmp_path / "cache" / "weights")
    store_for("paper").path(use).unlink()
    runner.reproduce("paper", only="toy", progress=False)
    assert toy.threads_seen == record["environment"]["torch_threads"] != own
    assert torch.get_num_threads() == own and store_for("paper").has(use)


def test_rebuilt_weights_that_differ_from_the_record_are_a_clear_error(toy, tmp_path):
    runner.reproduce("paper", only="toy", progress=False)
    shutil.rmtree(tmp_path / "cache" / "weights")
    model, *uses = toy.plan("paper")
    use = uses[0]
    for u in uses:
        store_for("paper").path(u).unlink()
    toy.salt = 1                                     # retrained elsewhere: different bytes
    out = io.StringIO()
    summary = runner.reproduce("paper", only="toy", progress=False, out=out)
    assert re.search(r"(?s)failed .*differ.*thread count, CPU.*1 threads.*--threads.*moved.*deleting", out.getvalue())
    assert summary["failed"] == [u.key for u in uses] and "3 could not run" in out.getvalue()
    assert toy.executed.count("model") == 2          # the group's other jobs do not retrain it again
    assert not summary["stopped_at_budget"]
    with pytest.raises(runner.RebuildMismatch):      # asked directly, the job raises
        runner.Context(study=toy, store=store_for("paper")).require(use)
    cache = WeightCache(tmp_path / "cache" / "weights")
    assert not cache.has(model) and cache.has(model, "mismatch")       # never used silently afterwards
    assert not store_for("paper").has(use)


def test_weights_without_a_recorded_hash_are_rebuilt_unchecked_with_a_log_line(toy, tmp_path, caplog):
    toy.record_hash = False                          # an older result
    runner.reproduce("paper", only="toy", progress=False)
    shutil.rmtree(tmp_path / "cache" / "weights")
    store_for("paper").path(toy.plan("paper")[1]).unlink()
    toy.salt = 1
    with caplog.at_level(logging.INFO, logger="ic.runner"):
        assert runner.reproduce("paper", only="toy", progress=False)["ran"] == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "ic.runner"]
    assert len(lines) == 1 and "unchecked" in lines[0] and "model" in lines[0]


@pytest.mark.parametrize("salt", [0, 1])
def test_weights_without_a_hash_but_with_a_loss_history_are_checked_against_it(toy, tmp_path, caplog, salt):
    toy.record_hash, toy.record_history = False, True
    runner.reproduce("paper", only="toy", progress=False)
    shutil.rmtree(tmp_path / "cache" / "weights")
    store_for("paper").path(toy.plan("paper")[1]).unlink()
    toy.salt = salt                                  # 1: the rebuild trains differently
    if salt:
        out = io.StringIO()
        assert runner.reproduce("paper", only="toy", progress=False, out=out)["failed"]
        assert "loss history differs from the stored one" in out.getvalue()
        return
    with caplog.at_level(logging.INFO, logger="ic.runner"):
        assert runner.reproduce("paper", only="toy", progress=False)["ran"] == 1
    assert any("equals the stored one" in r.getMessage() for r in caplog.records if r.name == "ic.runner")


def test_shards_partition_the_jobs_and_keep_groups_together(toy):
    jobs = toy.plan("paper")
    shards = [[j for j in jobs if runner.in_shard(j, (i, 2))] for i in range(2)]
    assert sorted(j.key for s in shards for j in s) == sorted(j.key for j in jobs)
    model_shard = next(i for i, s in enumerate(shards) if jobs[0] in s)
    assert all(j in shards[model_shard] for j in jobs[1:])


def test_a_job_without_group_follows_its_first_dep_to_its_shard():
    models = [Job("s", "model", {"i": i}, seed=0) for i in range(8)]
    uses = [Job("s", "use", {"i": i}, seed=0, deps=(m,)) for i, m in enumerate(models)]
    for n in (2, 3):
        for m, u in zip(models, uses):
            assert [runner.in_shard(u, (i, n)) for i in range(n)] == [runner.in_shard(m, (i, n)) for i in range(n)]
    assert len({runner.in_shard(m, (0, 2)) for m in models}) == 2      # the models themselves are spread


@pytest.mark.parametrize("text,seconds", [("45m", 2700), ("2h", 7200), ("1h30m", 5400), ("90", 90), (None, None)])
def test_parse_budget(text, seconds):
    assert runner.parse_budget(text) == seconds


def test_parse_budget_rejects_nonsense():
    with pytest.raises(ValueError, match="budget"):
        runner.parse_budget("soon")


def test_unknown_study_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown study"):
        runner.get_study("nope")


def test_parts_select_the_jobs_of_matching_parts_with_their_deps(sleepy, monkeypatch):
    sleepy.seconds = 0.0
    model = Job("sleep", "nap", {"name": "model 10"}, seed=0, cost_s=1)
    use = Job("sleep", "nap", {"name": "use 10"}, seed=0, cost_s=1, deps=(model,))
    other = Job("sleep", "nap", {"name": "model 100"}, seed=0, cost_s=1)
    parts = {"training nz=10": [model], "runs nz=10": [use], "training nz=100": [other]}
    monkeypatch.setattr(sleepy, "parts", lambda profile: parts, raising=False)
    monkeypatch.setattr(sleepy, "plan", lambda profile: [model, use, other])
    s = runner.reproduce("paper", only="sleep", progress=False, parts="runs nz=10")
    assert sleepy.executed == [model.key, use.key] and s["ran"] == 2         # its dep runs first
    s = runner.reproduce("paper", only="sleep", progress=False, parts="*nz=10")
    assert s["ran"] == 0 and s["already_done"] == 2 and other.key not in sleepy.executed
    with pytest.raises(runner.UsageError, match=r"'nz=1' matches no part.*sleep: training nz=100"):
        runner.reproduce("paper", only="sleep", progress=False, parts="nz=1")
    assert runner.select_parts(["sleep"], "paper", None) == {"sleep": None}


def test_nested_rebuilds_count_their_time_once(toy, tmp_path, monkeypatch):
    """A GAN chain rebuilds epoch 2 and, inside it, epochs 1 and 0: the job's rebuild time is the outer block's
    (a fake clock: the test does not depend on how busy the machine is)."""
    now = [100.0]
    monkeypatch.setattr(runner.time, "perf_counter", lambda: now[0])
    ctx = runner.Context(study=toy, store=store_for("paper"))
    with ctx.rebuilding():
        now[0] += 2.0
        with ctx.rebuilding():
            now[0] += 3.0
        now[0] += 1.0
    assert ctx.rebuild_s == 6.0               # counting the inner block too would give 9
    with ctx.rebuilding():
        now[0] += 0.5
    assert ctx.rebuild_s == 6.5
