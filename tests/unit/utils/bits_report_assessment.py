"""Assessments (bits_policy.evaluate_fleet's output, docs/docsite/rst/guide_policy.rst) built by hand for the report tests.

The report code is tested against this data model apart from bits_policy: the factory follows the
assessment field by field, and computes the summary from the hosts the way evaluate_fleet does
(test_bits_report_contract.py checks that the two shapes stay the same).
"""
from __future__ import annotations

import copy
import json
import importlib
import types
import typing as t

GUID_TEMPLATE = "{5D3B4C39-1F0A-4D5B-9E2F-%012X}"
NASTY_NAME = '<script>alert(1)</script> "quoted", comma\nnew line & \'apos\''
RULES = [
    {"name": "content-sync", "description": "contentSync needs the helper token for its temp file and the SMB share"},
    {"name": "user-jobs", "description": "user jobs may use the token for the local file only"},
    {"name": "no-network", "description": "no other job may use the token for the network"},
]
EXPECT = {
    "content-sync": {"flags": ["local_file", "network"]},
    "user-jobs": {"allowed_flags": ["local_file"], "forbidden_flags": []},
    "no-network": {"allowed_flags": ["local_file", "network"], "forbidden_flags": ["network"]},
}
JOB_STATUSES = ("compliant", "violation", "waived", "unmanaged", "unassessed")
RULE_STATUSES = ("compliant", "violation", "waived", "unassessed")


def guid(number: int) -> str:
    return GUID_TEMPLATE % number


def fix_for(host: str, job_id: str, flags: list[str]) -> dict[str, t.Any]:
    flag_text = ", ".join(flags)
    return {
        "module": "winbits.bits.bits_helper_token",
        "args": {"job": job_id, "flags": flags},
        "task": (f"- name: Set the helper-token flags of {job_id} on {host}\n"
                 f"  winbits.bits.bits_helper_token:\n    job: \"{job_id}\"\n    flags: [{flag_text}]\n"),
        "command": f"ansible {host} -m winbits.bits.bits_helper_token -a 'job={job_id} flags={','.join(flags)}'",
    }


def job(number: int, *, host: str = "web01", name: str | None = "contentSync", status: str = "compliant",
        rule: str | None = "content-sync", flags: list[str] | None = None, helper_token: bool = True,
        problems: list[str] | None = None, fixed_flags: list[str] | None = None,
        waiver: dict[str, str] | None = None, expired_waivers: list[dict[str, str]] | None = None,
        read_error: dict[str, t.Any] | None = None, state: str = "SUSPENDED") -> dict[str, t.Any]:
    """One JOBASSESS: shape A's keys, then the evaluation's."""
    job_id = guid(number)
    if flags is None and status != "unassessed":
        flags = ["local_file", "network"]
    flag_value = None if flags is None else sum({"local_file": 1, "network": 2}[flag] for flag in flags)
    return {
        "id": job_id, "name": name, "owner": "S-1-5-18", "owner_name": "NT AUTHORITY\\SYSTEM", "state": state,
        "type": "DOWNLOAD", "flags": flags, "flags_value": flag_value,
        "unknown_flags_value": None if flag_value is None else 0,
        "helper_token_sid": "S-1-5-21-1000-1000-1000-1013" if helper_token else None,
        "helper_token_name": "CORP\\svc-sync" if helper_token else None,
        "client_certificate": False, "creation_time": "2026-11-20T08:15:00Z", "modification_time": "2026-11-21T09:00:00Z",
        "error": None, "read_error": read_error, "read_errors": [read_error] if read_error else [],
        "status": status, "rule": rule, "expected": copy.deepcopy(EXPECT.get(rule or "")) if rule else None,
        "problems": list(problems or []),
        "fix": fix_for(host, job_id, fixed_flags) if fixed_flags is not None else None,
        "waiver": waiver, "expired_waivers": list(expired_waivers or []),
    }


def host(name: str, jobs: list[dict[str, t.Any]] | None = None, *, status: str | None = None,
         reason: str | None = None) -> dict[str, t.Any]:
    """One HOST; its status follows from its jobs unless given (unreachable / failed / no result)."""
    jobs = sorted(jobs or [], key=lambda item: item["id"])
    if status is None:
        unassessed = sum(1 for item in jobs if item["status"] == "unassessed")
        if unassessed:
            status, reason = "not_assessed", f"{unassessed} job{'s' if unassessed != 1 else ''} unassessed"
        elif any(item["status"] == "violation" for item in jobs):
            status = "noncompliant"
        else:
            status = "compliant"
    known = {"sid": "S-1-5-21-1-2-3-500", "is_admin": True, "os_build": 20348}
    caller = None if status == "not_assessed" and not jobs else known
    return {"name": name, "status": status, "reason": reason, "caller": caller, "jobs": jobs}


