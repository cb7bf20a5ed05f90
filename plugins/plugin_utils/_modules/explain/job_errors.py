# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Explain the error a BITS job is in (state ERROR or TRANSIENT_ERROR), from a table of the job errors
BITS reports (``explain_job_error``).
"""
from __future__ import annotations

import dataclasses
import typing as t

from ..._flags import FLAG_BITS, dword_from_host, format_flags
from ..._jobs import JobFacts
from .hresults import (
    BG_E_DESTINATION_LOCKED,
    BG_E_HTTP_ERROR_401,
    BG_E_HTTP_ERROR_403,
    BG_E_HTTP_ERROR_404,
    BG_E_HTTP_ERROR_407,
    BG_E_NETWORK_DISCONNECTED,
    BG_E_TIMEOUT,
    BG_E_TOKEN_REQUIRED,
    ERROR_NOT_LOGGED_ON,
    ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY,
    E_ACCESSDENIED,
    Explanation,
    HRESULT_NAMES,
    LOCAL_SYSTEM_SID,
    hresult_of,
    sentence,
)


# BG_ERROR_CONTEXT, for a host that reports only the number.
ERROR_CONTEXTS: dict[int, str] = {
    0: "NONE",
    1: "UNKNOWN",
    2: "GENERAL_QUEUE_MANAGER",
    3: "QUEUE_MANAGER_NOTIFICATION",
    4: "LOCAL_FILE",
    5: "REMOTE_FILE",
    6: "GENERAL_TRANSPORT",
    7: "REMOTE_APPLICATION",
}
LOCAL_FILE_RESOURCES = ("the job's local file (the local file of an upload, the temporary file of a download, "
                        "the reply file of an upload-reply)")
REMOTE_FILE_RESOURCES = "the job's remote file (on an SMB share, or an HTTP server asking for NTLM or Kerberos)"


@dataclasses.dataclass(frozen=True)
class JobErrorFacts:
    """A job's error as the host read it (GetError), with the rest of the job's facts."""

    error: t.Mapping[str, object]
    job: JobFacts

    @property
    def hresult(self) -> int | None:
        return hresult_of(self.error)

    @property
    def context(self) -> str | None:
        """The BG_ERROR_CONTEXT name: as the host wrote it, else from its number."""
        name = self.error.get("context")
        if isinstance(name, str) and name:
            return name
        value = self.error.get("context_value")
        return ERROR_CONTEXTS.get(value) if isinstance(value, int) else None

    @property
    def flags(self) -> int | None:
        return dword_from_host(self.job.get("flags_value"))

    @property
    def state(self) -> str | None:
        state = self.job.get("state")
        return state if isinstance(state, str) else None

    @property
    def owner(self) -> str:
        """``the job's owner, NT AUTHORITY\\SYSTEM (S-1-5-18)``."""
        return "the job's owner, %s" % _account(self.job.get("owner_name"), self.job.get("owner"))

    @property
    def helper(self) -> str:
        """``the helper token's account, CORP\\svc-sync (S-1-5-21-...)``, or that the job has none."""
        if "helper_token_sid" in self.job and self.job.get("helper_token_sid") is None:
            return "the helper token (the job has none now)"
        return "the helper token's account, %s" % _account(self.job.get("helper_token_name"),
                                                           self.job.get("helper_token_sid"))

    def has_flag(self, name: str) -> bool | None:
        """Whether the job's flags include ``name``; None when they could not be read."""
        flags = self.flags
        return None if flags is None else bool(flags & FLAG_BITS[name])

    def account_for(self, flag: str) -> str:
        """Whose context BITS uses for the resources ``flag`` routes through the helper token."""
        routed = self.has_flag(flag)
        if routed is None:
            return "%s or, if %s is set, %s" % (self.owner, flag, self.helper)
        return self.helper if routed else self.owner


def job_error_name(hresult: int | None) -> str | None:
    """The symbolic name of a job error this collection knows, e.g. ``BG_E_TOKEN_REQUIRED``."""
    if hresult is None:
        return None
    return JOB_ERROR_NAMES.get(hresult) or HRESULT_NAMES.get(hresult)


def explain_job_error(error: t.Mapping[str, object], job: JobFacts) -> str:
    """Cause and fix of the error a job is in, in the words of the job's own facts."""
    facts = JobErrorFacts(error=error, job=job)
    hresult = facts.hresult
    explain = _BY_JOB_ERROR.get(hresult, _unknown_job_error) if hresult is not None else _unknown_job_error
    return sentence(explain(facts))


def _job_error_what(facts: JobErrorFacts) -> str:
    hresult = facts.hresult
    code = "an error without an HRESULT" if hresult is None else "0x%08X" % hresult
    name = job_error_name(hresult)
    if name:
        code += " (%s)" % name
    context = facts.context
    return "The job is in error %s%s" % (code, " in the %s context" % context if context else "")


