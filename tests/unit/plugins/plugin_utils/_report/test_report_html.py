"""The HTML report: self-contained, escaped, its embedded table data intact, its summary equal to the JSON's."""
from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re
import typing as t
from html.parser import HTMLParser

from ansible_collections.winbits.bits.plugins.plugin_utils._report.build import build_report
from ansible_collections.winbits.bits.plugins.plugin_utils._report.html import (
    LIST_LIMIT,
    ROW_FIELDS,
    render_html,
    table_data,
)
from ansible_collections.winbits.bits.tests.unit.utils.bits_report_assessment import (
    NASTY_NAME,
    assessment,
    host,
    job,
    sample_assessment,
    table_rows,
)

NOW = datetime.datetime(2026, 11, 21, 8, 15, tzinfo=datetime.timezone.utc)


class Page(HTMLParser):
    """Collects what the tests look at: tags, attributes, script bodies, summary numbers, text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.summary: dict[str, str] = {}
        self.text: list[str] = []
        self._script: dict[str, str | None] | None = None
        self._summary_key: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "script":
            self._script = attributes
            self.scripts.append((attributes, ""))
        self._summary_key = attributes.get("data-summary")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            attributes, body = self.scripts[-1]
            self.scripts[-1] = (attributes, body + data)
            return
        if self._summary_key:
            self.summary[self._summary_key] = data.strip()
            self._summary_key = None
        self.text.append(data)


def parse(report: dict[str, t.Any]) -> tuple[str, Page]:
    html = render_html(report)
    page = Page()
    page.feed(html)
    page.close()
    return html, page


def sample_report() -> dict[str, t.Any]:
    return build_report(sample_assessment(), generated_at=NOW, previous=None)


def test_summary_numbers_shown_equal_the_report() -> None:
    report = sample_report()
    _html, page = parse(report)
    expected = {f"{group}.{key}": str(value) for group in ("hosts", "jobs")
                for key, value in report["summary"][group].items()}
    assert page.summary == expected


def test_embedded_table_data_round_trips_and_covers_every_host() -> None:
    report = sample_report()
    _html, page = parse(report)
    [body] = [body for attributes, body in page.scripts if attributes.get("type") == "application/json"]
    data = json.loads(body)
    assert data == json.loads(json.dumps(table_data(report)))
    assert data["fields"] == list(ROW_FIELDS)
    assert len(data["blocks"]) == 1
    [block] = data["blocks"]
    assert [entry[0] for entry in block["hosts"]] == [entry["name"] for entry in report["hosts"]]
    jobless = sum(1 for entry in report["hosts"] if not entry["jobs"])
    assert len(block["rows"]) == report["summary"]["jobs"]["total"] + jobless
    names = {row["name"] for row in table_rows(data)}
    assert NASTY_NAME in names


def test_no_outside_address_and_nothing_loaded_from_elsewhere() -> None:
    html, page = parse(sample_report())
    # Only the (hash-allowed) inline script and the inert JSON block; no link, img, iframe, object.
    assert {tag for tag, _attributes in page.tags} & {"link", "img", "iframe", "object", "embed", "base", "form"} == set()
    for tag, attributes in page.tags:
        for name in ("src", "href", "action", "srcset"):
            value = attributes.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)
    # Outside the inert JSON data (where a job name may well contain an address), none at all.
    markup = re.sub(r'<script type="application/json" id="report-data">.*?</script>', "", html, flags=re.S)
    assert "://" not in markup and "@import" not in markup and "url(" not in markup


def test_markup_in_a_job_name_is_escaped_everywhere() -> None:
    html, page = parse(sample_report())
    assert "<script>alert(1)</script>" not in html
    assert len([attributes for attributes, _body in page.scripts]) == 2
    # In the JSON block, '<' and '>' are \u003c / \u003e: nothing can close the script element.
    [body] = [body for attributes, body in page.scripts if attributes.get("type") == "application/json"]
    assert "</" not in body and "<" not in body


def test_content_security_policy_allows_only_the_inline_script() -> None:
    _html, page = parse(sample_report())
    [csp] = [attributes["content"] for tag, attributes in page.tags
             if tag == "meta" and attributes.get("http-equiv") == "Content-Security-Policy"]
    [script] = [body for attributes, body in page.scripts if "type" not in attributes]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert csp is not None and "default-src 'none'" in csp
    assert f"script-src 'sha256-{digest}'" in csp


def test_violation_fix_waivers_and_drift_are_shown() -> None:
    previous = sample_report()
    data = sample_assessment()
    data["hosts"][0]["jobs"][0].update(status="violation", problems=["became bad"])
    report = build_report(assessment(data["hosts"], waivers=data["waivers"]), generated_at=NOW, previous=previous)
    html, page = parse(report)
    text = " ".join(" ".join(page.text).split())
    assert "Became non-compliant 1" in text
    assert 'id="expired-waivers"' in html and "1 waiver expired" in text
    assert "CHG-0999" in text and "expired" in text
    assert "Hosts not assessed 3" in text and "unreachable: ntlm: connection refused" in text


def test_static_lists_are_capped_for_big_fleets() -> None:
    hosts = [host(f"h{index:04d}", status="not_assessed", reason="unreachable: x") for index in range(LIST_LIMIT + 5)]
    hosts.append(host("ok", [job(1, host="ok")]))
    _html, page = parse(build_report(assessment(hosts), generated_at=NOW, previous=None))
    text = " ".join(" ".join(page.text).split())
    assert "… and 5 more" in text
    assert text.count("unreachable: x") == LIST_LIMIT


def test_empty_fleet_renders() -> None:
    _html, page = parse(build_report(assessment([], rules=[]), generated_at=NOW, previous=None))
    assert page.summary["hosts.total"] == "0"
