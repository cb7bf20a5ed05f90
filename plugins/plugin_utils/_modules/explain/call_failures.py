# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Explain a failed bits_helper_token (or bits_job_info) call: what failed, why, and what to do.

The host reports facts only (docs/host-contract.md, "error"): a reason, the failed call, its HRESULT,
the job, plus the caller's SID, admin status and OS build and what it read of each job. The BITS
access rules (docs/dev/design.md) are applied here, on the controller.
"""
from __future__ import annotations

import dataclasses
import typing as t
from collections import abc

from ..._flags import format_flags
from ..._jobs import JobFacts, find_job, host_jobs, job_label, same_sid, sid_text
from .hresults import (
    BG_E_INVALID_STATE,
    BG_E_NOT_FOUND,
    CO_E_FAILEDTOIMPERSONATE,
    ERROR_NOT_LOGGED_ON,
    ERROR_SERVICE_DISABLED,
    ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY,
    E_ACCESSDENIED,
    E_NOINTERFACE,
    Explanation,
    FIRST_BUILD_FOR_OWNERS,
    LOCAL_SYSTEM_SID,
    RPC_X_BAD_STUB_DATA,
    hresult_of,
    hresult_text,
)


# error.call of a caller_identity failure that read the build (the other is WindowsIdentity.GetCurrent).
CALLER_BUILD_CALL = "Registry(CurrentBuildNumber)"
BECOME_SYSTEM = "become: true, become_method: runas, become_user: SYSTEM"
# The calls that write the helper token itself (helper_token: caller / absent), and the two that
# prepare SetHelperToken's proxy blanket (docs/host-contract.md).
SET_TOKEN_CALL = "SetHelperToken"
CLEAR_TOKEN_CALL = "ClearHelperToken"
TOKEN_CALLS = (SET_TOKEN_CALL, CLEAR_TOKEN_CALL)
BLANKET_CALLS = ("QueryInterface(IClientSecurity)", "IClientSecurity.SetBlanket")
HELPER_TOKEN_WRITES = ("absent", "caller")


@dataclasses.dataclass(frozen=True)
class FailureFacts:
    """Everything the host reported about a failure, with the task's own arguments."""

    error: t.Mapping[str, object]
    caller: t.Mapping[str, object]
    jobs: list[JobFacts]
    module_args: t.Mapping[str, object]
    desired_flags_value: object
    changed: bool
    # What the task was about when no one job was: bits_job_info's "the BITS jobs of all users".
    target: str | None = None
    # Which module failed: the advice to become SYSTEM says what SYSTEM then does.
    module: str = "bits_helper_token"
    # bits_helper_token's helper_token: keep, absent or caller.
    desired_helper_token: str = "keep"

    @property
    def writes_token(self) -> bool:
        """Whether the task set or cleared the helper token itself (not only its flags)."""
        return self.desired_helper_token in HELPER_TOKEN_WRITES

    @property
    def reason(self) -> str:
        return str(self.error.get("reason") or "unknown")

    @property
    def call(self) -> str | None:
        call = self.error.get("call")
        return call if isinstance(call, str) and call else None

    @property
    def hresult(self) -> int | None:
        return hresult_of(self.error)

    @property
    def job(self) -> JobFacts | None:
        return find_job(self.jobs, self.error.get("job_id"))

    @property
    def subject(self) -> str:
        """The job the failure is about: as read from the host, else as the task named it."""
        job = self.job
        if job is not None:
            return job_label(job)
        job_id = self.error.get("job_id")
        if isinstance(job_id, str) and job_id:
            return "job %s" % job_id
        if self.target:
            return self.target
        return "job %r" % self.module_args.get("job")

    @property
    def caller_sid(self) -> str:
        """The caller's SID for a message; the host reports null when it could not read it."""
        return self.known_caller_sid or "the connecting user"

    @property
    def known_caller_sid(self) -> str | None:
        sid = self.caller.get("sid")
        return sid if isinstance(sid, str) and sid else None

    @property
    def is_admin(self) -> bool | None:
        value = self.caller.get("is_admin")
        return value if isinstance(value, bool) else None

    @property
    def os_build(self) -> int | None:
        build = self.caller.get("os_build")
        # The host reports 0 when it could not tell.
        if isinstance(build, bool) or not isinstance(build, int) or build <= 0:
            return None
        return build


