"""The simulated fleet: a fleet file (format in /work/prompts/sim_api.md) -> host configs and Endpoints.

Each Endpoint's handler is what the host does with one WinRS command: decode Ansible's command line
and stdin (payload.py), become the requested user the way Windows would let it (or fail like it),
validate the module arguments as Ansible.Basic would (argspec.py), and run the real C# core under Mono
against the host's fake BITS (bits_runner.py). Host state is seeded from the fleet file into
``<state_dir>/<host>.json`` on first start and kept between calls and restarts.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import logging
from pathlib import Path
from typing import Any, Mapping

import yaml

from tests.sim import argspec
from tests.sim.bits_runner import (Caller, ModuleRun, SimHostError, SimHostPool, canonical_job, run_module, run_noop,
                                   write_state)
from tests.sim.payload import JOB_INFO_MODULE, NOOP_MODULE, SUPPORTED_MODULE, Become, ModuleRequest, \
    UnsupportedCommand, parse_request
from tests.sim.transport import CommandResult, Endpoint
from tests.support.paths import JOB_INFO_DOCS, MODULE_DOCS, NOOP_MODULE_DOCS

BITS_FAULTS = frozenset({"service_disabled", "concurrent_change"})
# Each module the host runs -> the documentation its argument spec is read from.
MODULE_SPECS = {SUPPORTED_MODULE: MODULE_DOCS, JOB_INFO_MODULE: JOB_INFO_DOCS, NOOP_MODULE: NOOP_MODULE_DOCS}
# Service accounts: Ansible.Become needs no password for them (it uses the SYSTEM token).
SERVICE_SIDS = frozenset({"S-1-5-18", "S-1-5-19", "S-1-5-20"})
NETWORK_LOGONS = frozenset({"network", "networkcleartext"})
DEFAULTS: dict[str, Any] = {
    "os_build": 20348, "bits_version": "10.0", "logon": "network", "refuse_network_logon": False,
    "auth": "basic", "port": 0, "faults": [], "jobs": [],
    "winrm_user": {"name": "ansible", "password": "Sim-Passw0rd!", "sid": "S-1-5-21-1000-1000-1000-500",
                   "is_admin": True},
    "users": {"SYSTEM": {"sid": "S-1-5-18", "is_admin": True}},
    "accounts": {},
}
log = logging.getLogger("tests.sim.fleet")


@dataclasses.dataclass(frozen=True)
class User:
    name: str
    sid: str
    is_admin: bool
    password: str | None = dataclasses.field(default=None, repr=False)


@dataclasses.dataclass(frozen=True)
class HostConfig:
    name: str
    port: int
    auth: str
    faults: frozenset[str]
    winrm_user: User
    users: Mapping[str, User]          # keyed by lower-case account name
    logon: str                         # how the WinRM user is logged on: network, batch, interactive
    refuse_network_logon: bool
    os_build: int
    bits_version: str
    jobs: tuple[dict[str, Any], ...]
    slow_seconds: float = 30.0
    accounts: Mapping[str, str] = dataclasses.field(default_factory=dict)   # SID -> account name

    def initial_state(self) -> dict[str, Any]:
        return {"os_build": self.os_build, "bits_version": self.bits_version,
                "refuse_network_logon": self.refuse_network_logon,
                "service_disabled": False, "concurrent_change": False,
                "accounts": dict(self.accounts),
                "jobs": [canonical_job(job) for job in self.jobs]}


def load_fleet(source: Path | Mapping[str, Any]) -> list[HostConfig]:
    """Read a fleet file (or the same structure as a dict) into host configs."""
    fleet = yaml.safe_load(Path(source).read_text(encoding="utf-8")) if isinstance(source, Path) else source
    defaults = {**DEFAULTS, **(fleet.get("defaults") or {})}
    return [_host_config(name, {**defaults, **(host or {})}) for name, host in (fleet.get("hosts") or {}).items()]


def _host_config(name: str, merged: dict[str, Any]) -> HostConfig:
    winrm = merged["winrm_user"]
    winrm_user = User(name=winrm["name"], sid=winrm["sid"], is_admin=bool(winrm.get("is_admin", False)),
                      password=winrm.get("password"))
    users = {key.lower(): User(name=key, sid=value["sid"], is_admin=bool(value.get("is_admin", False)),
                               password=value.get("password"))
             for key, value in (merged.get("users") or {}).items()}
    users.setdefault(winrm_user.name.lower(), winrm_user)
    return HostConfig(name=name, port=int(merged["port"]), auth=merged["auth"],
                      faults=frozenset(merged.get("faults") or ()), winrm_user=winrm_user, users=users,
                      logon=str(merged["logon"]).lower(), refuse_network_logon=bool(merged["refuse_network_logon"]),
                      os_build=int(merged["os_build"]), bits_version=str(merged["bits_version"]),
                      jobs=tuple(merged.get("jobs") or ()), slow_seconds=float(merged.get("slow_seconds", 30.0)),
                      accounts=_accounts(name, merged, users))


def _accounts(host: str, merged: Mapping[str, Any], users: Mapping[str, User]) -> dict[str, str]:
    """SID -> account name as the host resolves it: its local users (HOST\\name), then the fleet's table."""
    local = {user.sid: f"{host.upper()}\\{user.name}" for user in users.values() if user.sid not in SERVICE_SIDS}
    return {**local, **{str(sid): str(name) for sid, name in (merged.get("accounts") or {}).items()}}


