"""The report shows each account as the host named it, its SID beside it, and says why a job is unassessed.

Judged for real (evaluate_fleet) on a French host: SYSTEM's jobs carry the name the host gave
(``AUTORITE NT\\Système``), and the report puts the SID next to it in every format that shows owners.
"""
from __future__ import annotations

import csv
import datetime
import io
import json
import typing as t
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._policy import evaluate_fleet, load_policy
from ansible_collections.winbits.bits.plugins.plugin_utils._report.build import build_report
from ansible_collections.winbits.bits.plugins.plugin_utils._report.formats import render_csv, render_json, render_junit
from ansible_collections.winbits.bits.plugins.plugin_utils._report.html import table_data
from ansible_collections.winbits.bits.plugins.plugin_utils._report.text import describe_account
from ansible_collections.winbits.bits.tests.unit.utils.bits_report_assessment import table_rows
from ansible_collections.winbits.bits.tests.unit.utils.policy_facts import make_job, make_result
from tests.support.paths import REPO

SCHEMA = json.loads((REPO / "docs" / "schemas" / "bits-compliance.schema.json").read_text())
NOW = datetime.datetime(2026, 11, 21, 8, 15, tzinfo=datetime.timezone.utc)
SYSTEM_FR = ("S-1-5-18", "AUTORITE NT\\Système")
POLICY = {"version": 1, "rules": [
    {"name": "alice", "match": {"owner": "CORP\\alice"}, "expect": {"allowed_flags": ["local_file"]}},
    {"name": "system", "match": {"owner": "NT AUTHORITY\\SYSTEM"}, "expect": {"forbidden_flags": ["network"]}},
]}


@pytest.fixture(scope="module")
def report() -> dict[str, t.Any]:
    jobs = [
        make_job(1, "contentSync", flags=3, owner=SYSTEM_FR, token=("S-1-5-21-1-2-3-1013", "CORP\\svc-sync")),
        make_job(2, "farSync", flags=1, owner=("S-1-5-21-7-7-7-3000", None)),   # name lookup timed out
    ]
    assessment = evaluate_fleet(load_policy(POLICY), {"paris01": make_result(*jobs)}, today=NOW.date())
    return build_report(assessment, generated_at=NOW, previous=None)


@pytest.mark.parametrize(("name", "sid", "text"), [
    ("AUTORITE NT\\Système", "S-1-5-18", "AUTORITE NT\\Système (S-1-5-18)"),
    (None, "S-1-5-21-7-7-7-3000", "S-1-5-21-7-7-7-3000"), (None, None, ""), ("CORP\\x", None, "CORP\\x"),
])
def test_an_account_is_its_hosts_name_with_the_sid_beside_it(name: t.Any, sid: t.Any, text: str) -> None:
    assert describe_account(name, sid) == text


def test_the_json_keeps_the_hosts_name_and_the_sid_and_validates_with_an_unassessed_jobs_problems(report) -> None:
    parsed = json.loads(render_json(report))
    jsonschema.validate(parsed, SCHEMA, cls=jsonschema.Draft202012Validator)
    system, far = parsed["hosts"][0]["jobs"]
    assert (system["owner"], system["owner_name"], system["rule"], system["status"]) == (
        "S-1-5-18", "AUTORITE NT\\Système", "system", "violation")
    assert far["status"] == "unassessed" and "could not resolve the owner S-1-5-21-7-7-7-3000" in far["problems"][0]


def test_the_html_table_shows_the_owner_and_the_helper_token_with_their_sids(report) -> None:
    rows = table_rows(table_data(report))
    assert rows[0]["owner"] == "AUTORITE NT\\Système (S-1-5-18)"
    assert rows[0]["helper_token"] == "CORP\\svc-sync (S-1-5-21-1-2-3-1013)"
    assert (rows[1]["owner"], rows[1]["helper_token"]) == ("S-1-5-21-7-7-7-3000", None)


def test_the_junit_names_the_owner_of_a_violation_and_why_a_job_is_unassessed(report) -> None:
    cases = {case.get("name"): case for case in ET.fromstring(render_junit(report)).iter("testcase")}
    failure = next(case for name, case in cases.items() if name.startswith("contentSync")).find("failure")
    assert "owner: AUTORITE NT\\Système (S-1-5-18)" in failure.text
    error = next(case for name, case in cases.items() if name.startswith("farSync")).find("error")
    assert "could not resolve the owner S-1-5-21-7-7-7-3000" in error.get("message")


def test_the_csv_has_the_sid_and_the_hosts_name_in_their_columns(report) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert (rows[0]["owner"], rows[0]["owner_name"]) == ("S-1-5-18", "AUTORITE NT\\Système")
