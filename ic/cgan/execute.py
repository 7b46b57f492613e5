"""How each job kind of the cGAN study is computed (:mod:`ic.cgan.jobs` defines them)."""

from __future__ import annotations

import base64
import functools
import io
import logging

import numpy as np
import torch
import torch.nn.functional as F

from ..data.mnist import load_mnist
from ..data.probes import mnist_probes
from ..seeding import seed_everything
from ..store import Job
from ..train import FitConfig, fit
from .classifier import SmallCNN, predict
from .inversion import GanICConfig, frozen, invert_gan
from .jobs import VERSIONS
from .models import Generator
from .selection import MIN_DIVERSITY, class_samples, real_diversity, score_generator, select_epoch, should_stop
from .training import GANConfig, GANState, train_epoch

log = logging.getLogger("ic.cgan")


@functools.lru_cache(maxsize=1)
def _train_set() -> tuple[torch.Tensor, torch.Tensor]:
    return load_mnist("train", dtype="float")


def _train_judge(job: Job, ctx) -> dict:
    c = job.config
    x, y = _train_set()
    seed_everything(job.seed)
    model = SmallCNN()
    n_val = c["val_last"]
    cfg = FitConfig(epochs=c["epochs"], batch_size=c["batch_size"], lr=c["lr"], val_fraction=n_val / len(y),
                    max_steps=c["max_steps"])

    def loss_fn(m, batch):
        xb, yb = batch
        return F.cross_entropy(m(xb), yb)

    hist = fit(model, (x, y), loss_fn, cfg, seed=job.seed, device=ctx.device)
    model.cpu()
    sha = ctx.weights_cache.save(job, {"state_dict": model.state_dict()})
    xt, yt = load_mnist("test", dtype="float")
    pred = predict(model, xt)
    return {"fit": hist.to_dict(), "test_accuracy": float((pred == yt).float().mean()), "n_test": int(len(yt)),
            "weights_sha256": sha}


def load_judge(job: Job, ctx) -> SmallCNN:
    state = ctx.weights(job)
    model = SmallCNN()
    model.load_state_dict(state["state_dict"])
    return model.eval()


def _png_grid(images: torch.Tensor, rows: int) -> str:
    """Base64 PNG of images (N, 28, 28) in [0, 1], ``rows`` rows (one per class)."""
    from PIL import Image

    arr = (images.clamp(0, 1).numpy() * 255).round().astype(np.uint8)
    cols = len(arr) // rows
    grid = arr.reshape(rows, cols, 28, 28).transpose(0, 2, 1, 3).reshape(rows * 28, cols * 28)
    buf = io.BytesIO()
    Image.fromarray(grid).save(buf, format="PNG", optimize=True)
    return base64.b64encode(buf.getvalue()).decode()


def _epoch_record(job: Job, ctx, prev: Job | None) -> list[dict]:
    """Records of the epochs before ``job`` (in order), each required first."""
    chain = []
    while prev is not None:
        chain.append(prev)
        prev = next((d for d in prev.deps if d.kind == "gan_epoch"), None)
    return [ctx.require(j)["result"] for j in reversed(chain)]


def _load_state(prev: Job, ctx, cfg: GANConfig) -> GANState:
    """The full training state after ``prev``; rebuilt by re-running that epoch (and, recursively, the ones
    before it) when the cache lost it, and checked against the generator SHA-256 its result recorded."""
    if not ctx.weights_cache.has(prev, "state"):
        log.warning("training state of %s not in the cache: rebuilding it", prev.describe())
        _rebuild(prev, ctx)
    return GANState.from_dict(ctx.weights_cache.load(prev, "state"), cfg)


def _rebuild(job: Job, ctx) -> None:
    """Retrain a stored epoch to recover its checkpoint and training state, with the torch thread count its
    result recorded (epochs of one GAN may have run with different counts)."""
    with ctx.rebuilding(ctx.store.load(job)):
        _gan_epoch(job, ctx, rebuild=True)


