"""The shared reporting layer (ic.report) and the LSTM chapter's tables, on synthetic store records."""

from __future__ import annotations

import math

import pytest

from ic import report
from ic import verdict as V
from ic.lstm import claims as C
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
    assert df.ours_std[0] == pytest.approx(0.1 * math.sqrt(2))          # the sample std (n − 1), as ic.verdict's
    shown = public(df, {"classes": "k", "ours": "ours", "twice": lambda r: 2 * r["k"]})
    assert shown.to_dict("list") == {"classes": [2, 4], "ours": ["0.60 ± 0.14 (n=2)", "not run yet"], "twice": [4, 8]}
    assert report.summary_text(report.summary_columns("x", [0.25]), "x") == "0.25 (n=1)"     # no spread from one run
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


def test_level_columns_judge_complete_settings_by_ic_verdict_and_leave_partial_ones_pending():
    assert report.level_columns([0.17], [0.49] * 5, instances=5)["verdict"] == "pending (1 of 5 runs)"
    source = [0.47, 0.39, 0.49, 0.50, 0.58]
    full = report.level_columns([0.17, 0.16, 0.18, 0.15, 0.19], source, instances=5)
    expected = V.level([0.17, 0.16, 0.18, 0.15, 0.19], source)
    assert full["verdict"] == "not reproduced" == expected.verdict and (full["lo"], full["hi"]) == (expected.lo,
                                                                                                    expected.hi)
    assert report.interval_text(full) == f"[{expected.lo:.2f}, {expected.hi:.2f}]"
    assert report.level_columns([], source, instances=5)["verdict"] == "—"
    assert report.level_columns([0.5] * 5, [], instances=5)["verdict"] == "—"
    assert report.interval_text({"lo": math.nan, "hi": math.nan}) == "—"


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
    assert table.loc[("all data", 0.0), "decoding at the vertices"] == "0.98 ± 0.03 (n=2)"
    assert table.loc[("all data", 0.0), "nearest centre (no model)"] == "—"
    assert table.loc[("sparse1", 0.4), "nearest centre (no model)"] == "0.99 (n=1)"
    assert list(table.index) == [("all data", 0.0), ("sparse1", 0.4)]


def _forward(k, seed, strict, n_train, fraction=None, variant="all", argmax=None):
    """A forward classifier's record: strict-rule accuracy ``strict``; the argmax accuracy differs (``argmax``, by
    default strict + 0.03) so that a test can tell which one a table uses."""
    config = {"k": k, "variant": variant, "split_seed": seed, **({"train_fraction": fraction} if fraction else {})}
    job = Job("lstm", "train_fwd", config, seed=seed, version=1)
    argmax = strict + 0.03 if argmax is None else argmax
    return job, {"result": {"accuracy": argmax, "accuracy_strict": strict, "n_train": n_train}}


def test_data_size_table_pairs_instances_and_says_what_the_test_cannot_exclude():
    full = [_forward(2, i, a, 100) for i, a in enumerate([0.90, 0.92])]
    half = [_forward(2, i, a, 50, fraction=0.5, argmax=0.95) for i, a in enumerate([0.80, 0.86])]
    sparse = Collected("smoke", [j for j, _ in full], {j.key: r for j, r in full})
    size = Collected("smoke", [j for j, _ in half], {j.key: r for j, r in half})
    row = R.data_size_table(sparse, size).iloc[0]
    assert row["drop_mean"] == pytest.approx(0.08) and "bound" not in row
    shown = public(R.data_size_table(sparse, size)).iloc[0]
    assert shown["classes"] == 2 and shown["training sequences (part | all)"] == "50 | 100"
    assert shown["lost by the cut (paired)"] == "0.08 ± 0.03 (n=2)"               # 0.10 and 0.06, strict rule
    assert shown["converged (part | all)"] == "0/2 | 0/2"                        # no loss history: not converged
    finding = R.data_size_finding(row)
    assert "neither confirmed nor excluded" in finding and "did not train alike" in finding
    # one instance of the smoke profile's two missing: shown, no verdict yet
    size1 = Collected("smoke", [j for j, _ in half], {half[0][0].key: half[0][1]})
    row1 = R.data_size_table(sparse, size1).iloc[0]
    assert report.summary_text(row1, "drop") == "0.10 (n=1)" and row1["verdict"] == V.PENDING
    assert "waits for every instance" in R.data_size_finding(row1)
    none = R.data_size_table(sparse, Collected("smoke", [j for j, _ in half], {})).iloc[0]
    assert report.summary_text(none, "drop") == "not run yet"
    assert R.data_size_finding(none).endswith("not run yet.")


