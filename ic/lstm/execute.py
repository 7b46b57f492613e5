"""How each job kind of the LSTM study is computed (:mod:`ic.lstm.jobs` defines them)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..data.subsets import train_test_split_indices
from ..engine import (ICConfig, class_only_generator, class_only_groups, decode_at_vertices, invert,
                      invert_multistart, mse_per_probe, nearest_prototype)
from ..seeding import seed_everything
from ..store import Job
from ..train import fit
from .data import fit_config_for, load_data, make_split, probe_split, training_set
from .heatmap import boundary_offset, choose_target, diagonal_agreement, dtw_distance, grid_vectors, mse_distance
from .jobs import IC_LOSSES, STARTS
from .models import ForwardLSTM, GenerativeLSTM


def _onehot(y: np.ndarray, k: int) -> torch.Tensor:
    return F.one_hot(torch.as_tensor(y), k).float()


def _train_generator(job: Job, ctx) -> dict:
    c = job.config
    split = make_split(load_data(), c["k"], c["split_seed"])
    X, y = training_set(split, c["variant"], seed=c["split_seed"])
    cfg = fit_config_for(c, len(split.y_train), len(y))
    gen = seed_everything(job.seed)
    model = GenerativeLSTM(c["k"], hidden=c["hidden"])
    noise_gen = torch.Generator()
    noise_gen.manual_seed(10_000 + job.seed)
    sigma, renorm = c["sigma"], c["renormalise"]

    def loss_fn(m, batch):
        cls, target = batch
        inp = m.noisy_input_sequence(cls, sigma if m.training else 0.0, renorm, generator=noise_gen)
        return ((m(inp) - target) ** 2).mean()

    hist = fit(model, (_onehot(y, c["k"]), torch.as_tensor(X)), loss_fn, cfg, seed=int(gen.initial_seed()),
               device=ctx.device)
    sha = ctx.weights_cache.save(job, {"state_dict": model.cpu().state_dict(), "k": c["k"], "hidden": c["hidden"]})
    with torch.no_grad():
        clean = float(((model(model.input_sequence(_onehot(y, c["k"]))) - torch.as_tensor(X)) ** 2).mean())
    return {"fit": hist.to_dict(), "fit_config": cfg.to_dict(), "n_train": int(len(y)),
            "n_train_split": int(len(split.y_train)), "n_test": int(len(split.y_test)),
            "train_mse_clean_inputs": clean, "sequences_per_s": hist.sequences_seen / max(hist.seconds, 1e-9),
            "weights_sha256": sha}


def load_generator(job: Job, ctx) -> GenerativeLSTM:
    state = ctx.weights(job)
    model = GenerativeLSTM(state["k"], hidden=state["hidden"])
    model.load_state_dict(state["state_dict"])
    model.eval()
    for prm in model.parameters():
        prm.requires_grad_(False)
    return model.to(ctx.device)


def _generator_of(job: Job, ctx) -> tuple[Job, GenerativeLSTM]:
    """The trained generator a job (IC, heat map, vertex decoding) works on — its declared dep — trained first if
    missing."""
    gens = [d for d in job.deps if d.kind == "train_gen"]
    if len(gens) != 1 or gens[0].key != job.config["generator"]:
        raise RuntimeError(f"Job {job.key} ({job.describe()}) does not declare its generator "
                           f"{job.config['generator']} as its one train_gen dep; build it with ic.lstm.jobs.")
    ctx.require(gens[0])
    return gens[0], load_generator(gens[0], ctx)


def ic_loss(name: str):
    """The per-probe loss of inverse classification: 'mean' — MSE over all T × 2 elements (ours); 'sum_over_time'
    — the per-step MSE summed over the T time steps, as the thesis's code (T times the mean)."""
    if name == "mean":
        return mse_per_probe
    if name == "sum_over_time":
        return lambda output, target: mse_per_probe(output, target) * output.shape[1]
    raise ValueError(f"Unknown IC loss {name!r}: use one of {', '.join(IC_LOSSES)}.")


def _scores(pred: np.ndarray, y: np.ndarray) -> dict:
    """Accuracy on the whole test split and on its first 250 samples (the thesis's 20-class subset)."""
    correct = pred == y
    return {"accuracy": float(correct.mean()), "n_test": int(len(y)),
            "accuracy_first250": float(correct[:250].mean()), "n_first250": int(min(250, len(y))),
            "predictions": pred.tolist(), "labels": y.tolist()}


def _inverse_classify(job: Job, ctx) -> dict:
    gen_job_, model = _generator_of(job, ctx)
    c, gc = job.config, gen_job_.config
    _, X, y = probe_split(gc["k"], gc["split_seed"], c["max_test"])
    cfg = ICConfig(iterations=c["iterations"], lr=c["lr"], optimizer=c["optimizer"])
    generator, probes = class_only_generator(model.generate), torch.as_tensor(X, device=ctx.device)
    starts, loss_fn = c.get("starts", "uniform"), ic_loss(c.get("loss", "mean"))
    extra = {}
    if starts == "uniform":
        res = invert(generator, probes, class_only_groups(gc["k"]), cfg, seed=job.seed, loss_fn=loss_fn)
    elif starts == "uniform+vertices":
        res = invert_multistart(generator, probes, [class_only_groups(gc["k"])] +
                                [class_only_groups(gc["k"], start=j) for j in range(gc["k"])], cfg, seed=job.seed,
                                loss_fn=loss_fn)
        per_start = res.extras["predictions_per_start"].numpy()
        wins = res.extras["start_index"].numpy()
        extra = {"starts": ["uniform"] + [f"vertex {j}" for j in range(gc["k"])],
                 "accuracy_per_start": [float((ps == y).mean()) for ps in per_start],
                 "start_won": [float((wins == s).mean()) for s in range(len(per_start))],
                 "start_index": wins.tolist()}
    else:
        raise ValueError(f"Unknown start rule {starts!r}: use one of {', '.join(STARTS)}.")
    pred = res.predictions.numpy()
    vec = res.inputs["class"]
    rmse = torch.sqrt(((vec - _onehot(y, gc["k"])) ** 2).mean(dim=1))
    return {**_scores(pred, y), "rmse_mean": float(rmse.mean()),
            "max_entry_mean": float(vec.max(dim=1).values.mean()),
            "loss_curve_mean": [float(f"{v:.6g}") for v in res.loss_history.mean(dim=1).tolist()],
            "final_loss_mean": float(res.final_loss.mean()), **extra}


