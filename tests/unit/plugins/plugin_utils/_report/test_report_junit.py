"""The JUnit XML report is the text ElementTree would write, byte for byte, for any host and job.

The renderer writes the XML text itself (ElementTree's serialiser cost most of the JUnit's time). The
ElementTree renderer it replaced is kept here as the oracle: hosts with every status and hostile values
in every field go through both, in memory and streamed, and the texts must be the same.
"""
from __future__ import annotations

import random
import re
import typing as t
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._report.build import file_text
from ansible_collections.winbits.bits.plugins.plugin_utils._report.formats import render_junit
# The violation's text is not XML: the oracle takes it from the module (the golden files hold it).
from ansible_collections.winbits.bits.plugins.plugin_utils._report.junit import _violation_text as violation_text
from ansible_collections.winbits.bits.plugins.plugin_utils._report.junit import xml_attribute, xml_text
from ansible_collections.winbits.bits.plugins.plugin_utils._report.stream import _JunitWriter
from ansible_collections.winbits.bits.plugins.plugin_utils._report.text import (
    describe_flags,
    describe_read_error,
    describe_waiver,
)
from ansible_collections.winbits.bits.plugins.plugin_utils._report.text import testcase_name as case_name

# --- the oracle: the ElementTree renderer as it was -------------------------------------------------

_ORACLE_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def oracle_xml_text(value: object) -> str:
    return _ORACLE_INVALID.sub("\ufffd", "" if value is None else str(value))


def oracle_sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: object) -> ET.Element:
    element = ET.SubElement(parent, tag, {key: oracle_xml_text(value) for key, value in attributes.items()})
    if text is not None:
        element.text = oracle_xml_text(text)
    return element


def oracle_job_testcase(suite: ET.Element, host: str, job: t.Mapping[str, t.Any], counts: dict[str, int]) -> None:
    case = oracle_sub(suite, "testcase", classname=host, name=case_name(job))
    status = job.get("status")
    if status == "violation":
        counts["failures"] += 1
        oracle_sub(case, "failure", violation_text(job),
                   message="; ".join(job.get("problems") or []) or "violation", type="violation")
    elif status == "unassessed":
        counts["errors"] += 1
        read_error = ("; ".join(job.get("problems") or []) or describe_read_error(job.get("read_error"))
                      or "its helper-token flags could not be read")
        oracle_sub(case, "error", read_error, message="unassessed: " + read_error, type="unassessed")
    elif status in ("waived", "unmanaged"):
        counts["skipped"] += 1
        message = (f"waived by rule {job.get('rule')}: {describe_waiver(job)}"
                   if status == "waived" else "unmanaged: no rule of the policy selects this job")
        oracle_sub(case, "skipped", message=message)
    else:
        oracle_sub(case, "system-out",
                   f"compliant with rule {job.get('rule')}; flags: {describe_flags(job.get('flags'))}")


def oracle_host_testcase(suite: ET.Element, host: t.Mapping[str, t.Any], counts: dict[str, int]) -> None:
    name = str(host.get("name"))
    if host.get("status") == "not_assessed":
        counts["errors"] += 1
        case = oracle_sub(suite, "testcase", classname=name, name="(host not assessed)")
        oracle_sub(case, "error", host.get("reason") or "not assessed", message=f"not assessed: {host.get('reason')}",
                   type="not_assessed")
    else:
        case = oracle_sub(suite, "testcase", classname=name, name="(no BITS jobs)")
        oracle_sub(case, "system-out", "the host has no BITS job in the audited scope")


def oracle_host_testsuite(parent: ET.Element, host: t.Mapping[str, t.Any], generated_at: object) -> dict[str, int]:
    name = str(host.get("name"))
    suite = oracle_sub(parent, "testsuite", name=name, tests=0, failures=0, errors=0, skipped=0,
                       timestamp=generated_at, hostname=name)
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    jobs = host.get("jobs") or []
    for job in jobs:
        oracle_job_testcase(suite, name, job, counts)
    if not jobs:
        oracle_host_testcase(suite, host, counts)
    counts["tests"] = max(len(jobs), 1)
    for key, value in counts.items():
        suite.set(key, str(value))
    return counts


