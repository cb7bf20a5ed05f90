"""The helper token itself (helper_token: absent | caller) end to end, against the simulated fleet.

The simulated host's fake BITS refuses SetHelperToken without an impersonate-level blanket with
dynamic cloaking (CO_E_FAILEDTOIMPERSONATE), and applies the access rules of Microsoft's docs.
"""
from __future__ import annotations

from tests.e2e.conftest import ADMIN_SID, JOB_ID, one_job

HELPER_SID = "S-1-5-21-1000-1000-1000-1013"
OTHER_JOB_ID = "{5D3B4C39-1F0A-4D5B-9E2F-0000000000F2}"
USER = {"name": "alice", "password": "Alice-Passw0rd!", "sid": "S-1-5-21-1000-1000-1000-1101", "is_admin": False}


def _task(args, **task):
    return [{"hosts": "all", "gather_facts": False,
             "tasks": [{"name": "Helper token", "winbits.bits.bits_helper_token": args, **task}]}]


def test_absent_clears_the_token_keeps_the_flags_and_is_idempotent(fleet):
    sim = fleet({"hosts": {"win01": {"jobs": [one_job(flags=["local_file", "network"], helper_token_sid=HELPER_SID)]}}})
    first = sim.playbook(_task({"job": JOB_ID, "helper_token": "absent"}), "--diff").result("win01")
    assert first["changed"] is True, first
    assert (first["previous_helper_token_sid"], first["helper_token_sid"]) == (HELPER_SID, None)
    assert HELPER_SID in str(first["diff"]), first["diff"]
    job = sim.job("win01")
    assert job["helper_token_sid"] is None and job["flags"] == ["local_file", "network"]
    second = sim.playbook(_task({"job": JOB_ID, "helper_token": "absent"})).result("win01")
    assert second["changed"] is False, second


def test_caller_sets_the_connection_users_token_and_is_idempotent(fleet):
    sim = fleet({"hosts": {"win01": {"jobs": [one_job()]}}})
    first = sim.playbook(_task({"job": JOB_ID, "helper_token": "caller"})).result("win01")
    assert first["changed"] is True, first
    assert first["helper_token_sid"] == ADMIN_SID == first["caller"]["sid"]
    assert any("log" in warning and "off" in warning for warning in first.get("warnings", [])), first
    assert sim.job("win01")["helper_token_sid"] == ADMIN_SID
    second = sim.playbook(_task({"job": JOB_ID, "helper_token": "caller"})).result("win01")
    assert second["changed"] is False, second


def test_caller_under_become_system_is_local_system(fleet):
    sim = fleet({"hosts": {"win01": {"jobs": [one_job(owner="S-1-5-18")]}}})
    play = _task({"job": JOB_ID, "helper_token": "caller", "flags": ["local_file", "network"]},
                 become=True, become_method="runas", become_user="SYSTEM")
    result = sim.playbook(play).result("win01")
    assert result["changed"] is True, result
    assert result["helper_token_sid"] == "S-1-5-18" == result["caller"]["sid"]
    assert sim.job("win01")["helper_token_sid"] == "S-1-5-18"
    assert sim.job("win01")["flags"] == ["local_file", "network"]


def test_check_mode_predicts_and_writes_nothing(fleet):
    sim = fleet({"hosts": {"win01": {"jobs": [one_job(helper_token_sid=HELPER_SID)]}}})
    before = sim.state_bytes("win01")
    result = sim.playbook(_task({"job": JOB_ID, "helper_token": "caller"}), "--check", "--diff").result("win01")
    assert result["changed"] is True, result
    assert ADMIN_SID in str(result["diff"]), result["diff"]
    assert sim.state_bytes("win01") == before


def test_a_non_administrator_before_build_14393_is_refused_with_the_rule(fleet):
    sim = fleet({"hosts": {"win01": {"os_build": 9600, "winrm_user": USER,
                                     "jobs": [one_job(owner=USER["sid"])]}}})
    result = sim.playbook(_task({"job": JOB_ID, "helper_token": "caller"})).result("win01")
    assert result["failed"] is True
    assert result["error"]["call"] == "SetHelperToken" and result["error"]["hresult_hex"] == "0x80070005"
    assert "14393" in result["msg"], result["msg"]
    assert sim.job("win01")["helper_token_sid"] is None