def failure_facts(
    raw: t.Mapping[str, object],
    module_args: t.Mapping[str, object],
    *,
    target: str | None = None,
) -> FailureFacts:
    """Collect the facts of a failed raw result (which has an ``error`` mapping)."""
    error = raw.get("error")
    caller = raw.get("caller")
    return FailureFacts(
        error=error if isinstance(error, abc.Mapping) else {},
        caller=caller if isinstance(caller, abc.Mapping) else {},
        jobs=host_jobs(raw),
        module_args=module_args,
        desired_flags_value=raw.get("desired_flags_value"),
        changed=bool(raw.get("changed")),
        target=target,
        desired_helper_token=desired_helper_token(raw, module_args),
    )


def desired_helper_token(raw: t.Mapping[str, object], module_args: t.Mapping[str, object]) -> str:
    """keep, absent or caller: as the host reported it (desired_helper_token), else as the task sent it."""
    for value in (raw.get("desired_helper_token"), module_args.get("helper_token")):
        if isinstance(value, str) and value.lower() in ("keep",) + HELPER_TOKEN_WRITES:
            return value.lower()
    return "keep"


def explain_failure(facts: FailureFacts) -> str:
    """The failure message: what, cause, fix, and what became of flags already written."""
    explanation = explain_reason(facts)
    message = "%s. Cause: %s. Fix: %s." % (explanation.what, explanation.cause, explanation.fix)
    aftermath = _aftermath(facts)
    return "%s %s" % (message, aftermath) if aftermath else message


# --- one function per reason ------------------------------------------------------------------


def explain_reason(facts: FailureFacts) -> Explanation:
    explain = _BY_REASON.get(facts.reason, _explain_com_error)
    return explain(facts)


def _explain_invalid_parameter(facts: FailureFacts) -> Explanation:
    return Explanation(
        what="The host refused the module arguments for %s: %s" % (facts.subject, host_message(facts)),
        cause="the action plugin checked these arguments and the host disagrees, which is a bug in "
        "winbits.bits",
        fix="report it with this message; meanwhile check the job, flags and helper_token values",
    )


def _explain_manager_unavailable(facts: FailureFacts) -> Explanation:
    if facts.hresult is not None and facts.hresult in _BY_HRESULT:
        return explain_hresult(facts)
    return Explanation(
        what="Could not connect to the BITS service for %s: %s failed with %s"
        % (facts.subject, facts.call or "CoCreateInstance", _code(facts)),
        cause="the BITS manager could not be created on the host",
        fix="check that the Background Intelligent Transfer Service (BITS) is installed and can start "
        "(Get-Service BITS), then run the task again",
    )


def _explain_not_found(facts: FailureFacts) -> Explanation:
    if facts.hresult is not None and facts.hresult != BG_E_NOT_FOUND:
        return explain_hresult(facts)
    if facts.hresult == BG_E_NOT_FOUND or facts.call == "GetJob":
        return _guid_not_found(facts, facts.call or "GetJob")
    return _name_not_found(facts)


def _guid_not_found(facts: FailureFacts, call: str) -> Explanation:
    return Explanation(
        what="No BITS job %r: %s returned %s" % (facts.module_args.get("job"), call, hresult_text(BG_E_NOT_FOUND)),
        cause="no job with this GUID is in the host's transfer queue: it never existed there, or it "
        "was completed or cancelled and has left the queue",
        fix="check the GUID on the host (Get-BitsTransfer -AllUsers, as an administrator) and use the "
        "GUID of a job that is still queued",
    )


def _name_not_found(facts: FailureFacts) -> Explanation:
    name = facts.module_args.get("job")
    if facts.module_args.get("all_users"):
        where = "among the jobs of all users"
        fix = ("check the display name on the host (Get-BitsTransfer -AllUsers); names are compared "
               "exactly, case included; or give the job's GUID")
    else:
        where = "among the jobs of %s" % facts.caller_sid
        fix = ("names are compared exactly, case included; a job of another user is only searched with "
               "all_users=true, which needs an administrator (%s); or give the job's GUID"
               % _admin_phrase(facts))
    return Explanation(
        what="No BITS job named %r %s" % (name, where),
        cause="no job in the transfer queue that %s may list has this display name" % facts.caller_sid,
        fix=fix,
    )


def _explain_ambiguous(facts: FailureFacts) -> Explanation:
    listed = "; ".join(_ambiguous_entry(job) for job in facts.jobs) or "(the host listed none)"
    return Explanation(
        what="The display name %r matches %d BITS jobs: %s"
        % (facts.module_args.get("job"), len(facts.jobs), listed),
        cause="display names are not unique, and all_matches is false, so the module will not guess",
        fix="give one job's GUID as job, or set all_matches=true to apply the flags to all of them",
    )


def _ambiguous_entry(job: JobFacts) -> str:
    details = ["owner %s" % job.get("owner")] if job.get("owner") else []
    if job.get("state"):
        details.append(str(job.get("state")))
    suffix = " [%s]" % ", ".join(details) if details else ""
    return "%s%s" % (job_label(job), suffix)


