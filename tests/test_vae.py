"""The VAE study: batched training = per-class training, scoring = a per-probe loop, the KL rejection on known
Gaussians, the source's metrics on a hand-made example, compact storage, early stopping, the plan, and the whole
smoke plan end to end."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ic.vae import codec
from ic.vae.metrics import at_p_miss, auroc, coverage_curve, predictions, rejection_metrics, rejection_table
from ic.vae.model import ACTIVATIONS, BatchedVAE
from ic.vae.scoring import (gaussian_fit_kl, gaussian_kl, histogram_kl, kde_kl, regeneration_noise, score_probes,
                            summarise)
from ic.vae.training import EarlyStopping, TrainConfig, batched_step, train_vaes


def _tiny(k=10, dim_z=3, hidden=8, seed=0, activation="elu_tanh") -> BatchedVAE:
    return BatchedVAE(k, dim_z, activation, hidden=hidden, generator=torch.Generator().manual_seed(seed))


class ReferenceVAE(nn.Module):
    """One class's VAE written the plain way (nn.Linear layers), loaded from slice k of a BatchedVAE."""

    def __init__(self, batched: BatchedVAE, k: int):
        super().__init__()
        self.dim_z, self.acts = batched.dim_z, ACTIVATIONS[batched.activation]
        self.layers = nn.ModuleDict()
        for name in BatchedVAE.LAYERS:
            w, b = getattr(batched, f"{name}_w")[k], getattr(batched, f"{name}_b")[k, 0]
            lin = nn.Linear(w.shape[0], w.shape[1])
            with torch.no_grad():
                lin.weight.copy_(w.T)
                lin.bias.copy_(b)
            self.layers[name] = lin

    def encode(self, x):
        a1, a2, _, _ = self.acts
        out = self.layers["enc3"](a2(self.layers["enc2"](a1(self.layers["enc1"](x)))))
        return out[:, :self.dim_z], F.softplus(out[:, self.dim_z:]) + 1e-6

    def decode_mean(self, z):
        _, _, a3, a4 = self.acts
        return torch.sigmoid(self.layers["dec3"](a4(self.layers["dec2"](a3(self.layers["dec1"](z))))))

    def loss(self, x, eps, sigma2):
        mu, sigma = self.encode(x)
        y = self.decode_mean(mu + sigma * math.sqrt(sigma2) * eps)
        rec = F.binary_cross_entropy(y, x, reduction="none").sum(1)
        kl = 0.5 * (mu ** 2 + sigma ** 2 - 1 - 2 * torch.log(sigma)).sum(1)
        return (rec + kl).mean()


def test_one_batched_step_equals_ten_per_class_steps():
    """Same initial weights, same batches, same noise: two batched Adam steps on 10 classes give the parameters
    of ten separate per-class VAEs (plain nn.Linear) after two Adam steps each (float64: Adam's first steps are
    ±lr for any gradient, so float32 rounding of a near-zero gradient could flip one)."""
    torch.manual_seed(1)
    model = _tiny().double()
    refs = [ReferenceVAE(model, k).double() for k in range(10)]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ref_opts = [torch.optim.Adam(r.parameters(), lr=1e-3) for r in refs]
    for _ in range(2):
        xb = torch.rand(10, 6, 784, dtype=torch.float64) * (torch.arange(10).view(10, 1, 1) + 1) / 10
        eps = torch.randn(10, 6, 3, dtype=torch.float64)                           # different data per class
        losses = batched_step(model, opt, xb, eps, sigma2=0.5)
        for k, (r, o) in enumerate(zip(refs, ref_opts)):
            loss = r.loss(xb[k], eps[k], 0.5)
            assert float(loss.detach()) == pytest.approx(float(losses[k]), rel=1e-10)
            o.zero_grad()
            loss.backward()
            o.step()
    for k, r in enumerate(refs):
        for name in BatchedVAE.LAYERS:
            torch.testing.assert_close(getattr(model, f"{name}_w")[k], r.layers[name].weight.T, atol=1e-10, rtol=1e-8)
            torch.testing.assert_close(getattr(model, f"{name}_b")[k, 0], r.layers[name].bias, atol=1e-10, rtol=1e-8)


