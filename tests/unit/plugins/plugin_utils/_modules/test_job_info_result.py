"""bits_job_info's raw host facts (section D) become the documented result (section A)."""
from __future__ import annotations

import typing as t

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._modules.job_info import (
    JOB_KEYS,
    describe_target,
    shape_info_result,
)
from ansible_collections.winbits.bits.tests.unit.utils import job_info_facts as facts
from ansible_collections.winbits.bits.tests.unit.utils.job_info_facts import (
    GUID_1,
    GUID_2,
    GUID_3,
    HELPER_SID,
    bits3_job,
    caller,
    failed_job,
    name_lookup,
    raw_failure,
    raw_job,
    raw_result,
    read_error,
)
from ansible_collections.winbits.bits.tests.unit.utils.host_facts import ADMIN_SID, OTHER_SID, USER_SID

ARGS: dict[str, object] = {"job": None, "all_users": True}
# Section A, literally: the keys of a result and of a job.
RESULT_KEYS = {"changed", "exists", "caller", "jobs", "name_lookup"}
SPEC_JOB_KEYS = {"id", "name", "owner", "owner_name", "state", "type", "flags", "flags_value", "unknown_flags_value",
                 "helper_token_sid", "helper_token_name", "client_certificate", "creation_time", "modification_time",
                 "error", "read_error", "read_errors"}


def shape(raw: t.Mapping[str, object], **args: object) -> dict[str, t.Any]:
    return shape_info_result(raw, {**ARGS, **args})


# --- the factory follows section D ---------------------------------------------------------


def test_factory_builds_exactly_the_contract_keys() -> None:
    raw = raw_result([failed_job(0x80200056), bits3_job()])
    assert set(raw) == facts.RAW_KEYS
    assert set(raw["caller"]) == {"sid", "is_admin", "os_build"}
    for job in raw["jobs"]:
        assert set(job) == facts.RAWJOB_KEYS
    assert set(raw["jobs"][0]["error"]) == facts.JOB_ERROR_KEYS
    assert set(raw["jobs"][1]["read_error"]) == facts.READ_ERROR_KEYS
    assert set(raw_failure("com_error", "EnumJobs", 0x80070005)["error"]) == facts.TASK_ERROR_KEYS


# --- success --------------------------------------------------------------------------------


def test_the_job_of_section_a() -> None:
    result = shape(raw_result([raw_job()]))
    assert result["jobs"] == [{
        "id": GUID_1,
        "name": "contentSync",
        "owner": "S-1-5-18",
        "owner_name": "NT AUTHORITY\\SYSTEM",
        "state": "SUSPENDED",
        "type": "DOWNLOAD",
        "flags": ["local_file", "network"],
        "flags_value": 3,
        "unknown_flags_value": 0,
        "helper_token_sid": HELPER_SID,
        "helper_token_name": "CORP\\svc-sync",
        "client_certificate": False,
        "creation_time": "2026-11-20T08:15:00Z",
        "modification_time": "2026-11-21T09:00:00Z",
        "error": None,
        "read_error": None,
        "read_errors": [],
    }]
    assert set(JOB_KEYS) == SPEC_JOB_KEYS


def test_result_has_the_documented_keys_only() -> None:
    result = shape(raw_result([raw_job()]))
    assert set(result) == RESULT_KEYS
    assert result["changed"] is False and result["exists"] is True
    assert result["caller"] == caller()


def test_no_job_means_exists_false_and_an_empty_list() -> None:
    result = shape(raw_result([]), job=["nothing*"])
    assert result["exists"] is False and result["jobs"] == []
    assert "warnings" not in result and "failed" not in result


def test_jobs_are_sorted_by_id_whatever_the_host_order_and_case() -> None:
    enumerated = [raw_job(id=GUID_3), raw_job(id=GUID_2.lower()), raw_job(id=GUID_1.strip("{}"))]
    result = shape(raw_result(enumerated))
    assert [job["id"] for job in result["jobs"]] == [GUID_1, GUID_2, GUID_3]