def _explain_no_token_options(facts: FailureFacts) -> Explanation:
    if facts.hresult is not None and facts.hresult != E_NOINTERFACE:
        return explain_hresult(facts)
    return no_interface(facts)


def _explain_client_certificate(facts: FailureFacts) -> Explanation:
    job = facts.job or {}
    return Explanation(
        what="Refused to set network on %s" % facts.subject,
        cause="the job has a client certificate and its owner (%s) is not LocalSystem (%s); Microsoft "
        "documents that such a job then fails with 0x%08X (ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY): "
        "the certificate's private key can no longer be reached"
        % (job.get("owner") or "unknown", LOCAL_SYSTEM_SID, ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY),
        fix="leave network out of flags for this job, or set force=true to set it anyway and accept "
        "that the job fails",
    )


def _explain_client_certificate_unknown(facts: FailureFacts) -> Explanation:
    job = facts.job or {}
    owner = job.get("owner") if isinstance(job.get("owner"), str) and job.get("owner") else None
    return Explanation(
        what="Refused to set network on %s without force" % facts.subject,
        cause="the module cannot tell whether the job has a client certificate: the caller %s is not the job's "
        "owner (%s), and IBackgroundCopyJobHttpOptions::GetClientCertificate answers %s both when a job has no "
        "client certificate and when the caller may not see it. If the job has one and its owner is not "
        "LocalSystem (%s), Microsoft documents that setting network makes the job fail with 0x%08X "
        "(ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY)"
        % (facts.caller_sid, owner or "not read", hresult_text(RPC_X_BAD_STUB_DATA), LOCAL_SYSTEM_SID,
           ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY),
        fix="run the task as the job's owner (become: true, become_method: runas, become_user: %s) so that the "
        "module can see the certificate (BITS may refuse that logon with ERROR_NOT_LOGGED_ON unless the owner is "
        "logged on), or set force=true if you know that the job has no client certificate"
        % _account_of(owner),
    )


def _account_of(sid: str | None) -> str:
    """How to name a SID's account to become_user."""
    if sid is None:
        return "the owner's account"
    return "SYSTEM" if same_sid(sid, LOCAL_SYSTEM_SID) else "the account of %s" % sid


def _explain_caller_identity(facts: FailureFacts) -> Explanation:
    code = " with %s" % hresult_text(facts.hresult) if facts.hresult is not None else ""
    what = "Could not read who the module runs as on the host, for %s: %s failed%s (%s)" % (
        facts.subject, facts.call or "reading the caller's identity", code, host_message(facts))
    if facts.call == CALLER_BUILD_CALL:
        cause = ("the module reads the Windows build (CurrentBuildNumber under HKLM\\SOFTWARE\\Microsoft\\Windows NT\\"
                 "CurrentVersion) to know which of BITS' rules apply, and the account it runs as may not read that "
                 "key: its registry permissions have been locked down")
        fix = ("check that this account can read the key (Get-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\"
               "CurrentVersion' CurrentBuildNumber, run as it) and give Users read access back, or run the task "
               "with %s" % BECOME_SYSTEM)
    else:
        cause = ("the module asks Windows for the SID and groups of the token it runs with (WindowsIdentity."
                 "GetCurrent), and that token could not be queried: a token without TOKEN_QUERY access, such as a "
                 "restricted or impersonation token handed on by the connection or by become")
        fix = ("check how the task connects to the host (the connection plugin, its user and any become settings; "
               "whoami /all, run as that user on the host, shows the token), or run the task with %s, which "
               "gives the module a full token of its own" % BECOME_SYSTEM)
    return Explanation(what=what, cause=cause, fix=fix)


def _explain_readback_mismatch(facts: FailureFacts) -> Explanation:
    job = facts.job or {}
    if facts.call == "GetHelperTokenSid":
        return _token_readback_mismatch(facts)
    return Explanation(
        what="The flags of %s changed under the module: SetHelperTokenFlags wrote %s, "
        "GetHelperTokenFlags read back %s"
        % (facts.subject, _flags_text(facts.desired_flags_value), _flags_text(job.get("flags_value"))),
        cause="something else (another program, task or user) changed the job's helper-token flags "
        "between the write and the read-back",
        fix="find what else manages this job's flags, then run the task again",
    )


