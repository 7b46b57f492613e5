"""The cGAN study: shapes, ghost BatchNorm = the source's loop over batches of 4, frozen weights, the engine's
rate / late-update options, resumable training, the model-selection rule, and the whole plan at smoke scale."""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from ic.cgan.inversion import GanICConfig, frozen, gan_generator, gan_groups, invert_gan
from ic.cgan.models import Discriminator, Generator, ghost_batch_norm
from ic.cgan.selection import select_epoch, should_stop
from ic.cgan.training import GANConfig, GANState, train_epoch


@pytest.fixture(scope="module")
def gen() -> Generator:
    torch.manual_seed(0)
    G = Generator(10)
    with torch.no_grad():              # non-trivial BatchNorm affine parameters and running statistics
        for bn in (G.bn1, G.bn2):
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_()
            bn.running_mean.normal_()
            bn.running_var.uniform_(0.5, 2.0)
    return G


def test_shapes(gen):
    z, c = torch.randn(6, 10), F.one_hot(torch.arange(6) % 10, 10).float()
    x = gen(z, c)
    x = x.detach()
    assert x.shape == (6, 28, 28) and 0 <= float(x.min()) and float(x.max()) <= 1
    assert Discriminator()(x, c).shape == (6,)
    n_params = sum(p.numel() for p in gen.parameters())
    assert n_params == 10 * 1000 + 1000 + (10 + 1000) * 64 * 28 * 28 + 64 * 28 * 28 + 2 * 64 + 64 * 32 * 25 + 32 \
        + 2 * 32 + 32 * 25 + 1


def test_ghost_batch_norm_equals_loop_over_batches_of_4(gen):
    """One tensor of 12 probes with statistics per group of 4 = the source's train-mode generator called on
    three batches of 4, and the running statistics are not touched."""
    z, c = torch.randn(12, 10), torch.rand(12, 10)
    before = gen.bn1.running_mean.clone()
    ghost = gen(z, c, bn_group=4)
    assert torch.equal(gen.bn1.running_mean, before)
    ref_model = Generator(10)
    ref_model.load_state_dict(gen.state_dict())
    ref_model.train()
    loop = torch.cat([ref_model(z[i:i + 4], c[i:i + 4]) for i in range(0, 12, 4)])
    torch.testing.assert_close(ghost, loop, atol=1e-5, rtol=1e-5)
    # and it is not the same as one batch of 12 (the groups matter)
    assert (ghost - ref_model(z, c)).abs().max() > 1e-3
    with pytest.raises(ValueError, match="multiple"):
        ghost_batch_norm(torch.randn(6, 64, 28, 28), gen.bn1, 4)


def _copying_ghost_forward(G, z, c, group):
    """The generator with :func:`ghost_batch_norm` (the transposing reference) in place of its grouped path."""
    h = torch.cat([z, F.relu(G.label_fc(c))], dim=1)
    h = ghost_batch_norm(G.fc(h).view(-1, 64, 28, 28), G.bn1, group)
    h = ghost_batch_norm(G.deconv1(F.relu(h)), G.bn2, group)
    return torch.sigmoid(G.deconv2(F.relu(h))).squeeze(1)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_grouped_forward_equals_the_copying_ghost_batch_norm_bit_for_bit(gen, precision):
    """The generator's copy-free ghost BatchNorm gives the same images and the same input gradients, bit for
    bit, as ghost_batch_norm's transposing version (so stored inversions do not change with it)."""
    from ic.cgan.training import autocast

    G = frozen(gen, precision)
    out, grads = [], []
    for fn in (lambda z, c: G(z, c, bn_group=4), lambda z, c: _copying_ghost_forward(G, z, c, 4)):
        z = torch.randn(24, 10, generator=torch.Generator().manual_seed(1)).requires_grad_()
        c = torch.rand(24, 10, generator=torch.Generator().manual_seed(2)).requires_grad_()
        with autocast(precision, z.device):
            x = fn(z, c).float()
        (x * torch.linspace(0, 1, 784).view(28, 28)).sum().backward()
        out.append(x.detach())
        grads.append((z.grad, c.grad))
    assert torch.equal(out[0], out[1])
    assert torch.equal(grads[0][0], grads[1][0]) and torch.equal(grads[0][1], grads[1][1])
    with pytest.raises(ValueError, match="multiple"):
        G(torch.randn(6, 10), torch.rand(6, 10), bn_group=4)