# ------------------------------------------------------------------------------------ verdicts and claims
def _ic(k, sigma, variant, seed, acc):
    g = {"k": k, "sigma": sigma, "variant": variant, "batch_size": 16, "split_seed": seed}
    job = Job("lstm", "ic", {"generator": f"g{k}{sigma}{variant}{seed}", "gen_config": g, "gen_seed": seed}, seed=0,
              version=1)
    return job, {"result": {"accuracy": acc, "accuracy_first250": acc, "rmse_mean": 0.1, "n_test": 10}}


def _collected(pairs, profile="paper"):
    return Collected(profile, [j for j, _ in pairs], {j.key: r for j, r in pairs})


def _noise_2_classes():
    """Paper profile, 2 classes only: σ 0.3 clearly above σ 0 on each of five instances."""
    return _collected([_ic(2, 0.0, "all", i, a) for i, a in enumerate([0.60, 0.70, 0.55, 0.65, 0.62])]
                      + [_ic(2, 0.3, "all", i, a) for i, a in enumerate([0.97, 1.0, 0.98, 1.0, 0.99])])


def _sparsity_4_classes():
    """Paper profile, the five settings of the sparsity comparison at 4 classes, five instances each."""
    best = 0.4                                                     # the thesis's best σ at 4 classes
    ic = [_ic(4, best, variant, i, 0.95 + 0.01 * (i % 2)) for variant in ("all", "sparse1", "sparse4")
          for i in range(5)]
    fwd = [_forward(4, i, 0.94 + 0.01 * (i % 3), 200, variant=v, argmax=0.40) for v in ("all", "sparse4")
           for i in range(5)]
    return _collected(ic + fwd)


def test_sparsity_table_judges_forward_classifiers_with_the_strict_rule_by_ic_verdict():
    table = R.sparsity_table(_sparsity_4_classes()).set_index(["k", "setting"])
    row = table.loc[(4, "comparison")]
    strict = [0.94 + 0.01 * (i % 3) for i in range(5)]
    assert row["ours_mean"] == pytest.approx(sum(strict) / 5)                    # not the argmax 0.40
    assert row["verdict"] == V.level(strict, C.thesis_sparsity_runs("comparison", 4, "paper")).verdict
    assert table.loc[(20, "sparse1"), "verdict"] == "—"                          # no runs: not judged
    shown = public(R.sparsity_table(_sparsity_4_classes()))
    assert "95 % interval" in shown.columns and "ours (mean ± sd)" in shown.columns


def test_the_chapter_claims_table_has_one_row_per_claim_in_order():
    claims = C.chapter_claims(_noise_2_classes(), _sparsity_4_classes())
    table = V.claims_table(list(claims.values()))
    numbers = [c.split(".")[0] for c in table.claim]
    assert numbers == ["1a", "1b", "1c"] + [f"2{x}" for x in "abcdefghijkl"]     # paper: 3 noise, 12 sparsity claims
    assert len(set(table.claim)) == len(table) == len(claims)
    assert table.claim[0] == "1a. 2 classes: σ 0.3 beats σ 0" and table.kind[0] == V.BEATS
    verdicts = dict(zip(claims, table.verdict))
    assert verdicts["noise_k2"] == V.SUPPORTS                                    # +0.34 on every instance
    assert verdicts["noise_k20"] == V.PENDING                                    # no 20-class runs
    assert verdicts["equal_k4_all_data"] == V.SUPPORTS and claims["equal_k4_all_data"].kind == V.EQUAL
    assert verdicts["equal_k4_comparison"] == V.SUPPORTS                         # forward by the strict rule, not 0.40
    assert verdicts["best_k20"] == V.PENDING
    shown = V.format_claims(table)
    assert len(shown) == len(table) and shown.verdict.tolist() == table.verdict.tolist()


