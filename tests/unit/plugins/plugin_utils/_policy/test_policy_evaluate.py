"""Judging bits_job_info results against a policy: statuses, waivers, fixes, summary, determinism."""
from __future__ import annotations

import datetime
import json
import random
import re
import shlex
import typing as t

import pytest
import yaml
from ansible.parsing.splitter import parse_kv

from ansible_collections.winbits.bits.plugins.plugin_utils._policy import (
    FIX_MODULE,
    evaluate_fleet,
    evaluate_host,
    load_policy,
)
from ansible_collections.winbits.bits.plugins.plugin_utils._flags import parse_flags
from ansible_collections.winbits.bits.plugins.plugin_utils._policy.evaluate import dump_task
from ansible_collections.winbits.bits.plugins.plugin_utils._policy import evaluate, model
from ansible_collections.winbits.bits.plugins.plugin_utils._policy.model import compile_globs
from ansible_collections.winbits.bits.tests.unit.utils.policy_facts import ALICE, SYSTEM, guid, make_job, make_result

TODAY = datetime.date(2026, 11, 21)
SHAPE_A_JOB_KEYS = {"id", "name", "owner", "owner_name", "state", "type", "flags", "flags_value", "unknown_flags_value",
                    "helper_token_sid", "helper_token_name", "client_certificate", "creation_time", "modification_time",
                    "error", "read_error", "read_errors"}
ASSESSMENT_KEYS = {"status", "rule", "expected", "problems", "fix", "waiver", "expired_waivers"}


def policy_of(*rules: dict[str, t.Any], waivers: list[dict[str, t.Any]] | None = None) -> t.Any:
    return load_policy({"version": 1, "rules": list(rules), "waivers": waivers or []})


def rule(name: str, expect: dict[str, t.Any], **match: t.Any) -> dict[str, t.Any]:
    return {"name": name, "match": match, "expect": expect}


def judge(policy: t.Any, *jobs: dict[str, t.Any], host: str = "web01", today: datetime.date = TODAY) -> dict[str, t.Any]:
    return evaluate_host(policy, host, make_result(*jobs), today=today)


def only_job(policy: t.Any, job: dict[str, t.Any], host: str = "web01",
             today: datetime.date = TODAY) -> dict[str, t.Any]:
    jobs = judge(policy, job, host=host, today=today)["jobs"]
    assert len(jobs) == 1
    return jobs[0]


# --- every rule kind ---------------------------------------------------------------------------------

EXACT = policy_of(rule("content-sync", {"flags": ["local_file", "network"]}, job="contentSync"))
ALLOWED = policy_of(rule("user-jobs", {"allowed_flags": ["local_file"]}, job="*"))
FORBIDDEN = policy_of(rule("no-network", {"forbidden_flags": "network"}, job="*"))


UNKNOWN_BIT = ("its flags have bits 0x4 that no helper-token flag known to this collection defines; rule %s says "
               "which flags a job may have, so judge those bits by hand (bits_helper_token keeps them)")


@pytest.mark.parametrize(("policy", "flags", "status", "problems"), [
    (EXACT, 3, "compliant", []),
    (EXACT, 1, "violation", ["rule content-sync expects exactly local_file, network; the job has local_file"]),
    (EXACT, 0, "violation", ["rule content-sync expects exactly local_file, network; the job has none"]),
    # Bits no flag we know defines: a rule that says which flags a job may have cannot call it compliant,
    # and no fix can clear them (bits_helper_token keeps them), so a person judges them.
    (EXACT, 7, "unassessed", [UNKNOWN_BIT % "content-sync"]),
    (EXACT, 5, "violation", ["rule content-sync expects exactly local_file, network; the job has local_file",
                             UNKNOWN_BIT % "content-sync"]),
    (ALLOWED, 0, "compliant", []),
    (ALLOWED, 1, "compliant", []),
    (ALLOWED, 2, "violation", ["network is not allowed by rule user-jobs (allowed: local_file)"]),
    (ALLOWED, 7, "violation", ["network is not allowed by rule user-jobs (allowed: local_file)",
                               UNKNOWN_BIT % "user-jobs"]),
    (ALLOWED, 5, "unassessed", [UNKNOWN_BIT % "user-jobs"]),
    (FORBIDDEN, 1, "compliant", []),
    (FORBIDDEN, 0, "compliant", []),
    (FORBIDDEN, 3, "violation", ["network is forbidden by rule no-network"]),
    (FORBIDDEN, 2, "violation", ["network is forbidden by rule no-network"]),
    (FORBIDDEN, 5, "compliant", []),  # forbidden_flags names known flags only
], ids=["exact-ok", "exact-missing", "exact-none", "exact-unknown-bit", "exact-unknown-bit-and-missing",
        "allowed-none", "allowed-ok", "allowed-extra", "allowed-extras", "allowed-unknown-bit", "forbidden-ok",
        "forbidden-none", "forbidden-both", "forbidden-only", "forbidden-unknown-bit"])
def test_flag_rules(policy: t.Any, flags: int, status: str, problems: list[str]) -> None:
    job = only_job(policy, make_job(flags=flags))
    assert (job["status"], job["problems"]) == (status, problems)
    assert job["rule"] == policy.rules[0].name


PRESENT_PROBLEM = ("rule token expects a helper token; the job has none (set it with bits_helper_token "
                   "helper_token: caller, run as the account whose token the job needs)")
CLEAR = {"job": "{5D3B4C39-1F0A-4D5B-9E2F-000000000001}", "helper_token": "absent"}


