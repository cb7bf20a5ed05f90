"""Today's content, kept: the sample fleet's report, with and without drift, against golden files.

The golden files were written by the report code before the writers were rewritten for scale
(tests/unit/plugins/plugin_utils/_report/golden/). JSON, CSV and JUnit XML must come out byte for
byte the same; the HTML's job table data field by field.
"""
from __future__ import annotations

import datetime
import json
import typing as t
from pathlib import Path

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._report.build import build_report, write_reports
from ansible_collections.winbits.bits.plugins.plugin_utils._report.html import table_data
from ansible_collections.winbits.bits.tests.unit.utils.bits_report_assessment import sample_assessment, table_rows

GOLDEN = Path(__file__).resolve().parent / "golden"
NOW = datetime.datetime(2026, 11, 21, 8, 15, tzinfo=datetime.timezone.utc)
EXTENSIONS = {"json": "json", "csv": "csv", "junit": "junit.xml"}


def reports() -> dict[str, dict[str, t.Any]]:
    first = build_report(sample_assessment(), generated_at=NOW, previous=None)
    previous = json.loads((GOLDEN / "sample.json").read_text(encoding="utf-8"))
    changed = sample_assessment()
    changed["hosts"][0]["jobs"].pop()
    changed["hosts"] = [entry for entry in changed["hosts"] if entry["name"] != "empty01"]
    return {"sample": first, "drift": build_report(changed, generated_at=NOW, previous=previous)}


@pytest.mark.parametrize("case", ["sample", "drift"])
@pytest.mark.parametrize("format_name", sorted(EXTENSIONS))
def test_written_file_is_todays(tmp_path: Path, case: str, format_name: str) -> None:
    path = write_reports(reports()[case], tmp_path, [format_name])[format_name]
    expected = (GOLDEN / f"{case}.{EXTENSIONS[format_name]}").read_bytes()
    written = path.read_bytes()
    if format_name == "json":
        assert json.loads(written) == json.loads(expected)
    if format_name == "csv":
        # RFC 4180 ends records with CRLF; the golden file is kept with LF, as the repository keeps text.
        assert written.partition(b"\n")[0].endswith(b"\r") and written.endswith(b"\r\n")
        written = written.replace(b"\r\n", b"\n")
    assert written == expected


def test_html_table_data_is_todays() -> None:
    """The rows the page's script reads: the same, field by field, though compact rows are stored otherwise."""
    expected = table_rows(json.loads((GOLDEN / "sample.table.json").read_text(encoding="utf-8")))
    assert table_rows(json.loads(json.dumps(table_data(reports()["sample"])))) == expected


def test_html_written_table_is_the_one_in_memory(tmp_path: Path) -> None:
    report = reports()["drift"]
    page = write_reports(report, tmp_path, ["html"])["html"].read_text(encoding="utf-8")
    body = page.split('<script type="application/json" id="report-data">', 1)[1].split("</script>", 1)[0]
    assert json.loads(body) == json.loads(json.dumps(table_data(report)))
