"""Benchmark: the modules through Ansible's real WinRM path, against the simulated fleet.

    .venv/bin/python -m tests.benchmark.fleet_benchmark [--runs 5] [--sizes 50,200] [--forks 20] [--audit 1000]

Prints, from one run:
1. the wall time of one task on one host, bits_helper_token (a real write each run) against the
   no-op Ansible.Basic module through the same path, as medians of ``--runs`` ad-hoc runs, and
   their ratio;
2. WS-Man Command operations per task (the design says one) and request bytes per task, for both;
3. the wall time and the controller CPU (user + system of ansible and its forks) of check-mode
   runs over fleets of ``--sizes`` hosts;
4. with ``--audit N``: an audit of N hosts with five jobs each (bits_job_info, all users), side by
   side with the no-op module over the same fleet: wall, controller CPU per host, Command operations
   per host, and the ratios.
The simulated hosts run in this process: their own CPU (the server threads and the Mono runs of
the C# core) is not counted as the controller's.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from tests.sim.fleet import build_endpoints, inventory_ini, load_fleet
from tests.sim.winrm_server import FleetServer
from tests.support.paths import BENCHMARK_COLLECTIONS, collections_root

BIN = Path(sys.executable).parent
WINRM_USER_SID = "S-1-5-21-1000-1000-1000-500"
BITS_MODULE = "winbits.bits.bits_helper_token"
INFO_MODULE = "winbits.bits.bits_job_info"
NOOP_MODULE = "winbits.benchmark.noop"
AUDIT_JOBS = 5


@dataclass
class Measured:
    wall_seconds: float
    cpu_seconds: float      # user + system of the ansible process and the forks it reaped
    returncode: int
    output: str


@dataclass
class TaskFigures:
    wall_seconds: list[float]
    commands_per_task: float
    request_bytes_per_task: float


def fleet_spec(size: int) -> dict[str, Any]:
    """``size`` hosts, each with one job of the WinRM user that has LOCAL_FILE set."""
    job = {"id": "{5D3B4C39-1F0A-4D5B-9E2F-123456789ABC}", "name": "benchJob", "owner": WINRM_USER_SID,
           "state": "SUSPENDED", "flags": ["local_file"]}
    return {"hosts": {f"bench{index:03d}": {"jobs": [job]} for index in range(size)}}


def audit_fleet_spec(size: int) -> dict[str, Any]:
    """``size`` hosts with AUDIT_JOBS jobs each, of several owners, types and flags, one in error."""
    owners = ("S-1-5-18", WINRM_USER_SID, "S-1-5-21-1000-1000-1000-1101")
    jobs = [{"id": f"{{6B000000-0000-4000-8000-{index:012d}}}", "name": f"auditJob{index}", "owner": owners[index % 3],
             "state": "ERROR" if index == 4 else "SUSPENDED", "flags": index % 4, "type": index % 3,
             "creation_time": "2026-11-01T08:00:00Z", "modification_time": "2026-11-20T08:00:00Z",
             **({"error": {"hresult": "0x80200056", "context": "REMOTE_FILE"}} if index == 4 else {})}
            for index in range(AUDIT_JOBS)]
    return {"defaults": {"accounts": {"S-1-5-21-1000-1000-1000-1101": "CORP\\alice"}},
            "hosts": {f"audit{index:04d}": {"jobs": jobs} for index in range(size)}}


class BenchFleet:
    """A started fleet, its inventory, and Ansible run against it."""

    def __init__(self, size: int, work: Path, spec: dict[str, Any] | None = None) -> None:
        self.work = work
        hosts = load_fleet(spec or fleet_spec(size))
        self.server = FleetServer(build_endpoints(hosts, work / "state"))
        self.server.start()
        self.inventory = work / "inventory.ini"
        self.inventory.write_text(inventory_ini(hosts, {h.name: self.server.port_of(h.name) for h in hosts}),
                                  encoding="utf-8")

    def stop(self) -> None:
        self.server.stop()

    def ansible(self, pattern: str, module: str, module_args: str, *extra: str) -> Measured:
        command = [str(BIN / "ansible"), "-i", str(self.inventory), pattern, "-m", module, "-a", module_args,
                   *extra]
        return run_measured(command, self._env())

    def _env(self) -> dict[str, str]:
        return {"PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(self.work),
                "LANG": "C.UTF-8", "ANSIBLE_COLLECTIONS_PATH": f"{collections_root()}:{BENCHMARK_COLLECTIONS}",
                "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_HOME": str(self.work / "ansible_home"),
                "ANSIBLE_LOCAL_TEMP": str(self.work / "local_tmp"), "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_DEPRECATION_WARNINGS": "False", "ANSIBLE_RETRY_FILES_ENABLED": "False"}


def run_measured(command: Sequence[str], env: dict[str, str]) -> Measured:
    """Run a command; its wall time and the CPU of its whole reaped process tree (wait4)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read() if process.stdout else ""
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(wall, usage.ru_utime + usage.ru_stime, process.returncode, output)


def one_host_task(fleet: BenchFleet, module: str, module_args: Iterator[str], runs: int) -> TaskFigures:
    """Ad-hoc runs of one task on one host; fails loudly if a run fails."""
    host = "bench000"
    walls, commands, request_bytes = [], 0, 0
    for run_number in range(runs):
        fleet.server.reset_stats()
        measured = fleet.ansible(host, module, next(module_args))
        if measured.returncode != 0:
            raise SystemExit(f"{module} failed on {host}:\n{measured.output}")
        stats = fleet.server.stats[host]
        walls.append(measured.wall_seconds)
        commands += stats.operations["Command"]
        request_bytes += stats.request_bytes
    return TaskFigures(walls, commands / runs, request_bytes / runs)