@pytest.mark.parametrize(("expectation", "token", "status", "problems", "fix_args"), [
    ("present", ALICE, "compliant", [], None),
    # Whose token a job should carry is not the policy's to invent: reported, never fixed.
    ("present", None, "violation", [PRESENT_PROBLEM], None),
    ("absent", None, "compliant", [], None),
    ("absent", ALICE, "violation", ["rule token expects no helper token; the job has one, of "
                                    "S-1-5-21-1000-1000-1000-1013 (CORP\\alice); it must be cleared "
                                    "(helper_token: absent)"], CLEAR),
    ("absent", ("S-1-5-21-9", None), "violation", ["rule token expects no helper token; the job has one, of "
                                                   "S-1-5-21-9; it must be cleared (helper_token: absent)"], CLEAR),
])
def test_helper_token_rules(expectation: str, token: t.Any, status: str, problems: list[str],
                            fix_args: dict[str, str] | None) -> None:
    policy = policy_of(rule("token", {"helper_token": expectation}))
    job = only_job(policy, make_job(flags=1, token=token))
    assert (job["status"], job["problems"]) == (status, problems)
    assert (job["fix"] or {}).get("args") == fix_args
    if fix_args:
        assert "helper_token=absent" in job["fix"]["command"] and "flags=" not in job["fix"]["command"]
        (task,) = load_task(job["fix"]["task"])
        assert task[FIX_MODULE] == fix_args


@pytest.mark.parametrize(("expect", "flag_problem"), [
    ({"allowed_flags": ["local_file"], "helper_token": "absent"}, "network is not allowed by rule strict (allowed: local_file)"),
    ({"forbidden_flags": "network", "helper_token": "absent"}, "network is forbidden by rule strict"),
])
def test_a_combined_rule_lists_every_problem_and_fixes_the_flags(expect: dict[str, t.Any], flag_problem: str) -> None:
    policy = policy_of(rule("strict", expect))
    job = only_job(policy, make_job(flags=3, token=ALICE))
    assert job["status"] == "violation"
    assert job["problems"][0] == flag_problem
    assert job["problems"][1].startswith("rule strict expects no helper token")
    assert len(job["problems"]) == 2
    assert job["fix"]["args"] == {"job": guid(1), "flags": ["local_file"], "helper_token": "absent"}
    assert job["expected"] == policy.rules[0].expect.to_dict()
    assert job["expected"]["helper_token"] == "absent"


def test_expected_is_the_normalised_expect() -> None:
    policy = policy_of(rule("both", {"allowed_flags": "0x3", "forbidden_flags": [], "helper_token": "present"}))
    assert only_job(policy, make_job(flags=3, token=ALICE))["expected"] == {
        "allowed_flags": ["local_file", "network"], "forbidden_flags": [], "helper_token": "present"}


def test_exact_flags_with_a_helper_token_expectation() -> None:
    policy = policy_of(rule("sync", {"flags": "local_file", "helper_token": "present"}))
    assert only_job(policy, make_job(flags=1, token=ALICE))["status"] == "compliant"
    job = only_job(policy, make_job(flags=1))
    assert job["problems"] == [PRESENT_PROBLEM.replace("rule token", "rule sync")]
    assert job["fix"] is None  # the flags are right, and whose token to set is not the policy's to say


def test_flags_fine_but_token_wrong_clears_the_token_only_even_with_unknown_bits() -> None:
    # 0x4 is no known flag: a flag fix would clear it although no flag expectation is broken.
    policy = policy_of(rule("no-token", {"forbidden_flags": ["network"], "helper_token": "absent"}))
    job = only_job(policy, make_job(flags=5, token=ALICE))
    assert job["status"] == "violation"
    assert job["fix"]["args"] == {"job": guid(1), "helper_token": "absent"}


# --- matching ----------------------------------------------------------------------------------------

ORDERED = policy_of(
    rule("content-sync", {"flags": [1, 2]}, job="contentSync"),
    rule("user-jobs", {"allowed_flags": [1]}, job="user*"),
    rule("no-network", {"forbidden_flags": [2]}, job="*"),
)


@pytest.mark.parametrize(("name", "flags", "rule_name", "status"), [
    ("contentSync", 3, "content-sync", "compliant"),  # the catch-all no-network would call it a violation
    ("userSync", 1, "user-jobs", "compliant"),
    ("userSync", 2, "user-jobs", "violation"),
    ("other", 2, "no-network", "violation"),
    ("ContentSync", 3, "no-network", "violation"),  # display-name globs are case-sensitive
])
def test_the_first_matching_rule_judges(name: str, flags: int, rule_name: str, status: str) -> None:
    job = only_job(ORDERED, make_job(name=name, flags=flags))
    assert (job["rule"], job["status"]) == (rule_name, status)


def test_a_job_no_rule_selects_is_unmanaged_even_unreadable() -> None:
    policy = policy_of(rule("sync", {"flags": 3}, job="contentSync"))
    entry = judge(policy, make_job(1, name="other", flags=2), make_job(2, name="other", flags=None))
    assert [(job["status"], job["rule"], job["expected"], job["fix"]) for job in entry["jobs"]] == [
        ("unmanaged", None, None, None), ("unmanaged", None, None, None)]
    assert entry["status"] == "compliant"


@pytest.mark.parametrize("written", [guid(7), guid(7).lower(), guid(7).strip("{}"), guid(7).strip("{}").lower()])
def test_a_guid_selects_the_job_by_id_in_any_case_with_or_without_braces(written: str) -> None:
    policy = policy_of(rule("by-id", {"flags": []}, job=written))
    assert only_job(policy, make_job(7, name="x", flags=0))["rule"] == "by-id"
    assert only_job(policy, make_job(8, name="x", flags=0))["rule"] is None


