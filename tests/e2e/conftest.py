"""The `fleet` fixture: a simulated Windows fleet served on 127.0.0.1, and Ansible from the venv against it.

``fleet(spec)`` starts a FleetServer for a fleet dict (the fleet-file format of tests/sim/README.md), seeds
the state dir under tmp_path, writes the inventory, and returns a :class:`Fleet` whose ``ansible`` and
``playbook`` run the real CLIs with a clean environment and a JSON stdout callback (callback_plugins/sim_json.py), returning the
parsed results. Servers are stopped when the test ends.

A test that also takes the ``transport`` fixture runs once per transport (ids winrm, psrp, ssh): its
fleet's hosts default to that transport, so Ansible's real winrm, psrp or ssh connection plugin carries
every task.
"""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import yaml

from tests.sim.fleet import build_endpoints, inventory_ini, load_fleet
from tests.sim.winrm_server import FleetServer
from tests.support.paths import BENCHMARK_COLLECTIONS, collections_root

BIN = Path(sys.executable).parent
# ansible-core 2.21 ships no json stdout callback: tests/e2e/callback_plugins/sim_json.py prints the run.
CALLBACKS = Path(__file__).parent / "callback_plugins"
ADMIN_SID = "S-1-5-21-1000-1000-1000-500"
TRANSPORTS = ("winrm", "psrp", "ssh")
JOB_ID = "{5D3B4C39-1F0A-4D5B-9E2F-123456789ABC}"


@dataclasses.dataclass
class AnsibleRun:
    returncode: int
    output: dict[str, Any]          # the json callback's document
    stderr: str

    def host_results(self, host: str) -> list[dict[str, Any]]:
        """Every task result of one host, in play order."""
        return [task["hosts"][host] for play in self.output.get("plays", []) for task in play["tasks"]
                if host in task["hosts"]]

    def result(self, host: str, index: int = -1) -> dict[str, Any]:
        return self.host_results(host)[index]

    @property
    def stats(self) -> dict[str, dict[str, int]]:
        return self.output.get("stats", {})


@dataclasses.dataclass
class Fleet:
    server: FleetServer
    inventory: Path
    state_dir: Path
    work: Path
    handlers: dict[str, Any]

    def state(self, host: str) -> dict[str, Any]:
        return json.loads(self.state_bytes(host))

    def state_bytes(self, host: str) -> bytes:
        return (self.state_dir / f"{host}.json").read_bytes()

    def job(self, host: str, index: int = 0) -> dict[str, Any]:
        return self.state(host)["jobs"][index]

    def env(self) -> dict[str, str]:
        return {"PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(self.work),
                "LANG": "C.UTF-8", "ANSIBLE_COLLECTIONS_PATH": f"{collections_root()}:{BENCHMARK_COLLECTIONS}",
                "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_HOME": str(self.work / "ansible_home"),
                "ANSIBLE_LOCAL_TEMP": str(self.work / "local_tmp"), "ANSIBLE_STDOUT_CALLBACK": "sim_json",
                "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
                "ANSIBLE_LOAD_CALLBACK_PLUGINS": "True", "ANSIBLE_RETRY_FILES_ENABLED": "False",
                "ANSIBLE_NOCOLOR": "1", "ANSIBLE_DEPRECATION_WARNINGS": "False"}

    def ansible(self, pattern: str, module_args: str, *extra: str,
                module: str = "winbits.bits.bits_helper_token") -> AnsibleRun:
        return self._run([str(BIN / "ansible"), "-i", str(self.inventory), pattern, "-m", module,
                          "-a", module_args, *extra])

    def playbook(self, playbook: str | Path | list[dict[str, Any]], *extra: str) -> AnsibleRun:
        if not isinstance(playbook, Path):
            text = playbook if isinstance(playbook, str) else yaml.safe_dump(playbook, sort_keys=False)
            path = self.work / f"playbook-{len(list(self.work.glob('playbook-*.yml')))}.yml"
            path.write_text(text, encoding="utf-8")
            playbook = path
        return self._run([str(BIN / "ansible-playbook"), "-i", str(self.inventory), str(playbook), *extra])

    def _run(self, command: list[str]) -> AnsibleRun:
        done = subprocess.run(command, capture_output=True, text=True, env=self.env(), cwd=self.work, timeout=180,
                              check=False)
        try:
            output = json.loads(done.stdout)
        except ValueError:
            raise AssertionError(f"no JSON from {command[0]} (rc {done.returncode}):\n{done.stdout[-3000:]}\n"
                                 f"{done.stderr[-3000:]}")
        return AnsibleRun(returncode=done.returncode, output=output, stderr=done.stderr)


def one_job(**overrides: Any) -> dict[str, Any]:
    """A suspended download job of the WinRM user, LOCAL_FILE set (override any key)."""
    return {"id": JOB_ID, "name": "myDownloadJob", "owner": ADMIN_SID, "state": "SUSPENDED",
            "flags": ["local_file"], **overrides}


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    """The transport of the fleet's hosts (unless a host names its own): the test runs once per transport."""
    return str(request.param)


@pytest.fixture
def fleet(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[dict[str, Any]], Fleet]]:
    servers: list[FleetServer] = []
    transport = request.getfixturevalue("transport") if "transport" in request.fixturenames else None

    def start(spec: dict[str, Any]) -> Fleet:
        work = tmp_path / f"fleet{len(servers)}"
        state_dir = work / "state"
        work.mkdir()
        if transport is not None:
            spec = {**spec, "defaults": {"transport": transport, **(spec.get("defaults") or {})}}
        hosts = load_fleet(spec)
        endpoints = build_endpoints(hosts, state_dir)
        server = FleetServer(endpoints)
        server.start()
        servers.append(server)
        inventory = work / "inventory.ini"
        inventory.write_text(inventory_ini(hosts, {h.name: server.port_of(h.name) for h in hosts},
                                           state_dir=state_dir), encoding="utf-8")
        return Fleet(server=server, inventory=inventory, state_dir=state_dir, work=work,
                     handlers={endpoint.name: endpoint.handler for endpoint in endpoints})

    yield start
    for server in servers:
        server.stop()
