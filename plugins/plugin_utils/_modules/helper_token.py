# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller half of bits_helper_token: the task's arguments in, the documented result out.

``normalise_task_args`` turns the task's arguments into the module arguments of docs/host-contract.md
or refuses them, before the host is contacted, so a bad task costs no round trip. ``shape_result``
turns the host's raw facts into the documented result, diff and warnings. It is faithful to the host:
``changed`` and every value come from what it reported; nothing is inferred to have changed that it
did not report.
"""
from __future__ import annotations

import dataclasses
import typing as t
from collections import abc

from .._action import OptionError, boolean_option, declared_options
from .._flags import (
    KNOWN_MASK,
    FLAG_BITS,
    FlagsError,
    canonical_names,
    dword_from_host,
    format_flags,
    names_from_host,
    parse_flags,
)
from .._jobs import JobFacts, JobReferenceError, host_jobs, job_label, normalise_job, same_sid, sid_text
from .action import ModuleArgs, host_warnings
from .explain import (
    BG_E_TOKEN_REQUIRED,
    ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY,
    LOCAL_SYSTEM_SID,
    desired_helper_token,
    explain_failure,
    failure_facts,
)


BOOLEAN_OPTIONS: tuple[str, ...] = ("all_matches", "all_users", "force")
# What to do with the job's helper token itself: leave it, clear it, or set it to the caller's token.
HELPER_TOKEN_CHOICES: tuple[str, ...] = ("keep", "absent", "caller")
HELPER_TOKEN_DEFAULT = "keep"
# Declared to Ansible's validator, which refuses any other option; the values are checked here.
ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {
    name: {"type": "raw"} for name in ("job", "flags", "helper_token") + BOOLEAN_OPTIONS
}


def normalise_task_args(args: t.Mapping[str, object]) -> ModuleArgs:
    """Return the module arguments: job as given (checked; a number made a string), flags as sorted
    canonical names (left out when the task leaves it out), helper_token in lower case (always sent,
    ``keep`` when left out), and the three booleans as real booleans."""
    declared_options(ARGUMENT_SPEC, args)
    if args.get("job") is None:
        raise OptionError("missing required argument: job (a BITS job display name or GUID)")
    warnings: list[str] = []
    try:
        module_args: dict[str, object] = {"job": normalise_job(args["job"], warnings)}
        desired = parse_flags(args.get("flags"))
    except (JobReferenceError, FlagsError) as error:
        raise OptionError(str(error)) from None
    if desired is not None:
        module_args["flags"] = canonical_names(desired)
    module_args["helper_token"] = _helper_token_option(args.get("helper_token"))
    for name in BOOLEAN_OPTIONS:
        module_args[name] = boolean_option(name, args.get(name), default=False)
    return ModuleArgs(module_args=module_args, warnings=warnings)


def _helper_token_option(value: object) -> str:
    """``keep``, ``absent`` or ``caller``, from any case; anything else names the option and the choices."""
    if value is None:
        return HELPER_TOKEN_DEFAULT
    if isinstance(value, str) and value.strip().lower() in HELPER_TOKEN_CHOICES:
        return value.strip().lower()
    shown = "%s %r" % (type(value).__name__, value) if not isinstance(value, str) else repr(value)
    raise OptionError(
        "helper_token must be one of %s (keep leaves the job's helper token as it is, absent clears it, caller "
        "sets it to the token of the user the module runs as), not %s" % (", ".join(HELPER_TOKEN_CHOICES), shown)
    )


# --- the result -----------------------------------------------------------------------------

# Facts the host returns for the controller's use only; the documented result does not have them.
HOST_ONLY_KEYS = ("desired_flags_value", "desired_helper_token")
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
    "previous_helper_token_sid": "previous_helper_token_sid",
    "helper_token_sid": "helper_token_sid",
}
NETWORK = FLAG_BITS["network"]


@dataclasses.dataclass(frozen=True)
class Desired:
    """What the task asked for, as the host understood it, and whether the host only compared."""

    flags: int | None  # None: flags left out (not touched)
    helper_token: str  # keep, absent or caller
    caller_sid: str | None  # whose token ``caller`` sets: the identity the module ran as
    check_mode: bool


def desired_of(raw: t.Mapping[str, object], module_args: t.Mapping[str, object], *, check_mode: bool) -> Desired:
    caller = raw.get("caller")
    sid = caller.get("sid") if isinstance(caller, abc.Mapping) else None
    return Desired(
        flags=dword_from_host(raw.get("desired_flags_value")),
        helper_token=desired_helper_token(raw, module_args),
        caller_sid=sid if isinstance(sid, str) and sid else None,
        check_mode=check_mode,
    )


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
    desired = desired_of(raw, module_args, check_mode=check_mode)
    result = _without_host_only_keys(raw)
    result.pop("error", None)  # null on success; documented as returned on failure only
    result["changed"] = raw.get("changed") is True
    result["jobs"] = [shape_job(job) for job in jobs]
    if len(jobs) == 1:
        result.update(single_job_keys(t.cast(dict, result["jobs"])[0]))
    if diff_mode and jobs:
        result["diff"] = build_diff(jobs, desired)
    warnings = build_warnings(jobs, desired)
    if warnings:
        result["warnings"] = host_warnings(raw) + warnings
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
        "unknown_flags_value": _unknown_bits(job.get("flags_value")),
        "previous_helper_token_sid": job.get("previous_helper_token_sid"),
        "helper_token_sid": job.get("helper_token_sid"),
        "client_certificate": job.get("client_certificate"),
        "changed": job.get("changed") is True,
    }


def _unknown_bits(value: object) -> int | None:
    """The bits of a flags value beyond local_file and network (a later BITS may define them)."""
    flags = dword_from_host(value)
    return None if flags is None else flags & ~KNOWN_MASK


def single_job_keys(job: t.Mapping[str, object]) -> dict[str, object]:
    return {top: job.get(key) for top, key in SINGLE_JOB_KEYS.items()}


def flags_after(job: JobFacts, desired: Desired) -> object:
    """The flags a job has after the task; in check mode, those it would have.

    In check mode the host writes nothing and reports the current flags, so a job whose flags it
    reports as (would be) changed would end up with the desired flags and the bits beyond them that
    it has (the host writes those back as they are).
    """
    if desired.check_mode and desired.flags is not None and _flags_would_change(job):
        return desired.flags | (_unknown_bits(job.get("previous_flags_value")) or 0)
    return job.get("flags_value")


def token_after(job: JobFacts, desired: Desired) -> object:
    """The helper-token SID a job has after the task (read back); in check mode, the one it would have:
    the caller's SID for ``caller``, null for ``absent``, when the host says the token would change."""
    if desired.check_mode and token_changed(job, desired):
        return desired.caller_sid if desired.helper_token == "caller" else None
    return job.get("helper_token_sid")


