"""The shared reporting layer (ic.report) and the LSTM chapter's tables, on synthetic store records."""

from __future__ import annotations

import math

import pytest

from ic import report
from ic.compare import fmt, summarise
from ic.lstm import figures as F
from ic.lstm import report as R
from ic.report import Collected, public
from ic.store import Job


def _gen(k, batch, seed):
    return Job("lstm", "train_gen", {"k": k, "batch_size": batch, "sigma": 0.1}, seed=seed, version=1)


def _record(job, cpu_s):
    return {"result": {}, "cpu_time_s": cpu_s, "environment": {"device": "cpu"}, "key": job.key}


# ------------------------------------------------------------------------------------ ic.report
def test_frame_reads_paths_defaults_and_functions_of_finished_jobs_of_one_kind():
    g1, g2, g3 = _gen(2, 16, 0), _gen(4, 16, 1), _gen(2, 1, 2)
    other = Job("lstm", "ic", {"k": 2}, seed=0, version=1)
    records = {g1.key: {**_record(g1, 60.0), "result": {"fit": {"steps": 7}, "extra": 1.5}},
               g3.key: {**_record(g3, 90.0), "result": {"fit": {"steps": 9}}},
               other.key: _record(other, 1.0)}
    col = Collected("paper", [g1, g2, g3, other], records)
    df = report.frame(col, "train_gen", {"k": "config.k", "instance": "seed", "steps": "result.fit.steps",
                                         "extra": ("result.extra", -1.0), "cpu_s": "cpu_time_s",
                                         "minutes": lambda j, r: r["cpu_time_s"] / 60})
    assert df.to_dict("list") == {"k": [2, 2], "instance": [0, 2], "steps": [7, 9], "extra": [1.5, -1.0],
                                  "cpu_s": [60.0, 90.0], "minutes": [1.0, 1.5]}   # g2 not done, 'other' another kind
    assert len(report.frame(col, ("train_gen", "ic"), {"kind": "kind"})) == 3
    with pytest.raises(KeyError, match="result.extra"):
        report.frame(col, "train_gen", {"extra": "result.extra"})
    assert list(report.frame(Collected("paper", [], {}), "ic", {"a": "seed"}).columns) == ["a"]


def test_public_shows_summaries_columns_and_functions_only_when_asked():
    df = R.pd.DataFrame([{"k": 2, **report.summary_columns("ours", [0.5, 0.7]), "verdict": "partly"},
                         {"k": 4, **report.summary_columns("ours", []), "verdict": "—"}])
    assert df.ours_mean[0] == pytest.approx(0.6) and df.ours_n.tolist() == [2, 0]      # numbers in the table
    shown = public(df, {"classes": "k", "ours": "ours", "twice": lambda r: 2 * r["k"]})
    assert shown.to_dict("list") == {"classes": [2, 4], "ours": ["0.60 ± 0.10 (n=2)", "not run yet"], "twice": [4, 8]}
    assert list(public(df).columns) == ["k", "verdict"]                  # no spec: the helper columns dropped
    df.attrs["display"] = {"v": "verdict"}
    assert public(df).v.tolist() == ["partly", "—"]
    with pytest.raises(KeyError, match="neither a column nor a summary stem"):
        public(df, {"x": "nothing"})


def test_collect_asks_the_study_for_a_part_by_name():
    class Tiny:
        name = "tiny"

        def parts(self, profile):
            return {"first": [_gen(2, 16, 0)], "second": [_gen(2, 16, 1)]}

        def plan(self, profile):
            return [j for js in self.parts(profile).values() for j in js]

    col = report.collect(Tiny(), "smoke", "second", run_missing=False)
    assert [j.seed for j in col.jobs] == [1] and col.n_done == 0
    assert len(report.collect(Tiny(), "smoke", "all", run_missing=False).jobs) == 2
    with pytest.raises(ValueError, match="Unknown part 'third' of study tiny"):
        report.collect(Tiny(), "smoke", "third", run_missing=False)


