"""Shaping the host's facts into the documented result, diff and warnings."""
from __future__ import annotations

import typing as t

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._modules.helper_token import shape_result
from ansible_collections.winbits.bits.tests.unit.utils.host_facts import (
    GUID_A,
    GUID_B,
    OTHER_SID,
    USER_SID,
    caller,
    host_failure,
    host_job,
    host_result,
)

ARGS = {"job": "myDownloadJob", "flags": ["local_file", "network"], "helper_token": "keep", "all_matches": False,
        "all_users": False, "force": False}
JOB_KEYS = {"id", "name", "owner", "state", "previous_flags", "previous_flags_value", "flags", "flags_value",
            "unknown_flags_value", "previous_helper_token_sid", "helper_token_sid", "client_certificate", "changed"}


def shape(raw: t.Mapping[str, object], *, check_mode: bool = False, diff_mode: bool = False,
          **args: object) -> dict[str, object]:
    return shape_result(raw, {**ARGS, **args}, check_mode=check_mode, diff_mode=diff_mode)


def test_one_changed_job_gives_the_documented_keys() -> None:
    raw = host_result([host_job(previous_flags_value=1, flags_value=3, changed=True)], desired=3)
    result = shape(raw)
    assert result["changed"] is True
    assert result["job_id"] == GUID_A
    assert result["job_name"] == "myDownloadJob"
    assert result["owner"] == USER_SID
    assert result["state"] == "SUSPENDED"
    assert result["previous_flags"] == ["local_file"]
    assert result["previous_flags_value"] == 1
    assert result["flags"] == ["local_file", "network"]
    assert result["flags_value"] == 3
    assert result["previous_helper_token_sid"] == USER_SID
    assert result["helper_token_sid"] == USER_SID
    assert result["caller"] == raw["caller"]
    assert result["invocation"] == raw["invocation"]
    jobs = t.cast(list, result["jobs"])
    assert len(jobs) == 1 and set(jobs[0]) == JOB_KEYS and jobs[0]["changed"] is True
    # Host-only facts and the null error are not part of the documented success result.
    assert "desired_flags_value" not in result and "desired_helper_token" not in result and "error" not in result
    assert "failed" not in result


def test_unchanged_job_is_not_reported_changed() -> None:
    raw = host_result([host_job(previous_flags_value=3, flags_value=3)], desired=3)
    result = shape(raw)
    assert result["changed"] is False
    assert t.cast(list, result["jobs"])[0]["changed"] is False
    assert "warnings" not in result


def test_several_jobs_have_no_single_job_keys() -> None:
    raw = host_result([host_job(), host_job(id=GUID_B, name="other")], desired=1)
    result = shape(raw, all_matches=True)
    assert [job["id"] for job in t.cast(list, result["jobs"])] == [GUID_A, GUID_B]
    assert "job_id" not in result and "flags" not in result


def test_unknown_bits_from_the_host_are_named_not_fatal() -> None:
    raw = host_result([host_job(previous_flags_value=5, flags_value=5)])
    result = shape(raw, flags=None)
    assert result["previous_flags"] == ["local_file", "0x0004"]
    assert result["flags"] == ["local_file", "0x0004"]


def test_unknown_bits_are_reported_kept_and_said_aloud_when_flags_are_set() -> None:
    raw = host_result([host_job(previous_flags_value=5, flags_value=6, changed=True)], desired=2)
    result = shape(raw, flags=["network"])
    job = t.cast(list, result["jobs"])[0]
    assert (job["flags"], job["flags_value"], job["unknown_flags_value"]) == (["network", "0x0004"], 6, 4)
    (warning,) = [text for text in warnings_of(result) if "does not know" in text]
    assert warning.startswith("job %s (myDownloadJob) has helper-token flag bits this collection does not know "
                              "(0x0004)" % GUID_A)
    assert "kept those bits as they are" in warning


