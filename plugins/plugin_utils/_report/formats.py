# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report's file formats: JSON, CSV and JSON lines (here), JUnit XML (``junit``) and HTML (``html``).

Each renderer takes a REPORT (``bits_report.build_report``) and returns the file's text. JSON and CSV
are made with a JSON encoder (``json_text``: orjson or json, the same text) and the standard library's
csv, so that any job name (quotes, commas, newlines, markup) comes out as data. The JUnit XML is written from a fixed skeleton with every value passed
through its XML escaping, not through xml.etree: ElementTree's serialiser is pure Python and was most
of the JUnit's cost (``junit`` says how the text stays ElementTree's). Every host appears in every
format: a host with no jobs, or whose jobs could not be listed, still has its row and its test case.
"""
from __future__ import annotations

import csv
import io
import re
import typing as t

from . import json_text
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
    return json_text.indented(report) + "\n"


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


# The columns after the host's three, and their values in the row of a host without jobs.
_JOB_COLUMNS = CSV_COLUMNS[3:]
_NO_JOB = (None,) * len(_JOB_COLUMNS)
_NOTHING: t.Mapping[str, t.Any] = {}


def _host_values(host: t.Mapping[str, t.Any]) -> tuple[object, ...]:
    return host.get("name"), host.get("status"), host.get("reason")


def _job_values(job: t.Mapping[str, t.Any]) -> tuple[object, ...]:
    """The job's cells, in _JOB_COLUMNS' order: a tuple, made in one expression, for 500,000 jobs."""
    get = job.get
    waiver = get("waiver") or _NOTHING
    fix = get("fix") or _NOTHING
    problems = get("problems")
    expired_waivers = get("expired_waivers")
    return (
        get("id"), get("name"), get("status"), get("rule"), describe_expected(get("expected")),
        "; ".join(problems) if problems else "", describe_flags(get("flags")), get("flags_value"),
        get("helper_token_sid"), get("helper_token_name"), get("owner"), get("owner_name"), get("state"),
        get("type"), get("client_certificate"), get("creation_time"), get("modification_time"),
        describe_job_error(get("error")), describe_read_error(get("read_error")),
        waiver.get("reason"), waiver.get("expires"),
        _describe_expired_waivers(expired_waivers) if expired_waivers else "",
        fix.get("command"),
    )


def _describe_expired_waivers(items: t.Iterable[t.Mapping[str, t.Any]]) -> str:
    return "; ".join(f"{item.get('rule')} ({item.get('reason')}, expired {item.get('expires')})" for item in items)


def csv_value_rows(host: t.Mapping[str, t.Any]) -> list[tuple[object, ...]]:
    """The cells of the host's rows in CSV_COLUMNS' order: one row per job, or one with the job cells
    None for a host without jobs."""
    jobs = host.get("jobs")
    host_values = _host_values(host)
    if not jobs:
        return [host_values + _NO_JOB]
    return [host_values + _job_values(job) for job in jobs]


def csv_row_values(host: t.Mapping[str, t.Any]) -> list[dict[str, object]]:
    """The rows of one host as column -> cell (see csv_value_rows)."""
    return [dict(zip(CSV_COLUMNS, values)) for values in csv_value_rows(host)]


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

    def line(self, values: t.Iterable[object]) -> str:
        """The line of one row's cells (csv_value_rows)."""
        self.buffer.seek(0)
        self.buffer.truncate()
        # The csv module writes None as an empty cell and str() of anything else, like _plain, except
        # for booleans; only those are turned into text here, without a call per cell.
        self.writer.writerow(["true" if value is True else "false" if value is False else value for value in values])
        return neutralise_formulas(self.buffer.getvalue()) + "\r\n"

    def header(self) -> str:
        return ",".join(CSV_COLUMNS) + "\r\n"


def render_csv(report: t.Mapping[str, t.Any]) -> str:
    lines = CsvLines()
    return lines.header() + "".join(lines.line(values) for host in report.get("hosts") or []
                                    for values in csv_value_rows(host))


# Where one row's object ends and the next begins in the JSON text of a list of rows, and nowhere
# else: a row is a flat object whose first key is "host", and a quote inside a JSON string is always
# escaped, so no value's text holds '},{"host":'.
_BETWEEN_ROWS = '},{"%s":' % CSV_COLUMNS[0]


def json_lines(value_rows: t.Sequence[t.Sequence[object]]) -> str:
    """The JSON lines of rows' cells (csv_value_rows): one object per row, the CSV's columns its keys.

    The rows are written as one JSON list, in one call, and cut into lines between the objects.
    """
    if not value_rows:
        return ""
    text = json_text.compact([dict(zip(CSV_COLUMNS, values)) for values in value_rows])
    return text[1:-1].replace(_BETWEEN_ROWS, _BETWEEN_ROWS.replace(",", "\n", 1)) + "\n"


def render_jsonl(report: t.Mapping[str, t.Any]) -> str:
    """One JSON object per CSV row, with the CSV's fields (null where the CSV's cell is empty)."""
    return "".join(json_lines(csv_value_rows(host)) for host in report.get("hosts") or [])


RENDERERS: dict[str, t.Callable[[t.Mapping[str, t.Any]], str]] = {
    "json": render_json,
    "csv": render_csv,
    "junit": render_junit,
    "html": render_html,
    "jsonl": render_jsonl,
}
