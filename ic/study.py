"""What every study shares: a profile lookup and the plan/execute shape of the study template.

A study module defines its ``Profile`` dataclass and ``PROFILES`` (name → profile), job constructors, handlers
(job kind → function) and a study class derived from :class:`StudyBase` that implements ``parts(profile)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .store import Job, unique_jobs


def lookup_profile(profiles: Mapping[str, Any], profile: Any, study: str) -> Any:
    """``profile`` itself when it is already a profile object, else ``profiles[profile]``; an unknown name is an
    error that lists the study's profiles."""
    if not isinstance(profile, str):
        return profile
    if profile not in profiles:
        raise ValueError(f"Unknown profile {profile!r} for the {study} study: use one of {', '.join(profiles)}.")
    return profiles[profile]


class StudyBase:
    """``plan`` is the ordered union of ``parts`` (each job once, after its deps); ``execute`` dispatches on the
    job's kind to ``handlers``."""

    name: str
    title: str
    handlers: Mapping[str, Callable[[Job, Any], dict]]

    def parts(self, profile) -> dict[str, list[Job]]:
        raise NotImplementedError

    def plan(self, profile) -> list[Job]:
        return unique_jobs(j for jobs in self.parts(profile).values() for j in jobs)

    def execute(self, job: Job, ctx) -> dict:
        if job.kind not in self.handlers:
            raise ValueError(f"Unknown job kind {job.kind!r} for study {self.name}")
        return self.handlers[job.kind](job, ctx)
