"""The compliance report end to end: the bits_report role over the compliance fleet, judged by the example policy.

Every host of tests/sim/fleets/compliance.yml stands for one outcome (compliant, violating, waived,
a job whose flags cannot be read, BITS 3.0, unreachable); the counts below follow from that file and
examples/bits_policy.yml. The report's own "fix" command is run to show that it fixes the violation.
"""
from __future__ import annotations

import csv
import json
import shlex
import subprocess
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from tests.e2e.conftest import BIN
from tests.support.paths import REPO

COMPLIANCE_FLEET = REPO / "tests" / "sim" / "fleets" / "compliance.yml"
POLICY = REPO / "examples" / "bits_policy.yml"
HOSTS = ["app01", "backup01", "down01", "legacy01", "locked01", "web01", "web02"]
HOST_SUMMARY = {"total": 7, "compliant": 2, "noncompliant": 2, "not_assessed": 3}
JOB_SUMMARY = {"total": 9, "compliant": 3, "violation": 2, "waived": 1, "unmanaged": 1, "unassessed": 2}


@pytest.fixture
def audit(fleet):
    return fleet(yaml.safe_load(COMPLIANCE_FLEET.read_text(encoding="utf-8")))


def _report_play(report_dir: Path, hosts: str = "all", **variables: Any) -> list[dict[str, Any]]:
    return [{"hosts": hosts, "gather_facts": False,
             "roles": [{"role": "winbits.bits.bits_report", "vars": {
                 "bits_report_policy": str(POLICY), "bits_report_dir": str(report_dir),
                 "bits_report_as_of": "2026-11-21", **variables}}]}]


def _report(report_dir: Path) -> dict[str, Any]:
    return json.loads((report_dir / "bits-compliance.json").read_text(encoding="utf-8"))


def _job(report: dict[str, Any], host: str, name: str) -> dict[str, Any]:
    entry = next(entry for entry in report["hosts"] if entry["name"] == host)
    return next(job for job in entry["jobs"] if job["name"] == name)


def test_the_report_counts_every_host_and_job_of_the_fleet(audit):
    report_dir = audit.work / "report"
    run = audit.playbook(_report_play(report_dir))
    assert run.returncode == 0, json.dumps(run.output)[-6000:]
    report = _report(report_dir)
    assert report["summary"]["hosts"] == HOST_SUMMARY
    assert report["summary"]["jobs"] == JOB_SUMMARY
    assert [host["name"] for host in report["hosts"]] == HOSTS
    statuses = {host["name"]: (host["status"], host["reason"]) for host in report["hosts"]}
    assert statuses["down01"][0] == "not_assessed" and statuses["down01"][1].startswith("unreachable")
    assert statuses["web01"] == ("compliant", None) and statuses["backup01"][0] == "compliant"
    assert statuses["legacy01"][0] == statuses["locked01"][0] == "not_assessed"
    assert _job(report, "backup01", "backupUpload")["status"] == "waived"
    assert _job(report, "web01", "defenderUpdate")["status"] == "unmanaged"
    assert _job(report, "app01", "reportUpload")["error"]["name"] == "BG_E_TOKEN_REQUIRED"


