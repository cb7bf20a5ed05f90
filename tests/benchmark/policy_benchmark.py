"""Time the policy evaluation of a synthetic fleet (a figure to read, not a timed test).

    python tests/benchmark/policy_benchmark.py [--hosts 10000] [--jobs 5] [--violating 0.2]

Each host reports ``--jobs`` jobs; ``--violating`` is the share of jobs that break their rule (each
gets a fix, the costly part). Prints wall time, CPU time and the assessment's counts.
"""
from __future__ import annotations

import argparse
import datetime
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.paths import collections_root  # noqa: E402  (after the path set-up above)

sys.path.insert(0, str(collections_root()))

from ansible_collections.winbits.bits.plugins.plugin_utils._policy import (  # noqa: E402
    evaluate_fleet,
    load_policy,
)

POLICY = {
    "version": 1,
    "rules": [
        {"name": "content-sync", "match": {"job": ["contentSync", "contentSync-*"]}, "expect": {"flags": [1, 2]}},
        {"name": "system-updates", "match": {"job": "WU *", "owner": "S-1-5-18"}, "expect": {"allowed_flags": 3}},
        {"name": "user-jobs", "match": {"job": ["user*", "{5D3B4C39-1F0A-4D5B-9E2F-00000000FFFF}"]},
         "expect": {"allowed_flags": ["local_file"], "helper_token": "absent"}},
        {"name": "backups", "match": {"job": "backup*", "hosts": "backup*"}, "expect": {"flags": "local_file"}},
        {"name": "no-network", "match": {"job": "*"}, "expect": {"forbidden_flags": ["network"]}},
    ],
    "waivers": [
        {"rule": "no-network", "hosts": "web0*", "job": "legacy*", "reason": "CHG-1", "expires": "2099-01-01"},
        {"rule": "user-jobs", "owner": "CORP\\alice", "reason": "CHG-2", "expires": "2020-01-01"},
    ],
}
NAMES = ["contentSync", "WU download", "userSync", "backupUpload", "legacyFetch", "misc"]
GOOD_FLAGS = {"contentSync": 3, "WU download": 1, "userSync": 1, "backupUpload": 1, "legacyFetch": 0, "misc": 1}


def synthetic_results(hosts: int, jobs: int, violating: float, seed: int = 6) -> dict[str, dict[str, object]]:
    rng = random.Random(seed)
    results: dict[str, dict[str, object]] = {}
    for host in range(hosts):
        entries = []
        for index in range(jobs):
            name = rng.choice(NAMES)
            flags = GOOD_FLAGS[name] ^ 2 if rng.random() < violating else GOOD_FLAGS[name]
            entries.append({
                "id": "{%08X-1F0A-4D5B-9E2F-%012X}" % (host, index), "name": name,
                "owner": "S-1-5-18" if name.startswith("WU") else "S-1-5-21-1-2-3-%d" % (1000 + index),
                "owner_name": "NT AUTHORITY\\SYSTEM" if name.startswith("WU") else "CORP\\alice",
                "state": "SUSPENDED", "type": "DOWNLOAD", "flags": None, "flags_value": flags,
                "helper_token_sid": None, "helper_token_name": None, "client_certificate": False,
                "creation_time": "2026-11-20T08:15:00Z", "modification_time": "2026-11-21T09:00:00Z",
                "error": None, "read_error": None,
            })
        results["web%05d" % host] = {"changed": False, "exists": True, "jobs": entries, "warnings": [],
                                     "caller": {"sid": "S-1-5-21-1-2-3-500", "is_admin": True, "os_build": 20348}}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10000)
    parser.add_argument("--jobs", type=int, default=5)
    parser.add_argument("--violating", type=float, default=0.2)
    options = parser.parse_args()
    policy = load_policy(POLICY)
    results = synthetic_results(options.hosts, options.jobs, options.violating)
    wall, cpu = time.perf_counter(), time.process_time()
    assessment = evaluate_fleet(policy, results, today=datetime.date(2026, 11, 21))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print("hosts=%d jobs/host=%d violating=%.0f%%: evaluate_fleet wall %.2f s, cpu %.2f s"
          % (options.hosts, options.jobs, options.violating * 100, wall, cpu))
    print("summary.hosts:", assessment["summary"]["hosts"])
    print("summary.jobs:", assessment["summary"]["jobs"])


if __name__ == "__main__":
    main()