def test_scoring_equals_a_per_probe_loop():
    """Batched scoring (chunks of 3, probes × classes × samples in one graph) = a loop over probes and classes
    with the plain per-class VAEs and the same noise; chunking and the start offset do not change the scores."""
    torch.manual_seed(2)
    model, S = _tiny(), 7
    x = torch.rand(5, 784)
    got = score_probes(model, x, samples=S, sigma2=0.75, seed=3, chunk=3, keep_ce=True)
    refs = [ReferenceVAE(model, k) for k in range(10)]
    ce = torch.zeros(5, 10, S)
    with torch.no_grad():
        for i in range(5):
            eps = regeneration_noise(i, 1, 10, S, 3, seed=3)[0]                       # [K, S, dz]
            for k, r in enumerate(refs):
                mu, sigma = r.encode(x[i:i + 1])
                y = r.decode_mean(mu + sigma * math.sqrt(0.75) * eps[k])           # [S, 784]
                ce[i, k] = F.binary_cross_entropy(y, x[i].expand(S, -1), reduction="none").sum(1)
    torch.testing.assert_close(got["ce"], ce, atol=2e-3, rtol=1e-5)
    ref = summarise(ce)
    for key in ("mean", "std", "median", "min"):
        torch.testing.assert_close(got[key], ref[key], atol=2e-3, rtol=1e-5)
    assert torch.equal(got["best"], ref["best"]) and torch.equal(got["second"], ref["second"])
    torch.testing.assert_close(got["kl_gaussian"], ref["kl_gaussian"], atol=1e-3, rtol=1e-3)
    one = score_probes(model, x, samples=S, sigma2=0.75, seed=3, chunk=1)
    torch.testing.assert_close(one["mean"], got["mean"], atol=1e-4, rtol=0)      # equal up to float rounding
    tail = score_probes(model, x[2:], samples=S, sigma2=0.75, seed=3, first=2)
    torch.testing.assert_close(tail["mean"], got["mean"][2:], atol=1e-4, rtol=0)


def test_noise_does_not_depend_on_how_the_set_is_cut():
    whole = regeneration_noise(0, 250, 2, 3, 2, seed=5)
    torch.testing.assert_close(regeneration_noise(95, 10, 2, 3, 2, seed=5), whole[95:105], atol=0, rtol=0)
    torch.testing.assert_close(regeneration_noise(195, 10, 2, 3, 2, seed=5), whole[195:205], atol=0, rtol=0)
    assert not torch.equal(regeneration_noise(0, 5, 2, 3, 2, seed=6), whole[:5])


def _exact(mean: float, std: float, n: int, seed: int) -> torch.Tensor:
    z = torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return (mean + std * (z - z.mean()) / z.std(correction=0)).float()


def test_kl_of_known_gaussians_and_its_direction():
    # by hand: KL(N(0, 1) ‖ N(1, 2²)) = ln 2 + (1 + 1) / 8 − 1/2 = 0.44315; the reverse = −ln 2 + 5/2 − 1/2 = 1.30685
    assert gaussian_kl(0.0, 1.0, 1.0, 2.0) == pytest.approx(math.log(2) + 0.25 - 0.5)
    assert gaussian_kl(1.0, 2.0, 0.0, 1.0) == pytest.approx(-math.log(2) + 2.0)
    assert gaussian_kl(3.0, 1.5, 3.0, 1.5) == pytest.approx(0.0)
    a, b = _exact(100, 1, 300, 0), _exact(101, 2, 300, 1)
    assert float(gaussian_fit_kl(a[None], b[None])[0]) == pytest.approx(0.44315, abs=1e-4)
    # summarise ranks by the mean and measures KL(best ‖ second): class 3 (mean 100) best, class 5 second
    ce = torch.stack([_exact(150 + k, 1, 300, 10 + k) for k in range(10)])
    ce[3], ce[5] = a, b
    s = summarise(ce[None])
    assert int(s["best"][0]) == 3 and int(s["second"][0]) == 5
    assert float(s["kl_gaussian"][0]) == pytest.approx(0.44315, abs=1e-4)
    # the sensitivity estimators: the KDE approaches the closed form on many samples; both are ≈ 0 for one PDF
    big_a, big_b = _exact(0, 1, 4000, 2), _exact(1, 2, 4000, 3)
    assert float(kde_kl(big_a[None], big_b[None])[0]) == pytest.approx(0.443, abs=0.05)
    assert float(kde_kl(a[None], a[None])[0]) == pytest.approx(0, abs=1e-6)
    assert float(histogram_kl(a[None], a[None])[0]) == pytest.approx(0, abs=1e-9)
    near, far = histogram_kl(a[None], b[None]), histogram_kl(a[None], (b + 10)[None])
    assert 0 < float(near[0]) < float(far[0]) < math.log(2 * 300 / 0.5)


