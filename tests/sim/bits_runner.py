"""Run one module execution on a simulated host: the real C# core under Mono against the fake BITS.

The host's state (OS build, BITS version, BITS faults, jobs) lives in one JSON file per host. A run
locks that file (flock on a side file, so concurrent tasks on one host queue up, across threads and
processes), builds a SimHost.exe request from it, hands it to a runner, and writes the new state back
atomically (temp file + rename) only when it changed, so a run that writes nothing, like check mode,
leaves the file byte-identical.

SimHost.exe is compiled from tests/sim/SimHost.cs, tests/csharp/FakeBits.cs and the collection's C#
utils that Ansible *sent* for the module (BitsCom.cs plus BitsHelperToken.cs or BitsJobInfo.cs, as
Windows compiles what it receives; nothing for the benchmark's no-op module), cached per distinct set
of sources. The runner is either one Mono start per request (``OneShotRunner``) or a fleet's
``SimHostPool``: a few long-lived ``SimHost.exe --serve`` processes per build, so that a command costs
what the module costs rather than a Mono start-up. Every request carries the whole host, and SimHost
builds a fresh fake BITS from it, so a warm process keeps nothing of one request for the next.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime
import fcntl
import hashlib
import json
import os
import select
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any, Iterator, Mapping, Protocol

from tests.sim.languages import DEFAULT_LANGUAGE, canonical_language, message_langids, well_known_names
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
KNOWN_FLAGS = 0x3
_compile_lock = threading.Lock()
# Warm processes per build: enough to keep both cores of a small machine busy, few enough that three
# builds (two modules and the no-op) stay cheap.
DEFAULT_POOL_SIZE = max(1, min(4, os.cpu_count() or 1))


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
    """Helper-token flags given as a number or a list of names (local_file, network, BG_TOKEN_*) and, for
    bits a later BITS may define, numbers or hex strings ("0x0004")."""
    if isinstance(value, int) and not isinstance(value, bool):
        return _dword(value)
    if value is None:
        return 0
    total = 0
    for name in value:
        total |= _flag_bit(name)
    return total


def _flag_bit(name: Any) -> int:
    if isinstance(name, int) and not isinstance(name, bool):
        return _dword(name)
    key = str(name).lower().removeprefix("bg_token_")
    if key in FLAG_BITS:
        return FLAG_BITS[key]
    if key.startswith("0x"):
        try:
            return _dword(int(key, 16))
        except ValueError:
            pass
    raise ValueError(f"unknown helper-token flag {name!r}; expected local_file, network or a bit as 0x0004")


def _dword(value: int) -> int:
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"helper-token flags {value!r} are not a DWORD")
    return value


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
    """The flags as the state file keeps them: names, then each bit beyond them as 0x%04X."""
    names = [name for name, bit in FLAG_BITS.items() if value & bit]
    return names + ["0x%04X" % (1 << bit) for bit in range(32) if value & ~KNOWN_FLAGS & (1 << bit)]


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
    call in SimHost.cs is compiled only when that module's core is among them, the fake BITS only when
    BitsCom is (the no-op module sends no util).
    """
    digest = utils_digest(utils)
    source_dir = BUILD / "sim"
    source_dir.mkdir(parents=True, exist_ok=True)
    defines = [f"-define:{symbol}" for core, symbol in MODULE_CORES.values() if core in utils]
    with_bits = "BitsCom" in utils
    if with_bits:
        defines.append("-define:BITS_COM")
    with _compile_lock, _file_lock(source_dir / "compile.lock"):
        files = []
        for name, source in sorted(utils.items()):
            util_file = source_dir / f"{name}-{hashlib.sha256(source.encode('utf-8')).hexdigest()[:16]}.cs"
            if not util_file.exists():
                util_file.write_text(source, encoding="utf-8")
            files.append(util_file)
        sources = [SIM_HOST_CS, *([FAKE_BITS_CS] if with_bits else []), *files]
        return compile_cs(sources, f"SimHost-{digest}", references=["System.Web.Extensions.dll"],
                          extra_flags=defines)


def utils_digest(utils: Mapping[str, str]) -> str:
    """Which SimHost build a set of sent utils needs."""
    return hashlib.sha256(json.dumps(dict(utils), sort_keys=True).encode("utf-8")).hexdigest()[:16]


class Runner(Protocol):
    """Answers one SimHost request (a dict) with its envelope, on the build for the utils sent."""

    def request(self, utils: Mapping[str, str], request: dict[str, Any], timeout: float) -> dict[str, Any]: ...


