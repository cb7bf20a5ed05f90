"""Hosts that behave like real Windows, through Ansible's real connections (tests/sim/README.md).

A domain member whose domain controller does not answer, hosts in French and German, a BITS whose
getters fail one by one, a BITS that knows more flag bits or answers "" for "no token": each is a host of
the simulated fleet, and each task runs the real modules end to end.
"""
from __future__ import annotations

import time
from typing import Any

import pytest

FAR_DOMAIN = "S-1-5-21-7-7-7"
SLOW_SIDS = 500
# What a task may take beyond the same task on a host whose names resolve at once: the budget, plus a
# margin for a loaded machine.
NAME_TIMEOUT = 2
MARGIN_SECONDS = 4.0
JOB_ID = "{5D3B4C39-1F0A-4D5B-9E2F-000000000001}"


def _far_jobs() -> list[dict[str, Any]]:
    return [{"id": "{5D3B4C39-1F0A-4D5B-9E2F-%012X}" % (0x1000 + index), "name": f"farSync{index}",
             "owner": f"{FAR_DOMAIN}-{3000 + index}", "flags": ["local_file"]} for index in range(SLOW_SIDS)]


def _timed(fleet_run):
    started = time.monotonic()
    run = fleet_run()
    return run, time.monotonic() - started


def test_500_slow_sids_cost_the_name_budget_not_their_lookups(fleet):
    """The same 500 jobs on a host whose lookups answer at once and on one whose domain controller takes
    two minutes: the second task ends within name_timeout (plus a margin) of the first, with every SID
    and flag, and the names null."""
    spec = {"hosts": {"near01": {"jobs": _far_jobs(), "accounts": {f"{FAR_DOMAIN}-3000": "FAR\\first"}},
                      "far01": {"jobs": _far_jobs(), "accounts": {f"{FAR_DOMAIN}-3000": "FAR\\first"},
                                "slow_names": {"latency": 120, "domains": [FAR_DOMAIN]}}}}
    hosts = fleet(spec)
    args = f"name_timeout={NAME_TIMEOUT}"
    near, near_seconds = _timed(lambda: hosts.ansible("near01", args, module="winbits.bits.bits_job_info"))
    far, far_seconds = _timed(lambda: hosts.ansible("far01", args, module="winbits.bits.bits_job_info"))
    assert far_seconds < near_seconds + NAME_TIMEOUT + MARGIN_SECONDS, (near_seconds, far_seconds)
    near_result, far_result = near.result("near01"), far.result("far01")
    assert far_result.get("failed") is not True, far_result
    assert len(far_result["jobs"]) == SLOW_SIDS
    assert {job["owner_name"] for job in far_result["jobs"]} == {None}
    assert [job["owner"] for job in far_result["jobs"]] == [job["owner"] for job in near_result["jobs"]]
    assert {job["flags"] == ["local_file"] for job in far_result["jobs"]} == {True}
    assert far_result["name_lookup"]["timed_out"] is True and far_result["name_lookup"]["unresolved"] == SLOW_SIDS
    (warning,) = far_result["warnings"]
    assert warning.startswith(f"{SLOW_SIDS} of {SLOW_SIDS} account names (owner_name, helper_token_name) were left "
                              f"unresolved and are null") and f"name_timeout ({NAME_TIMEOUT} s)" in warning
    assert near_result["jobs"][0]["owner_name"] == "FAR\\first" and "warnings" not in near_result


@pytest.mark.parametrize("language, system, administrators", [
    ("fr-FR", "AUTORITE NT\\Système", "BUILTIN\\Administrateurs"),
    ("de-DE", "NT-AUTORITÄT\\SYSTEM", "VORDEFINIERT\\Administratoren"),
])
def test_a_host_names_the_well_known_accounts_in_its_language(fleet, language, system, administrators):
    job = {"id": JOB_ID, "name": "contentSync", "owner": "S-1-5-18", "helper_token_sid": "S-1-5-32-544"}
    hosts = fleet({"hosts": {"win01": {"language": language, "jobs": [job]}}})
    (listed,) = hosts.ansible("win01", "", module="winbits.bits.bits_job_info").result("win01")["jobs"]
    assert (listed["owner"], listed["owner_name"]) == ("S-1-5-18", system)
    assert (listed["helper_token_sid"], listed["helper_token_name"]) == ("S-1-5-32-544", administrators)


