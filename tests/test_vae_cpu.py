"""The VAE study's cpu profile (plan keys, reductions, estimate), bf16 scoring against fp32 within the stated
tolerance, the report's tables and figures on synthetic stored scores, and the VAE benchmark's record."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import numpy as np
import pytest

from ic import reference
from ic.report import Collected, public
from ic.vae import codec
from ic.vae import report as R
from ic.vae.profiles import PROFILES
from ic.vae.study import STUDY

#: SHA-256 of the sorted job keys of each profile's plan: a changed key orphans stored results (bump the job's
#: version on purpose, and update the digest, or keep the key)
PLAN_DIGESTS = {
    "cpu": (118, "5f8f9b7f92decba23a51272ecd145919df7a50c340c20840ba4bc7ee2ecd2c23"),
    "paper": (180, "c5f12e285a280c7f634916d5c9b74d7a725796f7707b9f11a559fd89f525494c"),
}


def _digest(keys) -> str:
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()


@pytest.mark.parametrize("profile", ["cpu", "paper"])
def test_plan_keys_are_unique_and_stable(profile):
    keys = [j.key for j in STUDY.plan(profile)]
    assert len(keys) == len(set(keys))
    n, digest = PLAN_DIGESTS[profile]
    assert (len(keys), _digest(keys)) == (n, digest)


def test_cpu_profile_keeps_the_main_tables_and_reduces_the_rest_within_six_hours():
    parts, plan = STUDY.parts("cpu"), STUDY.plan("cpu")
    control = parts["training cap"]
    in_control = {j.key for j in control}
    hours = sum(j.cost_s for j in plan if j.key not in in_control) / 3600
    assert 5.5 <= hours <= 6.5
    assert sum(j.cost_s for j in control) / 3600 < 1.5            # the control of the cap, on top of the six hours
    scores = [j for j in plan if j.kind == "score"]
    assert all(j.config["precision"] == "bf16" and j.config["samples"] == 300 for j in scores)
    assert all(j.config["train"]["max_rounds"] == 20 for j in plan if j.kind == "train" and j.key not in in_control)
    # the control: Table I's main configuration with the paper profile's budget, its own keys, scored like Table I
    trained = [j for j in control if j.kind == "train"]
    assert {j.seed for j in trained} == {0, 1, 2} and {j.config["train"]["max_rounds"] for j in trained} == {100}
    assert not in_control & {j.key for j in parts["mnist dim_z"]}
    assert {j.config["test_set"] for j in control if j.kind == "score"} == {"mnist_test"}
    for part in ("mnist dim_z", "fashion dim_z", "unseen rejection"):          # 3 seeds on the full test sets
        ss = [j for j in parts[part] if j.kind == "score"]
        assert {j.seed for j in ss} == {0, 1, 2} and all(j.config["n_probes"] is None for j in ss), part
    for part in ("mnist sigma", "fashion sigma"):                               # one seed, 1 000 probes
        ss = [j for j in parts[part] if j.kind == "score"]
        assert {j.seed for j in ss} == {0} and all(j.config["n_probes"] == 1000 for j in ss), part
        s2 = {(j.deps[0].config["train"]["dim_z"], j.deps[0].config["train"]["sigma2"]) for j in ss}
        assert {s for _, s in s2} == {0.5, 0.75, 1.25, 1.0}
    semi = [j for j in parts["semi-supervised"] if j.kind == "score"]
    assert {j.config["test_set"] for j in semi} == {"mnist_probes"} and {j.seed for j in semi} == {0, 1, 2}


def test_bf16_scores_agree_with_fp32_on_a_trained_model(mirror_dir, monkeypatch):
    """A few training steps on real digits give the scores realistic magnitudes (hundreds of nats, KL 0–100s);
    bf16 scoring with the same noise stays within :data:`ic.vae.scoring.BF16_TOLERANCE` of fp32."""
    from ic.vae.execute import test_images, training_images
    from ic.vae.scoring import precision_agreement, score_probes
    from ic.vae.training import TrainConfig, train_vaes

    monkeypatch.setenv("IC_DATA_DIR", str(mirror_dir))
    images = training_images({"dataset": "mnist", "n_labelled": None, "max_per_class": 64, "models": "per_class"}, 0)
    model, _ = train_vaes(images, TrainConfig(batch_size=32, round_steps=10, max_rounds=2), seed=0)
    x, _, _ = test_images("mnist_test", 10)
    fp32 = score_probes(model, x, samples=50, seed=0, precision="fp32")
    bf16 = score_probes(model, x, samples=50, seed=0, precision="bf16")
    agreement = precision_agreement(fp32, bf16)
    assert agreement["ok"], agreement
    assert float(fp32["mean"].min()) > 20                                     # realistic magnitudes, not ~0


# ------------------------------------------------------------------------------------------- the report
def _record(labels, pred, kl, n_classes=10, rng=None):
    """A stored score record whose class means make ``pred`` the predicted class and ``kl`` the KL."""
    n = len(labels)
    mean = 200.0 + rng.random((n, n_classes)) * 5
    mean[np.arange(n), pred] = 100.0
    s = {"mean": mean, "std": np.full((n, n_classes), 5.0), "median": mean, "min": mean - 10}
    return {"result": {"n_probes": n, "labels": codec.pack(labels, 0), "test_indices": codec.pack(np.arange(n), 0),
                       "scores": {k: codec.pack(v, 2) for k, v in s.items()},
                       "kl": {e: codec.pack(kl, 3) for e in ("gaussian", "histogram", "kde")}},
            "cpu_time_s": 1.0, "environment": {"device": "cpu"}}


def _synthetic(profile, accuracy: dict, n: int = 10_000, seed: int = 0) -> Collected:
    """Every score job of ``profile`` with synthetic scores: accuracy ``accuracy.get(dim_z, 0.9)`` without
    rejection, the correct probes with KL 50, the wrong ones with KL 0.5."""
    rng = np.random.default_rng(seed)
    jobs = STUDY.plan(profile)
    records = {}
    for j in jobs:
        if j.kind != "score":
            continue
        m = j.config["n_probes"] or n
        labels = rng.integers(0, 10, m)
        n_ok = int(round(accuracy.get(j.deps[0].config["train"]["dim_z"], 0.9) * m))
        pred = labels.copy()
        pred[n_ok:] = (labels[n_ok:] + 1) % 10
        kl = np.where(pred == labels, 50.0, 0.5)
        records[j.key] = _record(labels, pred, kl, rng=rng)
    return Collected("cpu", jobs, records)


def test_table_i_from_synthetic_scores_and_its_verdicts():
    p = replace(PROFILES["cpu"], name="cpu")
    src = reference.VAE_TABLE_I
    col = _synthetic(p, {15: src[15][0][0] / 100, 10: 0.90})
    table = R.dimz_table(col, "mnist", p).set_index(["dim_z", "thr"])
    row = table.loc[(15, 0.0)]
    assert row["acc_mean"] == pytest.approx(98.27) and row["acc_n"] == 3 and row["acc_std"] == 0
    assert row["acc_verdict"] == "reproduced"                          # the source's number on the nose
    assert table.loc[(10, 0.0), "acc_verdict"] == "not reproduced"     # 8 points off, every seed
    # Thr 1 rejects exactly the wrong probes (KL 0.5): 100 % of the kept are correct, nothing correct rejected
    assert table.loc[(15, 1.0), "acc_mean"] == pytest.approx(100) and table.loc[(15, 1.0), "p_miss_mean"] == 0
    shown = public(table.reset_index())
    assert len(shown) == len(table) and "Acc verdict" in shown.columns


def test_sigma_unseen_semi_and_figure_functions_on_synthetic_scores():
    p = PROFILES["cpu"]
    col = _synthetic(p, {15: 0.98})
    sig = R.sigma_table(col, "mnist", p)
    assert len(sig) == 3 * 4 and set(sig["acc_n"]) == {1}
    assert np.allclose(sig.loc[sig.dim_z == 15, "acc_mean"], 98.0)
    # σ² ≠ 1 against σ² 1 on the same 1 000 probes (Table I's full-test scores are not mixed in)
    assert set(sig.acc_verdict) <= {"reproduced", "not reproduced", "partly", "inconclusive", "—"}
    nums = R.sigma_numbers(sig, "s")
    # synthetic: dim_z 15 gets its first 98 % of probes right (others 90 %), so σ² changes nothing, probe by probe
    assert nums == {"s_acc_range": "90.00 to 98.00", "s_cells": "9", "s_resolved": "0", "s_range": "+0.00 to +0.00",
                    "s_halfwidth": "0.00"}
    assert set(R.sigma_numbers(sig.iloc[:0], "s").values()) == {"not run yet"}
    assert R.probe_set_spread(col, p) == "0.00"             # every seed 98.0 % on the probe set
    # Table III reads the whole Fashion-MNIST test set only, never the σ² table's 1 000-image subset of it
    frame = R.rejection_frame(col, "fashion_mnist", [0])
    assert set(frame.n_probes) == {10_000} and len(frame) == 3 * len(p.fmnist_dims)
    assert len(R.scores(col, dataset="fashion_mnist", test_set="fashion_mnist_test", dim_z=20, sigma2=1.0,
                        n_labelled=None)) == 3
    tk = R.test_only_kl_scale(col, p)
    assert list(tk.group) == [f"σ² {s:g} at test" for s in (0.5, 0.75, 1.0, 1.25)] and set(tk.kl_n) == {3}
    to = R.test_only_numbers(R.test_only_sigma_table(col, p))
    assert to["vae_to_acc_range"] == "98.00 to 98.00" and (to["vae_to_sigma_low"], to["vae_to_sigma_high"]) == ("0.5",
                                                                                                              "1.25")
    unseen = R.unseen_table(col, p).set_index("thr")
    # synthetic Fashion-MNIST probes: 98 % have KL 50 (kept) at every threshold in (0.5, 50]
    assert unseen.loc[10.0, "rejection_mean"] == pytest.approx(2.0) and unseen.loc[10.0, "rejection_n"] == 3
    semi = R.semi_table(col, p).set_index("n_labelled")
    assert semi.loc["supervised", "error_mean"] == pytest.approx(2.0) and semi.loc["supervised", "error_n"] == 3
    quoted = R.semi_numbers(semi.reset_index())
    assert quoted["vae_semi_supervised"].startswith("2.00 ± 0.00") and "vae_semi_600_verdict" in quoted
    assert R.auroc_table(col, p)["auroc_n"].tolist() == [3, 3, 3, 3]
    for fig in (R.coverage_figure(col, p), R.kl_figure(col, "mnist", 15, 0, p.mnist_thresholds)):
        assert len(fig.axes) >= 1


def test_claims_and_the_matched_table_on_synthetic_scores():
    p = replace(PROFILES["cpu"], name="cpu")
    src = reference.VAE_TABLE_I
    col = _synthetic(p, {15: src[15][0][0] / 100, 10: 0.90})
    claims = R.claims_frame(col, p).set_index("claim")
    assert len(claims) == 11 and "not judged yet" not in set(claims.verdict)
    assert claims.loc["MNIST without rejection (dim_z 15): 98.3 %", "verdict"] == "reproduced"
    assert claims.loc["dim_z 15 is the best latent size (MNIST)", "verdict"] == "supports"       # 98.27 vs 90
    # synthetic: every correct probe has KL 50, so nothing correct is rejected: P_miss 0, not the source's 0.048
    assert claims.loc["P_miss at Thr 10: 0.048", "verdict"] == "not reproduced"
    assert claims.loc["Fashion-MNIST: dim_z 20 beats dim_z 15", "verdict"] == "contradicts"
    empty = R.claims_frame(Collected("cpu", STUDY.plan(p), {}), p)
    assert set(empty.verdict) == {"not judged yet"} and len(empty) == 11
    matched = R.matched_table(col, "mnist", p).set_index(["dim_z", "source_thr"])
    # synthetic: the wrong probes (KL 0.5) go first, at no miss, so every operating point keeps only correct ones
    assert matched["acc_mean"].dropna().eq(100).all()
    assert matched.loc[(15, 10.0), "rejection_mean"] == pytest.approx(100 - src[15][0][0], abs=0.01)
    assert matched.loc[(20, 15.0), "skipped"] and not matched.loc[(20, 20.0), "skipped"]   # the printed 0.01
    assert len(public(matched.reset_index())) == len(matched)


def test_kl_variants_and_the_direction_diagnostic():
    s = {"mean": np.array([[3.0, 1.0, 2.0]]), "std": np.array([[1.0, 2.0, 1.0]])}   # first: class 1, second: 2
    v = R.kl_variants(s)
    assert v["forward"][0] == pytest.approx(np.log(0.5) + 5 / 2 - 0.5)          # KL(N(1, 2²) ‖ N(2, 1))
    assert v["backward"][0] == pytest.approx(np.log(2.0) + 2 / 8 - 0.5)         # KL(N(2, 1) ‖ N(1, 2²))
    assert v["symmetric"][0] == pytest.approx(v["forward"][0] + v["backward"][0])
    p = replace(PROFILES["cpu"], name="cpu")
    col = _synthetic(p, {15: 0.98})
    table = R.kl_direction_table(col, p)
    assert list(table.dataset.unique()) == ["MNIST", "Fashion-MNIST"] and len(table) == 6
    # synthetic: nothing correct is ever rejected (huge KL), so our P_miss is 0 and the ratio at its floor
    assert (table.ratio_mean < 0.01).all() and set(table.ratio_n) == {3}
    assert table.loc[table.dataset == "MNIST", "cells"].eq(14).all()             # Table I without its misprint
    cells = R.kl_direction_cells(col, p)
    assert len(cells) == 15 + 15 and cells.forward_mean.eq(0).all()


def test_training_cap_control_table_on_synthetic_scores():
    p = replace(PROFILES["cpu"], name="cpu")
    col = _synthetic(p, {15: 0.98})
    table = R.cap_control_table(col, p).set_index("quantity")
    # both budgets get the same synthetic scores: every paired difference is 0, so 'equivalent'
    assert set(table.verdict) == {"equivalent"} and (table.d == 0).all() and set(table.longer_n) == {3}
    # the longer-trained runs are also judged against the source's Table I value of each quantity
    assert table.loc["Acc % without rejection", "source"] == 98.27
    assert table.loc["P_miss at Thr 10", "source"] == 0.048
    assert not any(v.startswith(("pending", "not run")) for v in table.source_verdict)
    # the KL-scale diagnostic: both budgets have the same synthetic scores, so the same medians, and the KL of
    # the correct probes is the median of the stored KL over the probes the smallest mean classifies correctly
    scale = R.kl_scale_table(col, p)
    assert list(scale.rounds) == [p.max_rounds, p.converge_rounds] and set(scale.kl_n) == {3}
    cols = ["gap_mean", "spread_mean", "spread2_mean", "kl_mean"]
    assert np.allclose(scale[cols].iloc[0], scale[cols].iloc[1]) and (scale.gap_mean > 0).all()
    capped = R.scores(col, dataset="mnist", dim_z=15, n_labelled=None, test_set="mnist_test", max_rounds=p.max_rounds)
    assert scale.kl_mean.iloc[0] == pytest.approx(np.mean([np.median(s["kl_gaussian"][R.correct(s)])
                                                           for _, s in capped]))
    capped_only = Collected("cpu", col.jobs, {k: r for k, r in col.records.items()
                                              if k not in {j.key for j in STUDY.parts(p)["training cap"]}})
    assert set(R.cap_control_table(capped_only, p).verdict) == {"not run yet"}
    # Table I does not take the control's scores
    assert R.dimz_table(col, "mnist", p).set_index(["dim_z", "thr"]).loc[(15, 0.0), "acc_n"] == 3


def test_vae_benchmark_writes_a_record(tmp_path):
    from ic import bench

    rec = bench.run("vae", device="cpu", seconds=0.01, threads=1, record_dir=tmp_path, verbose=False, dim_z=3,
                    batch=4, probes=2, samples=3)
    assert json.loads(next(tmp_path.glob("vae-*-cpu-1t.json")).read_text())["benchmark"] == "vae"
    rows = {r["name"]: r for r in rec["rows"]}
    assert set(rows) == {"train_loop_fp32", "train_batched_fp32", "train_batched_bf16", "score_loop_fp32",
                         "score_batched_fp32", "score_batched_bf16"}
    assert all(r["flops_per_call"] > 0 and r["fraction_of_peak"] > 0 for r in rows.values())
    assert rows["score_batched_fp32"]["extra"]["probes_per_s"] == pytest.approx(rows["score_batched_fp32"]
                                                                                ["throughput"] / 30)