def summarise(hosts: list[dict[str, t.Any]], rules: list[dict[str, str]]) -> dict[str, t.Any]:
    jobs = [item for entry in hosts for item in entry["jobs"]]
    per_rule = {rule["name"]: {key: 0 for key in RULE_STATUSES} for rule in rules}
    for item in jobs:
        if item["rule"] is not None and item["status"] in RULE_STATUSES:
            per_rule[item["rule"]][item["status"]] += 1
    return {
        "hosts": {"total": len(hosts), **{key: sum(1 for entry in hosts if entry["status"] == key)
                                          for key in ("compliant", "noncompliant", "not_assessed")}},
        "jobs": {"total": len(jobs), **{key: sum(1 for item in jobs if item["status"] == key) for key in JOB_STATUSES}},
        "rules": per_rule,
    }


def assessment(hosts: list[dict[str, t.Any]], *, rules: list[dict[str, str]] | None = None,
               waivers: list[dict[str, t.Any]] | None = None, as_of: str = "2026-11-21") -> dict[str, t.Any]:
    rules = copy.deepcopy(RULES if rules is None else rules)
    hosts = sorted(hosts, key=lambda entry: entry["name"])
    return {
        "policy": {"version": 1, "digest": "sha256:" + "ab" * 32, "rules": rules},
        "as_of": as_of,
        "summary": summarise(hosts, rules),
        "waivers": list(waivers or []),
        "hosts": hosts,
    }


def sample_assessment() -> dict[str, t.Any]:
    """A small fleet with every status: compliant, violation (fixable or not), waived, unmanaged,
    unassessed, unreachable, failed, no jobs, and a job whose name tries markup and CSV tricks."""
    expired = {"rule": "no-network", "reason": "CHG-0999", "expires": "2026-01-31"}
    hosts = [
        host("web01", [job(1), job(2, name="userJob", status="unmanaged", rule=None, flags=["local_file"])]),
        host("web02", [job(3, host="web02", name="nightly", status="violation", rule="no-network",
                           problems=["network is forbidden by rule no-network"], fixed_flags=["local_file"],
                           expired_waivers=[expired])]),
        host("backup01", [job(4, host="backup01", name="backupUpload", status="waived", rule="no-network",
                              problems=["network is forbidden by rule no-network"],
                              waiver={"reason": "CHG-1234", "expires": "2027-03-31"})]),
        host("old01", [job(5, host="old01", name="legacy", status="unassessed", rule="no-network", flags=None,
                           read_error={"call": "QueryInterface(IBitsTokenOptions)", "hresult": 2147500034,
                                       "hresult_hex": "0x80004002", "explanation": "BITS is older than 4.0"})]),
        host("dead01", status="not_assessed", reason="unreachable: ntlm: connection refused"),
        host("fail01", status="not_assessed", reason="failed: the BITS service is disabled"),
        host("empty01"),
        host("evil01", [job(6, host="evil01", name=NASTY_NAME, status="violation", rule="user-jobs",
                            problems=["network is not allowed by rule user-jobs (allowed: local_file)"],
                            fixed_flags=["local_file"]),
                        job(7, host="evil01", name="=HYPERLINK(\"http://x\")", status="violation",
                            rule="no-network", helper_token=True,
                            problems=["the helper token must be cleared (rule no-network: helper_token absent)"])]),
    ]
    waivers = [
        {"rule": "no-network", "hosts": ["backup*"], "job": ["backupUpload"], "owner": None, "reason": "CHG-1234",
         "expires": "2027-03-31", "expired": False, "used": 1},
        {"rule": "no-network", "hosts": ["web*"], "job": ["nightly"], "owner": None, "reason": "CHG-0999",
         "expires": "2026-01-31", "expired": True, "used": 0},
    ]
    return assessment(hosts, waivers=waivers)


