# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTML report: one self-contained file an auditor opens offline.

Rendered with the Jinja2 that ansible-core depends on, autoescape on. Everything is inline (CSS, one
script, SVG charts); a Content-Security-Policy forbids any fetch and allows only that script (by its
hash), so even a markup injection that got through could neither run nor call out.

Scale: 10,000 hosts with 5 jobs each must stay a usable file of at most 10 MB. The job table is not
50,000 static rows: its rows travel as one compact JSON document (repeated strings interned) inside
``<script type="application/json">``, escaped by Jinja's ``tojson``, and a small script renders one
page of it at a time, sorted and filtered. Everything else (summary, charts, drift, waivers, policy)
is static HTML, readable without the script.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import typing as t
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from .._policy.evaluate import HOST_STATUSES, JOB_STATUSES
from .text import describe_expected, describe_flags, describe_job_error, describe_read_error, describe_waiver


TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "bits-compliance.html.j2"
SCRIPT = "bits-compliance.js"
STYLE = "bits-compliance.css"
# Static lists (drift, hosts not assessed) show this many items; the JSON report has them all.
LIST_LIMIT = 200

RULE_STATUSES = ("compliant", "violation", "waived", "unassessed")
STATUS_LABELS = {
    "compliant": "Compliant", "noncompliant": "Non-compliant", "not_assessed": "Not assessed",
    "violation": "Violation", "waived": "Waived", "unmanaged": "Unmanaged", "unassessed": "Unassessed",
    "no_jobs": "No jobs",
}
# Row fields of the embedded table data, in order; the script reads them by these positions.
ROW_FIELDS = ("host", "id", "name", "owner", "state", "type", "flags", "helper_token", "status", "rule", "detail")


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                              keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    # tojson escapes <, >, & and ' as \u00XX, which keeps the data inert inside <script>.
    environment.policies["json.dumps_kwargs"] = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False}
    environment.filters["status_label"] = lambda status: STATUS_LABELS.get(str(status), str(status))
    environment.filters["expected_text"] = describe_expected
    return environment


@functools.lru_cache(maxsize=1)
def _static_assets() -> tuple[str, str, str]:
    """The stylesheet, the script, and the script's CSP hash source."""
    style = (TEMPLATES / STYLE).read_text(encoding="utf-8")
    script = (TEMPLATES / SCRIPT).read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return style, script, f"'sha256-{digest}'"


