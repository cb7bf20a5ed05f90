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

import codecs
import concurrent.futures
import contextlib
import datetime
import json
import os
import re
import shutil
import tempfile
import typing as t
import uuid
from dataclasses import dataclass
from pathlib import Path

from .formats import RENDERERS
from .schema import SchemaProblem, report_check, report_host_check, validate


SCHEMA_VERSION = 1
FORMATS: tuple[str, ...] = ("json", "csv", "junit", "html", "jsonl")
FILE_NAMES: dict[str, str] = {
    "json": "bits-compliance.json",
    "csv": "bits-compliance.csv",
    "junit": "bits-compliance.junit.xml",
    "html": "bits-compliance.html",
    "jsonl": "bits-compliance.jsonl",
}
# generated_at is written in one fixed-length form, which the change detection relies on.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
TIMESTAMP_LENGTH = len("2026-11-21T08:15:00Z")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z", re.ASCII)
# Job statuses that a previous 'violation' can become and still be called fixed; 'unassessed' is not
# fixed (nobody knows), it is visible in the report as unassessed.
FIXED_STATUSES = frozenset({"compliant", "waived", "unmanaged"})
DRIFT_KINDS = ("became_noncompliant", "fixed", "appeared", "disappeared")
T = t.TypeVar("T")


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
        template_text = file_text(template_text)
        changed = _differs_apart_from_timestamp(template_text, marker, read_text(path))
        rendered.append(RenderedFile(name, path, template_text.replace(marker, str(report["generated_at"])), changed))
    return rendered


# A host can send a lone surrogate (half of a UTF-16 pair) in a job's name; UTF-8 cannot carry it.
# Every file is written with this handler, which puts U+FFFD in its place, in every format.
REPLACE_UNENCODABLE = "winbits-bits-replace"
# (The UTF-8 encoder takes a replacement other than ASCII only as bytes.)
codecs.register_error(REPLACE_UNENCODABLE,
                      lambda error: ("\ufffd".encode("utf-8") * (error.end - error.start), error.end))


def file_text(text: str) -> str:
    """The text as it will be on disk (lone surrogates replaced), to compare with a file read back."""
    return text.encode("utf-8", REPLACE_UNENCODABLE).decode("utf-8")


def _write_new_file(path: Path, text: str) -> None:
    with open(path, "x", encoding="utf-8", newline="", errors=REPLACE_UNENCODABLE) as stream:
        stream.write(text)
    os.chmod(path, 0o644)