def test_failing_getters_cost_only_their_own_facts(fleet):
    faults = {"GetError": "0x80070005", "GetClientCertificate": "0x800706BA", "GetTimes": "0x80070005"}
    job = {"id": JOB_ID, "name": "contentSync", "owner": "S-1-5-18", "state": "ERROR", "flags": ["network"],
           "helper_token_sid": "S-1-5-21-1000-1000-1000-1013", "faults": faults,
           "error": {"hresult": "0x80200056", "context": "REMOTE_FILE"}}
    hosts = fleet({"hosts": {"win01": {"jobs": [job]}}})
    result = hosts.ansible("win01", "", module="winbits.bits.bits_job_info").result("win01")
    (listed,) = result["jobs"]
    assert (listed["flags"], listed["flags_value"]) == (["network"], 2)
    assert listed["helper_token_sid"] == "S-1-5-21-1000-1000-1000-1013"
    assert listed["state"] == "ERROR" and listed["owner_name"] == "NT AUTHORITY\\SYSTEM"
    assert [(failure["call"], failure["hresult_hex"]) for failure in listed["read_errors"]] == \
        [("GetTimes", "0x80070005"), ("GetError", "0x80070005"), ("GetClientCertificate", "0x800706BA")]
    assert listed["read_error"] == listed["read_errors"][0]
    (warning,) = result["warnings"]
    assert warning.endswith("only the facts of the failed calls are null, its flags (network) were read.")


def test_unknown_flag_bits_survive_a_write(fleet):
    job = {"id": JOB_ID, "name": "contentSync", "owner": "S-1-5-21-1000-1000-1000-500", "flags": 5}
    hosts = fleet({"hosts": {"win01": {"valid_token_flags": 7, "jobs": [job]}}})
    same = hosts.ansible("win01", f"job={JOB_ID} flags=local_file").result("win01")
    assert same.get("failed") is not True and same["changed"] is False, same
    changed = hosts.ansible("win01", f"job={JOB_ID} flags=network").result("win01")
    assert changed.get("failed") is not True and changed["changed"] is True, changed
    assert (changed["jobs"][0]["flags_value"], changed["jobs"][0]["unknown_flags_value"]) == (6, 4)
    assert any("does not know (0x0004)" in warning for warning in changed["warnings"]), changed["warnings"]
    assert hosts.job("win01")["flags"] == ["network", "0x0004"]


def test_a_bad_name_timeout_fails_before_the_host_is_contacted(fleet):
    hosts = fleet({"hosts": {"win01": {"jobs": []}}})
    result = hosts.ansible("win01", "name_timeout=-1", module="winbits.bits.bits_job_info").result("win01")
    assert result["failed"] is True
    assert result["msg"].startswith("bits_job_info: name_timeout must be a whole number of seconds")
    assert hosts.handlers["win01"].module_runs == 0


def test_absent_on_a_bits_that_answers_empty_for_no_token_is_idempotent(fleet):
    job = {"id": JOB_ID, "name": "contentSync", "owner": "S-1-5-21-1000-1000-1000-500",
           "helper_token_sid": "S-1-5-21-1000-1000-1000-1013"}
    hosts = fleet({"hosts": {"win01": {"empty_helper_token_sid": True, "jobs": [job]}}})
    first = hosts.ansible("win01", f"job={JOB_ID} helper_token=absent").result("win01")
    assert first.get("failed") is not True and first["changed"] is True, first
    second = hosts.ansible("win01", f"job={JOB_ID} helper_token=absent").result("win01")
    assert second.get("failed") is not True and second["changed"] is False, second