def alternating_flags() -> Iterator[str]:
    """Arguments that make every run write: the flags flip between two values."""
    while True:
        yield "job=benchJob flags=local_file,network"
        yield "job=benchJob flags=local_file"


def repeat(args: str) -> Iterator[str]:
    while True:
        yield args


def print_task_figures(runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="winbits-bench-") as tmp:
        fleet = BenchFleet(1, Path(tmp))
        try:
            fleet.ansible("bench000", NOOP_MODULE, "")  # warm-up: compile caches, first imports
            fleet.ansible("bench000", BITS_MODULE, "job=benchJob")
            noop = one_host_task(fleet, NOOP_MODULE, repeat(""), runs)
            bits = one_host_task(fleet, BITS_MODULE, alternating_flags(), runs)
        finally:
            fleet.stop()
    noop_wall, bits_wall = statistics.median(noop.wall_seconds), statistics.median(bits.wall_seconds)
    print(f"One task on one host, median of {runs} ad-hoc runs (ansible start-up included):")
    print(f"  {'module':<32}{'wall s':>8}{'Command ops/task':>18}{'request bytes/task':>20}")
    for name, figures, wall in ((NOOP_MODULE, noop, noop_wall), (BITS_MODULE, bits, bits_wall)):
        print(f"  {name:<32}{wall:>8.3f}{figures.commands_per_task:>18.1f}{figures.request_bytes_per_task:>20,.0f}")
    print(f"  ratio bits_helper_token / no-op: {bits_wall / noop_wall:.2f} "
          f"(+{(bits_wall - noop_wall) * 1000:.0f} ms per task)")


def print_fleet_figures(sizes: Sequence[int], forks: int) -> None:
    print(f"Check-mode runs over whole fleets (-f {forks}):")
    print(f"  {'hosts':>6}{'wall s':>9}{'controller CPU s':>18}{'CPU ms/host':>13}{'Command ops':>13}")
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="winbits-bench-") as tmp:
            fleet = BenchFleet(size, Path(tmp))
            try:
                measured = fleet.ansible("all", BITS_MODULE, "job=benchJob flags=local_file,network",
                                         "--check", "-f", str(forks))
                commands = sum(stats.operations["Command"] for stats in fleet.server.stats.values())
            finally:
                fleet.stop()
        changed = measured.output.count("| CHANGED")
        if measured.returncode != 0 or changed != size:
            raise SystemExit(f"{size}-host run: rc {measured.returncode}, {changed} hosts changed\n"
                             f"{measured.output[-3000:]}")
        print(f"  {size:>6}{measured.wall_seconds:>9.1f}{measured.cpu_seconds:>18.1f}"
              f"{measured.cpu_seconds / size * 1000:>13.0f}{commands:>13}")


def print_audit_figures(size: int, forks: int) -> None:
    """bits_job_info over a whole fleet, against the no-op module over the same fleet."""
    print(f"Audit of {size} hosts x {AUDIT_JOBS} jobs, bits_job_info (all users) against the no-op module (-f {forks}):")
    print(f"  {'module':<32}{'wall s':>9}{'controller CPU s':>18}{'CPU ms/host':>13}{'Command ops/host':>18}")
    figures = {}
    with tempfile.TemporaryDirectory(prefix="winbits-audit-") as tmp:
        fleet = BenchFleet(size, Path(tmp), audit_fleet_spec(size))
        try:
            for module in (NOOP_MODULE, INFO_MODULE):
                fleet.server.reset_stats()
                measured = fleet.ansible("all", module, "", "-f", str(forks))
                commands = sum(stats.operations["Command"] for stats in fleet.server.stats.values())
                ok = measured.output.count("| SUCCESS")
                if measured.returncode != 0 or ok != size:
                    raise SystemExit(f"{module} over {size} hosts: rc {measured.returncode}, {ok} succeeded\n"
                                     f"{measured.output[-3000:]}")
                figures[module] = measured
                print(f"  {module:<32}{measured.wall_seconds:>9.1f}{measured.cpu_seconds:>18.1f}"
                      f"{measured.cpu_seconds / size * 1000:>13.0f}{commands / size:>18.2f}")
        finally:
            fleet.stop()
    noop, info = figures[NOOP_MODULE], figures[INFO_MODULE]
    print(f"  audit fleet ratio bits_job_info / no-op: wall {info.wall_seconds / noop.wall_seconds:.2f}, "
          f"controller CPU {info.cpu_seconds / noop.cpu_seconds:.2f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5, help="ad-hoc runs per module on one host")
    parser.add_argument("--sizes", default="50,200", help="fleet sizes for the check-mode runs")
    parser.add_argument("--forks", type=int, default=20)
    parser.add_argument("--audit", type=int, default=0, metavar="HOSTS",
                        help="also audit a fleet of HOSTS hosts with bits_job_info against the no-op module")
    parser.add_argument("--skip-task", action="store_true", help="skip the one-host and check-mode figures")
    args = parser.parse_args(argv)
    print(f"ansible-core from {BIN}, {os.cpu_count()} cores")
    if not args.skip_task:
        print_task_figures(args.runs)
        print_fleet_figures([int(size) for size in args.sizes.split(",")], args.forks)
    if args.audit:
        print_audit_figures(args.audit, args.forks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
