# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller half of bits_job_info: the task's arguments in, the documented result out.

The host contract (docs/host-contract.md): ``job`` is null or a list of strings, each a GUID in the
form ``{UPPER-CASE}`` or else a display-name glob (``*`` any run, ``?`` one character, matched exactly
and case-sensitively on the host); ``all_users`` is a boolean. Everything in ``normalise_info_args``
happens before the host is contacted, so a bad task costs no round trip.

``job`` takes the forms Ansible's ``type: list, elements: str`` takes: a list, a single string, a
comma-separated string (split at the commas), or a number (made a string). Two choices of our own:
the items of a comma-separated string lose the blanks around them (``-a "job=a, b"`` means ``a`` and
``b``; a list keeps every item exactly as written), and an item that Ansible would turn into nonsense
text (a mapping, a list, a boolean, null) is refused instead.

``shape_info_result`` sorts the jobs by GUID so that two audits diff cleanly, names the flags, explains
a job's error and a job that could not be fully read, and turns a failure of the whole task into an
ordinary Ansible failure whose message says the cause and the fix. Nothing is inferred that the host
did not report: a fact it could not read stays null.
"""
from __future__ import annotations

import typing as t
from collections import abc

from .._action import OptionError, boolean_option, declared_options
from .._flags import KNOWN_MASK, dword_from_host, names_from_host
from .._jobs import (
    JobFacts,
    MAX_DISPLAY_NAME_UTF16,
    canonical_guid,
    control_character_problem,
    guid_order,
    guid_typo_warning,
    host_jobs,
    is_number,
    utf16_units,
)
from .action import ModuleArgs, host_warnings
from .explain import (
    JobErrorFacts,
    explain_info_failure,
    explain_job_error,
    explain_read_error,
    failure_facts,
    hresult_of,
    job_error_name,
)


# Declared to Ansible's validator, which refuses any other option; the values are checked here.
ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {"all_users": {"type": "raw"}, "job": {"type": "raw"},
                                              "name_timeout": {"type": "raw"}}
# The time budget of the host's account-name lookup, in whole seconds (the module's default and limit).
DEFAULT_NAME_TIMEOUT = 5
MAX_NAME_TIMEOUT = 3600
WILDCARDS = "*?"
# A pattern is matched on the host character by character; a cap keeps that cheap whatever the input.
MAX_PATTERN_UTF16 = 4 * MAX_DISPLAY_NAME_UTF16
JOB_FORMS = (
    "a display name or a pattern of one (* any run of characters, ? one character), or a job GUID "
    "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, braces optional); as a list, or one string, which is split "
    "at commas"
)


def normalise_info_args(args: t.Mapping[str, object]) -> ModuleArgs:
    """Return the module arguments: ``job`` as None or a list of checked items (GUIDs as
    ``{UPPER}``, duplicates dropped), ``all_users`` as a real boolean (default true)."""
    declared_options(ARGUMENT_SPEC, args)
    warnings: list[str] = []
    jobs = _job_option(args.get("job"), warnings)
    return ModuleArgs(
        module_args={"job": jobs, "all_users": boolean_option("all_users", args.get("all_users"), default=True),
                     "name_timeout": _name_timeout(args.get("name_timeout"))},
        warnings=warnings,
    )


def _name_timeout(value: object) -> int:
    """Whole seconds from 0 to MAX_NAME_TIMEOUT, as a number or its text (ad hoc ``name_timeout=2``)."""
    if value is None:
        return DEFAULT_NAME_TIMEOUT
    seconds: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, float) and value.is_integer():
        seconds = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        seconds = int(value.strip())
    if seconds is None or not 0 <= seconds <= MAX_NAME_TIMEOUT:
        raise OptionError(
            "name_timeout must be a whole number of seconds from 0 (look no account name up) to %d, not %r"
            % (MAX_NAME_TIMEOUT, value)
        )
    return seconds


# --- job ------------------------------------------------------------------------------------


def _job_option(value: object, warnings: list[str]) -> list[str] | None:
    if value is None:
        return None  # left out: every job the caller may list
    items = _job_items(value)
    if not items:
        raise OptionError(
            "job is an empty list, which would select no job; leave job out to list every job, or give %s"
            % JOB_FORMS
        )
    normalised: list[str] = []
    for position, item in enumerate(items, start=1):
        text = _job_item(item, position, warnings)
        if text not in normalised:
            normalised.append(text)
    return normalised


def _job_items(value: object) -> list[object]:
    """The items of the job option, split as Ansible splits a ``type: list`` value."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        if "," in value:
            return [part.strip() for part in value.split(",")]
        return [value]
    if is_number(value):
        return [value]
    raise OptionError(
        "job must be a list or a string, not %s %r; give %s" % (type(value).__name__, value, JOB_FORMS)
    )


