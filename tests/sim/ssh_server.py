"""SSH for the simulated fleet: an asyncssh server per host, as OpenSSH for Windows with PowerShell.

Ansible's `ssh` connection with ``ansible_shell_type=powershell`` runs every module pipelined
(ansible-core's plugins/connection/ssh.py and shell/powershell.py): one ``exec`` channel whose command line is Ansible's
``powershell ... -EncodedCommand`` line (single-quoted on 2.21, behind ``chcp.com 65001 > $null ;``
on 2.16), the payload on stdin, then EOF; the reply is stdout, stderr and the exit status.
exec_command turns the command line into the (command, arguments) the WinRM path carries, so every
transport reaches the same CommandHandler.

Authentication is the endpoint's one method: ``key`` (the fleet's client key) or ``password``.
The fault names come from WinRM; here they mean:

- ``unreachable``: nothing listens (the FleetServer keeps the port bound, not listening);
- ``slow``: each connection waits ``slow_seconds`` before the SSH greeting, then closes, so the
  client's ConnectTimeout (which covers the greeting and key exchange) expires first;
- ``http_401``: every authentication is refused, the right one too;
- ``http_500``: the session channel is refused (as sshd does when it cannot start a session);
- ``drop``: the connection is cut after the command ran, before its reply.
"""
from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import logging
import re
import shlex
import socket
import threading
import traceback
import typing

import asyncssh

from tests.sim.payload import UnsupportedCommand, decode_command_line
from tests.sim.transport import CommandResult, Endpoint

log = logging.getLogger(__name__)

# ansible-core 2.16's ssh plugin puts this before the command to switch the console to UTF-8.
_CHCP_PREFIX = re.compile(r"(?i)^\s*chcp(?:\.com)?\s+65001\s*>\s*\$null\s*;\s*")
_POWERSHELL_WORD = re.compile(r"(?i)^(?:\S*[\\/])?(?:powershell|pwsh)(?:\.exe)?$")
_RAW_PREFIX = "powershell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand"
# Commands run in threads (the handler starts Mono); as many at once as a big fleet's forks.
_WORKERS = 64


def exec_command(line: str) -> tuple[str, list[str]]:
    """An SSH exec command line as the (command, arguments) of a WinRS command.

    A ``powershell`` line is split into words the way PowerShell would (quotes removed, so 2.21's
    ``-EncodedCommand '<base64>'`` reads like the unquoted form). Anything else is what the SSH
    server's PowerShell would run as a script (e.g. Ansible's ``raw``): it is encoded the way the
    shell plugin encodes a script for WinRM, so the payload decoder sees the same thing for both.
    """
    line = _CHCP_PREFIX.sub("", line, count=1)
    words = _powershell_words(line)
    if words and _POWERSHELL_WORD.match(words[0]):
        return words[0], words[1:]
    encoded = base64.b64encode(line.encode("utf-16-le")).decode("ascii")
    return f"{_RAW_PREFIX} {encoded}", []


def reads_input(command: str, arguments: list[str]) -> bool:
    """Whether the command's PowerShell reads its input (Ansible's wrappers read ``$input``).

    Windows' sshd starts the command at once and the script reads stdin when it wants it. Ansible
    sends a module's payload and then EOF, but for a command without input (``raw``) it keeps stdin
    open on a pty: such a command must run without waiting for an EOF that never comes.
    """
    try:
        script = decode_command_line(command, arguments)
    except UnsupportedCommand:
        return False  # the handler refuses it, no input needed for that
    return "$input" in script.lower()


def _powershell_words(line: str) -> list[str]:
    """Whitespace-separated words with '...' and "..." quoting; backslashes are not escapes (Windows paths)."""
    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split = True
    lexer.escape = ""
    try:
        return list(lexer)
    except ValueError:  # an unclosed quote: not a line Ansible sends
        return []


class _ExecSession(asyncssh.SSHServerSession):
    """One ``exec`` channel: collect stdin until EOF, run the handler in a thread, reply."""

    def __init__(self, endpoint: Endpoint, executor: concurrent.futures.Executor) -> None:
        self._endpoint = endpoint
        self._executor = executor
        self._channel: asyncssh.SSHServerChannel | None = None
        self._command: tuple[str, list[str]] | None = None
        self._stdin: list[bytes] = []
        self._started = False

    def connection_made(self, chan: asyncssh.SSHServerChannel) -> None:  # type: ignore[override]
        self._channel = chan

    def pty_requested(self, term_type: str, term_size: object, term_modes: object) -> bool:
        return False  # Ansible never asks for one for a module; a terminal would mangle the payload

    def shell_requested(self) -> bool:
        return False  # only exec: the simulated host has no interactive shell

    def subsystem_requested(self, subsystem: str) -> bool:
        return False  # no sftp: Windows modules are always pipelined

    def exec_requested(self, command: str) -> bool:
        self._command = exec_command(command)
        return True

    def session_started(self) -> None:
        if self._command is not None and not reads_input(*self._command):
            self._start()

    def data_received(self, data: bytes, datatype: int | None) -> None:  # type: ignore[override]
        if datatype is None:  # stdin; extended data from a client means nothing here
            self._stdin.append(data)

    def eof_received(self) -> bool:
        self._start()
        return True  # keep the channel open for the reply

    def _start(self) -> None:
        if not self._started and self._command is not None:
            self._started = True
            asyncio.get_running_loop().create_task(self._run(*self._command, b"".join(self._stdin)))

    async def _run(self, command: str, arguments: list[str], stdin: bytes) -> None:
        assert self._channel is not None
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self._executor, self._call_handler, command, arguments, stdin)
        if "drop" in self._endpoint.faults:
            self._channel.get_connection().abort()
            return
        if result.stdout:
            self._channel.write(result.stdout)
        if result.stderr:
            self._channel.write_stderr(result.stderr)
        self._channel.exit(result.exit_code)

    def _call_handler(self, command: str, arguments: list[str], stdin: bytes) -> CommandResult:
        try:
            return self._endpoint.handler(command, arguments, stdin)
        except Exception:  # a broken handler must still end the command, visibly
            log.exception("simulated command handler failed")
            return CommandResult(b"", ("simulated host: handler failed\r\n" + traceback.format_exc()).encode(), 1)


