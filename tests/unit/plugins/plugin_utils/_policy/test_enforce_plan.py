"""The enforcement plan of one host: the real policy evaluation turned into bits_helper_token calls."""
from __future__ import annotations

import datetime
import typing as t

from ansible_collections.winbits.bits.plugins.plugin_utils._policy.enforce import (
    enforcement_plan,
    failure_message,
    plan_message,
    unfixable_warnings,
)
from ansible_collections.winbits.bits.plugins.plugin_utils._policy import evaluate_host, load_policy
from ansible_collections.winbits.bits.tests.unit.utils.policy_facts import ALICE, guid, make_job, make_result

TODAY = datetime.date(2026, 11, 21)
POLICY = load_policy({
    "version": 1,
    "rules": [
        {"name": "content-sync", "match": {"job": "contentSync"}, "expect": {"flags": ["local_file", "network"]}},
        {"name": "user-jobs", "match": {"owner": "CORP\\alice"}, "expect": {"allowed_flags": ["local_file"]}},
        {"name": "no-network", "match": {"job": "*Upload"}, "expect": {"forbidden_flags": ["network"]}},
        {"name": "no-token", "match": {"job": "tokenless"}, "expect": {"helper_token": "absent"}},
        {"name": "needs-token", "match": {"job": "tokenful"}, "expect": {"helper_token": "present"}},
    ],
    "waivers": [{"rule": "no-network", "hosts": "backup*", "job": "backupUpload", "reason": "CHG-1234",
                 "expires": "2027-03-31"}],
})


def plan_of(*jobs: dict[str, t.Any], host: str = "web01", today: datetime.date = TODAY) -> dict[str, t.Any]:
    return enforcement_plan(evaluate_host(POLICY, host, make_result(*jobs), today=today))


def test_each_rule_kind_gets_the_fix_that_changes_least() -> None:
    plan = plan_of(make_job(1, "contentSync", flags=1),                      # exactly: add network
                   make_job(2, "userPhotos", flags=3, owner=ALICE),          # allowed: keep local_file
                   make_job(3, "reportUpload", flags=3))                     # forbidden: drop network only
    assert [(fix["name"], fix["args"]) for fix in plan["fixes"]] == [
        ("contentSync", {"job": guid(1), "flags": ["local_file", "network"]}),
        ("userPhotos", {"job": guid(2), "flags": ["local_file"]}),
        ("reportUpload", {"job": guid(3), "flags": ["local_file"]}),
    ]
    assert plan["fixes"][0]["flags_before"] == ["local_file"] and plan["fixes"][0]["rule"] == "content-sync"
    assert plan["fixes"][2]["problems"] == ["network is forbidden by rule no-network"]
    assert plan["status"] == "noncompliant" and failure_message(plan) is None


def test_compliant_unmanaged_and_waived_jobs_get_no_fix_until_the_waiver_expires() -> None:
    jobs = (make_job(1, "contentSync", flags=3), make_job(2, "defenderUpdate", flags=2),
            make_job(3, "backupUpload", flags=3))
    plan = plan_of(*jobs, host="backup01")
    assert plan["fixes"] == []
    assert plan["counts"] == {"compliant": 1, "violation": 0, "waived": 1, "unmanaged": 1, "unassessed": 0}
    assert plan["waived"][0]["waiver"]["reason"] == "CHG-1234"
    assert "0 jobs to change" in plan_message(plan)
    expired = plan_of(*jobs, host="backup01", today=datetime.date(2027, 4, 1))
    assert [fix["args"] for fix in expired["fixes"]] == [{"job": guid(3), "flags": ["local_file"]}]
    assert plan_of(*jobs, host="web01")["fixes"][0]["name"] == "backupUpload", "the waiver is for backup* only"


def test_a_forbidden_helper_token_is_a_fix_that_clears_it() -> None:
    plan = plan_of(make_job(1, "tokenless", flags=0, token=("S-1-5-21-1000-1000-1000-1013", "CORP\\svc-sync")))
    assert [fix["args"] for fix in plan["fixes"]] == [{"job": make_job(1, "x")["id"], "helper_token": "absent"}]
    assert plan["unfixable"] == [] and failure_message(plan) is None


def test_a_wanted_helper_token_is_a_warning_not_a_fix_nor_a_failure() -> None:
    plan = plan_of(make_job(1, "tokenful", flags=0))
    assert plan["fixes"] == [] and [item["name"] for item in plan["unfixable"]] == ["tokenful"]
    [warning] = unfixable_warnings(plan)
    assert "web01" in warning and "needs-token" in warning and "expects a helper token" in warning
    assert failure_message(plan) is None


def test_an_unreadable_job_fails_the_host_with_the_modules_explanation_and_the_rest_is_still_fixed() -> None:
    plan = plan_of(make_job(1, "contentSync", flags=None), make_job(2, "reportUpload", flags=2))
    assert [fix["name"] for fix in plan["fixes"]] == ["reportUpload"]
    [unassessed] = plan["unassessed"]
    assert unassessed["explanation"] == ("its helper-token flags could not be read (QueryInterface(IBitsTokenOptions) "
                                         "0x80004002: BITS older than 4.0)")
    assert unassessed["rule"] == "content-sync"
    message = failure_message(plan)
    assert message is not None and message.startswith("web01: ") and "contentSync" in message
    assert "BITS older than 4.0" in message


def test_an_unreadable_job_no_rule_can_select_is_not_a_failure() -> None:
    plan = plan_of(make_job(1, "defenderUpdate", flags=None))
    assert plan["status"] == "compliant" and plan["unassessed"] == [] and failure_message(plan) is None


def test_a_host_without_a_usable_result_cannot_be_enforced() -> None:
    for result, reason in ((None, "no result"), ({"failed": True, "msg": "denied"}, "failed: denied")):
        plan = enforcement_plan(evaluate_host(POLICY, "web09", result, today=TODAY))
        assert plan["fixes"] == [] and plan["reason"] == reason
        assert failure_message(plan) == f"web09: the policy could not be enforced: {reason}"
