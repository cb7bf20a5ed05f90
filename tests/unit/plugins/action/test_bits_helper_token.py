"""The action plugin's run(): validate first, one module execution, shaped result."""
from __future__ import annotations

import typing as t

import pytest

from ansible_collections.winbits.bits.plugins.action.bits_helper_token import ActionModule
from ansible_collections.winbits.bits.tests.unit.utils.action_fakes import FakeModule, action_with_fake_module
from ansible_collections.winbits.bits.tests.unit.utils.host_facts import GUID_A, OTHER_SID, USER_SID, caller, host_failure, host_job, host_result

MODULE = "winbits.bits.bits_helper_token"


def make_action(args: dict[str, object], raw: dict[str, object] | None = None, *, check_mode: bool = False,
                diff: bool = False) -> tuple[ActionModule, FakeModule]:
    return action_with_fake_module(ActionModule, MODULE, args, raw if raw is not None else host_result([host_job()]),
                                   check_mode=check_mode, diff=diff)


def test_run_calls_the_module_once_with_normalised_args() -> None:
    raw = host_result([host_job(previous_flags_value=1, flags_value=3, changed=True)], desired=3)
    task_vars = {"inventory_hostname": "win1"}
    action, fake = make_action({"job": "myDownloadJob", "flags": "NETWORK,bg_token_local_file",
                                "all_matches": "no", "force": "yes"}, raw)
    result = action.run(task_vars=task_vars)
    assert fake.calls == [{
        "module_name": MODULE,
        "module_args": {"job": "myDownloadJob", "flags": ["local_file", "network"], "helper_token": "keep",
                        "all_matches": False, "all_users": False, "force": True},
        "task_vars": task_vars,
    }]
    assert result["changed"] is True
    assert result["flags"] == ["local_file", "network"]
    assert result["previous_flags"] == ["local_file"]
    assert "failed" not in result


def test_ad_hoc_empty_flags_clears_all() -> None:
    job = "{%s}" % GUID_A.strip("{}").lower()
    action, fake = make_action({"job": job, "flags": ""})
    action.run(task_vars={})
    assert fake.calls[0]["module_args"] == {"job": job, "flags": [], "helper_token": "keep",
                                            "all_matches": False, "all_users": False, "force": False}


def test_task_vars_none_is_accepted() -> None:
    action, fake = make_action({"job": "j"})
    action.run()
    assert len(fake.calls) == 1 and fake.calls[0]["task_vars"] == {}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({}, "missing required argument: job"),
        ({"job": "   "}, "job must not be empty"),
        ({"job": "a\tb"}, "control characters"),
        ({"job": "y" * 300}, "at most 256"),
        ({"job": True}, "job must be a string (a display name or a GUID), not bool True"),
        ({"job": "j", "flags": "local_file,bogus"}, "unknown flag name 'bogus'"),
        ({"job": "j", "flags": [True]}, "is a boolean"),
        ({"job": "j", "flags": "0x8"}, "sets bits 0x8"),
        ({"job": "j", "flags": -2}, "is negative"),
        ({"job": "j", "flags": 1.5}, "is a float"),
        ({"job": "j", "flags": "0xq"}, "not a valid hexadecimal number"),
        ({"job": "j", "force": "sometimes"}, "force must be a boolean"),
        ({"job": "j", "all_users": 7}, "all_users must be a boolean"),
        ({"job": "j", "state": "present"}, "unsupported parameter: state; supported: all_matches, all_users, "
                                           "flags, force, helper_token, job"),
        ({"job": "j", "helper_token": "present"}, "helper_token must be one of keep, absent, caller"),
        ({"job": "j", "helper_token": False}, "helper_token must be one of keep, absent, caller (keep leaves"),
    ],
)
def test_bad_input_fails_without_contacting_the_host(args: dict[str, object], fragment: str) -> None:
    action, fake = make_action(args)
    result = action.run(task_vars={})
    assert fake.calls == []
    assert result["failed"] is True and result["changed"] is False
    assert fragment in result["msg"]


@pytest.mark.parametrize("job", ["Sync {prod}", "@{a=1}", "${env:COMPUTERNAME}", "{not-a-guid}"])
def test_display_names_that_look_like_powershell_reach_the_host_as_data(job: str) -> None:
    action, fake = make_action({"job": job})
    result = action.run(task_vars={})
    assert [call["module_args"]["job"] for call in fake.calls] == [job]  # type: ignore[index]
    assert "failed" not in result and "warnings" not in result


def test_a_guid_with_a_typo_is_looked_up_as_a_name_and_the_warning_comes_first() -> None:
    typo = "{5D3B4C39-0000-4D5B-9E2F-123456789AB}"
    raw = host_result([host_job(helper_token_sid=None, previous_flags_value=0, flags_value=1, changed=True)],
                      desired=1)
    action, fake = make_action({"job": typo, "flags": "local_file"}, raw)
    result = action.run(task_vars={})
    assert t.cast(dict, fake.calls[0]["module_args"])["job"] == typo
    warnings = t.cast(list, result["warnings"])
    assert warnings[0].startswith("job %r looks like a GUID but is not one (its groups have 8-4-4-4-11 digits" % typo)
    assert "looked up as a display name" in warnings[0]
    assert len(warnings) == 2 and "has no helper token" in warnings[1]  # the shaping's own warning is kept


