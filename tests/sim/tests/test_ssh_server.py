"""The simulated fleet's SSH service, driven by OpenSSH's client (what Ansible's ssh connection runs) and asyncssh.

The handler is a test double that reports what reached it: the words of the command line and the
script they encode, and the length and digest of stdin, so every assertion checks a value that
travelled through the SSH channel.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest

from tests.sim.fleet import ssh_key_path, ssh_keys
from tests.sim.ssh_server import exec_command, reads_input
from tests.sim.transport import CommandResult, Endpoint
from tests.sim.winrm_server import FleetServer

USER = "ansible"
PASSWORD = "Sim-Passw0rd!"
SLOW_SECONDS = 10.0
# The tests do not check the host key (the fleet's inventory does, see test_sim_fleet_config).
KNOWN_HOST = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"]
POWERSHELL = "powershell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand"


def encode(script: str) -> str:
    return base64.b64encode(script.encode("utf-16-le")).decode("ascii")


def script_of(command: str, arguments: list[str]) -> str:
    return base64.b64decode(arguments[-1] if arguments else command.rsplit(" ", 1)[-1]).decode("utf-16-le")


def double(command: str, arguments: list[str], stdin: bytes) -> CommandResult:
    """`exit N` fails with N, `big N` prints N lines; anything else reports what arrived."""
    script = script_of(command, arguments)
    words = script.split()
    if words[0] == "exit":
        return CommandResult(b"partial\r\n", f"failing with {words[1]}\r\n".encode(), int(words[1]))
    if words[0] == "big":
        return CommandResult(b"".join(b"%08d\n" % n for n in range(int(words[1]))), b"", 0)
    calls.append(script)
    report = f"command={command} script={script} stdin={len(stdin)} sha256={hashlib.sha256(stdin).hexdigest()}"
    return CommandResult(report.encode(), b"", 0)


calls: list[str] = []


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    state_dir = tmp_path_factory.mktemp("ssh-state")
    public, host_key = ssh_keys(state_dir)
    return ssh_key_path(state_dir), public, host_key


@pytest.fixture(scope="module")
def fleet(keys: tuple[Path, str, str]) -> Iterator[FleetServer]:
    _key_file, public, host_key = keys

    def endpoint(name: str, auth: str = "key", faults: frozenset[str] = frozenset()) -> Endpoint:
        return Endpoint(name, 0, USER, PASSWORD, auth=auth, faults=faults, slow_seconds=SLOW_SECONDS,
                        handler=double, transport="ssh", authorized_key=public if auth == "key" else "",
                        host_key=host_key)

    endpoints = [endpoint("key"), endpoint("password", auth="password")]
    endpoints += [endpoint(fault, faults=frozenset({fault})) for fault in
                  ("unreachable", "http_401", "http_500", "slow", "drop")]
    with FleetServer(endpoints) as server:
        yield server


def openssh(fleet: FleetServer, name: str, command: str, stdin: bytes | None, key_file: Path | None,
            *options: str, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    """Run OpenSSH's client the way Ansible does for a Windows host (no connection sharing)."""
    # OpenSSH takes the first value of an option: the test's own options go first.
    argv = ["ssh", *options, "-o", "ControlMaster=no", *KNOWN_HOST, "-o", "BatchMode=yes", "-p", str(fleet.port_of(name))]
    if key_file is not None:
        argv += ["-o", "IdentitiesOnly=yes", "-i", str(key_file)]
    argv += [f"{USER}@127.0.0.1", command]
    return subprocess.run(argv, input=stdin if stdin is not None else b"", capture_output=True, timeout=timeout,
                          check=False)


def assert_healthy(fleet: FleetServer, key_file: Path) -> None:
    done = openssh(fleet, "key", f"{POWERSHELL} {encode('hostname')}", b"", key_file)
    assert done.returncode == 0, done.stderr
    assert b"script=hostname" in done.stdout


# --- the command line ---------------------------------------------------------------------------