def test_unknown_bits_without_flags_are_reported_without_a_warning() -> None:
    result = shape(host_result([host_job(previous_flags_value=5, flags_value=5)]), flags=None)
    assert t.cast(list, result["jobs"])[0]["unknown_flags_value"] == 4
    assert not any("does not know" in text for text in warnings_of(result))


def test_check_mode_diff_keeps_the_unknown_bits_the_host_would_keep() -> None:
    raw = host_result([host_job(previous_flags_value=5, flags_value=5, changed=True)], desired=2)
    diff = t.cast(dict, shape(raw, check_mode=True, diff_mode=True, flags=["network"])["diff"])
    assert "flags = network, 0x0004\n" in diff["after"]


def test_job_facts_not_read_are_null() -> None:
    raw = host_result([{"id": GUID_A, "changed": False}])
    job = t.cast(list, shape(raw)["jobs"])[0]
    assert job["flags"] is None and job["flags_value"] is None and job["owner"] is None


def test_changed_comes_from_the_host_only() -> None:
    # Flags differ from the desired ones but the host reports no write: nothing changed.
    raw = host_result([host_job(previous_flags_value=1, flags_value=1, changed=False)], desired=3)
    raw["changed"] = False
    assert shape(raw)["changed"] is False


# --- diff -----------------------------------------------------------------------------------


def test_diff_shows_flags_before_and_after() -> None:
    raw = host_result([host_job(previous_flags_value=1, flags_value=3, changed=True)], desired=3)
    diff = t.cast(dict, shape(raw, diff_mode=True)["diff"])
    label = "job %s (myDownloadJob)" % GUID_A
    assert diff == {
        "before_header": label,
        "after_header": label,
        "before": "%s: flags = local_file\n%s: helper token = %s\n" % (label, label, USER_SID),
        "after": "%s: flags = local_file, network\n%s: helper token = %s\n" % (label, label, USER_SID),
    }


def test_diff_in_check_mode_shows_what_would_be_set() -> None:
    # Check mode: the host wrote nothing, so flags_value equals previous_flags_value.
    raw = host_result([host_job(previous_flags_value=3, flags_value=3, changed=True)], desired=0)
    result = shape(raw, check_mode=True, diff_mode=True, flags=[])
    diff = t.cast(dict, result["diff"])
    assert "flags = local_file, network\n" in diff["before"]
    assert "flags = none\n" in diff["after"]
    assert result["flags"] == ["local_file", "network"]  # the result stays what the host read


def test_diff_for_several_jobs_is_a_list() -> None:
    jobs = [host_job(changed=True, flags_value=3), host_job(id=GUID_B, name="b", previous_flags_value=3, flags_value=3)]
    raw = host_result(jobs, desired=3)
    diff = t.cast(list, shape(raw, diff_mode=True)["diff"])
    assert [d["before_header"] for d in diff] == ["job %s (myDownloadJob)" % GUID_A, "job %s (b)" % GUID_B]
    assert diff[1]["before"] == diff[1]["after"]


def test_no_diff_without_diff_mode() -> None:
    raw = host_result([host_job(changed=True, flags_value=3)], desired=3)
    assert "diff" not in shape(raw)


# --- warnings -------------------------------------------------------------------------------


def warnings_of(result: t.Mapping[str, object]) -> list[str]:
    return t.cast(list, result.get("warnings", []))


def test_forced_network_on_a_client_certificate_job_warns_about_0x80072f9a() -> None:
    job = host_job(client_certificate=True, client_certificate_forced=True, previous_flags_value=1, flags_value=3,
                   changed=True)
    warnings = warnings_of(shape(host_result([job], desired=3), force=True))
    forced = [w for w in warnings if w.startswith("force set network")]
    assert len(forced) == 1
    assert "owned by %s" % USER_SID in forced[0]
    assert "0x80072F9A (ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY)" in forced[0]


def test_forced_warning_in_check_mode_says_would() -> None:
    job = host_job(client_certificate=True, client_certificate_forced=True, changed=True)
    warnings = warnings_of(shape(host_result([job], desired=3), check_mode=True, force=True))
    assert any(w.startswith("force would set network") for w in warnings)