def write_text_atomically(path: Path, text: str) -> None:
    """Write through a temporary file in the same directory, so that a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="", errors=REPLACE_UNENCODABLE) as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def write_files(files: t.Iterable[RenderedFile]) -> None:
    """Files that stand alone (the per-host result files), each replaced atomically."""
    for rendered in files:
        write_text_atomically(rendered.path, rendered.text)


def write_report_set(files: t.Sequence[RenderedFile]) -> None:
    """Replace the report's files as one set: all of them, or, on any error, none.

    Every file is first written whole into a hidden staging directory in the destination (same
    file system), so a full disk or a write error stops before any file of the previous set is
    touched. Only then are they renamed into place, which cannot run out of space; should a rename
    fail all the same, the files already replaced are put back from the staging directory's
    hard links to the previous ones.
    """
    if not files:
        return
    directories = {rendered.path.parent for rendered in files}
    if len(directories) != 1:
        raise ValueError("a report set is written into one directory")
    dest = directories.pop()
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=dest, prefix=".bits-compliance.", suffix=".new"))
    try:
        for rendered in files:
            _write_new_file(staging / rendered.path.name, rendered.text)
        _swap_in(staging, dest, [rendered.path.name for rendered in files])
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(staging: Path, dest: Path, names: t.Sequence[str]) -> None:
    previous = staging / "previous"
    previous.mkdir()
    for name in names:
        if (dest / name).is_file():
            try:
                os.link(dest / name, previous / name)
            except OSError:
                # A file system without hard links: a copy keeps the previous file as well.
                shutil.copy2(dest / name, previous / name)
    done: list[str] = []
    try:
        for name in names:
            os.replace(staging / name, dest / name)
            done.append(name)
    except BaseException:
        for name in done:
            if (previous / name).exists():
                os.replace(previous / name, dest / name)
            else:
                os.unlink(dest / name)
        raise


def write_reports(
    report: t.Mapping[str, t.Any],
    dest_dir: str | os.PathLike[str],
    formats: t.Iterable[str] = FORMATS,
) -> dict[str, Path]:
    """Write the report in each format into ``dest_dir``; return format -> path."""
    head = {key: value for key, value in report.items() if key != "hosts"}

    def write_hosts(_part: int, stream: t.Any) -> None:
        for host in sorted_hosts(report.get("hosts") or []):
            stream.host(host)

    files = stream_report(write_hosts, 1, lambda _extras: head, dest_dir, formats,
                          generated_at=str(report["generated_at"]))
    return {written.format: written.path for written in files}


# --- the report at fleet scale: evaluated, compared and written host by host ------------------------

@dataclass(frozen=True)
class WrittenFile:
    """One report file of a streamed set: where it goes, and whether it changes what is on disk."""

    format: str
    path: Path
    changed: bool


class DriftBuilder:
    """compute_drift, fed one current host at a time, against the compact index of a previous report.

    The previous report is kept as host -> (jobs listed?, job id -> (status, name, rule)): what
    drift needs and nothing more, so that two full reports are never in memory together.
    """

    def __init__(self, previous: PreviousIndex) -> None:
        self.previous = previous
        self.drift: dict[str, t.Any] = {kind: [] for kind in DRIFT_KINDS}
        self.not_compared: list[str] = []
        self.seen: set[str] = set()

    def host(self, host: t.Mapping[str, t.Any]) -> None:
        name = str(host.get("name"))
        self.seen.add(name)
        before = self.previous.hosts.get(name)
        self._compare(name, before, host)

    def _compare(self, name: str, before: tuple[bool, dict[str, dict[str, t.Any]]] | None,
                 now: t.Mapping[str, t.Any] | None) -> None:
        if before is not None and now is not None and not (before[0] and _has_job_listing(now)):
            self.not_compared.append(name)
            return
        before_jobs = before[1] if before is not None else {}
        now_jobs = _jobs_by_id(now) if now is not None else {}
        for job_id in sorted(set(before_jobs) | set(now_jobs)):
            _classify(self.drift, name, before_jobs.get(job_id), now_jobs.get(job_id))

    def partial(self) -> tuple[dict[str, list[t.Any]], list[str], set[str]]:
        """What this builder found of the hosts it was fed (in a worker process: see absorb)."""
        return self.drift, self.not_compared, self.seen

    def absorb(self, partial: tuple[dict[str, list[t.Any]], list[str], set[str]]) -> None:
        """Add what another builder found of other hosts; result() sorts it all."""
        drift, not_compared, seen = partial
        for kind in DRIFT_KINDS:
            self.drift[kind].extend(drift[kind])
        self.not_compared.extend(not_compared)
        self.seen |= seen

    def result(self) -> dict[str, t.Any]:
        for name in self.previous.hosts.keys() - self.seen:
            self._compare(name, self.previous.hosts[name], None)
        # compute_drift's order: by host name, then job id.
        for kind in DRIFT_KINDS:
            self.drift[kind].sort(key=lambda item: (str(item["host"]), str(item["id"])))
        self.not_compared.sort()
        return {**self.drift, "previous_generated_at": self.previous.generated_at, "not_compared": self.not_compared}


@dataclass
class PreviousIndex:
    generated_at: t.Any
    hosts: dict[str, tuple[bool, dict[str, dict[str, t.Any]]]]


_DRIFT_JOB_KEYS = ("id", "name", "rule", "status")


def previous_index(hosts: t.Iterable[t.Mapping[str, t.Any]], generated_at: t.Any) -> PreviousIndex:
    index: dict[str, tuple[bool, dict[str, dict[str, t.Any]]]] = {}
    for host in hosts:
        jobs = {str(job.get("id")): {key: job.get(key) for key in _DRIFT_JOB_KEYS} for job in host.get("jobs") or []}
        index[str(host.get("name"))] = (_has_job_listing(host), jobs)
    return PreviousIndex(generated_at, index)


def load_previous_index(path: str | os.PathLike[str]) -> PreviousIndex:
    """What drift needs of a previous bits-compliance.json, read one host at a time (ReportError names the file)."""
    reader = _TopLevelReader(path)
    fields: dict[str, t.Any] = {}
    index: PreviousIndex | None = None
    for key, value in reader.members():
        if key == "hosts":
            index = previous_index(_valid_hosts(path, value), None)
        else:
            fields[key] = value
    if index is None:
        raise ReportError(f"{path}: not a bits-compliance JSON report (no 'hosts' list)")
    if fields.get("schema_version") != SCHEMA_VERSION:
        raise ReportError(f"{path}: schema_version {fields.get('schema_version')!r} is not supported; "
                          f"expected {SCHEMA_VERSION}")
    try:
        # Everything but the hosts, which _valid_hosts checked one by one as they were read.
        validate({**fields, "hosts": []}, report_check())
    except SchemaProblem as problem:
        raise ReportError(f"{path}: not a valid bits-compliance JSON report (docs/schemas/"
                          f"bits-compliance.schema.json): {problem}") from None
    index.generated_at = fields.get("generated_at")
    return index


def _valid_hosts(path: str | os.PathLike[str], hosts: t.Iterable[t.Any]) -> t.Iterator[t.Mapping[str, t.Any]]:
    """The previous report's hosts, each checked against the schema we ship as it is read."""
    for position, host in enumerate(hosts):
        try:
            validate(host, report_host_check())
        except SchemaProblem as problem:
            raise ReportError(f"{path}: not a valid bits-compliance JSON report (docs/schemas/"
                              f"bits-compliance.schema.json): hosts[{position}]"
                              f"{'.' if problem.where else ''}{problem.where}: {problem.what}") from None
        yield host