@pytest.mark.parametrize(("pattern", "name", "selected"), [
    ("user?", "user1", True), ("user?", "user12", False), ("*Sync", "contentSync", True),
    ("Update [KB1]", "Update [KB1]", True), ("Update [KB1]", "Update K", False), ("a.b", "axb", False),
])
def test_job_globs_know_only_star_and_question_mark(pattern: str, name: str, selected: bool) -> None:
    policy = policy_of(rule("glob", {"flags": []}, job=pattern))
    assert (only_job(policy, make_job(name=name, flags=0))["rule"] == "glob") is selected


@pytest.mark.parametrize(("owner", "job_owner", "selected"), [
    ("S-1-5-18", SYSTEM, True), ("s-1-5-18", SYSTEM, True), ("nt authority\\system", SYSTEM, True),
    ("CORP\\Alice", ALICE, True), ("CORP\\alice", SYSTEM, False), (ALICE[0], (ALICE[0], None), True),
])
def test_owner_matches_sid_or_account_ignoring_case(owner: str, job_owner: t.Any, selected: bool) -> None:
    policy = policy_of(rule("owned", {"flags": []}, owner=owner))
    assert (only_job(policy, make_job(flags=0, owner=job_owner))["rule"] == "owned") is selected


@pytest.mark.parametrize(("hosts", "host", "selected"), [
    ("web*", "web01", True), ("web*", "db01", False), (["db?", "web0?"], "web01", True), ("WEB*", "web01", False),
])
def test_hosts_globs_match_the_inventory_name(hosts: t.Any, host: str, selected: bool) -> None:
    policy = policy_of(rule("some-hosts", {"flags": []}, hosts=hosts))
    assert (only_job(policy, make_job(flags=0), host=host)["rule"] == "some-hosts") is selected


def test_all_selectors_of_a_rule_must_match() -> None:
    policy = policy_of(rule("narrow", {"flags": []}, job="contentSync", owner="S-1-5-18", hosts="web*"))
    assert only_job(policy, make_job(flags=0))["rule"] == "narrow"
    assert only_job(policy, make_job(flags=0, owner=ALICE))["rule"] is None
    assert only_job(policy, make_job(flags=0), host="db01")["rule"] is None


# --- unassessed jobs -----------------------------------------------------------------------------------

def test_unreadable_flags_make_the_job_unassessed() -> None:
    job = only_job(EXACT, make_job(flags=None))
    assert (job["status"], job["rule"], job["fix"]) == ("unassessed", "content-sync", None)
    assert job["problems"] == ["its helper-token flags could not be read (QueryInterface(IBitsTokenOptions) "
                               "0x80004002: BITS older than 4.0)"]
    assert job["expected"] == {"flags": ["local_file", "network"]}


def test_an_unread_name_leaves_a_name_rule_undecided_and_the_job_unassessed() -> None:
    job = only_job(ORDERED, make_job(name=None, flags=0))
    assert (job["status"], job["rule"]) == ("unassessed", "content-sync")


def test_an_unread_owner_leaves_an_owner_rule_undecided() -> None:
    policy = policy_of(rule("system", {"flags": []}, owner="S-1-5-18"), rule("rest", {"flags": []}))
    assert only_job(policy, make_job(flags=0, owner=(None, None)))["status"] == "unassessed"


def test_a_helper_token_rule_cannot_judge_a_job_read_with_an_error() -> None:
    policy = policy_of(rule("token", {"helper_token": "absent"}))
    read_error = {"call": "GetHelperTokenSid", "hresult": 2147942405, "hresult_hex": "0x80070005",
                  "explanation": "access denied"}
    assert only_job(policy, make_job(flags=1, read_error=read_error))["status"] == "unassessed"


# --- waivers ---------------------------------------------------------------------------------------------

def waived_policy(expires: str = "2026-12-31", **selectors: t.Any) -> t.Any:
    waiver = {"rule": "no-network", "reason": "CHG-1234", "expires": expires, **selectors}
    return policy_of(rule("no-network", {"forbidden_flags": ["network"]}, job="*"), waivers=[waiver])


@pytest.mark.parametrize(("expires", "status"), [
    ("2026-12-31", "waived"), ("2026-11-21", "waived"), ("2026-11-20", "violation"),
], ids=["active", "expires-today", "expired-yesterday"])
def test_a_waiver_counts_through_its_expiry_date(expires: str, status: str) -> None:
    job = only_job(waived_policy(expires), make_job(flags=2))
    assert job["status"] == status
    assert job["problems"] == ["network is forbidden by rule no-network"]
    if status == "waived":
        assert job["waiver"] == {"reason": "CHG-1234", "expires": expires, "names_owner": False}
        assert job["expired_waivers"] == [] and job["fix"] is None
    else:
        assert job["waiver"] is None
        assert job["expired_waivers"] == [{"rule": "no-network", "reason": "CHG-1234", "expires": expires}]
        assert job["fix"]["args"] == {"job": guid(1), "flags": []}