def _gan_epoch(job: Job, ctx, rebuild: bool = False) -> dict:
    c = job.config
    cfg = GANConfig(**c["gan"])
    judge_job_ = next(d for d in job.deps if d.kind == "train_judge")
    prev = next((d for d in job.deps if d.kind == "gan_epoch"), None)
    history = _epoch_record(job, ctx, prev)
    stop = c["stop"]
    trained = [r for r in history if r.get("trained", True)]
    if len(trained) < len(history) or (history and should_stop(trained, cap=10**9, **stop)):
        return {"trained": False, "epoch": c["epoch"], "stopped_after_epoch": len(trained) - 1}
    if prev is None:
        state = GANState.fresh(cfg, job.seed)
    else:
        state = _load_state(prev, ctx, cfg)
    if state.epoch != c["epoch"]:
        raise RuntimeError(f"{job.describe()}: the resumed state has {state.epoch} epochs, expected {c['epoch']}")
    x, y = _train_set()
    losses = train_epoch(state, x, y, cfg, device=ctx.device)
    G = state.G
    g_sha = ctx.weights_cache.save(job, {"G": G.state_dict(), "nz": cfg.nz, "epoch": c["epoch"]})
    if rebuild:
        record = ctx.store.load(job)
        stored = record["result"]["generator_sha256"]
        if stored != g_sha:
            raise RuntimeError(
                f"{job.describe()}: the rebuilt generator differs from the one the committed result was computed "
                f"with (SHA-256 {g_sha[:12]}… vs {stored[:12]}…). Rebuilding is exact only with the original's "
                f"torch thread count ({record['environment'].get('torch_threads')}; here "
                f"{torch.get_num_threads()}: use --threads) on the same kind of CPU. Otherwise delete "
                f"{ctx.store.path(job)} and the later epochs' results to retrain, or train on the original machine.")
    ctx.weights_cache.save(job, state.to_dict(), tag="state")
    if prev is not None:
        ctx.weights_cache.delete(prev, "state")       # only the latest full state is kept (≈ 420 MB each)
    if rebuild:
        return {}
    # model selection score and the inverse-classification curve point of this epoch
    judge = load_judge(judge_job_, ctx)
    sel = c["select"]
    real_div = real_diversity(x, y, sel["per_class"], sel["seed"])
    G.eval()
    scores = score_generator(G, judge, real_div, sel["per_class"], sel["seed"], cfg.precision)
    cv = c["curve"]
    probes, labels, _ = mnist_probes(cv["probes"])
    ic_cfg = GanICConfig(alpha=cv["alpha"], late_k=cv["late_k"], iterations=cv["iterations"], bn=cv["bn"],
                         precision=cfg.precision)
    res = invert_gan(G, probes.to(ctx.device), ic_cfg, seed=cv["seed"])
    pred = res.predictions.cpu()
    grid = class_samples(G, 6, sel["seed"] + 1, cfg.precision)
    return {"trained": True, "epoch": c["epoch"], **losses, **scores,
            "curve_ic_accuracy": float((pred == labels).float().mean()), "curve_n": int(len(labels)),
            "curve_final_loss_mean": float(res.final_loss.mean()),
            "sample_grid_png": _png_grid(grid, 10), "generator_sha256": g_sha}


def _training_records(job: Job, ctx) -> list[tuple[Job, dict]]:
    """(epoch job, result) of the GAN a job uses, in epoch order (its deps), each computed first if missing."""
    epochs = [d for d in job.deps if d.kind == "gan_epoch"]
    return [(e, ctx.require(e)["result"]) for e in epochs]


def selected_generator(job: Job, ctx) -> tuple[Job, dict, Generator]:
    """The selected checkpoint of the GAN named by ``job``'s deps: (epoch job, its result, generator)."""
    trained = [(e, r) for e, r in _training_records(job, ctx) if r.get("trained", True)]
    best = select_epoch([r for _, r in trained])
    if best is None:
        raise RuntimeError(f"{job.describe()}: no epoch of this GAN passes the diversity check "
                           f"(diversity >= {MIN_DIVERSITY}); nothing to invert. See the training records.")
    epoch_job_ = next(e for e, r in trained if r is best)
    return epoch_job_, best, load_generator(epoch_job_, ctx)