def _flags_would_change(job: JobFacts) -> bool:
    # A host that reports the two parts apart says which one; otherwise any change of the job is
    # taken for the flags, which is still right when only the token changes: the flags then already
    # equal the desired ones.
    if "flags_changed" in job:
        return job.get("flags_changed") is True
    return job.get("changed") is True


def token_changed(job: JobFacts, desired: Desired) -> bool:
    """Whether the task set or cleared (in check mode, would set or clear) this job's helper token."""
    if desired.helper_token not in ("absent", "caller"):
        return False
    if "helper_token_changed" in job:
        return job.get("helper_token_changed") is True
    if job.get("changed") is not True:
        return False
    previous = job.get("previous_helper_token_sid")
    if desired.helper_token == "absent":
        return previous is not None
    return not same_sid(previous, desired.caller_sid)


def build_diff(jobs: t.Sequence[JobFacts], desired: Desired) -> object:
    """Before/after text per job (flags, then the helper-token SID): one dict for one job, a list for several."""
    diffs = [_job_diff(job, desired) for job in jobs]
    return diffs[0] if len(diffs) == 1 else diffs


def _job_diff(job: JobFacts, desired: Desired) -> dict[str, str]:
    label = job_label(job)
    previous_sid = job.get("previous_helper_token_sid") if "previous_helper_token_sid" in job else _NOT_READ
    return {
        "before_header": label,
        "after_header": label,
        "before": _state_lines(label, job.get("previous_flags_value"), previous_sid),
        "after": _state_lines(label, flags_after(job, desired), token_after(job, desired)),
    }


_NOT_READ = object()


def _state_lines(label: str, flags: object, sid: object) -> str:
    token = "not read" if sid is _NOT_READ else sid_text(sid)
    return "%s: flags = %s\n%s: helper token = %s\n" % (label, format_flags(flags), label, token)


def build_warnings(jobs: t.Sequence[JobFacts], desired: Desired) -> list[str]:
    """Short warnings for the troubles the docs foresee, one per kind, naming the jobs concerned."""
    check_mode = desired.check_mode
    warnings = [
        _forced_warning(jobs, check_mode=check_mode),
        _forced_unknown_warning(jobs, check_mode=check_mode),
        _no_helper_token_warning(jobs, desired),
        _unused_token_warning(jobs, desired),
        _token_lifetime_warning(jobs, desired),
        _network_warning(jobs, desired),
        _unknown_bits_warning(jobs, desired),
    ]
    return [warning for warning in warnings if warning]


