"""The simulated fleet: a fleet file (format: tests/sim/README.md) -> host configs, Endpoints, inventory.

Each Endpoint's handler is what the host does with one command, whichever transport (WinRM, PSRP,
SSH) brought it: decode Ansible's command line and stdin (payload.py), become the requested user the
way Windows would let it (or fail like it), validate the module arguments as Ansible.Basic would
(argspec.py), and run the real C# core under Mono against the host's fake BITS (bits_runner.py).
Host state is seeded from the fleet file into ``<state_dir>/<host>.json`` on first start and kept
between calls and restarts; the SSH keys live in ``<state_dir>/ssh/``.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import shlex
from pathlib import Path
from typing import Any, Mapping

import asyncssh
import yaml

from tests.sim import argspec
from tests.sim.bits_runner import (KNOWN_FLAGS, Caller, ModuleRun, SimHostError, SimHostPool, canonical_job,
                                   default_message_languages, flags_value, run_module, run_noop, wire_slow_names,
                                   write_state)
from tests.sim.languages import DEFAULT_LANGUAGE, canonical_language, message_langids
from tests.sim.payload import JOB_INFO_MODULE, NOOP_MODULE, SUPPORTED_MODULE, Become, ModuleRequest, \
    UnsupportedCommand, parse_request
from tests.sim.transport import AUTH_METHODS, TRANSPORT_FAULTS, TRANSPORTS, CommandResult, Endpoint, default_auth
from tests.support.paths import JOB_INFO_DOCS, MODULE_DOCS, NOOP_MODULE_DOCS

BITS_FAULTS = frozenset({"service_disabled", "concurrent_change"})
# Each module the host runs -> the documentation its argument spec is read from.
MODULE_SPECS = {SUPPORTED_MODULE: MODULE_DOCS, JOB_INFO_MODULE: JOB_INFO_DOCS, NOOP_MODULE: NOOP_MODULE_DOCS}
# Service accounts: Ansible.Become needs no password for them (it uses the SYSTEM token).
SERVICE_SIDS = frozenset({"S-1-5-18", "S-1-5-19", "S-1-5-20"})
NETWORK_LOGONS = frozenset({"network", "networkcleartext"})
# The client timeout (s) the inventory gives a host with the "slow" fault, and how much longer than
# that the host must stall, at least: a slow host fails after slow_timeout, never succeeds late.
DEFAULT_SLOW_TIMEOUT = 3
SLOW_MARGIN_SECONDS = 2.0
DEFAULTS: dict[str, Any] = {
    "os_build": 20348, "bits_version": "10.0", "logon": "network", "refuse_network_logon": False,
    "transport": "winrm", "auth": None, "port": 0, "faults": [], "jobs": [],
    "slow_timeout": DEFAULT_SLOW_TIMEOUT, "slow_seconds": None,
    "winrm_user": {"name": "ansible", "password": "Sim-Passw0rd!", "sid": "S-1-5-21-1000-1000-1000-500",
                   "is_admin": True},
    "users": {"SYSTEM": {"sid": "S-1-5-18", "is_admin": True}},
    "accounts": {},
    "language": DEFAULT_LANGUAGE, "message_languages": None, "slow_names": None,
    "empty_helper_token_sid": False, "valid_token_flags": KNOWN_FLAGS,
}
# OpenSSH options for every SSH host: no connection sharing (ControlPersist would keep a connection
# for 60 s and hide a later refusal); the fleet's host key is known under one alias for all its hosts
# (their ports differ), from a known_hosts file next to the keys, so the client checks it and prints
# no "Permanently added" warning, while its own errors (e.g. a refused channel) still show.
SSH_ARGS = "-o ControlMaster=no -o ControlPath=none"
HOST_KEY_ALIAS = "winbits-sim-fleet"
SSH_AUTH_ARGS = {"key": "-o IdentitiesOnly=yes -o PreferredAuthentications=publickey -o PasswordAuthentication=no",
                 "password": "-o PreferredAuthentications=password,keyboard-interactive -o PubkeyAuthentication=no"}
SSH_DIR = "ssh"
CLIENT_KEY = "client_key"  # the private key Ansible logs on with (the inventory points to it)
HOST_KEY = "host_key"
KNOWN_HOSTS = "known_hosts"
log = logging.getLogger("tests.sim.fleet")


class FleetFileError(ValueError):
    """A fleet file the simulator cannot serve; the message names the host, the key and what is allowed."""


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
    auth: str                          # winrm/psrp: basic | ntlm; ssh: key | password
    faults: frozenset[str]
    winrm_user: User                   # the account Ansible logs on with, whatever the transport
    users: Mapping[str, User]          # keyed by lower-case account name
    logon: str                         # how the WinRM user is logged on: network, batch, interactive
    refuse_network_logon: bool
    os_build: int
    bits_version: str
    jobs: tuple[dict[str, Any], ...]
    slow_seconds: float = DEFAULT_SLOW_TIMEOUT + 10.0
    transport: str = "winrm"
    slow_timeout: int = DEFAULT_SLOW_TIMEOUT
    accounts: Mapping[str, str] = dataclasses.field(default_factory=dict)   # SID -> account name
    language: str = DEFAULT_LANGUAGE   # names the well-known accounts; the UI language of a module run
    message_languages: tuple[str, ...] = (DEFAULT_LANGUAGE,)   # BITS has its messages in these
    slow_names: Mapping[str, Any] = dataclasses.field(default_factory=dict)   # {latency, sids, domains}
    empty_helper_token_sid: bool = False   # GetHelperTokenSid answers "" for "no token"
    valid_token_flags: int = KNOWN_FLAGS   # the flag bits its BITS accepts

    def initial_state(self) -> dict[str, Any]:
        return {"os_build": self.os_build, "bits_version": self.bits_version,
                "refuse_network_logon": self.refuse_network_logon,
                "service_disabled": False, "concurrent_change": False,
                "accounts": dict(self.accounts), "language": self.language,
                "message_languages": list(self.message_languages), "slow_names": dict(self.slow_names),
                "empty_helper_token_sid": self.empty_helper_token_sid,
                "valid_token_flags": self.valid_token_flags,
                # The host's administrator accounts: whether a job's owner is one decides SetHelperToken
                # before build 14393 (tests/sim/README.md, owner_admin).
                "administrators": sorted(user.sid for user in self.users.values() if user.is_admin),
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
    transport = _choice(name, "transport", merged["transport"], TRANSPORTS)
    auth = _choice(name, "auth", merged["auth"] or default_auth(transport), AUTH_METHODS[transport],
                   f" for transport {transport}")
    faults = frozenset(merged.get("faults") or ())
    unknown = sorted(faults - TRANSPORT_FAULTS - BITS_FAULTS)
    if unknown:
        raise FleetFileError(f"host {name}: unknown faults {unknown}; allowed: "
                             f"{sorted(TRANSPORT_FAULTS | BITS_FAULTS)}")
    slow_timeout, slow_seconds = _slow_timing(name, merged)
    return HostConfig(name=name, port=int(merged["port"]), auth=auth, faults=faults, winrm_user=winrm_user,
                      users=users, logon=str(merged["logon"]).lower(),
                      refuse_network_logon=bool(merged["refuse_network_logon"]),
                      os_build=int(merged["os_build"]), bits_version=str(merged["bits_version"]),
                      jobs=tuple(merged.get("jobs") or ()), slow_seconds=slow_seconds, transport=transport,
                      slow_timeout=slow_timeout, accounts=_accounts(name, merged, users),
                      **_windows_traits(name, merged))


def _windows_traits(host: str, merged: Mapping[str, Any]) -> dict[str, Any]:
    """language, message_languages, slow_names, empty_helper_token_sid and valid_token_flags, checked."""
    traits: dict[str, Any] = {}
    key = "language"
    try:
        traits["language"] = canonical_language(merged["language"])
        key = "message_languages"
        languages = merged["message_languages"]
        if languages is None:
            languages = default_message_languages(traits["language"])
        message_langids(languages)
        traits["message_languages"] = tuple(canonical_language(language) for language in languages)
        key = "slow_names"
        traits["slow_names"] = wire_slow_names(merged["slow_names"])
        key = "valid_token_flags"
        traits["valid_token_flags"] = flags_value(merged["valid_token_flags"])
    except (ValueError, TypeError) as error:
        raise FleetFileError(f"host {host}: {key}: {error}") from None
    traits["empty_helper_token_sid"] = bool(merged["empty_helper_token_sid"])
    return traits


def _choice(host: str, key: str, value: Any, allowed: tuple[str, ...], context: str = "") -> str:
    text = str(value).lower()
    if text not in allowed:
        raise FleetFileError(f"host {host}: {key} must be one of {list(allowed)}{context}, not {value!r}")
    return text


def _slow_timing(host: str, merged: dict[str, Any]) -> tuple[int, float]:
    """(slow_timeout, slow_seconds): the client gives up first, on every transport, always."""
    try:
        slow_timeout = int(merged["slow_timeout"])
    except (TypeError, ValueError):
        slow_timeout = 0
    if slow_timeout < 2:
        # pywinrm and pypsrp need a read timeout above the operation timeout, which is at least 1 s.
        raise FleetFileError(f"host {host}: slow_timeout must be a whole number of seconds >= 2, "
                             f"not {merged['slow_timeout']!r}")
    least = slow_timeout + SLOW_MARGIN_SECONDS
    if merged["slow_seconds"] is None:
        return slow_timeout, least + 8.0
    slow_seconds = float(merged["slow_seconds"])
    if slow_seconds < least:
        raise FleetFileError(f"host {host}: slow_seconds ({slow_seconds:g}) must be at least slow_timeout "
                             f"({slow_timeout}) + {SLOW_MARGIN_SECONDS:g} s, so that the client's timeout "
                             "expires first and a slow host never succeeds late")
    return slow_timeout, slow_seconds


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


def ssh_key_path(state_dir: Path) -> Path:
    """The private key Ansible uses for the fleet's SSH hosts with key auth."""
    return state_dir / SSH_DIR / CLIENT_KEY