@pytest.mark.parametrize(("selectors", "host", "job", "applies"), [
    ({"hosts": "backup*"}, "backup01", make_job(flags=2), True),
    ({"hosts": "backup*"}, "web01", make_job(flags=2), False),
    ({"job": "backupUpload"}, "web01", make_job(name="backupUpload", flags=2), True),
    ({"job": "backupUpload"}, "web01", make_job(name="contentSync", flags=2), False),
    ({"job": guid(1).lower()}, "web01", make_job(name="x", flags=2), True),
    ({"owner": "CORP\\ALICE"}, "web01", make_job(flags=2, owner=ALICE), True),
    ({"owner": "CORP\\ALICE"}, "web01", make_job(flags=2), False),
    ({"owner": "S-1-5-18"}, "web01", make_job(flags=2, owner=(None, None)), False),  # unsure: never waived
    ({"hosts": "backup*", "job": "backupUpload"}, "backup01", make_job(name="backupUpload", flags=2), True),
    ({"hosts": "backup*", "job": "backupUpload"}, "backup01", make_job(name="other", flags=2), False),
])
def test_waiver_selectors_narrow_it(
        selectors: dict[str, t.Any], host: str, job: dict[str, t.Any], applies: bool) -> None:
    assessed = only_job(waived_policy(**selectors), job, host=host)
    assert assessed["status"] == ("waived" if applies else "violation")


def test_a_waiver_only_applies_to_the_rule_that_judges_the_job() -> None:
    policy = policy_of(rule("sync", {"flags": 1}, job="contentSync"), rule("no-network", {"forbidden_flags": 2}),
                       waivers=[{"rule": "no-network", "reason": "r", "expires": "2027-01-01"}])
    assert only_job(policy, make_job(flags=2))["status"] == "violation"


def test_a_waiver_on_a_compliant_job_is_noted_and_not_used() -> None:
    policy = waived_policy()
    assessment = evaluate_fleet(policy, {"web01": make_result(make_job(flags=1))}, today=TODAY)
    job = assessment["hosts"][0]["jobs"][0]
    assert job["status"] == "compliant"
    assert job["waiver"] == {"reason": "CHG-1234", "expires": "2026-12-31", "names_owner": False}
    assert job["problems"] == []
    assert assessment["waivers"][0]["used"] == 0


def test_the_first_active_waiver_wins_and_expired_ones_are_listed() -> None:
    rules = [rule("no-network", {"forbidden_flags": 2})]
    waivers = [{"rule": "no-network", "reason": "old", "expires": "2026-01-01"},
               {"rule": "no-network", "reason": "first", "expires": "2027-01-01"},
               {"rule": "no-network", "reason": "second", "expires": "2028-01-01"}]
    assessment = evaluate_fleet(policy_of(*rules, waivers=waivers),
                                {"a": make_result(make_job(flags=2)), "b": make_result(make_job(flags=2))}, today=TODAY)
    job = assessment["hosts"][0]["jobs"][0]
    assert job["waiver"] == {"reason": "first", "expires": "2027-01-01", "names_owner": False}
    assert job["expired_waivers"] == [{"rule": "no-network", "reason": "old", "expires": "2026-01-01"}]
    assert [(waiver["reason"], waiver["expired"], waiver["used"]) for waiver in assessment["waivers"]] == [
        ("old", True, 0), ("first", False, 2), ("second", False, 0)]


def test_an_expired_waiver_counts_the_violations_it_no_longer_covers() -> None:
    policy = waived_policy("2026-06-30", hosts="backup*")
    results = {"backup01": make_result(make_job(1, flags=2), make_job(2, flags=1)), "backup02": make_result(make_job(3, flags=3)),
               "web01": make_result(make_job(4, flags=2))}
    assessment = evaluate_fleet(policy, results, today=TODAY)
    assert assessment["waivers"] == [{"rule": "no-network", "hosts": ["backup*"], "job": None, "owner": None,
                                      "reason": "CHG-1234", "expires": "2026-06-30", "expired": True, "used": 2}]
    assert assessment["summary"]["jobs"]["violation"] == 3


# --- host statuses -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("result", "reason"), [
    (None, "no result"),
    ({"unreachable": True, "msg": "ntlm: HTTP 401"}, "unreachable: ntlm: HTTP 401"),
    ({"unreachable": True}, "unreachable: no message"),
    ({"failed": True, "msg": "all_users needs an administrator"}, "failed: all_users needs an administrator"),
    ({"skipped": True, "skip_reason": "Conditional result was False"},
     "no result (skipped: Conditional result was False)"),
    ({"changed": False}, "failed: the result has no jobs list (is it a bits_job_info result?)"),
    ({"jobs": ["x"]}, "failed: jobs[0] of the result is a str, not a job"),
    ("garbage", "failed: the result is a str, not a bits_job_info result"),
])
def test_a_host_without_a_usable_result_is_not_assessed(result: t.Any, reason: str) -> None:
    entry = evaluate_host(EXACT, "web01", result, today=TODAY)
    assert entry == {"name": "web01", "status": "not_assessed", "reason": reason, "caller": None, "jobs": []}


@pytest.mark.parametrize(("flags", "status", "reason"), [
    ([3, 1, 3], "noncompliant", None),
    ([3, 3, 3], "compliant", None),
    ([3, None, 3], "not_assessed", "1 job unassessed"),
    ([None, 1, None], "not_assessed", "2 jobs unassessed"),
], ids=["one-violation", "all-compliant", "one-unassessed", "unassessed-beats-violation"])
def test_host_status_from_its_jobs(flags: list[int | None], status: str, reason: str | None) -> None:
    entry = judge(EXACT, *[make_job(number, flags=value) for number, value in enumerate(flags, start=1)])
    assert (entry["status"], entry["reason"]) == (status, reason)
    assert entry["caller"] == make_result()["caller"]