def test_an_integer_job_is_sent_as_a_string_with_ansibles_conversion_warning() -> None:
    action, fake = make_action({"job": 2024})
    result = action.run(task_vars={})
    assert t.cast(dict, fake.calls[0]["module_args"])["job"] == "2024"
    assert result["warnings"] == [
        "job: The value 2024 (type int) was converted to '2024' (type str). If this does not look like what you "
        "expect, quote the entire value to ensure it does not change."
    ]


def test_check_mode_and_diff_reach_the_shaping() -> None:
    raw = host_result([host_job(previous_flags_value=1, flags_value=1, changed=True)], desired=0)
    action, fake = make_action({"job": "myDownloadJob", "flags": []}, raw, check_mode=True, diff=True)
    result = action.run(task_vars={})
    assert len(fake.calls) == 1
    assert result["changed"] is True
    assert result["flags"] == ["local_file"]  # nothing was written
    assert "flags = none\n" in t.cast(dict, result["diff"])["after"]


def test_host_error_fails_with_an_explanation_and_keeps_the_facts() -> None:
    raw = host_failure("com_error", call="SetHelperTokenFlags", hresult=0x80070005, job_id=GUID_A,
                       jobs=[host_job(owner=OTHER_SID)], desired=3)
    action, fake = make_action({"job": "myDownloadJob", "flags": [3]}, raw)
    result = action.run(task_vars={})
    assert len(fake.calls) == 1
    assert result["failed"] is True
    assert result["error"] == raw["error"]
    assert "E_ACCESSDENIED" in result["msg"] and "the job's owner is %s" % OTHER_SID in result["msg"]


def test_module_failure_without_error_facts_passes_through() -> None:
    raw = {"failed": True, "msg": "MODULE FAILURE\nSee stdout/stderr for the exact error", "rc": 1,
           "module_stderr": "boom", "module_stdout": ""}
    action = make_action({"job": "j"}, raw)[0]
    result = action.run(task_vars={})
    assert {key: result[key] for key in raw} == raw


def test_async_is_refused() -> None:
    action, fake = make_action({"job": "j"})
    action._task.async_val = 30
    # The wording differs between ansible-core releases; both name async.
    with pytest.raises(Exception, match="async"):
        action.run(task_vars={})
    assert fake.calls == []


def test_helper_token_in_any_case_reaches_the_host_in_lower_case_with_the_flags_left_out() -> None:
    raw = host_result([host_job(previous_helper_token_sid=OTHER_SID, helper_token_sid=None, helper_token_changed=True,
                                changed=True, flags_value=0, previous_flags_value=0)], token="absent")
    action, fake = make_action({"job": "myDownloadJob", "helper_token": "ABSENT"}, raw, diff=True)
    result = action.run(task_vars={})
    assert fake.calls[0]["module_args"] == {"job": "myDownloadJob", "helper_token": "absent", "all_matches": False,
                                            "all_users": False, "force": False}
    token_facts = (result["previous_helper_token_sid"], result["helper_token_sid"], result["changed"])
    assert token_facts == (OTHER_SID, None, True)
    assert t.cast(dict, result["diff"])["after"].endswith("helper token = none\n")
    assert "desired_helper_token" not in result and "warnings" not in result


def test_caller_as_system_in_check_mode_predicts_s_1_5_18_and_warns_about_the_lifetime() -> None:
    job = host_job(previous_helper_token_sid=USER_SID, helper_token_sid=USER_SID, helper_token_changed=True,
                   changed=True)
    raw = host_result([job], token="caller", who=caller(sid="S-1-5-18", is_admin=True))
    action, fake = make_action({"job": "myDownloadJob", "helper_token": "caller"}, raw, check_mode=True, diff=True)
    result = action.run(task_vars={})
    assert len(fake.calls) == 1
    assert result["helper_token_sid"] == USER_SID  # nothing was written
    assert t.cast(dict, result["diff"])["after"].endswith("helper token = S-1-5-18\n")
    warnings = t.cast(list, result["warnings"])
    assert len(warnings) == 1 and "would be set to the token of S-1-5-18" in warnings[0]
    assert "BG_E_TOKEN_REQUIRED" in warnings[0]


def test_a_token_failure_is_explained_without_the_host_only_keys() -> None:
    raw = host_failure("com_error", call="SetHelperToken", hresult=0x80010123, job_id=GUID_A, jobs=[host_job()],
                       token="caller")
    result = make_action({"job": "myDownloadJob", "helper_token": "caller"}, raw)[0].run(task_vars={})
    assert result["failed"] is True and "CO_E_FAILEDTOIMPERSONATE" in t.cast(str, result["msg"])
    assert "desired_helper_token" not in result