def test_rejection_of_known_gaussians():
    """Probe i's best and second classes have CEs N(100, 1) and N(100 + d_i, 1): KL = d_i² / 2 exactly, so at
    Thr 2 the probes with d < 2 are rejected."""
    d = [0.5, 1.0, 1.9, 2.1, 3.0, 6.0]
    ce = torch.stack([torch.stack([_exact(100, 1, 300, 0), _exact(100 + di, 1, 300, 1)]
                                  + [_exact(200, 1, 300, 2)] * 8) for di in d])
    s = summarise(ce)
    np.testing.assert_allclose(s["kl_gaussian"].numpy(), np.square(d) / 2, rtol=1e-4)
    m = rejection_metrics(s["best"].numpy(), np.zeros(6, dtype=int), s["kl_gaussian"].numpy(), 2.0)
    assert m["n_rejected"] == 3 and m["acc"] == 100.0 and m["p_miss"] == pytest.approx(0.5)


def test_metrics_on_a_hand_made_example():
    pred = [0, 1, 2, 3, 4, 5]
    labels = [0, 1, 2, 0, 0, 5]                 # correct: probes 0, 1, 2, 5
    kl = [10, 0.5, 3, 0.2, 8, 2]
    m = rejection_metrics(pred, labels, kl, 1.0)   # rejected: probes 1 and 3
    assert m["acc"] == pytest.approx(75.0)          # kept 0, 2, 4, 5; correct among them 0, 2, 5
    assert m["p_miss"] == pytest.approx(1 / 6)      # probe 1: correct and rejected
    assert m["rejection"] == pytest.approx(100 * 2 / 6)
    assert rejection_metrics(pred, labels, kl, 2.0)["n_rejected"] == 2     # KL = Thr is classified (Eq. 6)
    none, everything = rejection_table(pred, labels, kl, [0, 100])
    assert none["acc"] == pytest.approx(400 / 6) and none["p_miss"] == 0 and none["rejection"] == 0
    assert everything["acc"] is None and everything["p_miss"] == pytest.approx(4 / 6)
    cov, acc = coverage_curve(pred, labels, kl)
    np.testing.assert_allclose(cov, np.arange(1, 7) / 6)
    np.testing.assert_allclose(acc, [100, 50, 66.66667, 75, 80, 400 / 6], rtol=1e-5)
    cov, acc = coverage_curve([0, 0, 1], [0, 1, 1], [1, 1, 2])                # a tie is kept or dropped whole
    np.testing.assert_allclose(cov, [1 / 3, 1]) and np.testing.assert_allclose(acc, [100, 200 / 3])
    assert auroc([3, 4], [1, 2]) == 1.0 and auroc([1, 2], [3, 4]) == 0.0
    assert auroc([1, 2], [1, 2]) == 0.5 and auroc([2, 2], [1, 2]) == 0.75    # 2 wins and 2 ties of 4 pairs
    s = {"mean": np.array([[3, 1, 2]]), "median": np.array([[1, 3, 2]]), "min": np.array([[2, 3, 1]])}
    assert [int(predictions(s, r)[0]) for r in ("mean", "median", "min")] == [1, 0, 2]
    with pytest.raises(ValueError, match="lengths"):
        rejection_metrics([0, 1], [0], [1, 1], 1)


def test_operating_point_at_a_miss_rate_on_a_hand_made_example():
    pred, labels = [0, 1, 2, 3, 4, 5], [0, 1, 2, 0, 0, 5]        # correct: probes 0, 1, 2, 5
    kl = [10, 0.5, 3, 0.2, 8, 2]                                   # ascending: 3 (wrong), 1, 5, 2, 4 (wrong), 0
    m = at_p_miss(pred, labels, kl, 0.0)          # only the wrong probe 3 can go without a miss
    assert (m["n_rejected"], m["thr"], m["acc"], m["p_miss"]) == (1, 0.5, 80.0, 0.0)
    m = at_p_miss(pred, labels, kl, 1 / 6)        # one miss allowed: probes 3 and 1 go
    assert (m["n_rejected"], m["thr"], m["acc"]) == (2, 2.0, 75.0) and m["p_miss"] == pytest.approx(1 / 6)
    m = at_p_miss(pred, labels, kl, 0.5)          # three misses: 3, 1, 5, 2 and then the wrong 4 go for free
    assert (m["n_rejected"], m["thr"], m["acc"]) == (5, 10.0, 100.0)
    for target in (0.0, 1 / 6, 0.5):              # the operating point is a threshold of rejection_metrics
        m = at_p_miss(pred, labels, kl, target)
        assert rejection_metrics(pred, labels, kl, m["thr"])["n_rejected"] == m["n_rejected"]
    tie = at_p_miss([0, 0, 1], [0, 1, 1], [1, 1, 2], 0.0)     # a tie (one correct, one wrong) goes whole or not
    assert tie["n_rejected"] == 0
    with pytest.raises(ValueError, match="target"):
        at_p_miss(pred, labels, kl, 2.0)


