# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTML report: one self-contained file an auditor opens offline.

Rendered with the Jinja2 that ansible-core depends on, autoescape on. Everything is inline (CSS, one
script, SVG charts); a Content-Security-Policy forbids any fetch and allows only that script (by its
hash), so even a markup injection that got through could neither run nor call out.

Scale: 100,000 hosts with 5 jobs each must stay a usable file of at most 20 MB. The job table is not
500,000 static rows: its rows travel as one compact JSON document (TableBuilder: repeated strings,
row shapes and fix details stored once) inside ``<script type="application/json">``, escaped as
Jinja's ``tojson`` escapes, and a small script renders one page of it at a time, sorted and filtered.
Everything else (summary, charts, drift, waivers, policy) is static HTML, readable without the script.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import typing as t
import uuid
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from .._policy.evaluate import HOST_STATUSES, JOB_STATUSES
from .text import (
    describe_account,
    describe_expected,
    describe_flags,
    describe_job_error,
    describe_read_error,
    describe_waiver,
    visible_or_none,
    visible_text,
)


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
ROW_FIELDS = ("host", "id", "name", "shape", "detail")
SHAPE_FIELDS = ("owner", "state", "type", "flags", "helper_token", "status", "rule")
# Jobs the table carries compactly (no GUID, past KEEP_COMPACT_IDS_UP_TO rows); every other job, in full.
COMPACT_STATUSES = frozenset({"compliant", "unmanaged"})
KEEP_COMPACT_IDS_UP_TO = 50_000
ID_MARK, HOST_MARK = "\u0001I", "\u0001H"


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                              keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    # tojson escapes <, >, & and ' as \u00XX, which keeps the data inert inside <script>.
    environment.policies["json.dumps_kwargs"] = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False}
    environment.filters["status_label"] = lambda status: STATUS_LABELS.get(str(status), str(status))
    environment.filters["expected_text"] = describe_expected
    environment.filters["visible"] = visible_text
    return environment


@functools.lru_cache(maxsize=1)
def _static_assets() -> tuple[str, str, str]:
    """The stylesheet, the script, and the script's CSP hash source."""
    style = (TEMPLATES / STYLE).read_text(encoding="utf-8")
    script = (TEMPLATES / SCRIPT).read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return style, script, f"'sha256-{digest}'"


