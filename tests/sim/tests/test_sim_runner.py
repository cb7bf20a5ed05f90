"""bits_runner.py + SimHost.cs: the real C# core under Mono against the fake BITS, state persisted.

Every test runs twice: on a warm SimHostPool (what a fleet uses) and on a Mono start per request.
"""
from __future__ import annotations

import datetime
import json
import threading

import pytest

from tests.sim.bits_runner import (Caller, ModuleRun, OneShotRunner, SimHostError, SimHostPool, canonical_job, read_state,
                                   run_module, run_noop, write_state)
from tests.support.paths import COM_CS, CORE_CS, JOB_INFO_CS

ADMIN = "S-1-5-21-1000-1000-1000-500"
USER = "S-1-5-21-1000-1000-1000-1001"
JOB_ID = "{5D3B4C39-1F0A-4D5B-9E2F-123456789ABC}"
OTHER_ID = "{5D3B4C39-1F0A-4D5B-9E2F-123456789ABD}"
ADMIN_CALLER = Caller(sid=ADMIN, is_admin=True, network_logon=True)


def _params(**overrides):
    return {"job": "myDownloadJob", "flags": None, "all_matches": False, "all_users": False, "force": False,
            **overrides}


@pytest.fixture
def state_file(tmp_path):
    path = tmp_path / "win01.json"
    jobs = [{"id": JOB_ID, "name": "myDownloadJob", "owner": ADMIN, "state": "SUSPENDED", "flags": ["local_file"],
             "type": "UPLOAD", "creation_time": "2026-11-20T08:15:00Z",
             "modification_time": datetime.datetime(2026, 11, 21, 10, 0, 0)},
            {"id": OTHER_ID, "name": "other", "owner": USER, "state": "ERROR", "flags": 0, "client_certificate": True,
             "error": {"hresult": "0x80200056", "context": "REMOTE_FILE", "description": "token required"}}]
    write_state(path, {"os_build": 20348, "bits_version": "10.0", "refuse_network_logon": False,
                       "service_disabled": False, "concurrent_change": False,
                       "accounts": {USER: "CORP\\bob"},
                       "jobs": [canonical_job(job) for job in jobs]})
    return path


@pytest.fixture(scope="module")
def core_source():
    """The C# utils Ansible sends for bits_helper_token."""
    return {"BitsCom": COM_CS.read_text(encoding="utf-8"), "BitsHelperToken": CORE_CS.read_text(encoding="utf-8")}


@pytest.fixture(scope="module")
def info_source():
    """The C# utils Ansible sends for bits_job_info."""
    return {"BitsCom": COM_CS.read_text(encoding="utf-8"), "BitsJobInfo": JOB_INFO_CS.read_text(encoding="utf-8")}


@pytest.fixture(scope="module", params=["warm pool", "one-shot"])
def runner(request):
    if request.param == "one-shot":
        yield OneShotRunner()
        return
    pool = SimHostPool(size=2)
    yield pool
    pool.close()


def _run(runner, state_file, core_source, caller=ADMIN_CALLER, check_mode=False, invocation=None, **params):
    outcome = run_module(state_file, caller, ModuleRun(params=_params(**params), check_mode=check_mode,
                                                       invocation=invocation), core_source, runner=runner)
    return outcome, json.loads(outcome.stdout)


def _info(runner, state_file, info_source, caller=ADMIN_CALLER, **params):
    run = ModuleRun(params={"job": None, "all_users": True, **params}, check_mode=False)
    outcome = run_module(state_file, caller, run, info_source, module="bits_job_info", runner=runner)
    return outcome, json.loads(outcome.stdout)


def test_enforce_writes_state_and_second_run_is_idempotent(runner, state_file, core_source):
    outcome, result = _run(runner, state_file, core_source, flags=["local_file", "network"])
    assert outcome.exit_code == 0 and outcome.set_calls == 1
    assert result["changed"] is True
    assert result["jobs"][0]["previous_flags_value"] == 1 and result["jobs"][0]["flags_value"] == 3
    assert read_state(state_file)["jobs"][0]["flags"] == ["local_file", "network"]
    again, result = _run(runner, state_file, core_source, flags=["local_file", "network"])
    assert result["changed"] is False and again.set_calls == 0


def test_check_mode_leaves_the_state_file_byte_identical(runner, state_file, core_source):
    before = state_file.read_bytes()
    outcome, result = _run(runner, state_file, core_source, check_mode=True, flags=[])
    assert result["changed"] is True and outcome.set_calls == 0
    assert state_file.read_bytes() == before


def test_failure_is_failjson_with_the_core_message(runner, state_file, core_source):
    outcome, result = _run(runner, state_file, core_source, job="nope", flags=["network"])
    assert outcome.exit_code == 1
    assert result["failed"] is True
    assert result["error"]["reason"] == "not_found"
    assert result["msg"] == result["error"]["message"]


def test_network_logon_refused_then_batch_logon_works(runner, state_file, core_source):
    state = read_state(state_file)
    write_state(state_file, {**state, "refuse_network_logon": True})
    outcome, result = _run(runner, state_file, core_source, flags=["network"])
    assert result["error"]["hresult_hex"] == "0x800704DD"
    batch = Caller(sid=ADMIN, is_admin=True, network_logon=False)
    outcome, result = _run(runner, state_file, core_source, caller=batch, flags=["network"])
    assert outcome.exit_code == 0 and result["changed"] is True


