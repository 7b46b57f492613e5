"""The speed benchmark runs and reports its numbers (no timing assertions: speed is checked in benchmarks/)."""

from __future__ import annotations

import pytest

from ic import bench


def test_bench_lstm_reports_positive_throughputs_for_every_setting():
    r = bench.bench_lstm(device="cpu", seconds=0.05, hidden=8, seq_len=12, n_data=16, ic_batch=4,
                         ic_iterations=10, ic_timed_iterations=2, threads=1, verbose=False)
    assert {"device", "torch", "threads", "config", "train", "ic"} <= set(r)
    assert r["device"] == "cpu" and r["threads"] >= 1
    assert set(r["train"]) == {"batch1", "batch16", "batch64"}
    for name, t in r["train"].items():
        assert t["batch_size"] == int(name.removeprefix("batch"))
        assert t["sequences_per_s"] > 0 and t["steps"] >= 2 and t["speedup"] > 0
    assert r["train"]["batch1"]["speedup"] == 1.0
    assert set(r["ic"]) == {"per_sample", "batched"}
    assert r["ic"]["per_sample"]["batch"] == 1 and r["ic"]["batched"]["batch"] == 4
    for t in r["ic"].values():
        assert t["probes_per_s"] > 0 and t["speedup"] > 0 and t["iterations"] == 10
    table = bench.format_table(r)
    assert "per-sample loop" in table and "probes/s" in table and "seq/s" in table


def test_run_rejects_unknown_benchmarks():
    with pytest.raises(ValueError, match="Unknown benchmark"):
        bench.run("gan")