def _token_readback_mismatch(facts: FailureFacts) -> Explanation:
    read = sid_text((facts.job or {}).get("helper_token_sid"))
    if facts.desired_helper_token == "caller":
        what = ("The helper token of %s is not the one the module set: SetHelperToken set the token of %s (the "
                "user the module runs as), GetHelperTokenSid read back %s" % (facts.subject, facts.caller_sid, read))
        cause = ("something else (another program, task or user) set or cleared the job's helper token between "
                 "the write and the read-back, or BITS took another identity's token than the module's (the "
                 "process's instead of the thread's, as happens when dynamic cloaking is not in effect)")
    else:
        what = ("The helper token of %s is back after the module cleared it: ClearHelperToken cleared it, "
                "GetHelperTokenSid read back %s" % (facts.subject, read))
        cause = "something else (another program, task or user) set a helper token between the write and the read-back"
    return Explanation(what=what, cause=cause,
                       fix="find what else manages this job's helper token, then run the task again")


def _explain_com_error(facts: FailureFacts) -> Explanation:
    return explain_hresult(facts)


def _explain_host_exception(facts: FailureFacts) -> Explanation:
    """An exception on the host that is not a failed BITS call: the host's message names its type."""
    return Explanation(
        what="%s failed on the host for %s with %s, an exception that is not a failed BITS call: %s"
        % (facts.call or "The module", facts.subject, _code(facts), host_message(facts)),
        cause="the .NET runtime or COM interop on the host failed, or winbits.bits has a bug; the module caught it "
        "and restored what this task had written before it stopped",
        fix="run the task again; if it fails the same way, report it with this message",
    )


_BY_REASON: dict[str, t.Callable[[FailureFacts], Explanation]] = {
    "invalid_parameter": _explain_invalid_parameter,
    "manager_unavailable": _explain_manager_unavailable,
    "not_found": _explain_not_found,
    "ambiguous": _explain_ambiguous,
    "no_token_options": _explain_no_token_options,
    "client_certificate": _explain_client_certificate,
    "com_error": _explain_com_error,
    "readback_mismatch": _explain_readback_mismatch,
    "client_certificate_unknown": _explain_client_certificate_unknown,
    "caller_identity": _explain_caller_identity,
    "host_exception": _explain_host_exception,
}


# --- one function per HRESULT -----------------------------------------------------------------


def explain_hresult(facts: FailureFacts) -> Explanation:
    if facts.call in BLANKET_CALLS:
        # Whatever the code (E_NOINTERFACE here is not an old BITS), the blanket could not be set.
        return _blanket_failure(facts)
    hresult = facts.hresult
    explain = _BY_HRESULT.get(hresult) if hresult is not None else None
    if explain is None:
        return _unknown_hresult(facts)
    return explain(facts)


def failed_call(facts: FailureFacts) -> str:
    """``SetHelperTokenFlags failed for job {...} (name) with 0x80070005 (E_ACCESSDENIED)``."""
    return "%s failed for %s with %s" % (facts.call or "A BITS call", facts.subject, _code(facts))


def _not_found_hresult(facts: FailureFacts) -> Explanation:
    if facts.call == "GetJob":
        return _guid_not_found(facts, "GetJob")
    return Explanation(
        what=failed_call(facts),
        cause="the job left the transfer queue while the module was working on it (completed, "
        "cancelled or removed by someone else)",
        fix="check the job on the host (Get-BitsTransfer -AllUsers) and run the task again",
    )


def _invalid_state(facts: FailureFacts) -> Explanation:
    state = (facts.job or {}).get("state")
    state_text = "is %s" % state if state else "is probably ACKNOWLEDGED or CANCELLED"
    return Explanation(
        what=failed_call(facts),
        cause="the job %s: BITS lets nobody change a job that is acknowledged or cancelled" % state_text,
        fix="this job's %s; target a job that is still active (with all_matches, a finished job of the "
        "same name may have matched)"
        % ("helper token can no longer be set or cleared" if facts.call in TOKEN_CALLS
           else "flags can no longer be set"),
    )


def _access_denied(facts: FailureFacts) -> Explanation:
    cause, fix = access_rule(facts)
    return Explanation(what=failed_call(facts), cause=cause, fix=fix)


