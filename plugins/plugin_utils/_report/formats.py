# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report's file formats: JSON, CSV, JUnit XML (here) and HTML (``bits_report_html``).

Each renderer takes a REPORT (``bits_report.build_report``) and returns the file's text. They are
made with the standard library's json, csv and xml.etree, never by pasting strings, so that any job
name (quotes, commas, newlines, markup) comes out as data. Every host appears in every format: a
host with no jobs, or whose jobs could not be listed, still has its row and its test case.
"""
from __future__ import annotations

import csv
import io
import re
import typing as t
import xml.etree.ElementTree as ET

from . import json_text
from .html import render_html
from .text import (describe_account, describe_expected, describe_flags, describe_job_error, describe_read_error,
                   describe_waiver, testcase_name)


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
# Characters XML 1.0 cannot carry even escaped; a host may still report them in a job name.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


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


# --- JUnit XML -------------------------------------------------------------------------------------

def _xml_text(value: object) -> str:
    text = "" if value is None else str(value)
    # Every character of _XML_INVALID is unprintable, so a printable text (nearly all) skips the regex.
    return text if text.isprintable() else _XML_INVALID.sub("\ufffd", text)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: object) -> ET.Element:
    element = ET.SubElement(parent, tag, {key: _xml_text(value) for key, value in attributes.items()})
    if text is not None:
        element.text = _xml_text(text)
    return element


def _violation_text(job: t.Mapping[str, t.Any]) -> str:
    fix = job.get("fix") or {}
    lines = [f"rule: {job.get('rule')}", f"expected: {describe_expected(job.get('expected'))}",
             f"actual flags: {describe_flags(job.get('flags'))}",
             f"owner: {describe_account(job.get('owner_name'), job.get('owner')) or 'unknown'}",
             f"helper token: {describe_account(job.get('helper_token_name'), job.get('helper_token_sid')) or 'none'}"]
    lines += [f"problem: {problem}" for problem in job.get("problems") or []]
    if fix.get("task"):
        lines += ["fix:", str(fix["task"]).rstrip("\n")]
    if fix.get("command"):
        lines.append(f"ad hoc: {fix['command']}")
    if not fix:
        lines.append("fix: no module task fixes this yet; see the problems above")
    return "\n".join(lines)


def _job_testcase(suite: ET.Element, host: str, job: t.Mapping[str, t.Any], counts: dict[str, int]) -> None:
    case = _sub(suite, "testcase", classname=host, name=testcase_name(job))
    status = job.get("status")
    if status == "violation":
        counts["failures"] += 1
        _sub(case, "failure", _violation_text(job), message="; ".join(job.get("problems") or []) or "violation",
             type="violation")
    elif status == "unassessed":
        counts["errors"] += 1
        read_error = ("; ".join(job.get("problems") or []) or describe_read_error(job.get("read_error"))
                      or "its helper-token flags could not be read")
        _sub(case, "error", read_error, message="unassessed: " + read_error, type="unassessed")
    elif status in ("waived", "unmanaged"):
        counts["skipped"] += 1
        message = (f"waived by rule {job.get('rule')}: {describe_waiver(job)}"
                   if status == "waived" else "unmanaged: no rule of the policy selects this job")
        _sub(case, "skipped", message=message)
    else:
        _sub(case, "system-out", f"compliant with rule {job.get('rule')}; flags: {describe_flags(job.get('flags'))}")


def _host_testcase(suite: ET.Element, host: t.Mapping[str, t.Any], counts: dict[str, int]) -> None:
    """The one test case of a host that has no job to report: not assessed (error) or no jobs (pass)."""
    name = str(host.get("name"))
    if host.get("status") == "not_assessed":
        counts["errors"] += 1
        case = _sub(suite, "testcase", classname=name, name="(host not assessed)")
        _sub(case, "error", host.get("reason") or "not assessed", message=f"not assessed: {host.get('reason')}",
             type="not_assessed")
    else:
        case = _sub(suite, "testcase", classname=name, name="(no BITS jobs)")
        _sub(case, "system-out", "the host has no BITS job in the audited scope")


def host_testsuite(parent: ET.Element, host: t.Mapping[str, t.Any], generated_at: object) -> dict[str, int]:
    """The host's <testsuite> under ``parent``, one <testcase> per job; returns its counts."""
    name = str(host.get("name"))
    # Counts first (filled in below), as JUnit readers expect them.
    suite = _sub(parent, "testsuite", name=name, tests=0, failures=0, errors=0, skipped=0,
                 timestamp=generated_at, hostname=name)
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    jobs = host.get("jobs") or []
    for job in jobs:
        _job_testcase(suite, name, job, counts)
    if not jobs:
        _host_testcase(suite, host, counts)
    counts["tests"] = max(len(jobs), 1)
    for key, value in counts.items():
        suite.set(key, str(value))
    return counts


def render_junit(report: t.Mapping[str, t.Any]) -> str:
    """One <testsuite> per host, one <testcase> per job (classname = host), like ansible.builtin.junit."""
    root = ET.Element("testsuites", {"name": "bits-compliance", "tests": "0", "failures": "0", "errors": "0",
                                     "skipped": "0"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for host in report.get("hosts") or []:
        for key, value in host_testsuite(root, host, report.get("generated_at")).items():
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


RENDERERS: dict[str, t.Callable[[t.Mapping[str, t.Any]], str]] = {
    "json": render_json,
    "csv": render_csv,
    "junit": render_junit,
    "html": render_html,
    "jsonl": render_jsonl,
}