@pytest.mark.parametrize("check_mode", [False, True])
def test_forced_network_on_a_job_whose_certificate_is_unknown_says_so(check_mode: bool) -> None:
    job = host_job(client_certificate=None, client_certificate_forced=True, owner=OTHER_SID, previous_flags_value=1,
                   flags_value=1 if check_mode else 3, changed=True)
    result = shape(host_result([job], desired=3), check_mode=check_mode, force=True)
    forced = [w for w in warnings_of(result) if w.startswith("force ")]
    assert forced == [
        "force %s network on job %s (myDownloadJob) owned by %s, not owned by LocalSystem (S-1-5-18), without "
        "knowing whether it has a client certificate: BITS answers a caller that is not the job's owner the same for "
        "no certificate and for one it may not see. If it has one, Microsoft documents that the job fails with "
        "0x80072F9A (ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY), as BITS then cannot read the certificate's "
        "private key" % ("would set" if check_mode else "set", GUID_A, OTHER_SID)
    ]
    assert t.cast(list, result["jobs"])[0]["client_certificate"] is None


def test_forced_jobs_with_a_known_and_an_unknown_certificate_get_one_warning_each() -> None:
    jobs = [host_job(client_certificate=True, client_certificate_forced=True, changed=True, flags_value=3),
            host_job(id=GUID_B, name="b", client_certificate=None, client_certificate_forced=True, changed=True,
                     flags_value=3),
            host_job(id="{9A000000-0000-4000-8000-00000000000A}", name="c", client_certificate=None,
                     client_certificate_forced=True, changed=True, flags_value=3)]
    forced = [w for w in warnings_of(shape(host_result(jobs, desired=3), force=True, all_matches=True))
              if w.startswith("force ")]
    assert len(forced) == 2
    assert forced[0].startswith("force set network on job %s (myDownloadJob) owned by %s, which has a client "
                                "certificate" % (GUID_A, USER_SID))
    assert "(b) owned by %s, job {9A000000-0000-4000-8000-00000000000A} (c) owned by %s, not owned by LocalSystem" \
        % (USER_SID, USER_SID) in forced[1]
    assert "without knowing whether they have a client certificate" in forced[1]
    assert "If a job has one" in forced[1]


def test_flags_set_on_a_job_without_helper_token_warn() -> None:
    job = host_job(helper_token_sid=None, previous_flags_value=0, flags_value=1, changed=True)
    warnings = warnings_of(shape(host_result([job], desired=1), flags=["local_file"]))
    assert warnings == [
        "job %s (myDownloadJob) has no helper token: its helper-token flags do nothing until a helper token "
        "is set with IBitsTokenOptions::SetHelperToken (helper_token: caller)" % GUID_A
    ]


def test_unchanged_flags_on_a_job_without_helper_token_do_not_warn_again() -> None:
    job = host_job(helper_token_sid=None, previous_flags_value=1, flags_value=1, changed=False)
    assert warnings_of(shape(host_result([job], desired=1), flags=["local_file"])) == []


@pytest.mark.parametrize("desired", [None, 0])
def test_reading_or_clearing_flags_without_helper_token_does_not_warn(desired: int | None) -> None:
    job = host_job(helper_token_sid=None, previous_flags_value=0, flags_value=0)
    assert warnings_of(shape(host_result([job], desired=desired))) == []


def test_network_newly_set_warns_about_set_credentials() -> None:
    job = host_job(previous_flags_value=1, flags_value=3, changed=True)
    warnings = warnings_of(shape(host_result([job], desired=3)))
    assert warnings == [
        "network is now set on job %s (myDownloadJob): over HTTP, BITS sends implicit NTLM or Kerberos "
        "credentials only if the job's owner also calls IBackgroundCopyJob2::SetCredentials(..., NULL, NULL)"
        % GUID_A
    ]


