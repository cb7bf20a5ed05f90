"""Recorded WinRS commands of real ansible-core runs (tests/sim/capture_payload.py), for the sim's tests.

Each fixture file holds one JSON line per task of /tmp-style playbooks run by that ansible-core against
the stubbed winrm plugin: ``case``, ``command``, ``arguments``, ``stdin_b64``. Cases: adhoc_string_flags
(``-a "job=myDownloadJob flags=local_file,network"``), check_diff_list_flags (``-C -D``, a list),
become_alice_password (runas alice with a password), become_system_batch (SYSTEM, logon_type=batch),
async, raw (``raw: Get-Service BITS``).
"""
from __future__ import annotations

import base64
import dataclasses
import json
import lzma
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
VERSIONS = ("2.18.19", "2.21.5")


@dataclasses.dataclass(frozen=True)
class RecordedCommand:
    case: str
    ansible_core: str
    command: str
    arguments: list[str]
    stdin: bytes


def load_recorded(version: str) -> dict[str, RecordedCommand]:
    path = FIXTURES / f"winrm_commands_{version}.jsonl.xz"
    commands = {}
    with lzma.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            entry = json.loads(line)
            commands[entry["case"]] = RecordedCommand(
                case=entry["case"], ansible_core=entry["ansible_core"], command=entry["command"],
                arguments=entry["arguments"], stdin=base64.b64decode(entry["stdin_b64"]))
    return commands