def test_a_host_with_no_jobs_is_compliant() -> None:
    entry = judge(EXACT)
    assert (entry["status"], entry["jobs"]) == ("compliant", [])


def test_waived_jobs_leave_the_host_compliant() -> None:
    assert judge(waived_policy(), make_job(flags=2))["status"] == "compliant"


# --- the assessment as a whole -------------------------------------------------------------------------

FLEET_POLICY = policy_of(
    {"name": "content-sync", "description": "needs both", "match": {"job": "contentSync"},
     "expect": {"flags": ["local_file", "network"]}},
    rule("user-jobs", {"allowed_flags": ["local_file"]}, job="user*"),
    rule("no-network", {"forbidden_flags": ["network"]}, job="*", owner="S-1-5-18"),
    waivers=[{"rule": "no-network", "hosts": "backup*", "job": "backupUpload", "reason": "CHG-1234",
              "expires": "2027-03-31"}],
)


def fleet_results() -> dict[str, t.Any]:
    return {
        "web02": make_result(make_job(3, flags=3), make_job(1, name="userSync", flags=3, owner=ALICE)),
        "web01": make_result(make_job(2, flags=3), make_job(4, name="userSync", flags=1, owner=ALICE),
                             make_job(5, name="misc", flags=0, owner=ALICE)),
        "backup01": make_result(make_job(6, name="backupUpload", flags=2), make_job(7, name="other", flags=None)),
        "old01": make_result(make_job(8, flags=None)),
        "gone01": {"unreachable": True, "msg": "timed out"},
        "nothing01": None,
    }


def test_fleet_summary_counts() -> None:
    assessment = evaluate_fleet(FLEET_POLICY, fleet_results(), today=TODAY)
    assert assessment["summary"] == {
        "hosts": {"total": 6, "compliant": 1, "noncompliant": 1, "not_assessed": 4},
        "jobs": {"total": 8, "compliant": 3, "violation": 1, "waived": 1, "unmanaged": 1, "unassessed": 2},
        "rules": {"content-sync": {"compliant": 2, "violation": 0, "waived": 0, "unassessed": 1},
                  "user-jobs": {"compliant": 1, "violation": 1, "waived": 0, "unassessed": 0},
                  "no-network": {"compliant": 0, "violation": 0, "waived": 1, "unassessed": 1}},
    }
    assert [(host["name"], host["status"]) for host in assessment["hosts"]] == [
        ("backup01", "not_assessed"), ("gone01", "not_assessed"), ("nothing01", "not_assessed"),
        ("old01", "not_assessed"), ("web01", "compliant"), ("web02", "noncompliant")]


def test_fleet_header() -> None:
    assessment = evaluate_fleet(FLEET_POLICY, {}, today=TODAY)
    assert assessment["policy"] == {"version": 1, "digest": FLEET_POLICY.digest,
                                    "rules": [{"name": "content-sync", "description": "needs both"},
                                              {"name": "user-jobs", "description": None},
                                              {"name": "no-network", "description": None}]}
    assert assessment["as_of"] == "2026-11-21"
    assert assessment["hosts"] == []
    assert assessment["summary"]["hosts"]["total"] == 0
    assert list(assessment) == ["policy", "as_of", "summary", "waivers", "hosts"]


def test_jobs_keep_every_fact_and_gain_the_assessment() -> None:
    job = make_job(flags=1, custom="kept")
    del job["client_certificate"]
    assessed = only_job(EXACT, job)
    assert set(assessed) == SHAPE_A_JOB_KEYS | ASSESSMENT_KEYS | {"custom"}
    assert assessed["client_certificate"] is None
    assert assessed["custom"] == "kept"
    assert {key: assessed[key] for key in job} == job


def test_the_assessment_is_deterministic_and_sorted() -> None:
    results = fleet_results()
    first = evaluate_fleet(FLEET_POLICY, results, today=TODAY)
    shuffled: dict[str, t.Any] = {}
    names = list(results)
    random.Random(3).shuffle(names)
    for name in names:
        result = results[name]
        if isinstance(result, dict) and "jobs" in result:
            result = dict(result, jobs=list(reversed(result["jobs"])))
        shuffled[name] = result
    second = evaluate_fleet(load_policy(FLEET_POLICY.to_dict()), shuffled, today=TODAY)
    assert json.dumps(first, sort_keys=False) == json.dumps(second, sort_keys=False)
    web01 = next(host for host in first["hosts"] if host["name"] == "web01")
    assert [job["id"] for job in web01["jobs"]] == [guid(2), guid(4), guid(5)]


def test_jobs_sort_by_id_ignoring_case_and_unread_ids_last() -> None:
    entry = judge(EXACT, make_job(2, id=None, flags=3), make_job(3, flags=3), make_job(1, id=guid(1).lower(), flags=3))
    assert [job["id"] for job in entry["jobs"]] == [guid(1).lower(), guid(3), None]


def test_evaluate_host_is_the_fleet_entry() -> None:
    results = fleet_results()
    fleet = evaluate_fleet(FLEET_POLICY, results, today=TODAY)
    for host in fleet["hosts"]:
        assert evaluate_host(FLEET_POLICY, host["name"], results[host["name"]], today=TODAY) == host


def test_the_results_are_not_modified() -> None:
    results = fleet_results()
    before = json.dumps(results, sort_keys=True)
    evaluate_fleet(FLEET_POLICY, results, today=TODAY)
    assert json.dumps(results, sort_keys=True) == before


