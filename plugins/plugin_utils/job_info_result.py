# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shape bits_job_info's raw host facts (issue 6, section D) into its documented result (section A).

Jobs are sorted by GUID so that two audits diff cleanly; flags get their names; a job's error and a
job that could not be fully read are explained; a failure of the whole task becomes an ordinary
Ansible failure whose message says the cause and the fix. Nothing is inferred that the host did not
report: a fact it could not read stays null.
"""
from __future__ import annotations

import typing as t
from collections import abc

from ansible_collections.winbits.bits.plugins.plugin_utils.bits_errors import (
    JobErrorFacts,
    explain_info_failure,
    explain_job_error,
    explain_read_error,
    failure_facts,
    hresult_of,
    job_error_name,
)
from ansible_collections.winbits.bits.plugins.plugin_utils.helper_token_flags import (
    dword_from_host,
    names_from_host,
)
from ansible_collections.winbits.bits.plugins.plugin_utils.job_facts import JobFacts, host_jobs
from ansible_collections.winbits.bits.plugins.plugin_utils.job_reference import canonical_guid

# Facts of the raw result that the documented result does not have: the host echoes all_users, and
# error is null on success (on failure it is kept, as the facts behind the message).
HOST_ONLY_KEYS = ("all_users", "error")
# A documented job entry, in this order.
JOB_KEYS = ("id", "name", "owner", "owner_name", "state", "type", "flags", "flags_value", "helper_token_sid",
            "helper_token_name", "client_certificate", "creation_time", "modification_time", "error",
            "read_error")
# Keys of a job that the host reports as they are documented.
PLAIN_JOB_KEYS = ("name", "owner", "owner_name", "state", "type", "helper_token_sid", "helper_token_name",
                  "creation_time", "modification_time")


def shape_info_result(raw: t.Mapping[str, object], module_args: t.Mapping[str, object]) -> dict[str, object]:
    """The task result for a raw result of bits_job_info.

    A failure without the host's ``error`` facts (Ansible's own, or the module never ran) and a result
    that is not this module's pass through unchanged.
    """
    if isinstance(raw.get("error"), abc.Mapping):
        return shape_info_failure(raw, module_args)
    if raw.get("failed") or not isinstance(raw.get("jobs"), list):
        return dict(raw)
    return shape_info_success(raw, module_args)


def shape_info_success(raw: t.Mapping[str, object], module_args: t.Mapping[str, object]) -> dict[str, object]:
    caller = _caller(raw)
    jobs = sorted((shape_job(job, caller, module_args) for job in host_jobs(raw)), key=_by_id)
    result = {key: value for key, value in raw.items() if key not in HOST_ONLY_KEYS}
    result.update(changed=False, exists=bool(jobs), jobs=jobs)
    warnings = _existing_warnings(raw) + [_read_warning(job) for job in jobs if job["read_error"] is not None]
    if warnings:
        result["warnings"] = warnings
    return result


def shape_info_failure(raw: t.Mapping[str, object], module_args: t.Mapping[str, object]) -> dict[str, object]:
    """An ordinary Ansible failure: ``msg`` explains, ``error`` and ``caller`` keep the host's facts.

    No ``jobs`` and no ``exists``: a host that failed listed nothing, and a partial list must not be
    mistaken for an audit.
    """
    facts = failure_facts(raw, module_args, target=describe_target(module_args))
    result = {key: value for key, value in raw.items() if key not in ("all_users", "jobs")}
    result.update(failed=True, changed=False, msg=explain_info_failure(facts))
    # ansible-core 2.19+ would show its summary of the host's short message instead of the explanation.
    result.pop("exception", None)
    return result


def describe_target(module_args: t.Mapping[str, object]) -> str:
    """``the BITS jobs of all users matching 'a*', '{GUID}'``: what the task asked to list."""
    whose = "all users" if module_args.get("all_users") else "the connecting user"
    patterns = module_args.get("job")
    if isinstance(patterns, list) and patterns:
        return "the BITS jobs of %s matching %s" % (whose, ", ".join(repr(str(item)) for item in patterns))
    return "the BITS jobs of %s" % whose


def shape_job(job: JobFacts, caller: t.Mapping[str, object], module_args: t.Mapping[str, object]) -> dict[str, object]:
    """One documented ``jobs`` entry; a fact the host did not read is null."""
    shaped: dict[str, object] = {"id": _job_id(job.get("id"))}
    shaped.update((key, job.get(key)) for key in PLAIN_JOB_KEYS)
    client_certificate = job.get("client_certificate")
    shaped.update(
        flags=names_from_host(job.get("flags_value")),
        flags_value=dword_from_host(job.get("flags_value")),
        client_certificate=client_certificate if isinstance(client_certificate, bool) else None,
        error=shape_job_error(job),
        read_error=shape_read_error(job, caller, module_args),
    )
    return {key: shaped[key] for key in JOB_KEYS}


def shape_job_error(job: JobFacts) -> dict[str, object] | None:
    error = job.get("error")
    if not isinstance(error, abc.Mapping):
        return None
    hresult = hresult_of(error)
    description = error.get("description")
    return {
        "hresult": hresult,
        "hresult_hex": "0x%08X" % hresult if hresult is not None else None,
        "name": job_error_name(hresult),
        "context": JobErrorFacts(error=error, job=job).context,
        "description": description.strip() if isinstance(description, str) and description.strip() else None,
        "explanation": explain_job_error(error, job),
    }


def shape_read_error(
    job: JobFacts,
    caller: t.Mapping[str, object],
    module_args: t.Mapping[str, object],
) -> dict[str, object] | None:
    read_error = job.get("read_error")
    if not isinstance(read_error, abc.Mapping):
        return None
    hresult = hresult_of(read_error)
    call = read_error.get("call")
    return {
        "call": call if isinstance(call, str) and call else None,
        "hresult": hresult,
        "hresult_hex": "0x%08X" % hresult if hresult is not None else None,
        "explanation": explain_read_error(read_error, job, caller, module_args),
    }


def _read_warning(job: t.Mapping[str, object]) -> str:
    read_error = t.cast(t.Mapping[str, object], job["read_error"])
    return "%s The job is listed with the facts read before that; the rest, its flags among them, are null." % (
        read_error["explanation"])


def _job_id(value: object) -> object:
    """GUIDs in one spelling, ``{UPPER-CASE}``, whatever the host wrote."""
    if isinstance(value, str):
        return canonical_guid(value) or value
    return value


def _by_id(job: t.Mapping[str, object]) -> tuple[bool, str]:
    job_id = job.get("id")
    return (not isinstance(job_id, str), str(job_id).upper() if isinstance(job_id, str) else "")


def _caller(raw: t.Mapping[str, object]) -> t.Mapping[str, object]:
    caller = raw.get("caller")
    return caller if isinstance(caller, abc.Mapping) else {}


def _existing_warnings(raw: t.Mapping[str, object]) -> list[object]:
    warnings = raw.get("warnings")
    return list(warnings) if isinstance(warnings, list) else []
