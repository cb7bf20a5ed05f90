"""Builders of bits_job_info results (shape A, its RETURN in plugins/modules/bits_job_info.yml) for the
policy tests."""
from __future__ import annotations

import typing as t

from ansible_collections.winbits.bits.plugins.plugin_utils._flags import names_from_host

SYSTEM = ("S-1-5-18", "NT AUTHORITY\\SYSTEM")
ALICE = ("S-1-5-21-1000-1000-1000-1013", "CORP\\alice")


def guid(number: int) -> str:
    return "{5D3B4C39-1F0A-4D5B-9E2F-%012X}" % number


def make_job(number: int = 1, name: str | None = "contentSync", flags: int | None = 3,
             owner: tuple[str | None, str | None] = SYSTEM, token: tuple[str, str | None] | None = None,
             **overrides: t.Any) -> dict[str, t.Any]:
    """A job as bits_job_info reports it (its RETURN in plugins/modules/bits_job_info.yml); flags None = not readable."""
    job = {
        "id": guid(number), "name": name, "owner": owner[0], "owner_name": owner[1], "state": "SUSPENDED",
        "type": "DOWNLOAD", "flags": names_from_host(flags), "flags_value": flags,
        "unknown_flags_value": None if flags is None else flags & ~0x3,
        "helper_token_sid": token[0] if token else None, "helper_token_name": token[1] if token else None,
        "client_certificate": False, "creation_time": "2026-11-20T08:15:00Z",
        "modification_time": "2026-11-21T09:00:00Z", "error": None, "read_error": None, "read_errors": [],
    }
    if flags is None:
        job["read_error"] = {"call": "QueryInterface(IBitsTokenOptions)", "hresult": 2147500034,
                             "hresult_hex": "0x80004002", "explanation": "BITS older than 4.0"}
        job["read_errors"] = [job["read_error"]]
    job.update(overrides)
    return job


def make_result(*jobs: dict[str, t.Any]) -> dict[str, t.Any]:
    return {"changed": False, "exists": bool(jobs),
            "caller": {"sid": "S-1-5-21-1000-1000-1000-500", "is_admin": True, "os_build": 20348},
            "jobs": list(jobs), "warnings": []}
