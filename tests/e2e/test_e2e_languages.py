"""A policy that names accounts in English, audited end to end on hosts of other languages, failing closed.

The bits_report role over French, German and English hosts of the simulated fleet (``language``,
tests/sim/README.md), whose LSA names SYSTEM ``AUTORITE NT\\Système`` or ``NT-AUTORITÄT\\SYSTEM``: a rule
that names ``NT AUTHORITY\\SYSTEM`` selects SYSTEM's jobs on every one of them, the report shows the
host's name with the SID beside it, and a job whose owner cannot be named, or whose helper token could
not be read, keeps its host from being called compliant.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

POLICY = {"version": 1, "rules": [
    {"name": "system-no-network", "match": {"owner": "NT AUTHORITY\\SYSTEM"}, "expect": {"forbidden_flags": ["network"]}},
    {"name": "alice-local", "match": {"owner": "CORP\\alice"}, "expect": {"allowed_flags": ["local_file"]}},
    {"name": "no-token", "match": {"job": "tokenless*"}, "expect": {"helper_token": "absent"}},
]}
ALICE = "S-1-5-21-1000-1000-1000-1013"
BOB = "S-1-5-21-1000-1000-1000-1099"
SYSTEM_NAMES = {"paris01": "AUTORITE NT\\Système", "berlin01": "NT-AUTORITÄT\\SYSTEM", "london01": "NT AUTHORITY\\SYSTEM"}


def _guid(number: int) -> str:
    return "{5D3B4C39-1F0A-4D5B-9E2F-%012X}" % number


def _fleet_spec() -> dict[str, Any]:
    accounts = {ALICE: "CORP\\alice", BOB: "CORP\\bob"}
    system_jobs = {host: [{"id": _guid(index * 16 + 1), "name": "contentSync", "owner": "S-1-5-18", "flags": ["network"]},
                          {"id": _guid(index * 16 + 2), "name": "aliceSync", "owner": ALICE, "flags": ["local_file"]}]
                   for index, host in enumerate(SYSTEM_NAMES, start=1)}
    return {"hosts": {
        "paris01": {"language": "fr-FR", "accounts": accounts, "jobs": system_jobs["paris01"]},
        "berlin01": {"language": "de-DE", "accounts": accounts, "jobs": system_jobs["berlin01"]},
        "london01": {"language": "en-US", "accounts": accounts, "jobs": system_jobs["london01"]},
        # SYSTEM's job complies here; a job whose owner no lookup can name might be alice's, and a job
        # whose helper-token SID could not be read might have a token: neither host is compliant.
        "lyon01": {"language": "fr-FR", "accounts": accounts, "jobs": [
            {"id": _guid(0x101), "name": "contentSync", "owner": "S-1-5-18", "flags": ["local_file"]},
            {"id": _guid(0x102), "name": "farSync", "owner": "S-1-5-21-7-7-7-3000", "flags": ["network"]}]},
        "munich01": {"language": "de-DE", "accounts": accounts, "jobs": [
            {"id": _guid(0x201), "name": "tokenlessSync", "owner": BOB, "flags": [],
             "faults": {"GetHelperTokenSid": "0x80070005"}}]},
        "nice01": {"language": "fr-FR", "accounts": accounts, "jobs": [
            {"id": _guid(0x301), "name": "contentSync", "owner": "S-1-5-18", "flags": ["local_file"]}]},
    }}


@pytest.fixture
def audited(fleet, tmp_path: Path) -> dict[str, Any]:
    hosts = fleet(_fleet_spec())
    policy = hosts.work / "policy.yml"
    policy.write_text(yaml.safe_dump(POLICY, allow_unicode=True), encoding="utf-8")
    report_dir = hosts.work / "report"
    run = hosts.playbook([{"hosts": "all", "gather_facts": False, "roles": [{"role": "winbits.bits.bits_report", "vars": {
        "bits_report_policy": str(policy), "bits_report_dir": str(report_dir), "bits_report_as_of": "2026-11-21"}}]}])
    assert run.returncode == 0, json.dumps(run.output)[-6000:]
    report = json.loads((report_dir / "bits-compliance.json").read_text(encoding="utf-8"))
    return {"report": report, "dir": report_dir,
            "hosts": {host["name"]: host for host in report["hosts"]}}


def _job(audit: dict[str, Any], host: str, name: str) -> dict[str, Any]:
    return next(job for job in audit["hosts"][host]["jobs"] if job["name"] == name)


def test_a_rule_naming_system_in_english_selects_systems_jobs_in_every_language(audited):
    for host, system_name in SYSTEM_NAMES.items():
        job = _job(audited, host, "contentSync")
        assert (job["owner"], job["owner_name"]) == ("S-1-5-18", system_name)
        assert (job["rule"], job["status"]) == ("system-no-network", "violation"), host
        assert _job(audited, host, "aliceSync")["status"] == "compliant"
        assert audited["hosts"][host]["status"] == "noncompliant"
    assert audited["hosts"]["nice01"]["status"] == "compliant"
    assert _job(audited, "nice01", "contentSync")["rule"] == "system-no-network"


def test_no_host_is_compliant_while_a_job_could_break_a_rule(audited):
    far = _job(audited, "lyon01", "farSync")
    assert (far["owner_name"], far["status"], far["rule"], far["flags"]) == (None, "unassessed", "alice-local", ["network"])
    assert "could not resolve the owner S-1-5-21-7-7-7-3000" in far["problems"][0]
    tokenless = _job(audited, "munich01", "tokenlessSync")
    assert (tokenless["status"], tokenless["flags"]) == ("unassessed", [])
    assert "GetHelperTokenSid 0x80070005" in tokenless["problems"][0]
    assert audited["hosts"]["lyon01"]["status"] == audited["hosts"]["munich01"]["status"] == "not_assessed"


def test_the_report_shows_the_hosts_name_with_the_sid_beside_it(audited):
    html = (audited["dir"] / "bits-compliance.html").read_text(encoding="utf-8")
    assert "AUTORITE NT\\\\Système (S-1-5-18)" in html or "AUTORITE NT\\\\Syst\\u00e8me (S-1-5-18)" in html
    cases = ElementTree.parse(audited["dir"] / "bits-compliance.junit.xml").getroot().iter("testcase")
    failures = {case.get("classname"): case.find("failure").text for case in cases if case.find("failure") is not None}
    assert "owner: NT-AUTORITÄT\\SYSTEM (S-1-5-18)" in failures["berlin01"]
