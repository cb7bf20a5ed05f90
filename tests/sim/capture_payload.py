"""Record what Ansible's winrm connection would send for one task, without any server.

Used to make the payload fixtures of tests/sim/tests/ from a real ansible-core (any version with the
winrm plugin): it replaces the plugin's network layer (``_connect`` and ``_winrm_exec``) in the
worker and writes each command line, its arguments and its whole stdin to a JSON file. Run it with
the interpreter of the ansible-core to record, e.g.::

    /tmp/a218/bin/python tests/sim/capture_payload.py OUT.json adhoc -i inv -m winbits.bits.bits_helper_token -a job=x all

The stub answers every command with a small JSON result so the task ends.
"""
from __future__ import annotations

import base64
import json
import sys
from typing import Any

OUTPUT_FILE = sys.argv[1]


def _record(command: Any, args: Any, stdin_iterator: Any) -> None:
    stdin = b"".join(chunk for chunk, _last in stdin_iterator) if stdin_iterator else b""
    entry = {
        "command": command.decode() if isinstance(command, bytes) else command,
        "arguments": [a.decode() if isinstance(a, bytes) else a for a in args],
        "stdin_b64": base64.b64encode(stdin).decode(),
    }
    with open(OUTPUT_FILE, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")


def _patch_winrm() -> None:
    from ansible.plugins.connection import winrm

    def fake_connect(self: Any) -> Any:
        self._connected = True
        return self

    def fake_exec(self: Any, command: Any, args: Any = (), from_exec: bool = False,
                  stdin_iterator: Any = None) -> tuple[int, bytes, bytes]:
        _record(command, args, stdin_iterator)
        return 0, b'{"changed": false, "captured": true}\r\n', b""

    winrm.Connection._connect = fake_connect
    winrm.Connection._winrm_exec = fake_exec


def main() -> None:
    cli = sys.argv[2]
    _patch_winrm()
    if cli == "adhoc":
        from ansible.cli.adhoc import main as run
        sys.argv = ["ansible", *sys.argv[3:]]
    else:
        from ansible.cli.playbook import main as run
        sys.argv = ["ansible-playbook", *sys.argv[3:]]
    run()


if __name__ == "__main__":
    main()
