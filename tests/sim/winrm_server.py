"""A WS-Management / WinRS server for simulated Windows hosts on 127.0.0.1.

Real pywinrm and Ansible's real `winrm` connection plugin talk to it unchanged: one listening
socket per Endpoint, HTTP/1.1 keep-alive, Basic or NTLM auth (NTLM with MS-WSMV message
encryption, served by pyspnego's acceptor), and the WinRS operations pywinrm uses
(Create, Command, Send, Receive, Signal, Delete). What a command does is the Endpoint's
CommandHandler's business; this module only moves bytes and keeps shell/command state.

Layers, outermost first: _WSManHTTPHandler (HTTP, auth, encryption, injected faults) ->
_parse_request (SOAP envelope) -> _WinRSService (shells and commands of one endpoint).
"""
from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import socket
import struct
import tempfile
import threading
import traceback
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import spnego
import spnego.exceptions

from tests.sim.psrp_server import PS_RESOURCE_URI, PSRPService
from tests.sim.ssh_server import SSHServers
from tests.sim.transport import CommandHandler, CommandResult, Endpoint
from tests.sim.wsman import (CMD_RESOURCE_URI, NS, SHELL_NS, SIGNAL_TERMINATE, WSManFault, WSManRequest,
                             action_not_supported, command_not_found, element_text, fault_envelope,
                             operation_timed_out, parse_request, resource_not_found, response_envelope,
                             shell_not_found)

log = logging.getLogger(__name__)


# Windows splits a command's output over several Receive responses; so do we, so that clients'
# Receive loops are exercised. 64 KiB of output is ~87 KB of base64, well inside the 153,600-byte
# MaxEnvelopeSize pywinrm announces.
RECEIVE_CHUNK_BYTES = 64 * 1024

ENCRYPTED_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
ENCRYPTED_CONTENT_TYPE = f'multipart/encrypted;protocol="{ENCRYPTED_PROTOCOL}";boundary="Encrypted Boundary"'
MIME_BOUNDARY = b"--Encrypted Boundary"
OCTET_STREAM_HEADER = b"\tContent-Type: application/octet-stream\r\n"
NTLM_SIGNATURE_LENGTH = 16
SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"


# --- stats --------------------------------------------------------------------------------------

@dataclass
class EndpointStats:
    """What one endpoint was asked: the benchmark's "WS-Man operations / request bytes per task"."""

    operations: Counter[str] = field(default_factory=Counter)  # Create, Command, Send, Receive, ...
    http_requests: int = 0  # every HTTP request, auth legs and refused ones included
    request_bytes: int = 0  # request line + headers + body, as received
    request_body_bytes: int = 0
    response_bytes: int = 0

    def copy(self) -> EndpointStats:
        return EndpointStats(Counter(self.operations), self.http_requests, self.request_bytes,
                             self.request_body_bytes, self.response_bytes)


# --- WinRS state --------------------------------------------------------------------------------

class _Command:
    """One WinRS command: collects stdin, runs the handler once stdin ends, hands out output."""

    def __init__(self, command: str, arguments: list[str]) -> None:
        self.command = command
        self.arguments = arguments
        self._stdin: list[bytes] = []
        self._started = False
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._result = CommandResult(b"", b"", 0)
        self._stdout_sent = 0
        self._stderr_sent = 0

    def add_stdin(self, data: bytes) -> None:
        with self._lock:
            if not self._started:  # Windows drops input sent after the stream ended; so do we
                self._stdin.append(data)

    def start(self, handler: CommandHandler) -> None:
        """Run the handler in the background so a long one only makes Receive poll, as on Windows."""
        with self._lock:
            if self._started:
                return
            self._started = True
            stdin = b"".join(self._stdin)
            self._stdin.clear()
        threading.Thread(target=self._run, args=(handler, stdin), daemon=True, name=f"winrs-{self.command[:20]}").start()

    def _run(self, handler: CommandHandler, stdin: bytes) -> None:
        try:
            self._result = handler(self.command, list(self.arguments), stdin)
        except Exception:  # a broken handler must still end the command, visibly
            log.exception("simulated command handler failed")
            self._result = CommandResult(b"", ("simulated host: handler failed\r\n" + traceback.format_exc()).encode(), 1)
        finally:
            self._finished.set()

    def wait(self, timeout: float) -> bool:
        return self._finished.wait(timeout)

    def next_output(self) -> tuple[bytes, bytes, bool]:
        """The next slice of stdout/stderr (at most RECEIVE_CHUNK_BYTES together) and whether it is the last."""
        with self._lock:
            result = self._result
            stdout = result.stdout[self._stdout_sent:self._stdout_sent + RECEIVE_CHUNK_BYTES]
            room = RECEIVE_CHUNK_BYTES - len(stdout)
            stderr = result.stderr[self._stderr_sent:self._stderr_sent + room]
            self._stdout_sent += len(stdout)
            self._stderr_sent += len(stderr)
            done = self._stdout_sent >= len(result.stdout) and self._stderr_sent >= len(result.stderr)
            return stdout, stderr, done

    @property
    def exit_code(self) -> int:
        return self._result.exit_code