def access_rule(facts: FailureFacts) -> tuple[str, str]:
    """Which documented rule denied the caller (docs/dev/design.md section 3), from the reported facts."""
    job = facts.job or {}
    owner = job.get("owner")
    caller = facts.caller_sid
    if facts.call == "EnumJobs" and facts.module_args.get("all_users") and facts.is_admin is not True:
        return (
            "listing the jobs of all users (all_users=true) needs an administrator, and %s is not one" % caller,
            "run the task as an administrator (become), or set all_users=false to search only the jobs of "
            "the connecting user",
        )
    if facts.call == SET_TOKEN_CALL and _set_token_on_a_job_of_another_before_owners_build(facts):
        # This rule holds whoever calls: an administrator is refused too.
        return _set_token_access_rule(facts)
    if facts.is_admin is True:
        return (
            "%s is reported as an administrator and BITS still denied it, so the token the module runs "
            "with is filtered: UAC remote restrictions strip the Administrators group from local accounts "
            "connecting over WinRM, or the session is not elevated" % caller,
            "use become (become_method: runas) to get a full token, or connect with a domain account that "
            "is in Administrators (for local accounts, LocalAccountTokenFilterPolicy governs the filtering)",
        )
    if facts.call == "GetJob":
        return (
            "the job belongs to another user, and only administrators may open other users' jobs; "
            "%s %s" % (caller, admin_status(facts)),
            "run the task as the job's owner or as an administrator (become)",
        )
    if facts.call in TOKEN_CALLS:
        return _token_access_rule(facts)
    build = facts.os_build
    if facts.is_admin is False and build is not None and build < FIRST_BUILD_FOR_OWNERS:
        return (
            "before Windows 10 1607 (build %d) only administrators can set helper-token flags; this host "
            "is build %d and %s is not an administrator" % (FIRST_BUILD_FOR_OWNERS, build, caller),
            "run the task as an administrator (become)",
        )
    if facts.known_caller_sid is None:
        # Without the caller's SID, the owner rule cannot be told apart from the helper-token rule.
        return (
            "the host could not say who the module runs as, so which of BITS' rules denied it is not known: a "
            "non-administrator may set only the flags of a job it owns (this job's owner is %s), and only while "
            "the job's helper token is not an administrator's"
            % (owner if isinstance(owner, str) and owner else "not read"),
            "run the task as the job's owner or as an administrator (%s)" % BECOME_SYSTEM,
        )
    if isinstance(owner, str) and not same_sid(owner, facts.known_caller_sid):
        return (
            "a non-administrator may only set the flags of a job it owns (its SID must equal the owner's "
            "when it queries IBitsTokenOptions); the job's owner is %s, the caller is %s" % (owner, caller),
            "run the task as the job's owner (become_user) or as an administrator",
        )
    helper_sid = job.get("helper_token_sid")
    if isinstance(helper_sid, str) and helper_sid:
        return (
            "%s owns the job, but a non-administrator may not change the flags while the job's current "
            "helper token (%s) has the Administrators SID enabled, as this one may" % (caller, helper_sid),
            "run the task as an administrator, or have the job's owner replace the helper token with one "
            "that is not an administrator's",
        )
    return (
        "BITS denied %s, which %s, although the documented rule lets an owner set its own job's flags "
        "from build %d on; the owner SID seen by BITS may differ (impersonation) or a policy forbids it"
        % (caller, admin_status(facts), FIRST_BUILD_FOR_OWNERS),
        "run the task as an administrator (become)",
    )


def _token_access_rule(facts: FailureFacts) -> tuple[str, str]:
    """Which rule of the call that failed denied a caller not reported as an administrator.

    Each call has its own documented rules: SetHelperToken, by build, and the impersonation level of
    Microsoft's sample; ClearHelperToken, by build. (The rule of a current helper token with
    the Administrators SID enabled is SetHelperTokenFlags', in access_rule.)
    """
    if facts.call == SET_TOKEN_CALL:
        return _set_token_access_rule(facts)
    return _clear_token_access_rule(facts)


def _set_token_on_a_job_of_another_before_owners_build(facts: FailureFacts) -> bool:
    """SetHelperToken before build 14393 on a job the caller does not own: its owner may not be an administrator.

    (A job the caller owns, when the caller is an administrator, is an administrator's job.)
    """
    build = facts.os_build
    if build is None or build >= FIRST_BUILD_FOR_OWNERS:
        return False
    owner = (facts.job or {}).get("owner")
    return not (isinstance(owner, str) and same_sid(owner, facts.known_caller_sid))


# Microsoft's helper-token sample: E_ACCESSDENIED can also mean that the impersonation level was not set.
_IMPERSONATION_CAUSE = (
    "; or BITS could not impersonate the caller at the level it needs (Microsoft's helper-token sample gives "
    "E_ACCESSDENIED when the impersonation level is not set): the module sets RPC_C_IMP_LEVEL_IMPERSONATE with "
    "dynamic cloaking on this job's IBitsTokenOptions proxy, so a COM security policy of the host that holds "
    "impersonation lower, or a token usable for identification only, would do it"
)