def test_every_format_carries_every_host(audit):
    report_dir = audit.work / "report"
    assert audit.playbook(_report_play(report_dir)).returncode == 0
    with open(report_dir / "bits-compliance.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted({row["host"] for row in rows}) == HOSTS
    cases = ElementTree.parse(report_dir / "bits-compliance.junit.xml").getroot().iter("testcase")
    failures = [case for case in cases if case.find("failure") is not None]
    assert sorted(case.get("classname") for case in failures) == ["app01", "web02"]
    html = (report_dir / "bits-compliance.html").read_text(encoding="utf-8")
    assert all(host in html for host in HOSTS) and "http://" not in html.replace("http://www.w3.org", "")


def test_an_expired_waiver_no_longer_counts(audit):
    report_dir = audit.work / "report"
    assert audit.playbook(_report_play(report_dir, bits_report_as_of="2027-04-01")).returncode == 0
    report = _report(report_dir)
    backup = _job(report, "backup01", "backupUpload")
    assert backup["status"] == "violation" and backup["expired_waivers"][0]["reason"].startswith("CHG-1234")
    assert [waiver["expired"] for waiver in report["waivers"]] == [True]
    assert report["summary"]["jobs"]["waived"] == 0 and report["summary"]["jobs"]["violation"] == 3


def test_the_reports_fix_fixes_the_violation_and_the_next_report_shows_the_drift(audit):
    first_dir, second_dir = audit.work / "first", audit.work / "second"
    assert audit.playbook(_report_play(first_dir)).returncode == 0
    violation = _job(_report(first_dir), "web02", "contentSync")
    assert violation["status"] == "violation"
    command = shlex.split(violation["fix"]["command"])
    assert command[:2] == ["ansible", "web02"]
    fixed = subprocess.run([str(BIN / "ansible"), "-i", str(audit.inventory), *command[1:]], capture_output=True,
                           text=True, env={**audit.env(), "ANSIBLE_STDOUT_CALLBACK": "default"}, cwd=audit.work,
                           timeout=300, check=False)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    run = audit.playbook(_report_play(second_dir, bits_report_previous=str(first_dir / "bits-compliance.json")))
    assert run.returncode == 0, run.stderr[-3000:]
    report = _report(second_dir)
    assert _job(report, "web02", "contentSync")["status"] == "compliant"
    assert [(item["host"], item["name"]) for item in report["drift"]["fixed"]] == [("web02", "contentSync")]
    assert report["drift"]["became_noncompliant"] == []


def test_a_sliced_run_aggregates_to_the_same_report(audit):
    whole_dir, sliced_dir, results = audit.work / "whole", audit.work / "sliced", audit.work / "results"
    assert audit.playbook(_report_play(whole_dir)).returncode == 0
    for limit in ("web*:app01", "backup01:locked01:legacy01:down01"):
        run = audit.playbook(_report_play(sliced_dir, bits_report_results_dir=str(results)), "--limit", limit)
        assert run.returncode == 0, run.stderr[-3000:]
    assert not (sliced_dir / "bits-compliance.json").exists(), "a slice must not write the fleet report"
    include = {"name": "winbits.bits.bits_report", "tasks_from": "aggregate"}
    variables = {"bits_report_policy": str(POLICY), "bits_report_dir": str(sliced_dir),
                 "bits_report_results_dir": str(results), "bits_report_as_of": "2026-11-21",
                 # Two processes inside Ansible's worker, each a slice of the hosts.
                 "bits_report_workers": 2}
    aggregate = [{"hosts": "localhost", "gather_facts": False,
                  "tasks": [{"name": "Aggregate", "ansible.builtin.include_role": include, "vars": variables}]}]
    run = audit.playbook(aggregate)
    assert run.returncode == 0, run.stderr[-3000:]
    whole, sliced = _report(whole_dir), _report(sliced_dir)
    assert sliced["summary"] == whole["summary"]
    assert sliced["hosts"] == whole["hosts"]


def test_an_audit_in_check_mode_writes_the_report_and_changes_no_host(audit):
    before = {host: audit.state_bytes(host) for host in HOSTS if host != "down01"}
    report_dir = audit.work / "report"
    run = audit.playbook(_report_play(report_dir), "--check")
    assert run.returncode == 0, run.stderr[-3000:]
    assert _report(report_dir)["summary"]["hosts"] == HOST_SUMMARY
    assert {host: audit.state_bytes(host) for host in before} == before


def test_a_malformed_policy_fails_before_any_host_is_contacted(audit):
    bad = audit.work / "bad-policy.yml"
    bad.write_text("version: 1\nrules:\n  - name: x\n    expect: {flags: [bogus]}\n", encoding="utf-8")
    run = audit.playbook(_report_play(audit.work / "report", bits_report_policy=str(bad)))
    assert run.returncode != 0
    messages = json.dumps(run.output)
    assert "rules[0].expect.flags[0]" in messages and "bogus" in messages
    assert all(stats.operations["Command"] == 0 for stats in audit.server.stats.values()), \
        "the hosts were contacted although the policy was malformed"


def test_a_fix_pasted_from_the_report_runs_none_of_the_job_owners_jinja(fleet, tmp_path):
    """A job's name is its owner's choice; the fix task and command the report prints must be inert."""
    marker = tmp_path / "templated-by-the-controller"
    hostile = "{{ lookup('pipe', 'touch %s') }}Upload" % marker
    spec = yaml.safe_load(COMPLIANCE_FLEET.read_text(encoding="utf-8"))
    spec["hosts"]["app01"]["jobs"][0]["name"] = hostile
    audit = fleet(spec)
    report_dir = audit.work / "report"
    assert audit.playbook(_report_play(report_dir, hosts="app01")).returncode == 0
    violation = _job(_report(report_dir), "app01", hostile)
    assert violation["status"] == "violation" and not marker.exists()
    pasted = "- hosts: app01\n  gather_facts: false\n  tasks:\n" + "".join(
        "    " + line + "\n" for line in violation["fix"]["task"].splitlines())
    run = audit.playbook(pasted)
    assert run.returncode == 0, json.dumps(run.output)[-3000:]
    assert run.result("app01")["changed"] is True
    assert not marker.exists(), "the pasted fix task ran the job name's lookup on the controller"
    command = shlex.split(violation["fix"]["command"])
    adhoc = subprocess.run([str(BIN / "ansible"), "-i", str(audit.inventory), *command[1:]], capture_output=True,
                           text=True, env={**audit.env(), "ANSIBLE_STDOUT_CALLBACK": "default"}, cwd=audit.work,
                           timeout=300, check=False)
    assert adhoc.returncode == 0, adhoc.stdout + adhoc.stderr
    assert not marker.exists(), "the fix command ran the job name's lookup on the controller"


@pytest.mark.parametrize("host", ["{{ lookup('pipe', 'touch MARKER') }}", "web01,web02", "web*", "{% raw %}x"])
def test_the_fix_commands_host_pattern_selects_that_host_and_runs_nothing(tmp_path, host):
    """ansible templates its host pattern and reads , : ! & * as syntax: the fix command's pattern must not."""
    from ansible_collections.winbits.bits.plugins.plugin_utils._policy.evaluate import build_fix
    from ansible_collections.winbits.bits.plugins.plugin_utils._policy.load import load_policy

    marker = tmp_path / "templated-by-the-controller"
    host = host.replace("MARKER", str(marker))
    local = {"ansible_connection": "local", "ansible_python_interpreter": str(BIN / "python")}
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {host: local, "web01": local, "web02": local}}}),
                         encoding="utf-8")
    rule = load_policy(str(POLICY)).rules[0]
    fix = build_fix(host, "{6A000000-0000-4000-8000-000000000201}", "contentSync", rule, 1)
    pattern = shlex.split(fix["command"])[1]
    done = subprocess.run([str(BIN / "ansible"), "-i", str(inventory), pattern, "--list-hosts"], capture_output=True,
                          text=True, env={"PATH": str(BIN), "HOME": str(tmp_path), "ANSIBLE_HOME": str(tmp_path)},
                          cwd=tmp_path, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [line.strip() for line in done.stdout.splitlines()[1:]] == [host]
    assert not marker.exists()
