"""SimHostPool: warm SimHost.exe processes shared by a fleet's hosts, nothing kept between requests."""
from __future__ import annotations

import json
import os
import resource
import signal
import threading
from pathlib import Path

import pytest

from tests.sim import bits_runner
from tests.sim.bits_runner import (Caller, ModuleRun, SimHostError, SimHostPool, SimHostTimeout, canonical_job,
                                   read_state, run_module, run_noop, write_state)
from tests.sim.fleet import build_endpoints, load_fleet
from tests.sim.winrm_server import FleetServer
from tests.support.paths import COM_CS, CORE_CS, JOB_INFO_CS

ADMIN = "S-1-5-21-1000-1000-1000-500"
ADMIN_CALLER = Caller(sid=ADMIN, is_admin=True, network_logon=True)
FIRST_ID = "{0A000000-0000-4000-8000-000000000001}"
SECOND_ID = "{0B000000-0000-4000-8000-000000000002}"
NOOP = ModuleRun(params={}, check_mode=False)


@pytest.fixture(scope="module")
def token_utils():
    return {"BitsCom": COM_CS.read_text(encoding="utf-8"), "BitsHelperToken": CORE_CS.read_text(encoding="utf-8")}


@pytest.fixture(scope="module")
def info_utils():
    return {"BitsCom": COM_CS.read_text(encoding="utf-8"), "BitsJobInfo": JOB_INFO_CS.read_text(encoding="utf-8")}


@pytest.fixture
def pool():
    runner = SimHostPool(size=1)
    yield runner
    runner.close()


def _host(tmp_path: Path, name: str, job_id: str, job_name: str) -> Path:
    path = tmp_path / f"{name}.json"
    job = {"id": job_id, "name": job_name, "owner": ADMIN, "state": "SUSPENDED", "flags": ["local_file"]}
    write_state(path, {"os_build": 20348, "bits_version": "10.0", "refuse_network_logon": False,
                       "service_disabled": False, "concurrent_change": False, "accounts": {},
                       "jobs": [canonical_job(job)]})
    return path


def _listing(pool, state_path, utils):
    run = ModuleRun(params={"job": None, "all_users": True}, check_mode=False)
    outcome = run_module(state_path, ADMIN_CALLER, run, utils, module="bits_job_info", runner=pool)
    assert outcome.exit_code == 0, outcome.stdout
    return {job["id"]: job for job in json.loads(outcome.stdout)["jobs"]}


def _gone(pid: int) -> bool:
    """The process has exited and been reaped (a zombie still counts as a leak)."""
    return not Path(f"/proc/{pid}").exists()


def test_one_process_keeps_nothing_of_one_host_for_the_next(pool, tmp_path, token_utils, info_utils):
    first = _host(tmp_path, "win01", FIRST_ID, "Sync {prod} \u00fc")
    second = _host(tmp_path, "win02", SECOND_ID, "second")
    enforce = ModuleRun(params={"job": "Sync {prod} \u00fc", "flags": ["local_file", "network"], "all_matches": False,
                                "all_users": False, "force": False}, check_mode=False)
    assert run_module(first, ADMIN_CALLER, enforce, token_utils, runner=pool).set_calls == 1
    [token_process] = pool.pids()
    seen_first = _listing(pool, first, info_utils)
    [info_process] = set(pool.pids()) - {token_process}
    seen_second = _listing(pool, second, info_utils)
    assert pool.pids() == sorted([token_process, info_process]), "size 1: the same two processes answered all"
    assert list(seen_first) == [FIRST_ID] and seen_first[FIRST_ID]["flags_value"] == 3
    assert seen_first[FIRST_ID]["name"] == "Sync {prod} \u00fc", "non-ASCII names survive the pipes"
    assert list(seen_second) == [SECOND_ID] and seen_second[SECOND_ID]["flags_value"] == 1
    # The write to win01's job counted no SetHelperTokenFlags call for win02.
    check = ModuleRun(params={**enforce.params, "job": "second", "flags": ["local_file"]}, check_mode=False)
    assert run_module(second, ADMIN_CALLER, check, token_utils, runner=pool).set_calls == 0
    assert [job["id"] for job in read_state(second)["jobs"]] == [SECOND_ID]


