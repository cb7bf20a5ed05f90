"""Every error reason of the contract and every HRESULT of DESIGN.md section 3 gets cause and fix."""
from __future__ import annotations

import typing as t

from ansible_collections.winbits.bits.plugins.plugin_utils.bits_errors import (
    explain_failure,
    failure_facts,
    hresult_of,
)
from tests.unit.plugins.host_facts import (
    ADMIN_SID,
    GUID_A,
    GUID_B,
    OTHER_SID,
    USER_SID,
    caller,
    host_failure,
    host_job,
)

ARGS = {"job": "myDownloadJob", "flags": ["local_file", "network"], "all_matches": False, "all_users": False,
        "force": False}


def explain(raw: t.Mapping[str, object], **args: object) -> str:
    return explain_failure(failure_facts(raw, {**ARGS, **args}))


def assert_structure(message: str) -> None:
    assert ". Cause: " in message and ". Fix: " in message


# --- reasons --------------------------------------------------------------------------------


def test_invalid_parameter_is_reported_as_a_bug_with_the_host_message() -> None:
    message = explain(host_failure("invalid_parameter", message="flags: unknown name 'x'"))
    assert_structure(message)
    assert "flags: unknown name 'x'" in message
    assert "bug in winbits.bits" in message


def test_manager_unavailable_service_disabled() -> None:
    message = explain(host_failure("manager_unavailable", call="CoCreateInstance", hresult=0x80070422))
    assert_structure(message)
    assert "CoCreateInstance failed for job 'myDownloadJob' with 0x80070422 (ERROR_SERVICE_DISABLED)" in message
    assert "BITS) is disabled" in message
    assert "start_mode=manual" in message


def test_manager_unavailable_other_code() -> None:
    message = explain(host_failure("manager_unavailable", call="CoCreateInstance", hresult=0x80040154))
    assert_structure(message)
    assert "Could not connect to the BITS service" in message and "0x80040154" in message


def test_not_found_by_guid() -> None:
    message = explain(host_failure("not_found", call="GetJob", hresult=0x80200001), job=GUID_A)
    assert_structure(message)
    assert "No BITS job %r: GetJob returned 0x80200001 (BG_E_NOT_FOUND)" % GUID_A in message
    assert "No job's flags were changed." in message


def test_not_found_by_name_for_the_connecting_user_points_to_all_users() -> None:
    message = explain(host_failure("not_found", call="EnumJobs", who=caller(is_admin=False)))
    assert_structure(message)
    assert "No BITS job named 'myDownloadJob' among the jobs of %s" % USER_SID in message
    assert "all_users=true, which needs an administrator (the caller is not one)" in message


def test_not_found_by_name_among_all_users() -> None:
    message = explain(host_failure("not_found", call="EnumJobs", who=caller(is_admin=True)), all_users=True)
    assert "among the jobs of all users" in message
    assert "Get-BitsTransfer -AllUsers" in message
    assert "all_users=true, which" not in message


def test_ambiguous_lists_guids_names_and_owners() -> None:
    jobs = [host_job(), host_job(id=GUID_B, owner=OTHER_SID, state="QUEUED")]
    message = explain(host_failure("ambiguous", jobs=jobs))
    assert_structure(message)
    assert "matches 2 BITS jobs" in message
    assert "job %s (myDownloadJob) [owner %s, SUSPENDED]" % (GUID_A, USER_SID) in message
    assert "job %s (myDownloadJob) [owner %s, QUEUED]" % (GUID_B, OTHER_SID) in message
    assert "give one job's GUID as job, or set all_matches=true" in message


def test_no_token_options_means_bits_older_than_4() -> None:
    raw = host_failure("no_token_options", call="QueryInterface(IBitsTokenOptions)", hresult=0x80004002,
                       job_id=GUID_A, jobs=[host_job()], who=caller(os_build=6002))
    message = explain(raw)
    assert_structure(message)
    assert "QueryInterface(IBitsTokenOptions) failed for job %s (myDownloadJob) with 0x80004002 (E_NOINTERFACE)" % GUID_A in message
    assert "older than 4.0" in message and "build 6002" in message
    assert "Windows 7 or Windows Server 2008 R2" in message