def test_today_may_be_a_datetime_but_must_be_a_date() -> None:
    assessment = evaluate_fleet(FLEET_POLICY, {}, today=datetime.datetime(2026, 11, 21, 23, 59))
    assert assessment["as_of"] == "2026-11-21"
    with pytest.raises(TypeError, match="today must be a datetime.date, not str"):
        evaluate_fleet(FLEET_POLICY, {}, today="2026-11-21")  # type: ignore[arg-type]


# --- fixes -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("policy", "flags", "fixed"), [
    (EXACT, 1, ["local_file", "network"]),
    (EXACT, 5, ["local_file", "network"]),
    (ALLOWED, 3, ["local_file"]),
    (ALLOWED, 2, []),
    (FORBIDDEN, 3, ["local_file"]),
    (FORBIDDEN, 6, []),  # 0x4 cannot be written by the module; the fix leaves only known flags
], ids=["exact", "exact-unknown-bit", "allowed", "allowed-to-none", "forbidden", "forbidden-unknown-bit"])
def test_the_fix_args(policy: t.Any, flags: int, fixed: list[str]) -> None:
    fix = only_job(policy, make_job(flags=flags))["fix"]
    assert fix["module"] == FIX_MODULE == "winbits.bits.bits_helper_token"
    assert fix["args"] == {"job": guid(1), "flags": fixed}


@pytest.mark.parametrize("name", ["contentSync", "it's: a {job} # not a comment", "multi\nline", "caf\u00e9 \u2603",
                                  "{00000000-0000-0000-0000-000000000000}", None, "- [x]"])
def test_the_fix_task_parses_back_to_the_module_and_args(name: str | None) -> None:
    policy = policy_of(rule("content-sync", {"flags": ["local_file", "network"]}))
    fix = only_job(policy, make_job(name=name, flags=1, id=guid(9)), host="web01")["fix"]
    tasks = load_task(fix["task"])
    assert isinstance(tasks, list) and len(tasks) == 1
    assert tasks[0][FIX_MODULE] == {"job": guid(9), "flags": ["local_file", "network"]}
    assert tasks[0]["name"] == ("Apply policy rule content-sync to BITS job %s" % name if name is not None
                                else "Apply policy rule content-sync to a BITS job")
    # The name (the job's owner's text) is !unsafe: Ansible never templates it.
    assert isinstance(tasks[0]["name"], Unsafe)
    # The text is what a fresh dump writes for that task, whichever path built it.
    assert fix["task"] == dump_task("content-sync", name, guid(9), ["local_file", "network"])


class Unsafe(str):
    """A scalar tagged !unsafe in a fix task."""


class _TaskLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """safe_load plus Ansible's !unsafe tag, kept visible as Unsafe."""


_TaskLoader.add_constructor("!unsafe", lambda loader, node: Unsafe(loader.construct_scalar(node)))


def load_task(text: str) -> t.Any:
    return yaml.load(text, Loader=_TaskLoader)  # noqa: S506 (a SafeLoader)


def test_the_fix_command_is_an_ad_hoc_call_the_module_parses_to_the_same_args() -> None:
    fix = only_job(ALLOWED, make_job(flags=3), host="web 01;rm")["fix"]
    words = shlex.split(fix["command"])
    # Not a plain name: an anchored regular expression of escapes, which ansible neither templates nor splits.
    assert words[:4] == ["ansible", "~^web\\x2001\\x3brm\\Z", "-m", FIX_MODULE]
    assert re.match(words[1][1:], "web 01;rm") and not re.match(words[1][1:], "web 01;rmx")
    assert shlex.split(only_job(ALLOWED, make_job(flags=3), host="web-01.corp")["fix"]["command"])[1] == "web-01.corp"
    assert words[4] == "-a"
    args = parse_kv(words[5])
    assert args["job"] == guid(1)
    assert parse_flags(args["flags"]) == 1


def test_a_fix_that_clears_all_flags_uses_the_empty_ad_hoc_form() -> None:
    fix = only_job(FORBIDDEN, make_job(flags=2))["fix"]
    assert fix["command"] == "ansible web01 -m %s -a 'job=%s flags='" % (FIX_MODULE, guid(1))
    assert parse_flags(parse_kv(shlex.split(fix["command"])[5])["flags"]) == 0


def test_no_fix_for_a_job_without_a_well_formed_guid() -> None:
    job = only_job(EXACT, make_job(flags=1, id="not-a-guid"))
    assert (job["status"], job["fix"]) == ("violation", None)


def test_display_names_with_braces_are_names_not_guids() -> None:
    """`Sync {prod}` and `{backup}` select the jobs so named, as the modules' job options do."""
    for name in ("Sync {prod}", "{backup}", "@{a=1}"):
        policy = load_policy({"version": 1, "rules": [{"name": "r", "match": {"job": name},
                                                       "expect": {"flags": ["local_file"]}}]})
        assessed = evaluate_host(policy, "web01", {"jobs": [make_job(name=name, flags=1)]},
                                 today=datetime.date(2026, 11, 21))
        assert assessed["jobs"][0]["rule"] == "r", name


# --- glob matching ---------------------------------------------------------------------------------

def reference_glob(pattern: str) -> re.Pattern[str]:
    """The plain translation (``*`` -> ``.*``, ``?`` -> ``.``): right, but it backtracks on long names."""
    return re.compile("".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern),
                      re.DOTALL)