# One encoder for every call: json.dumps would make a new one each time, for each of 500,000 rows.
_SCRIPT_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _script_json(value: object) -> str:
    """What Jinja's tojson gives with this environment's settings: JSON inert inside <script>."""
    text = _SCRIPT_ENCODER.encode(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")


class _Interner:
    """Repeated strings (owners, states, rules, statuses...) stored once and referred to by index."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self._index: dict[str, int] = {}
        # Host strings (names, owners, states) as shown: few distinct ones repeat over many rows.
        self._shown: dict[str, int] = {}

    def __call__(self, value: object) -> int | None:
        if value is None:
            return None
        text = value if isinstance(value, tuple) else str(value)
        index = self._index.get(text)
        if index is None:
            index = self._index[text] = len(self.strings)
            self.strings.append(text)
        return index

    def shown(self, value: str | None) -> int | None:
        """The index of ``value`` as the page shows it (visible_text), worked out once per distinct value."""
        if value is None:
            return None
        index = self._shown.get(value)
        if index is None:
            index = self._shown[value] = self(visible_text(value))
        return index


class _Shapes:
    """Row shapes (SHAPE_FIELDS, as indexes into the strings) stored once, each found from the job's own fields.

    Thousands of jobs share a handful of shapes: a shape's seven fields are described and interned
    once per distinct set of the raw fields they are made of (_shape_key), not once per job.
    """

    def __init__(self, intern: _Interner) -> None:
        self.intern = intern
        self.table = _Interner()
        self._by_key: dict[tuple[t.Any, ...], int | None] = {}

    def of_job(self, job: t.Mapping[str, t.Any]) -> int | None:
        key = _shape_key(job)
        index = self._by_key.get(key)
        if index is None:
            index = self._by_key[key] = self.table(_job_shape(job, self.intern))
        return index

    def rows(self) -> list[list[t.Any]]:
        return [list(item) for item in self.table.strings]


def _shape_key(job: t.Mapping[str, t.Any]) -> tuple[t.Any, ...]:
    """Every raw field _job_shape reads, hashable (flags as a tuple): equal keys make equal shapes.

    The fields are strings or None (the report's schema), so equal raw values are shown alike.
    """
    flags = job.get("flags")
    return (job.get("owner_name"), job.get("owner"), job.get("state"), job.get("type"),
            None if flags is None else tuple(flags), job.get("helper_token_name"), job.get("helper_token_sid"),
            job.get("status"), job.get("rule"))


def _job_shape(job: t.Mapping[str, t.Any], intern: _Interner) -> tuple[int | None, ...]:
    return (intern.shown(describe_account(job.get("owner_name"), job.get("owner")) or None),
            intern.shown(job.get("state")), intern.shown(job.get("type")),
            intern(describe_flags(job.get("flags"))),
            intern.shown(describe_account(job.get("helper_token_name"), job.get("helper_token_sid")) or None),
            intern(job.get("status")), intern(job.get("rule")))


# The statuses whose detail says what the rule expects: the job breaks it (waived or not).
_EXPECTED_SHOWN = ("violation", "waived")


def _detail(job: t.Mapping[str, t.Any]) -> dict[str, t.Any] | None:
    """What a row shows below itself: problems, fix, waiver, errors. None for a plain compliant job.

    Only the fields that are set are described: most jobs have none of them, and their rows are the
    most numerous.
    """
    detail: dict[str, t.Any] = {}
    problems = job.get("problems")
    if problems:
        detail["problems"] = list(problems)
    if job.get("status") in _EXPECTED_SHOWN:
        detail["expected"] = describe_expected(job.get("expected"))
    fix = job.get("fix")
    if fix:
        detail["fix_task"] = fix.get("task")
        detail["fix_command"] = fix.get("command")
    if job.get("waiver"):
        detail["waiver"] = describe_waiver(job)
    expired_waivers = job.get("expired_waivers")
    if expired_waivers:
        detail["expired_waivers"] = [f"{item.get('rule')}: {item.get('reason')} (expired {item.get('expires')})"
                                     for item in expired_waivers]
    if job.get("error"):
        detail["job_error"] = describe_job_error(job.get("error"))
    if job.get("read_error"):
        detail["read_error"] = describe_read_error(job.get("read_error"))
    if not detail:
        return None
    # A field set yet with nothing to say (an expect that describes as "", a fix without a task) is left out.
    return {key: value for key, value in detail.items() if value} or None


def _table_host(entry: t.Mapping[str, t.Any], intern: _Interner) -> list[t.Any]:
    # Strings from the hosts are shown with their invisible characters made visible (text.visible_text).
    return [visible_or_none(entry.get("name")), intern(entry.get("status")), visible_or_none(entry.get("reason"))]


def _shown_guid(value: object) -> str | None:
    """visible_or_none of a job's GUID, quicker for what GUIDs are: printable ASCII, which has no
    invisible character to show (text.visible_text), needs no search for one. One per job: no cache helps."""
    if isinstance(value, str) and value.isascii() and value.isprintable():
        return value
    return visible_or_none(value)


def _markable(value: object, shown: str | None) -> str | None:
    """``value`` as it appears inside a JSON string, when its mark may stand for it: a non-empty string
    that ``shown`` (its visible_text) leaves as it is. None otherwise."""
    if isinstance(value, str) and value and shown == value:
        return _SCRIPT_ENCODER.encode(value)[1:-1]
    return None


def _detail_template(detail: t.Mapping[str, t.Any], guid_text: str | None, host_text: str | None) -> str:
    """The detail as JSON text, the job's GUID and host (their text from _markable) written as ID_MARK and HOST_MARK.

    Violations of one rule differ mostly by GUID and host; so marked, their details are the same
    string, stored once. The marks are control characters, which JSON text never holds raw, so the
    script's replacement back is exact. A GUID or host shown otherwise than it is (visible_text) is
    left in place.
    """
    text = _SCRIPT_ENCODER.encode(detail)
    for value, mark in ((guid_text, ID_MARK), (host_text, HOST_MARK)):
        if value is not None:
            text = text.replace(value, mark)
    return text


def _table_rows(host_index: int, first_row: int, entry: t.Mapping[str, t.Any], intern: _Interner,
                shapes: _Shapes) -> tuple[list[list[t.Any]], list[list[t.Any]]]:
    """The host's rows (numbered from ``first_row``), and [row number, GUID] of its compact rows."""
    jobs = entry.get("jobs") or []
    if not jobs:
        status = "not_assessed" if entry.get("status") == "not_assessed" else "no_jobs"
        return [[host_index, None, None, shapes.table((None, None, None, None, None, intern(status), None)), None]], []
    rows: list[list[t.Any]] = []
    ids: list[list[t.Any]] = []
    host = entry.get("name")
    host_text = _markable(host, visible_or_none(host))   # once per host, not per detail
    for job in jobs:
        status = job.get("status")
        raw_id = job.get("id")
        job_id = _shown_guid(raw_id)
        name = intern.shown(job.get("name"))
        shape = shapes.of_job(job)
        detail = _detail(job)
        if detail is not None:
            detail = intern(_detail_template(detail, _markable(raw_id, job_id), host_text))
        if status in COMPACT_STATUSES:
            if job_id is not None:
                ids.append([first_row + len(rows), job_id])
            rows.append([host_index, None, name, shape, detail])
        else:
            rows.append([host_index, job_id, name, shape, detail])
    return rows, ids


def table_data(report: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The job table's data (see TableBuilder), of a report in memory: one block."""
    intern = _Interner()
    shapes = _Shapes(intern)
    hosts: list[list[t.Any]] = []
    rows: list[list[t.Any]] = []
    ids: list[list[t.Any]] = []
    for host_index, host in enumerate(report.get("hosts") or []):
        hosts.append(_table_host(host, intern))
        host_rows, host_ids = _table_rows(host_index, len(rows), host, intern, shapes)
        rows += host_rows
        ids += host_ids
    block = {"strings": intern.strings, "hosts": hosts, "rows": rows, "shapes": shapes.rows()}
    if len(rows) <= KEEP_COMPACT_IDS_UP_TO:
        block["ids"] = ids
    return {"fields": list(ROW_FIELDS), "blocks": [block]}


@dataclass
class TableBlock:
    """One slice's part of the job table: its files (hosts, rows, GUIDs of compact rows) and its tables."""

    paths: tuple[Path, Path, Path]
    rows: int
    shapes: list[list[t.Any]]
    strings: list[str]

    def pieces(self, with_ids: bool) -> list[str | Path]:
        """The block's JSON as tojson writes it (sorted keys): text, and the files to copy in between."""
        pieces: list[str | Path] = ['{"hosts":[', self.paths[0], "]"]
        if with_ids:
            pieces += [',"ids":[', self.paths[2], "]"]
        return pieces + [',"rows":[', self.paths[1], '],"shapes":' + _script_json(self.shapes)
                         + ',"strings":' + _script_json(self.strings) + "}"]

    def remove(self) -> None:
        for path in self.paths:
            os.unlink(path)


def table_pieces(blocks: t.Sequence[TableBlock]) -> list[str | Path]:
    """The whole table's JSON as tojson writes table_data's: {"blocks": [...], "fields": [...]}."""
    with_ids = sum(block.rows for block in blocks) <= KEEP_COMPACT_IDS_UP_TO
    pieces: list[str | Path] = ['{"blocks":[']
    for number, block in enumerate(blocks):
        pieces += ([","] if number else []) + block.pieces(with_ids)
    return pieces + ['],"fields":' + _script_json(list(ROW_FIELDS)) + "}"]


class TableBuilder:
    """One block of the job table's data, written host by host: hosts, rows and GUIDs of compact rows into open files.

    The table is {"fields": ROW_FIELDS, "blocks": [block, ...]}: one block per slice of hosts written
    apart (one per worker process, see shards), in host order. A block is {"hosts": [[name, status,
    reason]], "rows": [[host, id, name, shape, detail]], "shapes": [[owner, state, type, flags,
    helper token, status, rule]], "ids": [[row, GUID]], "strings": [...]}: numbers in rows, hosts and
    shapes are indexes into the block's strings (shape: into its shapes; host: into its hosts; row:
    into its rows), so that what repeats is stored once; the page's script joins the blocks. A row's
    detail is the index of its JSON text, with the GUID and host marked (_detail_template). A
    compliant or unmanaged job's row is compact: no GUID in the row; the GUIDs follow in "ids" up to
    KEEP_COMPACT_IDS_UP_TO rows in all, beyond which only bits-compliance.json has them. A host without
    jobs gets one row whose status is the host's ('not_assessed') or 'no_jobs', so that no host is
    missing from the table.
    """

    def __init__(self, hosts: t.TextIO, rows: t.TextIO, ids: t.TextIO) -> None:
        self.intern = _Interner()
        self.shapes = _Shapes(self.intern)
        self.hosts, self.rows, self.ids = _JsonItemsFile(hosts), _JsonItemsFile(rows), _JsonItemsFile(ids)
        self.host_count = self.row_count = 0
        self.paths = (Path(hosts.name), Path(rows.name), Path(ids.name))

    def host(self, entry: t.Mapping[str, t.Any]) -> None:
        self.hosts.add([_table_host(entry, self.intern)])
        rows, ids = _table_rows(self.host_count, self.row_count, entry, self.intern, self.shapes)
        self.rows.add(rows)
        self.ids.add(ids)
        self.row_count += len(rows)
        self.host_count += 1

    def close(self) -> TableBlock:
        for items in (self.hosts, self.rows, self.ids):
            items.close()
        return TableBlock(self.paths, self.row_count, self.shapes.rows(), self.intern.strings)


class _JsonItemsFile:
    """The items of one JSON list, written into an open file as _script_json writes them, without the brackets.

    Items wait until WRITE_AFTER_ITEMS are ready: setting up an encoder call costs more than encoding
    one host's few rows, and a batch's items encoded together are the same text as one by one.
    """

    WRITE_AFTER_ITEMS = 1000

    def __init__(self, stream: t.TextIO) -> None:
        self.stream = stream
        self.pending: list[t.Any] = []
        self.written = False

    def add(self, items: list[t.Any]) -> None:
        self.pending += items
        if len(self.pending) >= self.WRITE_AFTER_ITEMS:
            self.write()

    def write(self) -> None:
        if self.pending:
            self.stream.write(("," if self.written else "") + _script_json(self.pending)[1:-1])
            self.written = True
            self.pending = []

    def close(self) -> None:
        self.write()
        self.stream.close()


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


def template_context(report: t.Mapping[str, t.Any], not_assessed: dict[str, t.Any] | None = None,
                     table: object = None) -> dict[str, t.Any]:
    """What the template shows; ``not_assessed`` (capped) and ``table`` default to the report's hosts'."""
    summary = report.get("summary") or {}
    hosts_summary = summary.get("hosts") or {}
    jobs_summary = summary.get("jobs") or {}
    if not_assessed is None:
        not_assessed = _capped([host for host in report.get("hosts") or [] if host.get("status") == "not_assessed"])
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
        "not_assessed": not_assessed,
        "drift": None if drift is None else {kind: _capped(drift.get(kind) or [])
                                             for kind in ("became_noncompliant", "fixed", "appeared", "disappeared")},
        "drift_meta": drift,
        "waivers": waivers,
        "expired_waivers": [waiver for waiver in waivers if waiver.get("expired")],
        "table": table_data(report) if table is None else table,
        "style": Markup(style),
        "script": Markup(script),
        "script_hash": script_hash,
        "list_limit": LIST_LIMIT,
    }


def render_html(report: t.Mapping[str, t.Any]) -> str:
    return _environment().get_template(TEMPLATE).render(template_context(report))


def render_html_around(report: t.Mapping[str, t.Any], not_assessed: dict[str, t.Any],
                       blocks: t.Sequence[TableBlock]) -> list[str | Path]:
    """The page of a report whose hosts were streamed into ``blocks``: text, and files to copy in."""
    marker = "TABLE-" + uuid.uuid4().hex
    page = _environment().get_template(TEMPLATE).render(template_context(report, not_assessed, marker))
    head, tail = page.split('"%s"' % marker)
    return [head, *table_pieces(blocks), tail]
