"""Raw module results in the shape of docs/host-contract.md, for the controller's tests."""
from __future__ import annotations

import typing as t

GUID_A = "{5D3B4C39-0000-4D5B-9E2F-123456789ABC}"
GUID_B = "{6E4C5D4A-1111-4E6C-AF30-23456789ABCD}"
USER_SID = "S-1-5-21-3623811015-3361044348-30300820-1001"
OTHER_SID = "S-1-5-21-3623811015-3361044348-30300820-1002"
ADMIN_SID = "S-1-5-21-3623811015-3361044348-30300820-500"
LOCAL_SYSTEM = "S-1-5-18"


def host_job(**overrides: object) -> dict[str, object]:
    """A job as the host reports it; ``previous_helper_token_sid`` is ``helper_token_sid`` unless given
    (nothing written). ``flags_changed`` / ``helper_token_changed`` only when given: without them the
    controller falls back on ``changed``, as for a host that does not report them."""
    job: dict[str, object] = {
        "id": GUID_A,
        "name": "myDownloadJob",
        "owner": USER_SID,
        "state": "SUSPENDED",
        "state_value": 3,
        "helper_token_sid": USER_SID,
        "client_certificate": False,
        "previous_flags_value": 1,
        "flags_value": 1,
        "changed": False,
        "client_certificate_forced": False,
        "rolled_back": False,
    }
    job.update(overrides)
    job.setdefault("previous_helper_token_sid", job["helper_token_sid"])
    return job


def caller(sid: str = USER_SID, is_admin: bool = False, os_build: int = 17763) -> dict[str, object]:
    return {"sid": sid, "is_admin": is_admin, "os_build": os_build}


def host_result(
    jobs: t.Sequence[dict[str, object]] = (),
    *,
    desired: int | None = None,
    who: dict[str, object] | None = None,
    token: str = "keep",
) -> dict[str, object]:
    return {
        "changed": any(job.get("changed") is True for job in jobs),
        "caller": who if who is not None else caller(),
        "desired_flags_value": desired,
        "desired_helper_token": token,
        "jobs": list(jobs),
        "error": None,
        "invocation": {"module_args": {"job": "myDownloadJob"}},
    }


def host_failure(
    reason: str,
    *,
    call: str | None = None,
    hresult: int | None = None,
    job_id: str | None = None,
    jobs: t.Sequence[dict[str, object]] = (),
    desired: int | None = None,
    who: dict[str, object] | None = None,
    message: str = "host message",
    token: str = "keep",
) -> dict[str, object]:
    raw = host_result(jobs, desired=desired, who=who, token=token)
    raw["failed"] = True
    raw["msg"] = message
    raw["error"] = {
        "reason": reason,
        "call": call,
        "hresult": hresult,
        "hresult_hex": "0x%08X" % hresult if hresult is not None else None,
        "job_id": job_id,
        "message": message,
    }
    return raw
