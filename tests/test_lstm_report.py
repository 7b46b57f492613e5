"""The LSTM chapter's bookkeeping tables, on synthetic store records."""

from __future__ import annotations

from ic.compare import fmt, summarise
from ic.lstm import report as R
from ic.store import Job


def _gen(k, batch, seed):
    return Job("lstm", "train_gen", {"k": k, "batch_size": batch, "sigma": 0.1}, seed=seed, version=1)


def _record(job, cpu_s):
    return {"result": {}, "cpu_time_s": cpu_s, "environment": {"device": "cpu"}, "key": job.key}


def test_cost_table_sums_done_jobs_and_counts_missing_ones():
    g1, g2, g3 = _gen(2, 16, 0), _gen(2, 16, 1), _gen(2, 1, 0)
    ic = Job("lstm", "ic", {"generator": g1.key, "gen_config": dict(g1.config)}, seed=0, version=1)
    centre = Job("lstm", "nearest_centre", {"k": 20, "variant": "sparse1", "split_seed": 0}, seed=0, version=1)
    col = R.Collected("paper", [g1, g2, g3, ic, centre], {g1.key: _record(g1, 600.0), g3.key: _record(g3, 7200.0),
                                                          ic.key: _record(ic, 30.0), centre.key: _record(centre, 0.6)})
    table = R.cost_table(col).set_index(["job", "batch"])
    minibatch = table.loc[("train a generator", "16")]
    assert (minibatch["jobs"], minibatch["done"]) == (2, 1)
    assert minibatch["CPU minutes per job"] == "10.0"
    assert table.loc[("inverse-classify a test split", "16")]["CPU minutes per job"] == "0.50"
    assert table.loc[("nearest-centre classifier", "—")]["CPU minutes per job"] == "0.01"     # a job without a model
    total = table.loc[("total", "")]
    assert (total["jobs"], total["done"], total["CPU hours"]) == (5, 4, f"{(600 + 7200 + 30 + 0.6) / 3600:.2f}")
    assert "4 of the 5 paper-profile jobs" in R.progress_note(col)


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
    col = R.Collected("paper", [j for j, _ in pairs], {j.key: r for j, r in pairs})
    table = R.convergence_table(col).set_index("classes")
    assert table.loc[4, "epochs run"] == "300" and table.loc[4, "still improving at the end"] == 1
    assert table.loc[20, "epochs run"] == "140–300" and table.loc[20, "still improving at the end"] == 1
    assert table.loc[20, "CPU min per model"] == (1.4 + 3.0) / 2
    fig = R.validation_curves(col, k=20)
    assert len(fig.axes[0].lines) == 2 * 2 + 1          # a curve and a best-epoch dot per model, the minimum line


def test_partial_settings_are_shown_but_not_judged():
    from ic.compare import summarise

    assert R._verdict(summarise([0.17]), 0.49, instances=5) == "pending (1 of 5)"
    assert R._verdict(summarise([0.17] * 5), 0.49, instances=5) == "not reproduced"
    assert R._verdict(summarise([]), 0.49, instances=5) == "—"
    assert R._outcome([0.3, 0.9], lambda a, b: a < b, complete=False) == "pending (not all instances done)"
    assert R._outcome([0.3, 0.9], lambda a, b: a < b) == "holds"


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
    ics = R.Collected("paper", [r[0] for r in rows], {r[0].key: r[1] for r in rows})
    diag = R.Collected("paper", [r[2] for r in rows] + [centre],
                       {**{r[2].key: r[3] for r in rows}, centre.key: {"result": {"accuracy": 0.99}}})
    table = R.diagnostic_table([ics, ics], diag).set_index(["training data", "σ"])   # the same IC twice: one row
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
    sparse = R.Collected("smoke", [j for j, _ in full], {j.key: r for j, r in full})
    size = R.Collected("smoke", [j for j, _ in half], {j.key: r for j, r in half})
    row = R.data_size_table(sparse, size).iloc[0]
    assert row["classes"] == 2 and row["training sequences (part | all)"] == "50 | 100"
    assert row["lost by the cut (paired)"] == "0.08 ± 0.02 (n=2)"               # 0.10 and 0.06
    assert row["at most with twice our data"] == "0.99"                          # 0.91 + 0.08
    # one instance missing: shown, no bound
    size1 = R.Collected("smoke", [j for j, _ in half], {half[0][0].key: half[0][1]})
    row1 = R.data_size_table(sparse, size1).iloc[0]
    assert row1["lost by the cut (paired)"] == "0.10 ± 0.00 (n=1)" and row1["at most with twice our data"] == "—"
    assert "bound_mean" not in R.public(R.data_size_table(sparse, size)).columns
    assert "can explain the shortfall" in R.data_size_finding(row)                # 0.99 against the thesis's 1.00
    assert "waits for every instance" in R.data_size_finding(row1)
    low = row.copy()
    low["bound_mean"] = 0.9
    assert "does not explain the whole shortfall" in R.data_size_finding(low)
    none = R.data_size_table(sparse, R.Collected("smoke", [j for j, _ in half], {})).iloc[0]
    assert none["lost by the cut (paired)"] == fmt(summarise([])) and R.data_size_finding(none).endswith("not run yet.")