def test_network_already_set_does_not_warn() -> None:
    job = host_job(previous_flags_value=2, flags_value=3, changed=True)
    assert warnings_of(shape(host_result([job], desired=3))) == []


def test_network_in_check_mode_would_be_set() -> None:
    job = host_job(previous_flags_value=0, flags_value=0, changed=True)
    warnings = warnings_of(shape(host_result([job], desired=2), check_mode=True))
    assert len(warnings) == 1 and warnings[0].startswith("network would be set on job %s" % GUID_A)


def test_warnings_name_all_jobs_once_and_keep_the_hosts() -> None:
    jobs = [host_job(helper_token_sid=None, changed=True, flags_value=3),
            host_job(id=GUID_B, name="b", helper_token_sid=None, owner=OTHER_SID, changed=True, flags_value=3)]
    raw = host_result(jobs, desired=3)
    raw["warnings"] = ["from the host"]
    warnings = warnings_of(shape(raw, all_matches=True))
    assert warnings[0] == "from the host"
    assert len(warnings) == 3
    assert warnings[1].startswith("job %s (myDownloadJob), job %s (b) have no helper token" % (GUID_A, GUID_B))
    assert warnings[2].startswith("network is now set on job %s (myDownloadJob), job %s (b):" % (GUID_A, GUID_B))


# --- failures -------------------------------------------------------------------------------


def test_failure_keeps_the_error_facts_and_explains() -> None:
    raw = host_failure("com_error", call="SetHelperTokenFlags", hresult=0x80070005, job_id=GUID_A,
                       jobs=[host_job(owner=OTHER_SID)], desired=3)
    result = shape(raw, diff_mode=True)
    assert result["failed"] is True
    assert result["error"] == raw["error"]
    assert result["caller"] == raw["caller"]
    assert t.cast(str, result["msg"]).startswith(
        "SetHelperTokenFlags failed for job %s (myDownloadJob) with 0x80070005 (E_ACCESSDENIED)" % GUID_A)
    assert set(t.cast(list, result["jobs"])[0]) == JOB_KEYS
    assert "job_id" not in result and "diff" not in result and "desired_flags_value" not in result
    assert "desired_helper_token" not in result
    assert result["changed"] is False


def test_unknown_certificate_refusal_keeps_the_null_certificate_and_explains() -> None:
    job = host_job(client_certificate=None, owner=OTHER_SID)
    raw = host_failure("client_certificate_unknown", job_id=GUID_A, jobs=[job], desired=3,
                       message="network needs force: the client certificate is unknown to the caller")
    result = shape(raw)
    assert result["failed"] is True and result["changed"] is False
    assert result["error"] == raw["error"] and result["caller"] == raw["caller"]
    assert t.cast(list, result["jobs"])[0]["client_certificate"] is None
    msg = t.cast(str, result["msg"])
    assert msg.startswith("Refused to set network on job %s (myDownloadJob) without force. Cause: " % GUID_A)
    assert "set force=true if you know that the job has no client certificate" in msg


def test_caller_identity_failure_with_null_caller_facts_is_explained() -> None:
    raw = host_failure("caller_identity", call="WindowsIdentity.GetCurrent", hresult=0x80070005,
                       message="Access is denied.", who={"sid": None, "is_admin": None, "os_build": None})
    result = shape(raw)
    assert result["failed"] is True
    assert result["caller"] == {"sid": None, "is_admin": None, "os_build": None}
    msg = t.cast(str, result["msg"])
    assert msg.startswith("Could not read who the module runs as on the host, for job 'myDownloadJob': "
                          "WindowsIdentity.GetCurrent failed with 0x80070005 (E_ACCESSDENIED) (Access is denied.)")
    assert "None" not in msg