def _job_item(item: object, position: int, warnings: list[str]) -> str:
    where = "job item %d" % position
    if is_number(item):
        # What Ansible does with a number in a list of strings; said aloud, as a number can lose
        # characters (leading zeros, a trailing .0) on the way to YAML and back.
        text = str(item)
        warnings.append(
            "%s: the %s %r was converted to the string %r; quote it if the display name is different"
            % (where, type(item).__name__, item, text)
        )
        item = text
    if not isinstance(item, str):
        raise OptionError(
            "%s must be a string, not %s %r; give %s" % (where, _type_name(item), item, JOB_FORMS)
        )
    return _checked_text(item, where, warnings)


def _checked_text(text: str, where: str, warnings: list[str]) -> str:
    if not text.strip():
        raise OptionError(
            "%s is empty or only blanks (%r); give %s" % (where, text, JOB_FORMS)
        )
    _reject_control_characters(text, where)
    guid = canonical_guid(text)
    if guid is not None:
        return guid
    _reject_too_long(text, where)
    warning = guid_typo_warning(text, where, "matched")
    if warning:
        warnings.append(warning)
    return text


def _reject_control_characters(text: str, where: str) -> None:
    problem = control_character_problem(text, where)
    if problem:
        raise OptionError(problem)


def _reject_too_long(text: str, where: str) -> None:
    total = utf16_units(text)
    # Each character other than * stands for at least one character of the display name.
    needed = utf16_units("".join(char for char in text if char != "*"))
    if needed > MAX_DISPLAY_NAME_UTF16:
        raise OptionError(
            "%s is %d characters (UTF-16) long without its * wildcards; BITS display names are at most "
            "%d characters, so it could match no job" % (where, needed, MAX_DISPLAY_NAME_UTF16)
        )
    if total > MAX_PATTERN_UTF16:
        raise OptionError(
            "%s is %d characters (UTF-16) long; a pattern is at most %d characters"
            % (where, total, MAX_PATTERN_UTF16)
        )


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


# --- the result -----------------------------------------------------------------------------

# Facts of the raw result that the documented result does not have: the host echoes all_users, and
# error is null on success (on failure it is kept, as the facts behind the message).
HOST_ONLY_KEYS = ("all_users", "error")
# A documented job entry, in this order.
JOB_KEYS = ("id", "name", "owner", "owner_name", "state", "type", "flags", "flags_value", "unknown_flags_value",
            "helper_token_sid", "helper_token_name", "client_certificate", "creation_time", "modification_time",
            "error", "read_error", "read_errors")
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
    jobs = sorted((shape_job(job, caller, module_args) for job in host_jobs(raw)), key=guid_order)
    result = {key: value for key, value in raw.items() if key not in HOST_ONLY_KEYS}
    result.update(changed=False, exists=bool(jobs), jobs=jobs)
    warnings = host_warnings(raw) + [_read_warning(job) for job in jobs if job["read_errors"]]
    names_warning = _name_lookup_warning(raw.get("name_lookup"))
    if names_warning:
        warnings.append(names_warning)
    if warnings:
        result["warnings"] = warnings
    return result


