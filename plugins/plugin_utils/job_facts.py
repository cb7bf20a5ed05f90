# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the per-job facts a host reports (docs/host-contract.md, "jobs") without trusting their shape.

A job that failed half-way through being read has only some keys; these helpers never raise on that.
"""
from __future__ import annotations

import typing as t
from collections import abc

JobFacts = t.Mapping[str, object]


def host_jobs(raw: t.Mapping[str, object]) -> list[JobFacts]:
    """The ``jobs`` list of a raw result, keeping only entries that are mappings."""
    jobs = raw.get("jobs")
    if not isinstance(jobs, list):
        return []
    return [job for job in jobs if isinstance(job, abc.Mapping)]


def job_label(job: JobFacts) -> str:
    """``job {GUID} (name)``, as far as the host reported them."""
    job_id = job.get("id")
    name = job.get("name")
    label = "job %s" % job_id if job_id else "job"
    if isinstance(name, str):
        label += " (%s)" % name
    return label


def find_job(jobs: t.Sequence[JobFacts], job_id: object) -> JobFacts | None:
    """The job with this GUID (compared case-insensitively, braces ignored), or None."""
    if not isinstance(job_id, str):
        return None
    wanted = _bare_guid(job_id)
    for job in jobs:
        candidate = job.get("id")
        if isinstance(candidate, str) and _bare_guid(candidate) == wanted:
            return job
    return None


def same_sid(first: object, second: object) -> bool:
    """SIDs compare case-insensitively (S-1-5-18 vs s-1-5-18); unknown never equals anything."""
    return isinstance(first, str) and isinstance(second, str) and first.upper() == second.upper()


def sid_text(sid: object) -> str:
    """A helper-token SID for a message or diff: the SID, ``none`` for null (no token), else ``unknown``."""
    if sid is None:
        return "none"
    return sid if isinstance(sid, str) and sid else "unknown"


def _bare_guid(text: str) -> str:
    return text.strip().strip("{}").lower()