def test_failure_drops_the_summary_ansible_made_of_the_hosts_message() -> None:
    raw = host_failure("not_found", call="GetJob", hresult=0x80200001, job_id=GUID_A, desired=3)
    raw["exception"] = "summary of the host's short message"
    result = shape(raw)
    assert "exception" not in result
    assert "BG_E_NOT_FOUND" in t.cast(str, result["msg"])


def test_failure_keeps_the_hosts_changed() -> None:
    job = host_job(previous_flags_value=0, flags_value=2, changed=True)
    raw = host_failure("readback_mismatch", call="GetHelperTokenFlags", job_id=GUID_A, jobs=[job], desired=3)
    assert shape(raw)["changed"] is True


@pytest.mark.parametrize(
    "raw",
    [
        {"failed": True, "msg": "Unsupported parameters for (bits_helper_token) module: x", "changed": False},
        {"failed": True, "msg": "MODULE FAILURE", "module_stdout": "", "module_stderr": "boom", "rc": 1},
        {"unreachable": True, "msg": "connection refused"},
    ],
)
def test_results_without_error_facts_pass_through_unchanged(raw: dict[str, object]) -> None:
    assert shape(raw, diff_mode=True) == raw


# --- the result matches the RETURN docs -----------------------------------------------------

# Keys every Ansible result may carry besides the module's documented ones.
STANDARD_KEYS = {"changed", "failed", "msg", "invocation", "warnings", "deprecations", "diff"}


def documented_return() -> dict[str, t.Any]:
    import yaml

    from tests.support.paths import MODULE_DOCS

    return yaml.safe_load(MODULE_DOCS.read_text(encoding="utf-8"))["RETURN"]


def test_single_job_result_has_exactly_the_documented_keys() -> None:
    documented = documented_return()
    raw = host_result([host_job(changed=True, flags_value=3)], desired=3)
    result = shape(raw, diff_mode=True)
    success_keys = {key for key, spec in documented.items() if "failure" not in spec["returned"]}
    assert set(result) - STANDARD_KEYS == success_keys


def test_job_entries_have_exactly_the_documented_keys() -> None:
    documented = documented_return()
    raw = host_result([host_job(), host_job(id=GUID_B)], desired=1)
    for job in t.cast(list, shape(raw, all_matches=True)["jobs"]):
        assert set(job) == set(documented["jobs"]["contains"])


def test_failure_result_has_the_documented_error_keys() -> None:
    documented = documented_return()
    raw = host_failure("not_found", call="EnumJobs")
    result = shape(raw)
    assert set(t.cast(dict, result["error"])) == set(documented["error"]["contains"])
    assert set(result) - STANDARD_KEYS == {"error", "jobs", "caller"}


# --- the helper token itself (helper_token: absent / caller) ---------------------------------

LABEL = "job %s (myDownloadJob)" % GUID_A
SYSTEM_SID = "S-1-5-18"


def token_job(previous: str | None, now: str | None, *, changed: bool, flags: int = 1,
              previous_flags: int | None = None, flags_changed: bool = False) -> dict[str, object]:
    """A job as the host reports it after helper_token: the token before and after, and what changed."""
    return host_job(previous_helper_token_sid=previous, helper_token_sid=now, helper_token_changed=changed,
                    flags_changed=flags_changed, changed=changed or flags_changed, flags_value=flags,
                    previous_flags_value=flags if previous_flags is None else previous_flags)


def test_caller_sets_the_token_and_reports_both_sids_at_the_top_and_per_job() -> None:
    raw = host_result([token_job(None, USER_SID, changed=True)], token="caller")
    result = shape(raw, flags=None, helper_token="caller")
    assert result["changed"] is True
    assert (result["previous_helper_token_sid"], result["helper_token_sid"]) == (None, USER_SID)
    job = t.cast(list, result["jobs"])[0]
    assert (job["previous_helper_token_sid"], job["helper_token_sid"], job["changed"]) == (None, USER_SID, True)
    assert set(job) == JOB_KEYS  # helper_token_changed / flags_changed stay host facts
    assert "desired_helper_token" not in result