@dataclass
class _Shell:
    shell_id: str
    commands: dict[str, _Command] = field(default_factory=dict)


class _WinRSService:
    """The shells and commands of one endpoint, and the answer to each WinRS operation."""

    def __init__(self, handler: CommandHandler) -> None:
        self._handler = handler
        self._shells: dict[str, _Shell] = {}
        self._lock = threading.Lock()

    def dispatch(self, request: WSManRequest) -> bytes:
        operation = {
            "Create": self._create, "Command": self._command, "Send": self._send,
            "Receive": self._receive, "Signal": self._signal, "Delete": self._delete,
        }.get(request.action)
        if operation is None:
            raise action_not_supported()
        if request.resource_uri != CMD_RESOURCE_URI:
            raise resource_not_found(request.resource_uri)
        return operation(request)

    def _shell(self, request: WSManRequest) -> _Shell:
        with self._lock:
            shell = self._shells.get(request.shell_id or "")
        if shell is None:
            raise shell_not_found(request.shell_id or "")
        return shell

    def _command_of(self, request: WSManRequest, command_id: str | None) -> _Command:
        command = self._shell(request).commands.get((command_id or "").upper())
        if command is None:
            raise command_not_found()
        return command

    def _create(self, request: WSManRequest) -> bytes:
        shell_id = str(uuid.uuid4()).upper()
        with self._lock:
            self._shells[shell_id] = _Shell(shell_id)
        body = (
            "<x:ResourceCreated><a:Address>http://127.0.0.1/wsman</a:Address><a:ReferenceParameters>"
            f"<w:ResourceURI>{CMD_RESOURCE_URI}</w:ResourceURI><w:SelectorSet>"
            f'<w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet>'
            "</a:ReferenceParameters></x:ResourceCreated>"
            f"<rsp:Shell><rsp:ShellId>{shell_id}</rsp:ShellId><rsp:ResourceUri>{CMD_RESOURCE_URI}</rsp:ResourceUri>"
            "<rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams>"
            "</rsp:Shell>"
        )
        return response_envelope("Create", request.message_id, body)

    def _command(self, request: WSManRequest) -> bytes:
        shell = self._shell(request)
        command_line = request.body.find("rsp:CommandLine", NS)
        if command_line is None:
            raise WSManFault("s:Sender", "w:SchemaValidationError", 2150858817,
                             "The SOAP XML in the message does not match the corresponding XML schema definition.")
        command = command_line.findtext("rsp:Command", default="", namespaces=NS)
        arguments = [arg.text or "" for arg in command_line.findall("rsp:Arguments", NS)]
        # A client may choose the CommandId (pypsrp does); pywinrm lets the server pick.
        command_id = (command_line.get("CommandId") or str(uuid.uuid4())).upper()
        with self._lock:
            shell.commands[command_id] = _Command(command, arguments)
        body = f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>"
        return response_envelope("Command", request.message_id, body)

    def _send(self, request: WSManRequest) -> bytes:
        for stream in request.body.findall("rsp:Send/rsp:Stream", NS):
            command = self._command_of(request, stream.get("CommandId"))
            try:
                command.add_stdin(base64.b64decode(stream.text or "", validate=True))
            except binascii.Error:
                raise WSManFault("s:Sender", "w:SchemaValidationError", 2150858817,
                                 "The stdin stream is not valid base64.") from None
            if (stream.get("End") or "").lower() == "true":
                command.start(self._handler)
        return response_envelope("Send", request.message_id, "<rsp:SendResponse/>")

    def _receive(self, request: WSManRequest) -> bytes:
        desired = request.body.find("rsp:Receive/rsp:DesiredStream", NS)
        command_id = (desired.get("CommandId") if desired is not None else "") or ""
        command = self._command_of(request, command_id)
        # No End="true" seen (e.g. `raw` sends no stdin at all): the input is whatever came so far.
        command.start(self._handler)
        if not command.wait(request.operation_timeout):
            raise operation_timed_out()
        stdout, stderr, done = command.next_output()
        command_id = command_id.upper()
        parts = [
            f'<rsp:Stream Name="{name}" CommandId="{command_id}">{base64.b64encode(data).decode()}</rsp:Stream>'
            for name, data in (("stdout", stdout), ("stderr", stderr)) if data
        ]
        if done:
            parts += [f'<rsp:Stream Name="{name}" CommandId="{command_id}" End="true"></rsp:Stream>'
                      for name in ("stdout", "stderr")]
            parts.append(f'<rsp:CommandState CommandId="{command_id}" State="{SHELL_NS}/CommandState/Done">'
                         f"<rsp:ExitCode>{command.exit_code}</rsp:ExitCode></rsp:CommandState>")
        else:
            parts.append(f'<rsp:CommandState CommandId="{command_id}" State="{SHELL_NS}/CommandState/Running"/>')
        return response_envelope("Receive", request.message_id, f"<rsp:ReceiveResponse>{''.join(parts)}</rsp:ReceiveResponse>")

    def _signal(self, request: WSManRequest) -> bytes:
        signal = request.body.find("rsp:Signal", NS)
        command_id = ((signal.get("CommandId") if signal is not None else "") or "").upper()
        shell = self._shell(request)
        self._command_of(request, command_id)
        if element_text(signal.find("rsp:Code", NS) if signal is not None else None) == SIGNAL_TERMINATE:
            with self._lock:
                shell.commands.pop(command_id, None)
        return response_envelope("Signal", request.message_id, "<rsp:SignalResponse/>")

    def _delete(self, request: WSManRequest) -> bytes:
        self._shell(request)
        with self._lock:
            self._shells.pop(request.shell_id or "", None)
        return response_envelope("Delete", request.message_id, "")

    def shell_count(self) -> int:
        with self._lock:
            return len(self._shells)