class _TopLevelReader:
    """The members of a JSON object file, the 'hosts' array lazily, element by element.

    json.JSONDecoder.raw_decode on a window of the file that grows only as far as one value needs:
    a 500 MB report is read with the memory of one host.
    """

    _CHUNK = 1 << 20

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self.decoder = json.JSONDecoder()
        self.buffer = ""
        self.position = 0
        self.eof = False
        try:
            self.stream = open(path, encoding="utf-8")
        except FileNotFoundError:
            raise ReportError(f"{path}: no such file") from None
        except OSError as error:
            raise ReportError(f"{path}: not a readable JSON report: {error}") from None

    def _more(self) -> bool:
        try:
            chunk = self.stream.read(self._CHUNK)
        except (OSError, UnicodeDecodeError) as error:
            raise ReportError(f"{self.path}: not a readable JSON report: {error}") from None
        if not chunk:
            self.eof = True
            return False
        self.buffer = self.buffer[self.position:] + chunk
        self.position = 0
        return True

    def _skip_space(self) -> str:
        while True:
            while self.position < len(self.buffer) and self.buffer[self.position] in " \t\r\n":
                self.position += 1
            if self.position < len(self.buffer):
                return self.buffer[self.position]
            if not self._more():
                return ""

    def _expect(self, characters: str) -> str:
        found = self._skip_space()
        if not found or found not in characters:
            raise ReportError(f"{self.path}: not a readable JSON report: expected one of {characters!r} "
                              f"at character {self.position}, found {found!r}")
        self.position += 1
        return found

    def _value(self) -> t.Any:
        self._skip_space()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.position)
            except RecursionError:
                raise ReportError(f"{self.path}: not a bits-compliance JSON report: nested too deeply to read") from None
            except ValueError as error:
                if self.eof or not self._more():
                    raise ReportError(f"{self.path}: not a readable JSON report: {error}") from None
                continue
            # A number or literal may go on in the next chunk: decode it again with more text.
            if end == len(self.buffer) and not self.eof and self._more():
                continue
            self.position = end
            return value

    def _array(self) -> t.Iterator[t.Any]:
        self._expect("[")
        if self._skip_space() == "]":
            self.position += 1
            return
        while True:
            yield self._value()
            if self._expect(",]") == "]":
                return

    def members(self) -> t.Iterator[tuple[str, t.Any]]:
        with self.stream:
            self._expect("{")
            if self._skip_space() == "}":
                return
            while True:
                key = self._value()
                self._expect(":")
                if key == "hosts":
                    if self._skip_space() != "[":
                        raise ReportError(f"{self.path}: not a bits-compliance JSON report (no 'hosts' list)")
                    yield key, self._hosts()
                else:
                    yield key, self._value()
                if self._expect(",}") == "}":
                    return

    def _hosts(self) -> t.Iterator[t.Mapping[str, t.Any]]:
        for position, host in enumerate(self._array()):
            if not isinstance(host, dict):
                raise ReportError(f"{self.path}: hosts[{position}]: {host!r:.60} is not of type object; each host "
                                  f"must be an object")
            yield host