def ssh_keys(state_dir: Path) -> tuple[str, str]:
    """(client public key, host private key) of the fleet, made on first use and kept with the state."""
    directory = state_dir / SSH_DIR
    directory.mkdir(parents=True, exist_ok=True)
    for name in (CLIENT_KEY, HOST_KEY):
        path = directory / name
        if not path.exists():
            key = asyncssh.generate_private_key("ssh-ed25519")
            # OpenSSH refuses a private key that others may read.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(key.export_private_key("openssh"))
            path.with_name(name + ".pub").write_bytes(key.export_public_key("openssh"))
    host_public = (directory / (HOST_KEY + ".pub")).read_text(encoding="ascii").strip()
    (directory / KNOWN_HOSTS).write_text(f"{HOST_KEY_ALIAS} {host_public}\n", encoding="ascii")
    public = (directory / (CLIENT_KEY + ".pub")).read_text(encoding="ascii").strip()
    return public, (directory / HOST_KEY).read_text(encoding="ascii")


def ssh_common_args(state_dir: Path, auth: str) -> str:
    """OpenSSH options for a fleet host: its known_hosts, and only the one authentication it takes."""
    known_hosts = shlex.quote(str(state_dir / SSH_DIR / KNOWN_HOSTS))
    return (f"-o UserKnownHostsFile={known_hosts} -o HostKeyAlias={HOST_KEY_ALIAS} -o StrictHostKeyChecking=yes "
            f"{SSH_AUTH_ARGS[auth]}")


