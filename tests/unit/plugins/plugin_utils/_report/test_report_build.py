"""build_report, drift against a previous report, and writing with 'changed' apart from the timestamp."""
from __future__ import annotations

import copy
import datetime
import json
import typing as t
from pathlib import Path

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._report.build import (
    FILE_NAMES,
    FORMATS,
    PolicyEvaluation,
    ReportError,
    build_report,
    check_formats,
    compute_drift,
    load_previous_report,
    render_reports,
    write_reports,
)
from ansible_collections.winbits.bits.plugins.plugin_utils._policy import evaluate_fleet, load_policy
from ansible_collections.winbits.bits.tests.unit.utils.bits_report_assessment import assessment, guid, host, job, sample_assessment
from ansible_collections.winbits.bits.tests.unit.utils.policy_facts import ALICE, make_job, make_result

NOW = datetime.datetime(2026, 11, 21, 8, 15, tzinfo=datetime.timezone.utc)
LATER = datetime.datetime(2026, 11, 22, 9, 30, 5, tzinfo=datetime.timezone.utc)


def report_at(moment: datetime.datetime, data: dict[str, t.Any] | None = None,
              previous: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
    return build_report(data if data is not None else sample_assessment(), generated_at=moment, previous=previous)


def keys(items: list[dict[str, t.Any]]) -> list[tuple[str, str]]:
    return [(item["host"], item["id"]) for item in items]


# --- build_report ----------------------------------------------------------------------------------

def test_build_report_adds_version_time_and_keeps_the_assessment() -> None:
    data = sample_assessment()
    report = report_at(datetime.datetime(2026, 11, 21, 9, 15, 30, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=1))))
    assert report["schema_version"] == 1
    assert report["generated_at"] == "2026-11-21T08:15:30Z"
    assert report["drift"] is None
    for key in ("policy", "as_of", "summary", "waivers", "hosts"):
        assert report[key] == data[key]


def test_build_report_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build_report(sample_assessment(), generated_at=datetime.datetime(2026, 11, 21), previous=None)


# --- a fleet judged host by host --------------------------------------------------------------------

def test_the_summary_counted_host_by_host_is_evaluate_fleets_key_for_key() -> None:
    policy = load_policy({"version": 1, "rules": [
        {"name": "content-sync", "match": {"job": "contentSync"}, "expect": {"flags": 3}},
        {"name": "user-jobs", "match": {"owner": "CORP\\alice"}, "expect": {"allowed_flags": 1}},
        {"name": "idle", "match": {"job": "nothing-has-this-name"}, "expect": {"flags": 0}}],
        "waivers": [{"rule": "user-jobs", "job": "legacy*", "reason": "CHG-1", "expires": "2099-01-01"}]})
    results = {
        "web01": make_result(make_job(1, flags=3), make_job(2, name="userSync", flags=1, owner=ALICE)),
        "web02": make_result(make_job(3, flags=1), make_job(4, name="legacyFetch", flags=3, owner=ALICE),
                             make_job(5, name="misc", flags=0)),
        "web03": make_result(make_job(6, flags=None), make_job(7, name="userSync", flags=2, owner=ALICE)),
        "web04": make_result(),
        "gone01": {"unreachable": True, "msg": "timed out"},
        "nothing01": None,
    }
    evaluation = PolicyEvaluation(policy, datetime.date(2026, 11, 21))
    for name in sorted(results):
        evaluation.host(name, results[name])
    fleet = evaluate_fleet(policy, results, today=datetime.date(2026, 11, 21))
    assert json.dumps(evaluation.head()["summary"]) == json.dumps(fleet["summary"])
    assert fleet["summary"]["jobs"]["total"] == 7 and fleet["summary"]["hosts"]["not_assessed"] == 3


def test_the_summary_of_no_host_has_every_count_at_zero() -> None:
    policy = load_policy({"version": 1, "rules": [{"name": "r", "match": {}, "expect": {"flags": 0}}]})
    summary = PolicyEvaluation(policy, datetime.date(2026, 11, 21)).head()["summary"]
    assert json.dumps(summary) == json.dumps(evaluate_fleet(policy, {}, today=datetime.date(2026, 11, 21))["summary"])


# --- drift -----------------------------------------------------------------------------------------

def fleet(*hosts: dict[str, t.Any]) -> dict[str, t.Any]:
    return build_report(assessment(list(hosts)), generated_at=NOW, previous=None)


def test_drift_became_noncompliant_and_fixed() -> None:
    violating = job(2, host="a", status="violation", rule="no-network", problems=["p"], fixed_flags=["local_file"])
    waived = job(3, host="b", status="waived", rule="no-network", problems=["p"],
                 waiver={"reason": "r", "expires": "2026-11-01"})
    before = fleet(host("a", [job(1, host="a"), violating]), host("b", [waived]))
    after = assessment([host("a", [job(1, host="a", status="violation", rule="content-sync", problems=["p"]),
                                   job(2, host="a")]),
                        host("b", [job(3, host="b", status="violation", rule="no-network", problems=["p"])])])
    drift = compute_drift(before, after)
    assert keys(drift["became_noncompliant"]) == [("a", guid(1)), ("b", guid(3))]
    assert drift["became_noncompliant"][1]["previous_status"] == "waived"
    assert keys(drift["fixed"]) == [("a", guid(2))]
    assert drift["fixed"][0] == {"host": "a", "id": guid(2), "name": "contentSync", "rule": "content-sync",
                                 "status": "compliant", "previous_status": "violation"}
    assert drift["appeared"] == [] and drift["disappeared"] == []
    assert drift["previous_generated_at"] == "2026-11-21T08:15:00Z"