def test_globs_agree_with_the_reference_on_many_random_patterns_and_names() -> None:
    chooser = random.Random(15)
    alphabet = "ab*?[.\n\u00e9"
    for _case in range(20_000):
        patterns = ["".join(chooser.choice(alphabet) for _char in range(chooser.randint(0, 8)))
                    for _pattern in range(chooser.randint(1, 3))]
        name = "".join(chooser.choice("ab[.\n\u00e9*?") for _char in range(chooser.randint(0, 10)))
        expected = any(reference_glob(pattern).fullmatch(name) for pattern in patterns)
        assert compile_globs(patterns).fullmatch(name) is expected, (patterns, name)


@pytest.mark.parametrize("pattern, name, expected", [
    ("*a*a*a*a*b", "a" * 100_000, False),
    ("*a*a*a*a*b", "a" * 100_000 + "b", True),
    ("*a?a*a?a*a?b", "a" * 100_000, False),
    ("*b*a*a*a*b", "a" * 100_000 + "b", False),
    ("Update [KB5034441]", "Update [KB5034441]", True),
    ("Update [KB5034441]", "Update K", False),
    ("?", "\u00e9", True),
    ("a*", "a\nb", True),
])
def test_globs_on_long_and_awkward_names(pattern: str, name: str, expected: bool) -> None:
    # A backtracking matcher takes minutes on the first names; this completes at once (not timed).
    assert compile_globs([pattern]).fullmatch(name) is expected


# --- what a fleet's judge remembers ------------------------------------------------------------------

def test_each_job_selector_remembers_its_own_name_matches() -> None:
    # The same display names judged again and again by one judge, under rules whose globs disagree on them:
    # each selector must answer for its own globs (a memo shared between selectors would not).
    policy = policy_of(rule("sync", {"flags": 3}, job="*Sync"), rule("content", {"flags": 1}, job="content*"),
                       rule("rest", {"flags": 0}, job="*"))
    names = ["contentSync", "contentX", "userSync", "misc", "contentSync"]
    fleet = {"web%02d" % host: make_result(*(make_job(number, name=name, flags=3) for number, name in enumerate(names)))
             for host in range(3)}
    expected = {"contentSync": "sync", "contentX": "content", "userSync": "sync", "misc": "rest"}
    for host in evaluate_fleet(policy, fleet, today=TODAY)["hosts"]:
        assert [(job["name"], job["rule"]) for job in host["jobs"]] == [(name, expected[name]) for name in names]


def test_the_name_memo_is_bounded_and_answers_the_same_after_it_starts_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model, "NAME_MEMO_SIZE", 3)
    policy = policy_of(rule("sync", {"flags": 3}, job="*Sync"), rule("rest", {"flags": 0}, job="*"))
    selector = policy.rules[0].match.job
    names = ["a%dSync" % number if number % 2 else "b%d" % number for number in range(10)] * 2
    for name in names:
        assert selector.matches(guid(1), name) is name.endswith("Sync")
        assert len(selector.name_memo) <= 3


def test_jobs_without_some_keys_get_them_null_in_the_order_of_shape_a() -> None:
    full = make_job(1, flags=3)
    short = {key: value for key, value in full.items() if key not in ("state", "read_errors")}
    other = {key: value for key, value in full.items() if key not in ("owner_name", "error")}
    for job in (short, other, short):
        assessed = only_job(EXACT, job)
        missing = [key for key in full if key not in job]
        assert list(assessed)[:len(full)] == list(job) + missing
        assert all(assessed[key] is None for key in missing)


# Rules and waivers whose judgement turns on each fact a job's judgement reads: the host, the name, the owner SID,
# the owner's account name, the id (a GUID a rule or a waiver names, in any spelling), the flags, the helper
# token's SID and name, the failed calls, and whether each could be read.
MEMO_POLICY = policy_of(
    rule("backups", {"flags": 1}, job="backup*", hosts="backup*"),
    rule("pinned", {"allowed_flags": "local_file", "helper_token": "absent"}, job=guid(7)),
    rule("alice", {"forbidden_flags": "network", "helper_token": "present"}, owner="CORP\\alice"),
    rule("system", {"flags": 3}, job="WU *", owner="S-1-5-18"),
    rule("sync", {"allowed_flags": "local_file"}, job="*Sync"),
    waivers=[
        {"rule": "alice", "owner": "CORP\\alice", "reason": "CHG-1", "expires": "2099-01-01"},
        {"rule": "sync", "hosts": "web*", "job": guid(8), "reason": "CHG-2", "expires": "2099-01-01"},
        {"rule": "sync", "job": "userSync", "reason": "CHG-3", "expires": "2020-01-01"},
        {"rule": "backups", "hosts": "backup0*", "owner": "S-1-5-18", "reason": "CHG-4", "expires": "2020-01-01"},
    ],
)
MEMO_HOSTS = ("backup01", "backup02", "web01", "db01")
FAILED_READ = {"call": "GetDisplayName", "hresult_hex": "0x80070005", "explanation": "access denied"}
# Each fact's values, the plain ones most often (repeated), so that every status is reached under every rule.
MEMO_FACTS: dict[str, tuple[t.Any, ...]] = {
    "id": (guid(1),) * 4 + (guid(7), guid(7).lower(), guid(8).strip("{}").lower(), guid(8), guid(8), None, 7),
    "name": ("backupNightly", "WU download", "userSync", "misc") * 3 + (None, 3),
    "owner": (SYSTEM[0], ALICE[0]) * 4 + ("", None, 1),
    "owner_name": (SYSTEM[1], ALICE[1]) * 4 + ("corp\\ALICE", None, True),
    "flags_value": (0, 1, 2, 3) * 3 + (7, 2 ** 32 + 1, None, True, "3"),
    "helper_token_sid": (None,) * 6 + ("", "S-1-5-21-1-2-3-500", "S-1-5-21-1-2-3-500", 5),
    "helper_token_name": (None, None, "CORP\\admin", ["x"]),
    "read_errors": (None,) + ([],) * 8 + ([FAILED_READ], "x"),
    "read_error": (None,) * 8 + (FAILED_READ, {}),
}


