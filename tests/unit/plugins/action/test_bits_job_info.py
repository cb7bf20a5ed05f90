"""bits_job_info's action plugin: validate first, one module execution with the normalised arguments, shaped result."""
from __future__ import annotations


import pytest

from ansible_collections.winbits.bits.plugins.action.bits_job_info import ActionModule
from ansible_collections.winbits.bits.tests.unit.utils.action_fakes import FakeModule, action_with_fake_module
from ansible_collections.winbits.bits.tests.unit.utils.host_facts import USER_SID
from ansible_collections.winbits.bits.tests.unit.utils.job_info_facts import GUID_1, GUID_2, bits3_job, caller, raw_failure, raw_job, raw_result

MODULE = "winbits.bits.bits_job_info"


def make_action(args: dict[str, object], raw: dict[str, object] | None = None, *,
                check_mode: bool = False) -> tuple[ActionModule, FakeModule]:
    return action_with_fake_module(ActionModule, MODULE, args, raw if raw is not None else raw_result([raw_job()]),
                                   check_mode=check_mode, diff=False)


def test_run_calls_the_module_once_with_normalised_args() -> None:
    raw = raw_result([raw_job(id=GUID_2), raw_job(id=GUID_1)])
    task_vars = {"inventory_hostname": "win1"}
    action, fake = make_action({"job": "contentSync, %s" % GUID_1.lower().strip("{}"), "all_users": "yes"}, raw)
    result = action.run(task_vars=task_vars)
    assert fake.calls == [{
        "module_name": MODULE,
        "module_args": {"job": ["contentSync", GUID_1], "all_users": True, "name_timeout": 5},
        "task_vars": task_vars,
    }]
    assert result["changed"] is False and result["exists"] is True
    assert [job["id"] for job in result["jobs"]] == [GUID_1, GUID_2]
    assert "failed" not in result and "all_users" not in result


def test_defaults_all_jobs_of_all_users() -> None:
    action, fake = make_action({})
    action.run(task_vars={})
    assert fake.calls[0]["module_args"] == {"job": None, "all_users": True, "name_timeout": 5}


def test_check_mode_runs_the_module_all_the_same() -> None:
    action, fake = make_action({"all_users": False}, check_mode=True)
    result = action.run(task_vars={})
    assert len(fake.calls) == 1 and fake.calls[0]["module_args"] == {"job": None, "all_users": False, "name_timeout": 5}
    assert result["changed"] is False


def test_task_vars_none_is_accepted() -> None:
    action, fake = make_action({"job": "j"})
    action.run()
    assert len(fake.calls) == 1 and fake.calls[0]["task_vars"] == {}


def test_argument_warnings_come_before_the_hosts() -> None:
    action, fake = make_action({"job": [42]}, raw_result([bits3_job()]))
    result = action.run(task_vars={})
    assert fake.calls[0]["module_args"]["job"] == ["42"]
    assert len(result["warnings"]) == 2
    assert result["warnings"][0].startswith("job item 1: the int 42 was converted")
    assert "E_NOINTERFACE" in result["warnings"][1]


@pytest.mark.parametrize(("args", "fragment"), [
    ({"job": []}, "job is an empty list"),
    ({"job": ""}, "job item 1 is empty or only blanks"),
    ({"job": ["a", "b\tc"]}, "job item 2 must not contain control characters"),
    ({"job": "y" * 300}, "at most 256"),
    ({"job": [{"a": 1}]}, "job item 1 must be a string, not dict"),
    ({"job": True}, "job must be a list or a string"),
    ({"all_users": "sometimes"}, "all_users must be a boolean"),
    ({"job": "j", "flags": "network"}, "unsupported parameter: flags; supported: all_users, job"),
])
def test_bad_input_fails_without_contacting_the_host(args: dict[str, object], fragment: str) -> None:
    action, fake = make_action(args)
    result = action.run(task_vars={})
    assert fake.calls == []
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"].startswith("bits_job_info: ") and fragment in result["msg"]


def test_listing_all_users_denied_fails_with_an_explanation() -> None:
    raw = raw_failure("com_error", "EnumJobs", 0x80070005, who=caller(sid=USER_SID, is_admin=False))
    action, fake = make_action({}, raw)
    result = action.run(task_vars={})
    assert len(fake.calls) == 1
    assert result["failed"] is True and result["error"] == raw["error"]
    assert "set all_users: false" in result["msg"] and "connect as an administrator" in result["msg"]


def test_module_failure_without_error_facts_passes_through() -> None:
    raw = {"failed": True, "msg": "MODULE FAILURE\nSee stdout/stderr for the exact error", "rc": 1,
           "module_stderr": "boom", "module_stdout": ""}
    result = make_action({}, raw)[0].run(task_vars={})
    assert {key: result[key] for key in raw} == raw


def test_async_is_refused() -> None:
    action, fake = make_action({})
    action._task.async_val = 30
    # The wording differs between ansible-core releases; both name async.
    with pytest.raises(Exception, match="async"):
        action.run(task_vars={})
    assert fake.calls == []