def test_cost_table_sums_done_jobs_and_counts_missing_ones():
    g1, g2, g3 = _gen(2, 16, 0), _gen(2, 16, 1), _gen(2, 1, 0)
    ic = Job("lstm", "ic", {"generator": g1.key, "gen_config": dict(g1.config)}, seed=0, version=1)
    centre = Job("lstm", "nearest_centre", {"k": 20, "variant": "sparse1", "split_seed": 0}, seed=0, version=1)
    col = Collected("paper", [g1, g2, g3, ic, centre], {g1.key: _record(g1, 600.0), g3.key: _record(g3, 7200.0),
                                                        ic.key: _record(ic, 30.0), centre.key: _record(centre, 0.6)})
    numeric = R.cost_table(col)
    assert numeric.cpu_h.iloc[-1] == pytest.approx((600 + 7200 + 30 + 0.6) / 3600)
    table = public(numeric).set_index(["job", "batch"])
    minibatch = table.loc[("train a generator", "16")]
    assert (minibatch["jobs"], minibatch["done"]) == (2, 1)
    assert minibatch["CPU minutes per job"] == "10.0"
    assert table.loc[("inverse-classify a test split", "16")]["CPU minutes per job"] == "0.50"
    assert table.loc[("nearest-centre classifier", "—")]["CPU minutes per job"] == "0.01"     # a job without a model
    total = table.loc[("total", "")]
    assert (total["jobs"], total["done"], total["CPU hours"]) == (5, 4, f"{(600 + 7200 + 30 + 0.6) / 3600:.2f}")
    assert "4 of the 5 paper-profile jobs" in report.progress_note(col)


def test_partial_settings_are_shown_but_not_judged():
    assert report.pending_verdict(summarise([0.17]), 0.49, instances=5) == "pending (1 of 5)"
    assert report.pending_verdict(summarise([0.17] * 5), 0.49, instances=5) == "not reproduced"
    assert report.pending_verdict(summarise([]), 0.49, instances=5) == "—"
    assert report.claim_outcome([0.3, 0.9], lambda a, b: a < b, complete=False) == "pending (not all instances done)"
    assert report.claim_outcome([0.3, 0.9], lambda a, b: a < b) == "holds"
    assert report.claim_outcome([0.9, 0.3], lambda a, b: a < b) == "does not hold"
    assert report.claim_outcome([math.nan, 0.3], lambda a, b: a < b) == "not run yet"


# ------------------------------------------------------------------------------------ LSTM tables
def _trained(k, sigma, seed, epochs_run, best_epoch, early=None):
    config = {"k": k, "sigma": sigma, "variant": "all", "batch_size": 16, "epochs": 100}
    if early:
        config.update(max_epochs=300, patience=30, min_rel_improvement=0.01)
    job = Job("lstm", "train_gen", config, seed=seed, version=1)
    fit = {"steps": 10, "best_epoch": best_epoch, "best_val_loss": 0.1 + seed / 100,
           "epochs": list(range(epochs_run)), "train_loss": [0.2] * epochs_run, "val_loss": [0.3] * epochs_run}
    if early:
        fit["epochs_run"] = epochs_run
    return job, {**_record(job, 60.0 * epochs_run / 100), "result": {"fit": fit}}


def test_convergence_table_reads_old_and_early_stopped_records():
    pairs = [_trained(4, 0.3, 0, 300, 295), _trained(4, 0.3, 1, 300, 100),          # fixed schedule, no epochs_run
             _trained(20, 0.3, 0, 140, 109, early=True), _trained(20, 0.3, 1, 300, 299, early=True)]
    col = Collected("paper", [j for j, _ in pairs], {j.key: r for j, r in pairs})
    numeric = R.convergence_table(col).set_index("k")
    assert (numeric.loc[20, "epochs_min"], numeric.loc[20, "epochs_max"]) == (140, 300)
    table = public(R.convergence_table(col)).set_index("classes")
    assert table.loc[4, "epochs run"] == "300" and table.loc[4, "still improving at the end"] == 1
    assert table.loc[20, "epochs run"] == "140–300" and table.loc[20, "still improving at the end"] == 1
    assert table.loc[20, "CPU min per model"] == (1.4 + 3.0) / 2
    fig = F.validation_curves(col, k=20)
    assert len(fig.axes[0].lines) == 2 * 2 + 1          # a curve and a best-epoch dot per model, the minimum line