def test_frozen_generator_keeps_weights_and_statistics(gen):
    state = {k: v.clone() for k, v in gen.state_dict().items()}
    probes = gen(torch.randn(8, 10), F.one_hot(torch.arange(8), 10).float(), bn_group=4).detach()
    invert_gan(gen, probes, GanICConfig(iterations=3, precision="fp32"), seed=0)
    for k, v in gen.state_dict().items():
        assert torch.equal(v, state[k]), k
    fr = frozen(gen, "bf16")
    assert not any(p.requires_grad for p in fr.parameters())
    assert fr.fc.weight.dtype == torch.bfloat16 and fr.bn1.weight.dtype == torch.float32
    assert gen.fc.weight.dtype == torch.float32          # the original is untouched


def _noise_trajectory(G, probes, cfg):
    """The noise after each iteration count 1..iterations (one invert call per count, same seed)."""
    return [invert_gan(G, probes, dataclasses.replace(cfg, iterations=i), seed=3).inputs["noise"]
            for i in range(1, cfg.iterations + 1)]


def test_late_update_freezes_noise_for_k_plus_1_iterations(gen):
    probes = torch.rand(4, 28, 28)
    init = torch.randn(4, 10, generator=torch.Generator().manual_seed(3))
    traj = _noise_trajectory(gen, probes, GanICConfig(iterations=4, late_k=1, precision="fp32"))
    # iterations 0 and 1 (i <= k) leave the noise at its start; iteration 2 moves it
    torch.testing.assert_close(traj[0], init)
    torch.testing.assert_close(traj[1], init)
    assert (traj[2] - init).abs().max() > 1e-3


