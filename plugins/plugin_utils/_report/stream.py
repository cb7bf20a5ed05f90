# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report written host by host: every format as a stream, so that 100,000 hosts fit in memory.

The hosts come in slices (one, or one per worker process: ``shards``), each slice in name order. A
ReportStream writes one slice's part of every format into the staging directory as its hosts come;
no format holds the fleet. What a format says before its hosts but can only know after them (the
JSON's drift, the JUnit totals, the HTML's summary) is written by ``assemble`` once every slice is
done: each file is then its head, the slices' parts (files copied, not read into memory) and its
tail. With one slice, the text is the one the in-memory renderers of ``formats`` and ``html`` give
for the same report, byte for byte.
"""
from __future__ import annotations

import concurrent.futures
import os
import shutil
import typing as t
import uuid
from pathlib import Path

from . import json_text, junit
from .formats import CsvLines, csv_value_rows, json_lines
from .html import LIST_LIMIT, TableBlock, TableBuilder, render_html_around

REPLACE_UNENCODABLE = "winbits-bits-replace"  # registered by build, which imports this module
_COPY_BUFFER = 1 << 20


def _open(path: Path, mode: str = "w") -> t.TextIO:
    return open(path, mode, encoding="utf-8", newline="", errors=REPLACE_UNENCODABLE)


def _append_file(target: t.TextIO, part: Path) -> None:
    target.flush()
    with open(part, "rb") as source:
        if not _send_file(source, target.buffer):
            shutil.copyfileobj(source, target.buffer, _COPY_BUFFER)


def _send_file(source: t.BinaryIO, target: t.BinaryIO) -> bool:
    """Copy ``source`` to the end of ``target`` in the kernel (os.sendfile); False where that is refused.

    The parts of one format are hundreds of MB at 100,000 hosts: not read into Python's buffers.
    """
    if not hasattr(os, "sendfile"):
        return False
    left = os.fstat(source.fileno()).st_size
    try:
        while left > 0:
            sent = os.sendfile(target.fileno(), source.fileno(), None, min(left, 1 << 30))
            if sent == 0:
                break
            left -= sent
    except OSError:
        if left == os.fstat(source.fileno()).st_size:
            return False  # nothing sent: copy it the plain way
        raise
    return True


def _part_path(staging: Path, name: str, part: int) -> Path:
    return staging / f"{name}.part{part}"


def _append_parts(target: t.TextIO, staging: Path, name: str, parts: int) -> None:
    """Copy the slices' parts of ``name`` into ``target`` in slice order, and remove them."""
    for part in range(parts):
        path = _part_path(staging, name, part)
        _append_file(target, path)
        os.unlink(path)


class _JsonWriter:
    """bits-compliance.json: json.dumps(report, sort_keys=True, indent=2) (json_text.indented), one host at a time."""

    def __init__(self, staging: Path, name: str, part: int) -> None:
        self.part = _open(_part_path(staging, name, part))
        self.count = 0

    def host(self, entry: t.Mapping[str, t.Any]) -> None:
        text = json_text.indented(entry).replace("\n", "\n    ")
        self.part.write((",\n    " if self.count else "\n    ") + text)
        self.count += 1

    def close(self) -> int:
        self.part.close()
        return self.count

    @staticmethod
    def assemble(staging: Path, name: str, counts: t.Sequence[int], report: t.Mapping[str, t.Any]) -> None:
        marker = "HOSTS-" + uuid.uuid4().hex
        skeleton = json_text.indented(dict(report, hosts=[marker] if sum(counts) else [])) + "\n"
        with _open(staging / name) as stream:
            head, tail = skeleton.split('\n    "%s"' % marker) if sum(counts) else (skeleton, "")
            stream.write(head)
            written = 0
            for part, count in enumerate(counts):
                # Each part starts with its first host's "\n    "; between two parts goes the comma.
                stream.write("," if written and count else "")
                _append_file(stream, _part_path(staging, name, part))
                os.unlink(_part_path(staging, name, part))
                written += count
            stream.write(tail)


class _CsvWriter:
    """bits-compliance.csv, written row by row."""

    def __init__(self, staging: Path, name: str, part: int) -> None:
        self.stream = _open(_part_path(staging, name, part))
        self.lines = CsvLines()

    def rows(self, rows: t.Sequence[t.Sequence[object]]) -> None:
        line = self.lines.line
        self.stream.write("".join(map(line, rows)))

    def close(self) -> None:
        self.stream.close()

    @staticmethod
    def assemble(staging: Path, name: str, states: t.Sequence[None], report: t.Mapping[str, t.Any]) -> None:
        with _open(staging / name) as stream:
            stream.write(CsvLines().header())
            _append_parts(stream, staging, name, len(states))


class _JsonLinesWriter:
    """bits-compliance.jsonl: one JSON object per CSV row, with the CSV's fields, for log pipelines."""

    def __init__(self, staging: Path, name: str, part: int) -> None:
        self.stream = _open(_part_path(staging, name, part))

    def rows(self, rows: t.Sequence[t.Sequence[object]]) -> None:
        self.stream.write(json_lines(rows))

    def close(self) -> None:
        self.stream.close()

    @staticmethod
    def assemble(staging: Path, name: str, states: t.Sequence[None], report: t.Mapping[str, t.Any]) -> None:
        with _open(staging / name) as stream:
            _append_parts(stream, staging, name, len(states))