def random_memo_fleet(hosts: int, seed: int) -> dict[str, dict[str, t.Any]]:
    rng = random.Random(seed)
    # flags null: the judge names the flags of flags_value.
    jobs = [dict(make_job(number), flags=None, **{fact: rng.choice(values) for fact, values in MEMO_FACTS.items()})
            for number in range(hosts * 3)]
    return {"%s-%d" % (rng.choice(MEMO_HOSTS), number): make_result(*rng.sample(jobs, 3)) for number in range(hosts)}


def judged_afresh(fleet: dict[str, dict[str, t.Any]], monkeypatch: pytest.MonkeyPatch) -> tuple[list[t.Any], t.Any]:
    """The fleet judged with no judgement remembered: each job's key is None."""
    judge_afresh = evaluate.Judge(MEMO_POLICY, TODAY)

    def no_key(*_facts: t.Any) -> None:
        return None
    monkeypatch.setattr(judge_afresh.judgements, "key", no_key)
    return [judge_afresh.host(name, fleet[name]) for name in sorted(fleet)], judge_afresh.waiver_report()


def test_a_remembered_judgement_is_the_one_made_afresh_for_every_host_and_job_facts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Each host twice over: the second time every judgement is remembered, and must be the one made afresh.
    fleet = random_memo_fleet(1500, seed=11)
    judge = evaluate.Judge(MEMO_POLICY, TODAY)
    hosts = [judge.host(name, fleet[name]) for name in sorted(fleet)]
    assert hosts == [judge.host(name, fleet[name]) for name in sorted(fleet)]
    expected_hosts, expected_waivers = judged_afresh(fleet, monkeypatch)
    assert json.dumps(hosts) == json.dumps(expected_hosts)
    # Counted twice over (the fleet was judged twice): each count is twice what judging afresh counts.
    assert [item["used"] for item in judge.waiver_report()] == [2 * item["used"] for item in expected_waivers]
    assert all(item["used"] for item in expected_waivers)
    # The facts reach every status, under every rule, and the memory was used.
    judged = {(job["rule"], job["status"]) for host in hosts for job in host["jobs"]}
    assert {status for _rule, status in judged} == set(evaluate.JOB_STATUSES)
    assert {judged_rule for judged_rule, _status in judged} == {None, "backups", "pinned", "alice", "system", "sync"}
    assert 0 < len(judge.judgements.memo) < sum(len(host["jobs"]) for host in hosts) / 2


def test_the_judgement_memory_is_bounded_and_judges_the_same_after_it_starts_afresh(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluate, "MEMO_SIZE", 5)
    fleet = random_memo_fleet(300, seed=12)
    judge = evaluate.Judge(MEMO_POLICY, TODAY)
    hosts = []
    for name in sorted(fleet):
        hosts.append(judge.host(name, fleet[name]))
        assert len(judge.judgements.memo) <= 5
    assert hosts == judged_afresh(fleet, monkeypatch)[0]


PINNED_WITH_TOKEN = dict(make_job(7, name="misc", flags=3), helper_token_sid="S-1-5-21-1-2-3-500",
                         helper_token_name="CORP\\admin")
SYNC_JOB = make_job(8, name="userSync", flags=3)


@pytest.mark.parametrize("job, fact, first, second", [
    (PINNED_WITH_TOKEN, "helper_token_name", "CORP\\admin", None),
    (PINNED_WITH_TOKEN, "helper_token_sid", "S-1-5-21-1-2-3-500", "S-1-5-21-1-2-3-501"),
    (PINNED_WITH_TOKEN, "flags_value", 1, 3),
    (make_job(1, name="misc", owner=ALICE), "owner_name", ALICE[1], "CORP\\bob"),
    (SYNC_JOB, "id", guid(8), guid(9)),
    (SYNC_JOB, "id", guid(9), None),
    (SYNC_JOB, "name", "userSync", "userSynd"),
], ids=["token-name", "token-sid", "flags", "owner-name", "waived-guid", "unread-id", "name"])
def test_jobs_that_differ_in_one_fact_the_judgement_reads_are_judged_apart(
        job: dict[str, t.Any], fact: str, first: t.Any, second: t.Any) -> None:
    judge = evaluate.Judge(MEMO_POLICY, TODAY)
    judged = [judge.host("web01", make_result(dict(job, **{fact: value})))["jobs"][0] for value in (first, second)]
    assert judged[1] == evaluate.Judge(MEMO_POLICY, TODAY).host("web01", make_result(dict(job, **{fact: second})))["jobs"][0]
    assert {key: judged[0][key] for key in ASSESSMENT_KEYS - {"fix"}} != {key: judged[1][key] for key in ASSESSMENT_KEYS - {"fix"}}


def test_a_job_on_hosts_of_the_same_waivers_but_other_rules_is_judged_by_each_host_s_rules() -> None:
    judge = evaluate.Judge(MEMO_POLICY, TODAY)
    result = make_result(make_job(1, name="backupNightly", owner=("S-1-5-21-1-2-3-1000", "CORP\\bob")))
    assert judge.host("backup11", result)["jobs"][0]["rule"] == "backups"
    assert judge.host("db01", result)["jobs"][0]["status"] == "unmanaged"