def test_client_certificate_refusal_points_to_force() -> None:
    job = host_job(client_certificate=True, owner=USER_SID)
    message = explain(host_failure("client_certificate", job_id=GUID_A, jobs=[job]))
    assert_structure(message)
    assert "Refused to set network on job %s (myDownloadJob)" % GUID_A in message
    assert "owner (%s) is not LocalSystem (S-1-5-18)" % USER_SID in message
    assert "0x80072F9A (ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY)" in message
    assert "force=true" in message
    assert "No job's flags were changed." in message


def test_readback_mismatch_reports_written_and_read() -> None:
    job = host_job(previous_flags_value=0, flags_value=2, changed=True)
    raw = host_failure("readback_mismatch", call="GetHelperTokenFlags", job_id=GUID_A, jobs=[job], desired=3)
    message = explain(raw)
    assert_structure(message)
    assert "SetHelperTokenFlags wrote local_file, network (0x0003)" in message
    assert "GetHelperTokenFlags read back network (0x0002)" in message
    assert "between the write and the read-back" in message
    # The host did not restore it: the message must not pretend otherwise.
    assert "Flags already written and not restored: job %s (myDownloadJob) (now network (0x0002))." % GUID_A in message
    assert "No job's flags were changed" not in message


def test_com_error_with_unknown_hresult_names_call_job_and_hex() -> None:
    raw = host_failure("com_error", call="GetOwner", hresult=0x8007000E, job_id=GUID_A, jobs=[host_job()])
    message = explain(raw)
    assert_structure(message)
    assert "GetOwner failed for job %s (myDownloadJob) with 0x8007000E" % GUID_A in message
    assert "certutil -error 0x8007000E" in message


def test_unknown_reason_falls_back_to_the_hresult() -> None:
    message = explain(host_failure("something_new", call="Frobnicate", hresult=0x80004005))
    assert "Frobnicate failed for job 'myDownloadJob' with 0x80004005" in message


# --- HRESULTs -------------------------------------------------------------------------------


def com_error(hresult: int, call: str = "SetHelperTokenFlags", *, who: dict[str, object] | None = None,
              **job: object) -> dict[str, object]:
    return host_failure("com_error", call=call, hresult=hresult, job_id=GUID_A, jobs=[host_job(**job)], who=who)


def test_bg_e_not_found_while_working_on_a_job() -> None:
    message = explain(com_error(0x80200001, "GetState"))
    assert_structure(message)
    assert "0x80200001 (BG_E_NOT_FOUND)" in message and "left the transfer queue" in message


def test_bg_e_invalid_state_names_the_state() -> None:
    message = explain(com_error(0x80200002, state="ACKNOWLEDGED"))
    assert_structure(message)
    assert "0x80200002 (BG_E_INVALID_STATE)" in message
    assert "the job is ACKNOWLEDGED" in message and "acknowledged or cancelled" in message


def test_e_nointerface_as_com_error() -> None:
    message = explain(com_error(0x80004002, "QueryInterface(IBitsTokenOptions)"))
    assert "older than 4.0" in message


def test_error_not_logged_on_points_to_become() -> None:
    message = explain(com_error(0x800704DD, "EnumJobs"))
    assert_structure(message)
    assert "0x800704DD (ERROR_NOT_LOGGED_ON)" in message
    assert "network logon" in message and "become" in message


def test_client_cert_private_key_hresult() -> None:
    message = explain(com_error(0x80072F9A, "Resume", client_certificate=True))
    assert_structure(message)
    assert "0x80072F9A (ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY)" in message
    assert "remove network" in message


def test_service_disabled_as_com_error() -> None:
    message = explain(com_error(0x80070422, "EnumJobs"))
    assert "BITS) is disabled" in message


def test_hresult_is_read_from_hex_when_the_number_is_missing() -> None:
    assert hresult_of({"hresult": None, "hresult_hex": "0x80070005"}) == 0x80070005
    assert hresult_of({"hresult": -2147024891}) == 0x80070005  # a signed reading
    assert hresult_of({"hresult": None, "hresult_hex": "garbage"}) is None