def _same_apart_from_timestamp(new: Path, old: Path, timestamp: str) -> bool:
    """Whether ``old`` is ``new`` with every ``timestamp`` replaced by one other timestamp (see above).

    Compared in chunks: the timestamp has one length, so the two files differ in size when they
    differ in anything else.
    """
    try:
        if new.stat().st_size != old.stat().st_size:
            return False
        old_stream = open(old, "rb")
    except OSError:
        return False
    mark = timestamp.encode("ascii")
    old_mark: bytes | None = None
    with old_stream, open(new, "rb") as new_stream:
        while True:
            chunk = new_stream.read(1 << 20)
            # Finish the line, so that no timestamp is cut in two.
            chunk += new_stream.readline()
            old_chunk = old_stream.read(len(chunk))
            if not chunk:
                return not old_chunk
            if chunk == old_chunk:
                continue
            start = chunk.find(mark)
            if start < 0:
                return False
            candidate = old_chunk[start:start + len(mark)]
            if not _TIMESTAMP.fullmatch(candidate.decode("ascii", "replace")) or (old_mark not in (None, candidate)):
                return False
            old_mark = candidate
            if chunk.replace(mark, candidate) != old_chunk:
                return False


def stream_report(
    write_slice: t.Callable[[int, t.Any], T],
    slices: int,
    head: t.Callable[[list[T]], t.Mapping[str, t.Any]],
    dest_dir: str | os.PathLike[str],
    formats: t.Iterable[str] = FORMATS,
    *,
    generated_at: str,
    write: bool = True,
) -> list[WrittenFile]:
    """Write the report whose hosts come slice by slice, as one set into ``dest_dir``.

    ``write_slice(part, stream)`` feeds the hosts of slice ``part`` (0 to ``slices`` - 1, each in
    name order, the slices in order) to ``stream.host`` and returns what the head needs of them;
    slice 0 runs in this process, the others at the same time in forked ones (``shards``).
    ``head(extras)`` is called once every slice is done, with their returns in slice order: the
    report without its hosts (summary, drift, waivers...; its generated_at is ``generated_at``). The
    set is written whole into a staging directory and swapped in (``write_report_set``'s
    guarantees); with ``write`` false nothing in ``dest_dir`` changes and the result still says which
    files would.
    """
    from .shards import run_slices  # noqa: PLC0415
    from .stream import ReportStream  # noqa: PLC0415  (stream imports the format modules)

    dest = Path(dest_dir)
    names = {name: FILE_NAMES[name] for name in check_formats(formats)}
    created = write and not dest.exists()
    if write:
        dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=dest if write else None, prefix=".bits-compliance.", suffix=".new"))

    def write_part(part: int) -> tuple[dict[str, t.Any], T]:
        stream = ReportStream(staging, names, generated_at, part)
        extra = write_slice(part, stream)
        return stream.close(), extra

    try:
        done = run_slices(write_part, slices)
        report = dict(head([extra for _states, extra in done]), generated_at=generated_at)
        staged = ReportStream.assemble(staging, names, [states for states, _extra in done], report)
        # Each file compared in its own thread: reading a gigabyte twice waits on the disk, not the GIL.
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(names) or 1) as pool:
            same = pool.map(lambda name: _same_apart_from_timestamp(staged[name], dest / names[name], generated_at),
                            names)
            files = [WrittenFile(name, dest / names[name], not unchanged) for name, unchanged in zip(names, same)]
        if write:
            for path in staged.values():
                os.chmod(path, 0o644)
            _swap_in(staging, dest, list(names.values()))
        created = False
        return files
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            # A failed first report leaves no empty directory behind either.
            with contextlib.suppress(OSError):
                dest.rmdir()


class _SummaryCounter:
    """evaluate_fleet's summary, added up host by host.

    It starts from summarise's summary of no host (every count at zero, in its key order) and adds
    each host's counts in place, as summarise counts them, rather than summarising each host apart.
    """

    def __init__(self, policy: t.Any) -> None:
        from .._policy.evaluate import summarise  # noqa: PLC0415

        self.summary: dict[str, t.Any] = summarise(policy, [])
        self.hosts, self.jobs, self.rules = self.summary["hosts"], self.summary["jobs"], self.summary["rules"]

    def host(self, entry: t.Mapping[str, t.Any]) -> None:
        jobs, rules = self.jobs, self.rules
        self.hosts[entry["status"]] += 1
        self.hosts["total"] += 1
        for job in entry["jobs"]:
            status = job["status"]
            jobs[status] += 1
            jobs["total"] += 1
            if job["rule"] is not None:
                rules[job["rule"]][status] += 1

    def absorb(self, summary: dict[str, t.Any] | None) -> None:
        """Add the summary another counter made of other hosts (in place: ``host`` counts into it)."""
        if summary is None:
            return
        for group in ("hosts", "jobs"):
            for key, value in summary[group].items():
                self.summary[group][key] += value
        for rule, counts in summary["rules"].items():
            for key, value in counts.items():
                self.summary["rules"][rule][key] += value

    def result(self) -> dict[str, t.Any]:
        return self.summary