def shape_info_failure(raw: t.Mapping[str, object], module_args: t.Mapping[str, object]) -> dict[str, object]:
    """An ordinary Ansible failure: ``msg`` explains, ``error`` and ``caller`` keep the host's facts.

    No ``jobs`` and no ``exists``: a host that failed listed nothing, and a partial list must not be
    mistaken for an audit.
    """
    facts = failure_facts(raw, module_args, target=describe_target(module_args))
    result = {key: value for key, value in raw.items() if key not in ("all_users", "jobs", "name_lookup")}
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
    flags = dword_from_host(job.get("flags_value"))
    read_errors = [shape_read_error(failure, job, caller, module_args) for failure in _host_read_errors(job)]
    shaped.update(
        flags=names_from_host(flags),
        flags_value=flags,
        unknown_flags_value=None if flags is None else flags & ~KNOWN_MASK,
        client_certificate=client_certificate if isinstance(client_certificate, bool) else None,
        error=shape_job_error(job),
        read_error=read_errors[0] if read_errors else None,
        read_errors=read_errors,
    )
    return {key: shaped[key] for key in JOB_KEYS}


def _host_read_errors(job: JobFacts) -> list[t.Mapping[str, object]]:
    """Each failed call of the job, as the host listed them; a host that reports only read_error has one."""
    listed = job.get("read_errors")
    if isinstance(listed, list):
        return [failure for failure in listed if isinstance(failure, abc.Mapping)]
    single = job.get("read_error")
    return [single] if isinstance(single, abc.Mapping) else []


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
    read_error: t.Mapping[str, object],
    job: JobFacts,
    caller: t.Mapping[str, object],
    module_args: t.Mapping[str, object],
) -> dict[str, object]:
    """One failed call of a job: the call, its HRESULT and what it means."""
    hresult = hresult_of(read_error)
    call = read_error.get("call")
    return {
        "call": call if isinstance(call, str) and call else None,
        "hresult": hresult,
        "hresult_hex": "0x%08X" % hresult if hresult is not None else None,
        "explanation": explain_read_error(read_error, job, caller, module_args),
    }


def _read_warning(job: t.Mapping[str, object]) -> str:
    """One warning per job some of whose calls failed: each failure explained, then what is still known."""
    failures = t.cast(t.List[t.Mapping[str, object]], job["read_errors"])
    explained = " ".join(str(failure["explanation"]) for failure in failures)
    if job["flags"] is None:
        known = "its flags among them"
    else:
        known = "its flags (%s) were read" % (", ".join(t.cast(t.List[str], job["flags"])) or "none")
    return ("%s The job is listed with every fact that could be read: only the facts of the failed call%s are null, "
            "%s." % (explained, "s" if len(failures) > 1 else "", known))


def _name_lookup_warning(lookup: object) -> str | None:
    """The one warning of a task whose account-name lookup ran out of time or failed, else None."""
    if not isinstance(lookup, abc.Mapping) or not (lookup.get("timed_out") is True or lookup.get("error")):
        return None
    unresolved, sids = lookup.get("unresolved"), lookup.get("sids")
    if lookup.get("timed_out") is True:
        why = ("the host's lookup of the owners' and helper tokens' SIDs did not finish within name_timeout (%s s): "
               "a domain controller that does not answer, or SIDs of a deleted or untrusted domain, can make it "
               "block for a long time" % _seconds(lookup.get("timeout_seconds")))
    else:
        error = t.cast(t.Mapping[str, object], lookup["error"])
        why = "the host's lookup of their SIDs failed (%s: %s)" % (error.get("call"), error.get("message"))
    return ("%s of %s account names (owner_name, helper_token_name) were left unresolved and are null: %s. The SIDs, "
            "the flags and every other fact are reported; raise name_timeout to wait longer for the names, or set "
            "it to 0 not to look them up." % (unresolved, sids, why))


def _seconds(value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "%g" % value
    return "?"


def _job_id(value: object) -> object:
    """GUIDs in one spelling, ``{UPPER-CASE}``, whatever the host wrote."""
    if isinstance(value, str):
        return canonical_guid(value) or value
    return value


def _caller(raw: t.Mapping[str, object]) -> t.Mapping[str, object]:
    caller = raw.get("caller")
    return caller if isinstance(caller, abc.Mapping) else {}