def test_codec_round_trip():
    a = np.array([[123.456, -0.004, 1e4], [7.0, 0.0, -99.999]])
    b = codec.unpack(codec.pack(a, 2))
    np.testing.assert_array_equal(b, np.round(a, 2))
    assert codec.pack([1, 2, 3], 0)["dtype"] == "int8" and codec.pack([1e6], 2)["dtype"] == "int32"
    with pytest.raises(ValueError, match="non-finite"):
        codec.pack([1.0, float("nan")], 2)


def _two_classes(n: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    top = torch.zeros(28, 28)
    top[:14] = 1
    return [(0.9 * top + 0.1 * torch.rand(n, 28, 28, generator=g)).clamp(0, 1),
            (0.9 * top.flip(0) + 0.1 * torch.rand(n, 28, 28, generator=g)).clamp(0, 1)]


def test_training_keeps_each_class_on_its_own_data_and_stops_per_class():
    images = _two_classes(40)
    cfg = TrainConfig(dim_z=2, batch_size=8, round_steps=5, max_rounds=4, patience=10)
    model, hist = train_vaes(images, cfg, seed=0)
    assert hist["n_train"] == [36, 36] and hist["n_held_out"] == [4, 4] and hist["rounds_run"] == 4
    assert hist["steps"] == 20 and len(hist["held_out_loss"]) == 4
    s = score_probes(model, torch.cat([images[0][:5], images[1][:5]]), samples=10)
    assert s["best"].tolist() == [0] * 5 + [1] * 5            # VAE k learnt class k only
    again, hist2 = train_vaes(images, cfg, seed=0)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), again.parameters()))  # seeded
    _, stopped = train_vaes(images, TrainConfig(dim_z=2, batch_size=8, round_steps=2, max_rounds=50, patience=0),
                            seed=0)
    assert stopped["rounds_run"] == 1 and stopped["stopped_round"] == [0, 0] and stopped["best_round"] == [0, 0]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        train_vaes([images[0] * 255], cfg, seed=0)


def test_early_stopping_per_model():
    """Patience 1: model 0 gets worse in round 1 and stops there; its better round 2 comes too late. Model 1 keeps
    improving."""
    stop = EarlyStopping(2, patience=1)
    improved = [stop.update(torch.tensor(v)).tolist() for v in ([5.0, 5.0], [6.0, 4.0], [4.0, 3.0], [3.0, 2.0])]
    assert improved == [[True, True], [False, True], [False, True], [False, True]]
    assert stop.best_round.tolist() == [0, 3] and stop.stopped_round.tolist() == [1, -1]
    assert stop.best_loss.tolist() == [5.0, 2.0] and stop.active.tolist() == [False, True]


def test_training_returns_each_class_at_its_best_round():
    """The best round is chosen per class from the held-out losses, and the returned weights are that round's:
    their held-out loss is the recorded best (not the last round's)."""
    images = _two_classes(30)
    cfg = TrainConfig(dim_z=2, batch_size=8, round_steps=3, max_rounds=6, patience=10, lr=0.05)
    model, hist = train_vaes(images, cfg, seed=1)
    hold = np.array(hist["held_out_loss"])                   # [rounds, K]
    np.testing.assert_array_equal(hist["best_round"], hold.argmin(axis=0))
    np.testing.assert_allclose(hist["best_held_out_loss"], hold.min(axis=0), rtol=1e-5)
    # recompute the held-out loss of the returned weights with the training's own split and noise
    rng = np.random.default_rng(1)
    from ic.vae.training import split_holdout
    splits = [split_holdout(30, 0.1, rng) for _ in range(2)]
    gen = torch.Generator().manual_seed(1)
    BatchedVAE(2, 2, generator=gen)                          # the initialisation draws come first
    eps = torch.randn(2, 3, 2, generator=gen)
    x = torch.stack([im.reshape(30, -1)[torch.from_numpy(ho)] for im, (_, ho) in zip(images, splits)])
    with torch.no_grad():
        loss = model.negative_elbo(x, eps).mean(1)
    np.testing.assert_allclose(loss.numpy(), hist["best_held_out_loss"], rtol=1e-4)


