"""Run one module execution on a simulated host: the real C# core under Mono against the fake BITS.

The host's state (OS build, BITS version, BITS faults, jobs) lives in one JSON file per host. A run
locks that file (flock on a side file, so concurrent tasks on one host queue up, across threads and
processes), builds a SimHost.exe request from it, starts Mono, and writes the new state back
atomically (temp file + rename) only when it changed, so a run that writes nothing, like check mode,
leaves the file byte-identical.

SimHost.exe is compiled from tests/sim/SimHost.cs, tests/csharp/FakeBits.cs and the BitsHelperToken.cs
that Ansible *sent* (as Windows compiles what it receives), cached per distinct source.
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator

from tests.support.mono import compile_cs
from tests.support.paths import BUILD, REPO

SIM_HOST_CS = REPO / "tests" / "sim" / "SimHost.cs"
FAKE_BITS_CS = REPO / "tests" / "csharp" / "FakeBits.cs"
JOB_STATES = ("QUEUED", "CONNECTING", "TRANSFERRING", "SUSPENDED", "ERROR", "TRANSIENT_ERROR",
              "TRANSFERRED", "ACKNOWLEDGED", "CANCELLED")
FLAG_BITS = {"local_file": 0x1, "network": 0x2}
_compile_lock = threading.Lock()


class SimHostError(RuntimeError):
    """SimHost.exe did not produce an envelope: a bug in the simulator, not a module result."""


@dataclasses.dataclass(frozen=True)
class Caller:
    """Who the module runs as: the WinRM user, or the become user."""
    sid: str
    is_admin: bool
    network_logon: bool


@dataclasses.dataclass(frozen=True)
class ModuleRun:
    params: dict[str, Any]          # validated AnsibleModule.Params
    check_mode: bool
    invocation: str | None = None   # "constructor" (Ansible.Basic < 2.19), "exit" (injected), None


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    stdout: str                     # the module's JSON line, as Ansible.Basic printed it
    exit_code: int
    set_calls: int                  # SetHelperTokenFlags calls that reached the fake


def state_number(value: Any) -> int:
    """A BG_JOB_STATE given as a name (with or without BG_JOB_STATE_) or a number."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(JOB_STATES):
        return value
    name = str(value).upper().removeprefix("BG_JOB_STATE_")
    if name not in JOB_STATES:
        raise ValueError(f"unknown job state {value!r}; expected one of {', '.join(JOB_STATES)} or 0-8")
    return JOB_STATES.index(name)


def flags_value(value: Any) -> int:
    """Helper-token flags given as a number or a list of names (local_file, network, BG_TOKEN_*)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if value is None:
        return 0
    total = 0
    for name in value:
        key = str(name).lower().removeprefix("bg_token_")
        if key not in FLAG_BITS:
            raise ValueError(f"unknown helper-token flag {name!r}; expected local_file or network")
        total |= FLAG_BITS[key]
    return total


def flag_names(value: int) -> list[str]:
    return [name for name, bit in FLAG_BITS.items() if value & bit]


def read_state(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Write a host's state atomically, in a stable form (same state, same bytes)."""
    text = json.dumps(state, indent=2, sort_keys=True) + "\n"
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False,
                                     encoding="utf-8") as handle:
        handle.write(text)
        temp = Path(handle.name)
    os.replace(temp, path)


def host_lock(path: Path) -> contextlib.AbstractContextManager[None]:
    """Serialise module runs on one host (flock: each open() is its own lock, so threads queue too)."""
    return _file_lock(path.with_name(path.name + ".lock"))


def canonical_job(job: dict[str, Any]) -> dict[str, Any]:
    """A fleet-file job in the state file's form: GUID upper-case in braces, state and flags as names."""
    canonical = dict(job)
    guid = str(job["id"]).strip("{}").upper()
    canonical.update({"id": "{" + guid + "}", "state": JOB_STATES[state_number(job.get("state", 3))],
                      "flags": flag_names(flags_value(job.get("flags"))),
                      "helper_token_sid": job.get("helper_token_sid"),
                      "helper_token_admin": bool(job.get("helper_token_admin", False)),
                      "client_certificate": bool(job.get("client_certificate", False))})
    return canonical


