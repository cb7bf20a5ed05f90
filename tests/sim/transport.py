"""What the WinRM side of the simulated fleet needs to know about one host (sim_api.md).

The transport (winrm_server.py) speaks WS-Management; what a command *does* is the
CommandHandler's business, so the module-execution side plugs in here and nowhere else.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

TRANSPORT_FAULTS = frozenset({"unreachable", "http_500", "http_401", "slow", "drop"})
AUTH_METHODS = frozenset({"basic", "ntlm"})


@dataclass
class CommandResult:
    stdout: bytes
    stderr: bytes
    exit_code: int


# (command, arguments, stdin) -> result. `command` is the rsp:Command text, `arguments` the
# rsp:Arguments elements in order (pywinrm joins its args into one element; ansible-core 2.21
# sends none), `stdin` every Send chunk joined once the client sent End="true".
CommandHandler = Callable[[str, list[str], bytes], CommandResult]


def unknown_command(command: str, arguments: list[str], stdin: bytes) -> CommandResult:
    """Default handler: a simulated host that recognises nothing says so clearly."""
    message = f"simulated host: no handler for command {command!r}\r\n"
    return CommandResult(stdout=b"", stderr=message.encode("utf-8"), exit_code=1)


@dataclass
class Endpoint:
    name: str
    port: int  # 0 = pick a free port on 127.0.0.1
    username: str
    password: str
    auth: str = "basic"  # "basic" | "ntlm" (NTLM with message encryption)
    faults: frozenset[str] = frozenset()
    slow_seconds: float = 30.0  # how long "slow" stalls each response
    handler: CommandHandler = field(default=unknown_command)

    def __post_init__(self) -> None:
        self.faults = frozenset(self.faults)
        if self.auth not in AUTH_METHODS:
            raise ValueError(f"endpoint {self.name}: auth must be one of {sorted(AUTH_METHODS)}, not {self.auth!r}")
        # The fleet file lists transport and BITS faults together; the transport acts on its own
        # (TRANSPORT_FAULTS) and leaves the rest to the module-execution side.
