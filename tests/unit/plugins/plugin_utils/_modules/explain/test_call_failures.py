"""Every error reason of the host contract and every HRESULT the collection names gets a cause and a fix."""
from __future__ import annotations

import typing as t

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._modules.explain import hresults
from ansible_collections.winbits.bits.plugins.plugin_utils._modules.explain import (
    explain_failure,
    explain_info_failure,
    explain_read_error,
    failure_facts,
    hresult_of,
)
from ansible_collections.winbits.bits.tests.unit.utils.explain_checks import assert_structure
from tests.support.sdk_headers import hresult_from_win32, sdk_constant
from ansible_collections.winbits.bits.tests.unit.utils.job_info_facts import raw_failure, raw_job, read_error
from ansible_collections.winbits.bits.tests.unit.utils.host_facts import (
    ADMIN_SID,
    GUID_A,
    GUID_B,
    LOCAL_SYSTEM,
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


def unknown_certificate(**job: object) -> dict[str, object]:
    """What the host reports when adding network meets a job whose certificate the caller may not see."""
    facts = {"client_certificate": None, "owner": OTHER_SID, "previous_flags_value": 1, "flags_value": 1, **job}
    return host_failure("client_certificate_unknown", job_id=GUID_A, jobs=[host_job(**facts)],
                        who=caller(sid=ADMIN_SID, is_admin=True), desired=3)


def test_client_certificate_unknown_says_why_the_module_cannot_tell_and_how_to_let_it() -> None:
    message = explain(unknown_certificate())
    assert_structure(message)
    assert message.startswith("Refused to set network on job %s (myDownloadJob) without force. " % GUID_A)
    # The cause: who is not the owner, and the ambiguous answer of BITS.
    assert "the caller %s is not the job's owner (%s)" % (ADMIN_SID, OTHER_SID) in message
    assert "GetClientCertificate answers 0x800706F7 (RPC_X_BAD_STUB_DATA) both when a job has no client " \
        "certificate and when the caller may not see it" in message
    assert "its owner is not LocalSystem (S-1-5-18)" in message
    assert "0x80072F9A (ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY)" in message
    # The fix: become the owner to see, or force when the user knows.
    assert "become: true, become_method: runas, become_user: the account of %s" % OTHER_SID in message
    assert "or set force=true if you know that the job has no client certificate" in message
    assert message.endswith("No job's flags were changed.")


def test_client_certificate_unknown_without_owner_or_caller_sid_still_explains() -> None:
    raw = unknown_certificate(owner=None)
    raw["caller"] = {"sid": None, "is_admin": None, "os_build": None}
    message = explain(raw)
    assert_structure(message)
    assert "the caller the connecting user is not the job's owner (not read)" in message
    assert "become_user: the owner's account" in message
    assert "None" not in message


def test_rpc_x_bad_stub_data_is_the_sdks() -> None:
    assert hresult_from_win32(t.cast(int, sdk_constant("winerror.h", "RPC_X_BAD_STUB_DATA"))) == \
        hresults.RPC_X_BAD_STUB_DATA


@pytest.mark.parametrize(("call", "hresult", "cause", "check"), [
    ("WindowsIdentity.GetCurrent", 0x80070005, "token could not be queried: a token without TOKEN_QUERY access",
     "whoami /all"),
    ("WindowsIdentity.GetCurrent", None, "token could not be queried", "the connection plugin, its user"),
    ("Registry(CurrentBuildNumber)", None, "may not read that key: its registry permissions have been locked down",
     "Get-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion' CurrentBuildNumber"),
])
def test_caller_identity_says_what_could_not_be_read_and_what_to_check(
        call: str, hresult: int | None, cause: str, check: str) -> None:
    net_message = "Requested registry access is not allowed." if call.startswith("Registry") else "Access is denied."
    raw = host_failure("caller_identity", call=call, hresult=hresult, message=net_message,
                       who={"sid": None, "is_admin": None, "os_build": None})
    for message in (explain(raw), explain_info_failure(failure_facts(raw, {"job": None, "all_users": True},
                                                                     target="the BITS jobs of all users"))):
        assert_structure(message)
        code = " with 0x80070005 (E_ACCESSDENIED)" if hresult else ""
        assert "Could not read who the module runs as on the host, for " in message
        assert ": %s failed%s (%s). Cause: " % (call, code, net_message) in message
        assert cause in message and check in message
        assert "become: true, become_method: runas, become_user: SYSTEM" in message
        assert "None" not in message


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


def test_client_certificate_unknown_on_a_system_job_says_become_system() -> None:
    # The host should not refuse a LocalSystem job (the rule does not apply), but if it does, the advice holds.
    message = explain(unknown_certificate(owner=LOCAL_SYSTEM))
    assert "become_user: SYSTEM) so that the module can see the certificate" in message


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


def test_error_not_logged_on_recommends_become_system_and_says_flags_are_set_as_system() -> None:
    message = explain(com_error(0x800704DD, "EnumJobs"))
    assert_structure(message)
    assert "0x800704DD (ERROR_NOT_LOGGED_ON)" in message
    assert "network logon" in message
    assert "Fix: run the task with become: true, become_method: runas, become_user: SYSTEM" in message
    assert "ansible/ansible#32492" in message
    assert "SYSTEM, an administrator, is then the caller (its SID S-1-5-18 in caller), so flags are read and set " \
        "as SYSTEM." in message
    assert "the job's owner" not in message  # runas to a named user is what did not satisfy BITS


def test_error_not_logged_on_for_bits_job_info_says_jobs_are_listed_as_system() -> None:
    task = explain_info_failure(failure_facts(raw_failure("com_error", "EnumJobs", 0x800704DD),
                                              {"job": None, "all_users": True}, target="the BITS jobs of all users"))
    job = raw_job(read_error=read_error("GetOwner", 0x800704DD))
    read = explain_read_error(t.cast(dict, job["read_error"]), job, caller(), {"job": None, "all_users": True})
    for message in (task, read):
        assert_structure(message)
        assert "become: true, become_method: runas, become_user: SYSTEM" in message
        assert "its SID S-1-5-18 in caller), so jobs are listed as SYSTEM" in message
        assert "flags are set" not in message


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


# --- caller facts the host could not read (caller_identity, or an older host) ---------------

UNKNOWN_CALLERS = [{"sid": None, "is_admin": None, "os_build": None}, {"sid": None, "is_admin": False,
                                                                       "os_build": 0}, {}]
FAILURES = [
    host_failure("not_found", call="EnumJobs"),
    host_failure("not_found", call="GetJob", hresult=0x80200001),
    host_failure("no_token_options", call="QueryInterface(IBitsTokenOptions)", hresult=0x80004002, job_id=GUID_A,
                 jobs=[host_job()]),
    host_failure("client_certificate", job_id=GUID_A, jobs=[host_job(client_certificate=True)]),
    host_failure("client_certificate_unknown", job_id=GUID_A, jobs=[host_job(client_certificate=None)]),
    host_failure("caller_identity", call="WindowsIdentity.GetCurrent"),
    host_failure("com_error", call="EnumJobs", hresult=0x80070005),
    host_failure("com_error", call="GetJob", hresult=0x80070005),
    host_failure("com_error", call="SetHelperTokenFlags", hresult=0x80070005, job_id=GUID_A,
                 jobs=[host_job(owner=OTHER_SID)]),
    host_failure("com_error", call="SetHelperTokenFlags", hresult=0x80070005, job_id=GUID_A,
                 jobs=[host_job(helper_token_sid=ADMIN_SID)]),
    host_failure("com_error", call="SetHelperTokenFlags", hresult=0x800704DD, job_id=GUID_A, jobs=[host_job()]),
    host_failure("com_error", call="SetHelperTokenFlags", hresult=0x80200002, job_id=GUID_A, jobs=[host_job()]),
]


@pytest.mark.parametrize("who", UNKNOWN_CALLERS, ids=["nulls", "false-and-zero", "absent"])
@pytest.mark.parametrize("raw", FAILURES, ids=lambda raw: "%s-%s" % (raw["error"]["reason"], raw["error"]["call"]))
def test_every_explanation_copes_with_unknown_caller_facts(raw: dict[str, object], who: dict[str, object]) -> None:
    raw = {**raw, "caller": who} if who else {key: value for key, value in raw.items() if key != "caller"}
    for all_users in (False, True):
        message = explain(raw, all_users=all_users)
        assert_structure(message)
        assert "None" not in message and "build 0" not in message
        # Nothing may claim that the caller owns the job when the host could not say who the caller is.
        assert "the connecting user owns the job" not in message


def test_access_denied_with_an_unknown_caller_names_both_rules_and_the_owner() -> None:
    message = explain(com_error(0x80070005, owner=OTHER_SID, who={"sid": None, "is_admin": False, "os_build": 17763}))
    assert "the host could not say who the module runs as, so which of BITS' rules denied it is not known" in message
    assert "this job's owner is %s" % OTHER_SID in message
    assert "become_user: SYSTEM" in message


def test_access_denied_before_1607_holds_without_the_callers_sid() -> None:
    message = explain(com_error(0x80070005, who={"sid": None, "is_admin": False, "os_build": 10586}))
    assert "before Windows 10 1607 (build 14393) only administrators can set helper-token flags" in message
    assert "the connecting user is not an administrator" in message


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


# --- the helper token itself: SetHelperToken, ClearHelperToken, the blanket ---------------------

TOKEN_ARGS = {"flags": None, "helper_token": "caller"}


def token_failure(hresult: int, call: str = "SetHelperToken", *, token: str = "caller",
                  who: dict[str, object] | None = None, **job: object) -> dict[str, object]:
    return host_failure("com_error", call=call, hresult=hresult, job_id=GUID_A, jobs=[host_job(**job)], who=who,
                        token=token)


def explain_token(raw: t.Mapping[str, object], token: str = "caller") -> str:
    return explain(raw, flags=None, helper_token=token)


def test_co_e_failedtoimpersonate_is_the_sdks() -> None:
    assert sdk_constant("winerror.h", "CO_E_FAILEDTOIMPERSONATE") == hresults.CO_E_FAILEDTOIMPERSONATE == 0x80010123


def test_failed_to_impersonate_says_the_blanket_was_set_so_something_blocked_it() -> None:
    message = explain_token(token_failure(0x80010123))
    assert_structure(message)
    assert message.startswith("SetHelperToken failed for job %s (myDownloadJob) with 0x80010123 "
                              "(CO_E_FAILEDTOIMPERSONATE). Cause: BITS could not impersonate the caller" % GUID_A)
    assert "RPC_C_IMP_LEVEL_IMPERSONATE) with dynamic cloaking (EOAC_DYNAMIC_CLOAKING)" in message
    assert "the module sets exactly that on this job's IBitsTokenOptions proxy" in message
    assert "a COM security policy" in message
    assert "Fix: check the host's COM security (dcomcnfg" in message
    assert "Default Impersonation Level Impersonate" in message
    assert "SYSTEM's token, S-1-5-18, is then the helper token" in message
    assert "No job's flags or helper token were changed." in message


def test_access_denied_setting_a_token_before_1607_is_the_owner_not_being_an_administrator() -> None:
    message = explain_token(token_failure(0x80070005, who=caller(is_admin=False, os_build=10586)))
    assert_structure(message)
    assert "before Windows 10 1607 (build 14393) BITS refuses SetHelperToken on a job that is not owned by an " \
        "administrator; this host is build 10586 and it is owned by %s, the caller, which is not an administrator" \
        % USER_SID in message
    assert "Fix: on this build, set the helper token only on a job an administrator owns" in message
    # The rule of SetHelperTokenFlags (a current token with the Administrators SID) is not this call's.
    assert "Administrators SID" not in message


def test_access_denied_setting_a_token_before_1607_on_another_users_job() -> None:
    message = explain_token(token_failure(0x80070005, owner=OTHER_SID, who=caller(is_admin=False, os_build=9600)))
    assert "its owner, %s, may not be one" % OTHER_SID in message


def test_access_denied_setting_a_token_from_1607_is_the_privileges_of_the_token_being_set() -> None:
    # Microsoft's rule is about the token being set (the caller's own), not the job's current one.
    raw = token_failure(0x80070005, previous_helper_token_sid=ADMIN_SID, helper_token_sid=ADMIN_SID,
                        who=caller(is_admin=False))
    message = explain_token(raw)
    assert_structure(message)
    assert "from Windows 10 1607 (build 14393) BITS refuses SetHelperToken when the helper token being set has " \
        "administrator privileges and the caller does not; that token is the caller's own, taken by impersonation, " \
        "and %s is not an administrator" % USER_SID in message
    assert "Microsoft's helper-token sample gives E_ACCESSDENIED when the impersonation level is not set" in message
    assert "Fix: run the task as an administrator" in message
    # SetHelperTokenFlags' rule (the job's current token with the Administrators SID enabled) is not this call's.
    assert ADMIN_SID not in message.partition(" Fix: ")[0].partition(" Cause: ")[2]
    assert "Administrators SID enabled" not in message and "current helper token" not in message


def test_access_denied_setting_a_token_from_1607_on_another_users_job_is_the_owner_rule() -> None:
    message = explain_token(token_failure(0x80070005, owner=OTHER_SID, who=caller(is_admin=False)))
    assert_structure(message)
    assert "from Windows 10 1607 (build 14393) a non-administrator may set the helper token only on a job it owns" \
        in message
    assert "the job's owner is %s, the caller is %s, which is not an administrator" % (OTHER_SID, USER_SID) in message
    assert "Fix: run the task as the job's owner (become_user) or as an administrator" in message


def test_access_denied_setting_a_token_before_1607_as_an_administrator_is_the_owners_rule() -> None:
    # Before 14393 only a job an administrator owns takes a helper token, whoever calls.
    message = explain_token(token_failure(0x80070005, owner=OTHER_SID,
                                          who=caller(sid=ADMIN_SID, is_admin=True, os_build=9600)))
    assert_structure(message)
    assert "BITS refuses SetHelperToken on a job that is not owned by an administrator; this host is build 9600 and " \
        "its owner, %s, may not be one (the rule holds for an administrator too)" % OTHER_SID in message
    assert "filtered" not in message
    own = explain_token(token_failure(0x80070005, owner=ADMIN_SID,
                                      who=caller(sid=ADMIN_SID, is_admin=True, os_build=9600)))
    assert "reported as an administrator and BITS still denied it" in own, own


@pytest.mark.parametrize("build", [9600, 10586, 14392])
def test_access_denied_clearing_a_token_before_14393_is_only_an_administrator(build: int) -> None:
    # Even on the caller's own job: the owner's right to clear came with build 14393.
    message = explain_token(token_failure(0x80070005, "ClearHelperToken", token="absent",
                                          who=caller(is_admin=False, os_build=build)), token="absent")
    assert "ClearHelperToken failed for job %s (myDownloadJob) with 0x80070005 (E_ACCESSDENIED)" % GUID_A in message
    assert "before Windows 10 1607 (build 14393) only an administrator may clear a job's helper token, even the " \
        "job's owner may not; this host is build %d and %s is not an administrator" % (build, USER_SID) in message
    assert "Fix: run the task as an administrator" in message
    # Neither the token's privileges nor whose token is set are ClearHelperToken's.
    assert "privileges" not in message and "the helper token is then" not in message


@pytest.mark.parametrize("build", [14393, 17763, 20348])
def test_access_denied_clearing_a_token_from_14393_is_the_owner_or_an_administrator(build: int) -> None:
    message = explain_token(token_failure(0x80070005, "ClearHelperToken", token="absent", owner=OTHER_SID,
                                          who=caller(is_admin=False, os_build=build)), token="absent")
    assert "ClearHelperToken failed for job %s (myDownloadJob) with 0x80070005 (E_ACCESSDENIED)" % GUID_A in message
    assert "only an administrator or, from Windows 10 1607 (build 14393), the job's owner may clear its helper " \
        "token; the job's owner is %s, the caller is %s, which is not an administrator" % (OTHER_SID, USER_SID) \
        in message
    assert "even the job's owner may not" not in message
    assert "privileges" not in message and "whose token" not in message


def test_access_denied_clearing_the_owners_own_job_says_the_rule_allows_it() -> None:
    raw = token_failure(0x80070005, "ClearHelperToken", token="absent", previous_helper_token_sid=ADMIN_SID,
                        who=caller(is_admin=False))
    message = explain_token(raw, token="absent")
    assert "although from Windows 10 1607 (build 14393) ClearHelperToken's documented rule lets the job's owner " \
        "clear its helper token and this host is build 17763" in message
    assert "Fix: run the task as an administrator" in message and "the helper token is then" not in message


def test_access_denied_clearing_the_owners_own_job_on_an_unread_build_names_both_rules() -> None:
    raw = token_failure(0x80070005, "ClearHelperToken", token="absent",
                        who={"sid": USER_SID, "is_admin": False, "os_build": None})
    message = explain_token(raw, token="absent")
    assert "before that build only an administrator may, and the host's build was not read" in message
    assert "None" not in message


def test_access_denied_for_an_administrator_setting_a_token_is_the_filtered_token() -> None:
    message = explain_token(token_failure(0x80070005, owner=OTHER_SID, who=caller(sid=ADMIN_SID, is_admin=True)))
    assert "reported as an administrator and BITS still denied it" in message


def test_access_denied_clearing_a_token_with_an_unknown_caller() -> None:
    message = explain_token(token_failure(0x80070005, "ClearHelperToken", token="absent", owner=OTHER_SID,
                                          who={"sid": None, "is_admin": None, "os_build": None}), token="absent")
    assert "only an administrator or, from Windows 10 1607 (build 14393), the job's owner (%s) may clear its " \
        "helper token" % OTHER_SID in message
    assert "None" not in message


def test_access_denied_setting_flags_keeps_the_rule_of_an_administrators_current_token() -> None:
    raw = host_failure("com_error", call="SetHelperTokenFlags", hresult=0x80070005, job_id=GUID_A,
                       jobs=[host_job(helper_token_sid=ADMIN_SID)], who=caller(is_admin=False))
    message = explain(raw)
    assert "may not change the flags while the job's current helper token (%s) has the Administrators SID " \
        "enabled" % ADMIN_SID in message


def test_invalid_state_on_a_token_call() -> None:
    message = explain_token(token_failure(0x80200002, "ClearHelperToken", token="absent", state="CANCELLED"),
                            token="absent")
    assert "0x80200002 (BG_E_INVALID_STATE)" in message and "the job is CANCELLED" in message
    assert "this job's helper token can no longer be set or cleared" in message


def test_not_logged_on_setting_a_token_says_that_systems_token_is_then_set() -> None:
    message = explain_token(token_failure(0x800704DD))
    assert "0x800704DD (ERROR_NOT_LOGGED_ON)" in message
    assert "Fix: run the task with become: true, become_method: runas, become_user: SYSTEM" in message
    assert "helper_token: caller sets SYSTEM's own token (S-1-5-18) as the job's helper token, not the connecting " \
        "user's." in message


def test_not_logged_on_clearing_a_token_keeps_the_plain_advice() -> None:
    message = explain_token(token_failure(0x800704DD, "ClearHelperToken", token="absent"), token="absent")
    assert "so flags are read and set as SYSTEM." in message
    assert "S-1-5-18) as the job's helper token" not in message


@pytest.mark.parametrize("hresult", [0x80004002, 0x80070005])
def test_query_interface_for_client_security_is_not_an_old_bits(hresult: int) -> None:
    message = explain_token(token_failure(hresult, "QueryInterface(IClientSecurity)"))
    assert_structure(message)
    assert message.startswith("QueryInterface(IClientSecurity) failed for job %s (myDownloadJob)" % GUID_A)
    assert "not a standard COM proxy, the only kind that has IClientSecurity" in message
    assert "Flags and helper_token: absent need no blanket and still work" in message
    assert "older than 4.0" not in message and "owner" not in message


def test_set_blanket_failure_names_the_blanket_and_the_code() -> None:
    message = explain_token(token_failure(0x80070057, "IClientSecurity.SetBlanket"))
    assert_structure(message)
    assert "IClientSecurity.SetBlanket failed for job %s (myDownloadJob) with 0x80070057" % GUID_A in message
    assert "COM refused the blanket SetHelperToken needs (RPC_C_IMP_LEVEL_IMPERSONATE with EOAC_DYNAMIC_CLOAKING)" \
        in message
    assert "certutil -error 0x80070057" in message


def test_token_readback_mismatch_after_set() -> None:
    job = host_job(previous_helper_token_sid=None, helper_token_sid=OTHER_SID, changed=True)
    raw = host_failure("readback_mismatch", call="GetHelperTokenSid", job_id=GUID_A, jobs=[job], token="caller")
    message = explain_token(raw)
    assert_structure(message)
    assert "SetHelperToken set the token of %s (the user the module runs as), GetHelperTokenSid read back %s" % (
        USER_SID, OTHER_SID) in message
    assert "dynamic cloaking is not in effect" in message
    assert "SetHelperTokenFlags wrote" not in message
    assert "Changes already written and not restored: job %s (myDownloadJob) (now flags local_file (0x0001), " \
        "helper token %s)." % (GUID_A, OTHER_SID) in message


def test_token_readback_mismatch_after_clear() -> None:
    job = host_job(previous_helper_token_sid=OTHER_SID, helper_token_sid=ADMIN_SID, changed=True)
    raw = host_failure("readback_mismatch", call="GetHelperTokenSid", job_id=GUID_A, jobs=[job], token="absent")
    message = explain_token(raw, token="absent")
    assert "ClearHelperToken cleared it, GetHelperTokenSid read back %s" % ADMIN_SID in message
    assert "set a helper token between the write and the read-back" in message


def test_a_token_of_another_user_that_was_cleared_cannot_be_restored() -> None:
    cleared = host_job(previous_helper_token_sid=OTHER_SID, helper_token_sid=None, helper_token_changed=True,
                       changed=True, rolled_back=False)
    failed = host_job(id=GUID_B, name="other", owner=OTHER_SID)
    raw = host_failure("com_error", call="ClearHelperToken", hresult=0x80070005, job_id=GUID_B,
                       jobs=[cleared, failed], who=caller(is_admin=False), token="absent")
    message = explain_token(raw, token="absent")
    assert "ClearHelperToken failed for job %s (other)" % GUID_B in message
    assert "Changes already written and not restored: job %s (myDownloadJob) (now flags local_file (0x0001), " \
        "helper token none)." % GUID_A in message
    assert message.endswith(
        "The previous helper token of job %s (myDownloadJob) (was %s) could not be put back: BITS only ever sets the "
        "token of the caller (SetHelperToken takes no token), and it was another user's; to restore it, that user "
        "sets it again (this module with helper_token: caller, run as that user)." % (GUID_A, OTHER_SID))
    assert "were restored" not in message


def test_the_callers_own_token_is_restored_and_said_so() -> None:
    restored = host_job(previous_helper_token_sid=USER_SID, helper_token_sid=USER_SID, changed=True,
                        rolled_back=True)
    failed = host_job(id=GUID_B, name="other", owner=OTHER_SID)
    raw = host_failure("com_error", call="ClearHelperToken", hresult=0x80070005, job_id=GUID_B,
                       jobs=[restored, failed], who=caller(is_admin=False), token="absent")
    message = explain_token(raw, token="absent")
    assert "The previous flags and helper token of job %s (myDownloadJob) were restored." % GUID_A in message
    assert "could not be put back" not in message and "not restored" not in message


@pytest.mark.parametrize("previous", [USER_SID, USER_SID.lower()])
def test_the_callers_own_token_left_cleared_is_not_blamed_on_another_user(previous: str) -> None:
    # The host's best-effort restore of the caller's own token did not happen: the job is reported as
    # written and not restored, but not as a token that BITS could never give back.
    cleared = host_job(previous_helper_token_sid=previous, helper_token_sid=None, helper_token_changed=True,
                       changed=True, rolled_back=False)
    failed = host_job(id=GUID_B, name="other", owner=OTHER_SID)
    raw = host_failure("com_error", call="ClearHelperToken", hresult=0x80070005, job_id=GUID_B,
                       jobs=[cleared, failed], who=caller(is_admin=False), token="absent")
    message = explain_token(raw, token="absent")
    assert "Changes already written and not restored: job %s (myDownloadJob) (now flags local_file (0x0001), " \
        "helper token none)." % GUID_A in message
    assert "could not be put back" not in message and "another user's" not in message


def test_a_replaced_token_that_the_host_did_not_change_is_not_called_lost() -> None:
    # Flags were written (not rolled back: readback mismatch); the token of another user was never touched.
    job = host_job(previous_helper_token_sid=OTHER_SID, helper_token_sid=OTHER_SID, helper_token_changed=False,
                   changed=True, flags_value=2)
    raw = host_failure("readback_mismatch", call="GetHelperTokenFlags", job_id=GUID_A, jobs=[job], desired=3,
                       token="caller")
    message = explain_token(raw)
    assert "could not be put back" not in message
    assert "SetHelperTokenFlags wrote local_file, network (0x0003)" in message


TOKEN_FAILURES = [
    token_failure(0x80010123),
    token_failure(0x80070005),
    token_failure(0x80070005, owner=OTHER_SID),
    token_failure(0x80070005, previous_helper_token_sid=ADMIN_SID),
    token_failure(0x80070005, "ClearHelperToken", token="absent"),
    token_failure(0x80200002, "ClearHelperToken", token="absent"),
    token_failure(0x800704DD),
    token_failure(0x80004002, "QueryInterface(IClientSecurity)"),
    token_failure(0x80070057, "IClientSecurity.SetBlanket"),
    host_failure("readback_mismatch", call="GetHelperTokenSid", job_id=GUID_A, token="caller",
                 jobs=[host_job(previous_helper_token_sid=OTHER_SID, helper_token_sid=None, changed=True)]),
]


@pytest.mark.parametrize("who", UNKNOWN_CALLERS, ids=["nulls", "false-and-zero", "absent"])
@pytest.mark.parametrize("raw", TOKEN_FAILURES, ids=lambda raw: "%s-%s-%s" % (
    raw["error"]["reason"], raw["error"]["call"], raw["error"]["hresult_hex"]))
def test_every_token_explanation_copes_with_unknown_caller_facts(raw: dict[str, object],
                                                                 who: dict[str, object]) -> None:
    raw = {**raw, "caller": who} if who else {key: value for key, value in raw.items() if key != "caller"}
    message = explain_token(raw, token=str(raw["desired_helper_token"]))
    assert_structure(message)
    assert "None" not in message and "build 0" not in message
    assert "the connecting user owns the job" not in message
