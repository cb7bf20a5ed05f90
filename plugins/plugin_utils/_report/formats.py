# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report's file formats: JSON and CSV (here), JUnit XML (``junit``) and HTML (``html``).

Each renderer takes a REPORT (``bits_report.build_report``) and returns the file's text. JSON and CSV
are made with the standard library's json and csv, so that any job name (quotes, commas, newlines,
markup) comes out as data. The JUnit XML is written from a fixed skeleton with every value passed
through its XML escaping, not through xml.etree: ElementTree's serialiser is pure Python and was most
of the JUnit's cost (``junit`` says how the text stays ElementTree's). Every host appears in every
format: a host with no jobs, or whose jobs could not be listed, still has its row and its test case.
"""
from __future__ import annotations

import csv
import io
import json
import re
import typing as t

from .html import render_html
from .junit import render_junit
from .text import describe_expected, describe_flags, describe_job_error, describe_read_error


CSV_COLUMNS: tuple[str, ...] = (
    "host", "host_status", "host_reason", "job_id", "job_name", "status", "rule", "expected", "problems",
    "flags", "flags_value", "helper_token_sid", "helper_token_name", "owner", "owner_name", "state", "type",
    "client_certificate", "creation_time", "modification_time", "job_error", "read_error", "waiver_reason",
    "waiver_expires", "expired_waivers", "fix_command",
)
# A spreadsheet takes a cell starting with one of these as a formula; a job name is chosen by any
# user of the host, so such cells get an apostrophe before it (OWASP's advice for CSV injection).
# Not only at the start of our cell: a spreadsheet in a locale whose separator is ';' (French,
# German...) cuts our cells at ';' as well as at ',', and one that ignores our quotes cuts at line
# breaks and keeps a quote in front. So the apostrophe goes before such a character wherever a
# spreadsheet could start a cell there: at the start, after ',' ';' CR LF or '"'.
_FORMULA_IN_A_CELL = re.compile(r'(?:^|(?<=[,;\r\n"]))(?=[=+\-@\t\r])')
# The same places found faster: the regex engine scans for a leading character class far quicker
# than it tries a lookbehind at every position. It matches the character before a formula start
# (not the start itself), so the text's very start is checked apart.
_BEFORE_A_FORMULA = re.compile(r'([,;\r\n"])(?=[=+\-@\t\r])')
_FORMULA_STARTS = frozenset("=+-@\t\r")


# --- JSON ------------------------------------------------------------------------------------------

def render_json(report: t.Mapping[str, t.Any]) -> str:
    """Sorted keys, two-space indent, UTF-8 text: two reports diff line by line."""
    return json.dumps(report, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


# --- CSV -------------------------------------------------------------------------------------------

def _plain(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def neutralise_formulas(text: str) -> str:
    """``_FORMULA_IN_A_CELL.sub("'", text)``, the same text, found faster (see _BEFORE_A_FORMULA)."""
    text = _BEFORE_A_FORMULA.sub(r"\1'", text)
    return "'" + text if text[:1] in _FORMULA_STARTS else text


def _host_cells(host: t.Mapping[str, t.Any]) -> dict[str, object]:
    return {"host": host.get("name"), "host_status": host.get("status"), "host_reason": host.get("reason")}


def _job_cells(job: t.Mapping[str, t.Any]) -> dict[str, object]:
    waiver = job.get("waiver") or {}
    fix = job.get("fix") or {}
    return {
        "job_id": job.get("id"), "job_name": job.get("name"), "status": job.get("status"), "rule": job.get("rule"),
        "expected": describe_expected(job.get("expected")), "problems": "; ".join(job.get("problems") or []),
        "flags": describe_flags(job.get("flags")), "flags_value": job.get("flags_value"),
        "helper_token_sid": job.get("helper_token_sid"), "helper_token_name": job.get("helper_token_name"),
        "owner": job.get("owner"), "owner_name": job.get("owner_name"), "state": job.get("state"),
        "type": job.get("type"), "client_certificate": job.get("client_certificate"),
        "creation_time": job.get("creation_time"), "modification_time": job.get("modification_time"),
        "job_error": describe_job_error(job.get("error")), "read_error": describe_read_error(job.get("read_error")),
        "waiver_reason": waiver.get("reason"), "waiver_expires": waiver.get("expires"),
        "expired_waivers": "; ".join(f"{item.get('rule')} ({item.get('reason')}, expired {item.get('expires')})"
                                     for item in job.get("expired_waivers") or []),
        "fix_command": fix.get("command"),
    }


def csv_row_values(host: t.Mapping[str, t.Any]) -> t.Iterator[dict[str, object]]:
    """The rows of one host: one per job, or one with the job columns empty for a host without jobs."""
    jobs = host.get("jobs") or []
    host_cells = _host_cells(host)
    if not jobs:
        yield host_cells
    for job in jobs:
        yield {**host_cells, **_job_cells(job)}


def csv_rows(report: t.Mapping[str, t.Any]) -> t.Iterator[dict[str, object]]:
    """One row per host and job; a host without jobs gets one row with the job columns empty."""
    for host in report.get("hosts") or []:
        yield from csv_row_values(host)


class CsvLines:
    """CSV lines (CRLF-terminated), every formula start neutralised (see _FORMULA_IN_A_CELL).

    The apostrophes go in once per line, not once per cell: in the line as written, a position
    where a cell can start is the line's start or a place after ',' ';' CR LF or '"', whether these
    come from a value or from the CSV's own separators and quotes, so that it is the same text.
    """

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="")

    def line(self, row: t.Mapping[str, object]) -> str:
        self.buffer.seek(0)
        self.buffer.truncate()
        # The csv module writes None as an empty cell and str() of anything else, like _plain, except
        # for booleans; only those are turned into text here, without a call per cell.
        self.writer.writerow(["true" if value is True else "false" if value is False else value
                              for value in map(row.get, CSV_COLUMNS)])
        return neutralise_formulas(self.buffer.getvalue()) + "\r\n"

    def header(self) -> str:
        return ",".join(CSV_COLUMNS) + "\r\n"


def render_csv(report: t.Mapping[str, t.Any]) -> str:
    lines = CsvLines()
    return lines.header() + "".join(lines.line(row) for row in csv_rows(report))


def render_jsonl(report: t.Mapping[str, t.Any]) -> str:
    """One JSON object per CSV row, with the CSV's fields (null where the CSV's cell is empty)."""
    empty = dict.fromkeys(CSV_COLUMNS)
    return "".join(json.dumps({**empty, **row}, ensure_ascii=False, separators=(",", ":")) + "\n"
                   for row in csv_rows(report))


RENDERERS: dict[str, t.Callable[[t.Mapping[str, t.Any]], str]] = {
    "json": render_json,
    "csv": render_csv,
    "junit": render_junit,
    "html": render_html,
    "jsonl": render_jsonl,
}
