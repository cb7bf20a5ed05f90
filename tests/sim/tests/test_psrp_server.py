"""The simulated fleet's PSRP service, driven by real pypsrp (the client Ansible's psrp connection uses).

The handler is a test double that reports what reached it: the command line the pipeline was turned
into (decoded back to its script), and the length and digest of the input, so every assertion checks
a value that travelled through psrpcore, the fragments and the WS-Man operations.
"""
from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from pypsrp.exceptions import AuthenticationError, WinRMTransportError, WSManFaultError
from pypsrp.host import PSHost, PSHostUserInterface
from pypsrp.powershell import PowerShell, PSInvocationState, RunspacePool
from pypsrp.shell import SignalCode
from pypsrp.wsman import WSMan

from tests.sim.psrp_server import POWERSHELL_PREFIX, RECEIVE_PAYLOAD_BYTES, pipeline_command
from tests.sim.transport import CommandResult, Endpoint
from tests.sim.winrm_server import FleetServer

USER = "ansible"
PASSWORD = "Sim-Passw0rd!"
SLOW_SECONDS = 10.0
TIMED_OUT = 2150858793  # the WS-Man OperationTimeout fault pypsrp polls through


def script_of(command: str) -> str:
    return base64.b64decode(command.rsplit(" ", 1)[-1]).decode("utf-16-le")


def double(command: str, arguments: list[str], stdin: bytes) -> CommandResult:
    """`exit N` fails with N, `big N` prints N lines, `sleep S` takes S seconds; else report what arrived."""
    script = script_of(" ".join([command, *arguments]))
    words = script.split()
    if words[0] == "exit":
        return CommandResult(b"", f"failing with {words[1]}\r\n".encode(), int(words[1]))
    if words[0] == "big":
        return CommandResult(b"".join(b"%08d\r\n" % n for n in range(int(words[1]))), b"", 0)
    if words[0] == "sleep":
        time.sleep(float(words[1]))
    report = f"script={script} arguments={arguments} stdin={len(stdin)} sha256={hashlib.sha256(stdin).hexdigest()}"
    return CommandResult(report.encode() + b"\r\n", b"", 0)


ENDPOINTS = [
    Endpoint("basic", 0, USER, PASSWORD, handler=double, transport="psrp"),
    Endpoint("ntlm", 0, USER, PASSWORD, auth="ntlm", handler=double, transport="psrp"),
    Endpoint("unreachable", 0, USER, PASSWORD, faults=frozenset({"unreachable"}), handler=double, transport="psrp"),
    Endpoint("http500", 0, USER, PASSWORD, faults=frozenset({"http_500"}), handler=double, transport="psrp"),
    Endpoint("http401", 0, USER, PASSWORD, faults=frozenset({"http_401"}), handler=double, transport="psrp"),
    Endpoint("slow", 0, USER, PASSWORD, faults=frozenset({"slow"}), slow_seconds=SLOW_SECONDS, handler=double,
             transport="psrp"),
    Endpoint("drop", 0, USER, PASSWORD, faults=frozenset({"drop"}), handler=double, transport="psrp"),
]


@pytest.fixture(scope="module")
def fleet() -> Iterator[FleetServer]:
    with FleetServer(ENDPOINTS) as server:
        yield server


def wsman(fleet: FleetServer, name: str, auth: str = "basic", password: str = PASSWORD, **options: object) -> WSMan:
    encryption = "never" if auth == "basic" else "auto"
    return WSMan("127.0.0.1", port=fleet.port_of(name), username=USER, password=password, ssl=False, auth=auth,
                 encryption=encryption, **options)


def ansible_host() -> PSHost:
    """The host Ansible's psrp plugin gives its pool: it records SetShouldExit's code in .rc."""
    return PSHost(None, None, False, "Ansible PSRP Host", None, PSHostUserInterface(), None)


def invoke(pool: RunspacePool, script: str, inputs: list[str] | None = None) -> PowerShell:
    ps = PowerShell(pool)
    ps.add_script(script)
    ps.invoke(input=inputs)
    return ps


def assert_healthy(fleet: FleetServer) -> None:
    with RunspacePool(wsman(fleet, "basic")) as pool:
        assert invoke(pool, "hostname").output[0].startswith("script=hostname")


# --- the adapter --------------------------------------------------------------------------------

def test_pipeline_command_is_the_winrm_command_line_and_stdin() -> None:
    command, arguments, stdin = pipeline_command("Write-Output 'é'", ["-x"], ["{\"a\": 1}", "\0\0\0\0", "{}", None])
    assert command.startswith(POWERSHELL_PREFIX + " ")
    assert script_of(command) == "Write-Output 'é'"
    assert (arguments, stdin) == (["-x"], '{"a": 1}\n\0\0\0\0\n{}\n'.encode())


