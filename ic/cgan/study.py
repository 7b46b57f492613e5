"""Study 2 as jobs: inverse classification with a conditional GAN on MNIST (Hobbhahn 2020).

A study exposes ``parts(profile) -> {part name: [Job]}``; ``plan`` is their ordered union (dependencies first,
duplicates once) and the notebooks ask for a part by name.
"""

from __future__ import annotations

from ..store import Job
from ..study import StudyBase
from .execute import HANDLERS
from .jobs import STUDY as NAME
from .jobs import BASELINES, baseline_job, ic_job, judge_job, oracle_job, reconstruct_job, training_jobs
from .profiles import get_profile


def control_part(nz: int) -> str:
    """The part name of the control that trains noise size ``nz`` without label noise."""
    return f"control nz={nz} without label noise"


class CGANStudy(StudyBase):
    name = NAME
    handlers = HANDLERS
    title = "Inverse classification with a conditional GAN (MNIST)"

    def parts(self, profile: str) -> dict[str, list[Job]]:
        """In the order they run: the judge and the baselines (minutes); the main GAN's training and every
        experiment on it (Tables 2 and 3, the ablations, the reconstructions, the class-oracle diagnostic); then
        each other noise size's training followed by its Table 1 runs ("noise size" is all of Table 1 for the
        notebook); last, the controls: a noise size trained without label noise, with its Table 1 runs. The main
        GAN's parts are repeat-major, so that a partial run has the same number of repeats for every setting."""
        p = get_profile(profile)
        reps, main = range(p.repeats), p.main_nz
        parts = {"judge": [judge_job(p)], "baselines": [baseline_job(p, m) for m in BASELINES],
                 f"training nz={main}": training_jobs(p, main)}
        parts["update rate"] = [ic_job(p, main, alpha=a, repeat=r) for r in reps for a in p.update_rates]
        parts["late update"] = [ic_job(p, main, late_k=k, repeat=r) for r in reps for k in p.late_ks]
        ab = range(p.ablation_repeats)
        parts["ablations"] = ([ic_job(p, main, precision="fp32")] +
                              [ic_job(p, main, bn="eval", repeat=r) for r in ab] +
                              [ic_job(p, main, optimizer="adam", repeat=r) for r in ab] +
                              [ic_job(p, main, alpha=0.5, late_k=k, repeat=r) for r in ab for k in p.late_k_alpha_half])
        parts["reconstructions"] = [reconstruct_job(p, main)]
        parts["class oracle"] = [oracle_job(p, main)]
        for nz in p.noise_sizes:
            if nz != main:
                parts[f"training nz={nz}"] = training_jobs(p, nz)
                # its Table 1 runs right after its training, while its checkpoints are in this machine's cache
                # (a later session may run on a new machine, where the generator costs its whole training again)
                parts[f"noise size nz={nz}"] = [ic_job(p, nz, repeat=r) for r in reps]
        parts["noise size"] = [ic_job(p, nz, repeat=r) for r in reps for nz in p.noise_sizes]
        for nz in p.label_noise_controls:
            parts[control_part(nz)] = (training_jobs(p, nz, label_noise=0.0) +
                                       [ic_job(p, nz, repeat=r, label_noise=0.0) for r in reps])
        return parts


STUDY = CGANStudy()