class OneShotRunner:
    """One ``mono SimHost.exe`` per request (about 0.1 s of Mono start-up each): simple, nothing to close."""

    def request(self, utils: Mapping[str, str], request: dict[str, Any], timeout: float) -> dict[str, Any]:
        exe = build_sim_host(utils)
        done = subprocess.run(["mono", "--debug", str(exe)], input=json.dumps(request), capture_output=True,
                              text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise SimHostError(f"SimHost.exe exited {done.returncode}: {done.stderr.strip()[-2000:]}")
        return _envelope(done.stdout)


class SimHostPool:
    """Warm ``SimHost.exe --serve`` processes, up to ``size`` per build, shared by the hosts of a fleet.

    Thread-safe: a request takes an idle process of its build (or starts one while there are fewer
    than ``size``, or waits), and gives it back after its answer. A process that died or answered
    nothing is discarded and the request is tried once more on a fresh one (the request carries the
    whole host, so a retry is safe); a process that timed out is ended and the request fails.
    close() ends every process, and the pool takes no request after it.
    """

    def __init__(self, size: int = DEFAULT_POOL_SIZE) -> None:
        if size < 1:
            raise ValueError(f"SimHostPool size must be at least 1, not {size}")
        self.size = size
        self._lock = threading.Condition()
        self._closed = False
        self._exes: dict[str, Path] = {}                     # utils digest -> its build
        self._idle: dict[Path, list[_ServerProcess]] = {}
        self._started: dict[Path, int] = {}                 # per build: processes idle or lent out
        self._lent: set[_ServerProcess] = set()

    def request(self, utils: Mapping[str, str], request: dict[str, Any], timeout: float) -> dict[str, Any]:
        exe = self._exe_for(utils)
        line = json.dumps(request).encode("ascii") + b"\n"   # ensure_ascii: one line, no encoding question
        for attempt in (1, 2):
            process = self._take(exe)
            try:
                answer = process.exchange(line, timeout)
            except SimHostError as error:
                self._discard(exe, process)
                if attempt == 2 or isinstance(error, SimHostTimeout):
                    raise
                continue
            self._give_back(exe, process)
            return _envelope(answer.decode("utf-8"))
        raise AssertionError("unreachable")

    def close(self, grace: float = 10) -> None:
        """End every process: idle ones now, lent ones when their answer comes (or after grace seconds)."""
        with self._lock:
            self._closed = True
            idle = [process for processes in self._idle.values() for process in processes]
            self._idle.clear()
            self._lock.notify_all()
        for process in idle:
            process.close()
        with self._lock:
            self._lock.wait_for(lambda: not self._lent, timeout=grace)
            stuck = list(self._lent)
        for process in stuck:
            process.kill()      # its borrower sees the end of its output and discards it

    def pids(self) -> list[int]:
        """The process ids of the pool's processes (for tests that look for leaks)."""
        with self._lock:
            processes = [process for idle in self._idle.values() for process in idle] + list(self._lent)
        return sorted(process.pid for process in processes)

    def _exe_for(self, utils: Mapping[str, str]) -> Path:
        digest = utils_digest(utils)
        with self._lock:
            exe = self._exes.get(digest)
        if exe is None:
            exe = build_sim_host(utils)
            with self._lock:
                self._exes[digest] = exe
        return exe

    def _take(self, exe: Path) -> _ServerProcess:
        with self._lock:
            while True:
                if self._closed:
                    raise SimHostError("the fleet's SimHost pool is closed: the fleet has stopped")
                idle = self._idle.setdefault(exe, [])
                while idle:
                    process = idle.pop()
                    if process.alive():
                        self._lent.add(process)
                        return process
                    self._started[exe] -= 1          # died while idle: a new one is started below
                    process.close()
                if self._started.get(exe, 0) < self.size:
                    self._started[exe] = self._started.get(exe, 0) + 1
                    break
                self._lock.wait()
        try:
            process = _ServerProcess(exe)
        except BaseException:
            with self._lock:
                self._started[exe] -= 1
                self._lock.notify_all()
            raise
        with self._lock:
            self._lent.add(process)
        return process

    def _give_back(self, exe: Path, process: _ServerProcess) -> None:
        with self._lock:
            self._lent.discard(process)
            closed = self._closed
            if not closed:
                self._idle.setdefault(exe, []).append(process)
            self._lock.notify_all()
        if closed:
            process.close()

    def _discard(self, exe: Path, process: _ServerProcess) -> None:
        process.close()
        with self._lock:
            self._lent.discard(process)
            self._started[exe] -= 1
            self._lock.notify_all()


class SimHostTimeout(SimHostError):
    """SimHost.exe did not answer in time (the process is ended, the request is not retried)."""


class _ServerProcess:
    """One ``mono SimHost.exe --serve``: a request line in, an envelope line out."""

    def __init__(self, exe: Path) -> None:
        # stderr to a file, not a pipe nobody reads: a chatty Mono could otherwise fill it and hang.
        self._stderr: IO[bytes] = tempfile.TemporaryFile(prefix="simhost-stderr-")
        self._process = subprocess.Popen(["mono", "--debug", str(exe), "--serve"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=self._stderr)
        self.pid = self._process.pid

    def alive(self) -> bool:
        return self._process.poll() is None

    def exchange(self, line: bytes, timeout: float) -> bytes:
        """Send one request line, return the answer line (without its newline)."""
        assert self._process.stdin is not None and self._process.stdout is not None
        try:
            self._process.stdin.write(line)
            self._process.stdin.flush()
        except OSError as error:
            raise SimHostError(f"SimHost.exe (pid {self.pid}) took no request ({error}){self._stderr_tail()}")
        return self._read_line(self._process.stdout.fileno(), time.monotonic() + timeout)

    def _read_line(self, fd: int, deadline: float) -> bytes:
        # poll, not select: a fleet of a thousand hosts holds more than FD_SETSIZE (1024) descriptors,
        # and select() refuses any descriptor numbered above that.
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        chunks: list[bytes] = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(remaining * 1000):
                raise SimHostTimeout(f"SimHost.exe (pid {self.pid}) did not answer in time{self._stderr_tail()}")
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise SimHostError(f"SimHost.exe (pid {self.pid}) exited without an answer "
                                   f"(exit code {self._process.wait()}){self._stderr_tail()}")
            # One request at a time per process: the answer is everything up to the first newline.
            if b"\n" in chunk:
                chunks.append(chunk[:chunk.index(b"\n")])
                return b"".join(chunks)
            chunks.append(chunk)

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self._process.kill()

    def close(self) -> None:
        """Close stdin (server mode exits at its end), then insist."""
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._stderr.close()

    def _stderr_tail(self) -> str:
        with contextlib.suppress(OSError, ValueError):
            self._stderr.seek(0)
            text = self._stderr.read().decode("utf-8", "replace").strip()
            if text:
                return f": {text[-2000:]}"
        return ""


def run_module(state_path: Path, caller: Caller, run: ModuleRun, utils: Mapping[str, str],
               module: str = "bits_helper_token", faults: frozenset[str] = frozenset(),
               timeout: float = 60, runner: Runner | None = None) -> RunOutcome:
    """Run a module's core once on the host whose state is at state_path, and persist what it changed.

    module is the short name (bits_helper_token, bits_job_info); utils the C# utils sent for it.
    faults (service_disabled, concurrent_change) come from the fleet file and apply on top of the
    state file's own switches of the same names, without being written to it. runner: a fleet's
    SimHostPool; none starts Mono for this one request.
    """
    if module not in MODULE_CORES:
        raise SimHostError(f"the simulated host has no core for module {module!r}")
    if MODULE_CORES[module][0] not in utils:
        raise SimHostError(f"the core of {module} was not sent (utils sent: {', '.join(sorted(utils)) or 'none'})")
    runner = runner or OneShotRunner()
    with host_lock(state_path):
        state = read_state(state_path)
        request = {"kind": "module", "module": module, "host": _wire_host(state, faults),
                   "caller": dataclasses.asdict(caller), "params": run.params, "check_mode": run.check_mode,
                   "invocation": run.invocation}
        envelope = runner.request(utils, request, timeout)
        new_state = _merge_jobs(state, envelope["host"]["jobs"])
        if new_state != state:
            write_state(state_path, new_state)
    return RunOutcome(stdout=envelope["stdout"], exit_code=int(envelope["exit_code"]),
                      set_calls=int(envelope["host"]["set_calls"]))


def run_noop(run: ModuleRun, utils: Mapping[str, str], timeout: float = 60,
             runner: Runner | None = None) -> RunOutcome:
    """The benchmark's no-op module: Ansible.Basic's Create() then ExitJson(), through the same runner.

    It touches no BITS, so it reads no host state and takes no lock.
    """
    request = {"kind": "noop", "params": run.params, "check_mode": run.check_mode, "invocation": run.invocation}
    envelope = (runner or OneShotRunner()).request(utils, request, timeout)
    return RunOutcome(stdout=envelope["stdout"], exit_code=int(envelope["exit_code"]), set_calls=0)


def _envelope(text: str) -> dict[str, Any]:
    try:
        envelope = json.loads(text)
    except ValueError as error:
        raise SimHostError(f"SimHost.exe printed no JSON envelope ({error}): {text[:500]!r}")
    if "error" in envelope:
        raise SimHostError(f"SimHost.exe could not handle the request: {envelope['error'][-2000:]}")
    return envelope


def _major_minor(version: object) -> tuple[int, int]:
    """A BITS version as the state file writes it ("10", "5.0", 10.1) -> (major, minor)."""
    major, minor = str(version).partition(".")[::2]
    return int(major), int(minor or 0)


def _wire_host(state: dict[str, Any], faults: frozenset[str]) -> dict[str, Any]:
    major, minor = _major_minor(state["bits_version"])
    concurrent = bool(state.get("concurrent_change", False)) or "concurrent_change" in faults
    administrators = {sid.upper() for sid in state.get("administrators") or ()}
    jobs = []
    for job in state["jobs"]:
        flags = flags_value(job["flags"])
        jobs.append({"id": job["id"], "name": job["name"], "owner": job["owner"],
                     "owner_admin": bool(job.get("owner_admin", job["owner"].upper() in administrators)),
                     "state": state_number(job["state"]), "flags": flags,
                     "helper_token_sid": job.get("helper_token_sid"),
                     "helper_token_admin": bool(job.get("helper_token_admin", False)),
                     "client_certificate": bool(job.get("client_certificate", False)),
                     # The concurrent_change fault: right after our write, someone else writes the
                     # job's concurrent_flags (default: puts back the flags it had before).
                     "concurrent_change": concurrent,
                     "concurrent_flags": flags_value(job.get("concurrent_flags", flags)),
                     **_wire_job_facts(job)})
    language = canonical_language(state.get("language", DEFAULT_LANGUAGE))
    return {"os_build": int(state["os_build"]), "bits_major": major, "bits_minor": minor,
            "service_disabled": bool(state.get("service_disabled", False)) or "service_disabled" in faults,
            "refuse_network_logon": bool(state.get("refuse_network_logon", False)),
            "accounts": {**well_known_names(language), **(state.get("accounts") or {})},
            "language": language,
            "message_languages": message_langids(state.get("message_languages", default_message_languages(language))),
            "valid_token_flags": flags_value(state.get("valid_token_flags", KNOWN_FLAGS)),
            "empty_helper_token_sid": bool(state.get("empty_helper_token_sid", False)),
            "slow_names": wire_slow_names(state.get("slow_names")),
            "jobs": jobs}


def default_message_languages(language: str) -> list[str]:
    """Every Windows has BITS' US English messages, and those of its own display language."""
    return sorted({DEFAULT_LANGUAGE, language})


def wire_slow_names(slow: Mapping[str, Any] | None) -> dict[str, Any]:
    """A host's slow account lookups (``{latency, sids, domains}``, tests/sim/README.md), checked."""
    if slow is not None and not isinstance(slow, Mapping):
        raise ValueError(f"slow_names must be a mapping of latency, sids and domains, not {slow!r}")
    slow = dict(slow or {})
    unknown = sorted(set(slow) - {"latency", "sids", "domains"})
    if unknown:
        raise ValueError(f"slow_names has unknown keys {unknown}; allowed: latency, sids, domains")
    latency = slow.get("latency", 0)
    if isinstance(latency, bool) or not isinstance(latency, (int, float)) or latency < 0:
        raise ValueError(f"slow_names.latency must be a number of seconds >= 0, not {latency!r}")
    lists = {}
    for key in ("sids", "domains"):
        value = slow.get(key) or []
        if not isinstance(value, list) or not all(isinstance(item, str) and item.upper().startswith("S-")
                                                  for item in value):
            raise ValueError(f"slow_names.{key} must be a list of SIDs (S-1-5-21-...), not {value!r}")
        lists[key] = value
    return {"latency": float(latency), **lists}


def _wire_job_facts(job: Mapping[str, Any]) -> dict[str, Any]:
    """What bits_job_info reads besides the flags: type, times, the job's error, per-call faults."""
    error = job.get("error")
    return {"type": named_number(job.get("type", 0), JOB_TYPES, "job type", "BG_JOB_TYPE_"),
            "creation_time": job.get("creation_time"), "modification_time": job.get("modification_time"),
            "error_code": hresult(error["hresult"]) if error else None,
            "error_context": ERROR_CONTEXTS.index(error["context"]) if error else 0,
            "error_description": error.get("description") if error else None,
            # Fault injection: a job method's name -> the HRESULT it fails with (e.g. access denied on
            # GetHelperTokenFlags for an audit that cannot read one job), or {hresult, after}: after that
            # many calls that succeed.
            "faults": {call: hresult(_fault_code(fault)) for call, fault in (job.get("faults") or {}).items()},
            "fault_after": {call: int(fault.get("after", 0)) for call, fault in (job.get("faults") or {}).items()
                            if isinstance(fault, Mapping)}}


def _fault_code(fault: Any) -> Any:
    return fault["hresult"] if isinstance(fault, Mapping) else fault


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
