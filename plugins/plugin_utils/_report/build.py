# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet compliance report: build it from an assessment, compare it with a previous one, write it.

Controller-only code (plugin_utils). The assessment is what ``bits_policy.evaluate_fleet`` returns;
this module adds the schema version, the generation time and the drift since a previous report, and
writes the report as JSON, CSV, JUnit XML and one self-contained HTML file (``bits_report_formats``).

A written file counts as changed only when its content differs apart from the generation time, so
that a second audit of an unchanged fleet reports ``changed: false``.
"""
from __future__ import annotations

import datetime
import json
import os
import re
import tempfile
import typing as t
import uuid
from dataclasses import dataclass
from pathlib import Path

from .formats import RENDERERS
from .schema import SchemaProblem, report_check, validate


SCHEMA_VERSION = 1
FORMATS: tuple[str, ...] = ("json", "csv", "junit", "html")
FILE_NAMES: dict[str, str] = {
    "json": "bits-compliance.json",
    "csv": "bits-compliance.csv",
    "junit": "bits-compliance.junit.xml",
    "html": "bits-compliance.html",
}
# generated_at is written in one fixed-length form, which the change detection relies on.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
TIMESTAMP_LENGTH = len("2026-11-21T08:15:00Z")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z", re.ASCII)
# Job statuses that a previous 'violation' can become and still be called fixed; 'unassessed' is not
# fixed (nobody knows), it is visible in the report as unassessed.
FIXED_STATUSES = frozenset({"compliant", "waived", "unmanaged"})
DRIFT_KINDS = ("became_noncompliant", "fixed", "appeared", "disappeared")


class ReportError(ValueError):
    """A previous report or an output that cannot be used; the message names the file and the cause."""


@dataclass(frozen=True)
class RenderedFile:
    """One report file as it would be written, and whether that changes what is on disk."""

    format: str
    path: Path
    text: str
    changed: bool


def format_timestamp(moment: datetime.datetime) -> str:
    """ISO 8601 UTC to the second, with a Z: the one form generated_at takes."""
    if moment.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware")
    return moment.astimezone(datetime.timezone.utc).strftime(TIMESTAMP_FORMAT)


def build_report(
    assessment: t.Mapping[str, t.Any],
    *,
    generated_at: datetime.datetime,
    previous: t.Mapping[str, t.Any] | None,
) -> dict[str, t.Any]:
    """REPORT = {"schema_version", "generated_at", **assessment, "drift": DRIFT or None}."""
    report: dict[str, t.Any] = {"schema_version": SCHEMA_VERSION, "generated_at": format_timestamp(generated_at)}
    report.update(assessment)
    report["hosts"] = sorted_hosts(assessment.get("hosts") or [])
    report["drift"] = compute_drift(previous, assessment) if previous is not None else None
    return report


def sorted_hosts(hosts: t.Iterable[t.Mapping[str, t.Any]]) -> list[dict[str, t.Any]]:
    """Hosts by name, each one's jobs by id: the order that lets two reports diff cleanly.

    evaluate_fleet already sorts them; the report does not rely on it.
    """
    ordered = []
    for entry in sorted(hosts, key=lambda item: str(item.get("name"))):
        ordered.append({**entry, "jobs": sorted(entry.get("jobs") or [], key=lambda job: str(job.get("id")))})
    return ordered


# --- drift -----------------------------------------------------------------------------------------

def _has_job_listing(host: t.Mapping[str, t.Any]) -> bool:
    """Whether the host's jobs were listed; an unreachable, failed or missing host's were not."""
    return bool(host.get("jobs")) or host.get("status") != "not_assessed"


def _jobs_by_id(host: t.Mapping[str, t.Any]) -> dict[str, t.Mapping[str, t.Any]]:
    return {str(job.get("id")): job for job in host.get("jobs") or []}


def _drift_item(host: str, job: t.Mapping[str, t.Any], before: t.Mapping[str, t.Any] | None) -> dict[str, t.Any]:
    return {
        "host": host,
        "id": job.get("id"),
        "name": job.get("name"),
        "rule": job.get("rule"),
        "status": job.get("status"),
        "previous_status": before.get("status") if before is not None else None,
    }


def compute_drift(previous: t.Mapping[str, t.Any], current: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """Jobs that became non-compliant, were fixed, appeared or disappeared, keyed by host and job id.

    A host present in only one of the two reports brings all its jobs as appeared or disappeared. A
    host present in both whose jobs could not be listed in one of them (unreachable, failed, no
    result) is not compared, and is named in ``not_compared``: its jobs did not really disappear.
    """
    before_hosts = {str(host.get("name")): host for host in previous.get("hosts") or []}
    now_hosts = {str(host.get("name")): host for host in current.get("hosts") or []}
    drift: dict[str, t.Any] = {kind: [] for kind in DRIFT_KINDS}
    not_compared: list[str] = []
    for name in sorted(set(before_hosts) | set(now_hosts)):
        before_host, now_host = before_hosts.get(name), now_hosts.get(name)
        if before_host is not None and now_host is not None and not (
                _has_job_listing(before_host) and _has_job_listing(now_host)):
            not_compared.append(name)
            continue
        before_jobs = _jobs_by_id(before_host) if before_host is not None else {}
        now_jobs = _jobs_by_id(now_host) if now_host is not None else {}
        for job_id in sorted(set(before_jobs) | set(now_jobs)):
            _classify(drift, name, before_jobs.get(job_id), now_jobs.get(job_id))
    drift["previous_generated_at"] = previous.get("generated_at")
    drift["not_compared"] = not_compared
    return drift


def _classify(drift: dict[str, t.Any], host: str, before: t.Mapping[str, t.Any] | None,
              now: t.Mapping[str, t.Any] | None) -> None:
    if before is None and now is not None:
        drift["appeared"].append(_drift_item(host, now, None))
    elif now is None and before is not None:
        item = _drift_item(host, before, before)
        item["status"] = None
        drift["disappeared"].append(item)
    elif before is not None and now is not None:
        was_violation = before.get("status") == "violation"
        if now.get("status") == "violation" and not was_violation:
            drift["became_noncompliant"].append(_drift_item(host, now, before))
        elif was_violation and now.get("status") in FIXED_STATUSES:
            drift["fixed"].append(_drift_item(host, now, before))


def load_previous_report(path: str | os.PathLike[str]) -> dict[str, t.Any]:
    """A previous bits-compliance.json, valid against the schema we ship; ReportError names the file and the problem."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise ReportError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ReportError(f"{path}: not a readable JSON report: {error}") from None
    except RecursionError:
        raise ReportError(f"{path}: not a bits-compliance JSON report: nested too deeply to read") from None
    if not isinstance(data, dict) or not isinstance(data.get("hosts"), list):
        raise ReportError(f"{path}: not a bits-compliance JSON report (no 'hosts' list)")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ReportError(f"{path}: schema_version {data.get('schema_version')!r} is not supported; "
                          f"expected {SCHEMA_VERSION}")
    try:
        validate(data, report_check())
    except SchemaProblem as problem:
        raise ReportError(f"{path}: not a valid bits-compliance JSON report (docs/schemas/"
                          f"bits-compliance.schema.json): {problem}") from None
    return data