def build_sim_host(core_source: str) -> Path:
    """Compile SimHost.exe against this BitsHelperToken.cs source (cached per source)."""
    digest = hashlib.sha256(core_source.encode("utf-8")).hexdigest()[:16]
    source_dir = BUILD / "sim"
    source_dir.mkdir(parents=True, exist_ok=True)
    core_file = source_dir / f"BitsHelperToken-{digest}.cs"
    with _compile_lock, _file_lock(source_dir / "compile.lock"):
        if not core_file.exists() or core_file.read_text(encoding="utf-8") != core_source:
            core_file.write_text(core_source, encoding="utf-8")
        return compile_cs([SIM_HOST_CS, FAKE_BITS_CS, core_file], f"SimHost-{digest}",
                          references=["System.Web.Extensions.dll"])


def run_module(state_path: Path, caller: Caller, run: ModuleRun, core_source: str,
               faults: frozenset[str] = frozenset(), timeout: float = 60) -> RunOutcome:
    """Run the core once on the host whose state is at state_path, and persist what it changed.

    faults (service_disabled, concurrent_change) come from the fleet file and apply on top of the
    state file's own switches of the same names, without being written to it.
    """
    exe = build_sim_host(core_source)
    with host_lock(state_path):
        state = read_state(state_path)
        request = {"host": _wire_host(state, faults), "caller": dataclasses.asdict(caller), "params": run.params,
                   "check_mode": run.check_mode, "invocation": run.invocation}
        envelope = _run_sim_host(exe, request, timeout)
        new_state = _merge_jobs(state, envelope["host"]["jobs"])
        if new_state != state:
            write_state(state_path, new_state)
    return RunOutcome(stdout=envelope["stdout"], exit_code=int(envelope["exit_code"]),
                      set_calls=int(envelope["host"]["set_calls"]))


def _run_sim_host(exe: Path, request: dict[str, Any], timeout: float) -> dict[str, Any]:
    done = subprocess.run(["mono", "--debug", str(exe)], input=json.dumps(request), capture_output=True,
                          text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise SimHostError(f"SimHost.exe exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    try:
        return json.loads(done.stdout)
    except ValueError as error:
        raise SimHostError(f"SimHost.exe printed no JSON envelope ({error}): {done.stdout[:500]!r}")


def _major_minor(version: object) -> tuple[int, int]:
    """A BITS version as the state file writes it ("10", "5.0", 10.1) -> (major, minor)."""
    major, minor = str(version).partition(".")[::2]
    return int(major), int(minor or 0)


def _wire_host(state: dict[str, Any], faults: frozenset[str]) -> dict[str, Any]:
    major, minor = _major_minor(state["bits_version"])
    concurrent = bool(state.get("concurrent_change", False)) or "concurrent_change" in faults
    jobs = []
    for job in state["jobs"]:
        flags = flags_value(job["flags"])
        jobs.append({"id": job["id"], "name": job["name"], "owner": job["owner"],
                     "state": state_number(job["state"]), "flags": flags,
                     "helper_token_sid": job.get("helper_token_sid"),
                     "helper_token_admin": bool(job.get("helper_token_admin", False)),
                     "client_certificate": bool(job.get("client_certificate", False)),
                     # The concurrent_change fault: right after our write, someone else writes the
                     # job's concurrent_flags (default: puts back the flags it had before).
                     "concurrent_change": concurrent,
                     "concurrent_flags": flags_value(job.get("concurrent_flags", flags))})
    return {"os_build": int(state["os_build"]), "bits_major": major, "bits_minor": minor,
            "service_disabled": bool(state.get("service_disabled", False)) or "service_disabled" in faults,
            "refuse_network_logon": bool(state.get("refuse_network_logon", False)), "jobs": jobs}


def _merge_jobs(state: dict[str, Any], wire_jobs: list[dict[str, Any]]) -> dict[str, Any]:
    """The state with the jobs as the fake left them (names for states and flags, other keys kept)."""
    previous = {job["id"].upper(): job for job in state["jobs"]}
    jobs = []
    for wire in wire_jobs:
        job = dict(previous.get(wire["id"].upper(), {}))
        job.update({"id": wire["id"], "name": wire["name"], "owner": wire["owner"],
                    "state": JOB_STATES[wire["state"]], "flags": flag_names(int(wire["flags"])),
                    "helper_token_sid": wire["helper_token_sid"],
                    "helper_token_admin": wire["helper_token_admin"],
                    "client_certificate": wire["client_certificate"]})
        jobs.append(job)
    return {**state, "jobs": jobs}


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
