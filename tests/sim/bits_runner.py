"""Run one module execution on a simulated host: the real C# core under Mono against the fake BITS.

The host's state (OS build, BITS version, BITS faults, jobs) lives in one JSON file per host. A run
locks that file (flock on a side file, so concurrent tasks on one host queue up, across threads and
processes), builds a SimHost.exe request from it, starts Mono, and writes the new state back
atomically (temp file + rename) only when it changed, so a run that writes nothing, like check mode,
leaves the file byte-identical.

SimHost.exe is compiled from tests/sim/SimHost.cs, tests/csharp/FakeBits.cs and the collection's C#
utils that Ansible *sent* for the module (BitsCom.cs plus BitsHelperToken.cs or BitsJobInfo.cs, as
Windows compiles what it receives), cached per distinct set of sources.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime
import fcntl
import hashlib
import json
import os
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator, Mapping

from tests.support.mono import compile_cs
from tests.support.paths import BUILD, REPO

SIM_HOST_CS = REPO / "tests" / "sim" / "SimHost.cs"
FAKE_BITS_CS = REPO / "tests" / "csharp" / "FakeBits.cs"
JOB_STATES = ("QUEUED", "CONNECTING", "TRANSFERRING", "SUSPENDED", "ERROR", "TRANSIENT_ERROR",
              "TRANSFERRED", "ACKNOWLEDGED", "CANCELLED")
FLAG_BITS = {"local_file": 0x1, "network": 0x2}
JOB_TYPES = ("DOWNLOAD", "UPLOAD", "UPLOAD_REPLY")
ERROR_CONTEXTS = ("NONE", "UNKNOWN", "GENERAL_QUEUE_MANAGER", "QUEUE_MANAGER_NOTIFICATION", "LOCAL_FILE",
                  "REMOTE_FILE", "GENERAL_TRANSPORT", "REMOTE_APPLICATION")
# Each module's core util and the symbol SimHost.cs compiles its call under (only what was sent is there).
MODULE_CORES = {"bits_helper_token": ("BitsHelperToken", "HELPER_TOKEN"), "bits_job_info": ("BitsJobInfo", "JOB_INFO")}
# Well-known accounts every Windows host resolves.
WELL_KNOWN_ACCOUNTS = {"S-1-5-18": "NT AUTHORITY\\SYSTEM", "S-1-5-19": "NT AUTHORITY\\LOCAL SERVICE",
                       "S-1-5-20": "NT AUTHORITY\\NETWORK SERVICE"}
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


def named_number(value: Any, names: tuple[str, ...], what: str, prefix: str = "") -> int:
    """An enum value given as a name (any case, optional prefix) or a number in range."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(names):
        return value
    name = str(value).upper().removeprefix(prefix)
    if name not in names:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(names)} or 0-{len(names) - 1}")
    return names.index(name)


def iso_utc(value: Any) -> str | None:
    """A fleet-file time (YAML may hand over a datetime or a string) as ISO 8601 UTC with a Z."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime.datetime):
        raise ValueError(f"not a time: {value!r}; expected e.g. 2026-11-20T08:15:00Z")
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def hresult(value: Any) -> int:
    """An HRESULT given as a number or a hex string, as the signed 32-bit value .NET uses."""
    number = int(value, 0) if isinstance(value, str) else int(value)
    return number - (1 << 32) if number >= 1 << 31 else number


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
                      "client_certificate": bool(job.get("client_certificate", False)),
                      "type": JOB_TYPES[named_number(job.get("type", 0), JOB_TYPES, "job type", "BG_JOB_TYPE_")],
                      "creation_time": iso_utc(job.get("creation_time")),
                      "modification_time": iso_utc(job.get("modification_time"))})
    if job.get("error") is not None:
        canonical["error"] = _canonical_job_error(job["error"])
    return canonical


def _canonical_job_error(error: Mapping[str, Any]) -> dict[str, Any]:
    """A job's error (``{hresult, context, description}``) with the HRESULT as 0x%08X and a context name."""
    code = hresult(error["hresult"]) & 0xFFFFFFFF
    context = ERROR_CONTEXTS[named_number(error.get("context", 0), ERROR_CONTEXTS, "error context",
                                          "BG_ERROR_CONTEXT_")]
    return {"hresult": f"0x{code:08X}", "context": context, "description": error.get("description")}


