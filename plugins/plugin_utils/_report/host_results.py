# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hosts' registered bits_job_info results, saved one file per host and aggregated.

Sliced runs (one play per slice of the inventory) cannot share hostvars; each slice saves one file
per host in a results directory, and a last play aggregates the directory into one fleet report.
Every host keeps its result, whatever it is: an unreachable or failed host's result is saved as
Ansible registered it, and a host without any result is saved with ``result: null``.
"""
from __future__ import annotations

import os
import re
import typing as t
import urllib.parse
from collections import abc
from pathlib import Path

from . import json_text
from .schema import SchemaProblem, host_job_check, validate


# The key and version that mark a file as one of ours: aggregate refuses anything else.
RESULT_FILE_KEY = "winbits_bits_host_result"
RESULT_FILE_VERSION = 1
_PLAIN_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}", re.ASCII)


class ResultsError(ValueError):
    """A results directory or file that cannot be aggregated; the message names the file."""


def result_file_name(host: str) -> str:
    """``web01.json``; a host name that is not a plain file name is percent-encoded (the file says the name)."""
    if _PLAIN_FILE_NAME.fullmatch(host) and not host.endswith("."):
        return host + ".json"
    encoded = urllib.parse.quote(host, safe="")
    # A leading dot would hide the file, and aggregate skips hidden files (temporary ones).
    return ("%2E" + encoded[1:] if encoded.startswith(".") else encoded) + ".json"


def render_result_file(host: str, result: abc.Mapping[str, t.Any] | None) -> str:
    document = {RESULT_FILE_KEY: RESULT_FILE_VERSION, "host": host, "result": result}
    return json_text.indented(document) + "\n"


def _read_result_file(path: str | Path) -> tuple[str, dict[str, t.Any] | None]:
    try:
        # Unbuffered: the file is read whole, so a buffer would only be one more copy to make.
        with open(path, "rb", buffering=0) as stream:
            document = json_text.parse_file_bytes(stream.read())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ResultsError(f"{path}: not a readable JSON host result: {error}") from None
    except RecursionError:
        raise ResultsError(f"{path}: not a host result: nested too deeply to read") from None
    if not isinstance(document, dict) or document.get(RESULT_FILE_KEY) != RESULT_FILE_VERSION:
        raise ResultsError(f"{path}: not a host result written by mode=host_results "
                           f"(expected the key {RESULT_FILE_KEY!r} = {RESULT_FILE_VERSION})")
    host, result = document.get("host"), document.get("result")
    if not isinstance(host, str) or not host:
        raise ResultsError(f"{path}: 'host' must be a non-empty string")
    if result is not None and not isinstance(result, dict):
        raise ResultsError(f"{path}: 'result' must be a mapping or null, not {type(result).__name__}")
    problem = result_problem(result)
    if problem is not None:
        raise ResultsError(f"{path}: {problem}")
    return host, result


def result_problem(result: abc.Mapping[str, t.Any] | None) -> str | None:
    """The first thing wrong in what a host result gives the report, or None.

    A failed, unreachable or skipped result gives only its message; a listing gives its caller and its
    jobs, which are copied into the report, so they must have the types bits_job_info returns (those the
    report's schema gives a job's facts) and their error details must be flat.
    """
    if result is None or any(result.get(key) for key in ("failed", "unreachable", "skipped")):
        return None
    problem = _flat_mapping(result.get("caller"), "result.caller")
    jobs = result.get("jobs")
    if problem is not None or jobs is None:
        return problem
    if not isinstance(jobs, list):
        return f"result.jobs: is {type(jobs).__name__}, not a list"
    check = host_job_check()
    for index, job in enumerate(jobs):
        # dict first: every job read from JSON is one, and the ABC's check alone costs several times more.
        if not isinstance(job, (dict, abc.Mapping)):
            return f"result.jobs[{index}]: is {type(job).__name__}, not a job mapping"
        try:
            validate(job, check)
        except SchemaProblem as error:
            path = f"result.jobs[{index}]"
            return f"{path}.{error.where}: {error.what}" if error.where else f"{path}: {error.what}"
        for key in ("error", "read_error"):
            # Most jobs have neither: no call, and no path text, for a null.
            if job.get(key) is not None:
                problem = _flat_mapping(job[key], f"result.jobs[{index}].{key}")
                if problem is not None:
                    return problem
    return None


def _flat_mapping(value: object, path: str) -> str | None:
    """None for null or a mapping of plain values; else what is wrong."""
    if value is None:
        return None
    if not isinstance(value, abc.Mapping):
        return f"{path}: is {type(value).__name__}, not a mapping or null"
    for key, item in value.items():
        if item is not None and not isinstance(item, (str, int, float, bool)):
            return f"{path}.{key}: is {type(item).__name__}; only text, numbers, booleans or null are expected"
    return None


def read_results_dir(directory: str | Path) -> dict[str, dict[str, t.Any] | None]:
    """Every ``*.json`` of the directory (hidden files aside) as host -> result; ResultsError names a bad file."""
    return dict(iter_results_dir(directory))


def host_of_file_name(file_name: str) -> str:
    """The host whose result ``result_file_name`` names so (the inverse of it)."""
    stem = file_name[:-len(".json")]
    return urllib.parse.unquote(stem) if "%" in stem else stem


class ResultsListing:
    """A results directory's hosts in name order, each with its file, read one at a time with ``read``.

    The order comes from the file names (``result_file_name``), so that the files can be read in any
    number of slices (a process each, see shards) without reading any twice; ``hosts`` without a file
    are listed with None. Two files of one host, or a file whose host is not the one its name says,
    are refused (ResultsError, naming the file).
    """

    def __init__(self, directory: str | Path, hosts: t.Iterable[str] = ()) -> None:
        self.root = Path(directory)
        # What ``str(self.root / name)`` gives, made without a Path per file (which costs more than the
        # rest of reading the file but the parse): Path drops the directory ".".
        self.file_prefix = "" if str(self.root) == "." else os.path.join(str(self.root), "")
        if not self.root.is_dir():
            raise ResultsError(f"{self.root}: not a directory")
        # File names, not paths, and os.scandir, not Path.glob: 100,000 files are listed before any
        # worker starts.
        self.named: dict[str, str] = {}
        with os.scandir(self.root) as entries:
            for entry in entries:
                if entry.name.startswith(".") or not entry.name.endswith(".json"):
                    continue
                host = host_of_file_name(entry.name)
                if host in self.named:
                    first, second = sorted((self.named[host], entry.name))
                    raise ResultsError(f"{self.root / second}: host {host!r} is already in {self.root / first}")
                self.named[host] = entry.name
        self.items: list[tuple[str, str | None]] = [(host, self.named.get(host))
                                                    for host in sorted(set(hosts) | self.named.keys())]

    def read(self, host: str, file_name: str | None) -> dict[str, t.Any] | None:
        """The result of ``host`` in ``file_name`` (one of ``items``): None when it has no file."""
        if file_name is None:
            return None
        path = self.file_prefix + file_name
        found, result = _read_result_file(path)
        if found != host and found in self.named:
            raise ResultsError(f"{path}: host {found!r} is already in {self.root / self.named[found]}")
        if found != host:
            raise ResultsError(f"{path}: holds host {found!r}, whose result file is named "
                               f"{result_file_name(found)!r}; mode=host_results names each file after its host")
        return result


def iter_results_dir(directory: str | Path, hosts: t.Iterable[str] = ()) -> t.Iterator[tuple[str, dict[str, t.Any] | None]]:
    """Each host's result, one file at a time, in host name order, with ``hosts`` without a file as None."""
    listing = ResultsListing(directory, hosts)
    for host, path in listing.items:
        yield host, listing.read(host, path)