@pytest.mark.parametrize(("flags_value", "names", "value"), [
    (0, [], 0), (1, ["local_file"], 1), (2, ["network"], 2), (7, ["local_file", "network", "0x0004"], 7),
    (-1, ["local_file", "network"] + ["0x%04X" % (1 << bit) for bit in range(2, 32)], 0xFFFFFFFF),
    (None, None, None), ("3", None, None),
])
def test_flags_are_named_from_the_value(flags_value: object, names: object, value: object) -> None:
    job = shape(raw_result([raw_job(flags_value=flags_value)]))["jobs"][0]
    assert job["flags"] == names and job["flags_value"] == value


@pytest.mark.parametrize(("reported", "shown"), [(True, True), (False, False), (None, None), ("yes", None)])
def test_client_certificate_is_true_false_or_null(reported: object, shown: object) -> None:
    assert shape(raw_result([raw_job(client_certificate=reported)]))["jobs"][0]["client_certificate"] is shown


def test_a_job_missing_keys_has_them_null() -> None:
    job = shape(raw_result([{"id": GUID_1}]))["jobs"][0]
    assert set(job) == SPEC_JOB_KEYS
    assert all(job[key] is None for key in SPEC_JOB_KEYS - {"id", "read_errors"})
    assert job["read_errors"] == []


# --- a job's error --------------------------------------------------------------------------


def test_job_error_is_named_and_explained() -> None:
    job = shape(raw_result([failed_job(0x80200056)]))["jobs"][0]
    error = job["error"]
    assert set(error) == {"hresult", "hresult_hex", "name", "context", "description", "explanation"}
    assert error["hresult"] == 2149580886 and error["hresult_hex"] == "0x80200056"
    assert error["name"] == "BG_E_TOKEN_REQUIRED" and error["context"] == "REMOTE_FILE"
    assert error["description"] == "host text"
    assert ". Cause: " in error["explanation"] and "discarded" in error["explanation"]


def test_job_error_from_a_signed_hresult_and_a_context_number() -> None:
    error = {"hresult": 0x80070005 - (1 << 32), "hresult_hex": None, "context": None, "context_value": 4,
             "description": "  "}
    shaped = shape(raw_result([raw_job(state="ERROR", error=error, flags_value=1)]))["jobs"][0]["error"]
    assert shaped["hresult"] == 0x80070005 and shaped["hresult_hex"] == "0x80070005"
    assert shaped["name"] == "E_ACCESSDENIED" and shaped["context"] == "LOCAL_FILE"
    assert shaped["description"] is None
    assert "CORP\\svc-sync (%s)" % HELPER_SID in shaped["explanation"]


def test_unknown_job_error_has_no_name_but_an_explanation() -> None:
    shaped = shape(raw_result([failed_job(0x80004005, "GENERAL_TRANSPORT")]))["jobs"][0]["error"]
    assert shaped["name"] is None
    assert "0x80004005 in the GENERAL_TRANSPORT context" in shaped["explanation"]


# --- a job that could not be fully read -----------------------------------------------------


def test_bits_3_job_is_listed_with_null_flags_and_one_warning() -> None:
    result = shape(raw_result([bits3_job()], who=caller(os_build=6002)))
    job = result["jobs"][0]
    assert job["flags"] is None and job["flags_value"] is None and job["name"] == "contentSync"
    assert set(job["read_error"]) == {"call", "hresult", "hresult_hex", "explanation"}
    assert job["read_error"]["call"] == "QueryInterface(IBitsTokenOptions)"
    assert job["read_error"]["hresult_hex"] == "0x80004002"
    assert "older than 4.0" in job["read_error"]["explanation"] and "build 6002" in job["read_error"]["explanation"]
    assert job["read_errors"] == [job["read_error"]]
    assert result["warnings"] == [job["read_error"]["explanation"] + " The job is listed with every fact that could "
                                  "be read: only the facts of the failed call are null, its flags among them."]
    assert "failed" not in result and result["exists"] is True