def synthetic_assessment(host_count: int, jobs_per_host: int = 5) -> dict[str, t.Any]:
    """A large fleet for benchmarks: mostly compliant, some violations, waivers, unassessed, unreachable."""
    hosts = []
    for index in range(host_count):
        name = f"win{index:05d}.corp.example"
        if index % 97 == 0:
            hosts.append(host(name, status="not_assessed", reason="unreachable: connection timed out"))
            continue
        jobs = []
        for slot in range(jobs_per_host):
            number = index * jobs_per_host + slot
            kind = (index + slot) % 23
            if kind == 0:
                jobs.append(job(number, host=name, name=f"job{slot}", status="violation", rule="no-network",
                                problems=["network is forbidden by rule no-network"], fixed_flags=["local_file"]))
            elif kind == 1:
                jobs.append(job(number, host=name, name=f"backupUpload{slot}", status="waived", rule="no-network",
                                problems=["network is forbidden by rule no-network"],
                                waiver={"reason": "CHG-1234", "expires": "2027-03-31"}))
            elif kind == 2 and index % 5 == 0:
                jobs.append(job(number, host=name, name=f"legacy{slot}", status="unassessed", rule="no-network",
                                flags=None, read_error={"call": "QueryInterface(IBitsTokenOptions)",
                                                        "hresult": 2147500034, "hresult_hex": "0x80004002",
                                                        "explanation": "BITS is older than 4.0"}))
            elif kind in (3, 4):
                jobs.append(job(number, host=name, name=f"userJob{slot}", status="unmanaged", rule=None,
                                flags=["local_file"]))
            else:
                jobs.append(job(number, host=name, name="contentSync" if slot == 0 else f"sync{slot}"))
        hosts.append(host(name, jobs))
    waivers = [{"rule": "no-network", "hosts": ["*"], "job": ["backupUpload*"], "owner": None, "reason": "CHG-1234",
                "expires": "2027-03-31", "expired": False, "used": 0}]
    return assessment(hosts, waivers=waivers)


# --- the action plugin under test --------------------------------------------------------------------


class FakePolicyError(ValueError):
    """PolicyError as bits_policy defines it: .problems, each '<path>: <message>' (the action's own tests
    replace the policy functions, so that its logic is tested apart from the policy's)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def import_report_action() -> types.ModuleType:
    """The action plugin's module (tests of its own logic replace load_policy / evaluate_fleet in it)."""
    return importlib.import_module("ansible_collections.winbits.bits.plugins.action.bits_compliance_report")


# --- the HTML's embedded job table, read back --------------------------------------------------------

def joined_table(data: dict[str, t.Any]) -> dict[str, t.Any]:
    """The table's blocks joined into one, every index offset, as the page's script joins them.

    A table of before the blocks (hosts, rows... at the top) is returned as it is.
    """
    if "blocks" not in data:
        return data
    fields = {name: index for index, name in enumerate(data["fields"])}
    joined: dict[str, t.Any] = {"fields": data["fields"], "strings": [], "shapes": [], "hosts": [], "rows": [], "ids": []}
    for block in data["blocks"]:
        offsets = {key: len(joined[key]) for key in ("strings", "shapes", "hosts", "rows")}

        def text(index: int | None, offset: int = offsets["strings"]) -> int | None:
            return None if index is None else index + offset

        joined["strings"] += block["strings"]
        joined["shapes"] += [[text(index) for index in shape] for shape in block["shapes"]]
        joined["hosts"] += [[host[0], text(host[1]), host[2]] for host in block["hosts"]]
        for row in block["rows"]:
            row = list(row)
            row[fields["host"]] += offsets["hosts"]
            row[fields["shape"]] += offsets["shapes"]
            row[fields["name"]], row[fields["detail"]] = text(row[fields["name"]]), text(row[fields["detail"]])
            joined["rows"].append(row)
        joined["ids"] += [[position + offsets["rows"], guid] for position, guid in block.get("ids") or []]
    return joined


def table_rows(data: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """The job table's rows with every index resolved, as the page's script reads them (html.TableBuilder).

    Also reads the table as it was before rows became compact (one column per field), so that a
    table of today can be compared with one of then, field by field.
    """
    data = joined_table(data)
    strings = data["strings"]

    def text(index: int | None) -> str | None:
        return None if index is None else strings[index]

    fields = {name: index for index, name in enumerate(data["fields"])}
    ids = dict(data.get("ids") or [])
    columns = ("owner", "state", "type", "flags", "helper_token", "status", "rule")
    resolved = []
    for position, row in enumerate(data["rows"]):
        host = data["hosts"][row[fields["host"]]]
        if "shape" in fields:
            shape = dict(zip(columns, (text(index) for index in data["shapes"][row[fields["shape"]]])))
            name = text(row[fields["name"]])
            detail_index = row[fields["detail"]]
            detail = None
            if detail_index is not None:
                marked = strings[detail_index]
                job_id = row[fields["id"]] or ids.get(position) or ""
                detail = json.loads(marked.replace("\u0001I", json.dumps(job_id)[1:-1])
                                    .replace("\u0001H", json.dumps(host[0])[1:-1]))
        else:
            shape = {column: text(row[fields[column]]) for column in columns}
            name, detail = row[fields["name"]], row[fields["detail"]]
        resolved.append({"host": host[0], "host_status": text(host[1]), "host_reason": host[2],
                         "id": row[fields["id"]] or ids.get(position), "name": name, "detail": detail, **shape})
    return resolved
