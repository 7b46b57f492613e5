"""Study 3 as jobs: classification by re-generation with per-class VAEs (Rezaeifar, Taran & Voloshynovskiy 2018).

A study exposes ``parts(profile) -> {part name: [Job]}``; ``plan`` is their ordered union (dependencies first,
duplicates once) and the notebooks ask for a part by name. A part holds its train jobs before the score jobs
that use them; parts are seed-major, so that a partial run has the same number of seeds for every setting.
"""

from __future__ import annotations

from dataclasses import replace

from ..store import Job
from ..study import StudyBase
from .execute import HANDLERS
from .jobs import STUDY as NAME
from .jobs import examples_job, filters_job, probe_set, score_job, sigma_set, train_job
from .profiles import get_profile


def _trained_and_scored(pairs: list[tuple[Job, list[Job]]]) -> list[Job]:
    out = []
    for model, scores in pairs:
        out.append(model)
        out.extend(scores)
    return out


class VAEStudy(StudyBase):
    name = NAME
    handlers = HANDLERS
    title = "Classification by re-generation with per-class VAEs (MNIST, Fashion-MNIST)"

    def parts(self, profile: str) -> dict[str, list[Job]]:
        """Table I (MNIST dim_z, its dim_z 15 model is also the "supervised" row of Table V and the model of
        Table VI) and its probe-set score first; then Table VI, the figures, Table III, the control of the training
        cap (profiles with ``converge_rounds``), Table V and the two σ² tables (with their σ² = 1 reference scored on
        the same probes), and the test-only σ² ablation."""
        p = get_profile(profile)
        seeds = range(p.seeds)
        sigma_seeds = range(p.seeds if p.sigma_seeds is None else p.sigma_seeds)
        sc = lambda m, t, s2=None: score_job(p, m, t, s2)  # noqa: E731
        on = lambda m, where, s2=None: score_job(p, m, where[0], s2, where[1])  # noqa: E731  (test set, first n)
        mnist = lambda dz, s2=1.0, s=0, **kw: train_job(p, "mnist", dz, s2, s, **kw)  # noqa: E731
        fmnist = lambda dz, s2=1.0, s=0: train_job(p, "fashion_mnist", dz, s2, s)  # noqa: E731
        train = {"mnist": mnist, "fashion_mnist": fmnist}

        semi_set = probe_set(p, "mnist") if p.semi_on_probe_sets else ("mnist_test", None)
        longer = replace(p, max_rounds=p.converge_rounds) if p.converge_rounds else None
        parts = {
            "mnist dim_z": _trained_and_scored([(mnist(dz, s=s), [sc(mnist(dz, s=s), "mnist_test")])
                                                for s in seeds for dz in p.mnist_dims]),
            "mnist probe set": [sc(mnist(p.main_dim, s=s), "mnist_probes") for s in seeds],
            "unseen rejection": [sc(mnist(p.main_dim, s=s), t) for s in seeds
                                 for t in ("mnist_test", "fashion_mnist_test")],
        }
        main0 = mnist(p.main_dim, s=p.example_seed)
        common = mnist(p.main_dim, s=p.example_seed, common=True)
        parts["figures"] = [examples_job(p, sc(main0, "mnist_test")), common, filters_job(p, main0, common)]
        parts["fashion dim_z"] = _trained_and_scored([(fmnist(dz, s=s), [sc(fmnist(dz, s=s), "fashion_mnist_test")])
                                                      for s in seeds for dz in p.fmnist_dims])
        if longer is not None:
            # the control of the training cap: the main MNIST models with a larger budget, scored like Table I
            capped = [train_job(longer, "mnist", p.main_dim, 1.0, s, note=f" ≤{longer.max_rounds} rounds")
                      for s in seeds]
            parts["training cap"] = _trained_and_scored([(m, [sc(m, "mnist_test")]) for m in capped])
        parts["semi-supervised"] = _trained_and_scored(
            [(mnist(p.main_dim, s=s, n_labelled=n), [on(mnist(p.main_dim, s=s, n_labelled=n), semi_set)])
             for s in seeds for n in p.labelled]) + [on(mnist(p.main_dim, s=s), semi_set) for s in seeds]
        # σ² = 1 beside each σ² row: the models of Tables I / III (no new training), scored on the same probes
        for dataset, name, dims in (("mnist", "mnist sigma", p.mnist_dims),
                                    ("fashion_mnist", "fashion sigma", p.fmnist_dims)):
            t = sigma_set(p, dataset)
            parts[name] = _trained_and_scored([(train[dataset](dz, s2, s), [on(train[dataset](dz, s2, s), t)])
                                               for s in sigma_seeds for dz in p.sigma_dims
                                               for s2 in (*p.sigma2s, *((1.0,) if dz in dims else ()))])
        parts["test-only sigma"] = [on(mnist(p.main_dim, s=s), sigma_set(p, "mnist"), s2)
                                    for s in seeds for s2 in p.test_only_sigma2s]
        return parts


STUDY = VAEStudy()