def _token_required(facts: JobErrorFacts) -> Explanation:
    flags = facts.flags
    uses = "the job's flags (%s) send" % format_flags(flags) if flags else "the job's flags send"
    return Explanation(
        what=_job_error_what(facts),
        cause="%s some of its work through its helper token, and BITS discarded that token at a log-off: "
        "BITS keeps a helper token only as long as the logon session it was set from" % uses,
        fix="set the helper token again (IBitsTokenOptions::SetHelperToken) while its user is logged on, from "
        "the program or service that manages the job, then resume the job (Resume-BitsTransfer); or, if "
        "the job does not need the helper token, clear its flags with winbits.bits.bits_helper_token "
        "(flags: []) and resume it",
    )


def _job_access_denied(facts: JobErrorFacts) -> Explanation:
    if facts.context == "LOCAL_FILE":
        return _token_routed_denial(facts, "local_file", LOCAL_FILE_RESOURCES)
    if facts.context == "REMOTE_FILE":
        return _token_routed_denial(facts, "network", REMOTE_FILE_RESOURCES)
    return Explanation(
        what=_job_error_what(facts),
        cause="an account BITS used for this job was denied access: %s or, for the resources its flags "
        "(%s) name, %s" % (facts.owner, format_flags(facts.flags), facts.helper),
        fix="give that account access to what the job reads and writes, then resume the job",
    )


def _token_routed_denial(facts: JobErrorFacts, flag: str, resources: str) -> Explanation:
    """Access denied on a resource that ``flag`` routes through the helper token when it is set."""
    routed = facts.has_flag(flag)
    if routed is True:
        why = "%s is set" % flag
        fix = ("give that account access to it, or remove %s from the job's flags (winbits.bits.bits_helper_token) "
               "so that BITS opens it as the job's owner, who then needs the access" % flag)
    elif routed is False:
        why = "%s is not set" % flag
        fix = ("give the owner access to it, or have BITS open it as a helper token's account that has access: "
               "set the helper token and add %s to the job's flags (winbits.bits.bits_helper_token)" % flag)
    else:
        why = "the flags could not be read"
        fix = "give that account access to it; %s in the job's flags decides which account it is" % flag
    return Explanation(
        what=_job_error_what(facts),
        cause="BITS opened %s as %s, and that account may not open it (%s)" % (resources, facts.account_for(flag), why),
        fix=fix + "; then resume the job",
    )


def _job_not_logged_on(facts: JobErrorFacts) -> Explanation:
    return Explanation(
        what=_job_error_what(facts),
        cause="BITS has no logon session of %s, to transfer with: it transfers a job only while its owner is "
        "logged on, and a network logon (WinRM, PSRP or SSH without become) does not count" % facts.owner,
        fix="create and manage the job from a logon BITS accepts; with Ansible, become: true, "
        "become_method: runas, become_user: SYSTEM (SYSTEM, an administrator, is then the caller, its SID "
        "%s in caller, and owns the jobs it creates); or keep the owner logged on; then resume the job"
        % LOCAL_SYSTEM_SID,
    )


def _http_unauthorized(facts: JobErrorFacts) -> Explanation:
    return _http_challenge(facts, "the HTTP server answered 401 Unauthorized")


def _proxy_unauthorized(facts: JobErrorFacts) -> Explanation:
    return _http_challenge(facts, "the proxy answered 407 Proxy Authentication Required")


def _http_challenge(facts: JobErrorFacts, answered: str) -> Explanation:
    """401 and 407: the network flag decides whose implicit credentials BITS offers."""
    if facts.has_flag("network") is True:
        cause = ("%s: it refused the credentials BITS offered; network is set, so BITS answers NTLM or Kerberos "
                 "challenges as %s, and over HTTP only if the job's owner also called "
                 "IBackgroundCopyJob2::SetCredentials(..., NULL, NULL)" % (answered, facts.helper))
        fix = ("check that this account may use the URL and that the job allows implicit credentials "
               "(SetCredentials with a NULL user name and password), or give the job explicit credentials "
               "(Set-BitsTransfer -Credential); then resume the job")
    else:
        cause = ("%s: it wants credentials the job did not give; BITS answers NTLM or Kerberos challenges as %s, "
                 "and over HTTP only after SetCredentials(..., NULL, NULL)" % (answered, facts.account_for("network")))
        fix = ("give the job credentials (Set-BitsTransfer -Credential), or let BITS answer as a helper token's "
               "account that the server accepts: set the helper token, add network to the job's flags "
               "(winbits.bits.bits_helper_token) and call SetCredentials(..., NULL, NULL); then resume the job")
    return Explanation(what=_job_error_what(facts), cause=cause, fix=fix)


def _http_forbidden(facts: JobErrorFacts) -> Explanation:
    return Explanation(
        what=_job_error_what(facts),
        cause="the HTTP server answered 403 Forbidden: it refuses the URL to the account BITS presented, %s"
        % facts.account_for("network"),
        fix="grant that account access on the server, or have BITS present one that has it (network in the "
        "job's flags decides between the owner and the helper token; winbits.bits.bits_helper_token sets "
        "them); then resume the job",
    )


