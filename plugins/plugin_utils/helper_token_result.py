# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shape the host's raw facts into the documented result, diff and warnings of bits_helper_token.

Faithful to the host: ``changed`` and every value come from what it reported; nothing is inferred
to have changed that it did not report.
"""
from __future__ import annotations

import typing as t
from collections import abc

from ansible_collections.winbits.bits.plugins.plugin_utils.bits_errors import (
    ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY,
    LOCAL_SYSTEM_SID,
    explain_failure,
    failure_facts,
)
from ansible_collections.winbits.bits.plugins.plugin_utils.helper_token_flags import (
    FLAG_BITS,
    dword_from_host,
    format_flags,
    names_from_host,
)
from ansible_collections.winbits.bits.plugins.plugin_utils.job_facts import JobFacts, host_jobs, job_label

# Facts the host returns for the controller's use only; the documented result does not have them.
HOST_ONLY_KEYS = ("desired_flags_value",)
# Top-level key of the result -> key of the job entry, when exactly one job matched.
SINGLE_JOB_KEYS: dict[str, str] = {
    "job_id": "id",
    "job_name": "name",
    "owner": "owner",
    "state": "state",
    "previous_flags": "previous_flags",
    "previous_flags_value": "previous_flags_value",
    "flags": "flags",
    "flags_value": "flags_value",
    "helper_token_sid": "helper_token_sid",
}
NETWORK = FLAG_BITS["network"]


def shape_result(
    raw: t.Mapping[str, object],
    module_args: t.Mapping[str, object],
    *,
    check_mode: bool,
    diff_mode: bool,
) -> dict[str, object]:
    """The task result for a raw module result.

    A failure without the host's ``error`` facts (Ansible's own, or the module never ran) and any
    result that is not this module's passes through unchanged.
    """
    if isinstance(raw.get("error"), abc.Mapping):
        return shape_failure(raw, module_args)
    if raw.get("failed") or not isinstance(raw.get("jobs"), list):
        return dict(raw)
    return shape_success(raw, module_args, check_mode=check_mode, diff_mode=diff_mode)


def shape_success(
    raw: t.Mapping[str, object],
    module_args: t.Mapping[str, object],
    *,
    check_mode: bool,
    diff_mode: bool,
) -> dict[str, object]:
    jobs = host_jobs(raw)
    desired = dword_from_host(raw.get("desired_flags_value"))
    result = _without_host_only_keys(raw)
    result.pop("error", None)  # null on success; documented as returned on failure only
    result["changed"] = raw.get("changed") is True
    result["jobs"] = [shape_job(job) for job in jobs]
    if len(jobs) == 1:
        result.update(single_job_keys(t.cast(dict, result["jobs"])[0]))
    if diff_mode and jobs:
        result["diff"] = build_diff(jobs, desired, check_mode=check_mode)
    warnings = build_warnings(jobs, desired, check_mode=check_mode)
    if warnings:
        result["warnings"] = _existing_warnings(raw) + warnings
    return result


def shape_failure(raw: t.Mapping[str, object], module_args: t.Mapping[str, object]) -> dict[str, object]:
    """Keep the host's facts (``error``, ``jobs``, ``caller``) and replace ``msg`` by an explanation."""
    result = _without_host_only_keys(raw)
    result["failed"] = True
    result["changed"] = raw.get("changed") is True
    result["jobs"] = [shape_job(job) for job in host_jobs(raw)]
    result["msg"] = explain_failure(failure_facts(raw, module_args))
    # ansible-core 2.19+ has already summarised the module's failure from the host's short message in
    # `exception`, and would show that summary instead of the explanation; without it, Ansible builds
    # the summary from `msg`.
    result.pop("exception", None)
    return result


def shape_job(job: JobFacts) -> dict[str, object]:
    """One documented ``jobs`` entry; a key the host did not get to read is null."""
    return {
        "id": job.get("id"),
        "name": job.get("name"),
        "owner": job.get("owner"),
        "state": job.get("state"),
        "previous_flags": names_from_host(job.get("previous_flags_value")),
        "previous_flags_value": dword_from_host(job.get("previous_flags_value")),
        "flags": names_from_host(job.get("flags_value")),
        "flags_value": dword_from_host(job.get("flags_value")),
        "helper_token_sid": job.get("helper_token_sid"),
        "client_certificate": job.get("client_certificate"),
        "changed": job.get("changed") is True,
    }


def single_job_keys(job: t.Mapping[str, object]) -> dict[str, object]:
    return {top: job.get(key) for top, key in SINGLE_JOB_KEYS.items()}


def flags_after(job: JobFacts, desired: int | None, *, check_mode: bool) -> object:
    """The flags a job has after the task; in check mode, those it would have.

    In check mode the host writes nothing and reports the current flags, so a job it reports as
    changed would end up with exactly the desired flags.
    """
    if check_mode and job.get("changed") is True and desired is not None:
        return desired
    return job.get("flags_value")


def build_diff(jobs: t.Sequence[JobFacts], desired: int | None, *, check_mode: bool) -> object:
    """Before/after text per job: one dict for one job, a list for several."""
    diffs = [_job_diff(job, desired, check_mode=check_mode) for job in jobs]
    return diffs[0] if len(diffs) == 1 else diffs