class _HostServer(asyncssh.SSHServer):
    """Authentication and sessions of one connection to one simulated host."""

    def __init__(self, endpoint: Endpoint, executor: concurrent.futures.Executor) -> None:
        self._endpoint = endpoint
        self._executor = executor

    def begin_auth(self, username: str) -> bool:
        return True  # authentication is always required

    def password_auth_supported(self) -> bool:
        return self._endpoint.auth == "password"

    def validate_password(self, username: str, password: str) -> bool:
        return self._may_log_on(username) and password == self._endpoint.password

    def public_key_auth_supported(self) -> bool:
        return self._endpoint.auth == "key"

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        # asyncssh checks the signature; this says whether the key may log on as that user.
        offered = key.export_public_key("openssh").decode("ascii").split()[:2]
        return self._may_log_on(username) and offered == self._endpoint.authorized_key.split()[:2]

    def _may_log_on(self, username: str) -> bool:
        return "http_401" not in self._endpoint.faults and username.lower() == self._endpoint.username.lower()

    def session_requested(self) -> asyncssh.SSHServerSession | bool:
        if "http_500" in self._endpoint.faults:
            return False  # the client sees "channel open failed: administratively prohibited"
        return _ExecSession(self._endpoint, self._executor)


class SSHServers:
    """Every SSH endpoint of a fleet, served by one asyncio loop in one background thread."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="ssh-fleet")
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="ssh-cmd")
        self._listeners: list[asyncio.Task[None]] = []
        self._connections: set[asyncssh.SSHServerConnection] = set()
        self._started = False

    def add(self, endpoint: Endpoint, sock: socket.socket) -> None:
        """Serve the endpoint on a bound, listening socket (the FleetServer made it)."""
        if not self._started:
            self._thread.start()
            self._started = True
        sock.setblocking(False)
        self._call(self._listen(endpoint, sock))

    def _call(self, coroutine: typing.Coroutine[typing.Any, typing.Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    async def _listen(self, endpoint: Endpoint, sock: socket.socket) -> None:
        server_options = {
            "server_host_keys": [asyncssh.import_private_key(endpoint.host_key)],
            "server_factory": lambda: _HostServer(endpoint, self._executor),
            "encoding": None,  # stdin/stdout are bytes: the payload is not ours to decode here
            "login_timeout": 60,
        }
        self._listeners.append(asyncio.get_running_loop().create_task(self._accept(endpoint, sock, server_options)))

    async def _accept(self, endpoint: Endpoint, sock: socket.socket, server_options: dict[str, typing.Any]) -> None:
        loop = asyncio.get_running_loop()
        handshakes: set[asyncio.Task[None]] = set()
        try:
            while True:
                connection, _address = await loop.sock_accept(sock)
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                task = loop.create_task(self._serve(endpoint, connection, server_options))
                handshakes.add(task)
                task.add_done_callback(handshakes.discard)
        finally:
            for task in list(handshakes):
                task.cancel()
            sock.close()

    async def _serve(self, endpoint: Endpoint, connection: socket.socket, server_options: dict[str, typing.Any]) -> None:
        if "slow" in endpoint.faults:
            try:
                await asyncio.sleep(endpoint.slow_seconds)  # no greeting: the client's ConnectTimeout ends it
            finally:
                connection.close()
            return
        try:
            ssh_connection = await asyncssh.run_server(connection, **server_options)
        except (OSError, asyncssh.Error) as error:  # refused logins end here too
            log.debug("%s: SSH connection ended: %s", endpoint.name, error)
            return
        self._connections.add(ssh_connection)
        asyncio.get_running_loop().create_task(self._forget(ssh_connection))

    async def _forget(self, ssh_connection: asyncssh.SSHServerConnection) -> None:
        await ssh_connection.wait_closed()
        self._connections.discard(ssh_connection)

    async def _shutdown(self) -> None:
        for listener in self._listeners:
            listener.cancel()
        await asyncio.gather(*self._listeners, return_exceptions=True)
        for ssh_connection in list(self._connections):
            ssh_connection.abort()
        self._listeners.clear()

    def stop(self) -> None:
        if not self._started or self._loop.is_closed():
            return
        try:
            self._call(self._shutdown())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._loop.close()