def test_paper_plan_shares_configurations_and_has_three_seeds():
    from ic.vae.study import STUDY

    parts = STUDY.parts("paper")
    plan = STUDY.plan("paper")
    keys = [j.key for j in plan]
    assert len(keys) == len(set(keys))
    pos = {k: i for i, k in enumerate(keys)}
    assert all(pos[d.key] < pos[j.key] for j in plan for d in j.deps)          # deps first
    assert {j.key for p in parts.values() for j in p} <= set(keys)
    trains = [j for j in plan if j.kind == "train"]
    per_config = Counter((j.config["dataset"], j.config["models"], j.config["n_labelled"],
                          j.config["train"]["dim_z"], j.config["train"]["sigma2"]) for j in trains)
    assert all(n == 3 for c, n in per_config.items() if c[1] == "per_class")
    # Tables I (3 dims) + II (9) + III (3) + IV (9) + V (3 N) per-class configurations, and the common VAE
    assert len(per_config) == 3 + 9 + 3 + 9 + 3 + 1
    main = {j.key for j in parts["mnist dim_z"] if j.kind == "train" and j.config["train"]["dim_z"] == 15}
    assert len(main) == 3
    for part in ("semi-supervised", "unseen rejection", "mnist probe set", "test-only sigma"):
        assert {d.key for j in parts[part] for d in j.deps if d.config["n_labelled"] is None} == main, part
    unseen = Counter(j.config["test_set"] for j in parts["unseen rejection"])
    assert unseen == {"mnist_test": 3, "fashion_mnist_test": 3}
    scores = [j for j in plan if j.kind == "score"]
    assert all(j.config["samples"] == 300 and j.config["n_probes"] in (None, 1000) for j in scores)


def test_smoke_plan_end_to_end(mirror_dir, tmp_path, monkeypatch):
    """Every job of the smoke plan runs; the tables come from the stored scores for any threshold."""
    from ic.runner import reproduce
    from ic.store import store_for
    from ic.vae.execute import load_scores
    from ic.vae.study import STUDY

    monkeypatch.setenv("IC_DATA_DIR", str(mirror_dir))
    monkeypatch.setenv("IC_CACHE_DIR", str(tmp_path))
    summary = reproduce("smoke", only="vae", progress=False)
    plan = STUDY.plan("smoke")
    assert summary["ran"] == len(plan)
    store = store_for("smoke")
    assert str(store.root).startswith(str(tmp_path))
    for job in plan:
        result = store.load(job)["result"]
        if job.kind == "score":
            s = load_scores(store.load(job))
            n = job.config["n_probes"] or 20
            assert s["mean"].shape == (n, 10) and s["kl_gaussian"].shape == (n,)
            assert (s["min"] <= s["median"] + 0.011).all() and (s["std"] >= 0).all()
            table = rejection_table(predictions(s), s["labels"], s["kl_gaussian"], [0, 1, 1e9])
            assert table[0]["acc"] == pytest.approx(100 * result["accuracy"]["mean"])
            assert table[2]["rejection"] == 100
        elif job.kind == "examples":
            assert set(result) == {"correct", "rejected"}
            scored = load_scores(store.load(job.deps[1]))
            for ex in result.values():                    # the same 20 CEs per class that the score job summarised
                np.testing.assert_allclose(codec.unpack(ex["ce"]).mean(1), scored["mean"][ex["index"]], atol=0.02)
            assert codec.unpack(result["correct"]["ce"]).shape == (10, 20)
            assert codec.unpack(result["rejected"]["images"]).shape == (3, 784)
        elif job.kind == "filters":
            assert {k: codec.unpack(v).shape for k, v in result.items()} == {k: (4, 784) for k in
                                                                              ("class_0", "class_9", "common")}
        elif job.kind == "train":
            assert len(result["weights_sha256"]) == 64
    probes = next(j for j in plan if j.kind == "score" and j.config["test_set"] == "mnist_probes")
    from ic.data.probes import mnist_probe_indices
    np.testing.assert_array_equal(load_scores(store.load(probes))["test_indices"], mnist_probe_indices(20))
