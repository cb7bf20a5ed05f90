# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jobs as the collection names them: GUIDs, job references in task arguments, and job records from hosts.

A task names a job by GUID or display name. The host treats a value of exactly the GUID form
(``xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx``, braces optional, any case) as a GUID and anything else as a
display name (docs/host-contract.md), which it receives as data: ``Sync {prod}``, ``@{a=1}`` and
``${env:COMPUTERNAME}`` are display names. A GUID with a typo would silently become a display name
that matches nothing, so such a value is sent as a display name with a warning that says it was not
read as a GUID (both modules share that warning).

A job record is what a host reports of one job (docs/host-contract.md, "jobs"); one that failed
half-way through being read has only some keys, and the readers here never raise on that.
"""
from __future__ import annotations

import re
import typing as t
import unicodedata
from collections import abc


# IBackgroundCopyJob::SetDisplayName: "limited to 256 characters, not including the null
# terminator" - WCHARs, i.e. UTF-16 code units.
MAX_DISPLAY_NAME_UTF16 = 256

_GUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII | re.IGNORECASE
)
# The 8-4-4-4-12 shape, whatever the characters: a non-hex letter in it is a typo.
_GUID_SHAPE = re.compile(r"\w{8}-\w{4}-\w{4}-\w{4}-\w{12}", re.ASCII)
_HEX_AND_HYPHENS = re.compile(r"[0-9a-f-]+", re.ASCII | re.IGNORECASE)
GUID_FORM = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hexadecimal digits, braces optional)"
# What ansible-core appends when it turns a non-string into a `type: str` option's value.
QUOTE_ADVICE = "If this does not look like what you expect, quote the entire value to ensure it does not change."


class JobReferenceError(ValueError):
    """The job option is not a usable display name or GUID."""


def normalise_job(value: object, warnings: list[str]) -> str:
    """Return the job option as the module should receive it, or raise JobReferenceError.

    A GUID is passed on as written (case and braces kept), without surrounding blanks; anything else
    is a display name, passed on exactly as written. A number becomes a string, as Ansible converts
    it for a ``type: str`` option; that, and a GUID with a typo, add a line to ``warnings``.
    """
    if is_number(value):
        text = str(value)
        warnings.append(conversion_warning("job", value, text))
        value = text
    if not isinstance(value, str):
        raise JobReferenceError(
            "job must be a string (a display name or a GUID), not %s %r; quote it in YAML"
            % ("null" if value is None else type(value).__name__, value)
        )
    if not value.strip():
        raise JobReferenceError("job must not be empty or only blanks; give a display name or a GUID")
    _reject_control_characters(value)
    _reject_too_long(value)
    candidate = value.strip()
    if is_guid(candidate):
        return candidate
    warning = guid_typo_warning(value, "job", "looked up")
    if warning:
        warnings.append(warning)
    return value


def is_number(value: object) -> bool:
    """An int or a float: what YAML makes of an unquoted number (bool, an int subclass, is not one)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def conversion_warning(where: str, value: object, text: str) -> str:
    """Ansible's warning for a non-string made a string, naming the option it was given for."""
    return "%s: The value %r (type %s) was converted to %r (type str). %s" % (
        where, value, type(value).__name__, text, QUOTE_ADVICE)


def guid_typo_warning(text: str, where: str, used: str) -> str | None:
    """The warning for a value that looks like a GUID but is not one, else None.

    ``used`` says what the module does with the value instead (``looked up``, ``matched``). Braces
    around a value do not make it GUID-like by themselves (``{not-a-guid}`` is a display name); what
    is inside them must look like a GUID with a typo.
    """
    candidate = text.strip()
    if is_guid(candidate) or not looks_like_guid(candidate.strip("{}")):
        return None
    return "%s %r looks like a GUID but is not one (%s), so it is %s as a display name; expected a GUID of " \
        "the form %s" % (where, text, describe_guid_problem(candidate), used, GUID_FORM)


def is_guid(text: str) -> bool:
    """True for a well-formed GUID, with both braces or none."""
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    return bool(_GUID.fullmatch(text))


def canonical_guid(text: str) -> str | None:
    """``{UPPER-CASE}`` for a value that is exactly a GUID (braces optional, blanks around it
    ignored), else None: the one spelling to send to a host and to compare GUIDs by."""
    candidate = text.strip()
    if not is_guid(candidate):
        return None
    return "{%s}" % candidate.strip("{}").upper()


def looks_like_guid(text: str) -> bool:
    """True when a value was evidently meant as a GUID: a leading or trailing brace, the 8-4-4-4-12
    shape, or nothing but hex digits and hyphens with about 32 digits (a digit missing or doubled, a
    hyphen misplaced or missing). Ordinary names such as ``2024-01-15`` have far fewer digits and are
    left alone.

    The policy file refuses such a value; the modules take it as a display name and warn
    (``guid_typo_warning``, which looks only inside the braces).
    """
    if text.startswith("{") or text.endswith("}"):
        return True
    if _GUID_SHAPE.fullmatch(text):
        return True
    if _HEX_AND_HYPHENS.fullmatch(text):
        digits = len(text.replace("-", ""))
        return 28 <= digits <= 36
    return False


def describe_guid_problem(text: str) -> str:
    """Say what is wrong with a GUID-like value, the first problem found."""
    if text.startswith("{") != text.endswith("}"):
        return "unbalanced braces"
    inner = text[1:-1] if text.startswith("{") else text
    for char in inner:
        if char != "-" and not ("0" <= char <= "9" or "a" <= char.lower() <= "f"):
            return "%r is not a hexadecimal digit" % char
    groups = [len(group) for group in inner.split("-")]
    if groups != [8, 4, 4, 4, 12]:
        return "its groups have %s digits instead of 8-4-4-4-12" % "-".join(str(n) for n in groups)
    return "not of the GUID form"


def control_character_problem(text: str, where: str) -> str | None:
    """Why ``text`` cannot name a job (it holds a control character, which no display name has), else None."""
    for index, char in enumerate(text):
        if unicodedata.category(char) == "Cc":
            return "%s must not contain control characters; found U+%04X at position %d of %r" % (
                where, ord(char), index + 1, text)
    return None


def utf16_units(text: str) -> int:
    """The length BITS counts: UTF-16 code units (a lone surrogate counts as one)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _reject_control_characters(value: str) -> None:
    problem = control_character_problem(value, "job")
    if problem:
        raise JobReferenceError(problem)


def _reject_too_long(value: str) -> None:
    units = utf16_units(value)
    if units > MAX_DISPLAY_NAME_UTF16:
        raise JobReferenceError(
            "job is %d characters (UTF-16) long; BITS display names are at most %d characters"
            % (units, MAX_DISPLAY_NAME_UTF16)
        )


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
    wanted = bare_guid(job_id)
    for job in jobs:
        candidate = job.get("id")
        if isinstance(candidate, str) and bare_guid(candidate) == wanted:
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


def bare_guid(text: str) -> str:
    """A GUID without braces, in lower case, for comparing GUIDs however they were written."""
    return text.strip().strip("{}").lower()


def guid_order(job: JobFacts) -> tuple[bool, str]:
    """Sort key of jobs by GUID (as reports and results list them), jobs without one last."""
    job_id = job.get("id")
    return (not isinstance(job_id, str), str(job_id).upper() if isinstance(job_id, str) else "")
