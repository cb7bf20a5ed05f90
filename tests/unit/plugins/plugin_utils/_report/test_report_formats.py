"""Each report format parses with a standard reader, carries every host and job, and keeps any job name as data."""
from __future__ import annotations

import csv
import datetime
import io
import itertools
import json
import re
import typing as t
import xml.etree.ElementTree as ET
from collections import Counter

import jsonschema
import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._report.build import build_report
from ansible_collections.winbits.bits.plugins.plugin_utils._report.formats import (
    CSV_COLUMNS,
    csv_value_rows,
    json_lines,
    neutralise_formulas,
    render_csv,
    render_json,
    render_jsonl,
    render_junit,
)
from tests.support.paths import REPO
from ansible_collections.winbits.bits.tests.unit.utils.bits_report_assessment import (
    NASTY_NAME,
    assessment,
    guid,
    host,
    job,
    sample_assessment,
)

SCHEMA = json.loads((REPO / "docs" / "schemas" / "bits-compliance.schema.json").read_text())
NOW = datetime.datetime(2026, 11, 21, 8, 15, tzinfo=datetime.timezone.utc)


def report_of(data: dict[str, t.Any] | None = None, previous: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
    return build_report(data if data is not None else sample_assessment(), generated_at=NOW, previous=previous)


def all_jobs(report: dict[str, t.Any]) -> list[tuple[str, dict[str, t.Any]]]:
    return [(entry["name"], item) for entry in report["hosts"] for item in entry["jobs"]]


# --- JSON ------------------------------------------------------------------------------------------

def test_json_validates_against_the_schema_and_round_trips() -> None:
    report = report_of()
    parsed = json.loads(render_json(report))
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(parsed, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert parsed == report
    assert parsed["schema_version"] == 1 and parsed["generated_at"] == "2026-11-21T08:15:00Z"


def test_json_with_drift_validates() -> None:
    previous = json.loads(render_json(report_of()))
    changed = sample_assessment()
    changed["hosts"][0]["jobs"].pop()
    parsed = json.loads(render_json(report_of(changed, previous)))
    jsonschema.validate(parsed, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert parsed["drift"]["disappeared"]


@pytest.mark.parametrize("breakage", [
    lambda r: r.__setitem__("schema_version", 2),
    lambda r: r["summary"]["hosts"].pop("not_assessed"),
    lambda r: r["hosts"][0]["jobs"][0].__setitem__("status", "ok"),
    lambda r: r["hosts"][0].pop("jobs"),
    lambda r: r.__setitem__("generated_at", "2026-11-21 08:15"),
])
def test_schema_rejects_a_broken_report(breakage: t.Callable[[dict[str, t.Any]], object]) -> None:
    parsed = json.loads(render_json(report_of()))
    breakage(parsed)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(parsed, SCHEMA, cls=jsonschema.Draft202012Validator)


def test_json_is_sorted_and_stable_so_reports_diff_cleanly() -> None:
    shuffled = sample_assessment()
    shuffled["hosts"].reverse()
    for entry in shuffled["hosts"]:
        entry["jobs"].reverse()
    text = render_json(report_of(shuffled))
    assert text == render_json(report_of())
    parsed = json.loads(text)
    names = [entry["name"] for entry in parsed["hosts"]]
    assert names == sorted(names)
    for entry in parsed["hosts"]:
        assert [item["id"] for item in entry["jobs"]] == sorted(item["id"] for item in entry["jobs"])
    # Keys sorted at every level: the first key of a host is "caller", of the report "as_of".
    assert text.index('"as_of"') < text.index('"drift"') < text.index('"generated_at"') < text.index('"hosts"')


# --- CSV -------------------------------------------------------------------------------------------

def csv_rows(report: dict[str, t.Any]) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(render_csv(report), newline="")))


def test_csv_has_one_row_per_host_and_job_and_one_per_jobless_host() -> None:
    report = report_of()
    rows = csv_rows(report)
    jobless = [entry["name"] for entry in report["hosts"] if not entry["jobs"]]
    assert len(rows) == report["summary"]["jobs"]["total"] + len(jobless)
    assert {row["host"] for row in rows} == {entry["name"] for entry in report["hosts"]}
    statuses = Counter(row["status"] for row in rows if row["job_id"])
    for status, count in report["summary"]["jobs"].items():
        if status != "total":
            assert statuses[status] == count, status
    assert list(rows[0]) == list(CSV_COLUMNS)


def test_csv_keeps_unreachable_failed_and_jobless_hosts() -> None:
    rows = {row["host"]: row for row in csv_rows(report_of()) if not row["job_id"]}
    assert rows["dead01"]["host_status"] == "not_assessed"
    assert rows["dead01"]["host_reason"] == "unreachable: ntlm: connection refused"
    assert rows["fail01"]["host_reason"].startswith("failed:")
    assert rows["empty01"]["host_status"] == "compliant"


def test_csv_keeps_quotes_commas_newlines_and_markup() -> None:
    rows = [row for row in csv_rows(report_of()) if row["job_id"] == guid(6)]
    assert [row["job_name"] for row in rows] == [NASTY_NAME]


def test_csv_neutralises_formula_cells() -> None:
    [row] = [row for row in csv_rows(report_of()) if row["job_id"] == guid(7)]
    assert row["job_name"] == "'=HYPERLINK(\"http://x\")"


def test_csv_fast_neutralisation_is_the_one_its_rule_says() -> None:
    # The rule as one plain regex: an apostrophe wherever a cell can start and a formula starts.
    rule = re.compile(r'(?:^|(?<=[,;\r\n"]))(?=[=+\-@\t\r])')
    characters = ',;\r\n"=+-@\ta'
    texts = ("".join(text) for length in range(6) for text in itertools.product(characters, repeat=length))
    assert all(neutralise_formulas(text) == rule.sub("'", text) for text in texts)


def test_csv_describes_the_violation_and_its_fix() -> None:
    [row] = [row for row in csv_rows(report_of()) if row["job_id"] == guid(3)]
    assert row["status"] == "violation" and row["rule"] == "no-network"
    assert row["problems"] == "network is forbidden by rule no-network"
    assert row["expected"] == "allowed: local_file, network; forbidden: network"
    assert row["fix_command"].startswith("ansible web02 -m winbits.bits.bits_helper_token")
    assert row["expired_waivers"] == "no-network (CHG-0999, expired 2026-01-31)"


# --- JSON lines ------------------------------------------------------------------------------------

def test_each_json_line_is_a_csv_row_with_its_cells_as_json_values() -> None:
    data = sample_assessment()
    [web01] = [entry for entry in data["hosts"] if entry["name"] == "web01"]
    # Names that look like the text between two rows' objects, or break a line.
    web01["jobs"][0]["name"] = 'x"},{"host":"evil","job_name":"y'
    web01["jobs"][1]["name"] = '},{"host":\n'
    report = report_of(data)
    lines = render_jsonl(report).split("\n")
    assert lines.pop() == ""
    expected = [dict(zip(CSV_COLUMNS, values)) for entry in report["hosts"] for values in csv_value_rows(entry)]
    assert [json.loads(line) for line in lines] == expected
    assert len(lines) == len(csv_rows(report))
    assert 'x"},{"host":"evil","job_name":"y' in [row["job_name"] for row in expected]


def test_json_lines_of_one_row_and_of_none() -> None:
    assert json_lines([]) == ""
    expected = {"host": "web01", "host_status": "compliant", "host_reason": None}
    assert json.loads(json_lines([("web01", "compliant", None)])) == expected


# --- JUnit XML -------------------------------------------------------------------------------------

def junit_root(report: dict[str, t.Any]) -> ET.Element:
    return ET.fromstring(render_junit(report).encode("utf-8"))


def test_junit_has_a_testcase_per_host_and_job_with_classname_host() -> None:
    report = report_of()
    root = junit_root(report)
    cases = root.findall("./testsuite/testcase")
    jobless = [entry["name"] for entry in report["hosts"] if not entry["jobs"]]
    assert len(cases) == report["summary"]["jobs"]["total"] + len(jobless) == int(root.get("tests"))
    assert {case.get("classname") for case in cases} == {entry["name"] for entry in report["hosts"]}
    for suite in root.findall("testsuite"):
        assert {case.get("classname") for case in suite.findall("testcase")} == {suite.get("name")}
        assert int(suite.get("tests")) == len(suite.findall("testcase"))


def test_junit_failures_errors_and_skips_match_the_assessment() -> None:
    report = report_of()
    root = junit_root(report)
    jobs = report["summary"]["jobs"]
    jobless_not_assessed = sum(1 for entry in report["hosts"] if not entry["jobs"] and entry["status"] == "not_assessed")
    assert len(root.findall(".//failure")) == int(root.get("failures")) == jobs["violation"]
    assert len(root.findall(".//error")) == int(root.get("errors")) == jobs["unassessed"] + jobless_not_assessed
    assert len(root.findall(".//skipped")) == int(root.get("skipped")) == jobs["waived"] + jobs["unmanaged"]


def test_junit_failure_carries_problems_and_fix() -> None:
    root = junit_root(report_of())
    [case] = [case for case in root.iter("testcase") if case.get("name") == f"nightly {guid(3)}"]
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == "network is forbidden by rule no-network"
    assert "winbits.bits.bits_helper_token:" in failure.text and "flags: [local_file]" in failure.text


def test_junit_reports_unreachable_hosts_as_errors() -> None:
    root = junit_root(report_of())
    [suite] = root.findall("testsuite[@name='dead01']")
    error = suite.find("testcase/error")
    assert error is not None and error.get("message") == "not assessed: unreachable: ntlm: connection refused"


def test_junit_keeps_markup_and_survives_control_characters() -> None:
    data = sample_assessment()
    data["hosts"].append(host("ctl01", [job(9, host="ctl01", name="bad\x01name\x1f")]))
    root = junit_root(report_of(assessment(data["hosts"])))
    names = {case.get("name") for case in root.iter("testcase")}
    assert f"{NASTY_NAME} {guid(6)}" in names
    assert f"bad\ufffdname\ufffd {guid(9)}" in names


def test_junit_replaces_every_character_xml_cannot_carry() -> None:
    # Those XML 1.0 forbids even escaped; the renderer's shortcut for printable texts must not let one through.
    forbidden = "".join(map(chr, [*range(0x09), 0x0b, 0x0c, *range(0x0e, 0x20), 0xfffe, 0xffff]))
    data = sample_assessment()
    data["hosts"].append(host("ctl01", [job(9, host="ctl01", name=f"a{forbidden}b")]))
    root = junit_root(report_of(assessment(data["hosts"])))
    names = {case.get("name") for case in root.iter("testcase")}
    assert "a" + "\ufffd" * len(forbidden) + f"b {guid(9)}" in names