class PolicyEvaluation:
    """evaluate_fleet one host at a time: ``host`` judges and counts one, ``head`` gives the rest.

    head() is the assessment without its hosts: policy, as_of, the summary and the waivers' use
    over every host judged so far.
    """

    def __init__(self, policy: t.Any, today: datetime.date) -> None:
        from .._policy.evaluate import Judge  # noqa: PLC0415

        self.policy, self.today = policy, today
        self.judge = Judge(policy, today)
        self.counter = _SummaryCounter(policy)

    def host(self, name: str, result: t.Mapping[str, t.Any] | None) -> dict[str, t.Any]:
        entry = self.judge.host(name, result)
        self.counter.host(entry)
        return entry

    def partial(self) -> tuple[dict[str, t.Any] | None, list[int]]:
        """The counts of the hosts judged here, for the evaluation of a process that judged others."""
        return self.counter.summary, list(self.judge.waiver_used)

    def absorb(self, partial: tuple[dict[str, t.Any] | None, list[int]]) -> None:
        """Count the hosts another evaluation judged (in a worker process) as if judged here."""
        summary, waiver_used = partial
        self.counter.absorb(summary)
        self.judge.waiver_used = [mine + theirs for mine, theirs in zip(self.judge.waiver_used, waiver_used)]

    def head(self) -> dict[str, t.Any]:
        from .._policy.evaluate import evaluate_fleet  # noqa: PLC0415

        skeleton = evaluate_fleet(self.policy, {}, today=self.today)
        return {"policy": skeleton["policy"], "as_of": skeleton["as_of"], "summary": self.counter.result(),
                "waivers": self.judge.waiver_report()}


def _given(_host: str, result: t.Any) -> t.Any:
    return result


def assess_and_write(
    evaluation: t.Any,
    results: t.Iterable[tuple[str, t.Any]],
    dest_dir: str | os.PathLike[str],
    formats: t.Iterable[str] = FORMATS,
    *,
    generated_at: datetime.datetime,
    previous: PreviousIndex | None,
    write: bool = True,
    read: t.Callable[[str, t.Any], t.Mapping[str, t.Any] | None] | None = None,
    workers: int = 1,
) -> tuple[dict[str, t.Any], list[WrittenFile]]:
    """evaluate_fleet + build_report + write, host by host: (the report without its hosts, the files).

    ``results`` come as (host, source), in host name order; ``read(host, source)`` gives the host's
    bits_job_info result or None (without ``read``, the source is that result). Each host is read, judged
    by ``evaluation`` (a PolicyEvaluation), compared with the previous report and written, then let
    go. ``workers`` processes share the hosts, in contiguous slices (``shards.worker_count``).
    """
    from .shards import slice_bounds, worker_count  # noqa: PLC0415

    items = results if isinstance(results, list) else list(results)
    read = read or _given
    bounds = slice_bounds(len(items), worker_count(workers, len(items)))
    drift = DriftBuilder(previous) if previous is not None else None
    timestamp = format_timestamp(generated_at)

    def write_slice(part: int, stream: t.Any) -> tuple[t.Any, t.Any]:
        start, stop = bounds[part]
        for index in range(start, stop):
            name, source = items[index]
            entry = evaluation.host(name, read(name, source))
            if drift is not None:
                drift.host(entry)
            stream.host(entry)
        return evaluation.partial(), drift.partial() if drift is not None else None

    head: dict[str, t.Any] = {}

    def report_head(extras: list[tuple[t.Any, t.Any]]) -> dict[str, t.Any]:
        # Slice 0 was judged by this process's evaluation and drift; the others' counts are added.
        for judged, compared in extras[1:]:
            evaluation.absorb(judged)
            if drift is not None:
                drift.absorb(compared)
        head.update(schema_version=SCHEMA_VERSION, generated_at=timestamp, **evaluation.head(),
                    drift=drift.result() if drift is not None else None)
        return head

    files = stream_report(write_slice, len(bounds), report_head, dest_dir, formats, generated_at=timestamp,
                          write=write)
    return head, files
