"""Study 3 as jobs: classification by re-generation with per-class VAEs (work in progress: no jobs yet)."""

from __future__ import annotations

from ..store import Job


class VAEStudy:
    name = "vae"
    title = "Classification by re-generation with per-class VAEs (MNIST, Fashion-MNIST)"

    def parts(self, profile: str) -> dict[str, list[Job]]:
        return {}

    def plan(self, profile: str) -> list[Job]:
        return []

    def execute(self, job: Job, ctx) -> dict:
        raise ValueError(f"Unknown job kind {job.kind!r} for study vae")


STUDY = VAEStudy()