def test_one_warning_per_unreadable_job_naming_job_and_call_in_id_order() -> None:
    jobs = [bits3_job(id=GUID_3, name="third"), raw_job(id=GUID_2),
            raw_job(id=GUID_1, name="first", read_error=read_error("GetHelperTokenSid", 0x80070005))]
    raw = raw_result(jobs, who=caller(sid=USER_SID, is_admin=False))
    raw["warnings"] = ["from the host"]
    warnings = shape(raw)["warnings"]
    assert len(warnings) == 3 and warnings[0] == "from the host"
    assert warnings[1].startswith("GetHelperTokenSid failed for job %s (first) with 0x80070005 (E_ACCESSDENIED)" % GUID_1)
    assert warnings[2].startswith("QueryInterface(IBitsTokenOptions) failed for job %s (third) with 0x80004002" % GUID_3)


def test_read_access_denied_by_another_owner() -> None:
    job = raw_job(owner=OTHER_SID, flags_value=None, read_error=read_error("GetHelperTokenFlags", 0x80070005))
    explanation = shape(raw_result([job], who=caller(sid=USER_SID, is_admin=False)))["jobs"][0]["read_error"]["explanation"]
    assert "only the job's owner (%s) and administrators may read it, and the caller %s is neither" % (
        OTHER_SID, USER_SID) in explanation
    assert "connect as an administrator" in explanation


def test_read_access_denied_before_1607() -> None:
    job = raw_job(owner=USER_SID, read_error=read_error("QueryInterface(IBitsTokenOptions)", 0x80070005))
    explanation = shape(raw_result([job], who=caller(sid=USER_SID, is_admin=False, os_build=10586)))["jobs"][0][
        "read_error"]["explanation"]
    assert "before Windows 10 1607 (build 14393) only administrators may use a job's IBitsTokenOptions" in explanation
    assert "this host is build 10586" in explanation


def test_read_access_denied_to_an_administrator_means_a_filtered_token() -> None:
    job = raw_job(owner=OTHER_SID, read_error=read_error("GetHelperTokenSid", 0x80070005))
    explanation = shape(raw_result([job], who=caller(sid=ADMIN_SID, is_admin=True)))["jobs"][0]["read_error"][
        "explanation"]
    assert "UAC remote restrictions" in explanation


def test_read_error_with_an_unexplained_code_names_it() -> None:
    job = raw_job(read_error=read_error("GetTimes", 0x8007000E))
    explanation = shape(raw_result([job]))["jobs"][0]["read_error"]["explanation"]
    assert "GetTimes failed for job %s (contentSync) with 0x8007000E" % GUID_1 in explanation
    assert "certutil -error 0x8007000E" in explanation


# --- the whole task failed ------------------------------------------------------------------


def test_listing_all_users_as_a_non_administrator_names_the_option() -> None:
    raw = raw_failure("com_error", "EnumJobs", 0x80070005, who=caller(sid=USER_SID, is_admin=False))
    raw["exception"] = "short host summary"
    result = shape(raw)
    assert result["failed"] is True and result["changed"] is False
    message = result["msg"]
    assert message.startswith("EnumJobs failed for the BITS jobs of all users with 0x80070005 (E_ACCESSDENIED). ")
    assert "all_users is true (the default)" in message and "needs an administrator" in message
    assert "%s is not an administrator" % USER_SID in message
    assert "set all_users: false to list only the jobs of %s, or connect as an administrator" % USER_SID in message
    assert "exists" not in result and "jobs" not in result and "exception" not in result
    assert result["error"] == raw["error"] and result["caller"] == raw["caller"]


def test_an_administrator_denied_listing_is_told_about_token_filtering() -> None:
    message = shape(raw_failure("com_error", "EnumJobs", 0x80070005, who=caller(is_admin=True)))["msg"]
    assert "reported as an administrator and BITS still denied it" in message
    assert "all_users is true" not in message