def test_diff_shows_the_helper_token_before_and_after() -> None:
    raw = host_result([token_job(OTHER_SID, None, changed=True)], token="absent")
    diff = t.cast(dict, shape(raw, diff_mode=True, flags=None, helper_token="absent")["diff"])
    assert diff["before"] == "%s: flags = local_file\n%s: helper token = %s\n" % (LABEL, LABEL, OTHER_SID)
    assert diff["after"] == "%s: flags = local_file\n%s: helper token = none\n" % (LABEL, LABEL)


@pytest.mark.parametrize(("token", "who", "after"), [
    ("caller", USER_SID, USER_SID),
    ("caller", SYSTEM_SID, SYSTEM_SID),  # become_user: SYSTEM
    ("absent", USER_SID, "none"),
])
def test_check_mode_diff_predicts_the_token_from_the_hosts_facts(token: str, who: str, after: str) -> None:
    # Check mode: nothing written, so the host reports the same SID before and after.
    previous = OTHER_SID
    raw = host_result([token_job(previous, previous, changed=True)], token=token, who=caller(sid=who))
    result = shape(raw, check_mode=True, diff_mode=True, flags=None, helper_token=token)
    diff = t.cast(dict, result["diff"])
    assert diff["before"].endswith("helper token = %s\n" % previous)
    assert diff["after"].endswith("helper token = %s\n" % after)
    assert result["helper_token_sid"] == previous  # the result stays what the host read
    assert result["changed"] is True


def test_check_mode_diff_predicts_flags_and_token_together() -> None:
    job = token_job(None, None, changed=True, flags=0, flags_changed=True)
    raw = host_result([job], desired=3, token="caller")
    diff = t.cast(dict, shape(raw, check_mode=True, diff_mode=True, helper_token="caller")["diff"])
    assert diff["before"] == "%s: flags = none\n%s: helper token = none\n" % (LABEL, LABEL)
    assert diff["after"] == "%s: flags = local_file, network\n%s: helper token = %s\n" % (LABEL, LABEL, USER_SID)


def test_check_mode_follows_the_host_on_which_part_changes() -> None:
    # Only the token would change: the flags stay as read even though the task asked for others.
    raw = host_result([token_job(None, None, changed=True, flags=1)], desired=3, token="caller")
    diff = t.cast(dict, shape(raw, check_mode=True, diff_mode=True, helper_token="caller")["diff"])
    assert "flags = local_file\n" in diff["after"]
    assert diff["after"].endswith("helper token = %s\n" % USER_SID)


def test_idempotent_caller_changes_nothing_and_warns_nothing() -> None:
    raw = host_result([token_job(USER_SID, USER_SID, changed=False)], token="caller")
    result = shape(raw, diff_mode=True, flags=None, helper_token="caller")
    assert result["changed"] is False and "warnings" not in result
    diff = t.cast(dict, result["diff"])
    assert diff["before"] == diff["after"]


@pytest.mark.parametrize(("previous", "changed"), [(USER_SID.lower(), False), (OTHER_SID, True), (None, True)])
def test_token_change_without_the_hosts_part_flags_is_judged_from_the_sids(previous: str | None,
                                                                           changed: bool) -> None:
    # An older host reports only `changed`: the token counts as set when it was not already the caller's.
    job = host_job(previous_helper_token_sid=previous, helper_token_sid=previous, changed=True)
    raw = host_result([job], token="caller")
    diff = t.cast(dict, shape(raw, check_mode=True, diff_mode=True, flags=None, helper_token="caller")["diff"])
    assert diff["after"].endswith("helper token = %s\n" % (USER_SID if changed else previous))


def test_a_host_that_did_not_report_the_previous_sid_shows_not_read() -> None:
    job = host_job()
    del job["previous_helper_token_sid"]
    result = shape(host_result([job]), diff_mode=True, flags=None)
    assert result["previous_helper_token_sid"] is None
    assert t.cast(dict, result["diff"])["before"].endswith("helper token = not read\n")


