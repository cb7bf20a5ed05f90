# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report written host by host: every format as a stream, so that 100,000 hosts fit in memory.

A ReportStream takes the hosts one at a time, in name order, and writes each one's part of every
format at once into a staging directory; no format holds the fleet. What a format says before its
hosts but can only know after them (the JSON's drift, the JUnit totals, the HTML's summary and its
string table) is written when the hosts are done: each file is then its head, the hosts' part (a
file copied, not read into memory) and its tail. The text is the one the in-memory renderers of
``formats`` and ``html`` give for the same report, byte for byte.
"""
from __future__ import annotations

import json
import os
import shutil
import typing as t
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

from .formats import CSV_COLUMNS, CsvLines, csv_row_values, host_testsuite
from .html import LIST_LIMIT, TableBuilder, render_html_around

REPLACE_UNENCODABLE = "winbits-bits-replace"  # registered by build, which imports this module
_COPY_BUFFER = 1 << 20


def _open(path: Path, mode: str = "w") -> t.TextIO:
    return open(path, mode, encoding="utf-8", newline="", errors=REPLACE_UNENCODABLE)


def _append_file(target: t.TextIO, part: Path) -> None:
    target.flush()
    with open(part, "rb") as source:
        shutil.copyfileobj(source, target.buffer, _COPY_BUFFER)


class _JsonWriter:
    """bits-compliance.json: json.dumps(report, sort_keys=True, indent=2), one host at a time."""

    def __init__(self, staging: Path, name: str) -> None:
        self.path = staging / name
        self.part_path = staging / (name + ".hosts")
        self.part = _open(self.part_path)
        self.count = 0

    def host(self, entry: t.Mapping[str, t.Any]) -> None:
        text = json.dumps(entry, sort_keys=True, indent=2, ensure_ascii=False).replace("\n", "\n    ")
        self.part.write((",\n    " if self.count else "\n    ") + text)
        self.count += 1

    def finish(self, report: t.Mapping[str, t.Any]) -> None:
        self.part.close()
        marker = "HOSTS-" + uuid.uuid4().hex
        skeleton = json.dumps(dict(report, hosts=[marker] if self.count else []), sort_keys=True, indent=2,
                              ensure_ascii=False) + "\n"
        with _open(self.path) as stream:
            if self.count:
                head, tail = skeleton.split('\n    "%s"' % marker)
                stream.write(head)
                _append_file(stream, self.part_path)
                stream.write(tail)
            else:
                stream.write(skeleton)
        os.unlink(self.part_path)


class _CsvWriter:
    """bits-compliance.csv, written row by row."""

    def __init__(self, staging: Path, name: str) -> None:
        self.path = staging / name
        self.stream = _open(self.path)
        self.lines = CsvLines()
        self.stream.write(self.lines.header())

    def rows(self, rows: t.Sequence[t.Mapping[str, object]]) -> None:
        line = self.lines.line
        self.stream.write("".join(line(row) for row in rows))

    def finish(self, report: t.Mapping[str, t.Any]) -> None:
        self.stream.close()


class _JsonLinesWriter:
    """bits-compliance.jsonl: one JSON object per CSV row, with the CSV's fields, for log pipelines."""

    def __init__(self, staging: Path, name: str) -> None:
        self.path = staging / name
        self.stream = _open(self.path)
        self.empty = dict.fromkeys(CSV_COLUMNS)
        self.encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def rows(self, rows: t.Sequence[t.Mapping[str, object]]) -> None:
        self.stream.write("".join(self.encode({**self.empty, **row}) + "\n" for row in rows))

    def finish(self, report: t.Mapping[str, t.Any]) -> None:
        self.stream.close()