def test_service_disabled() -> None:
    message = shape(raw_failure("manager_unavailable", "CoCreateInstance", 0x80070422), job=["a*", GUID_1])["msg"]
    assert message.startswith("CoCreateInstance failed for the BITS jobs of all users matching 'a*', '%s' with "
                              "0x80070422 (ERROR_SERVICE_DISABLED)" % GUID_1)
    assert "Set-Service -Name BITS" in message
    assert "No job's flags were changed" not in message  # bits_helper_token's aftermath: nothing to say here


def test_manager_unavailable_other_code() -> None:
    message = shape(raw_failure("manager_unavailable", "CoCreateInstance", 0x80040154), all_users=False)["msg"]
    assert "Could not connect to the BITS service for the BITS jobs of the connecting user" in message
    assert "Get-Service BITS" in message


def test_network_logon_refused() -> None:
    message = shape(raw_failure("com_error", "EnumJobs", 0x800704DD))["msg"]
    assert "0x800704DD (ERROR_NOT_LOGGED_ON)" in message and "become" in message


def test_network_logon_refused_recommends_system_which_then_lists_the_jobs() -> None:
    message = shape(raw_failure("com_error", "EnumJobs", 0x800704DD))["msg"]
    assert "become: true, become_method: runas, become_user: SYSTEM" in message
    assert "(its SID S-1-5-18 in caller), so jobs are listed as SYSTEM" in message


@pytest.mark.parametrize("call", ["WindowsIdentity.GetCurrent", "Registry(CurrentBuildNumber)"])
def test_caller_identity_fails_the_task_with_an_explanation(call: str) -> None:
    who = {"sid": None, "is_admin": None, "os_build": None}
    raw = raw_failure("caller_identity", call, None, who=who, message="Requested registry access is not allowed.")
    result = shape(raw)
    assert result["failed"] is True and "jobs" not in result and "exists" not in result
    assert result["caller"] == who and result["error"] == raw["error"]
    message = result["msg"]
    assert message.startswith("Could not read who the module runs as on the host, for the BITS jobs of all users: "
                              "%s failed (Requested registry access is not allowed.). Cause: " % call)
    assert "become_user: SYSTEM" in message and "None" not in message


def test_invalid_parameter_is_a_bug() -> None:
    message = shape(raw_failure("invalid_parameter", None, None, message="job: bad"))["msg"]
    assert "The host refused the module arguments for the BITS jobs of all users: job: bad" in message
    assert "bug in winbits.bits" in message and "all_users" in message


def test_describe_target() -> None:
    assert describe_target({"job": None, "all_users": False}) == "the BITS jobs of the connecting user"
    assert describe_target({"job": ["x"], "all_users": True}) == "the BITS jobs of all users matching 'x'"


# --- results that are not this module's pass through ----------------------------------------


@pytest.mark.parametrize("raw", [
    {"failed": True, "msg": "MODULE FAILURE", "rc": 1, "module_stderr": "boom"},
    {"unreachable": True, "msg": "connection refused"},
    {"failed": True, "msg": "Unsupported parameters", "jobs": [], "error": None},
])
def test_other_results_pass_through(raw: dict[str, object]) -> None:
    assert shape(raw) == raw


# --- the result matches the RETURN docs -----------------------------------------------------

# Keys every Ansible result may carry besides the module's documented ones.
STANDARD_KEYS = {"changed", "failed", "msg", "invocation", "warnings", "deprecations"}


def documented_return() -> dict[str, t.Any]:
    import yaml

    from tests.support.paths import module_docs

    return yaml.safe_load(module_docs("bits_job_info").read_text(encoding="utf-8"))["RETURN"]


def test_success_result_has_exactly_the_documented_keys() -> None:
    documented = documented_return()
    result = shape(raw_result([failed_job(0x80200056), bits3_job(id=GUID_2)]))
    success_keys = {key for key, spec in documented.items() if "failure" not in spec["returned"]}
    assert set(result) - STANDARD_KEYS == success_keys
    assert set(result["caller"]) == set(documented["caller"]["contains"])


