# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helper-token usage flags: parse what a user may write, name what a host reports.
"""
from __future__ import annotations

import re


# BG_TOKEN_* from bits4_0.h, in bit order; the canonical names are what the host accepts.
FLAG_BITS: dict[str, int] = {"local_file": 0x0001, "network": 0x0002}
KNOWN_MASK = 0x0003
BG_TOKEN_PREFIX = "bg_token_"

# ASCII only: str.isdigit() would accept '²' or Arabic-Indic digits.
_DECIMAL = re.compile(r"[0-9]+", re.ASCII)
_HEX = re.compile(r"0x[0-9a-f]+", re.ASCII | re.IGNORECASE)
_DECIMAL_FRACTION = re.compile(r"[+-]?[0-9]*\.[0-9]*(e[+-]?[0-9]+)?", re.ASCII | re.IGNORECASE)

ALLOWED_HINT = (
    "allowed: local_file (0x0001) and network (0x0002), in any case, with or without the BG_TOKEN_ "
    "prefix, or a number 0-3 (decimal or hexadecimal such as 0x0003), as a list or a comma-separated "
    "string; an empty list clears all flags"
)


class FlagsError(ValueError):
    """An item of the flags option that is not a helper-token flag."""


def parse_flags(value: object) -> int | None:
    """Return the DWORD that the flags option asks for, or None when it was left out.

    Accepts a list (or tuple) of items, a single item, or a comma-separated string; an empty string
    is the ad-hoc way to write an empty list (``-a "flags="``).
    """
    if value is None:
        return None
    if isinstance(value, str):
        return _parse_comma_string(value, position=None)
    if isinstance(value, (list, tuple)):
        total = 0
        for position, item in enumerate(value, start=1):
            total |= _parse_item(item, position)
        return total
    return _parse_item(value, position=None)


def canonical_names(value: int) -> list[str]:
    """Names of the known bits of ``value``, in bit order (the module's argument form)."""
    return [name for name, bit in FLAG_BITS.items() if value & bit]


def names_from_host(value: object) -> list[str] | None:
    """Names for a flags value read from a host; unknown bits become e.g. ``0x0004``.

    A host could report bits that a later Windows defines; they are shown, never dropped or fatal.
    None (the value was not read) stays None.
    """
    number = dword_from_host(value)
    if number is None:
        return None
    names = canonical_names(number)
    unknown = number & ~KNOWN_MASK
    bit = 1
    while unknown:
        if unknown & bit:
            names.append("0x%04X" % bit)
            unknown &= ~bit
        bit <<= 1
    return names


def dword_from_host(value: object) -> int | None:
    """The flags value as an unsigned DWORD; None when the host did not report a number."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    # A signed 32-bit reading of a DWORD with its high bit set would be negative.
    return value & 0xFFFFFFFF


def format_flags(value: object) -> str:
    """One-line text of a flags value for diffs and messages: ``local_file, network`` or ``none``."""
    names = names_from_host(value)
    if names is None:
        return "unknown"
    return ", ".join(names) if names else "none"


def _parse_comma_string(text: str, position: int | None) -> int:
    if not text.strip():
        if position is None:
            return 0  # ad hoc "flags=": clear all flags
        raise FlagsError("flags item %d is an empty string; %s" % (position, ALLOWED_HINT))
    total = 0
    for part in text.split(","):
        total |= _parse_word(part.strip(), position, original=text)
    return total


def _parse_item(item: object, position: int | None) -> int:
    where = _where(position)
    # bool is an int subclass: check it first so that 'true' never becomes 0x0001.
    if isinstance(item, bool):
        raise FlagsError("flags%s: %r is a boolean, not a flag; %s" % (where, item, ALLOWED_HINT))
    if isinstance(item, int):
        return _check_number(item, repr(item), where)
    if isinstance(item, str):
        return _parse_comma_string(item, position)
    if isinstance(item, float):
        raise FlagsError("flags%s: %r is a float, not a flag; %s" % (where, item, ALLOWED_HINT))
    raise FlagsError(
        "flags%s: a %s is not a flag; %s" % (where, type(item).__name__, ALLOWED_HINT)
    )


def _parse_word(word: str, position: int | None, original: str) -> int:
    where = _where(position)
    if not word:
        raise FlagsError(
            "flags%s: %r has an empty item between commas; %s" % (where, original, ALLOWED_HINT)
        )
    if _DECIMAL.fullmatch(word):
        return _check_number(int(word, 10), repr(word), where)
    if _HEX.fullmatch(word):
        return _check_number(int(word, 16), repr(word), where)
    if word.lower().startswith("0x"):
        raise FlagsError("flags%s: %r is not a valid hexadecimal number; %s" % (where, word, ALLOWED_HINT))
    if word.startswith("-") and (_DECIMAL.fullmatch(word[1:]) or _HEX.fullmatch(word[1:])):
        raise FlagsError("flags%s: %r is negative; %s" % (where, word, ALLOWED_HINT))
    if _DECIMAL_FRACTION.fullmatch(word):
        raise FlagsError("flags%s: %r is not a whole number; %s" % (where, word, ALLOWED_HINT))
    return _bit_of_name(word, where)


def _bit_of_name(word: str, where: str) -> int:
    name = word.lower()
    if name.startswith(BG_TOKEN_PREFIX):
        name = name[len(BG_TOKEN_PREFIX):]
    bit = FLAG_BITS.get(name)
    if bit is None:
        raise FlagsError("flags%s: unknown flag name %r; %s" % (where, word, ALLOWED_HINT))
    return bit


def _check_number(number: int, shown: str, where: str) -> int:
    if number < 0:
        raise FlagsError("flags%s: %s is negative; %s" % (where, shown, ALLOWED_HINT))
    unknown = number & ~KNOWN_MASK
    if unknown:
        raise FlagsError(
            "flags%s: %s sets bits 0x%X that are not helper-token flags (only 0x0001 and 0x0002 "
            "exist); %s" % (where, shown, unknown, ALLOWED_HINT)
        )
    return number


def _where(position: int | None) -> str:
    return "" if position is None else " item %d" % position
