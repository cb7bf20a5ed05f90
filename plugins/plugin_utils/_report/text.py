# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Short human texts for the report formats: expected flags, actual flags, job errors, job labels.

One place, so that the CSV, the JUnit XML and the HTML say the same thing the same way.
"""
from __future__ import annotations

import typing as t


def describe_flags(flags: t.Sequence[str] | None) -> str:
    """'local_file, network'; 'none' for no flags; 'unreadable' when the host could not read them."""
    if flags is None:
        return "unreadable"
    return ", ".join(str(flag) for flag in flags) if flags else "none"


def describe_expected(expected: t.Mapping[str, t.Any] | None) -> str:
    """The rule's normalised expect as one line, e.g. 'allowed: local_file; helper token: absent'."""
    if not expected:
        return ""
    parts = []
    if "flags" in expected:
        parts.append("exactly: " + describe_flags(expected["flags"]))
    if "allowed_flags" in expected:
        parts.append("allowed: " + describe_flags(expected["allowed_flags"]))
    if "forbidden_flags" in expected:
        parts.append("forbidden: " + describe_flags(expected["forbidden_flags"]))
    if expected.get("helper_token"):
        parts.append(f"helper token: {expected['helper_token']}")
    return "; ".join(parts)


def describe_job_error(error: t.Mapping[str, t.Any] | None) -> str:
    """The job's own BITS error (ERROR / TRANSIENT_ERROR state), with the controller's explanation."""
    if not error:
        return ""
    head = " ".join(str(part) for part in (error.get("name"), error.get("hresult_hex")) if part)
    tail = error.get("explanation") or error.get("description")
    return f"{head}: {tail}" if tail else head


def describe_read_error(read_error: t.Mapping[str, t.Any] | None) -> str:
    """Why the job could not be fully read: the failed call, its HRESULT and the explanation."""
    if not read_error:
        return ""
    head = " ".join(str(part) for part in (read_error.get("call"), read_error.get("hresult_hex")) if part)
    tail = read_error.get("explanation")
    return f"{head}: {tail}" if tail else head


def testcase_name(job: t.Mapping[str, t.Any]) -> str:
    """A JUnit test case's name: 'contentSync {GUID}', or the GUID alone when the name could not be read."""
    name, job_id = job.get("name"), job.get("id")
    return f"{name} {job_id}" if name is not None else str(job_id)


def describe_waiver(job: t.Mapping[str, t.Any]) -> str:
    """Why a waived job is waived, with its owner; a waiver that names no owner is said to be one.

    'CHG-1234 (until 2027-03-31); owner: CORP\\svc-backup; the waiver names no owner: any user's job
    of this name would be waived'. Empty when the job is not waived.
    """
    waiver = job.get("waiver") or {}
    if not waiver:
        return ""
    owner = job.get("owner_name") or job.get("owner") or "unknown"
    text = f"{waiver.get('reason')} (until {waiver.get('expires')}); owner: {owner}"
    if waiver.get("names_owner") is False:
        text += "; the waiver names no owner: any user's job of this name would be waived"
    return text
