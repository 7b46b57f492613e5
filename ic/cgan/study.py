"""Study 2 as jobs: inverse classification with a conditional GAN on MNIST (Hobbhahn 2020).

A study exposes ``parts(profile) -> {part name: [Job]}``; ``plan`` is their ordered union (dependencies first,
duplicates once) and the notebooks ask for a part by name.
"""

from __future__ import annotations

from ..store import Job
from .execute import HANDLERS
from .jobs import STUDY as NAME
from .jobs import judge_job, training_jobs
from .profiles import get_profile


class CGANStudy:
    name = NAME
    title = "Inverse classification with a conditional GAN (MNIST)"

    def parts(self, profile: str) -> dict[str, list[Job]]:
        p = get_profile(profile)
        parts = {"judge": [judge_job(p)]}
        for nz in p.noise_sizes:
            parts[f"training nz={nz}"] = training_jobs(p, nz)
        return parts

    def plan(self, profile: str) -> list[Job]:
        seen, out = set(), []
        for jobs in self.parts(profile).values():
            for j in jobs:
                if j.key not in seen:
                    seen.add(j.key)
                    out.append(j)
        return out

    def execute(self, job: Job, ctx) -> dict:
        if job.kind not in HANDLERS:
            raise ValueError(f"Unknown job kind {job.kind!r} for study {NAME}")
        return HANDLERS[job.kind](job, ctx)


STUDY = CGANStudy()