# --- PSRP over WS-Man ---------------------------------------------------------------------------

def test_script_and_input_lines_reach_the_handler(fleet: FleetServer) -> None:
    lines = ['{"name": "exec_wrapper"}', "\0\0\0\0", '{"actions": []}']
    with RunspacePool(wsman(fleet, "basic")) as pool:
        ps = invoke(pool, "$input | Out-String", lines)
    stdin = "\n".join(lines).encode()
    assert ps.output == [f"script=$input | Out-String arguments=[] stdin={len(stdin)} "
                         f"sha256={hashlib.sha256(stdin).hexdigest()}"]
    assert ps.state == PSInvocationState.COMPLETED and not ps.had_errors


def test_exit_code_is_a_set_should_exit_host_call_and_stderr_an_error_record(fleet: FleetServer) -> None:
    host = ansible_host()
    with RunspacePool(wsman(fleet, "basic"), host=host) as pool:
        ps = invoke(pool, "exit 7")
    assert host.rc == 7
    assert ps.state == PSInvocationState.COMPLETED  # `exit 7` completes; Ansible reads the host's rc
    assert [str(error) for error in ps.streams.error] == ["failing with 7"]


def test_large_input_travels_in_many_fragments_and_sends(fleet: FleetServer) -> None:
    payload = "".join(f"{n:08d}" for n in range(40_000))  # 320,000 characters in one input object
    before = fleet.stats["basic"].operations["Send"]
    with RunspacePool(wsman(fleet, "basic", max_envelope_size=51200)) as pool:
        ps = invoke(pool, "$input", [payload])
    assert ps.output == [f"script=$input arguments=[] stdin={len(payload)} "
                         f"sha256={hashlib.sha256(payload.encode()).hexdigest()}"]
    assert fleet.stats["basic"].operations["Send"] - before >= 5


def test_large_output_comes_in_fragments_over_several_receives(fleet: FleetServer) -> None:
    lines = 20_000  # one output object per line: over a megabyte of CLIXML
    before = fleet.stats["basic"].operations["Receive"]
    with RunspacePool(wsman(fleet, "basic")) as pool:
        ps = invoke(pool, f"big {lines}")
    assert ps.output == [f"{n:08d}" for n in range(lines)]
    assert fleet.stats["basic"].operations["Receive"] - before > 1_000_000 // RECEIVE_PAYLOAD_BYTES