def test_job_entries_and_their_errors_have_exactly_the_documented_keys() -> None:
    contains = documented_return()["jobs"]["contains"]
    jobs = shape(raw_result([failed_job(0x80200056), bits3_job(id=GUID_2)]))["jobs"]
    for job in jobs:
        assert set(job) == set(contains)
    assert set(jobs[0]["error"]) == set(contains["error"]["contains"])
    assert set(jobs[1]["read_error"]) == set(contains["read_error"]["contains"])


def test_failure_result_has_the_documented_error_keys() -> None:
    documented = documented_return()
    result = shape(raw_failure("com_error", "EnumJobs", 0x80070005))
    assert set(result["error"]) == set(documented["error"]["contains"])
    assert set(result) - STANDARD_KEYS == {"error", "caller"}


# --- per-group read failures, unknown bits, the name lookup ------------------------------------------


def test_each_failed_call_is_listed_and_explained_and_the_flags_stay() -> None:
    failures = [read_error("GetTimes", 0x800706BA), read_error("GetClientCertificate", 0x80070005)]
    job = raw_job(flags_value=2, read_error=failures[0], read_errors=failures, creation_time=None)
    result = shape(raw_result([job]))
    shaped = result["jobs"][0]
    assert [(failure["call"], failure["hresult_hex"]) for failure in shaped["read_errors"]] == \
        [("GetTimes", "0x800706BA"), ("GetClientCertificate", "0x80070005")]
    assert shaped["read_error"] == shaped["read_errors"][0]
    assert shaped["flags"] == ["network"] and shaped["flags_value"] == 2
    (warning,) = result["warnings"]
    assert warning.startswith("GetTimes failed for job %s (contentSync) with 0x800706BA" % GUID_1)
    assert "GetClientCertificate failed" in warning
    assert warning.endswith("only the facts of the failed calls are null, its flags (network) were read.")


def test_unknown_flag_bits_are_named_and_counted() -> None:
    shaped = shape(raw_result([raw_job(flags_value=7)]))["jobs"][0]
    assert (shaped["flags"], shaped["flags_value"], shaped["unknown_flags_value"]) == \
        (["local_file", "network", "0x0004"], 7, 4)


def test_a_lookup_out_of_time_warns_once_with_how_many_and_why() -> None:
    raw = raw_result([raw_job(owner_name=None, helper_token_name=None)])
    raw["name_lookup"] = name_lookup(500, resolved=0, timed_out=True, timeout=2.0)
    result = shape(raw)
    (warning,) = result["warnings"]
    assert warning.startswith("500 of 500 account names (owner_name, helper_token_name) were left unresolved and are "
                              "null: the host's lookup of the owners' and helper tokens' SIDs did not finish within "
                              "name_timeout (2 s)")
    assert "a domain controller that does not answer" in warning and "raise name_timeout" in warning
    assert result["name_lookup"]["timed_out"] is True


def test_a_failed_lookup_warns_with_its_call() -> None:
    raw = raw_result([raw_job(owner_name=None)])
    raw["name_lookup"] = name_lookup(2, resolved=0, error={"reason": "host_exception", "call":
                                                           "IdentityReferenceCollection.Translate",
                                                           "hresult": 0x80004005, "message": "trust failed"})
    (warning,) = shape(raw)["warnings"]
    assert "lookup of their SIDs failed (IdentityReferenceCollection.Translate: trust failed)" in warning


def test_unresolvable_sids_alone_do_not_warn() -> None:
    raw = raw_result([raw_job(owner_name=None)])
    raw["name_lookup"] = name_lookup(2, resolved=1)
    assert "warnings" not in shape(raw)


def test_a_host_exception_reading_a_job_is_explained() -> None:
    failure = {"reason": "host_exception", "call": "GetOwner", "hresult": 0x80131509, "hresult_hex": "0x80131509",
               "message": "GetOwner failed: 0x80131509 (System.InvalidOperationException: boom)"}
    shaped = shape(raw_result([raw_job(owner=None, read_error=failure)]))["jobs"][0]
    assert "an exception that is not a failed BITS call" in shaped["read_error"]["explanation"]
    assert "System.InvalidOperationException: boom" in shaped["read_error"]["explanation"]