def _http_not_found(facts: JobErrorFacts) -> Explanation:
    return Explanation(
        what=_job_error_what(facts),
        cause="the HTTP server answered 404 Not Found: the job's remote URL does not exist there (moved, "
        "misspelt or removed); the helper token and its flags play no part in this",
        fix="correct the job's remote name (IBackgroundCopyFile2::SetRemoteName, or create the job again) "
        "and resume it, or cancel the job",
    )


def _network_disconnected(facts: JobErrorFacts) -> Explanation:
    return Explanation(
        what=_job_error_what(facts),
        cause="the host had no network connection when BITS tried to transfer",
        fix=_retry_fix(facts, "restore the host's network connection"),
    )


def _timeout(facts: JobErrorFacts) -> Explanation:
    return Explanation(
        what=_job_error_what(facts),
        cause="the server or a proxy did not answer in time",
        fix=_retry_fix(facts, "check that the server and any proxy answer from this host"),
    )


def _retry_fix(facts: JobErrorFacts, remedy: str) -> str:
    if facts.state == "TRANSIENT_ERROR":
        return "usually none: BITS retries a job in TRANSIENT_ERROR by itself; if it persists, %s" % remedy
    return ("%s, then resume the job (Resume-BitsTransfer): BITS does not retry a job in ERROR, as it gave up "
            "after the job's no-progress timeout" % remedy)


def _job_client_cert_no_key(facts: JobErrorFacts) -> Explanation:
    return Explanation(
        what=_job_error_what(facts),
        cause="BITS could not read the private key of the job's client certificate: Microsoft documents this "
        "for a job with a client certificate whose owner is not LocalSystem (%s) once network is set; this "
        "job's owner is %s and its flags are %s"
        % (LOCAL_SYSTEM_SID, _account(facts.job.get("owner_name"), facts.job.get("owner")), format_flags(facts.flags)),
        fix="remove network from the job's flags (winbits.bits.bits_helper_token), or have the job owned by "
        "LocalSystem, then resume it",
    )


def _destination_locked(facts: JobErrorFacts) -> Explanation:
    return Explanation(
        what=_job_error_what(facts),
        cause="another program has the job's destination file open, so BITS cannot create or replace it",
        fix="close the program that holds the file (or wait for it to let go), then resume the job",
    )


def _unknown_job_error(facts: JobErrorFacts) -> Explanation:
    hresult = facts.hresult
    code = "0x%08X" % hresult if hresult is not None else "an error without an HRESULT"
    description = facts.error.get("description")
    said = "the host's description: %s" % str(description).strip() if description else "no description"
    return Explanation(
        what=_job_error_what(facts),
        cause="BITS reported %s in the %s context, which winbits.bits does not explain (%s)"
        % (code, facts.context or "unknown", said),
        fix="look the code up on the host (certutil -error %s) or in Microsoft's BITS return values, "
        "then resume the job once its cause is gone" % code,
    )


def _account(name: object, sid: object) -> str:
    """``CORP\\svc-sync (S-1-5-21-...)``, or whichever of the two the host reported."""
    has_name = isinstance(name, str) and bool(name)
    has_sid = isinstance(sid, str) and bool(sid)
    if has_name and has_sid:
        return "%s (%s)" % (name, sid)
    if has_sid or has_name:
        return str(sid if has_sid else name)
    return "not read"


JOB_ERROR_NAMES: dict[int, str] = {
    BG_E_TOKEN_REQUIRED: "BG_E_TOKEN_REQUIRED",
    BG_E_HTTP_ERROR_401: "BG_E_HTTP_ERROR_401",
    BG_E_HTTP_ERROR_403: "BG_E_HTTP_ERROR_403",
    BG_E_HTTP_ERROR_404: "BG_E_HTTP_ERROR_404",
    BG_E_HTTP_ERROR_407: "BG_E_HTTP_ERROR_407",
    BG_E_NETWORK_DISCONNECTED: "BG_E_NETWORK_DISCONNECTED",
    BG_E_TIMEOUT: "BG_E_TIMEOUT",
    BG_E_DESTINATION_LOCKED: "BG_E_DESTINATION_LOCKED",
}

# One explanation per job error; E_ACCESSDENIED, ERROR_NOT_LOGGED_ON and 0x80072F9A keep their
# HRESULT_NAMES names but are explained here as the job's error, not as a failed call of ours.
_BY_JOB_ERROR: dict[int, t.Callable[[JobErrorFacts], Explanation]] = {
    BG_E_TOKEN_REQUIRED: _token_required,
    E_ACCESSDENIED: _job_access_denied,
    ERROR_NOT_LOGGED_ON: _job_not_logged_on,
    BG_E_HTTP_ERROR_401: _http_unauthorized,
    BG_E_HTTP_ERROR_403: _http_forbidden,
    BG_E_HTTP_ERROR_404: _http_not_found,
    BG_E_HTTP_ERROR_407: _proxy_unauthorized,
    BG_E_NETWORK_DISCONNECTED: _network_disconnected,
    BG_E_TIMEOUT: _timeout,
    ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY: _job_client_cert_no_key,
    BG_E_DESTINATION_LOCKED: _destination_locked,
}