def _ic_and_vertex(k, variant, sigma, seed, ic_acc, vertex_acc):
    g = Job("lstm", "train_gen", {"k": k, "sigma": sigma, "variant": variant, "batch_size": 16, "split_seed": seed,
                                  "renormalise": False}, seed=seed, version=1)
    ic = Job("lstm", "ic", {"generator": g.key, "gen_config": dict(g.config), "gen_seed": seed}, seed=0, version=1)
    vx = Job("lstm", "vertex", {"generator": g.key, "gen_config": dict(g.config), "gen_seed": seed}, seed=0, version=1)
    ic_rec = {"result": {"accuracy": ic_acc, "accuracy_first250": ic_acc, "rmse_mean": 0.1, "n_test": 10}}
    return ic, ic_rec, vx, {"result": {"accuracy": vertex_acc}}


def test_diagnostic_table_pairs_each_generator_with_its_own_vertex_decoding():
    rows = [_ic_and_vertex(4, "all", 0.0, 0, 0.50, 1.00), _ic_and_vertex(4, "all", 0.0, 1, 0.90, 0.96),
            _ic_and_vertex(4, "sparse1", 0.4, 0, 0.80, 0.98)]
    centre = Job("lstm", "nearest_centre", {"k": 4, "variant": "sparse1", "split_seed": 0}, seed=0, version=1)
    ics = Collected("paper", [r[0] for r in rows], {r[0].key: r[1] for r in rows})
    diag = Collected("paper", [r[2] for r in rows] + [centre],
                     {**{r[2].key: r[3] for r in rows}, centre.key: {"result": {"accuracy": 0.99}}})
    numeric = R.diagnostic_table([ics, ics], diag)                                   # the same IC twice: one row
    assert numeric.ic_runs[0] == (0.5, 0.9) and numeric.vertex_mean[0] == pytest.approx(0.98)
    table = public(numeric).set_index(["training data", "σ"])
    assert table.loc[("all data", 0.0), "per instance (IC → vertices)"] == "0.50 → 1.00, 0.90 → 0.96"
    assert table.loc[("all data", 0.0), "decoding at the vertices"] == "0.98 ± 0.02 (n=2)"
    assert table.loc[("all data", 0.0), "nearest centre (no model)"] == "—"
    assert table.loc[("sparse1", 0.4), "nearest centre (no model)"] == "0.99 ± 0.00 (n=1)"
    assert list(table.index) == [("all data", 0.0), ("sparse1", 0.4)]


def _forward(k, seed, acc, n_train, fraction=None):
    config = {"k": k, "variant": "all", "split_seed": seed, **({"train_fraction": fraction} if fraction else {})}
    job = Job("lstm", "train_fwd", config, seed=seed, version=1)
    return job, {"result": {"accuracy": acc, "n_train": n_train}}


def test_data_size_table_pairs_instances_and_bounds_the_next_doubling():
    full = [_forward(2, i, a, 100) for i, a in enumerate([0.90, 0.92])]
    half = [_forward(2, i, a, 50, fraction=0.5) for i, a in enumerate([0.80, 0.86])]
    sparse = Collected("smoke", [j for j, _ in full], {j.key: r for j, r in full})
    size = Collected("smoke", [j for j, _ in half], {j.key: r for j, r in half})
    row = R.data_size_table(sparse, size).iloc[0]
    assert row["drop_mean"] == pytest.approx(0.08) and row["bound"] == pytest.approx(0.99)    # 0.91 + 0.08
    shown = public(R.data_size_table(sparse, size)).iloc[0]
    assert shown["classes"] == 2 and shown["training sequences (part | all)"] == "50 | 100"
    assert shown["lost by the cut (paired)"] == "0.08 ± 0.02 (n=2)"               # 0.10 and 0.06
    # one instance missing: shown, no bound
    size1 = Collected("smoke", [j for j, _ in half], {half[0][0].key: half[0][1]})
    row1 = R.data_size_table(sparse, size1).iloc[0]
    assert report.summary_text(row1, "drop") == "0.10 ± 0.00 (n=1)" and math.isnan(row1["bound"])
    assert "can explain the shortfall" in R.data_size_finding(row)                # 0.99 against the thesis's 1.00
    assert "waits for every instance" in R.data_size_finding(row1)
    low = row.copy()
    low["bound"] = 0.9
    assert "does not explain the whole shortfall" in R.data_size_finding(low)
    none = R.data_size_table(sparse, Collected("smoke", [j for j, _ in half], {})).iloc[0]
    assert report.summary_text(none, "drop") == fmt(summarise([]))
    assert R.data_size_finding(none).endswith("not run yet.")