def _set_token_access_rule(facts: FailureFacts) -> tuple[str, str]:
    job = facts.job or {}
    owner = job.get("owner")
    owner_text = owner if isinstance(owner, str) and owner else "not read"
    caller = facts.caller_sid
    build = facts.os_build
    if build is not None and build < FIRST_BUILD_FOR_OWNERS:
        owner_is_caller = isinstance(owner, str) and same_sid(owner, facts.known_caller_sid)
        whose = ("it is owned by %s, the caller, which is not an administrator" % caller if owner_is_caller
                 else "its owner, %s, may not be one%s" % (owner_text, _even_for_an_administrator(facts)))
        return (
            "before Windows 10 1607 (build %d) BITS refuses SetHelperToken on a job that is not owned by an "
            "administrator; this host is build %d and %s%s" % (FIRST_BUILD_FOR_OWNERS, build, whose,
                                                               _IMPERSONATION_CAUSE),
            "on this build, set the helper token only on a job an administrator owns (one created by an "
            "administrator or by SYSTEM), or on a host of build %d or later" % FIRST_BUILD_FOR_OWNERS,
        )
    if isinstance(owner, str) and facts.known_caller_sid is not None and not same_sid(owner, facts.known_caller_sid):
        return (
            "from Windows 10 1607 (build %d) a non-administrator may set the helper token only on a job it owns (its "
            "SID must equal the owner's when it queries IBitsTokenOptions); the job's owner is %s, the caller is %s, "
            "which %s" % (FIRST_BUILD_FOR_OWNERS, owner, caller, admin_status(facts)),
            "run the task as the job's owner (become_user) or as an administrator (%s)%s"
            % (BECOME_SYSTEM, _whose_token(True)),
        )
    # The job's current helper token plays no part: Microsoft's rule is about the token being set, the caller's.
    return (
        "from Windows 10 1607 (build %d) BITS refuses SetHelperToken when the helper token being set has "
        "administrator privileges and the caller does not; that token is the caller's own, taken by impersonation, "
        "and %s %s, so BITS saw another identity than the module's%s"
        % (FIRST_BUILD_FOR_OWNERS, caller, admin_status(facts), _IMPERSONATION_CAUSE),
        _as_admin_fix(True),
    )


def _even_for_an_administrator(facts: FailureFacts) -> str:
    return " (the rule holds for an administrator too)" if facts.is_admin is True else ""


def _clear_token_access_rule(facts: FailureFacts) -> tuple[str, str]:
    """ClearHelperToken's own rule: before build 14393 only an administrator; from 14393 also the job's owner.

    (No rule about the job's current token or the caller's privileges: those are the other calls'.)
    """
    job = facts.job or {}
    owner = job.get("owner")
    owner_text = owner if isinstance(owner, str) and owner else "not read"
    caller = facts.caller_sid
    build = facts.os_build
    if build is not None and build < FIRST_BUILD_FOR_OWNERS:
        return (
            "before Windows 10 1607 (build %d) only an administrator may clear a job's helper token, even the "
            "job's owner may not; this host is build %d and %s %s"
            % (FIRST_BUILD_FOR_OWNERS, build, caller, admin_status(facts)),
            "run the task as an administrator (%s), or clear the token on a host of build %d or later as the "
            "job's owner" % (BECOME_SYSTEM, FIRST_BUILD_FOR_OWNERS),
        )
    if facts.known_caller_sid is None:
        return (
            "the host could not say who the module runs as; ClearHelperToken's documented rule: only an "
            "administrator or, from Windows 10 1607 (build %d), the job's owner (%s) may clear its helper token"
            % (FIRST_BUILD_FOR_OWNERS, owner_text),
            "run the task as an administrator (%s), or as the job's owner" % BECOME_SYSTEM,
        )
    if isinstance(owner, str) and not same_sid(owner, facts.known_caller_sid):
        return (
            "only an administrator or, from Windows 10 1607 (build %d), the job's owner may clear its helper "
            "token; the job's owner is %s, the caller is %s, which %s"
            % (FIRST_BUILD_FOR_OWNERS, owner, caller, admin_status(facts)),
            "run the task as the job's owner (become_user) or as an administrator (%s)" % BECOME_SYSTEM,
        )
    if build is None:
        return (
            "BITS denied %s, the job's owner, which %s: from Windows 10 1607 (build %d) ClearHelperToken's "
            "documented rule lets the job's owner clear its helper token, but before that build only an "
            "administrator may, and the host's build was not read" % (caller, admin_status(facts),
                                                                      FIRST_BUILD_FOR_OWNERS),
            _as_admin_fix(False),
        )
    return (
        "BITS denied %s, which %s, although from Windows 10 1607 (build %d) ClearHelperToken's documented rule "
        "lets the job's owner clear its helper token and this host is build %d; the identity BITS saw may differ "
        "(impersonation) or a policy forbids it" % (caller, admin_status(facts), FIRST_BUILD_FOR_OWNERS, build),
        _as_admin_fix(False),
    )