def test_a_lost_fragment_is_refused_and_nothing_runs(fleet: FleetServer, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    with RunspacePool(wsman(fleet, "basic", max_envelope_size=51200)) as pool:
        original_send = pool.shell.send

        def losing_send(stream: str, data: bytes, command_id: str | None = None, end: bool | None = None) -> object:
            calls.append(stream)
            if len(calls) == 2:
                return None  # the second input fragment never reaches the host
            return original_send(stream, data, command_id=command_id, end=end)

        monkeypatch.setattr(pool.shell, "send", losing_send)
        ps = PowerShell(pool)
        ps.add_script("lost")
        with pytest.raises(WSManFaultError) as fault:
            ps.invoke(input=["x" * 200_000])
    assert "Expecting fragment with a fragment id of 1" in str(fault.value)
    assert len(calls) == 3  # the third fragment is the one the host refused


def test_pool_and_pipeline_messages_go_to_their_own_receive(fleet: FleetServer) -> None:
    with RunspacePool(wsman(fleet, "basic", operation_timeout=1, read_timeout=4)) as pool:
        slow = PowerShell(pool)
        slow.add_script("sleep 1.5")
        slow.begin_invoke()
        fast = invoke(pool, "fast")
        slow.end_invoke()
    assert fast.output[0].startswith("script=fast")
    assert slow.output[0].startswith("script=sleep 1.5")


def test_an_empty_receive_is_the_wsman_timeout_fault(fleet: FleetServer) -> None:
    with RunspacePool(wsman(fleet, "basic")) as pool:
        started = time.monotonic()
        with pytest.raises(WSManFaultError) as fault:
            pool.shell.receive("stdout", timeout=1)  # the pool has nothing to say once it is open
        assert fault.value.code == TIMED_OUT
        assert 0.9 < time.monotonic() - started < 3


def test_a_pipeline_slower_than_the_operation_timeout_is_polled_again(fleet: FleetServer) -> None:
    before = fleet.stats["basic"].operations["Receive"]
    with RunspacePool(wsman(fleet, "basic", operation_timeout=1, read_timeout=4)) as pool:
        ps = invoke(pool, "sleep 1.6")
    assert ps.output[0].startswith("script=sleep 1.6")
    assert fleet.stats["basic"].operations["Receive"] - before >= 3  # open, a timed-out poll, the result


def test_signal_for_a_finished_pipeline_is_accepted_and_forgets_it(fleet: FleetServer) -> None:
    # What Ansible does before each task: stop the previous task's pipeline, long finished.
    with RunspacePool(wsman(fleet, "basic")) as pool:
        first = invoke(pool, "first")
        first.state = PSInvocationState.RUNNING
        first.stop()
        second = invoke(pool, "second")
        with pytest.raises(WSManFaultError) as fault:  # forgotten: a second Signal names no command
            pool.shell.signal(SignalCode.PS_CTRL_C, str(first.id).upper())
    assert second.output[0].startswith("script=second")
    assert fault.value.code == 2150858843


def test_ctrl_c_stops_a_running_pipeline(fleet: FleetServer) -> None:
    with RunspacePool(wsman(fleet, "basic")) as pool:
        running = PowerShell(pool)
        running.add_script("sleep 1")
        running.begin_invoke()
        running.stop()
        after = invoke(pool, "after")
    assert after.output[0].startswith("script=after")


def test_delete_closes_the_pool(fleet: FleetServer) -> None:
    pool = RunspacePool(wsman(fleet, "basic"))
    pool.open()
    opened = fleet.open_runspace_pools("basic")
    pool.close()
    assert fleet.open_runspace_pools("basic") == opened - 1


def test_psrp_and_winrs_share_the_endpoint(fleet: FleetServer) -> None:
    import winrm  # pylint: disable=import-outside-toplevel  # the cmd shell's client, only here
    response = winrm.Session(f"http://127.0.0.1:{fleet.port_of('basic')}/wsman", auth=(USER, PASSWORD),
                             transport="basic").run_cmd("powershell", ["-EncodedCommand", "aABpAA=="])
    assert response.std_out.startswith(b"script=hi")


def test_parallel_pools_on_one_endpoint(fleet: FleetServer) -> None:
    outputs: dict[int, list[str]] = {}

    def one(index: int) -> None:
        with RunspacePool(wsman(fleet, "basic")) as pool:
            outputs[index] = invoke(pool, f"pool{index}").output

    threads = [threading.Thread(target=one, args=(index,)) for index in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert {index: output[0].split()[0] for index, output in outputs.items()} == {i: f"script=pool{i}" for i in range(5)}


# --- authentication -----------------------------------------------------------------------------

def test_basic_wrong_password_is_refused(fleet: FleetServer) -> None:
    with pytest.raises(AuthenticationError):
        RunspacePool(wsman(fleet, "basic", password="wrong")).open()


def test_ntlm_with_message_encryption(fleet: FleetServer) -> None:
    connection = wsman(fleet, "ntlm", auth="ntlm")
    with RunspacePool(connection) as pool:
        ps = invoke(pool, "$input", ["secret-marker"])
    assert ps.output[0].startswith("script=$input arguments=[] stdin=13")
    assert connection.transport.encryption is not None


def test_ntlm_wrong_password_is_refused(fleet: FleetServer) -> None:
    with pytest.raises(AuthenticationError):
        RunspacePool(wsman(fleet, "ntlm", auth="ntlm", password="wrong")).open()


# --- transport faults, each with a healthy neighbour -------------------------------------------

def test_http_500_fault(fleet: FleetServer) -> None:
    with pytest.raises(WinRMTransportError) as error:
        RunspacePool(wsman(fleet, "http500")).open()
    assert error.value.code == 500
    assert_healthy(fleet)


def test_http_401_fault_refuses_the_right_password(fleet: FleetServer) -> None:
    with pytest.raises(AuthenticationError):
        RunspacePool(wsman(fleet, "http401")).open()
    assert_healthy(fleet)


def test_unreachable_fault_refuses_connections(fleet: FleetServer) -> None:
    with pytest.raises(requests.exceptions.ConnectionError) as error:
        RunspacePool(wsman(fleet, "unreachable")).open()
    assert "refused" in str(error.value).lower()
    assert_healthy(fleet)


def test_slow_fault_outlasts_the_read_timeout(fleet: FleetServer) -> None:
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        RunspacePool(wsman(fleet, "slow", operation_timeout=1, read_timeout=2)).open()
    assert 1.5 < time.monotonic() - started < SLOW_SECONDS
    assert_healthy(fleet)


def test_drop_fault_closes_the_connection_on_receive(fleet: FleetServer) -> None:
    with pytest.raises(requests.exceptions.ConnectionError):
        RunspacePool(wsman(fleet, "drop")).open()  # Create is answered, its first Receive is cut
    assert fleet.stats["drop"].operations["Create"] >= 1
    assert_healthy(fleet)