# --- E_ACCESSDENIED: which rule applies ----------------------------------------------------


def test_access_denied_enumerating_all_users_without_admin() -> None:
    raw = host_failure("com_error", call="EnumJobs", hresult=0x80070005, who=caller(is_admin=False))
    message = explain(raw, all_users=True)
    assert_structure(message)
    assert "0x80070005 (E_ACCESSDENIED)" in message
    assert "(all_users=true) needs an administrator, and %s is not one" % USER_SID in message


def test_access_denied_before_build_14393() -> None:
    message = explain(com_error(0x80070005, who=caller(is_admin=False, os_build=10586)))
    assert "before Windows 10 1607 (build 14393) only administrators" in message
    assert "this host is build 10586" in message


def test_access_denied_caller_is_not_the_owner() -> None:
    message = explain(com_error(0x80070005, owner=OTHER_SID, who=caller(is_admin=False, os_build=17763)))
    assert "the job's owner is %s, the caller is %s" % (OTHER_SID, USER_SID) in message
    assert "run the task as the job's owner (become_user) or as an administrator" in message


def test_access_denied_owner_compared_case_insensitively() -> None:
    message = explain(com_error(0x80070005, owner=USER_SID.lower(), helper_token_sid=ADMIN_SID,
                                who=caller(is_admin=False)))
    assert "the job's owner is" not in message
    assert "helper token (%s) has the Administrators SID enabled" % ADMIN_SID in message


def test_access_denied_owner_with_a_helper_token_that_may_be_an_admins() -> None:
    message = explain(com_error(0x80070005, helper_token_sid=ADMIN_SID, who=caller(is_admin=False)))
    assert "%s owns the job" % USER_SID in message
    assert "helper token (%s) has the Administrators SID enabled" % ADMIN_SID in message


def test_access_denied_admin_still_denied_means_token_filtering() -> None:
    message = explain(com_error(0x80070005, owner=OTHER_SID, who=caller(sid=ADMIN_SID, is_admin=True)))
    assert "reported as an administrator and BITS still denied it" in message
    assert "UAC remote restrictions" in message and "LocalAccountTokenFilterPolicy" in message


def test_access_denied_opening_another_users_job() -> None:
    raw = host_failure("com_error", call="GetJob", hresult=0x80070005, who=caller(is_admin=False))
    message = explain(raw, job=GUID_A)
    assert "only administrators may open other users' jobs; %s is not an administrator" % USER_SID in message


def test_access_denied_owner_without_helper_token_falls_back_to_admin() -> None:
    message = explain(com_error(0x80070005, helper_token_sid=None, who=caller(is_admin=False)))
    assert "although the documented rule lets an owner set its own job's flags" in message
    assert "run the task as an administrator (become)" in message


def test_access_denied_on_query_interface_uses_the_same_rule() -> None:
    raw = host_failure("no_token_options", call="QueryInterface(IBitsTokenOptions)", hresult=0x80070005,
                       job_id=GUID_A, jobs=[host_job(owner=OTHER_SID)], who=caller(is_admin=False))
    message = explain(raw)
    assert "0x80070005 (E_ACCESSDENIED)" in message
    assert "the job's owner is %s" % OTHER_SID in message


# --- what became of earlier writes ----------------------------------------------------------


def test_rolled_back_jobs_are_named() -> None:
    first = host_job(changed=True, rolled_back=True, previous_flags_value=0, flags_value=0)
    second = host_job(id=GUID_B, name="other", owner=OTHER_SID)
    raw = host_failure("com_error", call="SetHelperTokenFlags", hresult=0x80070005, job_id=GUID_B,
                       jobs=[first, second], who=caller(is_admin=False))
    message = explain(raw)
    assert "SetHelperTokenFlags failed for job %s (other)" % GUID_B in message
    assert "The previous flags of job %s (myDownloadJob) were restored." % GUID_A in message
    assert "not restored" not in message
