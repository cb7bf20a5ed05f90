"""A small fleet with every kind of host and job, and its policy: for reports written in slices."""
from __future__ import annotations

from ansible_collections.winbits.bits.tests.unit.utils.policy_facts import ALICE, SYSTEM, make_job, make_result

POLICY = {
    "version": 1,
    "rules": [
        {"name": "content-sync", "match": {"job": "contentSync*"}, "expect": {"flags": ["local_file", "network"]}},
        {"name": "no-network", "match": {"job": "*"}, "expect": {"forbidden_flags": ["network"]}},
    ],
    "waivers": [
        {"rule": "no-network", "hosts": "web1*", "job": "legacy*", "owner": "CORP\\alice", "reason": "CHG-1",
         "expires": "2099-01-01"},
        {"rule": "no-network", "hosts": "web2*", "job": "legacy*", "owner": "CORP\\alice", "reason": "CHG-2",
         "expires": "2020-01-01"},
    ],
}


def fleet(hosts: int = 24, shift: int = 0) -> dict[str, dict | None]:
    """Every kind of host and job: compliant, violating, waived, expired waiver, unassessed, down, missing."""
    results: dict[str, dict | None] = {}
    for number in range(hosts):
        name = "web%02d" % number
        kind = (number + shift) % 6
        if kind == 4:
            results[name] = {"unreachable": True, "changed": False, "msg": "Failed to connect to the host via winrm"}
            continue
        if kind == 5:
            results[name] = None
            continue
        jobs = [make_job(number * 10 + 1, "contentSync", 3 if kind else 1),
                make_job(number * 10 + 2, "legacyFetch", 2, owner=ALICE),
                make_job(number * 10 + 3, "misc \u202e<b>" + name, None if kind == 3 else 1, owner=SYSTEM)]
        results[name] = make_result(*jobs[: 1 + kind % 3])
    return results