def seed_state(host: HostConfig, state_dir: Path) -> Path:
    """The host's state file, written from the fleet file only when it does not exist yet."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / f"{host.name}.json"
    if not path.exists():
        write_state(path, host.initial_state())
    return path


def build_endpoints(hosts: list[HostConfig], state_dir: Path) -> list[Endpoint]:
    runner = SimHostPool()  # one warm Mono pool for the whole fleet; FleetServer.stop() closes it
    return [Endpoint(name=host.name, port=host.port, username=host.winrm_user.name,
                     password=host.winrm_user.password or "", auth=host.auth, faults=host.faults,
                     slow_seconds=host.slow_seconds, handler=HostHandler(host, seed_state(host, state_dir), runner))
            for host in hosts]


def inventory_ini(hosts: list[HostConfig], ports: Mapping[str, int], group: str = "windows") -> str:
    """An Ansible INI inventory for the fleet (sim_api.md: winrm over http on 127.0.0.1)."""
    lines = [f"[{group}]"]
    for host in hosts:
        encryption = " ansible_winrm_message_encryption=never" if host.auth == "basic" else ""
        lines.append(f"{host.name} ansible_connection=winrm ansible_host=127.0.0.1 ansible_port={ports[host.name]} "
                     f"ansible_winrm_transport={host.auth} ansible_winrm_scheme=http{encryption} "
                     f"ansible_user={host.winrm_user.name} ansible_password='{host.winrm_user.password}'")
    return "\n".join(lines) + "\n"


class HostHandler:
    """What one simulated host does with a WinRS command (the transport's CommandHandler)."""

    def __init__(self, host: HostConfig, state_path: Path, runner: SimHostPool | None = None) -> None:
        self.host = host
        self.state_path = state_path
        self.runner = runner or SimHostPool()   # shared by the fleet's hosts when build_endpoints made it
        self.module_runs = 0
        # How Ansible packed each module run it sent ("exec_wrapper" 2.16-2.18, "manifest" 2.19+), so a
        # test can show which controller path it exercised.
        self.wrappers_seen: list[str] = []

    def __call__(self, command: str, arguments: list[str], stdin: bytes) -> CommandResult:
        try:
            request = parse_request(command, arguments, stdin)
        except UnsupportedCommand as error:
            return _refusal(f"winbits simulated host {self.host.name}: {error}")
        self.wrappers_seen.append(request.wrapper)
        try:
            caller = self._caller_for(request.become)
            return self._run(request, caller)
        except argspec.ModuleExit as stop:
            return _module_output(stop.result, stop.exit_code)
        except (SimHostError, ValueError) as error:
            log.exception("simulated host %s failed", self.host.name)
            return _refusal(f"winbits simulated host {self.host.name}: internal error: {error}")

    def _run(self, request: ModuleRequest, caller: Caller) -> CommandResult:
        traits = argspec.basic_traits(request.csharp_util("Ansible.Basic"))
        validated = argspec.validate(_module_spec(request.module_name), traits, request.complex_args)
        invocation = "constructor" if traits.always_injects_invocation else (
            "exit" if validated.inject_invocation else None)
        run = ModuleRun(params=validated.params, check_mode=validated.check_mode, invocation=invocation)
        if request.module_name == NOOP_MODULE:
            # Create() then ExitJson() in SimHost, through the same warm runner as the modules.
            outcome = run_noop(run, request.collection_utils(), runner=self.runner)
        else:
            outcome = run_module(self.state_path, caller, run, request.collection_utils(),
                                 module=request.module_name.rsplit(".", 1)[-1], faults=self.host.faults & BITS_FAULTS,
                                 runner=self.runner)
        self.module_runs += 1
        return CommandResult(stdout=outcome.stdout.encode("utf-8") + b"\r\n", stderr=b"",
                             exit_code=outcome.exit_code)

    def close(self) -> None:
        """End the runner's Mono processes (the fleet is stopping; shared runners close once)."""
        self.runner.close()

    def _caller_for(self, become: Become | None) -> Caller:
        """The identity the module runs as; a become Windows would refuse raises ModuleExit."""
        if become is None:
            user = self.host.winrm_user
            return Caller(sid=user.sid, is_admin=user.is_admin, network_logon=self.host.logon in NETWORK_LOGONS)
        user = self.host.users.get(_account_name(become.user))
        if user is None:
            raise _logon_failure(become.user)
        if user.sid in SERVICE_SIDS or become.password is None:
            # Service accounts and password-less become (S4U) need the SYSTEM token: admins only.
            if not self.host.winrm_user.is_admin:
                raise _exec_wrapper_failure("Failed to get token for NT AUTHORITY\\SYSTEM required for become "
                                            "as a service account or an account without a password")
        elif become.password != user.password:
            raise _logon_failure(become.user)
        network = user.sid not in SERVICE_SIDS and become.logon_type.lower() in NETWORK_LOGONS
        return Caller(sid=user.sid, is_admin=user.is_admin, network_logon=network)


@functools.lru_cache(maxsize=None)
def _module_spec(module_name: str) -> argspec.ModuleSpec:
    return argspec.load_module_spec(MODULE_SPECS[module_name])


def _account_name(user: str) -> str:
    """``NT AUTHORITY\\SYSTEM``, ``.\\alice``, ``alice@domain`` -> the account's lower-case name."""
    return user.rsplit("\\", 1)[-1].split("@", 1)[0].lower()


def _logon_failure(user: str) -> argspec.ModuleExit:
    domain_user = user if "\\" in user or "@" in user else f".\\{user}"
    return _exec_wrapper_failure(f"Failed to logon {domain_user} (The user name or password is incorrect, "
                                 "Win32ErrorCode 1326)")


def _exec_wrapper_failure(reason: str) -> argspec.ModuleExit:
    # Ansible.Become throws inside become_wrapper.ps1; exec_wrapper.ps1 reports the ErrorRecord.
    message = (f"failure during exec_wrapper: Exception calling \"CreateProcessAsUser\" with \"9\" argument(s): "
               f"\"{reason}\"")
    return argspec.ModuleExit({"failed": True, "msg": message}, 1)


def _module_output(result: dict[str, Any], exit_code: int) -> CommandResult:
    return CommandResult(stdout=json.dumps(result).encode("utf-8") + b"\r\n", stderr=b"", exit_code=exit_code)


def _refusal(message: str) -> CommandResult:
    """A command the host will not run: a JSON failure Ansible shows, the same words on stderr, exit 1."""
    return CommandResult(stdout=json.dumps({"failed": True, "msg": message}).encode("utf-8") + b"\r\n",
                         stderr=message.encode("utf-8") + b"\r\n", exit_code=1)
