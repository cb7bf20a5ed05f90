# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Explain bits_job_info's failures: the whole task (``explain_info_failure``) or one job that could not
be fully read (``explain_read_error``), by the same rules as a failed call.
"""
from __future__ import annotations

import dataclasses
import typing as t

from ..._jobs import JobFacts, same_sid
from .call_failures import (
    FailureFacts,
    access_rule,
    admin_status,
    explain_hresult,
    explain_reason,
    failed_call,
    host_message,
    no_interface,
)
from .hresults import E_ACCESSDENIED, E_NOINTERFACE, Explanation, FIRST_BUILD_FOR_OWNERS, sentence


def explain_info_failure(facts: FailureFacts) -> str:
    """The failure message of bits_job_info (which never writes, so there is no aftermath to tell)."""
    return sentence(_explain_info(dataclasses.replace(facts, module="bits_job_info")))


def _explain_info(facts: FailureFacts) -> Explanation:
    if facts.reason == "invalid_parameter":
        return Explanation(
            what="The host refused the module arguments for %s: %s" % (facts.subject, host_message(facts)),
            cause="the action plugin checked these arguments and the host disagrees, which is a bug in "
            "winbits.bits",
            fix="report it with this message; meanwhile check the job and all_users values",
        )
    if facts.hresult == E_ACCESSDENIED and facts.call == "EnumJobs" and facts.module_args.get("all_users") \
            and facts.is_admin is not True:
        return _list_all_users_denied(facts)
    return explain_reason(facts)


def _list_all_users_denied(facts: FailureFacts) -> Explanation:
    return Explanation(
        what=failed_call(facts),
        cause="all_users is true (the default), which lists the jobs of every user (BG_JOB_ENUM_ALL_USERS) "
        "and needs an administrator; %s %s" % (facts.caller_sid, admin_status(facts)),
        fix="set all_users: false to list only the jobs of %s, or connect as an administrator (or run the "
        "task with become: true, become_method: runas, become_user: SYSTEM)" % facts.caller_sid,
    )


# --- bits_job_info: one job could not be fully read --------------------------------------------


def explain_read_error(
    read_error: t.Mapping[str, object],
    job: JobFacts,
    caller: t.Mapping[str, object],
    module_args: t.Mapping[str, object],
) -> str:
    """Why reading one job stopped at ``read_error["call"]``, and what would let it be read."""
    facts = FailureFacts(
        error={**read_error, "job_id": job.get("id")},
        caller=caller,
        jobs=[job],
        module_args=module_args,
        desired_flags_value=None,
        changed=False,
        module="bits_job_info",
    )
    return sentence(_explain_read(facts))


def _explain_read(facts: FailureFacts) -> Explanation:
    hresult = facts.hresult
    if facts.reason == "host_exception":
        return explain_reason(facts)
    if hresult == E_NOINTERFACE or (facts.reason == "no_token_options" and hresult is None):
        return no_interface(facts)
    if hresult == E_ACCESSDENIED:
        return _read_access_denied(facts)
    return explain_hresult(facts)


def _read_access_denied(facts: FailureFacts) -> Explanation:
    if facts.is_admin is True:
        cause, fix = access_rule(facts)  # the filtered-token rule: the same for reading and writing
        return Explanation(what=failed_call(facts), cause=cause, fix=fix)
    owner = (facts.job or {}).get("owner")
    build = facts.os_build
    token_call = "IBitsTokenOptions" in (facts.call or "") or "HelperToken" in (facts.call or "")
    if token_call and build is not None and build < FIRST_BUILD_FOR_OWNERS:
        cause = ("before Windows 10 1607 (build %d) only administrators may use a job's IBitsTokenOptions; "
                 "this host is build %d and %s %s" % (FIRST_BUILD_FOR_OWNERS, build, facts.caller_sid,
                                                      admin_status(facts)))
    elif isinstance(owner, str) and facts.caller.get("sid") and not same_sid(owner, facts.caller.get("sid")):
        cause = ("only the job's owner (%s) and administrators may read it, and the caller %s is neither"
                 % (owner, facts.caller_sid))
    else:
        cause = "BITS denied %s, which %s, reading this job" % (facts.caller_sid, admin_status(facts))
    return Explanation(
        what=failed_call(facts),
        cause=cause,
        fix="connect as an administrator (or run the task with become: true, become_method: runas, "
        "become_user: SYSTEM); the facts %s did not read are null, every other fact is listed"
        % (facts.call or "the failed call"),
    )
