"""The bits_policy action: validate a policy, and plan its enforcement on the task's own host.

It runs the real policy code (load and evaluate): the roles run validate before any host is contacted,
and the bits_enforce role loops over plan's fixes.
"""
from __future__ import annotations

import typing as t
from pathlib import Path

from ansible_collections.winbits.bits.plugins.action.bits_policy import ActionModule
from ansible_collections.winbits.bits.tests.unit.utils.action_fakes import run_controller_action
from tests.support.paths import REPO

GOOD_POLICY = {"version": 1, "rules": [{"name": "content-sync", "match": {"job": "*"}, "expect": {"flags": ["local_file"]}}]}


def run(args: dict[str, t.Any], *, variables: dict[str, t.Any]) -> dict[str, t.Any]:
    return run_controller_action(ActionModule, "winbits.bits.bits_policy", args, variables)


def info(*flags: list[str]) -> dict[str, t.Any]:
    """A registered bits_job_info result with one job per flags list."""
    caller = {"sid": "S-1-5-21-1-500", "is_admin": True, "os_build": 20348}
    return {"changed": False, "exists": bool(flags), "caller": caller,
            "jobs": [{"name": f"job{index}", "flags": list(item)} for index, item in enumerate(flags)], "warnings": []}


# --- validate mode (the real policy code: the role runs it before any host is contacted) -------------

def test_validate_mode_checks_the_real_policy_and_writes_nothing(tmp_path: Path) -> None:
    policy = REPO / "examples" / "bits_policy.yml"
    result = run({"mode": "validate", "policy": str(policy)}, variables={})
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    assert result["policy"]["rules"] == ["content-sync", "user-jobs", "no-network"]
    assert result["policy"]["digest"].startswith("sha256:")
    assert list(tmp_path.iterdir()) == []


def test_validate_mode_lists_every_problem_of_a_bad_policy() -> None:
    bad = {"version": 1, "rules": [{"name": "x", "expect": {"flags": ["bogus"]}}, {"name": "x", "expect": {}}]}
    result = run({"mode": "validate", "policy": bad}, variables={})
    assert result["failed"] is True
    assert "rules[0].expect.flags[0]" in result["msg"] and "bogus" in result["msg"]
    assert "rules[1]" in result["msg"], result["msg"]


# --- plan mode (the real policy code: the bits_enforce role loops over its fixes) ---------------------

def plan_vars(host: str, result: dict[str, t.Any] | None, var: str = "bits_enforce_info") -> dict[str, t.Any]:
    hostvars = {host: {var: result} if result is not None else {}}
    return {"inventory_hostname": host, "hostvars": hostvars, "ansible_play_hosts_all": [host]}


def enforce_job(name: str, flags: list[str], number: int = 1, **overrides: t.Any) -> dict[str, t.Any]:
    value = sum({"local_file": 1, "network": 2}[flag] for flag in flags)
    return {"id": "{6A000000-0000-4000-8000-%012d}" % number, "name": name, "owner": "S-1-5-18",
            "owner_name": "NT AUTHORITY\\SYSTEM", "flags": flags, "flags_value": value, **overrides}


def test_plan_mode_returns_the_fixes_of_the_tasks_own_host_only(tmp_path: Path) -> None:
    policy = str(REPO / "examples" / "bits_policy.yml")
    result = info()
    result["jobs"] = [enforce_job("contentSync", ["local_file"], 1), enforce_job("backupUpload", ["network"], 2)]
    variables = plan_vars("web02", result)
    variables["hostvars"]["web01"] = {"bits_enforce_info": info(["network"])}
    planned = run({"mode": "plan", "policy": policy, "result_var": "bits_enforce_info", "as_of": "2026-11-21"},
                  variables=variables)
    assert planned.get("failed") is not True, planned
    assert planned["changed"] is False and planned["host"] == "web02" and planned["failure"] is None
    assert [fix["args"] for fix in planned["fixes"]] == [
        {"job": "{6A000000-0000-4000-8000-000000000001}", "flags": ["local_file", "network"]},
        {"job": "{6A000000-0000-4000-8000-000000000002}", "flags": []},
    ]
    assert planned["msg"] == "web02: 2 jobs to change"
    assert list(tmp_path.iterdir()) == []


def test_plan_mode_waiver_follows_as_of() -> None:
    policy = str(REPO / "examples" / "bits_policy.yml")
    result = info()
    result["jobs"] = [enforce_job("backupUpload", ["local_file", "network"])]
    args = {"mode": "plan", "policy": policy, "result_var": "bits_enforce_info"}
    waived = run({**args, "as_of": "2027-03-31"}, variables=plan_vars("backup01", result))
    assert waived["fixes"] == [] and [item["name"] for item in waived["waived"]] == ["backupUpload"]
    expired = run({**args, "as_of": "2027-04-01"}, variables=plan_vars("backup01", result))
    assert [fix["args"]["flags"] for fix in expired["fixes"]] == [["local_file"]]


def test_plan_mode_without_a_result_says_why_and_does_not_fail_itself() -> None:
    planned = run({"mode": "plan", "policy": GOOD_POLICY, "result_var": "bits_enforce_info"},
                  variables=plan_vars("web07", None))
    assert planned.get("failed") is not True
    assert planned["fixes"] == [] and planned["failure"] == "web07: the policy could not be enforced: no result"


def test_plan_mode_refuses_hosts() -> None:
    planned = run({"mode": "plan", "policy": GOOD_POLICY, "hosts": ["web01"]}, variables=plan_vars("web01", None))
    assert planned["failed"] is True and planned["msg"].startswith("bits_policy: unsupported parameter: hosts; supported: as_of, mode, policy"), planned
    assert "hosts" in planned["msg"]


def test_a_waiver_without_an_owner_warns_through_the_tasks_warnings() -> None:
    policy = {"version": 1, "rules": [{"name": "no-network", "expect": {"forbidden_flags": ["network"]}}],
              "waivers": [{"rule": "no-network", "hosts": "backup*", "job": "backupUpload", "reason": "CHG-1234",
                           "expires": "2027-03-31"}]}
    result = run({"mode": "validate", "policy": policy}, variables={})
    assert result.get("failed") is not True, result
    assert result["warnings"] == [
        "policy waivers[0]: names no owner, so any user of a host it selects can name a job 'backupUpload' and have "
        "it waived from rule no-network; add owner: (the SID or DOMAIN\\user that runs the job)"]
    policy["waivers"][0]["owner"] = "S-1-5-18"
    assert "warnings" not in run({"mode": "validate", "policy": policy}, variables={})