class _JunitWriter:
    """bits-compliance.junit.xml: each host's <testsuite> text written as it comes, the totals last."""

    def __init__(self, staging: Path, name: str, part: int, generated_at: str) -> None:
        self.part = _open(_part_path(staging, name, part))
        self.generated_at = generated_at
        self.totals = dict.fromkeys(junit.COUNT_KEYS, 0)

    def host(self, entry: t.Mapping[str, t.Any]) -> None:
        text, counts = junit.host_testsuite(entry, self.generated_at)
        self.part.write(text)
        for key in junit.COUNT_KEYS:
            self.totals[key] += counts[key]

    def close(self) -> dict[str, int]:
        self.part.close()
        return self.totals

    @staticmethod
    def assemble(staging: Path, name: str, states: t.Sequence[t.Mapping[str, int]],
                 report: t.Mapping[str, t.Any]) -> None:
        totals = {key: sum(state[key] for state in states) for key in junit.COUNT_KEYS}
        # Every host has at least one test case: no test, no host.
        has_hosts = totals["tests"] > 0
        with _open(staging / name) as stream:
            stream.write(junit.document_head(totals, has_hosts))
            _append_parts(stream, staging, name, len(states))
            stream.write(junit.document_tail(has_hosts))


class _HtmlWriter:
    """bits-compliance.html: the page around the job table's data, whose rows are written as they come."""

    def __init__(self, staging: Path, name: str, part: int) -> None:
        base = _part_path(staging, name, part)
        self.table = TableBuilder(*(_open(base.with_name(base.name + suffix)) for suffix in (".hosts", ".rows", ".ids")))
        self.not_assessed: list[t.Mapping[str, t.Any]] = []
        self.not_assessed_total = 0

    def host(self, entry: t.Mapping[str, t.Any]) -> None:
        self.table.host(entry)
        if entry.get("status") == "not_assessed":
            self.not_assessed_total += 1
            if len(self.not_assessed) < LIST_LIMIT:
                self.not_assessed.append({"name": entry.get("name"), "reason": entry.get("reason")})

    def close(self) -> tuple[TableBlock, list[t.Mapping[str, t.Any]], int]:
        return self.table.close(), self.not_assessed, self.not_assessed_total

    @staticmethod
    def assemble(staging: Path, name: str, states: t.Sequence[tuple[TableBlock, list[t.Mapping[str, t.Any]], int]],
                 report: t.Mapping[str, t.Any]) -> None:
        listed = [host for _block, hosts, _total in states for host in hosts][:LIST_LIMIT]
        total = sum(count for _block, _hosts, count in states)
        not_assessed = {"items": listed, "total": total, "hidden": max(0, total - LIST_LIMIT)}
        with _open(staging / name) as stream:
            for piece in render_html_around(report, not_assessed, [block for block, _hosts, _total in states]):
                if isinstance(piece, Path):
                    _append_file(stream, piece)
                else:
                    stream.write(piece)
        for block, _hosts, _total in states:
            block.remove()


_WRITERS: dict[str, t.Any] = {
    "json": _JsonWriter, "csv": _CsvWriter, "jsonl": _JsonLinesWriter, "junit": _JunitWriter, "html": _HtmlWriter,
}
# The CSV and the JSON lines share their rows, made once per host.
_ROW_FORMATS = frozenset({"csv", "jsonl"})


class ReportStream:
    """Writes one slice of hosts (``part``) of the chosen formats into ``staging``, host by host.

    ``close`` gives each format's state of the slice (counts, totals, the HTML's table block); once
    every slice is closed, ``assemble`` completes every file from the slices' states in order.
    """

    def __init__(self, staging: Path, file_names: t.Mapping[str, str], generated_at: str, part: int = 0) -> None:
        self.writers = {}
        for name, file_name in file_names.items():
            extra = (generated_at,) if name == "junit" else ()
            self.writers[name] = _WRITERS[name](staging, file_name, part, *extra)
        self.row_writers = [writer for name, writer in self.writers.items() if name in _ROW_FORMATS]
        self.host_writers = [writer for name, writer in self.writers.items() if name not in _ROW_FORMATS]

    def host(self, entry: t.Mapping[str, t.Any]) -> None:
        """One host (the next in name order); its jobs are written in GUID order."""
        entry = {**entry, "jobs": sorted(entry.get("jobs") or [], key=lambda job: str(job.get("id")))}
        for writer in self.host_writers:
            writer.host(entry)
        if self.row_writers:
            rows = csv_value_rows(entry)
            for writer in self.row_writers:
                writer.rows(rows)

    def close(self) -> dict[str, t.Any]:
        return {name: writer.close() for name, writer in self.writers.items()}

    @staticmethod
    def assemble(staging: Path, file_names: t.Mapping[str, str], states: t.Sequence[t.Mapping[str, t.Any]],
                 report: t.Mapping[str, t.Any]) -> dict[str, Path]:
        """``report``: the report without its hosts; ``states``: each slice's ``close()``, in order.

        Returns format -> the staged file.
        """
        # One thread per file: the copying of the parts (os.sendfile) runs outside the GIL, and a
        # fleet's parts are a gigabyte at 100,000 hosts.
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(file_names) or 1) as pool:
            assembled = [pool.submit(_WRITERS[name].assemble, staging, file_name, [state[name] for state in states],
                                     report) for name, file_name in file_names.items()]
            for future in assembled:
                future.result()
        return {name: staging / file_name for name, file_name in file_names.items()}
