"""bits_job_info end to end: ansible -> winrm plugin -> simulated hosts -> the real BitsJobInfo core under Mono.

The compliance fleet (tests/sim/fleets/compliance.yml) has one host per outcome an audit must survive:
readable jobs, a job in error, a job whose flags cannot be read, BITS 3.0, and an unreachable host.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.support.paths import JOB_INFO_DOCS, REPO

COMPLIANCE_FLEET = REPO / "tests" / "sim" / "fleets" / "compliance.yml"
READABLE_HOSTS = ("web01", "web02", "app01", "backup01", "locked01", "legacy01")


@pytest.fixture
def audit(fleet):
    return fleet(yaml.safe_load(COMPLIANCE_FLEET.read_text(encoding="utf-8")))


def _info_task(**args):
    return [{"hosts": "all", "gather_facts": False,
             "tasks": [{"name": "List BITS jobs", "winbits.bits.bits_job_info": args, "register": "info"}]}]


def test_every_host_is_listed_in_one_command_each_and_nothing_changes(audit):
    before = {host: audit.state_bytes(host) for host in READABLE_HOSTS}
    run = audit.ansible("all", "", module="winbits.bits.bits_job_info")
    assert run.stats["down01"]["unreachable"] == 1
    for host in READABLE_HOSTS:
        result = run.result(host)
        assert result.get("failed") is not True, (host, result)
        assert result["changed"] is False
        ids = [job["id"] for job in result["jobs"]]
        assert ids == sorted(ids) and ids, host
        assert audit.state_bytes(host) == before[host], f"{host}: a listing rewrote the host's state"
    stats = audit.server.stats
    assert all(stats[host].operations["Command"] == 1 for host in READABLE_HOSTS), stats


def test_a_job_reports_every_audit_fact(audit):
    result = audit.ansible("web01", "job=contentSync", module="winbits.bits.bits_job_info").result("web01")
    assert result["exists"] is True
    (job,) = result["jobs"]
    assert job == {**job, "id": "{6A000000-0000-4000-8000-000000000101}", "name": "contentSync",
                   "owner": "S-1-5-18", "owner_name": "NT AUTHORITY\\SYSTEM", "state": "TRANSFERRING",
                   "type": "DOWNLOAD", "flags": ["local_file", "network"], "flags_value": 3,
                   "helper_token_sid": "S-1-5-21-1000-1000-1000-1013", "helper_token_name": "CORP\\svc-sync",
                   "client_certificate": None, "creation_time": "2026-11-01T08:00:00Z",
                   "modification_time": "2026-11-20T08:00:00Z", "error": None, "read_error": None}


def test_a_job_in_error_is_explained(audit):
    (job,) = audit.ansible("app01", "", module="winbits.bits.bits_job_info").result("app01")["jobs"]
    assert job["state"] == "ERROR"
    assert (job["error"]["hresult_hex"], job["error"]["name"], job["error"]["context"]) == \
        ("0x80200056", "BG_E_TOKEN_REQUIRED", "REMOTE_FILE")
    assert "logon session" in job["error"]["explanation"] and "SetHelperToken" in job["error"]["explanation"]


def test_unreadable_jobs_are_listed_with_the_failed_call_and_a_warning(audit):
    run = audit.playbook(_info_task())
    legacy = run.result("legacy01")
    (old,) = legacy["jobs"]
    assert old["flags"] is None and old["state"] == "SUSPENDED"
    assert old["read_error"]["call"] == "QueryInterface(IBitsTokenOptions)"
    assert any(old["id"] in warning for warning in legacy.get("warnings", [])), legacy
    locked = run.result("locked01")
    vendor = next(job for job in locked["jobs"] if job["name"] == "vendorAgent")
    assert (vendor["read_error"]["call"], vendor["read_error"]["hresult_hex"]) == ("GetHelperTokenFlags", "0x80070005")
    assert next(job for job in locked["jobs"] if job["name"] == "contentSync")["flags_value"] == 3
    assert run.stats["locked01"]["failures"] == 0 and run.stats["legacy01"]["failures"] == 0


def test_patterns_and_guids_select_jobs(audit):
    by_glob = audit.ansible("web01", "job=user*,content?ync", module="winbits.bits.bits_job_info").result("web01")
    assert sorted(job["name"] for job in by_glob["jobs"]) == ["contentSync", "userPhotos"]
    by_guid = audit.playbook(_info_task(job=["6a000000-0000-4000-8000-000000000103"])).result("web01")
    assert [job["name"] for job in by_guid["jobs"]] == ["defenderUpdate"]
    nothing = audit.ansible("web01", "job=nothing*", module="winbits.bits.bits_job_info").result("web01")
    assert (nothing["exists"], nothing["jobs"]) == (False, [])


def test_check_mode_lists_the_same_and_writes_nothing(audit):
    before = audit.state_bytes("web02")
    normal = audit.ansible("web02", "", module="winbits.bits.bits_job_info").result("web02")
    checked = audit.playbook(_info_task(), "--check", "--limit", "web02").result("web02")
    assert checked["jobs"] == normal["jobs"] and checked["changed"] is False
    assert audit.state_bytes("web02") == before


def test_all_users_as_a_non_administrator_fails_naming_the_option(fleet):
    user = {"name": "auditor", "password": "Sim-Passw0rd!", "sid": "S-1-5-21-1000-1000-1000-1200", "is_admin": False}
    jobs = [{"id": "{6A000000-0000-4000-8000-000000000901}", "name": "mine", "owner": user["sid"], "flags": []},
            {"id": "{6A000000-0000-4000-8000-000000000902}", "name": "theirs", "owner": "S-1-5-18", "flags": []}]
    sim = fleet({"hosts": {"win01": {"winrm_user": user, "jobs": jobs}}})
    failed = sim.ansible("win01", "", module="winbits.bits.bits_job_info").result("win01")
    assert failed["failed"] is True
    assert "all_users" in failed["msg"] and "administrator" in failed["msg"], failed["msg"]
    assert "jobs" not in failed or not failed["jobs"], "never a silently shorter list"
    own = sim.ansible("win01", "all_users=false", module="winbits.bits.bits_job_info").result("win01")
    assert [job["name"] for job in own["jobs"]] == ["mine"]


def test_bad_input_fails_before_the_host_is_contacted(audit):
    run = audit.ansible("web01", "job=contentSync bogus=1", module="winbits.bits.bits_job_info")
    result = run.result("web01")
    assert result["failed"] is True and "bogus" in result["msg"]
    assert audit.server.stats["web01"].operations["Command"] == 0


def test_the_documented_examples_run_against_the_fleet(audit):
    """Every EXAMPLES task of bits_job_info runs against a host of the fleet and succeeds."""
    examples = yaml.safe_load(yaml.safe_load(Path(JOB_INFO_DOCS).read_text(encoding="utf-8"))["EXAMPLES"])
    assert examples, "bits_job_info documents no examples"
    run = audit.playbook([{"hosts": "web01", "gather_facts": False, "tasks": examples}])
    assert run.returncode == 0, run.stderr[-3000:]
    results = run.host_results("web01")
    assert len(results) == len(examples) and not any(r.get("failed") for r in results), results
