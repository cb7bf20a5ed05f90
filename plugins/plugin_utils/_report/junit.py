# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The JUnit XML report: one <testsuite> per host, one <testcase> per job (classname = host), like
ansible.builtin.junit.

The text is written here directly, not through xml.etree: the document's structure is a fixed
skeleton in this module, and every value put in it (host and job names, messages, texts) goes
through ``xml_attribute`` or ``xml_text`` first, so that any job name (quotes, markup, newlines,
characters XML cannot carry) comes out as data. ElementTree's serialiser is pure Python and was most
of the JUnit's cost; this writes the same text at a fraction of it.

The text is byte for byte what ``ET.indent`` then ``ET.tostring(root, encoding="unicode",
xml_declaration=True)`` wrote before (the same in Python 3.11 to 3.13): two spaces per level, an
element's text inline, an element without text or children as ``<tag attr="..." />``, attributes in
the order given. The tests hold it to that ElementTree renderer for hostile values.

``render_junit`` (the whole report in memory) and the streamed writer (``stream``) both make each
host's text with ``host_testsuite``, so that the two cannot differ.
"""
from __future__ import annotations

import re
import typing as t

from .text import describe_account, describe_expected, describe_flags, describe_read_error, describe_waiver, testcase_name

# What ET.tostring writes first with xml_declaration=True and encoding="unicode".
DECLARATION = "<?xml version='1.0' encoding='utf-8'?>\n"
COUNT_KEYS: tuple[str, ...] = ("tests", "failures", "errors", "skipped")
# Characters XML 1.0 cannot carry even escaped; a host may still report them in a job name.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# --- escaping: what ElementTree's _escape_cdata and _escape_attrib do, XML-invalid characters replaced

def xml_text(value: object) -> str:
    """The value as an element's text: '&', '<' and '>' escaped (ElementTree's _escape_cdata)."""
    text = "" if value is None else str(value)
    # Every character of _XML_INVALID is unprintable, so a printable text (nearly all) skips the regex.
    if not text.isprintable():
        text = _XML_INVALID.sub("\ufffd", text)
    return _escape_markup(text)


def _escape_markup(text: str) -> str:
    """'&' (first: the others' references must not be escaped again), '<' and '>' as references."""
    # Each check before its replace, as in ElementTree: most texts need no replace at all.
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


# In an attribute, as ElementTree writes them (in this order): a reader would turn them into spaces.
_WHITESPACE_REFERENCES = (("\r", "&#13;"), ("\n", "&#10;"), ("\t", "&#09;"))


def xml_attribute(value: object) -> str:
    """The value inside an attribute's double quotes (ElementTree's _escape_attrib): '&', '<', '>', '"'
    escaped, and CR, LF and tab as character references, so that a reader keeps them (it would turn
    them into spaces)."""
    text = "" if value is None else str(value)
    # CR, LF, tab and every character of _XML_INVALID are unprintable: a printable text skips both.
    printable = text.isprintable()
    if not printable:
        text = _XML_INVALID.sub("\ufffd", text)
    text = _escape_markup(text)
    if '"' in text:
        text = text.replace('"', "&quot;")
    if not printable:
        # After '&': the references these become must not be escaped again.
        for character, reference in _WHITESPACE_REFERENCES:
            if character in text:
                text = text.replace(character, reference)
    return text


# --- the skeleton --------------------------------------------------------------------------------------

def _leaf(tag: str, attributes: str, text: str = "") -> str:
    """An element without children at a test case's level; ``attributes`` and ``text`` already escaped.

    ElementTree writes an element with no text (None or empty) as ``<tag ... />``.
    """
    if text:
        return f"\n      <{tag}{attributes}>{text}</{tag}>"
    return f"\n      <{tag}{attributes} />"


def _testcase(classname: str, name: str, outcome: str) -> str:
    """A <testcase> holding its one outcome element; ``classname`` already escaped, ``name`` not."""
    return f'\n    <testcase classname="{classname}" name="{xml_attribute(name)}">{outcome}\n    </testcase>'


def _testsuite(name: str, counts: t.Mapping[str, int], timestamp: str, testcases: str) -> str:
    """A host's <testsuite>, the counts first as JUnit readers expect them; ``name`` and ``timestamp``
    already escaped."""
    return (f'\n  <testsuite name="{name}" tests="{counts["tests"]}" failures="{counts["failures"]}"'
            f' errors="{counts["errors"]}" skipped="{counts["skipped"]}" timestamp="{timestamp}" hostname="{name}">'
            f"{testcases}\n  </testsuite>")


def _testsuites_attributes(totals: t.Mapping[str, int]) -> str:
    return 'name="bits-compliance" ' + " ".join(f'{key}="{totals[key]}"' for key in COUNT_KEYS)


def document_head(totals: t.Mapping[str, int], has_hosts: bool) -> str:
    """The declaration and the <testsuites> start tag; the whole element when there is no host."""
    if has_hosts:
        return f"{DECLARATION}<testsuites {_testsuites_attributes(totals)}>"
    return f"{DECLARATION}<testsuites {_testsuites_attributes(totals)} />\n"


def document_tail(has_hosts: bool) -> str:
    """What follows the hosts' testsuites (each starts with its line break and indent)."""
    return "\n</testsuites>\n" if has_hosts else ""


# --- what the report says of a job or a host ---------------------------------------------------------

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


def _job_outcome(job: t.Mapping[str, t.Any]) -> tuple[str, str | None]:
    """The job's outcome element, and the count it adds to (None for a compliant job)."""
    status = job.get("status")
    if status == "violation":
        message = "; ".join(job.get("problems") or []) or "violation"
        return _leaf("failure", f' message="{xml_attribute(message)}" type="violation"',
                     xml_text(_violation_text(job))), "failures"
    if status == "unassessed":
        read_error = ("; ".join(job.get("problems") or []) or describe_read_error(job.get("read_error"))
                      or "its helper-token flags could not be read")
        return _leaf("error", f' message="{xml_attribute("unassessed: " + read_error)}" type="unassessed"',
                     xml_text(read_error)), "errors"
    if status in ("waived", "unmanaged"):
        message = (f"waived by rule {job.get('rule')}: {describe_waiver(job)}"
                   if status == "waived" else "unmanaged: no rule of the policy selects this job")
        return _leaf("skipped", f' message="{xml_attribute(message)}"'), "skipped"
    text = f"compliant with rule {job.get('rule')}; flags: {describe_flags(job.get('flags'))}"
    return _leaf("system-out", "", xml_text(text)), None


def _host_testcase(classname: str, host: t.Mapping[str, t.Any]) -> tuple[str, str | None]:
    """The one test case of a host that has no job to report: not assessed (error) or no jobs (pass)."""
    if host.get("status") == "not_assessed":
        reason = host.get("reason")
        outcome = _leaf("error", f' message="{xml_attribute(f"not assessed: {reason}")}" type="not_assessed"',
                        xml_text(reason or "not assessed"))
        return _testcase(classname, "(host not assessed)", outcome), "errors"
    outcome = _leaf("system-out", "", "the host has no BITS job in the audited scope")
    return _testcase(classname, "(no BITS jobs)", outcome), None


def host_testsuite(host: t.Mapping[str, t.Any], generated_at: object) -> tuple[str, dict[str, int]]:
    """The host's <testsuite> text, one <testcase> per job, and its counts.

    The text starts with its line break and indent, as it follows the <testsuites> start tag or the
    host before it.
    """
    name = xml_attribute(str(host.get("name")))
    counts = dict.fromkeys(COUNT_KEYS, 0)
    jobs = host.get("jobs") or []
    testcases = []
    for job in jobs:
        outcome, count = _job_outcome(job)
        testcases.append(_testcase(name, testcase_name(job), outcome))
        if count:
            counts[count] += 1
    if not jobs:
        testcase, count = _host_testcase(name, host)
        testcases.append(testcase)
        if count:
            counts[count] += 1
    counts["tests"] = max(len(jobs), 1)
    return _testsuite(name, counts, xml_attribute(generated_at), "".join(testcases)), counts


def render_junit(report: t.Mapping[str, t.Any]) -> str:
    """One <testsuite> per host, one <testcase> per job (classname = host), like ansible.builtin.junit."""
    totals = dict.fromkeys(COUNT_KEYS, 0)
    suites = []
    for host in report.get("hosts") or []:
        suite, counts = host_testsuite(host, report.get("generated_at"))
        suites.append(suite)
        for key in COUNT_KEYS:
            totals[key] += counts[key]
    return document_head(totals, bool(suites)) + "".join(suites) + document_tail(bool(suites))
