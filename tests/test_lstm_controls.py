"""The LSTM chapter's controls: the convergence rule, the sparse-generator control, the IC sensitivity jobs, the
paired-effect tables and the heat-map calibration (synthetic records; the jobs' schedules without training)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from ic import verdict as V
from ic.lstm import controls as C
from ic.lstm import convergence as K
from ic.lstm import data, jobs
from ic.lstm.execute import ic_loss
from ic.lstm.profiles import get_profile
from ic.lstm.study import STUDY
from ic.report import Collected, public
from ic.store import Job

DATA_ID = {"source": "x", "n_labelled": 1}


# ------------------------------------------------------------------------------------ the convergence rule
def test_finished_means_the_best_loss_fell_less_than_the_tolerance_in_the_last_fifth():
    epochs = list(range(100))
    flat_end = [1.0 - 0.5 * min(e, 70) / 70 for e in epochs]              # stops falling at epoch 70
    assert K.is_finished(epochs, flat_end, 100)
    falling = [1.0 - 0.5 * e / 100 for e in epochs]                        # falls 0.1 (≈ 17 %) in the last fifth
    fall, rel = K.improvement_in_tail(epochs, falling, 100)
    assert fall == pytest.approx(0.5 * 20 / 100, abs=0.01) and rel > K.REL_TOL
    assert not K.is_finished(epochs, falling, 100)
    tiny = [1e-4 * (1 - e / 100) for e in epochs]                          # relative fall large, absolute tiny
    assert K.is_finished(epochs, tiny, 100)
    # logged every 10th epoch: the tail is judged in epochs run, not in logged points
    assert not K.is_finished(epochs[::10], falling[::10], 100)
    early_fall = [1.0 if e < 50 else (0.5 if e >= 70 else 1.0 - 0.5 * (e - 50) / 20) for e in epochs]
    assert K.is_finished(epochs[::10], early_fall[::10], 100)              # the fall ended before the last fifth
    with pytest.raises(ValueError, match="one logged loss per logged epoch"):
        K.improvement_in_tail([0, 1], [1.0], 2)


def _model(k, sigma, seed, losses, variant="all", kind="train_gen", **config):
    job = Job("lstm", kind, {"k": k, "sigma": sigma, "variant": variant, "batch_size": 16, "renormalise": False,
                             **config}, seed=seed, version=1)
    n = len(losses)
    fit = {"epochs": list(range(n)), "val_loss": list(losses), "train_loss": list(losses),
           "best_epoch": int(np.argmin(losses)), "best_val_loss": float(min(losses)), "steps": 10 * n, "epochs_run": n}
    return job, {"result": {"fit": fit, "train_mse_clean_inputs": float(min(losses))}, "cpu_time_s": 1.0,
                 "environment": {"device": "cpu"}}


def _col(pairs, profile="paper"):
    return Collected(profile, [j for j, _ in pairs], {j.key: r for j, r in pairs})


def test_a_model_on_a_plateau_its_peers_left_is_not_converged():
    settled = [0.3] * 20 + [0.06] * 80
    plateau = [0.3] * 100
    pairs = [_model(4, 0.1, s, settled) for s in range(4)] + [_model(4, 0.1, 4, plateau)]
    f = K.convergence_frame(_col(pairs)).set_index("key")
    assert f.finished.all()                                   # every loss had stopped falling
    assert f.at_level.sum() == 4 and not f.loc[pairs[4][0].key, "at_level"]
    assert K.converged_keys(_col(pairs)) == {j.key for j, _ in pairs[:4]}
    # peers are the models of the same setting only: alone in its setting the plateau model is at its level
    alone = K.convergence_frame(_col([_model(4, 0.2, 0, plateau)]))
    assert alone.at_level.all()
    summary = K.convergence_summary(_col(pairs))
    assert summary[["n", "finished", "at_level", "converged"]].iloc[0].tolist() == [5, 5, 4, 4]
    assert C.converged_counts(summary) == "4 classes: 4 of 5"
    assert public(C.convergence_rule_table(summary)).iloc[0]["finished · at level · converged"] == "5 · 4 · 4 of 5"


def test_old_sparse_records_count_their_epochs_from_the_last_logged_one():
    job, rec = _model(20, 0.3, 0, [1.0] * 10, variant="sparse1")
    rec["result"]["fit"]["epochs"] = list(range(0, 2900, 290))        # logged every 290th epoch, no epochs_run
    del rec["result"]["fit"]["epochs_run"]
    f = K.convergence_frame(_col([(job, rec)]))
    assert f.epochs_run.iloc[0] == 2611


# ------------------------------------------------------------------------------------ the sparse control's jobs
def test_the_sparse_control_follows_the_all_data_rule_in_all_data_epochs_of_steps():
    p = get_profile("paper")
    fixed = jobs.gen_job(p, 20, 0.3, "sparse1", 0, DATA_ID)
    ctrl = jobs.gen_job(p, 20, 0.3, "sparse1", 0, DATA_ID, converge=True)
    assert ctrl.key != fixed.key and "max_epochs" not in fixed.config
    all_epoch = data.steps_per_epoch(1143, p.batch_size, p.val_fraction)          # 58 steps
    per_epoch = data.steps_per_epoch(20, p.batch_size, 0.0)                        # 2 steps
    cfg = data.fit_config_for(ctrl.config, n_all_train=1143, n_train=20)
    assert cfg.max_steps == 300 * all_epoch
    assert cfg.min_epochs == math.ceil(100 * all_epoch / per_epoch)                 # never fewer steps than before
    assert cfg.patience == math.ceil(60 * all_epoch / per_epoch)
    assert cfg.monitor_train and cfg.min_rel_improvement == 0.01
    assert data.fit_config_for(fixed.config, n_all_train=1143, n_train=20).patience is None
    with pytest.raises(ValueError, match="sparse variant"):
        jobs.gen_job(p, 20, 0.3, "all", 0, DATA_ID, converge=True)
    with pytest.raises(ValueError, match="stop_rule"):
        data.fit_config_for({**ctrl.config, "stop_rule": "epochs"}, n_all_train=1143, n_train=20)


def test_the_controls_are_planned_without_changing_a_committed_key(mirror_dir, monkeypatch):
    monkeypatch.setenv("IC_DATA_DIR", str(mirror_dir))
    parts = STUDY.parts("paper")
    ctrl = [j for j in parts["sparse_control"] if j.kind == "train_gen"]
    assert len(ctrl) == 5 and all(j.config["stop_rule"] == "all_data_epochs_of_steps" for j in ctrl)
    sens = [j for j in parts["ic_sensitivity"] if j.kind == "ic"]
    assert sorted({(j.config["iterations"], j.config.get("loss", "mean")) for j in sens}) == [
        (200, "mean"), (200, "sum_over_time"), (500, "mean")]
    assert len(sens) == 3 * 3 * 5                  # every setting on the same generator: sources', 500 it, summed
    replicas = [j for j in parts["ic_sensitivity"] if j.kind == "train_gen" and "replica" in j.config]
    noise_gens = {j.key for j in parts["noise"] if j.kind == "train_gen"}
    assert len(replicas) == 10 and not noise_gens & {j.key for j in replicas}
    assert {(j.config["k"], j.config["sigma"]) for j in replicas} == {(2, 0.0), (4, 0.0)}
    batch1 = [j for j in parts["protocol"] if j.kind == "train_gen"]
    assert len(batch1) == 5 and {j.config["batch_size"] for j in batch1} == {1}
    # the sources' IC jobs keep their keys: no 'loss' entry unless it differs from the mean
    assert all("loss" not in j.config for j in parts["noise"] if j.kind == "ic")
    with pytest.raises(ValueError, match="Unknown IC loss"):
        jobs.ic_job(get_profile("paper"), ctrl[0], loss="sum")


def test_the_summed_loss_is_the_mean_times_the_number_of_steps():
    out, target = torch.rand(3, 205, 2), torch.rand(3, 205, 2)
    mean, summed = ic_loss("mean")(out, target), ic_loss("sum_over_time")(out, target)
    per_step = ((out - target) ** 2).mean(dim=2).sum(dim=1)              # the thesis code: per-step MSE summed
    assert torch.allclose(summed, per_step) and torch.allclose(summed, 205 * mean)
    with pytest.raises(ValueError, match="Unknown IC loss"):
        ic_loss("max")


# ------------------------------------------------------------------------------------ paired effects
def test_effect_calls_a_difference_only_when_the_interval_excludes_zero():
    assert V.effect([0.5, 0.6, 0.55, 0.62, 0.58], [0.3, 0.35, 0.31, 0.4, 0.33]).verdict == V.HIGHER
    assert V.effect([0.3, 0.35, 0.31, 0.4, 0.33], [0.5, 0.6, 0.55, 0.62, 0.58]).verdict == V.LOWER
    assert V.effect([0.9, 0.91, 0.9, 0.92, 0.9], [0.9, 0.9, 0.91, 0.91, 0.9]).verdict == V.EQUIVALENT
    assert V.effect([0.9, 0.5, 0.9, 0.5, 0.9], [0.5, 0.9, 0.5, 0.9, 0.6]).verdict == V.INCONCLUSIVE
    # equivalence is a negative finding: not from three runs
    three = V.effect([0.9, 0.91, 0.9], [0.9, 0.9, 0.91])
    assert three.verdict == V.INCONCLUSIVE and "too few runs" in three.note
    # ... but a difference within the margin that the interval resolves is still a (positive) difference
    small = V.effect([0.93, 0.92, 0.94], [0.9, 0.9, 0.91])
    assert small.lo > 0 and small.hi < small.metric.margin
    assert small.verdict == V.HIGHER and "smaller than the margin" in small.note
    assert V.effect([0.9, 0.9, 0.91], [0.93, 0.92, 0.94]).verdict == V.LOWER
    assert V.effect({0: 0.9, 1: 0.8}, {0: 0.5, 1: 0.4}, expected_n=5).verdict == V.PENDING
    # missing runs come first, also when the interval of the runs in would call the settings equivalent
    assert V.effect([0.901, 0.901], [0.9, 0.9]).verdict == V.INCONCLUSIVE     # inside the margin, n = 2
    assert V.effect([0.901, 0.901], [0.9, 0.9], expected_n=3).verdict == V.PENDING


def _ic(k, sigma, seed, acc, variant="all", batch=16, preds=None, labels=None, max_entry=0.5, **extra):
    g = Job("lstm", "train_gen", {"k": k, "sigma": sigma, "variant": variant, "batch_size": batch,
                                  "split_seed": seed, "renormalise": False}, seed=seed, version=1)
    ic = Job("lstm", "ic", {"generator": g.key, "gen_config": dict(g.config), "gen_seed": seed,
                            "iterations": 200, **extra}, seed=0, version=1)
    labels = labels if labels is not None else [0, 1] * 5
    preds = preds if preds is not None else labels
    return ic, {"result": {"accuracy": acc, "accuracy_first250": acc, "rmse_mean": 0.1, "n_test": len(labels),
                           "predictions": preds, "labels": labels, "max_entry_mean": max_entry}}


def test_protocol_effect_pairs_batch_one_with_the_minibatch_model_of_the_same_instance():
    mb = [_ic(2, 0.2, s, a) for s, a in enumerate([0.42, 1.0, 1.0, 0.97, 0.45])]
    b1 = [_ic(2, 0.2, s, a, batch=1) for s, a in enumerate([0.97, 0.85, 1.0, 1.0, 0.99])]
    t = C.protocol_effect(_col(mb), _col(b1))
    r = t.iloc[0]
    assert r["diff"] == pytest.approx(np.mean([0.55, -0.15, 0.0, 0.03, 0.54]))
    assert (r["failures_b1"], r["failures_mb"]) == (0, 2)
    assert r["verdict"] == V.INCONCLUSIVE                                 # ±0.4 spread: five runs cannot tell
    assert public(t).iloc[0, -2].startswith("0.42 → 0.97")


def test_failing_runs_report_how_far_the_vectors_moved_and_where_the_predictions_went():
    labels = [0, 1] * 5
    pairs = [_ic(2, 0.0, 0, 0.5, preds=[1] * 10, labels=labels, max_entry=0.97),
             _ic(2, 0.0, 1, 1.0, labels=labels, max_entry=0.99)]
    f = C.failing_runs(_col(pairs))
    assert len(f) == 1 and f.modal_share.iloc[0] == 1.0 and f.max_entry.iloc[0] == 0.97
    assert public(f).iloc[0]["that class"] == "b"


def test_pileup_counts_each_runs_most_predicted_classes():
    labels = list(range(20)) * 2
    piled = [3] * 20 + list(range(20))
    pairs = [_ic(20, 0.3, 0, 0.5, preds=piled, labels=labels, max_entry=0.3)]
    t = C.pileup_table(_col(pairs), _col([]))
    r = t.iloc[0]
    assert r["top1"] == pytest.approx(21 / 40) and r["unused"] == 0
    assert C.confusion(_col(pairs), _col([]), 20, 0.3)[0, 3] == pytest.approx(0.5)


def test_pileup_table_without_runs_at_that_class_count_is_an_empty_table_the_book_can_show():
    t = C.pileup_table(_col([_ic(2, 0.0, 0, 1.0, labels=[0, 1], preds=[0, 1])]), _col([]), k=20)
    assert len(t) == 0
    assert list(public(t).columns)[:2] == ["training data", "σ"]


def test_the_uniform_vector_rmse_is_the_tables_random_row():
    assert [round(C.uniform_rmse(k), 2) for k in (2, 4, 20)] == [0.5, 0.43, 0.22]


def test_heatmap_calibration_shows_the_offset_cannot_tell_a_centred_vertical_boundary_from_the_diagonal():
    t = C.heatmap_calibration().set_index("boundary")
    diag, vert = t.loc["on the diagonal"], t.loc["vertical, centred ('b' below 0.5)"]
    assert diag.agreement == 1.0 and vert.agreement < 0.8
    assert diag.offset == pytest.approx(vert.offset)
    assert t.loc["always 'a'", "agreement"] == 0.5


def test_early_best_models_lists_models_whose_kept_epoch_is_in_the_first_tenth():
    early = _model(2, None, 1, [0.5] + [1e-6] + [1e-6] * 98, variant="sparse4", kind="train_fwd")
    late = _model(2, None, 2, [0.5 - 0.004 * e for e in range(100)], variant="sparse4", kind="train_fwd")
    for _, rec in (early, late):
        rec["result"].update(accuracy=0.9, accuracy_strict=0.88)
    t = C.early_best_models(_col([early, late]))
    assert list(t.instance) == [1] and public(t).iloc[0]["kept epoch"] == "2"
    assert public(t).iloc[0]["test accuracy (argmax | strict rule)"] == "0.90 | 0.88"


def test_the_sentences_follow_the_state_of_the_runs():
    mb = [_ic(2, 0.2, s, a) for s, a in enumerate([0.42, 1.0, 1.0, 0.97, 0.45])]
    b1 = [_ic(2, 0.2, s, a, batch=1) for s, a in enumerate([0.97, 0.85, 1.0, 1.0, 0.99])]
    assert C.protocol_finding(C.protocol_effect(_col(mb), _col(b1[:3])), 5).startswith("So far 3 of 5")
    done = C.protocol_finding(C.protocol_effect(_col(mb), _col(b1)), 5)
    assert "Over all 5 instances" in done and "cannot tell" in done and "0 batch-1 and 2 minibatch" in done
    assert C.sensitivity_finding(None).endswith("has not run yet.")
    row = {"k": 20, "variant": "sparse1", "n_control": 0, "n_fixed": 5}
    assert "has not run yet" in C.sparse_control_finding(pd.Series(row))
    assert "So far 2 of 5" in C.sparse_control_finding(pd.Series({**row, "n_control": 2, "ic_control_n": 2,
                                                                  "effect_verdict": V.PENDING}))


def test_revision_cost_counts_only_the_jobs_the_revision_added():
    pairs = [_model(2, 0.2, s, [1.0, 0.5], batch_size=1) for s in range(5)]
    for i, (_, rec) in enumerate(pairs):
        rec["cpu_time_s"] = 3600.0 * (i + 1)
    protocol = Collected("paper", [j for j, _ in pairs], {j.key: r for j, r in pairs[:4]})
    cost = C.revision_cost(protocol, _col([]), _col([]))
    assert cost["spent_h"] == pytest.approx(4.0)                # instance 3 only: 0–2 are the first check's
    assert cost["to_go_h"] == pytest.approx(pairs[4][0].cost_s / 3600) and set(cost) == {"spent_h", "to_go_h"}


def test_the_control_reading_follows_its_two_paired_verdicts():
    row = pd.Series({"vx_control_mean": 0.86, "centre_mean": 0.87, "centre_std": 0.03, "centre_n": 5,
                     "vx_effect_verdict": V.HIGHER, "effect_verdict": V.INCONCLUSIVE, "effect_hi": 0.13,
                     "vx_control_std": 0.03, "vx_control_n": 5,
                     "ic_control_mean": 0.25, "ic_control_std": 0.07, "ic_control_n": 5})
    assert "most of the accuracy is lost in the inversion" in C._control_reading(row)
    assert "no more than the data can tell (at most +0.13)" in C._control_reading(row)
    assert "does not gain" in C._control_reading(row.copy().replace({V.INCONCLUSIVE: V.EQUIVALENT}))
    assert "about as well as the nearest centre" in C._control_reading(row)
    assert "hold more of the classes" in C._control_reading(row.copy().replace({0.86: 0.7}))
    assert "part of the first result was under-training" in C._control_reading(
        row.copy().replace({V.INCONCLUSIVE: V.HIGHER}))
    neither = row.copy()
    neither["vx_effect_verdict"] = V.INCONCLUSIVE
    assert "Neither" in C._control_reading(neither)
