# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""JSON text for the report, and the parsing of the files it reads, through orjson where installed.

The report's JSON and JSON lines are a large part of a fleet report's cost: at 100,000 hosts they are
most of a gigabyte of text. orjson, a compiled JSON library, writes them about five times faster
than the standard library's json module, and parses a host's result file about twice as fast.

It is optional, and the files are the same bytes with it or without it. orjson is used only where it
gives exactly what json gives; where it cannot, json does the work:
- orjson refuses an integer beyond 64 bits, a lone surrogate (which a host can send in a job's
  name) and a key that is not a string: json writes the value, as without orjson;
- orjson spells some floats otherwise: ``1e-7`` for ``1e-07``, ``0.00001`` for ``1e-05``. Its text
  is searched for these spellings, and where one may be there, json writes the value. The
  report's numbers are integers but in the few mappings a host gives as they are (a job's error,
  the caller), so this is seldom;
- orjson parses an integer of more than 64 bits as a float, and refuses NaN, a lone surrogate's
  escape and nesting deeper than it allows, all of which json reads: a document that may hold one of
  these is read by json, and so is every document orjson refuses, so that errors are json's too.
"""
from __future__ import annotations

import json
import re
import typing as t

try:
    import orjson
except ImportError:  # orjson is optional: json gives the same text, more slowly.
    orjson = None


def spells_numbers_as_json(module: t.Any) -> bool:
    """Whether ``module`` (orjson) writes these numbers as json does.

    Those that orjson 3.13 writes otherwise are found in its text (_SHORT_NEGATIVE_EXPONENT); an
    orjson that also spells others otherwise (an older one wrote 1e16 for 1e+16) is not used.
    """
    probes = [0, -1, 2 ** 63, -2 ** 63, 2 ** 64 - 1, 0.1, -0.0, 2.5, 1e16, 1e22, 1.5e300, 123456789.125, 0.0001,
              1.2345e-10, 5e-324]
    return module.dumps(probes) == json.dumps(probes, separators=(",", ":")).encode("ascii")


if orjson is not None and not spells_numbers_as_json(orjson):
    orjson = None


# Options that keep orjson to what json writes: without them it would write datetimes, dataclasses
# its own way, where json raises a TypeError (and then json raises it here too).
_PASSTHROUGH = 0 if orjson is None else (
    orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS)
_INDENTED = 0 if orjson is None else orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | _PASSTHROUGH
# An integer of 19 digits or more may not fit in 64 bits; orjson would give a float for it. Such a
# run is found by a bytes search in the text with every digit made "0" and every other byte " "
# (bytes.translate): ten times faster than a regex, which tries each position of a file.
_LONG_DIGIT_RUN = b"0" * 19
_DIGITS_AS_ZEROS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))

# The floats orjson spells otherwise than json: a one-digit negative exponent (1e-7, not 1e-07),
# and a number below 1e-4 written out (0.00001, not 1e-05), which is the text "0.0000".
_SHORT_NEGATIVE_EXPONENT = re.compile(rb"e-[0-9](?![0-9])")

_compact_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def indented(value: t.Any) -> str:
    """``json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)``: the report's JSON."""
    if orjson is not None:
        text = _orjson_text(value, _INDENTED)
        if text is not None:
            return text
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)


def compact(value: t.Any) -> str:
    """``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``, keys in their order: one JSON line."""
    if orjson is not None:
        text = _orjson_text(value, _PASSTHROUGH)
        if text is not None:
            return text
    return _compact_json(value)


def _orjson_text(value: t.Any, option: int) -> str | None:
    """orjson's text of ``value``, or None where it is not json's (see the module's notes)."""
    try:
        text = orjson.dumps(value, option=option)
    except TypeError:  # orjson.JSONEncodeError is one
        return None
    # Two quick searches first: most texts hold neither "e-" nor "0.0000".
    if (b"e-" in text and _SHORT_NEGATIVE_EXPONENT.search(text)) or b"0.0000" in text:
        return None
    return text.decode("utf-8")


def parse_file_bytes(data: bytes) -> t.Any:
    """What ``json.loads`` gives for a file's bytes read as ``Path.read_text(encoding="utf-8")`` reads them.

    Raises as that does: UnicodeDecodeError for bytes that are not UTF-8, ValueError (a
    json.JSONDecodeError) for text that is not JSON, RecursionError for nesting too deep for json.
    """
    if orjson is not None and _LONG_DIGIT_RUN not in data.translate(_DIGITS_AS_ZEROS):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # json's error, or json's reading of what orjson refuses
    return json.loads(_universal_newlines(data.decode("utf-8")))


def _universal_newlines(text: str) -> str:
    # read_text's newline translation: a JSON error's line and column are those read_text would give.
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text