@pytest.mark.parametrize("line, expected", [
    # 2.21 quotes the value (quote_pwsh_argument), 2.18/2.19 do not, 2.16 switches the code page first.
    (f"{POWERSHELL} 'SABp+A=='", ("powershell", POWERSHELL.split()[1:] + ["SABp+A=="])),
    (f"{POWERSHELL} SABp+A==", ("powershell", POWERSHELL.split()[1:] + ["SABp+A=="])),
    ("chcp.com 65001 > $null ; PowerShell -NoProfile -EncodedCommand SABp", ("PowerShell", ["-NoProfile", "-EncodedCommand", "SABp"])),
    ("C:\\Windows\\System32\\powershell.exe -EncodedCommand SABp", ("C:\\Windows\\System32\\powershell.exe", ["-EncodedCommand", "SABp"])),
])
def test_exec_command_splits_the_powershell_line(line: str, expected: tuple[str, list[str]]) -> None:
    assert exec_command(line) == expected


def test_exec_command_encodes_anything_else_as_the_script_it_is() -> None:
    command, arguments = exec_command("Get-Service BITS | Select-Object -First 1")
    assert arguments == []
    assert command.startswith(POWERSHELL + " ")
    assert script_of(command, []) == "Get-Service BITS | Select-Object -First 1"


def test_only_a_script_that_reads_input_waits_for_it() -> None:
    assert reads_input("powershell", ["-EncodedCommand", encode("$exec_wrapper_str = $input | Out-String")])
    assert not reads_input("powershell", ["-EncodedCommand", encode("Get-Service BITS")])
    assert not reads_input("cmd.exe", ["/c", "dir"])


# --- exec over OpenSSH --------------------------------------------------------------------------

def test_key_auth_exec_with_stdin_then_eof(fleet: FleetServer, keys: tuple[Path, str, str]) -> None:
    stdin = b'{"name": "exec_wrapper"}\n\0\0\0\0\n' + b"x" * 300_000
    script = "$input | Out-String"
    done = openssh(fleet, "key", f"{POWERSHELL} '{encode(script)}'", stdin, keys[0])
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"command=powershell script={script} stdin={len(stdin)} "
                           f"sha256={hashlib.sha256(stdin).hexdigest()}").encode()


def test_exit_status_stdout_and_stderr_come_back(fleet: FleetServer, keys: tuple[Path, str, str]) -> None:
    done = openssh(fleet, "key", f"{POWERSHELL} {encode('exit 7')}", b"", keys[0])
    assert (done.returncode, done.stdout, done.stderr) == (7, b"partial\r\n", b"failing with 7\r\n")


def test_large_output(fleet: FleetServer, keys: tuple[Path, str, str]) -> None:
    done = openssh(fleet, "key", f"{POWERSHELL} {encode('big 100000')}", b"", keys[0])
    assert done.stdout == b"".join(b"%08d\n" % n for n in range(100_000))


def test_a_command_without_input_runs_before_eof(fleet: FleetServer, keys: tuple[Path, str, str]) -> None:
    # Ansible's raw keeps stdin open on a pty; ssh -n would send EOF, so hold stdin open ourselves.
    argv = ["ssh", "-o", "ControlMaster=no", *KNOWN_HOST, "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i", str(keys[0]),
            "-p", str(fleet.port_of("key")), f"{USER}@127.0.0.1", "Get-Service BITS"]
    with subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        watchdog = threading.Timer(20, process.kill)  # a server waiting for EOF would hang us: fail instead
        watchdog.start()
        try:
            stdout = process.stdout.read()  # type: ignore[union-attr]  # ends when the server closes the channel
        finally:
            watchdog.cancel()
            process.stdin.close()  # type: ignore[union-attr]
        stderr = process.stderr.read()  # type: ignore[union-attr]
    assert b"script=Get-Service BITS stdin=0" in stdout, stderr


