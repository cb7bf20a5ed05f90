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
import json
import re
import typing as t
import xml.etree.ElementTree as ET

from .html import render_html
from .text import (describe_expected, describe_flags, describe_job_error, describe_read_error, describe_waiver,
                   testcase_name)


CSV_COLUMNS: tuple[str, ...] = (
    "host", "host_status", "host_reason", "job_id", "job_name", "status", "rule", "expected", "problems",
    "flags", "flags_value", "helper_token_sid", "helper_token_name", "owner", "owner_name", "state", "type",
    "client_certificate", "creation_time", "modification_time", "job_error", "read_error", "waiver_reason",
    "waiver_expires", "expired_waivers", "fix_command",
)
# A spreadsheet takes a cell starting with one of these as a formula; a job name is chosen by any
# user of the host, so such cells get a leading apostrophe (OWASP's advice for CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot carry even escaped; a host may still report them in a job name.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# --- JSON ------------------------------------------------------------------------------------------

def render_json(report: t.Mapping[str, t.Any]) -> str:
    """Sorted keys, two-space indent, UTF-8 text: two reports diff line by line."""
    return json.dumps(report, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


# --- CSV -------------------------------------------------------------------------------------------

def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


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


def csv_rows(report: t.Mapping[str, t.Any]) -> t.Iterator[dict[str, object]]:
    """One row per host and job; a host without jobs gets one row with the job columns empty."""
    for host in report.get("hosts") or []:
        jobs = host.get("jobs") or []
        if not jobs:
            yield _host_cells(host)
        for job in jobs:
            yield {**_host_cells(host), **_job_cells(job)}


def render_csv(report: t.Mapping[str, t.Any]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, restval="", extrasaction="raise")
    writer.writeheader()
    for row in csv_rows(report):
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return buffer.getvalue()


# --- JUnit XML -------------------------------------------------------------------------------------

def _xml_text(value: object) -> str:
    return _XML_INVALID.sub("\ufffd", "" if value is None else str(value))


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: object) -> ET.Element:
    element = ET.SubElement(parent, tag, {key: _xml_text(value) for key, value in attributes.items()})
    if text is not None:
        element.text = _xml_text(text)
    return element


def _violation_text(job: t.Mapping[str, t.Any]) -> str:
    fix = job.get("fix") or {}
    lines = [f"rule: {job.get('rule')}", f"expected: {describe_expected(job.get('expected'))}",
             f"actual flags: {describe_flags(job.get('flags'))}",
             f"helper token: {job.get('helper_token_name') or job.get('helper_token_sid') or 'none'}"]
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
        read_error = describe_read_error(job.get("read_error")) or "its helper-token flags could not be read"
        _sub(case, "error", read_error, message="unassessed: " + read_error, type="unassessed")
    elif status in ("waived", "unmanaged"):
        counts["skipped"] += 1
        waiver = job.get("waiver") or {}
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


def render_junit(report: t.Mapping[str, t.Any]) -> str:
    """One <testsuite> per host, one <testcase> per job (classname = host), like ansible.builtin.junit."""
    root = ET.Element("testsuites", {"name": "bits-compliance", "tests": "0", "failures": "0", "errors": "0",
                                     "skipped": "0"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for host in report.get("hosts") or []:
        name = str(host.get("name"))
        # Counts first (filled in below), as JUnit readers expect them.
        suite = _sub(root, "testsuite", name=name, tests=0, failures=0, errors=0, skipped=0,
                     timestamp=report.get("generated_at"), hostname=name)
        counts = {"failures": 0, "errors": 0, "skipped": 0}
        jobs = host.get("jobs") or []
        for job in jobs:
            _job_testcase(suite, name, job, counts)
        if not jobs:
            _host_testcase(suite, host, counts)
        counts["tests"] = max(len(jobs), 1)
        for key, value in counts.items():
            suite.set(key, str(value))
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
}