def test_several_jobs_have_the_sids_per_job_only() -> None:
    jobs = [token_job(None, USER_SID, changed=True), host_job(id=GUID_B, name="b")]
    result = shape(host_result(jobs, token="caller"), all_matches=True, flags=None, helper_token="caller")
    assert "previous_helper_token_sid" not in result and "helper_token_sid" not in result
    assert [job["helper_token_sid"] for job in t.cast(list, result["jobs"])] == [USER_SID, USER_SID]


@pytest.mark.parametrize("check_mode", [False, True])
def test_setting_the_token_warns_that_it_lives_as_long_as_the_logon(check_mode: bool) -> None:
    job = token_job(None, None if check_mode else USER_SID, changed=True)
    warnings = warnings_of(shape(host_result([job], token="caller"), check_mode=check_mode, flags=None,
                                 helper_token="caller"))
    lifetime = [w for w in warnings if w.startswith("the helper token of ")]
    assert lifetime == [
        "the helper token of %s %s set to the token of %s, the user the module runs as. BITS keeps a helper token "
        "only as long as the logon session it was set from and discards it when that user logs off; a job that "
        "needs it then fails with 0x80200056 (BG_E_TOKEN_REQUIRED). Over WinRM, PSRP or SSH that session is this "
        "task's own logon (the connection's, or become's), which ends with the task: apply the token again where a "
        "logon of that user lasts as long as the job needs the token (e.g. a scheduled task on the host that runs "
        "as that user, sets it and keeps running), or run the play again shortly before the job needs it"
        % (LABEL, "would be" if check_mode else "is now", USER_SID)
    ]
    assert warnings == lifetime  # the job has flags: nothing else to say


def test_a_token_on_a_job_without_flags_warns_that_nothing_uses_it() -> None:
    job = token_job(None, USER_SID, changed=True, flags=0)
    warnings = warnings_of(shape(host_result([job], token="caller"), flags=None, helper_token="caller"))
    assert warnings[0] == (
        "%s has no helper-token flags: the helper token just set is not used for anything until flags name the "
        "resources BITS opens with it (flags: [local_file], [network] or both)" % LABEL)
    assert len(warnings) == 2 and warnings[1].startswith("the helper token of ")


def test_no_unused_token_warning_when_the_same_task_sets_flags() -> None:
    job = token_job(None, None, changed=True, flags=0, flags_changed=True)
    warnings = warnings_of(shape(host_result([job], desired=1, token="caller"), check_mode=True,
                                 flags=["local_file"], helper_token="caller"))
    assert not any("no helper-token flags" in w for w in warnings)
    # The token would be set in the same task: the flags will have one to use.
    assert not any("has no helper token" in w for w in warnings)


def test_clearing_the_token_of_a_job_with_flags_warns_that_they_do_nothing() -> None:
    raw = host_result([token_job(OTHER_SID, None, changed=True, flags=2)], token="absent")
    warnings = warnings_of(shape(raw, flags=None, helper_token="absent"))
    assert warnings == [
        "%s has no helper token: its helper-token flags do nothing until a helper token is set with "
        "IBitsTokenOptions::SetHelperToken (helper_token: caller)" % LABEL
    ]


def test_clearing_the_token_in_check_mode_warns_from_the_prediction() -> None:
    raw = host_result([token_job(OTHER_SID, OTHER_SID, changed=True, flags=1)], token="absent")
    warnings = warnings_of(shape(raw, check_mode=True, flags=None, helper_token="absent"))
    assert any("has no helper token" in w for w in warnings)


def test_the_token_is_taken_from_the_task_when_the_host_did_not_say() -> None:
    raw = host_result([token_job(None, None, changed=True)], token="keep")
    del raw["desired_helper_token"]
    diff = t.cast(dict, shape(raw, check_mode=True, diff_mode=True, flags=None, helper_token="caller")["diff"])
    assert diff["after"].endswith("helper token = %s\n" % USER_SID)