def build_endpoints(hosts: list[HostConfig], state_dir: Path) -> list[Endpoint]:
    runner = SimHostPool()  # one warm Mono pool for the whole fleet; FleetServer.stop() closes it
    keys = ssh_keys(state_dir) if any(host.transport == "ssh" for host in hosts) else ("", "")
    return [_endpoint(host, state_dir, keys, runner) for host in hosts]


def _endpoint(host: HostConfig, state_dir: Path, keys: tuple[str, str], runner: SimHostPool) -> Endpoint:
    public_key, host_key = keys if host.transport == "ssh" else ("", "")
    return Endpoint(name=host.name, port=host.port, username=host.winrm_user.name,
                    password=host.winrm_user.password or "", auth=host.auth, faults=host.faults,
                    slow_seconds=host.slow_seconds, handler=HostHandler(host, seed_state(host, state_dir), runner),
                    transport=host.transport, authorized_key=public_key if host.auth == "key" else "",
                    host_key=host_key)


def inventory_ini(hosts: list[HostConfig], ports: Mapping[str, int], group: str = "windows",
                  state_dir: Path | None = None) -> str:
    """An Ansible INI inventory for the fleet: each host on 127.0.0.1 over its own transport.

    state_dir is where the fleet keeps its SSH keys and known_hosts; it is needed once a host uses SSH.
    """
    lines = [f"[{group}]"]
    for host in hosts:
        connection = _connection_vars(host, state_dir)
        variables = {"ansible_connection": connection.pop("ansible_connection"), "ansible_host": "127.0.0.1",
                     "ansible_port": ports[host.name], "ansible_user": host.winrm_user.name, **connection}
        lines.append(" ".join([host.name, *(f"{key}={shlex.quote(str(value))}" for key, value in variables.items())]))
    return "\n".join(lines) + "\n"