def test_password_auth_with_sshpass(fleet: FleetServer) -> None:
    if shutil.which("sshpass") is None:
        pytest.fail("sshpass is missing: requirements/apt.txt lists it (ansible-core < 2.21 needs it for passwords)")
    argv = ["sshpass", "-p", PASSWORD, "ssh", "-o", "ControlMaster=no", *KNOWN_HOST, "-o", "PubkeyAuthentication=no",
            "-o", "PreferredAuthentications=password", "-p", str(fleet.port_of("password")), f"{USER}@127.0.0.1",
            f"{POWERSHELL} {encode('hello')}"]
    done = subprocess.run(argv, input=b"", capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert b"script=hello" in done.stdout


# --- authentication, with asyncssh as the client -------------------------------------------------

async def _asyncssh_run(port: int, command: str, **credentials: object) -> asyncssh.SSHCompletedProcess:
    options: dict[str, object] = {"username": USER, "known_hosts": None, "agent_path": None, "client_keys": None,
                                  **credentials}
    async with asyncssh.connect("127.0.0.1", port, **options) as connection:
        return await connection.run(command, input="", check=False)


def asyncssh_run(fleet: FleetServer, name: str, command: str, **credentials: object) -> asyncssh.SSHCompletedProcess:
    return asyncio.run(_asyncssh_run(fleet.port_of(name), command, **credentials))


def test_password_auth_and_wrong_password(fleet: FleetServer) -> None:
    done = asyncssh_run(fleet, "password", f"{POWERSHELL} {encode('pw')}", password=PASSWORD)
    assert done.exit_status == 0 and "script=pw" in done.stdout
    with pytest.raises(asyncssh.PermissionDenied):
        asyncssh_run(fleet, "password", f"{POWERSHELL} {encode('pw')}", password="wrong")


def test_a_key_host_refuses_passwords_and_other_keys(fleet: FleetServer) -> None:
    with pytest.raises(asyncssh.PermissionDenied):
        asyncssh_run(fleet, "key", "x", password=PASSWORD)
    with pytest.raises(asyncssh.PermissionDenied):
        asyncssh_run(fleet, "key", "x", client_keys=[asyncssh.generate_private_key("ssh-ed25519")])


def test_another_user_is_refused(fleet: FleetServer, keys: tuple[Path, str, str]) -> None:
    async def as_bob() -> None:
        async with asyncssh.connect("127.0.0.1", fleet.port_of("key"), username="bob", known_hosts=None,
                                    agent_path=None, client_keys=[str(keys[0])]):
            pass
    with pytest.raises(asyncssh.PermissionDenied):
        asyncio.run(as_bob())


# --- faults, each with a healthy neighbour ------------------------------------------------------

def test_unreachable_fault_refuses_connections(fleet: FleetServer, keys: tuple[Path, str, str]) -> None:
    done = openssh(fleet, "unreachable", "x", b"", keys[0])
    assert done.returncode == 255 and b"Connection refused" in done.stderr
    assert_healthy(fleet, keys[0])


def test_http_401_fault_refuses_the_right_key(fleet: FleetServer, keys: tuple[Path, str, str]) -> None:
    done = openssh(fleet, "http_401", "x", b"", keys[0])
    assert done.returncode == 255 and b"Permission denied" in done.stderr
    assert_healthy(fleet, keys[0])


def test_http_500_fault_refuses_the_session(fleet: FleetServer, keys: tuple[Path, str, str]) -> None:
    done = openssh(fleet, "http_500", f"{POWERSHELL} {encode('never')}", b"", keys[0], "-o", "LogLevel=INFO")
    assert done.returncode == 255 and b"open failed" in done.stderr, done.stderr
    assert_healthy(fleet, keys[0])


def test_slow_fault_outlasts_the_connect_timeout(fleet: FleetServer, keys: tuple[Path, str, str]) -> None:
    started = time.monotonic()
    done = openssh(fleet, "slow", "x", b"", keys[0], "-o", "ConnectTimeout=2")
    assert done.returncode == 255 and b"timed out" in done.stderr, done.stderr
    assert 1.5 < time.monotonic() - started < SLOW_SECONDS
    assert_healthy(fleet, keys[0])


def test_drop_fault_cuts_the_connection_after_the_command_ran(fleet: FleetServer, keys: tuple[Path, str, str]) -> None:
    marker = f"dropped-{time.monotonic_ns()}"
    done = openssh(fleet, "drop", f"{POWERSHELL} {encode(marker)}", b"", keys[0])
    assert done.returncode == 255 and done.stdout == b"", done.stderr
    assert marker in calls  # like a real host, it may have done the work the controller never hears of
    assert_healthy(fleet, keys[0])