# --- NTLM ---------------------------------------------------------------------------------------

class _NtlmUserFile:
    """The process-wide NTLM_USER_FILE pyspnego's acceptor reads: every live NTLM endpoint's user.

    pyspnego looks the file up through the environment at each handshake, so all servers of a
    process share one file; a user name therefore has one password per process.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lines: Counter[str] = Counter()
        self._path: str | None = None
        self._previous: str | None = None

    @staticmethod
    def line_for(username: str, password: str) -> str:
        domain, backslash, user = username.rpartition("\\")
        return f"{domain}:{user}:{password}"

    def add(self, line: str) -> None:
        with self._lock:
            if self._path is None:
                fd, self._path = tempfile.mkstemp(prefix="sim-ntlm-users-")
                os.close(fd)
                self._previous = os.environ.get("NTLM_USER_FILE")
                os.environ["NTLM_USER_FILE"] = self._path
            self._lines[line] += 1
            self._write()

    def remove(self, line: str) -> None:
        with self._lock:
            self._lines[line] -= 1
            if self._lines[line] <= 0:
                del self._lines[line]
            if self._lines or self._path is None:
                self._write()
                return
            os.unlink(self._path)
            self._path = None
            if self._previous is None:
                os.environ.pop("NTLM_USER_FILE", None)
            else:
                os.environ["NTLM_USER_FILE"] = self._previous

    def _write(self) -> None:
        if self._path:
            with open(self._path, "w", encoding="utf-8") as users:
                users.write("".join(f"{line}\n" for line in self._lines))


_NTLM_USERS = _NtlmUserFile()


def _ntlm_message_type(token: bytes) -> int:
    if len(token) < 12 or not token.startswith(b"NTLMSSP\x00"):
        return 0
    return struct.unpack("<I", token[8:12])[0]


def unwrap_encrypted(body: bytes, context: spnego.ContextProxy) -> bytes:
    """MS-WSMV 2.2.9.1.1: boundary, OriginalContent Length=N, octet-stream: <len><signature><sealed N>."""
    match = re.search(rb"Length=(\d+)\r\n", body)
    start = body.find(OCTET_STREAM_HEADER)
    if match is None or start < 0:
        raise ValueError("not an HTTP-SPNEGO-session-encrypted body")
    length = int(match.group(1))
    payload = body[start + len(OCTET_STREAM_HEADER):]
    signature_length = struct.unpack("<I", payload[:4])[0]
    signature = payload[4:4 + signature_length]
    sealed = payload[4 + signature_length:4 + signature_length + length]
    return context.unwrap(signature + sealed).data


def wrap_encrypted(message: bytes, context: spnego.ContextProxy) -> bytes:
    wrapped = context.wrap(message, encrypt=True).data  # NTLM: 16-byte signature, then the sealed data
    signature, sealed = wrapped[:NTLM_SIGNATURE_LENGTH], wrapped[NTLM_SIGNATURE_LENGTH:]
    return (
        MIME_BOUNDARY + b"\r\n"
        + f"\tContent-Type: {ENCRYPTED_PROTOCOL}\r\n".encode()
        + f"\tOriginalContent: type={SOAP_CONTENT_TYPE};Length={len(message)}\r\n".encode()
        + MIME_BOUNDARY + b"\r\n" + OCTET_STREAM_HEADER
        + struct.pack("<I", len(signature)) + signature + sealed
        + MIME_BOUNDARY + b"--\r\n"
    )


# --- HTTP ---------------------------------------------------------------------------------------

class _DropConnection(Exception):
    """The "drop" fault: close the socket instead of answering."""


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    content_type: str = SOAP_CONTENT_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)


class _EndpointHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, endpoint: Endpoint, sock: socket.socket) -> None:
        super().__init__(("127.0.0.1", 0), _WSManHTTPHandler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.server_address = sock.getsockname()
        self.endpoint = endpoint
        self.service = _WinRSService(endpoint.handler)
        self.psrp = PSRPService(endpoint.handler)  # the PowerShell resource URI on the same endpoint
        self.stats = EndpointStats()
        self.stats_lock = threading.Lock()
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gave up (read timeout, "slow") leaves a broken pipe behind: not news.
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def close_connections(self) -> None:
        with self.connections_lock:
            for connection in list(self.connections):
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _WSManHTTPHandler(BaseHTTPRequestHandler):
    """One keep-alive connection. The NTLM context lives here: NTLM authenticates the connection."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else delayed ACKs cost ~130 ms per command
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    server: _EndpointHTTPServer

    def setup(self) -> None:
        super().setup()
        self.ntlm: spnego.ContextProxy | None = None
        self.authenticated = False
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
        log.debug("%s %s", self.server.endpoint.name, format % args)

    def do_GET(self) -> None:
        self._read_body()
        self._send(_Reply(405, b"", "text/plain"))

    def do_POST(self) -> None:
        body = self._read_body()
        endpoint = self.server.endpoint
        try:
            reply = self._answer(endpoint, body)
        except _DropConnection:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(reply)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        header_bytes = len(self.requestline) + 2 + sum(len(k) + len(v) + 4 for k, v in self.headers.items()) + 2
        with self.server.stats_lock:
            self.server.stats.http_requests += 1
            self.server.stats.request_bytes += header_bytes + len(body)
            self.server.stats.request_body_bytes += len(body)
        return body

    def _answer(self, endpoint: Endpoint, body: bytes) -> _Reply:
        if "http_500" in endpoint.faults:
            return _Reply(500, b"simulated HTTP 500\r\n", "text/plain")
        if "slow" in endpoint.faults:
            self.server.stopping.wait(endpoint.slow_seconds)
        if self.path.split("?")[0].rstrip("/").lower() != "/wsman":
            return _Reply(404, b"", "text/plain")
        refusal = self._authenticate_basic(endpoint) if endpoint.auth == "basic" else self._authenticate_ntlm(endpoint)
        if refusal is not None:
            return refusal
        encrypted = self.ntlm is not None and ENCRYPTED_PROTOCOL.lower() in self.headers.get("Content-Type", "").lower()
        if encrypted:
            try:
                body = unwrap_encrypted(body, self.ntlm)
            except Exception as error:  # wrong key or framing: Windows answers 400
                log.debug("%s: cannot decrypt request: %s", endpoint.name, error)
                return _Reply(400, b"", "text/plain")
        if not body:
            return _Reply(200, b"")  # pywinrm's empty POST that sets up the encryption context
        reply = self._dispatch(endpoint, body)
        if encrypted:
            reply.body = wrap_encrypted(reply.body, self.ntlm)
            reply.content_type = ENCRYPTED_CONTENT_TYPE
        return reply

    def _dispatch(self, endpoint: Endpoint, xml: bytes) -> _Reply:
        try:
            request = parse_request(xml)
        except (ET.ParseError, ValueError) as error:
            log.debug("%s: bad envelope: %s", endpoint.name, error)
            return _Reply(400, b"", "text/plain")
        with self.server.stats_lock:
            self.server.stats.operations[request.action] += 1
        if request.action == "Receive" and "drop" in endpoint.faults:
            raise _DropConnection()
        try:
            service = self.server.psrp if request.resource_uri == PS_RESOURCE_URI else self.server.service
            return _Reply(200, service.dispatch(request))
        except WSManFault as fault:
            return _Reply(500, fault_envelope(fault, request.message_id))
        except Exception as error:  # a simulator bug: a fault that names it, not a dropped connection
            log.exception("%s: %s failed", endpoint.name, request.action)
            fault = WSManFault("s:Receiver", "w:InternalError", 2147500037,  # E_FAIL
                               f"simulated host {endpoint.name}: internal error in {request.action}: {error!r}")
            return _Reply(500, fault_envelope(fault, request.message_id))

    def _unauthorized(self, challenge: str) -> _Reply:
        self.ntlm = None
        self.authenticated = False
        return _Reply(401, b"", "text/plain", [("WWW-Authenticate", challenge)])

    def _authenticate_basic(self, endpoint: Endpoint) -> _Reply | None:
        scheme, space, token = self.headers.get("Authorization", "").partition(" ")
        try:
            user, colon, password = base64.b64decode(token).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, password = "", ""
        if (scheme.lower() == "basic" and user.lower() == endpoint.username.lower()
                and password == endpoint.password and "http_401" not in endpoint.faults):
            return None
        return self._unauthorized('Basic realm="WSMAN"')

    def _authenticate_ntlm(self, endpoint: Endpoint) -> _Reply | None:
        scheme, space, token_b64 = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() not in ("negotiate", "ntlm"):
            # No header: fine on a connection that already authenticated, else ask for it.
            return None if self.authenticated else self._unauthorized("Negotiate")
        try:
            token = base64.b64decode(token_b64)
        except binascii.Error:
            return self._unauthorized("Negotiate")
        message_type = _ntlm_message_type(token)
        if message_type == 1:
            self.authenticated = False
            self.ntlm = spnego.server(protocol="ntlm")
            challenge = self.ntlm.step(token) or b""
            return _Reply(401, b"", "text/plain", [("WWW-Authenticate", f"{scheme} {base64.b64encode(challenge).decode()}")])
        if message_type == 3 and self.ntlm is not None:
            try:
                self.ntlm.step(token)
            except spnego.exceptions.SpnegoError as error:
                log.debug("%s: NTLM authentication failed: %s", endpoint.name, error)
                return self._unauthorized("Negotiate")
            principal = (self.ntlm.client_principal or "").lower()
            expected = endpoint.username.lower()
            if "http_401" in endpoint.faults or principal.rpartition("\\")[2] != expected.rpartition("\\")[2]:
                return self._unauthorized("Negotiate")
            self.authenticated = True
            return None
        return self._unauthorized("Negotiate")

    def _send(self, reply: _Reply) -> None:
        status_line = f"HTTP/1.1 {reply.status} {self.responses.get(reply.status, ('',))[0]}\r\n"
        headers = [("Server", self.server_version), ("Content-Type", reply.content_type),
                   ("Content-Length", str(len(reply.body))), *reply.headers]
        if self.close_connection:
            headers.append(("Connection", "close"))
        head = status_line + "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
        data = head.encode("latin-1") + reply.body
        self.wfile.write(data)  # one write: headers and body leave in one segment
        with self.server.stats_lock:
            self.server.stats.response_bytes += len(data)


