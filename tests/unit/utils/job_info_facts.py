"""Raw bits_job_info results in the shape of the host contract (docs/host-contract.md, "bits_job_info"), for the controller's tests.

Every key of section D is present in what these build; a test overrides only what it is about. The
key sets are spelled out here once, so a test can check that the factory follows the contract.
"""
from __future__ import annotations

import typing as t

from ansible_collections.winbits.bits.tests.unit.utils.host_facts import ADMIN_SID, LOCAL_SYSTEM

GUID_1 = "{5D3B4C39-1F0A-4D5B-9E2F-000000000001}"
GUID_2 = "{5D3B4C39-1F0A-4D5B-9E2F-000000000002}"
GUID_3 = "{9A000000-0000-4000-8000-00000000000A}"
HELPER_SID = "S-1-5-21-1000-1000-1000-1013"

RAW_KEYS = {"changed", "caller", "all_users", "jobs", "error", "name_lookup"}
RAWJOB_KEYS = {"id", "name", "owner", "owner_name", "state", "state_value", "type", "type_value", "flags_value",
               "unknown_flags_value", "helper_token_sid", "helper_token_name", "client_certificate", "creation_time",
               "modification_time", "error", "read_error", "read_errors"}
JOB_ERROR_KEYS = {"hresult", "hresult_hex", "context", "context_value", "description", "description_error"}
READ_ERROR_KEYS = {"reason", "call", "hresult", "hresult_hex", "message"}
TASK_ERROR_KEYS = {"reason", "call", "hresult", "hresult_hex", "job_id", "message"}

STATES = {"QUEUED": 0, "CONNECTING": 1, "TRANSFERRING": 2, "SUSPENDED": 3, "ERROR": 4, "TRANSIENT_ERROR": 5,
          "TRANSFERRED": 6, "ACKNOWLEDGED": 7, "CANCELLED": 8}
TYPES = {"DOWNLOAD": 0, "UPLOAD": 1, "UPLOAD_REPLY": 2}
CONTEXTS = {"NONE": 0, "UNKNOWN": 1, "GENERAL_QUEUE_MANAGER": 2, "QUEUE_MANAGER_NOTIFICATION": 3, "LOCAL_FILE": 4,
            "REMOTE_FILE": 5, "GENERAL_TRANSPORT": 6, "REMOTE_APPLICATION": 7}


def raw_job(**overrides: object) -> dict[str, object]:
    """A fully read job: contentSync, owned by SYSTEM, flags local_file+network, a helper token."""
    state = str(overrides.get("state", "SUSPENDED"))
    job_type = str(overrides.get("type", "DOWNLOAD"))
    job: dict[str, object] = {
        "id": GUID_1,
        "name": "contentSync",
        "owner": LOCAL_SYSTEM,
        "owner_name": "NT AUTHORITY\\SYSTEM",
        "state": state,
        "state_value": STATES.get(state, 3),
        "type": job_type,
        "type_value": TYPES.get(job_type, 0),
        "flags_value": 3,
        "helper_token_sid": HELPER_SID,
        "helper_token_name": "CORP\\svc-sync",
        "client_certificate": False,
        "creation_time": "2026-11-20T08:15:00Z",
        "modification_time": "2026-11-21T09:00:00Z",
        "error": None,
        "read_error": None,
    }
    job.update(overrides)
    # As the host reports them: the bits beyond 0x3, and every failed call (the first is read_error).
    flags = job.get("flags_value")
    job.setdefault("unknown_flags_value", flags & ~0x3 if isinstance(flags, int) else None)
    job.setdefault("read_errors", [job["read_error"]] if job.get("read_error") else [])
    return job


def job_error(hresult: int, context: str = "REMOTE_FILE", description: str | None = "host text") -> dict[str, object]:
    return {"hresult": hresult, "hresult_hex": "0x%08X" % hresult, "context": context,
            "context_value": CONTEXTS[context], "description": description, "description_error": None}


def failed_job(hresult: int, context: str = "REMOTE_FILE", *, state: str = "ERROR", **overrides: object
               ) -> dict[str, object]:
    return raw_job(state=state, error=job_error(hresult, context), **overrides)


def read_error(call: str, hresult: int, reason: str = "com_error") -> dict[str, object]:
    return {"reason": reason, "call": call, "hresult": hresult, "hresult_hex": "0x%08X" % hresult,
            "message": "%s failed: 0x%08X" % (call, hresult)}


def bits3_job(**overrides: object) -> dict[str, object]:
    """A job on BITS < 4.0: read up to QueryInterface(IBitsTokenOptions), the token facts null."""
    job = raw_job(flags_value=None, helper_token_sid=None, helper_token_name=None,
                  read_error=read_error("QueryInterface(IBitsTokenOptions)", 0x80004002, "no_token_options"))
    job.update(overrides)
    return job


def caller(sid: str = ADMIN_SID, is_admin: bool = True, os_build: int = 20348) -> dict[str, object]:
    return {"sid": sid, "is_admin": is_admin, "os_build": os_build}


def raw_result(jobs: t.Sequence[dict[str, object]] = (), *, all_users: bool = True,
               who: dict[str, object] | None = None) -> dict[str, object]:
    return {"changed": False, "caller": who if who is not None else caller(), "all_users": all_users,
            "jobs": list(jobs), "error": None, "name_lookup": name_lookup(len(jobs))}


def name_lookup(sids: int, *, resolved: int | None = None, timed_out: bool = False,
                error: dict[str, object] | None = None, timeout: float = 5.0) -> dict[str, object]:
    """The host's facts of its one account-name lookup (all resolved unless told)."""
    resolved = sids if resolved is None else resolved
    return {"timeout_seconds": timeout, "sids": sids, "resolved": resolved, "unresolved": sids - resolved,
            "timed_out": timed_out, "error": error}


def raw_failure(reason: str, call: str | None, hresult: int | None, *, all_users: bool = True,
                who: dict[str, object] | None = None, message: str = "host message") -> dict[str, object]:
    raw = raw_result([], all_users=all_users, who=who)
    raw["error"] = {"reason": reason, "call": call, "hresult": hresult,
                    "hresult_hex": "0x%08X" % hresult if hresult is not None else None, "job_id": None,
                    "message": message}
    # What Ansible.Basic's FailJson adds on the host.
    raw.update(failed=True, msg=message)
    return raw