def _job_diff(job: JobFacts, desired: int | None, *, check_mode: bool) -> dict[str, str]:
    label = job_label(job)
    after = flags_after(job, desired, check_mode=check_mode)
    return {
        "before_header": label,
        "after_header": label,
        "before": "%s: flags = %s\n" % (label, format_flags(job.get("previous_flags_value"))),
        "after": "%s: flags = %s\n" % (label, format_flags(after)),
    }


def build_warnings(jobs: t.Sequence[JobFacts], desired: int | None, *, check_mode: bool) -> list[str]:
    """Short warnings for the troubles the docs foresee, one per kind, naming the jobs concerned."""
    warnings = [
        _forced_warning(jobs, check_mode=check_mode),
        _forced_unknown_warning(jobs, check_mode=check_mode),
        _no_helper_token_warning(jobs, desired),
        _network_warning(jobs, desired, check_mode=check_mode),
    ]
    return [warning for warning in warnings if warning]


def _forced_warning(jobs: t.Sequence[JobFacts], *, check_mode: bool) -> str | None:
    """force let network through on jobs that have a client certificate."""
    forced = [job for job in jobs if job.get("client_certificate_forced") is True
              and job.get("client_certificate") is True]
    if not forced:
        return None
    return (
        "force %s network on %s, which %s a client certificate and %s not owned by LocalSystem (%s): "
        "Microsoft documents that such a job fails with 0x%08X (ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY), "
        "as BITS then cannot read the certificate's private key"
        % (_would_set(check_mode), _owned_by(forced), _have(forced), _be(forced), LOCAL_SYSTEM_SID,
           ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY)
    )


def _forced_unknown_warning(jobs: t.Sequence[JobFacts], *, check_mode: bool) -> str | None:
    """force let network through on jobs whose client certificate the caller could not see (null)."""
    forced = [job for job in jobs if job.get("client_certificate_forced") is True
              and job.get("client_certificate") is not True]
    if not forced:
        return None
    return (
        "force %s network on %s, not owned by LocalSystem (%s), without knowing whether %s a client "
        "certificate: BITS answers a caller that is not the job's owner the same for no certificate and for one "
        "it may not see. If %s one, Microsoft documents that the job fails with 0x%08X "
        "(ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY), as BITS then cannot read the certificate's private key"
        % (_would_set(check_mode), _owned_by(forced), LOCAL_SYSTEM_SID,
           "it has" if len(forced) == 1 else "they have", "it has" if len(forced) == 1 else "a job has",
           ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY)
    )


def _would_set(check_mode: bool) -> str:
    return "would set" if check_mode else "set"


def _owned_by(jobs: t.Sequence[JobFacts]) -> str:
    return ", ".join("%s owned by %s" % (job_label(job), job.get("owner") or "an owner not read") for job in jobs)


def _no_helper_token_warning(jobs: t.Sequence[JobFacts], desired: int | None) -> str | None:
    if not desired:
        return None
    # Only where this task sets (or would set) flags: repeating it on every idempotent run is noise.
    tokenless = [job for job in jobs if job.get("changed") is True
                 and "helper_token_sid" in job and job.get("helper_token_sid") is None]
    if not tokenless:
        return None
    return (
        "%s %s no helper token: its helper-token flags do nothing until a helper token is set with "
        "IBitsTokenOptions::SetHelperToken" % (_labels(tokenless), _have(tokenless))
    )


def _network_warning(jobs: t.Sequence[JobFacts], desired: int | None, *, check_mode: bool) -> str | None:
    added = [job for job in jobs if _adds_network(job, desired, check_mode=check_mode)]
    if not added:
        return None
    return (
        "network %s set on %s: over HTTP, BITS sends implicit NTLM or Kerberos credentials only if the "
        "job's owner also calls IBackgroundCopyJob2::SetCredentials(..., NULL, NULL)"
        % ("would be" if check_mode else "is now", _labels(added))
    )


def _adds_network(job: JobFacts, desired: int | None, *, check_mode: bool) -> bool:
    if job.get("changed") is not True:
        return False
    before = dword_from_host(job.get("previous_flags_value"))
    after = dword_from_host(flags_after(job, desired, check_mode=check_mode))
    return before is not None and after is not None and not before & NETWORK and bool(after & NETWORK)


def _labels(jobs: t.Sequence[JobFacts]) -> str:
    return ", ".join(job_label(job) for job in jobs)


def _have(jobs: t.Sequence[JobFacts]) -> str:
    return "has" if len(jobs) == 1 else "have"


def _be(jobs: t.Sequence[JobFacts]) -> str:
    return "is" if len(jobs) == 1 else "are"


def _without_host_only_keys(raw: t.Mapping[str, object]) -> dict[str, object]:
    return {key: value for key, value in raw.items() if key not in HOST_ONLY_KEYS}


def _existing_warnings(raw: t.Mapping[str, object]) -> list[object]:
    warnings = raw.get("warnings")
    return list(warnings) if isinstance(warnings, list) else []