class _JunitWriter:
    """bits-compliance.junit.xml: each host's <testsuite> made and indented apart, the totals last."""

    def __init__(self, staging: Path, name: str, generated_at: str) -> None:
        self.path = staging / name
        self.part_path = staging / (name + ".hosts")
        self.part = _open(self.part_path)
        self.generated_at = generated_at
        self.totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}

    def host(self, entry: t.Mapping[str, t.Any]) -> None:
        root = ET.Element("testsuites")
        for key, value in host_testsuite(root, entry, self.generated_at).items():
            self.totals[key] += value
        ET.indent(root)
        text = ET.tostring(root, encoding="unicode")
        # "<testsuites>\n  <testsuite ...>...</testsuite>\n</testsuites>": keep "\n  <testsuite...</testsuite>".
        self.part.write(text[len("<testsuites>"):-len("\n</testsuites>")])

    def finish(self, report: t.Mapping[str, t.Any]) -> None:
        self.part.close()
        attributes = {"name": "bits-compliance", **{key: str(value) for key, value in self.totals.items()}}
        root = ET.Element("testsuites", attributes)
        with _open(self.path) as stream:
            if self.totals["tests"]:
                opening = ET.tostring(root, encoding="unicode", xml_declaration=True)
                stream.write(opening[:-len(" />")] + ">")
                _append_file(stream, self.part_path)
                stream.write("\n</testsuites>\n")
            else:
                stream.write(ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")
        os.unlink(self.part_path)


class _HtmlWriter:
    """bits-compliance.html: the page around the job table's data, whose rows are written as they come."""

    def __init__(self, staging: Path, name: str) -> None:
        self.path = staging / name
        self.parts = tuple(staging / (name + suffix) for suffix in (".hosts", ".rows", ".ids"))
        self.table = TableBuilder(*(_open(part) for part in self.parts))
        self.not_assessed: list[t.Mapping[str, t.Any]] = []
        self.not_assessed_total = 0

    def host(self, entry: t.Mapping[str, t.Any]) -> None:
        self.table.host(entry)
        if entry.get("status") == "not_assessed":
            self.not_assessed_total += 1
            if len(self.not_assessed) < LIST_LIMIT:
                self.not_assessed.append({"name": entry.get("name"), "reason": entry.get("reason")})

    def finish(self, report: t.Mapping[str, t.Any]) -> None:
        self.table.close()
        not_assessed = {"items": self.not_assessed, "total": self.not_assessed_total,
                        "hidden": max(0, self.not_assessed_total - LIST_LIMIT)}
        with _open(self.path) as stream:
            for piece in render_html_around(report, not_assessed, self.table):
                if isinstance(piece, Path):
                    _append_file(stream, piece)
                else:
                    stream.write(piece)
        for part in self.parts:
            os.unlink(part)


class ReportStream:
    """Writes the chosen formats into ``staging``, host by host; ``finish`` completes every file."""

    def __init__(self, staging: Path, file_names: t.Mapping[str, str], generated_at: str) -> None:
        makers: dict[str, t.Callable[[], t.Any]] = {
            "json": lambda: _JsonWriter(staging, file_names["json"]),
            "csv": lambda: _CsvWriter(staging, file_names["csv"]),
            "jsonl": lambda: _JsonLinesWriter(staging, file_names["jsonl"]),
            "junit": lambda: _JunitWriter(staging, file_names["junit"], generated_at),
            "html": lambda: _HtmlWriter(staging, file_names["html"]),
        }
        self.writers = {name: makers[name]() for name in file_names}
        # The CSV and the JSON lines share their rows, made once per host.
        self.row_writers = [writer for writer in self.writers.values() if hasattr(writer, "rows")]
        self.host_writers = [writer for writer in self.writers.values() if not hasattr(writer, "rows")]

    def host(self, entry: t.Mapping[str, t.Any]) -> None:
        for writer in self.host_writers:
            writer.host(entry)
        if self.row_writers:
            rows = list(csv_row_values(entry))
            for writer in self.row_writers:
                writer.rows(rows)

    def finish(self, report: t.Mapping[str, t.Any]) -> dict[str, Path]:
        """``report``: the report without its hosts (they have been written); returns format -> staged file."""
        for writer in self.writers.values():
            writer.finish(report)
        return {name: writer.path for name, writer in self.writers.items()}