def test_update_rate_scales_the_noise_step(gen):
    """The source's Adam without bias correction: the first step is lr · sign(g), so α scales it exactly."""
    probes = torch.rand(4, 28, 28)
    init = torch.randn(4, 10, generator=torch.Generator().manual_seed(3))
    steps = {}
    for alpha in (1.0, 0.1):
        out = invert_gan(gen, probes, GanICConfig(iterations=1, alpha=alpha, precision="fp32"), seed=3)
        steps[alpha] = (out.inputs["noise"] - init).abs()
    # m = (1 − β1) g, v = (1 − β2) g²: the step is lr (1 − β1) / √(1 − β2) · sign(g) = 0.05 · sign(g)
    torch.testing.assert_close(steps[1.0], torch.full_like(steps[1.0], 0.05), rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(steps[0.1], 0.1 * steps[1.0], rtol=1e-4, atol=1e-6)


def test_groups_start_as_the_source():
    groups = gan_groups(25, GanICConfig(alpha=0.5, late_k=10))
    cls, noise = groups
    assert torch.allclose(cls.init(3, None), torch.full((3, 10), 0.1))
    assert noise.lr_factor == 0.5 and noise.start_iter == 11 and noise.project is None
    assert noise.init(2, torch.Generator().manual_seed(0)).shape == (2, 25)


def test_eval_mode_differs_from_ghost(gen):
    z, c = torch.randn(8, 10), torch.rand(8, 10)
    ghost = gan_generator(frozen(gen), GanICConfig(bn="ghost4", precision="fp32"))({"noise": z, "class": c})
    ev = gan_generator(frozen(gen), GanICConfig(bn="eval", precision="fp32"))({"noise": z, "class": c})
    assert (ghost - ev).abs().max() > 1e-3
    with pytest.raises(ValueError, match="BatchNorm mode"):
        GanICConfig(bn="train")


def test_training_resumes_exactly():
    """Two epochs in one go = one epoch, a save/restore of the full state, then the second epoch."""
    cfg = GANConfig(nz=10, batch_size=8, max_batches=2, precision="fp32")
    x, y = torch.rand(16, 28, 28), torch.arange(16) % 10
    a = GANState.fresh(cfg, seed=5)
    train_epoch(a, x, y, cfg)
    train_epoch(a, x, y, cfg)
    b = GANState.fresh(cfg, seed=5)
    train_epoch(b, x, y, cfg)
    saved = b.to_dict()
    torch.manual_seed(123)                               # disturb the global generator in between
    c = GANState.from_dict(saved, cfg)
    losses = train_epoch(c, x, y, cfg)
    assert c.epoch == 2 and losses["steps"] == 2
    for k, v in a.G.state_dict().items():
        assert torch.equal(v, c.G.state_dict()[k]), k
    fresh = GANState.fresh(cfg, seed=5)
    assert any(not torch.equal(v, fresh.G.state_dict()[k]) for k, v in c.G.state_dict().items())


def test_selection_rule():
    recs = [{"epoch": 0, "conditioning_score": 0.5, "eligible": True},
            {"epoch": 1, "conditioning_score": 0.9, "eligible": False},      # collapsed: not eligible
            {"epoch": 2, "conditioning_score": 0.7, "eligible": True},
            {"epoch": 3, "conditioning_score": 0.7, "eligible": True}]       # tie: the earliest wins
    assert select_epoch(recs)["epoch"] == 2
    assert select_epoch([{"epoch": 0, "conditioning_score": 1.0, "eligible": False}]) is None
    rule = dict(min_epochs=3, patience=2, min_gain=0.05, cap=10)
    assert not should_stop(recs[:2], **rule)                                 # before min_epochs
    assert not should_stop(recs, **rule)                                     # best at epoch 2, 1 epoch ago
    stalled = recs + [{"epoch": 4, "conditioning_score": 0.74, "eligible": True}]   # +0.04 < min_gain
    assert should_stop(stalled, **rule)
    rising = recs + [{"epoch": 4, "conditioning_score": 0.8, "eligible": True}]
    assert not should_stop(rising, **rule)
    assert should_stop(recs, min_epochs=1, patience=99, min_gain=0.0, cap=4)  # the cap


def test_paper_profile_at_smoke_scale(mirror_dir, tmp_path, monkeypatch):
    """Every job kind of the paper profile's plan (fp32, no early stop, …) runs end to end at tiny sizes."""
    from ic.cgan.profiles import get_profile
    from ic.cgan.study import STUDY
    from ic.runner import Context
    from ic.store import ResultStore, WeightCache

    monkeypatch.setenv("IC_DATA_DIR", str(mirror_dir))
    p = dataclasses.replace(get_profile("paper"), noise_sizes=(25,), batch_size=16, max_batches=2, max_epochs=2,
                            min_epochs=2, patience=2, select_per_class=4, judge_epochs=1, judge_max_steps=3,
                            curve_probes=20, curve_iterations=2, probes=20, repeats=1, iterations=2,
                            update_rates=(1.0, 0.5), late_ks=(2,), ablation_repeats=1)
    ctx = Context(study=STUDY, store=ResultStore(tmp_path / "res"), weights_cache=WeightCache(tmp_path / "w"),
                  device=torch.device("cpu"))
    jobs = STUDY.plan(p)
    kinds = {j.kind for j in jobs}
    assert kinds == {"train_judge", "baseline", "gan_epoch", "ic", "reconstruct", "class_oracle"}
    for j in jobs:
        ctx.require(j)
    ic = [ctx.store.load(j)["result"] for j in jobs if j.kind == "ic"]
    assert all(r["n_probes"] == 20 and len(r["predictions"]) == 20 and r["selected_epoch"] in (0, 1) for r in ic)
    # the oracle's free inversion is the main setting's repeat 0: the same predictions
    oracle = ctx.store.load(next(j for j in jobs if j.kind == "class_oracle"))["result"]
    main0 = next(ctx.store.load(j)["result"] for j in jobs if j.kind == "ic" and j.seed == 0
                 and j.config["alpha"] == 1.0 and j.config["late_k"] == -1 and j.config["bn"] == "ghost4"
                 and j.config["optimizer"] == "source_adam" and j.config["precision"] == p.precision)
    assert oracle["predictions"] == main0["predictions"] and len(oracle["final_loss_true_class"]) == 20
    nn = ctx.store.load(next(j for j in jobs if j.config.get("method") == "nearest_neighbour"))["result"]
    assert nn["accuracy"] > 0.7                          # the nearest neighbour on 20 real probes
    # a new machine: the cache is empty; an inversion whose result is missing rebuilds the GAN's epochs (each
    # checked against its recorded SHA-256), gives the same predictions and records the time of the rebuild
    import shutil

    shutil.rmtree(tmp_path / "w")
    last = [j for j in jobs if j.kind == "ic"][-1]
    before = ctx.store.load(last)["result"]["predictions"]
    ctx.store.path(last).unlink()
    ctx.store._memo.clear()
    again = ctx.require(last)
    assert again["result"]["predictions"] == before and again["rebuild_wall_s"] > 0


def test_the_cpu_profile_caps_the_other_noise_sizes_below_the_main_one():
    from ic.cgan import jobs as J
    from ic.cgan.profiles import epoch_cap, get_profile

    cpu, paper = get_profile("cpu"), get_profile("paper")
    assert [epoch_cap(cpu, nz) for nz in cpu.noise_sizes] == [30, 20, 20, 20, 20]
    assert {epoch_cap(paper, nz) for nz in paper.noise_sizes} == {61}
    assert len(J.training_jobs(cpu, 25)) == 30 and len(J.training_jobs(cpu, 10)) == 20
    # a GAN's inversions name its cap and depend on every epoch job up to it
    assert J.ic_job(cpu, 10).config["generator"]["max_epochs"] == 20 and len(J.ic_job(cpu, 10).deps) == 20
    assert J.ic_job(cpu, 25).config["generator"]["max_epochs"] == 30


def test_setting_texts_name_the_glue_keys_of_every_setting():
    import pandas as pd

    from ic.cgan.report import setting_texts

    table = pd.DataFrame({"late_k": [-1, 10], "ours_n": [3, 0], "ours_mean": [0.7034, float("nan")],
                          "verdict": ["reproduced", "not run yet"]})
    assert setting_texts(table, "late_k", "cgan_late") == {
        "cgan_late_m1": "0.703", "cgan_late_m1_verdict": "reproduced",
        "cgan_late_10": "not run yet", "cgan_late_10_verdict": "not run yet"}
    alpha = pd.DataFrame({"alpha": [0.5], "ours_n": [1], "ours_mean": [0.5], "verdict": ["partly"]})
    assert set(setting_texts(alpha, "alpha", "cgan_alpha")) == {"cgan_alpha_0_5", "cgan_alpha_0_5_verdict"}


def test_ablation_texts_quote_each_difference_and_its_interval():
    import pandas as pd

    from ic.cgan.report import ablation_texts

    table = pd.DataFrame({"change": ["main setting", "BatchNorm with running statistics", "torch's Adam"],
                          "n": [3, 3, 0], "difference": [float("nan"), 0.026, float("nan")],
                          "lo": [float("nan"), 0.0097, float("nan")], "hi": [float("nan"), 0.0423, float("nan")]})
    assert ablation_texts(table) == {"cgan_abl_eval": "+0.026 (+0.010 to +0.042)", "cgan_abl_eval_repeats": "3",
                                     "cgan_abl_adam": "not run yet", "cgan_abl_adam_repeats": "0"}


def test_holding_the_true_class_starts_the_noise_where_the_free_inversion_starts(gen):
    torch.manual_seed(1)
    probes, labels = torch.rand(8, 28, 28), torch.arange(8) % 10
    frozen_noise = GanICConfig(iterations=3, late_k=5, precision="fp32")       # noise never moves: its start
    onehot = F.one_hot(labels, 10).float()
    free = invert_gan(gen, probes, frozen_noise, seed=3)
    held = invert_gan(gen, probes, frozen_noise, seed=3, fixed_class=onehot)
    assert torch.equal(free.inputs["noise"], held.inputs["noise"])              # the same initial noise
    assert torch.equal(held.inputs["class"], onehot) and torch.equal(held.predictions, labels)
    moving = invert_gan(gen, probes, GanICConfig(iterations=3, precision="fp32"), seed=3, fixed_class=onehot)
    assert torch.equal(moving.inputs["class"], onehot) and not torch.equal(moving.inputs["noise"], held.inputs["noise"])
    with pytest.raises(ValueError, match="fixed class vectors for 8 probes"):
        invert_gan(gen, probes[:4], frozen_noise, seed=3, fixed_class=onehot)


def test_oracle_table_splits_by_outcome_and_counts_where_the_true_class_fits_better():
    from ic.cgan.report import oracle_table, oracle_texts

    record = {"labels": [0, 1, 2, 3, 4, 5], "predictions": [0, 1, 2, 9, 9, 9],
              "final_loss_free": [0.01, 0.02, 0.03, 0.01, 0.02, 0.05],
              "final_loss_true_class": [0.01, 0.01, 0.04, 0.02, 0.03, 0.01]}
    t = oracle_table(record).set_index("outcome")
    assert t.loc["misclassified", "n"] == 3 and t.loc["misclassified", "better"] == pytest.approx(100 / 3)
    assert t.loc["classified correctly", "better"] == pytest.approx(100 / 3)          # 0.01 < 0.02 only
    assert 0 <= t.loc["misclassified", "better_lo"] < 100 / 3 < t.loc["misclassified", "better_hi"] <= 100
    assert oracle_texts(t.reset_index())["cgan_oracle_wrong_n"] == "3"
    assert set(oracle_texts(oracle_table(None)).values()) == {"not run yet"}


def test_claim_texts_quote_our_value_with_its_interval_or_say_not_judged():
    import pandas as pd

    from ic.cgan.report import claim_texts, claims_frame

    empty = claims_frame(pd.DataFrame(columns=["nz", "alpha", "late_k"]), pd.DataFrame(), pd.DataFrame(), "cpu")
    texts = claim_texts(empty)
    assert len(texts) == 2 * len(empty) == 14 and set(texts.values()) == {"not judged yet"}
    judged = empty.copy()
    judged.loc[5, ["ours", "95 % interval", "verdict"]] = ["+0.021", "[+0.006, +0.037]", "supports"]
    texts = claim_texts(judged)
    assert texts["cgan_claim_late_10"] == "+0.021 (+0.006 to +0.037)"
    assert texts["cgan_claim_late_10_verdict"] == "supports" and texts["cgan_claim_nearest"] == "not judged yet"


def test_conditioning_milestones_count_epochs_from_one_and_range_the_curve_from_the_tenth():
    import pandas as pd

    from ic.cgan.report import conditioning_milestones

    n = 12
    train = pd.DataFrame({"nz": 25, "label_noise": 0.2, "epoch": range(n), "trained": True,
                          "conditioning": [0.05, 0.02, 0.1, 0.3, 0.6] + [0.9] * (n - 5),
                          "curve_ic": [0.1] * 9 + [0.5, 0.7, 0.6], "curve_n": 200})
    m = conditioning_milestones(train, 25)
    assert m["early"] == "0.10" and m["half"] == "epoch 5" and m["last_epoch"] == "12"
    assert m["late_range"] == "0.50 to 0.70" and m["curve_se"] == f"{(0.6 * 0.4 / 200) ** 0.5:.3f}"
    assert m["late_sd"] == "0.100"
    assert set(conditioning_milestones(train, 10).values()) <= {"—", "not yet"}


def test_each_noise_size_is_inverted_right_after_its_training_and_in_the_same_shard():
    """A GAN's checkpoints live in the machine's cache: its Table 1 runs come next in the plan (not after the
    other GANs' trainings, possibly sessions later) and in its shard."""
    from ic.cgan import jobs as J
    from ic.cgan.profiles import get_profile
    from ic.cgan.study import STUDY
    from ic.runner import in_shard

    p = get_profile("cpu")
    plan = [j.key for j in STUDY.plan("cpu")]
    for nz in p.noise_sizes:
        last_epoch = plan.index(J.training_jobs(p, nz)[-1].key)
        runs = [plan.index(J.ic_job(p, nz, repeat=r).key) for r in range(p.repeats)]
        if nz != p.main_nz:
            assert sorted(runs) == list(range(last_epoch + 1, last_epoch + 1 + p.repeats)), nz
        shard = (0, 2) if in_shard(J.training_jobs(p, nz)[0], (0, 2)) else (1, 2)
        assert all(in_shard(j, shard) for j in [*J.training_jobs(p, nz), *(J.ic_job(p, nz, repeat=r)
                                                                           for r in range(p.repeats))]), nz
    assert {j.key for j in STUDY.parts("cpu")["noise size"]} == {J.ic_job(p, nz, repeat=r).key
                                                                 for nz in p.noise_sizes for r in range(p.repeats)}


def test_cost_by_part_counts_each_job_once_in_its_first_part():
    from ic.cgan import jobs as J
    from ic.cgan.profiles import get_profile
    from ic.cgan.report import cost_by_part
    from ic.cgan.study import STUDY
    from ic.report import Collected

    p = get_profile("cpu")
    plan = STUDY.plan("cpu")
    shared = J.ic_job(p, p.main_nz)                     # Table 2's α 1 = Table 1's noise size 25, repeat 0
    table = cost_by_part(Collected("cpu", plan, {shared.key: {"cpu_time_s": 1800.0}}), "cpu").set_index("part")
    assert table.loc["total", "jobs"] == len(plan) and table.loc["total", "done"] == 1
    assert table.loc["Table 2: update rate", "cpu_h"] == 0.5 and table.loc["Table 1: noise size", "done"] == 0
    assert table.loc["Table 1: noise size", "jobs"] == p.repeats * (len(p.noise_sizes) - 1)
    assert table.loc["GAN training, noise size  10", "jobs"] == 20
    assert list(table.index[:5]) == [f"GAN training, noise size {nz:>3}" for nz in sorted(p.noise_sizes)]


def test_noise_size_table_shows_each_gans_checkpoint_and_refuses_runs_of_another_checkpoint():
    import pandas as pd

    from ic.cgan.report import setting_table
    from ic.report import public

    ic = pd.DataFrame({"nz": [10, 10, 10], "alpha": 1.0, "late_k": -1, "bn": "ghost4", "optimizer": "source_adam",
                       "precision": "bf16", "label_noise": 0.2, "repeat": [0, 1, 2], "accuracy": [0.5, 0.52, 0.51],
                       "n_probes": 1000,
                       "selected_epoch": 11, "predictions": [[0, 1]] * 3, "labels": [[0, 1]] * 3})
    selection = pd.DataFrame({"nz": [10, 100], "label_noise": 0.2, "epochs": [18, 20], "selected_epoch": [11, 4],
                              "conditioning": [0.981, 0.227]})
    shown = public(setting_table(ic, "nz", "cpu", selection)).set_index("noise size")
    assert shown.loc["10", "checkpoint (of epochs trained)"] == "12 of 18" and "(n=3)" in shown.loc["10", "ours"]
    assert shown.loc["100", "checkpoint (of epochs trained)"] == "5 of 20"       # trained, not yet inverted
    assert shown.loc["100", "conditioning score"] == "0.23" and shown.loc["50", "conditioning score"] == "—"
    assert list(shown.columns[:2]) == ["checkpoint (of epochs trained)", "conditioning score"]
    with pytest.raises(ValueError, match="runs used epoch 12, the selection rule now picks epoch 15"):
        setting_table(ic, "nz", "cpu", selection.assign(selected_epoch=[14, 4]))


def test_collapse_facts_say_when_a_generator_collapsed_and_what_the_rule_selected():
    import pandas as pd

    from ic.cgan.report import collapse_facts

    n = 8
    train = pd.DataFrame({"nz": 100, "label_noise": 0.2, "epoch": range(n), "trained": [True] * 7 + [False],
                          "eligible": [True] * 3 + [False] * 5, "conditioning": [0.1, 0.3, 0.2] + [0.1] * 5,
                          "diversity": [0.9, 0.8, 0.85] + [0.1] * 5,
                          "d_fake": [0.3, 0.3, 0.2, 0.01, 0.0001, 0.02, 0.02, 0.0],
                          "d_real": [0.7, 0.7, 0.8, 0.99, 0.9999, 0.98, 0.98, 0.0]})
    assert collapse_facts(train, 100) == {
        "first": "4", "diversity": "0.10", "diversity_before": "0.85", "d_fake": "< 0.001", "d_real": "> 0.999",
        "d_epoch": "5", "recovered": "no", "epochs": "7", "stopped_by_rule": "yes", "selected": "2",
        "selected_score": "0.30"}
    recovered = train.assign(eligible=[True] * 3 + [False] * 2 + [True] * 3, trained=True)
    facts = collapse_facts(recovered, 100)
    assert facts["recovered"] == "after 6 epochs" and facts["stopped_by_rule"] == "no"
    assert collapse_facts(train.assign(eligible=True), 100) is None and collapse_facts(train, 10) is None


def test_the_reports_selected_row_is_the_selection_rules_epoch():
    import pandas as pd

    from ic.cgan.report import selected_row

    records = [{"epoch": e, "conditioning_score": s, "eligible": ok}
               for e, (s, ok) in enumerate([(0.2, True), (0.9, False), (0.5, True), (0.5, True), (0.4, True)])]
    frame = pd.DataFrame(records).rename(columns={"conditioning_score": "conditioning"})
    assert int(selected_row(frame).epoch) == select_epoch(records)["epoch"] == 2      # the earliest on a tie
    assert selected_row(frame.assign(eligible=False)) is None and select_epoch(
        [dict(r, eligible=False) for r in records]) is None


def test_the_label_noise_control_trains_its_own_chain_and_leaves_the_books_keys_as_they_are():
    from ic.cgan import jobs as J
    from ic.cgan.profiles import get_profile
    from ic.cgan.study import STUDY, control_part

    p = get_profile("cpu")
    # the key of a committed result (noise size 50, epoch 3): the control's parameter must not move it
    assert J.epoch_job(p, 50, 2).key == "gan_epoch-ad9be3082da5645a"
    assert J.epoch_job(p, 100, 3).key == J.epoch_job(p, 100, 3, label_noise=0.2).key
    control = J.epoch_job(p, 100, 3, label_noise=0.0)
    assert control.key != J.epoch_job(p, 100, 3).key and control.config["gan"]["label_noise"] == 0.0
    assert control.deps[1].config["gan"]["label_noise"] == 0.0 and control.group == "gan-nz100-nolabelnoise"
    assert "without label noise" in control.label
    assert "label_noise" not in J.ic_job(p, 100).config["generator"]
    run = J.ic_job(p, 100, label_noise=0.0)
    assert run.config["generator"]["label_noise"] == 0.0 and run.deps[0].config["gan"]["label_noise"] == 0.0
    parts = STUDY.parts("cpu")
    mine = {j.key for j in parts[control_part(100)]}
    assert len(mine) == J.epoch_cap(p, 100) + p.repeats
    others = {j.key for name, jobs in parts.items() if name != control_part(100) for j in jobs}
    assert not mine & others


def test_label_noise_table_compares_the_control_with_table_1s_gan_on_the_same_probes():
    import numpy as np
    import pandas as pd

    from ic.cgan.report import label_noise_effect_note, label_noise_table, label_noise_texts
    from ic.report import public

    n = 8
    train = pd.concat([
        pd.DataFrame({"nz": 100, "label_noise": 0.2, "epoch": range(n), "trained": [True] * 7 + [False],
                      "eligible": [True] * 3 + [False] * 5, "conditioning": [0.1, 0.3, 0.2] + [0.1] * 5,
                      "diversity": [0.9, 0.8, 0.85] + [0.1] * 5, "d_fake": 0.3, "d_real": 0.7}),
        pd.DataFrame({"nz": 100, "label_noise": 0.0, "epoch": range(n), "trained": True, "eligible": True,
                      "conditioning": [0.1, 0.5, 0.9, 0.95, 0.97, 0.97, 0.96, 0.97], "diversity": 0.8,
                      "d_fake": 0.3, "d_real": 0.7})])
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 400)

    def runs(sigma, epoch, p_right):
        preds = [np.where(rng.random(400) < p_right, labels, (labels + 1) % 10) for _ in range(3)]
        return pd.DataFrame({"nz": 100, "alpha": 1.0, "late_k": -1, "bn": "ghost4", "optimizer": "source_adam",
                             "precision": "bf16", "label_noise": sigma, "repeat": [0, 1, 2],
                             "accuracy": [float(np.mean(q == labels)) for q in preds], "n_probes": 400,
                             "selected_epoch": epoch, "predictions": preds, "labels": [labels] * 3})

    ic = pd.concat([runs(0.2, 1, 0.15), runs(0.0, 4, 0.65)], ignore_index=True)
    table = label_noise_table(ic, train, "cpu")
    shown = public(table).set_index("label noise")
    assert shown.loc["σ 0.2", "collapsed"] == "after 4 epochs" and "noise size" not in shown
    assert shown.loc["σ 0.2", "checkpoint (of epochs trained)"] == "2 of 7"
    assert shown.loc["none", "collapsed"] == "no"
    assert shown.loc["none", "checkpoint (of epochs trained)"] == "5 of 8"
    texts = label_noise_texts(table)
    assert texts["cgan_nz100_nolabel_effect"].endswith(", higher") and texts["cgan_nz100_nolabel_effect"][0] == "+"
    assert texts["cgan_nz100_nolabel_conditioning"] == "0.97" and texts["cgan_nz100_nolabel_collapsed"] == "no"
    assert texts["cgan_nz100_nolabel_verdict"] in {"reproduced", "not reproduced", "inconclusive"}
    with pytest.raises(ValueError, match="runs used epoch 4, the selection rule now picks epoch 5"):
        label_noise_table(ic.assign(selected_epoch=[1, 1, 1, 3, 3, 3]), train, "cpu")
    pending = label_noise_table(ic[ic.label_noise == 0.2], train, "cpu")
    assert label_noise_texts(pending)["cgan_nz100_nolabel_accuracy"] == "not run yet"
    assert "higher" in label_noise_effect_note(table) and "not measured yet" in label_noise_effect_note(pending)


