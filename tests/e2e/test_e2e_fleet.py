"""Fleet-level runs: many hosts with forks, transport faults over each transport, a fleet mixing transports,
the CLI. (The integration targets run against the fleet in test_e2e_integration_targets.py.)"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import yaml

from tests.e2e.conftest import TRANSPORTS, one_job
from tests.support.paths import REPO


def test_fifty_hosts_with_ten_forks(fleet):
    hosts = {f"win{n:02d}": {"jobs": [one_job()]} for n in range(50)}
    sim = fleet({"hosts": hosts})
    started = time.monotonic()
    run = sim.ansible("all", "job=myDownloadJob flags=local_file,network", "-f", "10")
    elapsed = time.monotonic() - started
    print(f"50 hosts, -f 10: {elapsed:.1f} s wall")
    assert run.returncode == 0, run.stderr[-2000:]
    assert all(run.result(name)["changed"] for name in hosts)
    assert all(sim.job(name)["flags"] == ["local_file", "network"] for name in hosts)
    assert sum(handler.module_runs for handler in sim.handlers.values()) == 50


def test_each_transport_fault_fails_only_its_host(fleet, transport):
    faults = ["unreachable", "http_500", "http_401", "drop", "slow"]
    hosts = {"healthy": {"jobs": [one_job()]}}
    hosts.update({fault.replace("_", ""): {"jobs": [one_job()], "faults": [fault]} for fault in faults})
    # A long stall, so that a slow host that waited it out shows even on a loaded machine; its
    # inventory gives the client the default 3 s timeout.
    hosts["slow"]["slow_seconds"] = 60
    sim = fleet({"hosts": hosts})
    slow_seconds = sim.handlers["slow"].host.slow_seconds
    started = time.monotonic()
    run = sim.ansible("all", "job=myDownloadJob flags=network", "-f", "6")
    elapsed = time.monotonic() - started
    print(f"{transport}: 6 hosts, 5 faults: {elapsed:.1f} s wall")
    assert run.result("healthy")["changed"] is True
    # The slow host failed on its inventory's timeout, long before its stall would have ended.
    assert elapsed < slow_seconds, (elapsed, slow_seconds)
    for fault in faults:
        name = fault.replace("_", "")
        result = run.result(name)
        assert result.get("unreachable") or result.get("failed"), (fault, result)
        if fault != "drop":
            # "drop" cuts the connection after the host ran the command: like a real host, the write
            # may have happened although the controller never hears of it.
            assert sim.job(name)["flags"] == ["local_file"], fault
            assert sim.handlers[name].module_runs == 0, fault
        stats = run.stats[name]
        assert stats["unreachable"] + stats["failures"] == 1, (fault, stats)


def test_a_fleet_mixing_transports(fleet):
    hosts = {f"{transport}{n}": {"transport": transport, "jobs": [one_job()]}
             for transport in TRANSPORTS for n in range(3)}
    hosts["sshpw"] = {"transport": "ssh", "auth": "password", "jobs": [one_job()]}
    hosts["psrpntlm"] = {"transport": "psrp", "auth": "ntlm", "jobs": [one_job()]}
    sim = fleet({"hosts": hosts})
    run = sim.ansible("all", "job=myDownloadJob flags=local_file,network", "-f", "11")
    assert run.returncode == 0, run.stderr[-2000:]
    assert all(run.result(name)["changed"] for name in hosts)
    assert all(sim.handlers[name].module_runs == 1 for name in hosts)


def test_cli_start_inventory_stop(tmp_path):
    fleet_file = tmp_path / "fleet.yml"
    fleet_file.write_text(yaml.safe_dump({"hosts": {"win01": {"jobs": [one_job()]},
                                                    "win02": {"transport": "psrp", "jobs": [one_job()]},
                                                    "win03": {"transport": "ssh", "jobs": [one_job()]}}}))
    state_dir, pidfile = tmp_path / "state", tmp_path / "fleet.pid"
    python = [sys.executable, "-m", "tests.sim"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = subprocess.run([*python, "start", "--fleet", str(fleet_file), "--state-dir", str(state_dir),
                              "--pidfile", str(pidfile)], capture_output=True, text=True, cwd=REPO, env=env,
                             timeout=120, check=False)
    try:
        assert started.returncode == 0, started.stderr
        assert "win01 ansible_connection=winrm" in started.stdout
        assert "win02 ansible_connection=psrp" in started.stdout
        assert "win03 ansible_connection=ssh" in started.stdout
        assert (state_dir / "ssh" / "client_key").exists()
        listed = subprocess.run([*python, "inventory", "--state-dir", str(state_dir)], capture_output=True,
                                text=True, cwd=REPO, env=env, timeout=60, check=True)
        assert listed.stdout == started.stdout
        assert (state_dir / "win01.json").exists()
    finally:
        stopped = subprocess.run([*python, "stop", "--pidfile", str(pidfile)], capture_output=True, text=True,
                                 cwd=REPO, env=env, timeout=60, check=False)
    assert stopped.returncode == 0, stopped.stderr
    assert not pidfile.exists()