def test_a_process_that_died_while_idle_is_replaced(pool):
    run_noop(NOOP, {}, runner=pool)
    [dead] = pool.pids()
    os.kill(dead, signal.SIGKILL)
    assert run_noop(NOOP, {}, runner=pool).exit_code == 0
    assert pool.pids() and dead not in pool.pids()


def test_a_process_that_dies_under_a_request_is_retried_on_a_fresh_one(pool, monkeypatch):
    run_noop(NOOP, {}, runner=pool)
    [dead] = pool.pids()
    os.kill(dead, signal.SIGKILL)
    # Taken before its death is noticed: the request itself meets the dead process.
    monkeypatch.setattr(bits_runner._ServerProcess, "alive", lambda self: True)
    assert json.loads(run_noop(NOOP, {}, runner=pool).stdout) == {"changed": False}
    assert pool.pids() and dead not in pool.pids()


def test_a_request_that_times_out_ends_its_process(pool):
    run_noop(NOOP, {}, runner=pool)
    [slow] = pool.pids()
    with pytest.raises(SimHostTimeout, match="did not answer in time"):
        run_noop(NOOP, {}, runner=pool, timeout=1e-9)
    assert _gone(slow) and pool.pids() == []
    assert run_noop(NOOP, {}, runner=pool).exit_code == 0


def test_a_malformed_request_is_an_error_and_the_process_stays(pool):
    run_noop(NOOP, {}, runner=pool)
    before = pool.pids()
    with pytest.raises(SimHostError, match="unknown request kind bogus"):
        pool.request({}, {"kind": "bogus", "params": {}, "check_mode": False}, 30)
    assert pool.pids() == before


def test_concurrent_requests_share_at_most_size_processes(tmp_path, info_utils):
    pool = SimHostPool(size=2)
    hosts = [_host(tmp_path, f"win{index:02d}", f"{{0C000000-0000-4000-8000-{index:012d}}}", f"job{index}")
             for index in range(8)]
    seen: dict[int, list[str]] = {}
    errors: list[BaseException] = []

    def listing(index: int) -> None:
        try:
            seen[index] = list(_listing(pool, hosts[index], info_utils))
        except BaseException as error:  # reported below, with the others
            errors.append(error)

    threads = [threading.Thread(target=listing, args=(index,)) for index in range(len(hosts))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        assert seen == {index: [f"{{0C000000-0000-4000-8000-{index:012d}}}"] for index in range(len(hosts))}
        assert 1 <= len(pool.pids()) <= 2
    finally:
        pool.close()


def test_a_fleet_shares_one_pool_and_stopping_it_ends_every_process(tmp_path, token_utils):
    hosts = load_fleet({"hosts": {"win01": {}, "win02": {}}})
    endpoints = build_endpoints(hosts, tmp_path / "state")
    [runner] = {id(endpoint.handler.runner): endpoint.handler.runner for endpoint in endpoints}.values()
    server = FleetServer(endpoints)
    server.start()
    try:
        run_noop(NOOP, {}, runner=runner)
        run = ModuleRun(params={"job": None, "flags": None, "all_matches": False, "all_users": False,
                                "force": False}, check_mode=True)
        run_module(tmp_path / "state" / "win02.json", ADMIN_CALLER, run, token_utils, runner=runner)
        pids = runner.pids()
        assert len(pids) == 2 and not any(_gone(pid) for pid in pids)
    finally:
        server.stop()
    assert runner.pids() == []
    assert all(_gone(pid) for pid in pids), "a stopped fleet left SimHost processes behind"
    with pytest.raises(SimHostError, match="pool is closed"):
        run_noop(NOOP, {}, runner=runner)


def test_pool_size_must_be_positive():
    with pytest.raises(ValueError, match="SimHostPool size must be at least 1, not 0"):
        SimHostPool(size=0)


def test_a_pool_answers_when_its_pipes_are_numbered_above_fd_setsize():
    """A 1,000-host fleet holds over 1,024 descriptors: the pool must not rely on select()."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the descriptor limit ({hard}) is too low to push pipes past 1024")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    filler = [os.open(os.devnull, os.O_RDONLY) for _count in range(1100)]
    pool = SimHostPool(size=1)
    try:
        outcome = run_noop(NOOP, {}, runner=pool)
        assert outcome.exit_code == 0 and json.loads(outcome.stdout)["changed"] is False
    finally:
        pool.close()
        for fd in filler:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