def _unknown_bits_warning(jobs: t.Sequence[JobFacts], desired: Desired) -> str | None:
    """flags set on jobs with bits this collection does not know: said aloud, as they were kept."""
    if desired.flags is None:
        return None
    marked = [job for job in jobs if _unknown_bits(job.get("previous_flags_value"))]
    if not marked:
        return None
    bits = sorted({name for job in marked for name in names_from_host(_unknown_bits(job.get("previous_flags_value")))
                   or []})
    return ("%s %s helper-token flag bits this collection does not know (%s), as a later BITS may define: flags "
            "compares and sets only local_file and network, and kept those bits as they are"
            % (_labels(marked), _have(marked), ", ".join(bits)))


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


def _no_helper_token_warning(jobs: t.Sequence[JobFacts], desired: Desired) -> str | None:
    """Flags that the job ends up with (set, or kept while its token is cleared) and no token to use them."""
    # Only where this task changes (or would change) the job: repeating it on every idempotent run is noise.
    tokenless = [job for job in jobs if job.get("changed") is True and "helper_token_sid" in job
                 and token_after(job, desired) is None and bool(dword_from_host(flags_after(job, desired)))]
    if not tokenless:
        return None
    return (
        "%s %s no helper token: its helper-token flags do nothing until a helper token is set with "
        "IBitsTokenOptions::SetHelperToken (helper_token: caller)" % (_labels(tokenless), _have(tokenless))
    )


def _unused_token_warning(jobs: t.Sequence[JobFacts], desired: Desired) -> str | None:
    """A token set (or that would be set) on a job whose flags send nothing through it."""
    if desired.helper_token != "caller":
        return None
    flagless = [job for job in jobs if token_changed(job, desired)
                and dword_from_host(flags_after(job, desired)) == 0]
    if not flagless:
        return None
    return (
        "%s %s no helper-token flags: the helper token %s is not used for anything until flags name the "
        "resources BITS opens with it (flags: [local_file], [network] or both)"
        % (_labels(flagless), _have(flagless), "it would get" if desired.check_mode else "just set")
    )


def _token_lifetime_warning(jobs: t.Sequence[JobFacts], desired: Desired) -> str | None:
    """A token set from this task's logon lasts only as long as that logon session."""
    if desired.helper_token != "caller":
        return None
    newly = [job for job in jobs if token_changed(job, desired)]
    if not newly:
        return None
    return (
        "the helper token of %s %s set to the token of %s, the user the module runs as. BITS keeps a helper "
        "token only as long as the logon session it was set from and discards it when that user logs off; a "
        "job that needs it then fails with 0x%08X (BG_E_TOKEN_REQUIRED). Over WinRM, PSRP or SSH that session "
        "is this task's own logon (the connection's, or become's), which ends with the task: apply the token "
        "again where a logon of that user lasts as long as the job needs the token (e.g. a scheduled task on the "
        "host that runs as that user, sets it and keeps running), or run the play again shortly before the job "
        "needs it"
        % (_labels(newly), "would be" if desired.check_mode else "is now", desired.caller_sid or "the caller",
           BG_E_TOKEN_REQUIRED)
    )


def _network_warning(jobs: t.Sequence[JobFacts], desired: Desired) -> str | None:
    added = [job for job in jobs if _adds_network(job, desired)]
    if not added:
        return None
    return (
        "network %s set on %s: over HTTP, BITS sends implicit NTLM or Kerberos credentials only if the "
        "job's owner also calls IBackgroundCopyJob2::SetCredentials(..., NULL, NULL)"
        % ("would be" if desired.check_mode else "is now", _labels(added))
    )


def _adds_network(job: JobFacts, desired: Desired) -> bool:
    if job.get("changed") is not True:
        return False
    before = dword_from_host(job.get("previous_flags_value"))
    after = dword_from_host(flags_after(job, desired))
    return before is not None and after is not None and not before & NETWORK and bool(after & NETWORK)


def _labels(jobs: t.Sequence[JobFacts]) -> str:
    return ", ".join(job_label(job) for job in jobs)


def _have(jobs: t.Sequence[JobFacts]) -> str:
    return "has" if len(jobs) == 1 else "have"


def _be(jobs: t.Sequence[JobFacts]) -> str:
    return "is" if len(jobs) == 1 else "are"


def _without_host_only_keys(raw: t.Mapping[str, object]) -> dict[str, object]:
    return {key: value for key, value in raw.items() if key not in HOST_ONLY_KEYS}
