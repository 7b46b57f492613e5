"""How each job kind of the VAE study is computed (:mod:`ic.vae.jobs` defines them), and how a notebook reads the
stored scores back (:func:`load_scores`)."""

from __future__ import annotations

import numpy as np
import torch

from ..data.mnist import load_fashion_mnist, load_mnist
from ..data.probes import mnist_probes
from ..data.subsets import balanced_labelled
from ..store import Job
from . import codec
from .jobs import VERSIONS
from .metrics import RANKS, predictions
from .model import BatchedVAE
from .scoring import KL_ESTIMATORS, score_probes
from .training import TrainConfig, train_vaes

LOADERS = {"mnist": load_mnist, "fashion_mnist": load_fashion_mnist}
SCORE_DECIMALS = 2          # cross-entropies (nats): far below their Monte-Carlo error over 300 samples (≈ 0.1)
KL_DECIMALS = 3


def training_images(config: dict, seed: int) -> list[torch.Tensor]:
    """The images each model of a ``train`` job learns from: class k's for VAE k (all of them, or the N / 10
    labelled ones drawn with the training seed), or every image for a common VAE; capped by ``max_per_class``."""
    x, y = LOADERS[config["dataset"]]("train", dtype="float")
    if config["n_labelled"] is not None:
        idx = torch.from_numpy(balanced_labelled(y, config["n_labelled"], seed=seed))
        x, y = x[idx], y[idx]
    per_class = [x[y == k] for k in range(10)]
    if config["max_per_class"] is not None:
        per_class = [c[:config["max_per_class"]] for c in per_class]
    return [torch.cat(per_class)] if config["models"] == "common" else per_class


def _train(job: Job, ctx) -> dict:
    c = job.config
    cfg = TrainConfig(**c["train"])
    model, history = train_vaes(training_images(c, job.seed), cfg, job.seed, device=ctx.device)
    model.cpu()
    sha = ctx.weights_cache.save(job, {"state_dict": model.state_dict(), "model": model.config()})
    return {"history": history, "weights_sha256": sha}


def load_model(job: Job, ctx) -> BatchedVAE:
    """The trained BatchedVAE of a ``train`` job (retrained from its seed when the cache lost it)."""
    state = ctx.weights(job)
    m = state["model"]
    model = BatchedVAE(m["n_models"], m["dim_z"], m["activation"], m["hidden"])
    model.load_state_dict(state["state_dict"])
    return model.eval()


def test_images(test_set: str, n: int | None) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """(images, labels, indices into the dataset's test split) of a scored set."""
    if test_set == "mnist_probes":
        return mnist_probes(n)
    loader = load_mnist if test_set == "mnist_test" else load_fashion_mnist
    x, y = loader("test", dtype="float")
    n = len(y) if n is None else n
    return x[:n], y[:n], np.arange(n)


def _score(job: Job, ctx) -> dict:
    c = job.config
    model = load_model(job.deps[0], ctx)
    x, y, idx = test_images(c["test_set"], c["n_probes"])
    s = score_probes(model.to(ctx.device), x.to(ctx.device), samples=c["samples"], sigma2=c["sigma2"],
                     seed=job.seed, precision=c["precision"])
    scores = {k: s[k].cpu().numpy() for k in ("mean", "std", "median", "min")}
    out = {"n_probes": int(len(y)), "labels": codec.pack(y.numpy(), 0), "test_indices": codec.pack(idx, 0),
           "scores": {k: codec.pack(v, SCORE_DECIMALS) for k, v in scores.items()},
           "kl": {e: codec.pack(s[f"kl_{e}"].cpu().numpy(), KL_DECIMALS) for e in KL_ESTIMATORS}}
    out["accuracy"] = {r: float((predictions(scores, r) == y.numpy()).mean()) for r in RANKS}
    return out