def test_drift_appeared_and_disappeared_by_host_and_id() -> None:
    before = fleet(host("a", [job(1, host="a"), job(2, host="a")]), host("gone", [job(5, host="gone")]))
    after = assessment([host("a", [job(2, host="a"), job(3, host="a")]), host("new", [job(6, host="new")])])
    drift = compute_drift(before, after)
    assert keys(drift["appeared"]) == [("a", guid(3)), ("new", guid(6))]
    assert keys(drift["disappeared"]) == [("a", guid(1)), ("gone", guid(5))]
    assert drift["disappeared"][0]["status"] is None and drift["disappeared"][0]["previous_status"] == "compliant"
    assert drift["became_noncompliant"] == [] and drift["fixed"] == []


def test_drift_same_guid_on_two_hosts_is_two_jobs() -> None:
    before = fleet(host("a", [job(1, host="a")]))
    after = assessment([host("a", [job(1, host="a")]), host("b", [job(1, host="b")])])
    assert keys(compute_drift(before, after)["appeared"]) == [("b", guid(1))]


def test_drift_does_not_call_the_jobs_of_an_unreachable_host_disappeared() -> None:
    before = fleet(host("a", [job(1, host="a", status="violation", rule="no-network", problems=["p"])]))
    after = assessment([host("a", status="not_assessed", reason="unreachable: timed out")])
    drift = compute_drift(before, after)
    assert all(drift[kind] == [] for kind in ("became_noncompliant", "fixed", "appeared", "disappeared"))
    assert drift["not_compared"] == ["a"]


def test_drift_violation_that_became_unassessed_is_not_fixed() -> None:
    before = fleet(host("a", [job(1, host="a", status="violation", rule="no-network", problems=["p"])]))
    after = assessment([host("a", [job(1, host="a", status="unassessed", rule="no-network", flags=None)])])
    assert compute_drift(before, after)["fixed"] == []


def test_unchanged_fleet_has_empty_drift() -> None:
    previous = report_at(NOW)
    drift = report_at(LATER, previous=previous)["drift"]
    assert drift is not None
    assert all(drift[kind] == [] for kind in ("became_noncompliant", "fixed", "appeared", "disappeared"))


# --- previous report -------------------------------------------------------------------------------

def test_load_previous_report_round_trip(tmp_path: Path) -> None:
    paths = write_reports(report_at(NOW), tmp_path, ["json"])
    assert load_previous_report(paths["json"]) == json.loads(paths["json"].read_text())


@pytest.mark.parametrize(("content", "fragment"), [
    (None, "no such file"),
    ("{not json", "not a readable JSON report"),
    ('{"schema_version": 1}', "no 'hosts' list"),
    ('{"schema_version": 9, "hosts": []}', "schema_version 9 is not supported"),
])
def test_load_previous_report_errors_name_the_file(tmp_path: Path, content: str | None, fragment: str) -> None:
    path = tmp_path / "old.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ReportError) as caught:
        load_previous_report(path)
    assert str(caught.value).startswith(f"{path}: ") and fragment in str(caught.value)


# --- writing and changed ---------------------------------------------------------------------------

def test_write_reports_writes_each_format(tmp_path: Path) -> None:
    paths = write_reports(report_at(NOW), tmp_path / "new" / "dir")
    assert list(paths) == list(FORMATS)
    for name, path in paths.items():
        assert path.name == FILE_NAMES[name] and path.stat().st_size > 0
    assert not [item for item in (tmp_path / "new" / "dir").iterdir() if item.name.startswith(".")]


def test_a_second_identical_run_is_unchanged_apart_from_the_timestamp(tmp_path: Path) -> None:
    assert all(item.changed for item in render_reports(report_at(NOW), tmp_path))
    write_reports(report_at(NOW), tmp_path)
    second = render_reports(report_at(LATER), tmp_path)
    assert [item.changed for item in second] == [False] * len(FORMATS)
    # The new text carries the new time; the comparison only ignored it.
    assert all("2026-11-22T09:30:05Z" in item.text for item in second if item.format not in ("csv", "jsonl"))


def test_any_content_change_is_changed(tmp_path: Path) -> None:
    write_reports(report_at(NOW), tmp_path)
    data = sample_assessment()
    data["hosts"][0]["jobs"][0]["modification_time"] = "2026-11-22T00:00:00Z"
    changed = {item.format: item.changed for item in render_reports(report_at(LATER, data), tmp_path)}
    # The CSV and the JSON carry modification_time; the HTML table does not show it.
    assert changed["json"] and changed["csv"]
    data = sample_assessment()
    data["hosts"][0]["jobs"][0]["name"] = "renamed"
    assert all(item.changed for item in render_reports(report_at(LATER, data), tmp_path))


def test_a_tampered_timestamp_is_changed(tmp_path: Path) -> None:
    paths = write_reports(report_at(NOW), tmp_path, ["json"])
    text = paths["json"].read_text()
    paths["json"].write_text(text.replace("2026-11-21T08:15:00Z", "yesterday at noon!!", 1))
    assert render_reports(report_at(LATER), tmp_path, ["json"])[0].changed


def test_check_formats() -> None:
    assert check_formats(["html", "json"]) == ["json", "html"]
    with pytest.raises(ValueError, match="unknown format 'pdf'; allowed: json, csv, junit, html"):
        check_formats(["json", "pdf"])


def test_rendering_does_not_modify_the_report() -> None:
    report = report_at(NOW, previous=report_at(NOW))
    before = copy.deepcopy(report)
    render_reports(report, "/nonexistent-dir-for-reading-only")
    assert report == before
