"""The simulated fleet's WS-Man transport, driven by real pywinrm and by Ansible's winrm plugin.

The FleetServer's handler here is a test double: it reports what it was given (command line,
stdin length and digest), so every assertion checks a value that travelled through the server.
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import winrm
import xmltodict
from winrm.exceptions import InvalidCredentialsError, WinRMTransportError, WSManFaultError

from tests.sim.transport import CommandResult, Endpoint
from tests.sim.winrm_server import RECEIVE_CHUNK_BYTES, FleetServer

USER = "ansible"
PASSWORD = "Sim-Passw0rd!"
ANSIBLE_CHUNK = 200_000  # what Ansible's winrm plugin sends per Send
SLOW_SECONDS = 10.0  # longer than the 2 s read timeout the slow test uses; stop() cuts it short


def numbered_lines(count: int) -> bytes:
    """Output whose every line is distinct, so a lost or reordered Receive chunk shows."""
    return b"".join(b"%08d\n" % number for number in range(count))


def double(command: str, arguments: list[str], stdin: bytes) -> CommandResult:
    """The test double: `exit N` fails with N, `big N` prints N lines, `sleep S` takes S seconds,
    anything else reports what arrived."""
    if command == "exit":
        return CommandResult(b"", f"failing with {arguments[0]}\r\n".encode(), int(arguments[0]))
    if command == "big":
        return CommandResult(numbered_lines(int(arguments[0])), b"some stderr", 0)
    if command == "sleep":
        time.sleep(float(arguments[0]))
    report = f"command={command} arguments={arguments} stdin={len(stdin)} sha256={hashlib.sha256(stdin).hexdigest()}"
    return CommandResult(report.encode(), b"", 0)


ENDPOINTS = [
    Endpoint("basic", 0, USER, PASSWORD, handler=double),
    Endpoint("ntlm", 0, USER, PASSWORD, auth="ntlm", handler=double),
    Endpoint("ntlm-other", 0, "other", "Other-Passw0rd!", auth="ntlm", handler=double),
    Endpoint("unreachable", 0, USER, PASSWORD, faults=frozenset({"unreachable"}), handler=double),
    Endpoint("http500", 0, USER, PASSWORD, faults=frozenset({"http_500"}), handler=double),
    Endpoint("http401", 0, USER, PASSWORD, faults=frozenset({"http_401"}), handler=double),
    Endpoint("slow", 0, USER, PASSWORD, faults=frozenset({"slow"}), slow_seconds=SLOW_SECONDS, handler=double),
    Endpoint("drop", 0, USER, PASSWORD, faults=frozenset({"drop"}), handler=double),
]


@pytest.fixture(scope="module")
def fleet() -> Iterator[FleetServer]:
    with FleetServer(ENDPOINTS) as server:
        yield server


def url(fleet: FleetServer, name: str) -> str:
    return f"http://127.0.0.1:{fleet.port_of(name)}/wsman"


def protocol(fleet: FleetServer, name: str, auth: str = "basic", password: str = PASSWORD, **options: object) -> winrm.Protocol:
    return winrm.Protocol(url(fleet, name), transport=auth, username=USER, password=password, **options)


def run(client: winrm.Protocol, command: str, arguments: list[str], stdin: bytes | None = None) -> tuple[bytes, bytes, int]:
    """One command the way Ansible runs it: Command, Send in 200,000-byte chunks, Receive, Signal."""
    shell = client.open_shell(codepage=65001)
    command_id = client.run_command(shell, command, arguments, console_mode_stdin=stdin is None)
    if stdin is not None:
        chunks = [stdin[i:i + ANSIBLE_CHUNK] for i in range(0, len(stdin), ANSIBLE_CHUNK)] or [b""]
        for index, chunk in enumerate(chunks):
            client.send_command_input(shell, command_id, chunk, end=index == len(chunks) - 1)
    result = client.get_command_output(shell, command_id)
    client.cleanup_command(shell, command_id)
    client.close_shell(shell)
    return result


def assert_healthy(fleet: FleetServer) -> None:
    """A faulty endpoint must not disturb the others."""
    response = winrm.Session(url(fleet, "basic"), auth=(USER, PASSWORD), transport="basic").run_cmd("hostname")
    assert response.status_code == 0
    assert response.std_out.startswith(b"command=hostname")


# --- WinRS operations ---------------------------------------------------------------------------

def test_run_cmd_reaches_the_handler_with_command_and_arguments(fleet: FleetServer) -> None:
    response = winrm.Session(url(fleet, "basic"), auth=(USER, PASSWORD), transport="basic").run_cmd("ipconfig", ["/all", "/x"])
    assert response.status_code == 0
    # pywinrm joins its arguments into one rsp:Arguments element; the handler gets it as sent.
    assert response.std_out == (b"command=ipconfig arguments=['/all /x'] stdin=0 sha256=" + hashlib.sha256(b"").hexdigest().encode())


@pytest.mark.parametrize("code", [1, 7, 255])
def test_exit_code_and_stderr_come_back(fleet: FleetServer, code: int) -> None:
    stdout, stderr, exit_code = run(protocol(fleet, "basic"), "exit", [str(code)])
    assert (stdout, stderr, exit_code) == (b"", f"failing with {code}\r\n".encode(), code)


def test_stdin_in_one_send(fleet: FleetServer) -> None:
    stdin = b"stdin payload \x00\xff"
    stdout, stderr, exit_code = run(protocol(fleet, "basic"), "powershell", ["-"], stdin)
    assert exit_code == 0
    assert stdout.endswith(f"stdin={len(stdin)} sha256={hashlib.sha256(stdin).hexdigest()}".encode())


def test_stdin_over_several_sends_is_joined_in_order(fleet: FleetServer) -> None:
    stdin = os.urandom(2 * ANSIBLE_CHUNK + 12_345)  # three Sends, the last with End="true"
    before = fleet.stats["basic"].operations["Send"]
    stdout = run(protocol(fleet, "basic"), "powershell", ["-"], stdin)[0]
    assert stdout.endswith(f"stdin={len(stdin)} sha256={hashlib.sha256(stdin).hexdigest()}".encode())
    assert fleet.stats["basic"].operations["Send"] - before == 3


def test_large_output_is_split_over_several_receives(fleet: FleetServer) -> None:
    lines = 40_000  # 360,000 bytes: more than five Receive responses' worth
    before = fleet.stats["basic"].operations["Receive"]
    stdout, stderr, exit_code = run(protocol(fleet, "basic"), "big", [str(lines)])
    assert stdout == numbered_lines(lines)
    assert (stderr, exit_code) == (b"some stderr", 0)
    receives = fleet.stats["basic"].operations["Receive"] - before
    assert receives == -(-(len(stdout) + len(stderr)) // RECEIVE_CHUNK_BYTES)


def test_receive_past_the_operation_timeout_is_polled_again(fleet: FleetServer) -> None:
    # A command slower than OperationTimeout: the server answers w:TimedOut, pywinrm polls again.
    client = protocol(fleet, "basic", operation_timeout_sec=1, read_timeout_sec=5)
    before = fleet.stats["basic"].operations["Receive"]
    stdout, stderr, exit_code = run(client, "sleep", ["1.6"])
    assert exit_code == 0 and stdout.startswith(b"command=sleep")
    assert fleet.stats["basic"].operations["Receive"] - before >= 2


def test_signal_terminate_ends_the_command(fleet: FleetServer) -> None:
    client = protocol(fleet, "basic")
    shell = client.open_shell()
    command_id = client.run_command(shell, "hostname")
    client.cleanup_command(shell, command_id)  # pywinrm asserts RelatesTo == its MessageID
    with pytest.raises(WSManFaultError) as fault:
        client.get_command_output_raw(shell, command_id)
    assert fault.value.wsman_fault_code == 2150858843
    assert fault.value.fault_subcode == "w:InvalidSelectors"
    client.close_shell(shell)


def test_delete_removes_the_shell(fleet: FleetServer) -> None:
    client = protocol(fleet, "basic")
    shell = client.open_shell()
    shells_open = fleet.open_shells("basic")
    client.close_shell(shell, close_session=False)  # pywinrm asserts RelatesTo here too
    assert fleet.open_shells("basic") == shells_open - 1
    with pytest.raises(WSManFaultError) as fault:
        client.run_command(shell, "hostname")
    assert fault.value.code == 500
    assert fault.value.fault_code == "s:Sender"
    assert fault.value.wsman_fault_code == 2150858843
    assert f"ShellId {shell} failed because the shell was not found" in fault.value.response


def test_unknown_action_is_a_wsman_fault(fleet: FleetServer) -> None:
    client = protocol(fleet, "basic")
    request = {"env:Envelope": client.build_wsman_header(
        action="http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate",
        resource_uri="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd")}
    request["env:Envelope"]["env:Body"] = {}
    with pytest.raises(WSManFaultError) as fault:
        client.send_message(xmltodict.unparse(request))
    assert fault.value.fault_subcode == "a:ActionNotSupported"
    assert fault.value.wsman_fault_code == 2150858771


def test_stats_count_operations_and_request_bytes(fleet: FleetServer) -> None:
    fleet.reset_stats()
    stdin = b"z" * 50_000
    run(protocol(fleet, "basic"), "powershell", ["-"], stdin)
    stats = fleet.stats["basic"]
    assert dict(stats.operations) == {"Create": 1, "Command": 1, "Send": 1, "Receive": 1, "Signal": 1, "Delete": 1}
    assert stats.http_requests == 6
    # stdin travels base64-encoded: the request bodies are at least 4/3 of it.
    assert stats.request_body_bytes >= len(stdin) * 4 // 3
    assert stats.request_bytes > stats.request_body_bytes


def test_accepted_sockets_are_nodelay_on_loopback(fleet: FleetServer) -> None:
    with socket.create_connection(("127.0.0.1", fleet.port_of("basic"))) as client:
        client.sendall(b"GET /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        assert client.recv(100).startswith(b"HTTP/1.1 405")
        server = fleet._servers["basic"]
        with server.connections_lock:
            accepted = [c for c in server.connections if c.getpeername() == client.getsockname()]
        assert len(accepted) == 1
        assert accepted[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert accepted[0].getsockname()[0] == "127.0.0.1"


# --- authentication -----------------------------------------------------------------------------

def test_basic_wrong_password_is_refused(fleet: FleetServer) -> None:
    with pytest.raises(InvalidCredentialsError):
        protocol(fleet, "basic", password="wrong").open_shell()


def test_ntlm_with_message_encryption_round_trip(fleet: FleetServer) -> None:
    client = protocol(fleet, "ntlm", auth="ntlm")
    session = client.transport.build_session()
    sent: list[requests.PreparedRequest] = []
    original_send = session.send

    def recording_send(request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        sent.append(request)
        return original_send(request, **kwargs)

    session.send = recording_send  # type: ignore[method-assign]
    stdin = b"secret-marker " * 20_000  # 280,000 bytes: two Sends
    stdout, stderr, exit_code = run(client, "powershell", ["-"], stdin)
    assert exit_code == 0
    assert stdout.endswith(f"stdin={len(stdin)} sha256={hashlib.sha256(stdin).hexdigest()}".encode())
    assert client.transport.encryption is not None
    soap_requests = [r for r in sent if r.body]
    assert len(soap_requests) == 7  # Create, Command, 2 Send, Receive, Signal, Delete
    for request in soap_requests:
        assert request.headers["Content-Type"].startswith("multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-encrypted\"")
        assert b"secret-marker" not in request.body and b"c2VjcmV0LW1hcmtlc" not in request.body


def test_ntlm_wrong_password_is_refused(fleet: FleetServer) -> None:
    with pytest.raises(InvalidCredentialsError):
        protocol(fleet, "ntlm", auth="ntlm", password="wrong").open_shell()


def test_ntlm_user_of_another_host_is_refused(fleet: FleetServer) -> None:
    # "ansible" is a valid NTLM user of this process, but not of the host "ntlm-other".
    with pytest.raises(InvalidCredentialsError):
        protocol(fleet, "ntlm-other", auth="ntlm").open_shell()


# --- transport faults, each with a healthy neighbour -------------------------------------------

def test_http_500_fault(fleet: FleetServer) -> None:
    with pytest.raises(WinRMTransportError) as error:
        protocol(fleet, "http500").open_shell()
    assert error.value.code == 500
    assert_healthy(fleet)


def test_http_401_fault_refuses_the_right_password(fleet: FleetServer) -> None:
    with pytest.raises(InvalidCredentialsError):
        protocol(fleet, "http401").open_shell()
    assert_healthy(fleet)


def test_unreachable_fault_refuses_connections(fleet: FleetServer) -> None:
    with pytest.raises(requests.exceptions.ConnectionError) as error:
        protocol(fleet, "unreachable").open_shell()
    assert "refused" in str(error.value).lower()
    assert_healthy(fleet)


def test_slow_fault_outlasts_the_read_timeout(fleet: FleetServer) -> None:
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        protocol(fleet, "slow", read_timeout_sec=2, operation_timeout_sec=1).open_shell()
    assert 1.5 < time.monotonic() - started < SLOW_SECONDS
    assert_healthy(fleet)


def test_drop_fault_closes_the_connection_mid_command(fleet: FleetServer) -> None:
    client = protocol(fleet, "drop")
    shell = client.open_shell()
    command_id = client.run_command(shell, "hostname")  # the shell and the command start fine
    with pytest.raises(requests.exceptions.ConnectionError):
        client.get_command_output(shell, command_id)
    assert_healthy(fleet)


# --- Ansible's real winrm connection plugin -----------------------------------------------------

ENCODED_COMMAND = re.compile(r"-EncodedCommand\s+(\S+)", re.IGNORECASE)


def decode_encoded_command(command: str, arguments: list[str], stdin: bytes) -> CommandResult:
    """Answers `raw`'s `powershell ... -EncodedCommand <b64 UTF-16LE>` with what it decoded."""
    match = ENCODED_COMMAND.search(" ".join([command, *arguments]))
    if match is None:
        return CommandResult(b"", b"no -EncodedCommand\r\n", 1)
    script = base64.b64decode(match.group(1)).decode("utf-16-le")
    return CommandResult(f"decoded {len(script)} chars: {script}\r\n".encode(), b"", 0)