def load_scores(record: dict) -> dict[str, np.ndarray]:
    """A ``score`` record's per-probe arrays: ``labels``, ``test_indices``, ``mean``/``std``/``median``/``min``
    ``[N, 10]`` and ``kl_gaussian``/``kl_histogram``/``kl_kde`` ``[N]`` (KL of the best and second class by mean)."""
    r = record["result"]
    out = {"labels": codec.unpack(r["labels"]).astype(np.int64),
           "test_indices": codec.unpack(r["test_indices"]).astype(np.int64)}
    out.update({k: codec.unpack(v) for k, v in r["scores"].items()})
    out.update({f"kl_{e}": codec.unpack(v) for e, v in r["kl"].items()})
    return out


def _pick_examples(s: dict, thr_correct: float, thr_rejected: float) -> dict[str, int]:
    """The rule, fixed in advance: *correct* = the first probe (in set order) classified correctly with
    KL ≥ thr_correct (else the correct probe with the largest KL); *rejected* = the first probe with
    KL < thr_rejected (else the probe with the smallest KL)."""
    pred, kl = predictions(s, "mean"), s["kl_gaussian"]
    correct = pred == s["labels"]
    good = np.flatnonzero(correct & (kl >= thr_correct))
    if len(good):
        i_good = int(good[0])
    elif correct.any():
        i_good = int(np.flatnonzero(correct)[kl[correct].argmax()])
    else:
        i_good = int(kl.argmax())
    bad = np.flatnonzero(kl < thr_rejected)
    return {"correct": i_good, "rejected": int(bad[0]) if len(bad) else int(kl.argmin())}


def _examples(job: Job, ctx) -> dict:
    c = job.config
    model_job, score_job_ = job.deps
    record = ctx.require(score_job_)
    s = load_scores(record)
    sc = score_job_.config
    model = load_model(model_job, ctx)
    x, y, _ = test_images(sc["test_set"], sc["n_probes"])
    picks = _pick_examples(s, c["thr_correct"], c["thr_rejected"])
    out = {}
    for name, i in picks.items():
        # re-score this one probe with its own noise: the same CEs the score job summarised
        full = score_probes(model, x[i:i + 1], samples=sc["samples"], sigma2=sc["sigma2"], seed=score_job_.seed,
                            precision=sc["precision"], keep_ce=True, first=i)
        j = 0
        with torch.no_grad():
            mu, _ = model.encode_all(x[i].reshape(1, -1))
            recon = torch.sigmoid(model.decode_logits(mu))[:, 0]            # [K, 784]: decoded at μ per class
        best, second = int(full["best"][j]), int(full["second"][j])
        out[name] = {"index": i, "label": int(y[i]), "best": best, "second": second,
                     "kl_gaussian": float(full["kl_gaussian"][j]),
                     "ce": codec.pack(full["ce"][j].numpy(), SCORE_DECIMALS),
                     "images": codec.pack(torch.stack([x[i].reshape(-1), recon[best], recon[second]]).numpy(), 3)}
    return out


def _filters(job: Job, ctx) -> dict:
    """The ``n_filters`` rows of the decoder's last weight matrix (500 → 784) with the largest L2 norm, of the
    class-0 and class-9 VAEs (the source's Fig. 5) and of the common VAE, each as a 28 × 28 image."""
    per_class_job, common_job = job.deps
    n = job.config["n_filters"]
    out = {}
    for name, model, k in (("class_0", load_model(per_class_job, ctx), 0),
                           ("class_9", load_model(per_class_job, ctx), 9),
                           ("common", load_model(common_job, ctx), 0)):
        w = model.dec3_w.detach()[k]                                          # [500, 784]
        top = w.norm(dim=1).argsort(descending=True)[:n]
        out[name] = codec.pack(w[top].numpy(), 4)
    return out


HANDLERS = {"train": _train, "score": _score, "examples": _examples, "filters": _filters}
assert set(HANDLERS) == set(VERSIONS)