def _as_admin_fix(setting: bool) -> str:
    return "run the task as an administrator (%s)%s" % (BECOME_SYSTEM, _whose_token(setting))


def _whose_token(setting: bool) -> str:
    """What becoming someone else means for helper_token: caller - that user's token is what BITS sets."""
    if not setting:
        return ""
    return ("; the helper token is then the token of the user the task becomes (S-1-5-18 for SYSTEM), not the "
            "connecting user's")


def _failed_to_impersonate(facts: FailureFacts) -> Explanation:
    return Explanation(
        what=failed_call(facts),
        cause="BITS could not impersonate the caller to take its token: SetHelperToken needs a proxy blanket that "
        "allows impersonation (RPC_C_IMP_LEVEL_IMPERSONATE) with dynamic cloaking (EOAC_DYNAMIC_CLOAKING), and "
        "the module sets exactly that on this job's IBitsTokenOptions proxy just before the call, so something on "
        "the host blocked it: a COM security policy (machine-wide DCOM defaults or a Group Policy that holds "
        "impersonation to Identify, or authentication to RPC_C_AUTHN_LEVEL_NONE), or a token the module runs "
        "with that may be used for identification only",
        fix="check the host's COM security (dcomcnfg: Component Services > Computers > My Computer > Properties > "
        "Default Properties: Default Authentication Level Connect or higher, Default Impersonation Level "
        "Impersonate, and any Group Policy that sets them), or run the task with %s, which gives the module a "
        "full token of its own (SYSTEM's token, S-1-5-18, is then the helper token)" % BECOME_SYSTEM,
    )


def _blanket_failure(facts: FailureFacts) -> Explanation:
    if facts.call == "QueryInterface(IClientSecurity)":
        cause = ("the job's IBitsTokenOptions object is not a standard COM proxy, the only kind that has "
                 "IClientSecurity, so the module cannot give it the impersonation blanket SetHelperToken needs: "
                 "BITS normally runs in its own service and is reached through such a proxy, so something sits in "
                 "between (a shim or a custom marshaller) or BITS was loaded in-process")
        fix = ("check that BITS runs as its service (Get-Service BITS) and that nothing replaces its COM server "
               "(CLSID {4991d34b-80a1-4291-83b6-3328366b9097}); report it with this message. Flags and "
               "helper_token: absent need no blanket and still work")
    else:
        cause = ("COM refused the blanket SetHelperToken needs (RPC_C_IMP_LEVEL_IMPERSONATE with "
                 "EOAC_DYNAMIC_CLOAKING) on this job's IBitsTokenOptions proxy: the authentication service in use, "
                 "or a COM security policy on the host, does not allow it")
        fix = ("check the host's COM security (dcomcnfg: Component Services > Computers > My Computer > Properties "
               "> Default Properties) and look the code up (certutil -error %s). Flags and helper_token: absent "
               "need no blanket and still work" % ("0x%08X" % facts.hresult if facts.hresult is not None else "it"))
    return Explanation(what=failed_call(facts), cause=cause, fix=fix)


def no_interface(facts: FailureFacts) -> Explanation:
    build = facts.os_build
    on_host = " (Windows build %d)" % build if build is not None else ""
    return Explanation(
        what=failed_call(facts),
        cause="BITS on this host%s is older than 4.0 and has no IBitsTokenOptions interface" % on_host,
        fix="helper-token flags need BITS 4.0: Windows 7 or Windows Server 2008 R2 and later (Windows Vista "
        "and Server 2008 SP2 get it with the Windows Management Framework)",
    )


def _not_logged_on(facts: FailureFacts) -> Explanation:
    if facts.module != "bits_helper_token":
        acts = "jobs are listed as SYSTEM"
    elif facts.desired_helper_token == "caller":
        acts = ("flags and the helper token are read and set as SYSTEM, and helper_token: caller sets SYSTEM's own "
                "token (S-1-5-18) as the job's helper token, not the connecting user's")
    else:
        acts = "flags are read and set as SYSTEM"
    return Explanation(
        what=failed_call(facts),
        cause="BITS refuses this call to a caller with a network logon, which is what WinRM, PSRP and SSH give a "
        "task without become",
        fix="run the task with %s, which BITS accepts where runas to a named user was seen to fail "
        "(ansible/ansible#32492); SYSTEM, an administrator, is then the caller (its SID %s in caller), so %s"
        % (BECOME_SYSTEM, LOCAL_SYSTEM_SID, acts),
    )


