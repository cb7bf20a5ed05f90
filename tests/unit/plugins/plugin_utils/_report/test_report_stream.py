"""The streamed report's parts that have no golden file: drift from the previous report read host by host."""
from __future__ import annotations

import copy
import datetime
import json
from pathlib import Path

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._report import build
from ansible_collections.winbits.bits.plugins.plugin_utils._report.build import (
    DriftBuilder,
    ReportError,
    build_report,
    compute_drift,
    load_previous_index,
    sorted_hosts,
)
from ansible_collections.winbits.bits.plugins.plugin_utils._report.formats import render_json
from ansible_collections.winbits.bits.tests.unit.utils.bits_report_assessment import host, job, sample_assessment

NOW = datetime.datetime(2026, 11, 21, 8, 15, tzinfo=datetime.timezone.utc)


def changed_fleet() -> dict:
    fleet = sample_assessment()
    hosts = {entry["name"]: entry for entry in fleet["hosts"]}
    hosts["web01"]["jobs"].pop()                                                    # disappeared
    hosts["web01"]["jobs"][0].update(status="violation")                            # became non-compliant
    hosts["web02"]["jobs"][0].update(status="compliant")                            # fixed
    hosts["backup01"]["jobs"].append(job(40, host="backup01", name="newJob"))      # appeared
    fleet["hosts"] = [entry for name, entry in hosts.items() if name not in ("empty01", "evil01")]  # hosts gone
    fleet["hosts"].append(host("new01", [job(41, host="new01")]))                  # a host new
    fleet["hosts"].append(host("zz-down", status="not_assessed", reason="unreachable"))
    return fleet


@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
def test_drift_from_the_streamed_previous_equals_compute_drift(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               chunk: int) -> None:
    monkeypatch.setattr(build._TopLevelReader, "_CHUNK", chunk)
    previous_report = build_report(sample_assessment(), generated_at=NOW, previous=None)
    previous_report["hosts"].append({**host("zz-down", [job(50, host="zz-down")]), "caller": None})
    path = tmp_path / "previous.json"
    path.write_text(render_json(previous_report), encoding="utf-8")
    current = changed_fleet()
    expected = compute_drift(json.loads(path.read_text(encoding="utf-8")), copy.deepcopy(current))
    builder = DriftBuilder(load_previous_index(path))
    for entry in sorted_hosts(current["hosts"]):
        builder.host(entry)
    drift = builder.result()
    assert drift == expected
    assert all(drift[kind] for kind in ("became_noncompliant", "fixed", "appeared", "disappeared", "not_compared"))


@pytest.mark.parametrize("content, fragment", [
    ("", "not a readable JSON report"),
    ("[]", "expected one of '{'"),
    ('{"schema_version": 1}', "no 'hosts' list"),
    ('{"schema_version": 1, "hosts": {}}', "no 'hosts' list"),
    ('{"schema_version": 1, "hosts": [1]}', "each host must be an object"),
    ('{"schema_version": 2, "hosts": []}', "schema_version 2 is not supported"),
    ('{"schema_version": 1, "hosts": [', "not a readable JSON report"),
    ('{"schema_version": 1, "hosts": [{"name": "a"}]}', "hosts[0]: lacks the key 'status'"),
])
def test_a_bad_previous_report_is_refused_naming_the_file(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "previous.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReportError) as caught:
        load_previous_index(path)
    assert str(path) in str(caught.value) and fragment in str(caught.value)


def test_every_streamed_format_of_a_fleet_larger_than_a_batch_is_the_in_memory_one(tmp_path: Path) -> None:
    """Over a fleet of a hundred hosts and more, every streamed file is the in-memory renderer's text."""
    from ansible_collections.winbits.bits.plugins.plugin_utils._report.formats import RENDERERS
    from ansible_collections.winbits.bits.tests.unit.utils.bits_report_assessment import synthetic_assessment

    report = build_report(synthetic_assessment(135), generated_at=NOW, previous=None)
    paths = build.write_reports(report, tmp_path)
    for name, path in paths.items():
        expected = build.file_text(RENDERERS[name](report))
        assert path.read_text(encoding="utf-8").replace("\r\n", "\n") == expected.replace("\r\n", "\n"), name