def test_a_non_administrator_owner_clears_its_token_only_from_build_14393(fleet):
    # ClearHelperToken's own rule: before build 14393 only administrators, even on their own job.
    for build, allowed in ((9600, False), (14393, True)):
        sim = fleet({"hosts": {"win01": {"os_build": build, "winrm_user": USER,
                                         "jobs": [one_job(owner=USER["sid"], helper_token_sid=HELPER_SID)]}}})
        result = sim.playbook(_task({"job": JOB_ID, "helper_token": "absent"})).result("win01")
        if allowed:
            assert result["changed"] is True and result["helper_token_sid"] is None, result
            assert sim.job("win01")["helper_token_sid"] is None
            continue
        assert result["failed"] is True and result["error"]["call"] == "ClearHelperToken", result
        assert result["error"]["hresult_hex"] == "0x80070005"
        assert "only an administrator may clear a job's helper token, even the job's owner may not" in result["msg"]
        assert sim.job("win01")["helper_token_sid"] == HELPER_SID


def test_an_administrators_token_stops_a_non_administrator_owners_flags_not_its_token(fleet):
    # Each call has its own rule: the job's current token with Administrators is SetHelperTokenFlags' rule only;
    # SetHelperToken asks about the token being set (the owner's own) and ClearHelperToken only about the owner.
    other = {**one_job(owner=USER["sid"], helper_token_sid=HELPER_SID, helper_token_admin=True),
             "id": OTHER_JOB_ID, "name": "otherJob"}
    job = one_job(owner=USER["sid"], helper_token_sid=HELPER_SID, helper_token_admin=True)
    sim = fleet({"hosts": {"win01": {"winrm_user": USER, "jobs": [job, other]}}})
    refused = sim.playbook(_task({"job": JOB_ID, "helper_token": "caller", "flags": ["network"]})).result("win01")
    assert refused["failed"] is True and refused["error"]["call"] == "SetHelperTokenFlags", refused
    assert refused["error"]["hresult_hex"] == "0x80070005"
    assert "Administrators SID enabled" in refused["msg"] and HELPER_SID in refused["msg"], refused["msg"]
    assert sim.job("win01")["helper_token_sid"] == HELPER_SID
    replaced = sim.playbook(_task({"job": JOB_ID, "helper_token": "caller"})).result("win01")
    assert replaced["changed"] is True and replaced["helper_token_sid"] == USER["sid"], replaced
    cleared = sim.playbook(_task({"job": OTHER_JOB_ID, "helper_token": "absent"})).result("win01")
    assert cleared["changed"] is True and cleared["helper_token_sid"] is None, cleared
    flags = sim.playbook(_task({"job": JOB_ID, "flags": ["network"]})).result("win01")
    assert flags["changed"] is True, flags


def test_an_administrator_before_build_14393_sets_a_token_only_on_an_administrators_job(fleet):
    alice = {key: USER[key] for key in ("sid", "is_admin", "password")}
    # The other job's owner is the connection's user, an administrator of the host (tests/sim/README.md, owner_admin).
    jobs = [one_job(owner=USER["sid"]), {**one_job(owner=ADMIN_SID), "id": OTHER_JOB_ID, "name": "otherJob"}]
    sim = fleet({"hosts": {"win01": {"os_build": 9600, "users": {"alice": alice}, "jobs": jobs}}})
    refused = sim.playbook(_task({"job": JOB_ID, "helper_token": "caller"})).result("win01")
    assert refused["failed"] is True and refused["error"]["call"] == "SetHelperToken", refused
    assert refused["error"]["hresult_hex"] == "0x80070005" and refused["caller"]["is_admin"] is True
    assert "not owned by an administrator" in refused["msg"] and USER["sid"] in refused["msg"], refused["msg"]
    assert "filtered" not in refused["msg"], refused["msg"]
    assert sim.job("win01")["helper_token_sid"] is None
    allowed = sim.playbook(_task({"job": OTHER_JOB_ID, "helper_token": "caller"})).result("win01")
    assert allowed["changed"] is True and allowed["helper_token_sid"] == ADMIN_SID, allowed


def test_a_failed_token_write_leaves_the_flags_as_they_were(fleet):
    # SetHelperToken is made to fail on this job: the flags written first in the same task are restored.
    job = one_job(flags=[], faults={"SetHelperToken": "0x80070005"})
    sim = fleet({"hosts": {"win01": {"jobs": [job]}}})
    result = sim.playbook(_task({"job": JOB_ID, "helper_token": "caller", "flags": ["local_file"]})).result("win01")
    assert result["failed"] is True and result["error"]["call"] == "SetHelperToken", result
    assert sim.job("win01")["flags"] == [] and sim.job("win01")["helper_token_sid"] is None