def oracle_render_junit(report: t.Mapping[str, t.Any]) -> str:
    root = ET.Element("testsuites", {"name": "bits-compliance", "tests": "0", "failures": "0", "errors": "0",
                                     "skipped": "0"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for host in report.get("hosts") or []:
        for key, value in oracle_host_testsuite(root, host, report.get("generated_at")).items():
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


# --- hostile reports ----------------------------------------------------------------------------------

XML_INVALID = "".join(map(chr, [*range(0x09), 0x0b, 0x0c, *range(0x0e, 0x20), 0xfffe, 0xffff]))
# Every kind of character a value can hold: those XML cannot carry, markup, quotes, line ends and
# tabs (escaped in attributes, raw in text), other controls XML allows (DEL, C1, U+2028), non-ASCII of
# 2, 3 and 4 UTF-8 bytes, lone surrogates (a host can send them; the files replace them), and texts
# that look like markup or entities already.
PIECES = [*XML_INVALID, "&", "<", ">", '"', "'", "\n", "\r", "\r\n", "\t", " ", "  ", "\x7f", "\x85", "\u2028",
          "é", "Système", "中文", "\u202e", "😀", "\ud800", "\udfff", "]]>", "&amp;", "&#10;", "<a b=\"c\">",
          "plain", "x", "NT AUTHORITY\\SYSTEM", "{5D3B4C39-1F0A-4D5B-9E2F-000000000001}"]
ODD_VALUES: list[object] = [None, "", " ", "\n", 0, 7, -1, 2.5, True, False]


def hostile_text(chance: random.Random) -> str:
    return "".join(chance.choice(PIECES) for _piece in range(chance.randrange(0, 6)))


def hostile_value(chance: random.Random) -> object:
    return chance.choice(ODD_VALUES) if chance.random() < 0.25 else hostile_text(chance)


def hostile_fix(chance: random.Random) -> object:
    return chance.choice([
        None, {},
        {"task": hostile_text(chance) + "\n", "command": hostile_value(chance)},
        {"task": hostile_value(chance)},
        {"command": hostile_value(chance)},
        {"task": "", "command": None},
    ])


def hostile_job(chance: random.Random) -> dict[str, t.Any]:
    flags = chance.choice([None, [], [hostile_text(chance) for _flag in range(chance.randrange(1, 3))]])
    expected_keys = chance.sample(["flags", "allowed_flags", "forbidden_flags", "helper_token"], chance.randrange(0, 5))
    expected = {key: hostile_value(chance) if key == "helper_token" else [hostile_text(chance)] for key in expected_keys}
    return {
        "id": hostile_value(chance), "name": hostile_value(chance),
        "status": chance.choice(["compliant", "violation", "unassessed", "waived", "unmanaged", None, "odd<&>"]),
        "rule": hostile_value(chance), "expected": expected or chance.choice([None, {}]), "flags": flags,
        "owner": hostile_value(chance), "owner_name": hostile_value(chance),
        "helper_token_sid": hostile_value(chance), "helper_token_name": hostile_value(chance),
        "problems": chance.choice([None, [], [hostile_text(chance) for _problem in range(chance.randrange(1, 4))]]),
        "fix": hostile_fix(chance),
        "read_error": chance.choice([None, {}, {"call": hostile_value(chance), "hresult_hex": hostile_value(chance),
                                                "explanation": hostile_value(chance)}]),
        "waiver": chance.choice([None, {}, {"reason": hostile_value(chance), "expires": hostile_value(chance),
                                            "names_owner": chance.choice([True, False, None])}]),
    }


def hostile_host(chance: random.Random) -> dict[str, t.Any]:
    jobs = [hostile_job(chance) for _job in range(chance.choice([0, 0, 1, 2, 5]))]
    return {"name": hostile_value(chance), "status": chance.choice(["not_assessed", "compliant", "noncompliant", None]),
            "reason": hostile_value(chance), "jobs": chance.choice([jobs, None]) if not jobs else jobs}


def hostile_report(seed: int, hosts: int = 150) -> dict[str, t.Any]:
    chance = random.Random(seed)
    return {"generated_at": chance.choice(["2026-11-21T08:15:00Z", None, hostile_text(chance)]),
            "hosts": [hostile_host(chance) for _host in range(hosts)]}


def streamed_junit(report: t.Mapping[str, t.Any], staging: Path, slices: int) -> bytes:
    """The JUnit file as the streamed writers make it, the hosts cut into ``slices`` parts."""
    hosts = list(report.get("hosts") or [])
    states = []
    for part in range(slices):
        writer = _JunitWriter(staging, "report.junit.xml", part, report.get("generated_at"))
        for entry in hosts[part * len(hosts) // slices:(part + 1) * len(hosts) // slices]:
            writer.host(entry)
        states.append(writer.close())
    _JunitWriter.assemble(staging, "report.junit.xml", states, report)
    return (staging / "report.junit.xml").read_bytes()


# --- the tests ---------------------------------------------------------------------------------------

EVERY_CODE_POINT = "".join(map(chr, range(0x110000)))


def test_every_code_point_is_escaped_as_elementtree_escapes_it() -> None:
    """Each character alone, and all of them in one text (an escape made in the wrong order shows there)."""
    for value in [*EVERY_CODE_POINT[:0x3000], EVERY_CODE_POINT]:
        element = ET.Element("a", {"v": oracle_xml_text(value)})
        element.text = oracle_xml_text(value)
        assert f'<a v="{xml_attribute(value)}">{xml_text(value)}</a>' == ET.tostring(element, encoding="unicode")


@pytest.mark.parametrize("value, text", [(None, ""), ("", ""), (0, "0"), (2.5, "2.5"), (True, "True")])
def test_a_value_that_is_not_text_is_written_as_str_gives_it(value: object, text: str) -> None:
    assert xml_attribute(value) == xml_text(value) == text


@pytest.mark.parametrize("seed", range(8))
def test_the_junit_text_is_elementtrees_for_hostile_hosts(seed: int) -> None:
    report = hostile_report(seed)
    assert render_junit(report) == oracle_render_junit(report)


SMALL_REPORTS = [{"generated_at": "2026", "hosts": []}, {"hosts": None}, {"hosts": [{"name": "a"}]},
                 {"generated_at": 3, "hosts": [{"name": None, "jobs": [{}]}]}]


@pytest.mark.parametrize("report", SMALL_REPORTS)
def test_the_junit_text_is_elementtrees_for_no_host_and_for_one(report: dict[str, t.Any]) -> None:
    assert render_junit(report) == oracle_render_junit(report)


@pytest.mark.parametrize("slices", [1, 3])
def test_the_streamed_junit_file_is_elementtrees_text(tmp_path: Path, slices: int) -> None:
    report = hostile_report(100 + slices, hosts=200)
    assert streamed_junit(report, tmp_path, slices) == file_text(oracle_render_junit(report)).encode("utf-8")


@pytest.mark.parametrize("report", SMALL_REPORTS)
def test_the_streamed_junit_file_of_no_host_or_one_is_elementtrees_text(tmp_path: Path, report: dict[str, t.Any]) -> None:
    assert streamed_junit(report, tmp_path, 2) == oracle_render_junit(report).encode("utf-8")


def expected_counts(host: t.Mapping[str, t.Any]) -> dict[str, int]:
    statuses = [job.get("status") for job in host.get("jobs") or []]
    not_assessed = not statuses and host.get("status") == "not_assessed"
    return {"tests": max(len(statuses), 1), "failures": statuses.count("violation"),
            "errors": statuses.count("unassessed") + not_assessed,
            "skipped": statuses.count("waived") + statuses.count("unmanaged")}


def test_the_hostile_junit_parses_with_a_testcase_per_job_and_the_counts() -> None:
    report = hostile_report(200, hosts=300)
    root = ET.fromstring(file_text(render_junit(report)).encode("utf-8"))
    suites = root.findall("testsuite")
    assert len(suites) == len(report["hosts"])
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite, host in zip(suites, report["hosts"]):
        counts = expected_counts(host)
        assert {key: int(suite.get(key)) for key in counts} == counts
        assert len(suite.findall("testcase")) == counts["tests"]
        outcomes = [child.tag for child in suite.iter() if child.tag in ("failure", "error", "skipped")]
        assert [outcomes.count(tag) for tag in ("failure", "error", "skipped")] == [
            counts["failures"], counts["errors"], counts["skipped"]]
        assert suite.get("name") == suite.get("hostname") == file_text(oracle_xml_text(str(host.get("name"))))
        names = [case.get("name") for case in suite.iter("testcase")]
        if host.get("jobs"):
            assert names == [file_text(oracle_xml_text(case_name(job))) for job in host["jobs"]]
        for key in totals:
            totals[key] += counts[key]
    assert {key: int(root.get(key)) for key in totals} == totals
    assert totals["failures"] and totals["errors"] and totals["skipped"]
