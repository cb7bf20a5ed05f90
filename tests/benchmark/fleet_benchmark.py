"""Benchmark: the modules through Ansible's real WinRM path, against the simulated fleet.

    .venv/bin/python -m tests.benchmark.fleet_benchmark [--runs 5] [--sizes 50,200] [--forks 20] [--audit 1000]

Prints, from one run:
1. the wall time of one task on one host, for bits_helper_token (a real write each run) and
   bits_job_info, each against the no-op Ansible.Basic module through the same path, as medians of
   ``--runs`` ad-hoc runs taken in turns (no-op, helper token, job info, no-op...), and the ratios;
2. WS-Man Command operations per task (the design says one) and request bytes per task, per module:
   the payload grows by the C# each module sends;
3. check-mode runs over fleets of ``--sizes`` hosts, each module against the no-op over the same
   fleet: the wall time and the controller CPU (user + system of ansible and its forks), and the
   ratios;
4. with ``--audit N``: an audit of N hosts with five jobs each (bits_job_info, all users), side by
   side with the no-op module over the same fleet: wall, controller CPU per host, Command operations
   per host, and the ratios.
The simulated hosts run in this process, each command answered by the fleet's warm SimHost runner
(the no-op too), so that Mono's start-up is not in the figures; their CPU (the server threads and
the Mono runs of the C# core) is not counted as the controller's.
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


def one_host_tasks(fleet: BenchFleet, modules: dict[str, Iterator[str]], runs: int) -> dict[str, TaskFigures]:
    """Ad-hoc runs of one task on one host, the modules taking turns (so that a slow spell of the
    machine does not fall on one module only); fails loudly if a run fails."""
    host = "bench000"
    figures = {module: TaskFigures([], 0, 0) for module in modules}
    for _run in range(runs):
        for module, module_args in modules.items():
            fleet.server.reset_stats()
            measured = fleet.ansible(host, module, next(module_args))
            if measured.returncode != 0:
                raise SystemExit(f"{module} failed on {host}:\n{measured.output}")
            stats = fleet.server.stats[host]
            figures[module].wall_seconds.append(measured.wall_seconds)
            figures[module].commands_per_task += stats.operations["Command"] / runs
            figures[module].request_bytes_per_task += stats.request_bytes / runs
    return figures


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
            warm_up(fleet, "bench000")
            figures = one_host_tasks(fleet, {NOOP_MODULE: repeat(""), BITS_MODULE: alternating_flags(),
                                             INFO_MODULE: repeat("")}, runs)
        finally:
            fleet.stop()
    walls = {module: statistics.median(figure.wall_seconds) for module, figure in figures.items()}
    noop = figures[NOOP_MODULE]
    print(f"One task on one host, median of {runs} ad-hoc runs (ansible start-up included):")
    print(f"  {'module':<32}{'wall s':>8}{'Command ops/task':>18}{'request bytes/task':>20}{'vs no-op':>11}")
    for module, figure in figures.items():
        extra = figure.request_bytes_per_task - noop.request_bytes_per_task
        print(f"  {module:<32}{walls[module]:>8.3f}{figure.commands_per_task:>18.1f}"
              f"{figure.request_bytes_per_task:>20,.0f}{extra:>+11,.0f}")
    for module in (BITS_MODULE, INFO_MODULE):
        short = module.rsplit(".", 1)[-1]
        print(f"  ratio {short} / no-op: {walls[module] / walls[NOOP_MODULE]:.2f} "
              f"(+{(walls[module] - walls[NOOP_MODULE]) * 1000:.0f} ms per task)")


def warm_up(fleet: BenchFleet, pattern: str, forks: int = 1) -> None:
    """One run of each module first: Ansible's caches, and the fleet's warm SimHost processes (JIT)."""
    for module, module_args in ((NOOP_MODULE, ""), (BITS_MODULE, "job=benchJob"), (INFO_MODULE, "")):
        measured = fleet.ansible(pattern, module, module_args, "-f", str(forks))
        if measured.returncode != 0:
            raise SystemExit(f"warm-up {module} on {pattern} failed:\n{measured.output[-3000:]}")


def print_fleet_figures(sizes: Sequence[int], forks: int) -> None:
    """Check mode over whole fleets: each module against the no-op over the same fleet."""
    modules = ((NOOP_MODULE, ""), (BITS_MODULE, "job=benchJob flags=local_file,network"), (INFO_MODULE, ""))
    print(f"Check-mode runs over whole fleets (-f {forks}):")
    print(f"  {'hosts':>6}  {'module':<32}{'wall s':>9}{'controller CPU s':>18}{'CPU ms/host':>13}{'Command ops':>13}")
    for size in sizes:
        measured: dict[str, Measured] = {}
        with tempfile.TemporaryDirectory(prefix="winbits-bench-") as tmp:
            fleet = BenchFleet(size, Path(tmp))
            try:
                warm_up(fleet, "bench000:bench001", forks=2)
                for module, module_args in modules:
                    fleet.server.reset_stats()
                    measured[module] = fleet_run(fleet, size, module, module_args, forks)
                    commands = sum(stats.operations["Command"] for stats in fleet.server.stats.values())
                    run = measured[module]
                    print(f"  {size:>6}  {module:<32}{run.wall_seconds:>9.1f}{run.cpu_seconds:>18.1f}"
                          f"{run.cpu_seconds / size * 1000:>13.0f}{commands:>13}")
            finally:
                fleet.stop()
        noop = measured[NOOP_MODULE]
        for module in (BITS_MODULE, INFO_MODULE):
            print(f"  {size}-host fleet ratio {module.rsplit('.', 1)[-1]} / no-op: "
                  f"wall {measured[module].wall_seconds / noop.wall_seconds:.2f}, "
                  f"controller CPU {measured[module].cpu_seconds / noop.cpu_seconds:.2f}")


def fleet_run(fleet: BenchFleet, size: int, module: str, module_args: str, forks: int) -> Measured:
    """One check-mode run over the whole fleet; every host must answer as the module should."""
    measured = fleet.ansible("all", module, module_args, "--check", "-f", str(forks))
    expected = "| CHANGED" if module == BITS_MODULE else "| SUCCESS"
    answered = measured.output.count(expected)
    if measured.returncode != 0 or answered != size:
        raise SystemExit(f"{module} over {size} hosts: rc {measured.returncode}, {answered} hosts {expected[2:]}\n"
                         f"{measured.output[-3000:]}")
    return measured


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
