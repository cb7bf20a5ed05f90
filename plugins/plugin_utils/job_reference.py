# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate the job option: a BITS job GUID or display name.

The host treats a value of the GUID pattern as a GUID and anything else as a display name
(docs/host-contract.md). A GUID with a typo would silently become a display name that matches
nothing, so whatever looks like a GUID must be a well-formed one.
"""
from __future__ import annotations

import re
import unicodedata

# IBackgroundCopyJob::SetDisplayName: "limited to 256 characters, not including the null
# terminator" - WCHARs, i.e. UTF-16 code units.
MAX_DISPLAY_NAME_UTF16 = 256

_GUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII | re.IGNORECASE
)
# The 8-4-4-4-12 shape, whatever the characters: a non-hex letter in it is a typo.
_GUID_SHAPE = re.compile(r"\w{8}-\w{4}-\w{4}-\w{4}-\w{12}", re.ASCII)
_HEX_AND_HYPHENS = re.compile(r"[0-9a-f-]+", re.ASCII | re.IGNORECASE)
GUID_FORM = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hexadecimal digits, braces optional)"


class JobReferenceError(ValueError):
    """The job option is not a usable display name or GUID."""


def normalise_job(value: object) -> str:
    """Return the job option as the module should receive it, or raise JobReferenceError.

    A well-formed GUID is passed on as written (case and braces kept), without surrounding blanks;
    a display name is passed on exactly as written.
    """
    if not isinstance(value, str):
        raise JobReferenceError(
            "job must be a string (a display name or a GUID), not %s %r; quote it in YAML"
            % (type(value).__name__, value)
        )
    if not value.strip():
        raise JobReferenceError("job must not be empty or only blanks; give a display name or a GUID")
    _reject_control_characters(value)
    _reject_too_long(value)
    candidate = value.strip()
    if is_guid(candidate):
        return candidate
    if looks_like_guid(candidate):
        raise JobReferenceError(
            "job %r looks like a GUID but is malformed (%s); expected %s"
            % (value, describe_guid_problem(candidate), GUID_FORM)
        )
    return value


def is_guid(text: str) -> bool:
    """True for a well-formed GUID, with both braces or none."""
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    return bool(_GUID.fullmatch(text))


def canonical_guid(text: str) -> str | None:
    """``{UPPER-CASE}`` for a value that is exactly a GUID (braces optional, blanks around it
    ignored), else None: the one spelling to send to a host and to compare GUIDs by."""
    candidate = text.strip()
    if not is_guid(candidate):
        return None
    return "{%s}" % candidate.strip("{}").upper()


def looks_like_guid(text: str) -> bool:
    """True when a value was evidently meant as a GUID (and so must not be read as a name).

    Braces, the 8-4-4-4-12 shape, or nothing but hex digits and hyphens with about 32 digits
    (a digit missing or doubled, a hyphen misplaced or missing). Ordinary names such as
    ``2024-01-15`` have far fewer digits and are left alone.
    """
    if text.startswith("{") or text.endswith("}"):
        return True
    if _GUID_SHAPE.fullmatch(text):
        return True
    if _HEX_AND_HYPHENS.fullmatch(text):
        digits = len(text.replace("-", ""))
        return 28 <= digits <= 36
    return False


def describe_guid_problem(text: str) -> str:
    """Say what is wrong with a GUID-like value, the first problem found."""
    if text.startswith("{") != text.endswith("}"):
        return "unbalanced braces"
    inner = text[1:-1] if text.startswith("{") else text
    for char in inner:
        if char != "-" and not ("0" <= char <= "9" or "a" <= char.lower() <= "f"):
            return "%r is not a hexadecimal digit" % char
    groups = [len(group) for group in inner.split("-")]
    if groups != [8, 4, 4, 4, 12]:
        return "its groups have %s digits instead of 8-4-4-4-12" % "-".join(str(n) for n in groups)
    return "not of the GUID form"


def _reject_control_characters(value: str) -> None:
    for index, char in enumerate(value):
        if unicodedata.category(char) == "Cc":
            raise JobReferenceError(
                "job must not contain control characters; found U+%04X at position %d of %r"
                % (ord(char), index + 1, value)
            )


def _reject_too_long(value: str) -> None:
    units = len(value.encode("utf-16-le")) // 2
    if units > MAX_DISPLAY_NAME_UTF16:
        raise JobReferenceError(
            "job is %d characters (UTF-16) long; BITS display names are at most %d characters"
            % (units, MAX_DISPLAY_NAME_UTF16)
        )