@pytest.mark.parametrize("auth, encryption", [("basic", "never"), ("ntlm", "auto")])
def test_ansible_raw_runs_through_the_server(tmp_path: Path, auth: str, encryption: str) -> None:
    endpoint = Endpoint("win01", 0, USER, PASSWORD, auth=auth, handler=decode_encoded_command)
    with FleetServer([endpoint]) as server:
        inventory = tmp_path / "inventory.ini"
        inventory.write_text(
            f"win01 ansible_connection=winrm ansible_host=127.0.0.1 ansible_port={server.port_of('win01')} "
            f"ansible_winrm_transport={auth} ansible_winrm_scheme=http ansible_winrm_message_encryption={encryption} "
            f"ansible_user={USER} ansible_password={PASSWORD}\n")
        config = tmp_path / "empty.cfg"
        config.write_text("")
        env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
        env.update(ANSIBLE_CONFIG=str(config), ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_HOME=str(tmp_path / "home"),
                   ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_NOCOLOR="1")
        script = f"Write-Output {uuid.uuid4().hex}"
        ansible = Path(sys.executable).parent / "ansible"
        result = subprocess.run([str(ansible), "all", "-i", str(inventory), "-m", "raw", "-a", script],
                                capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "win01 | CHANGED | rc=0 >>" in result.stdout
        assert f"decoded {len(script)} chars: {script}" in result.stdout
        assert server.stats["win01"].operations["Command"] == 1
        assert server.open_shells("win01") == 0  # Ansible deleted its shell


def test_a_taken_port_fails_start_and_leaves_nothing_running(fleet: FleetServer) -> None:
    taken = fleet.port_of("basic")
    server = FleetServer([Endpoint("free", 0, USER, PASSWORD, handler=double),
                          Endpoint("clash", taken, USER, PASSWORD, handler=double)])
    with pytest.raises(OSError):
        server.start()
    with pytest.raises(requests.exceptions.ConnectionError):
        protocol(server, "free").open_shell()  # started first, stopped again by the failure
    assert_healthy(fleet)