def _probes(n: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    if n is None:
        x, y = load_mnist("test", dtype="float")
        return x, y
    x, y, _ = mnist_probes(n)
    return x, y


def _ic_config(c: dict) -> GanICConfig:
    return GanICConfig(alpha=c["alpha"], late_k=c["late_k"], iterations=c["iterations"], optimizer=c["optimizer"],
                       bn=c["bn"], precision=c["precision"])


def _inverse_classify(job: Job, ctx) -> dict:
    c = job.config
    epoch_job_, sel, G = selected_generator(job, ctx)
    x, y = _probes(c["probes"])
    res = invert_gan(G.to(ctx.device), x.to(ctx.device), _ic_config(c), seed=job.seed, chunk=1000)
    pred = res.predictions.cpu()
    vec = res.inputs["class"]
    return {"accuracy": float((pred == y).float().mean()), "n_probes": int(len(y)),
            "selected_epoch": int(sel["epoch"]), "generator_sha256": sel["generator_sha256"],
            "predictions": pred.tolist(), "labels": y.tolist(),
            "max_entry_mean": float(vec.max(dim=1).values.mean()),
            "final_loss_mean": float(res.final_loss.mean()),
            "loss_curve_mean": [float(f"{v:.6g}") for v in res.loss_history.mean(dim=1).tolist()]}


def _baseline(job: Job, ctx) -> dict:
    c = job.config
    x, y = _probes(c["probes"])
    if c["method"] == "nearest_neighbour":
        xt, yt = _train_set()
        flat = xt.flatten(1)
        sq = (flat * flat).sum(dim=1)
        pred = []
        for i in range(0, len(x), 500):         # chunks of probes bound the distance matrix (500 × 60 000)
            q = x[i:i + 500].flatten(1)
            d = sq.unsqueeze(0) - 2 * q @ flat.T
            pred.append(yt[d.argmin(dim=1)])
        pred = torch.cat(pred)
    elif c["method"] == "small_cnn":
        pred = predict(load_judge(job.deps[0], ctx), x)
    else:
        raise ValueError(f"Unknown baseline {c['method']!r}")
    return {"accuracy": float((pred == y).float().mean()), "n_probes": int(len(y)), "predictions": pred.tolist(),
            "labels": y.tolist()}


def _reconstruct(job: Job, ctx) -> dict:
    c = job.config
    epoch_job_, sel, G = selected_generator(job, ctx)
    x, y = _probes(None)
    x, y = x[:c["n_probes"]], y[:c["n_probes"]]          # the first test images, as the source's figure
    res = invert_gan(G.to(ctx.device), x.to(ctx.device), _ic_config(c), seed=job.seed, record_grad_norms=True)
    with torch.no_grad():
        from .inversion import gan_generator

        recon = gan_generator(frozen(G, c["precision"]), _ic_config(c))(
            {k: v.to(ctx.device) for k, v in res.inputs.items()}).cpu()
    return {"selected_epoch": int(sel["epoch"]), "labels": y.tolist(), "predictions": res.predictions.tolist(),
            "class_vectors": [[round(float(v), 4) for v in row] for row in res.inputs["class"]],
            "probe_png": _png_grid(x, 1), "reconstruction_png": _png_grid(recon, 1),
            "loss_history": [[float(f"{v:.5g}") for v in row] for row in res.loss_history.T.tolist()],
            "grad_norms": {k: [float(f"{v:.5g}") for v in vals] for k, vals in res.extras["grad_norms"].items()}}


def _class_oracle(job: Job, ctx) -> dict:
    c = job.config
    epoch_job_, sel, G = selected_generator(job, ctx)
    x, y = _probes(c["probes"])
    G, x = G.to(ctx.device), x.to(ctx.device)
    free = invert_gan(G, x, _ic_config(c), seed=job.seed, chunk=1000)
    held = invert_gan(G, x, _ic_config(c), seed=job.seed, chunk=1000,
                      fixed_class=F.one_hot(y, 10).float().to(ctx.device))
    return {"selected_epoch": int(sel["epoch"]), "generator_sha256": sel["generator_sha256"],
            "labels": y.tolist(), "predictions": free.predictions.tolist(),
            "final_loss_free": [float(f"{v:.6g}") for v in free.final_loss.tolist()],
            "final_loss_true_class": [float(f"{v:.6g}") for v in held.final_loss.tolist()]}


HANDLERS = {"train_judge": _train_judge, "gan_epoch": _gan_epoch, "ic": _inverse_classify, "baseline": _baseline,
            "reconstruct": _reconstruct, "class_oracle": _class_oracle}
assert set(HANDLERS) == set(VERSIONS)


def load_generator(job: Job, ctx) -> Generator:
    """The generator saved by a ``gan_epoch`` job (rebuilt by retraining when the cache lost it)."""
    if not ctx.weights_cache.has(job):
        _rebuild(job, ctx)
    state = ctx.weights_cache.load(job)
    G = Generator(state["nz"])
    G.load_state_dict(state["G"])
    return G.eval()
