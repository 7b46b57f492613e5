"""Study 1 as jobs: inverse classification with generative LSTMs on UCI Character Trajectories (Hobbhahn 2018).

A study exposes ``parts(profile) -> {part name: [Job]}``; ``plan`` is their ordered union (dependencies first,
duplicates once) and the notebooks ask for a part by name (:func:`ic.report.collect`). Profiles are in
:mod:`ic.lstm.profiles`, job constructors and cost formulas in :mod:`ic.lstm.jobs`, how each kind is computed in
:mod:`ic.lstm.execute`.
"""

from __future__ import annotations

from ..store import Job, unique_jobs
from .data import load_data, make_split, planned_data_identity  # noqa: F401  (load_data, make_split: the study's interface)
from .execute import HANDLERS
from .jobs import STUDY as NAME
from .jobs import class_count, fwd_job, gen_job, heatmap_job, ic_job, nearest_centre_job, vertex_job
from .profiles import Profile, get_profile, protocol_check_profile


def _noise(p: Profile, d: dict) -> list[Job]:
    """Generator and IC of the noise table: σ × k × instances (instance-major, so that a partial run has the same
    number of instances for every σ)."""
    return [j for k in p.noise_class_counts for i in range(p.instances) for s in p.noise_sigmas
            for g in [gen_job(p, k, s, "all", i, d)] for j in (g, ic_job(p, g))]


def _heatmaps(p: Profile, d: dict) -> list[Job]:
    return [heatmap_job(p, g) for g in _noise(p, d) if g.kind == "train_gen" and g.config["k"] == 2]


def _protocol(p: Profile, d: dict) -> list[Job]:
    """Generator and IC of the protocol check, trained with the thesis's batch-1 protocol."""
    c, b1 = p.protocol_check, protocol_check_profile(p)
    return [j for i in range(c.instances) for g in [gen_job(b1, c.k, c.sigma, "all", i, d)] for j in (g, ic_job(b1, g))]


def _renormalise(p: Profile, d: dict) -> list[Job]:
    """Ablation: the blog's description of the noise ("clipping and normalizing") instead of the clip-only noise
    the thesis's code ran, at the best σ per class count."""
    return [j for k in p.renormalise_class_counts for i in range(p.instances)
            for g in [gen_job(p, k, p.best_sigma[k], "all", i, d, renormalise=True)] for j in (g, ic_job(p, g))]


def _multistart(p: Profile, d: dict) -> list[Job]:
    """Multi-start IC (uniform + every vertex) with the noise-table generators of ``p.multistart`` — a test of the
    chapter's explanation that failing instances are stuck on a flat plateau around the uniform start."""
    return [ic_job(p, gen_job(p, k, s, "all", i, d), "uniform+vertices") for k in p.noise_class_counts
            for i in range(p.instances) for s in p.noise_sigmas if s in p.multistart.get(k, ())]


def _sparsity(p: Profile, d: dict) -> list[Job]:
    """Generators (sparse1, sparse4, all at the best σ) with their IC jobs, and the forward baselines."""
    out = []
    for k in p.sparsity_class_counts:
        for i in range(p.instances):
            for variant in ("sparse1", "sparse4", "all"):
                g = gen_job(p, k, p.best_sigma[k], variant, i, d)
                out += [g, ic_job(p, g)]
            out += [fwd_job(p, k, variant, i, d) for variant in ("all", "sparse4")]
    return out


def _data_size(p: Profile, d: dict) -> list[Job]:
    """Beyond the sources: the all-data forward classifier of every instance again, on a stratified part of its
    training split (the profile's ``data_size_fraction``), for the class counts in ``data_size_class_counts``."""
    return [fwd_job(p, k, "all", i, d, train_fraction=p.data_size_fraction)
            for k in p.data_size_class_counts for i in range(p.instances)]


def _diagnostics(p: Profile, d: dict) -> list[Job]:
    """Beyond the sources, for every generator of the sparsity comparison and the noise table: decoding at the
    vertices; for every sparse training set: the nearest-centre classifier."""
    gens = unique_jobs(j for j in _sparsity(p, d) + _noise(p, d) if j.kind == "train_gen")
    return [vertex_job(p, g) for g in gens] + [nearest_centre_job(p, k, v, i, d) for k in p.sparsity_class_counts
                                               for i in range(p.instances) for v in ("sparse1", "sparse4")]


def _sparse_control(p: Profile, d: dict) -> list[Job]:
    """Beyond the sources, a control: the sparse generators of ``sparse_control_class_counts`` trained to the
    all-data models' convergence rule (not the all-data models' minimum step count), with IC and vertex decoding."""
    return [j for k in p.sparse_control_class_counts for i in range(p.instances) for v in p.sparse_control_variants
            for g in [gen_job(p, k, p.best_sigma[k], v, i, d, converge=True)]
            for j in (g, ic_job(p, g), vertex_job(p, g))]


def _ic_sensitivity(p: Profile, d: dict) -> list[Job]:
    """Beyond the sources: IC with the sources' settings, with ``ic_long_iterations`` iterations and with the thesis
    code's loss scale (summed over time), all three on the same generators: for ``ic_sensitivity`` entries (k, σ,
    'all') replicas of the noise-table generators (same setting, split and seed, trained again here: the stored
    ones do not rebuild bit for bit on this machine, probably another CPU than theirs), for (k, σ,
    'sparse1_control') the sparse-generator control's."""
    return [j for k, s, model in p.ic_sensitivity for i in range(p.instances)
            for g in [gen_job(p, k, s, "all", i, d, replica=True) if model == "all" else
                      gen_job(p, k, s, model.removesuffix("_control"), i, d, converge=True)]
            for j in (g, ic_job(p, g), ic_job(p, g, iterations=p.ic_long_iterations),
                      ic_job(p, g, loss="sum_over_time"))]


#: the parts of the chapter, in the order a class count runs them: the sparsity comparison (its 'all data' models
#: are the noise-table models at the best σ), the other noise-table models and their IC, the heat maps (k = 2),
#: the batch-1 protocol check, the renormalisation ablation, the multi-start IC, the diagnostics and the data-size
#: test, the sparse-generator control and the IC sensitivity (the last five beyond the sources)
PARTS = {"sparsity": _sparsity, "noise": _noise, "heatmaps": _heatmaps, "protocol": _protocol,
         "renormalise": _renormalise, "multistart": _multistart, "diagnostics": _diagnostics, "data_size": _data_size,
         "sparse_control": _sparse_control, "ic_sensitivity": _ic_sensitivity}


class LSTMStudy:
    name = NAME
    title = "Inverse classification with generative LSTMs (Character Trajectories)"

    def parts(self, profile: str | Profile) -> dict[str, list[Job]]:
        p = get_profile(profile)
        data_id = planned_data_identity()
        return {name: build(p, data_id) for name, build in PARTS.items()}

    def plan(self, profile: str | Profile) -> list[Job]:
        """The union of the parts, class count by class count (2, 4, 20) so that a partial run gives complete
        settings first, each class count's jobs in the order of :data:`PARTS`. A job's generator comes before
        it (every part lists a generator before the jobs that use it, or an earlier part holds it)."""
        parts = self.parts(profile)
        ks = sorted({class_count(j) for jobs in parts.values() for j in jobs})
        return unique_jobs(j for k in ks for jobs in parts.values() for j in jobs if class_count(j) == k)

    def execute(self, job: Job, ctx) -> dict:
        if job.kind not in HANDLERS:
            raise ValueError(f"Unknown job kind {job.kind!r} for study {NAME}")
        return HANDLERS[job.kind](job, ctx)


STUDY = LSTMStudy()