class _Interner:
    """Repeated strings (owners, states, rules, statuses...) stored once and referred to by index."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, value: object) -> int | None:
        if value is None:
            return None
        text = str(value)
        if text not in self._index:
            self._index[text] = len(self.strings)
            self.strings.append(text)
        return self._index[text]


def _detail(job: t.Mapping[str, t.Any]) -> dict[str, t.Any] | None:
    """What a row shows below itself: problems, fix, waiver, errors. None for a plain compliant job."""
    detail: dict[str, t.Any] = {}
    fix = job.get("fix") or {}
    entries = {
        "problems": list(job.get("problems") or []),
        "expected": describe_expected(job.get("expected")) if job.get("status") in ("violation", "waived") else "",
        "fix_task": fix.get("task"),
        "fix_command": fix.get("command"),
        "waiver": describe_waiver(job),
        "expired_waivers": [f"{item.get('rule')}: {item.get('reason')} (expired {item.get('expires')})"
                            for item in job.get("expired_waivers") or []],
        "job_error": describe_job_error(job.get("error")),
        "read_error": describe_read_error(job.get("read_error")),
    }
    for key, value in entries.items():
        if value:
            detail[key] = value
    return detail or None


def table_data(report: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """{"fields", "strings", "hosts": [[name, status, reason]], "rows": [[...ROW_FIELDS]]}.

    A host without jobs gets one row whose status is the host's ('not_assessed') or 'no_jobs', so
    that no host is missing from the table.
    """
    intern = _Interner()
    hosts: list[list[t.Any]] = []
    rows: list[list[t.Any]] = []
    for host_index, host in enumerate(report.get("hosts") or []):
        hosts.append([host.get("name"), intern(host.get("status")), host.get("reason")])
        jobs = host.get("jobs") or []
        if not jobs:
            status = "not_assessed" if host.get("status") == "not_assessed" else "no_jobs"
            rows.append([host_index, None, None, None, None, None, None, None, intern(status), None, None])
        for job in jobs:
            rows.append([
                host_index, job.get("id"), job.get("name"), intern(job.get("owner_name") or job.get("owner")),
                intern(job.get("state")), intern(job.get("type")), intern(describe_flags(job.get("flags"))),
                intern(job.get("helper_token_name") or job.get("helper_token_sid")), intern(job.get("status")),
                intern(job.get("rule")), _detail(job),
            ])
    return {"fields": list(ROW_FIELDS), "strings": intern.strings, "hosts": hosts, "rows": rows}


def _segments(counts: t.Mapping[str, int], order: t.Sequence[str]) -> list[dict[str, t.Any]]:
    """Chart segments with percentages (0-100) and their running offsets, zero counts left out."""
    total = sum(int(counts.get(key, 0)) for key in order)
    segments, offset = [], 0.0
    for key in order:
        count = int(counts.get(key, 0))
        if count <= 0 or total <= 0:
            continue
        share = 100.0 * count / total
        segments.append({"key": key, "label": STATUS_LABELS[key], "count": count, "pct": round(share, 3),
                         "offset": round(offset, 3)})
        offset += share
    return segments


def _percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}" if whole else "–"


def _rule_charts(report: t.Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
    per_rule = (report.get("summary") or {}).get("rules") or {}
    charts = []
    for rule in (report.get("policy") or {}).get("rules") or []:
        counts = per_rule.get(rule.get("name")) or {}
        charts.append({"name": rule.get("name"), "description": rule.get("description"),
                       "counts": {key: int(counts.get(key, 0)) for key in RULE_STATUSES},
                       "total": sum(int(counts.get(key, 0)) for key in RULE_STATUSES),
                       "segments": _segments(counts, RULE_STATUSES)})
    return charts


def _capped(items: t.Sequence[t.Any]) -> dict[str, t.Any]:
    return {"items": list(items[:LIST_LIMIT]), "total": len(items), "hidden": max(0, len(items) - LIST_LIMIT)}


def template_context(report: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    summary = report.get("summary") or {}
    hosts_summary = summary.get("hosts") or {}
    jobs_summary = summary.get("jobs") or {}
    not_assessed = [host for host in report.get("hosts") or [] if host.get("status") == "not_assessed"]
    drift = report.get("drift")
    style, script, script_hash = _static_assets()
    waivers = list(report.get("waivers") or [])
    return {
        "report": report,
        "hosts_summary": hosts_summary,
        "jobs_summary": jobs_summary,
        "host_compliance": _percent(int(hosts_summary.get("compliant", 0)), int(hosts_summary.get("total", 0))),
        "host_segments": _segments(hosts_summary, HOST_STATUSES),
        "job_segments": _segments(jobs_summary, JOB_STATUSES),
        "rule_charts": _rule_charts(report),
        "not_assessed": _capped(not_assessed),
        "drift": None if drift is None else {kind: _capped(drift.get(kind) or [])
                                             for kind in ("became_noncompliant", "fixed", "appeared", "disappeared")},
        "drift_meta": drift,
        "waivers": waivers,
        "expired_waivers": [waiver for waiver in waivers if waiver.get("expired")],
        "table": table_data(report),
        "style": Markup(style),
        "script": Markup(script),
        "script_hash": script_hash,
        "list_limit": LIST_LIMIT,
    }


def render_html(report: t.Mapping[str, t.Any]) -> str:
    return _environment().get_template(TEMPLATE).render(template_context(report))