def test_the_best_size_claim_names_the_noise_sizes_it_still_waits_for():
    import pandas as pd

    from ic.cgan.report import best_size_table

    ic = pd.DataFrame({"nz": [10, 10, 10, 100], "alpha": 1.0, "late_k": -1, "bn": "ghost4",
                       "optimizer": "source_adam", "precision": "bf16", "label_noise": 0.2, "repeat": [0, 1, 2, 0],
                       "accuracy": 0.5, "n_probes": 2, "selected_epoch": 3, "predictions": [[0, 1]] * 4,
                       "labels": [[0, 1]] * 4})
    row = best_size_table(ic, pd.DataFrame(), pd.DataFrame(), "cpu")
    assert len(row) == 1 and row.verdict[0] == "not judged yet"
    assert row.note[0] == "judged once noise sizes 25, 50, 100, 200 have 3 inversions"


def _size_runs(p_right: dict, n: int = 400, seed: int = 0):
    """Three inversions per noise size on the same n probes, each probe right with probability p_right[nz]."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    base = rng.random(n)
    rows = []
    for nz, p in p_right.items():
        for rep in range(3):
            pred = np.where((base + 0.02 * rng.random(n)) < p, labels, (labels + 1) % 10)
            rows.append({"nz": nz, "alpha": 1.0, "late_k": -1, "bn": "ghost4", "optimizer": "source_adam",
                         "precision": "bf16", "label_noise": 0.2, "repeat": rep,
                         "accuracy": float(np.mean(pred == labels)), "n_probes": n, "selected_epoch": 2,
                         "predictions": pred, "labels": labels})
    return pd.DataFrame(rows)


def _trained(conditioning: dict, epochs: int = 12):
    """A finished training (stopped by the rule) per noise size whose best epoch scores conditioning[nz]."""
    import pandas as pd

    return pd.concat([pd.DataFrame({"nz": nz, "label_noise": 0.2, "epoch": range(epochs),
                                    "trained": [True] * (epochs - 1) + [False], "eligible": True,
                                    "conditioning": [c / 2] * 2 + [c] + [c / 2] * (epochs - 3), "diversity": 0.8,
                                    "curve_ic": 0.5, "d_fake": 0.3, "d_real": 0.7}) for nz, c in conditioning.items()],
                     ignore_index=True)


def test_a_noise_size_whose_gan_did_not_learn_its_classes_cannot_support_the_best_size_claim():
    import pandas as pd

    from ic.cgan.report import best_size_table, untrained_sizes

    ic = _size_runs({10: 0.55, 25: 0.75, 50: 0.55, 100: 0.15, 200: 0.55})
    learnt = _trained({10: 0.95, 25: 0.97, 50: 0.99, 100: 0.9, 200: 0.96})
    collapsed = _trained({10: 0.95, 25: 0.97, 50: 0.99, 100: 0.23, 200: 0.96})
    assert untrained_sizes(learnt, "cpu") == {}
    assert list(untrained_sizes(collapsed, "cpu")) == [100] and "0.23" in untrained_sizes(collapsed, "cpu")[100]
    still = collapsed.copy()
    still.loc[still.nz == 100, "trained"] = True           # still training (under its cap): not judged a failure
    assert untrained_sizes(still, "cpu") == {}
    ok = best_size_table(ic, pd.DataFrame(), learnt, "cpu")
    assert ok.verdict[0] == "supports" and (ok.verdict[1:] == "supports").all()
    failed = best_size_table(ic, pd.DataFrame(), collapsed, "cpu").set_index("claim")
    assert failed.verdict.iloc[0] == "inconclusive" and "not testable: nz 100" in failed.note.iloc[0]
    assert failed.loc["nz 25 beats nz 100", "verdict"] == "inconclusive"
    assert "did not learn its classes" in failed.loc["nz 25 beats nz 100", "note"]
    assert (failed.drop(["nz 25 beats nz 100"]).verdict.iloc[1:] == "supports").all()