# --- writing ---------------------------------------------------------------------------------------

def _differs_apart_from_timestamp(template_text: str, marker: str, old_text: str | None) -> bool:
    """Whether ``old_text`` is not ``template_text`` with every ``marker`` replaced by one timestamp.

    The timestamp of the old file is read at the place of the first marker; every later marker must
    hold the same value, which the final comparison checks.
    """
    if old_text is None:
        return True
    head, found, _tail = template_text.partition(marker)
    if not found:
        return old_text != template_text
    candidate = old_text[len(head):len(head) + TIMESTAMP_LENGTH]
    if not old_text.startswith(head) or not _TIMESTAMP.fullmatch(candidate):
        return True
    return old_text != template_text.replace(marker, candidate)


def read_text(path: Path) -> str | None:
    try:
        # newline="": compare the bytes as written (the CSV's lines end in CRLF).
        with path.open(encoding="utf-8", newline="") as stream:
            return stream.read()
    except (OSError, UnicodeDecodeError):
        return None


def check_formats(formats: t.Iterable[str]) -> list[str]:
    """The formats in canonical order; ValueError names an unknown one and what is allowed."""
    wanted = list(formats)
    unknown = [name for name in wanted if name not in FORMATS]
    if unknown:
        raise ValueError(f"unknown format {', '.join(map(repr, unknown))}; allowed: {', '.join(FORMATS)}")
    return [name for name in FORMATS if name in wanted]


def render_reports(
    report: t.Mapping[str, t.Any],
    dest_dir: str | os.PathLike[str],
    formats: t.Iterable[str] = FORMATS,
) -> list[RenderedFile]:
    """Render each format and tell whether it changes the file on disk (apart from generated_at)."""
    # Rendered once with a unique marker for the time, so that the old file's own timestamp can be
    # put in its place for the comparison, whatever the format does with it.
    marker = "GENERATED-AT-" + uuid.uuid4().hex
    marked = dict(report, generated_at=marker)
    rendered = []
    for name in check_formats(formats):
        path = Path(dest_dir) / FILE_NAMES[name]
        template_text = RENDERERS[name](marked)
        changed = _differs_apart_from_timestamp(template_text, marker, read_text(path))
        rendered.append(RenderedFile(name, path, template_text.replace(marker, str(report["generated_at"])), changed))
    return rendered


def write_text_atomically(path: Path, text: str) -> None:
    """Write through a temporary file in the same directory, so that a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def write_files(files: t.Iterable[RenderedFile]) -> None:
    for rendered in files:
        write_text_atomically(rendered.path, rendered.text)


def write_reports(
    report: t.Mapping[str, t.Any],
    dest_dir: str | os.PathLike[str],
    formats: t.Iterable[str] = FORMATS,
) -> dict[str, Path]:
    """Write the report in each format into ``dest_dir``; return format -> path."""
    files = render_reports(report, dest_dir, formats)
    write_files(files)
    return {rendered.format: rendered.path for rendered in files}