def _connection_vars(host: HostConfig, state_dir: Path | None) -> dict[str, Any]:
    slow = "slow" in host.faults
    if host.transport == "winrm":
        variables: dict[str, Any] = {"ansible_connection": "winrm", "ansible_winrm_transport": host.auth,
                                     "ansible_winrm_scheme": "http"}
        if host.auth == "basic":
            variables["ansible_winrm_message_encryption"] = "never"
        if slow:  # pywinrm: the read timeout must exceed the operation timeout
            variables.update(ansible_winrm_operation_timeout_sec=host.slow_timeout - 1,
                             ansible_winrm_read_timeout_sec=host.slow_timeout)
        return {**variables, "ansible_password": host.winrm_user.password}
    if host.transport == "psrp":
        variables = {"ansible_connection": "psrp", "ansible_psrp_protocol": "http", "ansible_psrp_auth": host.auth}
        if host.auth == "basic":
            variables["ansible_psrp_message_encryption"] = "never"  # Basic over http is refused otherwise
        if slow:
            variables.update(ansible_psrp_operation_timeout=host.slow_timeout - 1,
                             ansible_psrp_read_timeout=host.slow_timeout,
                             ansible_psrp_connection_timeout=host.slow_timeout)
        return {**variables, "ansible_password": host.winrm_user.password}
    if state_dir is None:
        raise ValueError(f"host {host.name}: an SSH host needs the fleet's state_dir (its keys live there)")
    variables = {"ansible_connection": "ssh", "ansible_shell_type": "powershell", "ansible_ssh_args": SSH_ARGS,
                 "ansible_ssh_common_args": ssh_common_args(state_dir, host.auth)}
    if slow:
        variables["ansible_ssh_timeout"] = host.slow_timeout  # OpenSSH's ConnectTimeout covers the greeting
    if host.auth == "password":
        return {**variables, "ansible_password": host.winrm_user.password}
    return {**variables, "ansible_ssh_private_key_file": str(ssh_key_path(state_dir))}


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