def _decode_vertices(job: Job, ctx) -> dict:
    gen_job_, model = _generator_of(job, ctx)
    k = gen_job_.config["k"]
    _, X, y = probe_split(k, gen_job_.config["split_seed"], job.config["max_test"])
    pred, losses = decode_at_vertices(model.generate, torch.as_tensor(X, device=ctx.device), k)
    return {**_scores(pred.cpu().numpy(), y), "loss_mean": float(losses.min(dim=1).values.mean())}


def _nearest_centre(job: Job, ctx) -> dict:
    c = job.config
    split, X, y = probe_split(c["k"], c["split_seed"], c["max_test"])
    centres, labels = training_set(split, c["variant"], seed=c["split_seed"])
    idx, _ = nearest_prototype(torch.as_tensor(centres), torch.as_tensor(X))
    return {**_scores(labels[idx.numpy()], y), "n_centres": int(len(labels))}


def _heatmap(job: Job, ctx) -> dict:
    gen_job_, model = _generator_of(job, ctx)
    gc = gen_job_.config
    if gc["k"] != 2:
        raise ValueError("heat maps are defined for 2-class generators only")
    split = make_split(load_data(), 2, gc["split_seed"])
    steps = job.config["steps"]
    grid = grid_vectors(steps)
    with torch.no_grad():
        out = model.generate(grid.to(ctx.device)).cpu()
    maps, targets = {}, {}
    for cls, name in ((0, "a"), (1, "b")):
        test_idx = np.where(split.y_test == cls)[0]
        t = test_idx[choose_target(split.X_test[test_idx], split.X_train[split.y_train == cls])]
        targets[name] = int(t)
        target = torch.as_tensor(split.X_test[t])
        maps[f"dtw_{name}"] = dtw_distance(out, target).reshape(steps, steps).numpy()
        maps[f"mse_{name}"] = mse_distance(out, target).reshape(steps, steps).numpy()
    result = {k: np.round(v, 5).tolist() for k, v in maps.items()}
    result.update({"target_test_index": targets,
                   "diagonal_agreement_dtw": diagonal_agreement(maps["dtw_a"], maps["dtw_b"]),
                   "diagonal_agreement_mse": diagonal_agreement(maps["mse_a"], maps["mse_b"]),
                   "boundary_offset_dtw": boundary_offset(maps["dtw_a"], maps["dtw_b"]),
                   "boundary_offset_mse": boundary_offset(maps["mse_a"], maps["mse_b"])})
    return result


def _train_forward(job: Job, ctx) -> dict:
    c = job.config
    if c["variant"] not in ("all", "sparse4"):
        raise ValueError(f"Unknown forward variant {c['variant']!r}: use all or sparse4.")
    split = make_split(load_data(), c["k"], c["split_seed"])
    X, y = training_set(split, c["variant"], seed=c["split_seed"])
    if "train_fraction" in c:         # a stratified part, in the split's order (validation: its last part)
        keep, _ = train_test_split_indices(y, test_fraction=1.0 - c["train_fraction"], seed=c["split_seed"],
                                           stratify=True)
        X, y = X[keep], y[keep]
    cfg = fit_config_for(c, len(split.y_train), len(y))
    gen = seed_everything(job.seed)
    model = ForwardLSTM(c["k"], hidden=c["hidden"])

    def loss_fn(m, batch):
        x, target = batch
        return ((m(x) - target) ** 2).mean()

    hist = fit(model, (torch.as_tensor(X), _onehot(y, c["k"])), loss_fn, cfg, seed=int(gen.initial_seed()),
               device=ctx.device)
    with torch.no_grad():
        prob = model(torch.as_tensor(split.X_test, device=ctx.device)).cpu()
    pred = prob.argmax(dim=1).numpy()
    onehot = _onehot(split.y_test, c["k"])
    strict = (prob.round() == onehot).all(dim=1).numpy()
    return {"fit": hist.to_dict(), "fit_config": cfg.to_dict(), "n_train": int(len(y)), "n_test": int(len(pred)),
            "accuracy": float((pred == split.y_test).mean()), "accuracy_strict": float(strict.mean()),
            "rmse_mean": float(torch.sqrt(((prob - onehot) ** 2).mean(dim=1)).mean()),
            "predictions": pred.tolist(), "labels": split.y_test.tolist()}


HANDLERS = {"train_gen": _train_generator, "ic": _inverse_classify, "heatmap": _heatmap, "train_fwd": _train_forward,
            "vertex": _decode_vertices, "nearest_centre": _nearest_centre}