# --- the fleet ----------------------------------------------------------------------------------

class FleetServer:
    """One process, one listening socket per Endpoint on 127.0.0.1.

    A winrm or psrp endpoint is an HTTP server (a thread per connection) that serves both the cmd
    shell and the PowerShell resource URI; an ssh endpoint is served by ssh_server.SSHServers.
    """

    def __init__(self, endpoints: list[Endpoint]) -> None:
        names = [endpoint.name for endpoint in endpoints]
        if len(set(names)) != len(names):
            raise ValueError(f"endpoint names must be unique: {names}")
        self.endpoints = {endpoint.name: endpoint for endpoint in endpoints}
        self._servers: dict[str, _EndpointHTTPServer] = {}
        self._reserved: dict[str, socket.socket] = {}  # "unreachable": bound, never listening
        self._threads: list[threading.Thread] = []
        self._ntlm_lines: list[str] = []
        self._ports: dict[str, int] = {}
        self._ssh = SSHServers()

    def start(self) -> None:
        try:
            for endpoint in self.endpoints.values():
                self._start_endpoint(endpoint)
        except BaseException:
            self.stop()  # e.g. a fixed port already taken: leave nothing half-started
            raise

    def _start_endpoint(self, endpoint: Endpoint) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        unreachable = "unreachable" in endpoint.faults
        try:
            if not unreachable:
                # Fixed ports survive TIME_WAIT. Not for "unreachable": Linux may let two bound,
                # non-listening SO_REUSEADDR sockets share a port.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", endpoint.port))
            if not unreachable:
                sock.listen(64)
        except OSError:
            sock.close()
            raise
        self._ports[endpoint.name] = sock.getsockname()[1]
        if unreachable:
            self._reserved[endpoint.name] = sock  # bound, never listening: connect() is refused
            return
        if endpoint.transport == "ssh":
            self._ssh.add(endpoint, sock)
            return
        if endpoint.auth == "ntlm":
            line = _NtlmUserFile.line_for(endpoint.username, endpoint.password)
            _NTLM_USERS.add(line)
            self._ntlm_lines.append(line)
        server = _EndpointHTTPServer(endpoint, sock)
        self._servers[endpoint.name] = server
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                  daemon=True, name=f"winrm-{endpoint.name}")
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._ssh.stop()
        for server in self._servers.values():
            server.stopping.set()  # wakes "slow" stalls
        # shutdown() waits up to a poll interval per server: stop them side by side.
        stoppers = [threading.Thread(target=server.shutdown) for server in self._servers.values()]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join(timeout=5)
        for server in self._servers.values():
            server.server_close()
            server.close_connections()
        for thread in self._threads:
            thread.join(timeout=5)
        for sock in self._reserved.values():
            sock.close()
        for line in self._ntlm_lines:
            _NTLM_USERS.remove(line)
        self._servers.clear()
        self._reserved.clear()
        self._threads.clear()
        self._ntlm_lines.clear()
        for endpoint in self.endpoints.values():
            close = getattr(endpoint.handler, "close", None)  # e.g. the fleet's warm Mono processes
            if close is not None:
                close()

    def __enter__(self) -> FleetServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def port_of(self, name: str) -> int:
        return self._ports[name]

    @property
    def stats(self) -> dict[str, EndpointStats]:
        """A snapshot per endpoint name (unreachable endpoints stay at zero)."""
        snapshot = {name: EndpointStats() for name in self.endpoints}
        for name, server in self._servers.items():
            with server.stats_lock:
                snapshot[name] = server.stats.copy()
        return snapshot

    def reset_stats(self) -> None:
        for server in self._servers.values():
            with server.stats_lock:
                server.stats = EndpointStats()

    def open_shells(self, name: str) -> int:
        """How many shells the endpoint holds (a client that forgets Delete leaks them)."""
        return self._servers[name].service.shell_count()

    def open_runspace_pools(self, name: str) -> int:
        """How many PowerShell runspace pools (PSRP shells) the endpoint holds."""
        return self._servers[name].psrp.pool_count()