def test_invocation_modes(runner, state_file, core_source):
    plain = _run(runner, state_file, core_source)[1]
    legacy = _run(runner, state_file, core_source, invocation="constructor")[1]
    assert "invocation" not in plain
    assert legacy["invocation"]["module_args"]["job"] == "myDownloadJob"
    assert list(legacy)[:2] == ["changed", "invocation"]


def test_service_disabled(runner, state_file, core_source):
    write_state(state_file, {**read_state(state_file), "service_disabled": True})
    outcome, result = _run(runner, state_file, core_source)
    assert (outcome.exit_code, result["error"]["reason"]) == (1, "manager_unavailable")


def test_concurrent_change_is_reported_as_readback_mismatch(runner, state_file, core_source):
    write_state(state_file, {**read_state(state_file), "concurrent_change": True})
    result = _run(runner, state_file, core_source, flags=["network"])[1]
    assert result["error"]["reason"] == "readback_mismatch"


def test_concurrent_runs_on_one_host_do_not_lose_writes(runner, state_file, core_source):
    """Two tasks at once on one host: each sees the other's write (the lock serialises them)."""
    results = []

    def enforce(job, flags):
        results.append(_run(runner, state_file, core_source, job=job, flags=flags, all_users=True))

    threads = [threading.Thread(target=enforce, args=("myDownloadJob", [])),
               threading.Thread(target=enforce, args=(OTHER_ID, ["local_file"]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(outcome.exit_code == 0 for outcome, result in results)
    assert [job["flags"] for job in read_state(state_file)["jobs"]] == [[], ["local_file"]]


# --- bits_job_info through the same runner -------------------------------------------------------------

def test_job_info_reports_the_fleet_file_facts(runner, state_file, info_source):
    before = state_file.read_bytes()
    outcome, result = _info(runner, state_file, info_source)
    assert outcome.exit_code == 0 and outcome.set_calls == 0
    jobs = {job["id"]: job for job in result["jobs"]}
    mine, other = jobs[JOB_ID], jobs[OTHER_ID]
    assert (mine["type"], mine["creation_time"], mine["modification_time"]) == \
        ("UPLOAD", "2026-11-20T08:15:00Z", "2026-11-21T10:00:00Z")
    assert mine["flags_value"] == 1 and mine["error"] is None
    assert other["owner_name"] == "CORP\\bob" and other["state"] == "ERROR"
    assert other["error"] == {"hresult": 0x80200056, "hresult_hex": "0x80200056", "context": "REMOTE_FILE",
                              "context_value": 5, "description": "token required", "description_error": None}
    assert other["client_certificate"] is None, "only the owner can tell whether a job has a certificate"
    assert state_file.read_bytes() == before, "a listing must not rewrite the host's state"


def test_job_info_a_job_fault_is_a_read_error_not_a_failure(runner, state_file, info_source):
    state = read_state(state_file)
    state["jobs"][1]["faults"] = {"GetHelperTokenFlags": "0x80070005"}
    write_state(state_file, state)
    outcome, result = _info(runner, state_file, info_source)
    assert outcome.exit_code == 0
    other = next(job for job in result["jobs"] if job["id"] == OTHER_ID)
    assert other["flags_value"] is None
    assert (other["read_error"]["call"], other["read_error"]["hresult_hex"]) == ("GetHelperTokenFlags", "0x80070005")


def test_job_info_all_users_as_a_non_admin_fails(runner, state_file, info_source):
    outcome, result = _info(runner, state_file, info_source, caller=Caller(sid=USER, is_admin=False, network_logon=False))
    assert outcome.exit_code == 1
    assert (result["error"]["call"], result["error"]["hresult_hex"]) == ("EnumJobs", "0x80070005")


def test_a_module_whose_core_was_not_sent_cannot_run(runner, state_file, core_source):
    with pytest.raises(SimHostError, match="was not sent"):
        run_module(state_file, ADMIN_CALLER, ModuleRun(params={"job": None, "all_users": True}, check_mode=False),
                   core_source, module="bits_job_info", runner=runner)


# --- the benchmark's no-op module through the same runner ------------------------------------------------

@pytest.mark.parametrize("invocation, expected", [
    (None, {"changed": False}),
    ("exit", {"changed": False, "invocation": {"module_args": {}}}),
    ("constructor", {"changed": False, "invocation": {"module_args": {}}}),
])
def test_noop_is_ansible_basic_exit_json(runner, invocation, expected):
    """Create() then ExitJson(), in SimHost built from no util at all (the no-op sends none)."""
    outcome = run_noop(ModuleRun(params={}, check_mode=True, invocation=invocation), {}, runner=runner)
    assert (outcome.exit_code, outcome.set_calls) == (0, 0)
    assert json.loads(outcome.stdout) == expected


def test_no_module_core_runs_on_a_build_without_bits_com(runner):
    """The no-op's build has no fake BITS: a module request there is a simulator bug, said so."""
    request = {"kind": "module", "module": "bits_helper_token", "host": {}, "caller": {}, "params": _params(),
               "check_mode": False, "invocation": None}
    with pytest.raises(SimHostError, match="BitsCom was not sent"):
        runner.request({}, request, 30)
