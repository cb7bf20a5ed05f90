"""Enforcement end to end: the bits_enforce role over the compliance fleet, with the example policy.

Each host of tests/sim/fleets/compliance.yml stands for one outcome of examples/bits_policy.yml:
web01 compliant (and an unmanaged job), web02 and app01 in violation, backup01 waived, locked01 with a
job whose flags cannot be read, legacy01 with BITS 3.0, down01 unreachable. The hosts' state is read
from the simulator's files to see what the role really wrote, and judged afterwards by the report role.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.paths import REPO

COMPLIANCE_FLEET = REPO / "tests" / "sim" / "fleets" / "compliance.yml"
POLICY = REPO / "examples" / "bits_policy.yml"
READABLE = ["app01", "backup01", "legacy01", "locked01", "web01", "web02"]
FINISHING = ["app01", "backup01", "web01", "web02"]
FIX_TASK = "Set the helper-token flags of the jobs that differ from the policy"
WEB02_SYNC = "{6A000000-0000-4000-8000-000000000201}"
APP01_UPLOAD = "{6A000000-0000-4000-8000-000000000301}"


@pytest.fixture
def compliance(fleet):
    return fleet(yaml.safe_load(COMPLIANCE_FLEET.read_text(encoding="utf-8")))


def _enforce_play(hosts: str = "all", **variables: Any) -> list[dict[str, Any]]:
    return [{"hosts": hosts, "gather_facts": False,
             "roles": [{"role": "winbits.bits.bits_enforce", "vars": {
                 "bits_enforce_policy": str(POLICY), "bits_enforce_as_of": "2026-11-21", **variables}}]}]


def _report_play(report_dir: Path) -> list[dict[str, Any]]:
    return [{"hosts": "all", "gather_facts": False,
             "roles": [{"role": "winbits.bits.bits_report", "vars": {
                 "bits_report_policy": str(POLICY), "bits_report_dir": str(report_dir),
                 "bits_report_as_of": "2026-11-21"}}]}]


def _flags(compliance, host: str, job_id: str) -> list[str]:
    job = next(job for job in compliance.state(host)["jobs"] if job["id"] == job_id)
    return job["flags"]


def _task_results(run, task: str) -> dict[str, dict[str, Any]]:
    """The results of one task of the play by host (a task that did not run on a host has none)."""
    return {host: result for play in run.output["plays"] for item in play["tasks"] if item["task"].endswith(task)
            for host, result in item["hosts"].items()}


def _changed_items(run) -> dict[str, list[dict[str, Any]]]:
    """The bits_helper_token loop items that changed something, by host."""
    return {host: [item for item in result.get("results", []) if item.get("changed")]
            for host, result in _task_results(run, FIX_TASK).items() if not result.get("skipped")}


def _assert_failing_hosts_fail_alone(run) -> None:
    stats = run.stats
    for host in FINISHING:
        assert stats[host]["failures"] == 0 and stats[host]["unreachable"] == 0, (host, stats[host])
    assert stats["down01"]["unreachable"] == 1
    assert stats["legacy01"]["failures"] == 1 and stats["locked01"]["failures"] == 1
    failures = {host: result for host, result in _task_results(run, "Fail the hosts with jobs that could not be judged").items()
                if result.get("failed")}
    assert "older than 4.0" in failures["legacy01"]["msg"] and "contentSync" in failures["legacy01"]["msg"]
    assert "E_ACCESSDENIED" in failures["locked01"]["msg"] and "vendorAgent" in failures["locked01"]["msg"]
    assert set(failures) == {"legacy01", "locked01"}, "only the hosts with unjudgeable jobs may fail there"


def test_check_mode_reports_each_change_with_its_diff_and_writes_nothing(compliance):
    before = {host: compliance.state_bytes(host) for host in READABLE}
    run = compliance.playbook(_enforce_play(), "--check", "--diff")
    assert run.returncode != 0, "legacy01, locked01 and down01 must fail the run"
    assert {host: compliance.state_bytes(host) for host in READABLE} == before, "check mode wrote to a host"
    changed = _changed_items(run)
    assert sorted(changed) == ["app01", "web02"]
    [web02] = changed["web02"]
    # in check mode the module reports the flags as they are; the item and the diff say what would be set
    assert web02["item"]["args"] == {"job": WEB02_SYNC, "flags": ["local_file", "network"]}
    assert web02["previous_flags"] == ["local_file"]
    assert "flags = local_file\n" in web02["diff"]["before"]
    assert "flags = local_file, network\n" in web02["diff"]["after"]
    [app01] = changed["app01"]
    assert app01["previous_flags"] == ["network"] and app01["item"]["args"]["flags"] == []
    changes = {host: run.stats[host]["changed"] for host in FINISHING}
    assert changes == {"app01": 1, "backup01": 0, "web01": 0, "web02": 1}
    _assert_failing_hosts_fail_alone(run)


def test_enforcement_fixes_the_violations_leaves_the_rest_and_a_second_run_changes_nothing(compliance):
    untouched = {host: compliance.state_bytes(host) for host in ("web01", "backup01", "locked01", "legacy01")}
    first = compliance.playbook(_enforce_play(), "--diff")
    _assert_failing_hosts_fail_alone(first)
    assert _flags(compliance, "web02", WEB02_SYNC) == ["local_file", "network"]
    assert _flags(compliance, "app01", APP01_UPLOAD) == []
    # compliant, unmanaged (web01 defenderUpdate), waived (backup01) and unjudgeable jobs are left alone
    assert {host: compliance.state_bytes(host) for host in untouched} == untouched
    plans = _task_results(first, "Plan the changes the policy asks for on each host")
    assert [item["name"] for item in plans["backup01"]["waived"]] == ["backupUpload"]
    assert plans["web01"]["fixes"] == [] and plans["web01"]["counts"]["unmanaged"] == 1

    second = compliance.playbook(_enforce_play())
    assert {host: second.stats[host]["changed"] for host in FINISHING} == dict.fromkeys(FINISHING, 0)
    assert all(result.get("skipped") for result in _task_results(second, FIX_TASK).values()), \
        "a second run ran bits_helper_token although nothing differs"
    _assert_failing_hosts_fail_alone(second)

    report_dir = compliance.work / "report"
    assert compliance.playbook(_report_play(report_dir)).returncode == 0
    report = json.loads((report_dir / "bits-compliance.json").read_text(encoding="utf-8"))
    assessed = [host for host in report["hosts"] if host["status"] != "not_assessed"]
    assert sorted(host["name"] for host in assessed) == FINISHING
    assert all(host["status"] == "compliant" for host in assessed)
    statuses = {job["status"] for host in assessed for job in host["jobs"]}
    assert statuses == {"compliant", "waived", "unmanaged"}
    assert report["summary"]["jobs"]["violation"] == 0


def test_only_the_hosts_with_a_change_get_a_task_beyond_the_listing(compliance):
    listing = compliance.ansible("web01", "", module="winbits.bits.bits_job_info")
    assert listing.returncode == 0
    per_task = compliance.server.stats["web01"].operations["Command"]
    assert per_task >= 1
    compliance.server.reset_stats()
    compliance.playbook(_enforce_play())
    commands = {host: stats.operations["Command"] for host, stats in compliance.server.stats.items()}
    assert commands["web01"] == commands["backup01"] == per_task, "a host with nothing to change got more than one task"
    assert commands["web02"] == commands["app01"] == 2 * per_task


def test_an_expired_waiver_no_longer_protects_the_job(compliance):
    run = compliance.playbook(_enforce_play(bits_enforce_as_of="2027-04-01"), "--limit", "backup01")
    assert run.returncode == 0, json.dumps(run.output)[-4000:]
    assert _flags(compliance, "backup01", "{6A000000-0000-4000-8000-000000000401}") == ["local_file"]


def test_a_forbidden_helper_token_is_cleared_and_the_flags_kept(compliance):
    policy = {"version": 1, "rules": [{"name": "no-token", "match": {"job": "contentSync"},
                                       "expect": {"helper_token": "absent"}}]}
    job_id = "{6A000000-0000-4000-8000-000000000101}"
    run = compliance.playbook(_enforce_play("web01", bits_enforce_policy=policy))
    assert run.returncode == 0, json.dumps(run.output)[-4000:]
    job = next(job for job in compliance.state("web01")["jobs"] if job["id"] == job_id)
    assert job["helper_token_sid"] is None and job["flags"] == ["local_file", "network"]
    again = compliance.playbook(_enforce_play("web01", bits_enforce_policy=policy))
    assert again.stats["web01"]["changed"] == 0, again.stats


def test_a_missing_helper_token_is_warned_about_and_left_alone(compliance):
    policy = {"version": 1, "rules": [{"name": "needs-token", "match": {"job": "defenderUpdate"},
                                       "expect": {"helper_token": "present"}}]}
    before = compliance.state_bytes("web01")
    run = compliance.playbook(_enforce_play("web01", bits_enforce_policy=policy))
    assert run.returncode == 0, json.dumps(run.output)[-4000:]
    assert compliance.state_bytes("web01") == before
    plan = _task_results(run, "Plan the changes the policy asks for on each host")["web01"]
    assert plan["fixes"] == [] and [item["name"] for item in plan["unfixable"]] == ["defenderUpdate"]
    assert "expects a helper token" in plan["unfixable"][0]["problems"][0]
    assert "needs-token" in " ".join(plan.get("warnings", [])) or "needs-token" in run.stderr


def test_a_malformed_policy_fails_before_any_host_is_contacted(compliance):
    bad = compliance.work / "bad-policy.yml"
    bad.write_text("version: 1\nrules:\n  - name: x\n    expect: {forbidden_flags: [bogus]}\n", encoding="utf-8")
    run = compliance.playbook(_enforce_play(bits_enforce_policy=str(bad)))
    assert run.returncode != 0
    assert "rules[0].expect.forbidden_flags[0]" in json.dumps(run.output)
    assert all(stats.operations["Command"] == 0 for stats in compliance.server.stats.values()), \
        "the hosts were contacted although the policy was malformed"


def test_the_example_playbook_finds_the_policy_beside_it_and_reports_in_check_mode(compliance):
    before = compliance.state_bytes("web02")
    run = compliance.playbook(REPO / "examples" / "enforce.yml", "--check", "--diff", "-e", "target=web02")
    assert run.returncode == 0, json.dumps(run.output)[-4000:]
    assert run.stats["web02"]["changed"] == 1 and compliance.state_bytes("web02") == before
