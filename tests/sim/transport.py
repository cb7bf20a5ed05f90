"""What a transport of the simulated fleet needs to know about one host (tests/sim/README.md).

The transports (winrm_server.py for WinRM and, on the same HTTP endpoint, psrp_server.py for
PSRP; ssh_server.py for SSH) only move bytes; what a command *does* is the CommandHandler's
business, so the module-execution side plugs in here and nowhere else. Every transport hands the
handler the same thing: a PowerShell command line and the whole of its input.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

TRANSPORTS = ("winrm", "psrp", "ssh")
# The fault names come from WinRM (HTTP); each transport acts them out its own way (tests/sim/README.md).
TRANSPORT_FAULTS = frozenset({"unreachable", "http_500", "http_401", "slow", "drop"})
HTTP_AUTH_METHODS = ("basic", "ntlm")
SSH_AUTH_METHODS = ("key", "password")
AUTH_METHODS = {"winrm": HTTP_AUTH_METHODS, "psrp": HTTP_AUTH_METHODS, "ssh": SSH_AUTH_METHODS}


@dataclass
class CommandResult:
    stdout: bytes
    stderr: bytes
    exit_code: int


# (command, arguments, stdin) -> result. `command` is the rsp:Command text, `arguments` the
# rsp:Arguments elements in order (pywinrm joins its args into one element; ansible-core 2.21
# sends none), `stdin` every Send chunk joined once the client sent End="true". PSRP and SSH turn
# what they received into the same form (psrp_server.pipeline_command, ssh_server.exec_command).
CommandHandler = Callable[[str, list[str], bytes], CommandResult]


def unknown_command(command: str, arguments: list[str], stdin: bytes) -> CommandResult:
    """Default handler: a simulated host that recognises nothing says so clearly."""
    message = f"simulated host: no handler for command {command!r}\r\n"
    return CommandResult(stdout=b"", stderr=message.encode("utf-8"), exit_code=1)


def default_auth(transport: str) -> str:
    """The authentication a host uses when the fleet file names none."""
    return AUTH_METHODS[transport][0]


@dataclass
class Endpoint:
    name: str
    port: int  # 0 = pick a free port on 127.0.0.1
    username: str
    password: str
    auth: str = "basic"  # winrm/psrp: "basic" | "ntlm" (NTLM with message encryption); ssh: "key" | "password"
    faults: frozenset[str] = frozenset()
    slow_seconds: float = 30.0  # how long "slow" stalls each response (each connection's greeting on SSH)
    handler: CommandHandler = field(default=unknown_command)
    transport: str = "winrm"  # "winrm" and "psrp" share one HTTP endpoint that serves both
    # SSH only: the OpenSSH public key ("ssh-ed25519 AAAA...") accepted for "key" auth, and the
    # server's private host key (OpenSSH PEM text).
    authorized_key: str = ""
    host_key: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        self.faults = frozenset(self.faults)
        if self.transport not in TRANSPORTS:
            raise ValueError(f"endpoint {self.name}: transport must be one of {list(TRANSPORTS)}, not {self.transport!r}")
        allowed = AUTH_METHODS[self.transport]
        if self.auth not in allowed:
            raise ValueError(f"endpoint {self.name}: auth for transport {self.transport} must be one of "
                             f"{list(allowed)}, not {self.auth!r}")
        if self.transport == "ssh" and not self.host_key:
            raise ValueError(f"endpoint {self.name}: an SSH endpoint needs a host_key")
        if self.auth == "key" and not self.authorized_key:
            raise ValueError(f"endpoint {self.name}: auth 'key' needs an authorized_key")
        # The fleet file lists transport and BITS faults together; the transport acts on its own
        # (TRANSPORT_FAULTS) and leaves the rest to the module-execution side.

    @property
    def is_http(self) -> bool:
        return self.transport in ("winrm", "psrp")