def build_sim_host(utils: Mapping[str, str]) -> Path:
    """Compile SimHost.exe against the collection's C# utils that were sent (cached per set of sources).

    utils maps a util's short name (``BitsCom``, ``BitsHelperToken``...) to its source; each module's
    call in SimHost.cs is compiled only when that module's core is among them.
    """
    digest = hashlib.sha256(json.dumps(dict(utils), sort_keys=True).encode("utf-8")).hexdigest()[:16]
    source_dir = BUILD / "sim"
    source_dir.mkdir(parents=True, exist_ok=True)
    defines = [f"-define:{symbol}" for core, symbol in MODULE_CORES.values() if core in utils]
    with _compile_lock, _file_lock(source_dir / "compile.lock"):
        files = []
        for name, source in sorted(utils.items()):
            util_file = source_dir / f"{name}-{hashlib.sha256(source.encode('utf-8')).hexdigest()[:16]}.cs"
            if not util_file.exists():
                util_file.write_text(source, encoding="utf-8")
            files.append(util_file)
        return compile_cs([SIM_HOST_CS, FAKE_BITS_CS, *files], f"SimHost-{digest}",
                          references=["System.Web.Extensions.dll"], extra_flags=defines)


def run_module(state_path: Path, caller: Caller, run: ModuleRun, utils: Mapping[str, str],
               module: str = "bits_helper_token", faults: frozenset[str] = frozenset(),
               timeout: float = 60) -> RunOutcome:
    """Run a module's core once on the host whose state is at state_path, and persist what it changed.

    module is the short name (bits_helper_token, bits_job_info); utils the C# utils sent for it.
    faults (service_disabled, concurrent_change) come from the fleet file and apply on top of the
    state file's own switches of the same names, without being written to it.
    """
    if module not in MODULE_CORES:
        raise SimHostError(f"the simulated host has no core for module {module!r}")
    if MODULE_CORES[module][0] not in utils:
        raise SimHostError(f"the core of {module} was not sent (utils sent: {', '.join(sorted(utils)) or 'none'})")
    exe = build_sim_host(utils)
    with host_lock(state_path):
        state = read_state(state_path)
        request = {"module": module, "host": _wire_host(state, faults), "caller": dataclasses.asdict(caller),
                   "params": run.params, "check_mode": run.check_mode, "invocation": run.invocation}
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
                     "concurrent_flags": flags_value(job.get("concurrent_flags", flags)),
                     **_wire_job_facts(job)})
    return {"os_build": int(state["os_build"]), "bits_major": major, "bits_minor": minor,
            "service_disabled": bool(state.get("service_disabled", False)) or "service_disabled" in faults,
            "refuse_network_logon": bool(state.get("refuse_network_logon", False)),
            "accounts": {**WELL_KNOWN_ACCOUNTS, **(state.get("accounts") or {})}, "jobs": jobs}


def _wire_job_facts(job: Mapping[str, Any]) -> dict[str, Any]:
    """What bits_job_info reads besides the flags: type, times, the job's error, per-call faults."""
    error = job.get("error")
    return {"type": named_number(job.get("type", 0), JOB_TYPES, "job type", "BG_JOB_TYPE_"),
            "creation_time": job.get("creation_time"), "modification_time": job.get("modification_time"),
            "error_code": hresult(error["hresult"]) if error else None,
            "error_context": ERROR_CONTEXTS.index(error["context"]) if error else 0,
            "error_description": error.get("description") if error else None,
            # Fault injection: a job method's name -> the HRESULT it fails with (e.g. access denied on
            # GetHelperTokenFlags for an audit that cannot read one job).
            "faults": {call: hresult(code) for call, code in (job.get("faults") or {}).items()}}


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