def _client_cert_no_key(facts: FailureFacts) -> Explanation:
    return Explanation(
        what=failed_call(facts),
        cause="the job's client certificate's private key cannot be read; Microsoft documents this for a "
        "job with a client certificate, not owned by LocalSystem (%s), once network is set" % LOCAL_SYSTEM_SID,
        fix="remove network from this job's flags, or have the job owned by LocalSystem",
    )


def _service_disabled(facts: FailureFacts) -> Explanation:
    return Explanation(
        what=failed_call(facts),
        cause="the Background Intelligent Transfer Service (BITS) is disabled on the host",
        fix="enable it, e.g. ansible.windows.win_service with name=BITS start_mode=manual (or "
        "Set-Service -Name BITS -StartupType Manual), then run the task again",
    )


def _unknown_hresult(facts: FailureFacts) -> Explanation:
    code = "0x%08X" % facts.hresult if facts.hresult is not None else "an unknown error"
    return Explanation(
        what=failed_call(facts),
        cause="the host reported %s, which this module does not explain (%s)" % (code, host_message(facts)),
        fix="look the code up on the host (certutil -error %s) or in Microsoft's BITS return values; the "
        "facts are in the result's error key" % code,
    )


_BY_HRESULT: dict[int, t.Callable[[FailureFacts], Explanation]] = {
    BG_E_NOT_FOUND: _not_found_hresult,
    BG_E_INVALID_STATE: _invalid_state,
    E_ACCESSDENIED: _access_denied,
    E_NOINTERFACE: no_interface,
    ERROR_NOT_LOGGED_ON: _not_logged_on,
    ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY: _client_cert_no_key,
    ERROR_SERVICE_DISABLED: _service_disabled,
    CO_E_FAILEDTOIMPERSONATE: _failed_to_impersonate,
}


# --- small pieces -----------------------------------------------------------------------------


def _aftermath(facts: FailureFacts) -> str:
    """What the host reported about writes already made: restored, left in place, or none."""
    what = "flags and helper token" if facts.writes_token else "flags"
    restored = [job_label(job) for job in facts.jobs if job.get("rolled_back") is True]
    kept = [job for job in facts.jobs if job.get("changed") is True and job.get("rolled_back") is not True]
    parts = []
    if restored:
        parts.append("The previous %s of %s were restored." % (what, ", ".join(restored)))
    if kept:
        written = "Changes" if facts.writes_token else "Flags"
        now = ", ".join("%s (now %s)" % (job_label(job), _state_now(job, facts.writes_token)) for job in kept)
        parts.append("%s already written and not restored: %s." % (written, now))
    lost = [job for job in kept if _token_not_restorable(job, facts)]
    if lost:
        parts.append(
            "The previous helper token of %s could not be put back: BITS only ever sets the token of the caller "
            "(SetHelperToken takes no token), and %s another user's; to restore it, that user sets it again "
            "(this module with helper_token: caller, run as that user)."
            % (", ".join("%s (was %s)" % (job_label(job), job.get("previous_helper_token_sid")) for job in lost),
               "it was" if len(lost) == 1 else "each was"))
    if not parts and not facts.changed:
        parts.append("No job's %s changed." % ("flags or helper token were" if facts.writes_token else "flags were"))
    return " ".join(parts)


def _state_now(job: JobFacts, with_token: bool) -> str:
    flags = _flags_text(job.get("flags_value"))
    if not with_token:
        return flags
    return "flags %s, helper token %s" % (flags, sid_text(job.get("helper_token_sid")))


def _token_not_restorable(job: JobFacts, facts: FailureFacts) -> bool:
    """A helper token this run replaced or cleared that was not the caller's: the host cannot set it again."""
    previous = job.get("previous_helper_token_sid")
    if not isinstance(previous, str) or not previous:
        return False
    if job.get("helper_token_changed") is False or same_sid(previous, job.get("helper_token_sid")):
        return False
    return not same_sid(previous, facts.known_caller_sid)


def _admin_phrase(facts: FailureFacts) -> str:
    if facts.is_admin is True:
        return "the caller is one"
    if facts.is_admin is False:
        return "the caller is not one"
    return "the host did not say whether the caller is one"


def admin_status(facts: FailureFacts) -> str:
    if facts.is_admin is True:
        return "is an administrator"
    if facts.is_admin is False:
        return "is not an administrator"
    return "may not be an administrator"


def _code(facts: FailureFacts) -> str:
    return hresult_text(facts.hresult) if facts.hresult is not None else "no HRESULT"


def _flags_text(value: object) -> str:
    text = format_flags(value)
    return text if text == "unknown" else "%s (0x%04X)" % (text, int(t.cast(int, value)) & 0xFFFFFFFF)


def host_message(facts: FailureFacts) -> str:
    message = facts.error.get("message")
    return str(message) if message else "no message"