def test_the_claims_verdicts_come_from_ic_verdict(monkeypatch):
    before = C.chapter_claims(_noise_2_classes(), _sparsity_4_classes())
    monkeypatch.setattr(V, "MIN_N", 6)                                 # five runs no longer give an interval
    after = C.chapter_claims(_noise_2_classes(), _sparsity_4_classes())
    assert before["noise_k2"].verdict == V.SUPPORTS and after["noise_k2"].verdict == V.INCONCLUSIVE
    assert before["equal_k4_all_data"].verdict == V.SUPPORTS and after["equal_k4_all_data"].verdict == V.INCONCLUSIVE
    table = R.sparsity_table(_sparsity_4_classes()).set_index(["k", "setting"])
    assert table.loc[(4, "comparison"), "verdict"] == V.INCONCLUSIVE


def test_claims_style_keeps_every_claim_and_moves_notes_into_the_claim_cell():
    shown = V.format_claims(V.claims_table([V.level([0.9, 0.91, 0.92, 0.9, 0.91], 0.93, claim="a"),
                                            V.level([0.9], 0.93, claim="b")]))
    html = report.claims_style(shown).to_html()
    assert "note" not in report.claims_style(shown).data.columns
    assert report.claims_style(shown).data.claim.tolist() == [f"a ({shown.note[0]})", f"b ({shown.note[1]})"]
    assert "min-width" in html and "nowrap" in html


def _control_ic(seed, acc, iterations=None, loss=None, stop_rule=True):
    g = {"k": 20, "sigma": 0.3, "variant": "sparse1", "batch_size": 16, "split_seed": seed,
         **({"stop_rule": {"patience": 60}} if stop_rule else {})}
    config = {"generator": f"c{seed}{stop_rule}", "gen_config": g, "gen_seed": seed,
              "iterations": iterations or R.get_profile("paper").ic_iterations, **({"loss": loss} if loss else {})}
    job = Job("lstm", "ic", config, seed=0, version=1)
    return job, {"result": {"accuracy": acc, "accuracy_first250": acc, "rmse_mean": 0.1, "n_test": 10}}


def test_control_claims_judge_sparse1_again_on_the_converged_generators_only():
    sparse = _collected([_ic(20, 0.3, "sparse1", i, 0.05) for i in range(5)]
                        + [_ic(20, 0.3, "sparse4", i, 0.15 + 0.01 * i) for i in range(5)]
                        + [_forward(20, i, 0.60, 80, variant="sparse4") for i in range(5)])
    control = _collected([_control_ic(i, 0.45 + 0.01 * i) for i in range(5)]
                         + [_control_ic(i, 0.99, iterations=500) for i in range(5)]          # sensitivity runs
                         + [_control_ic(i, 0.99, loss="sum_over_time") for i in range(5)]
                         + [_control_ic(i, 0.01, stop_rule=False) for i in range(5)])        # not the control
    claims = C.control_claims(sparse, control)
    less = claims["less_data_k20_sparse1"]
    assert less.estimate == pytest.approx(0.30) and less.n == 5                  # 0.45+0.01i minus 0.15+0.01i
    assert less.verdict == V.SUPPORTS and "trained to convergence" in less.claim
    assert claims["equal_k20_sparse_comparison"].estimate == pytest.approx(0.47 - 0.60)
    assert C.control_claims(sparse, _collected([]))["less_data_k20_sparse1"].verdict == V.PENDING


def test_difference_text_signs_the_difference_and_its_interval():
    assert report.difference_text(0.0261, 0.0097, 0.0423, 3) == "+0.026 (+0.010 to +0.042)"
    assert report.difference_text(-0.5, -1.25, 0.25) == "-0.50 (-1.25 to +0.25)"
    assert report.difference_text(0.71, math.nan, math.nan) == "+0.71"
