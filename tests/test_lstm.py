"""Study 1 library code: preprocessing, models, sparse centres, heat-map metrics, the job plan."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from ic.lstm import data, execute, heatmap, jobs, preprocess, sparse, study
from ic.lstm.models import ForwardLSTM, GenerativeLSTM
from ic.lstm.profiles import get_profile
from ic.store import Job


# ------------------------------------------------------------------------------------ preprocessing
def test_positions_are_cumulative_sums_and_force_is_dropped():
    rec = np.array([[1.0, 0.0, 9.0], [1.0, 2.0, 9.0], [0.0, -1.0, 9.0]])
    assert preprocess.pen_positions(rec).tolist() == [[1, 0], [2, 2], [2, 1]]


def test_padding_to_205_repeats_the_last_point():
    pos = np.arange(20, dtype=float).reshape(10, 2)
    padded = preprocess.pad_with_last_point(pos)
    assert padded.shape == (205, 2)
    assert (padded[:10] == pos).all() and (padded[10:] == pos[-1]).all()
    with pytest.raises(ValueError, match="longer"):
        preprocess.pad_with_last_point(np.zeros((206, 2)))


def test_standardisation_is_per_coordinate_over_all_steps():
    rng = np.random.default_rng(0)
    recs = [np.c_[rng.normal(3, 2, (n, 1)), rng.normal(-1, 5, (n, 1)), np.ones((n, 1))] for n in (50, 80, 120)]
    X = preprocess.trajectories(recs)
    std = preprocess.Standardiser.fit(X)
    Z = std.transform(X)
    assert Z.shape == (3, 205, 2)
    assert np.allclose(Z.reshape(-1, 2).mean(0), 0, atol=1e-9) and np.allclose(Z.reshape(-1, 2).std(0), 1)
    assert np.allclose(std.inverse(Z), X)


def test_prepare_on_the_mirror(mirror_dir):
    from ic.data.trajectories import load_character_trajectories

    data = preprocess.prepare(load_character_trajectories(mirror_dir))
    assert data.X.shape == (1429, 205, 2) and data.X.dtype == np.float32
    assert data.n_recordings_for_stats == 2858
    X2, y2 = data.first_classes(2)
    assert sorted(set(y2.tolist())) == [0, 1] and len(y2) == 83 + 84
    # last-point padding survives standardisation: the final steps of a short recording are constant
    short = int(np.argmin([len(s) for s in load_character_trajectories(mirror_dir).sequences]))
    assert np.allclose(data.X[short, -5:], data.X[short, -1])


# ------------------------------------------------------------------------------------ models
def test_generative_lstm_shapes_and_first_step_input():
    m = GenerativeLSTM(4, hidden=8)
    v = torch.tensor([[1.0, 0, 0, 0], [0.2, 0.3, 0.4, 0.1]])
    seq = m.input_sequence(v)
    assert seq.shape == (2, 205, 4) and (seq[:, 1:] == 0).all() and torch.equal(seq[:, 0], v)
    assert m.generate(v).shape == (2, 205, 2)


def test_training_noise_is_clipped_to_unit_interval_everywhere():
    m = GenerativeLSTM(3, hidden=4)
    g = torch.Generator().manual_seed(0)
    noisy = m.noisy_input_sequence(torch.eye(3), sigma=0.4, generator=g)
    assert noisy.min() >= 0 and noisy.max() <= 1
    assert (noisy[:, 1:] > 0).float().mean() > 0.3          # the zero steps get half-normal noise too
    renorm = m.noisy_input_sequence(torch.eye(3), sigma=0.4, renormalise=True, generator=g)
    assert torch.allclose(renorm[:, 0].sum(1), torch.ones(3), atol=1e-5)
    assert torch.equal(m.noisy_input_sequence(torch.eye(3), sigma=0.0), m.input_sequence(torch.eye(3)))


def test_forward_baseline_outputs_class_probabilities():
    f = ForwardLSTM(5, hidden=8)
    p = f(torch.randn(3, 205, 2))
    assert p.shape == (3, 5) and torch.allclose(p.sum(1), torch.ones(3))


def test_keras_style_initialisation():
    m = GenerativeLSTM(2, hidden=6)
    b = m.lstm.bias_ih_l0.detach()
    assert (b[6:12] == 1).all() and (b[:6] == 0).all() and (b[12:] == 0).all()
    w = m.lstm.weight_hh_l0.detach()[:6]
    assert torch.allclose(w @ w.T, torch.eye(6), atol=1e-5)   # orthogonal recurrent kernel per gate


# ------------------------------------------------------------------------------------ sparse centres
def test_sparse_centres_per_class():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 205, 2)).astype(np.float32)
    y = np.repeat([0, 1], 20)
    c1, l1 = sparse.class_centres(X, y, 1)
    assert c1.shape == (2, 205, 2) and l1.tolist() == [0, 1]
    assert np.allclose(c1[0], X[:20].mean(0), atol=1e-5)
    c4, l4 = sparse.class_centres(X, y, 4, seed=3)
    assert c4.shape == (8, 205, 2) and l4.tolist() == [0] * 4 + [1] * 4
    assert np.array_equal(c4, sparse.class_centres(X, y, 4, seed=3)[0])   # deterministic


# ------------------------------------------------------------------------------------ heat maps
def _dtw_reference(a: np.ndarray, b: np.ndarray) -> float:
    n, m = len(a), len(b)
    D = np.full((n + 1, m + 1), np.inf)
    D[0, 0] = 0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            D[i, j] = np.linalg.norm(a[i - 1] - b[j - 1]) + min(D[i - 1, j], D[i, j - 1], D[i - 1, j - 1])
    return D[n, m]


def test_batched_dtw_matches_the_textbook_recursion():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 17, 2))
    y = rng.normal(size=(11, 2))
    got = heatmap.dtw_distance(torch.tensor(x), torch.tensor(y)).numpy()
    assert np.allclose(got, [_dtw_reference(xi, y) for xi in x])
    assert heatmap.dtw_distance(torch.tensor(x[:1]), torch.tensor(x[0])).item() == pytest.approx(0.0)


def test_grid_and_diagonal_metrics():
    g = heatmap.grid_vectors(11)
    assert g.shape == (121, 2) and g[0].tolist() == [0, 0] and g[-1].tolist() == [1, 1]
    assert g[1].tolist() == pytest.approx([0.0, 0.1])         # rows: 'a' entry, columns: 'b' entry
    a, b = np.meshgrid(np.linspace(0, 1, 11), np.linspace(0, 1, 11), indexing="ij")
    ideal_a, ideal_b = 1 - a + b, 1 - b + a                   # nearer to 'a' exactly when a > b
    assert heatmap.diagonal_agreement(ideal_a, ideal_b) == 1.0
    assert abs(heatmap.boundary_offset(ideal_a, ideal_b)) <= 0.05
    vertical_a = np.where(b < 0.5, 0.0, 1.0)                  # 'a' whenever b < 0.5 (the naked panel)
    assert heatmap.diagonal_agreement(vertical_a, 1 - vertical_a) < 0.8
    shifted = (a - b < 0.25)                                  # 'a' only with a lead of > 0.25 (σ 0.1 panel)
    off = heatmap.boundary_offset(shifted.astype(float), 1 - shifted.astype(float))
    assert 0.15 < off < 0.35


# ------------------------------------------------------------------------------------ plan
def test_paper_plan_is_the_sources_protocol(mirror_dir, monkeypatch):
    monkeypatch.setenv("IC_DATA_DIR", str(mirror_dir))
    plan = study.STUDY.plan("paper")
    kinds = {}
    for j in plan:
        kinds[j.kind] = kinds.get(j.kind, 0) + 1
    # 5 σ × 3 k × 5 instances, sparse1/sparse4 × 3 k × 5, 5 batch-1 protocol checks, 3 k × 5 renormalised,
    # 5 20-class sparse1 generators trained to convergence, 10 replicas (2 and 4 classes, σ 0); IC of each, plus
    # multi-start IC of the (2, σ 0 / 0.1 / 0.2) and (4, σ 0) noise-table models, and 500-iteration and summed-loss
    # IC of 3 × 5 generators; decoding at
    # the vertices of the noise-table, sparse and control generators, nearest centre of each sparse training set;
    # the 20-class forward classifier on all data again on half its training split (5)
    assert kinds == {"train_gen": 75 + 30 + 5 + 15 + 5 + 10, "ic": 130 + 4 * 5 + 2 * 15 + 10, "heatmap": 25,
                     "train_fwd": 30 + 5, "vertex": 75 + 30 + 5, "nearest_centre": 30}
    assert len({j.key for j in plan}) == len(plan)
    ic = [j for j in plan if j.kind == "ic"]
    assert {j.config["iterations"] for j in ic} == {200, 500} and {j.config["lr"] for j in ic} == {0.05}
    assert sum(j.config["iterations"] == 500 for j in ic) == 15
    multi = [j for j in ic if "starts" in j.config]
    assert {(j.config["gen_config"]["k"], j.config["gen_config"]["sigma"]) for j in multi} == {
        (2, 0.0), (2, 0.1), (2, 0.2), (4, 0.0)}
    assert {j.config["generator"] for j in multi} <= {j.key for j in plan if j.kind == "train_gen"}
    vertex = [j for j in plan if j.kind == "vertex"]
    assert {j.config["gen_config"]["batch_size"] for j in vertex} == {16}            # no batch-1 or renorm models
    assert not any(j.config["gen_config"]["renormalise"] for j in vertex)
    renorm = [j for j in plan if j.kind == "train_gen" and j.config["renormalise"]]
    assert sorted((j.config["k"], j.config["sigma"]) for j in renorm) == sorted(
        [(2, 0.4)] * 5 + [(4, 0.4)] * 5 + [(20, 0.3)] * 5)              # the best σ per class count
    gens = [j for j in plan if j.kind == "train_gen" and j.config["variant"] != "all"]
    assert {(j.config["k"], j.config["sigma"]) for j in gens} == {(2, 0.4), (4, 0.4), (20, 0.3)}
    assert sum("stop_rule" in j.config for j in gens) == 5
    part = [j for j in plan if "train_fraction" in j.config]
    full = {j.key for j in plan if j.kind == "train_fwd" and j.config["variant"] == "all" and j.config["k"] == 20}
    assert {(j.config["k"], j.config["train_fraction"]) for j in part} == {(20, 0.5)} and len(part) == 5
    # the same instance and split as a full-data forward classifier, only the training fraction differs
    for j in part:
        c = {key: v for key, v in j.config.items() if key != "train_fraction"}
        assert Job(j.study, j.kind, c, seed=j.seed, version=j.version).key in full


def test_a_forward_job_on_part_of_the_data_keeps_the_full_jobs_key_and_checks_its_fraction():
    p, data_id = get_profile("paper"), {"source": "x", "n_labelled": 1}
    full = jobs.fwd_job(p, 20, "all", 0, data_id)
    assert jobs.fwd_job(p, 20, "all", 0, data_id, train_fraction=1.0).key == full.key
    half = jobs.fwd_job(p, 20, "all", 0, data_id, train_fraction=0.5)
    assert half.key != full.key and half.cost_s == pytest.approx(full.cost_s / 2)
    for variant, fraction in (("sparse4", 0.5), ("all", 1.5), ("all", 0.0)):
        with pytest.raises(ValueError, match="train_fraction"):
            jobs.fwd_job(p, 20, variant, 0, data_id, train_fraction=fraction)


def test_forward_classifier_trains_on_a_stratified_half(mirror_dir, monkeypatch):
    """The smoke profile's data-size job: half of every class of the training split, in the split's order."""
    monkeypatch.setenv("IC_DATA_DIR", str(mirror_dir))
    seen = {}

    def fake_fit(model, data, loss_fn, cfg, seed, device):
        seen["X"], seen["onehot"] = data
        raise RuntimeError("stop after the data")

    monkeypatch.setattr(execute, "fit", fake_fit)
    (job,) = [j for j in study.STUDY.parts("smoke")["data_size"] if j.seed == 0]
    with pytest.raises(RuntimeError, match="stop after the data"):
        execute._train_forward(job, SimpleNamespace(device=torch.device("cpu")))
    split = data.make_split(data.load_data(), job.config["k"], job.config["split_seed"])
    y_half = seen["onehot"].argmax(dim=1).numpy()
    for c in range(job.config["k"]):
        n_c = int((split.y_train == c).sum())
        assert abs(int((y_half == c).sum()) - n_c / 2) <= 1
    # rows are training-split rows, in their order
    rows = [int(np.flatnonzero((split.X_train == x.numpy()).all(axis=(1, 2)))[0]) for x in seen["X"]]
    assert rows == sorted(rows) and len(set(rows)) == len(rows)


def test_sparse_models_get_the_all_data_step_budget():
    p = get_profile("paper")
    job = jobs.gen_job(p, 2, 0.4, "all", 0, {"source": "x", "n_labelled": 1})
    all_cfg = data.fit_config_for(job.config, n_all_train=134, n_train=134)
    sparse_job = jobs.gen_job(p, 2, 0.4, "sparse1", 0, {"source": "x", "n_labelled": 1})
    sp = data.fit_config_for(sparse_job.config, n_all_train=134, n_train=2)
    steps_all = all_cfg.epochs * data.steps_per_epoch(134, p.batch_size, p.val_fraction)
    assert sp.max_steps == steps_all and sp.val_fraction == 0.0 and sp.batch_size == p.batch_size
    assert sp.monitor_train and not all_cfg.monitor_train      # best epoch on its own training sequences
    with pytest.raises(ValueError, match="checkpoint rule"):
        data.fit_config_for({**sparse_job.config, "checkpoint": "best"}, n_all_train=134, n_train=2)


def test_twenty_class_all_data_models_stop_early_between_100_and_300_epochs():
    p = get_profile("paper")
    data_id = {"source": "x", "n_labelled": 1}
    for job in (jobs.gen_job(p, 20, 0.3, "all", 0, data_id), jobs.fwd_job(p, 20, "all", 0, data_id)):
        cfg = data.fit_config_for(job.config, n_all_train=1143, n_train=1143)
        assert (cfg.min_epochs, cfg.epochs, cfg.patience, cfg.min_rel_improvement) == (100, 300, 60, 0.01)
    for job in (jobs.fwd_job(p, 20, "sparse4", 0, data_id), jobs.gen_job(p, 20, 0.3, "sparse1", 0, data_id),
                jobs.gen_job(p, 20, 0.0, "all", 0, data_id)):
        assert job.config["lr"] == 1e-3                                             # the thesis's rate
    assert jobs.fwd_job(p, 4, "all", 0, data_id).config["lr"] == p.lr == jobs.gen_job(
        p, 4, 0.3, "all", 0, data_id).config["lr"] == 1e-2
    # 2 and 4 classes and every sparse model keep a fixed schedule (their job keys did not change)
    for job in (jobs.gen_job(p, 4, 0.4, "all", 0, data_id), jobs.gen_job(p, 20, 0.3, "sparse4", 0, data_id)):
        assert "max_epochs" not in job.config
        cfg = data.fit_config_for(job.config, n_all_train=1143, n_train=80)
        assert cfg.patience is None and cfg.min_epochs == 0


def test_unknown_profile_and_variant_are_errors():
    with pytest.raises(ValueError, match="Unknown profile"):
        get_profile("full")
    gen = jobs.gen_job(get_profile("smoke"), 2, 0.0, "all", 0, {"source": "x", "n_labelled": 1})
    with pytest.raises(ValueError, match="start rule"):
        jobs.ic_job(get_profile("smoke"), gen, "vertices")
    with pytest.raises(ValueError, match="variant"):
        data.training_set(data.Split(*(np.zeros((4, 205, 2)), np.zeros(4)) * 2), "sparse9", 0)


def test_unknown_nearest_centre_variant_is_an_error():
    with pytest.raises(ValueError, match="nearest-centre variant"):
        jobs.nearest_centre_job(get_profile("smoke"), 2, "all", 0, {"source": "x", "n_labelled": 1})


# ------------------------------------------------------------------------------------ the study's shape
def test_every_committed_result_is_planned(mirror_dir, monkeypatch):
    """The committed results of the paper profile stay valid: every one of their keys is still in the plan."""
    from ic import paths

    monkeypatch.setenv("IC_DATA_DIR", str(mirror_dir))
    committed = {p.stem for p in (paths.results_root() / "lstm").glob("*.json")}
    if not committed:
        pytest.skip("no committed LSTM results")
    assert committed <= {j.key for j in study.STUDY.plan("paper")}


@pytest.mark.parametrize("profile", ["smoke", "paper"])
def test_plan_is_the_union_of_the_parts_with_every_generator_first(mirror_dir, monkeypatch, profile):
    monkeypatch.setenv("IC_DATA_DIR", str(mirror_dir))
    parts = study.STUDY.parts(profile)
    plan = study.STUDY.plan(profile)
    assert len({j.key for j in plan}) == len(plan)
    assert {j.key for j in plan} == {j.key for part in parts.values() for j in part}
    seen = set()
    for j in plan:
        if j.kind in ("ic", "heatmap", "vertex"):
            (gen,) = j.deps                                     # declared, and the one named in the config
            assert gen.kind == "train_gen" and gen.key == j.config["generator"] and j.group == gen.key
        assert all(d.key in seen for d in j.deps), j.describe()
        seen.add(j.key)
    assert all(j.config["k"] == 2 for j in parts["heatmaps"] for j in j.deps)
    check = get_profile(profile).protocol_check
    protocol_gens = [j for j in parts["protocol"] if j.kind == "train_gen"]
    assert len(protocol_gens) == check.instances
    assert {(j.config["batch_size"], j.config["lr"], j.config["epochs"]) for j in protocol_gens} == {
        (1, 1e-3, check.epochs[check.k])}


def test_profile_settings_are_fields_and_the_thesis_choices_come_from_the_reference_module():
    from ic import reference

    p = get_profile("paper")
    assert p.best_sigma == reference.LSTM_BEST_SIGMA and p.protocol_check.epochs == reference.LSTM_THESIS_EPOCHS
    assert p.lr_for(20) == 1e-3 and p.lr_for(2) == p.lr and p.max_epochs == {20: 300}
    assert [p.split_of(i) for i in range(7)] == [0, 1, 2, 3, 4, 0, 1]


def test_an_inverse_classification_job_without_its_generator_dep_is_an_error():
    gen = jobs.gen_job(get_profile("smoke"), 2, 0.0, "all", 0, {"source": "x", "n_labelled": 1})
    ic = jobs.ic_job(get_profile("smoke"), gen)
    orphan = Job(ic.study, ic.kind, ic.config, seed=ic.seed, version=ic.version)
    assert orphan.key == ic.key
    with pytest.raises(RuntimeError, match="does not declare its generator"):
        execute._inverse_classify(orphan, SimpleNamespace(device=torch.device("cpu")))


def test_a_trained_generator_records_the_sha256_of_its_weights(mirror_dir, monkeypatch, tmp_path):
    from dataclasses import replace

    from ic.store import WeightCache

    monkeypatch.setenv("IC_DATA_DIR", str(mirror_dir))
    p = replace(get_profile("smoke"), hidden=4, epochs={2: 1})
    job = jobs.gen_job(p, 2, 0.2, "all", 0, data.data_identity(data.load_data()))
    cache = WeightCache(tmp_path)
    result = execute._train_generator(job, SimpleNamespace(device=torch.device("cpu"), weights_cache=cache))
    assert result["weights_sha256"] == cache.sha256(job) and len(result["weights_sha256"]) == 64
