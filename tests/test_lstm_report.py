"""The LSTM chapter's bookkeeping tables, on synthetic store records."""

from __future__ import annotations

from ic.lstm import report as R
from ic.store import Job


def _gen(k, batch, seed):
    return Job("lstm", "train_gen", {"k": k, "batch_size": batch, "sigma": 0.1}, seed=seed, version=1)


def _record(job, cpu_s):
    return {"result": {}, "cpu_time_s": cpu_s, "environment": {"device": "cpu"}, "key": job.key}


def test_cost_table_sums_done_jobs_and_counts_missing_ones():
    g1, g2, g3 = _gen(2, 16, 0), _gen(2, 16, 1), _gen(2, 1, 0)
    ic = Job("lstm", "ic", {"generator": g1.key, "gen_config": dict(g1.config)}, seed=0, version=1)
    col = R.Collected("paper", [g1, g2, g3, ic], {g1.key: _record(g1, 600.0), g3.key: _record(g3, 7200.0),
                                                  ic.key: _record(ic, 30.0)})
    table = R.cost_table(col).set_index(["job", "batch"])
    minibatch = table.loc[("train a generator", "16")]
    assert (minibatch["jobs"], minibatch["done"]) == (2, 1)
    assert minibatch["CPU minutes per job"] == "10.0"
    assert table.loc[("inverse-classify a test split", "16")]["CPU minutes per job"] == "0.50"
    total = table.loc[("total", "")]
    assert (total["jobs"], total["done"], total["CPU hours"]) == (4, 3, f"{(600 + 7200 + 30) / 3600:.2f}")
    assert "3 of the 4 paper-profile jobs" in R.progress_note(col)
