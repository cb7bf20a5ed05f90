# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn the task's arguments of bits_job_info into the module arguments its host expects, or refuse them.

The host contract (issue 6, section D): ``job`` is null or a list of strings, each a GUID in the form
``{UPPER-CASE}`` or else a display-name glob (``*`` any run, ``?`` one character, matched exactly and
case-sensitively on the host); ``all_users`` is a boolean. Everything here happens before the host is
contacted, so a bad task costs no round trip.

``job`` takes the forms Ansible's ``type: list, elements: str`` takes: a list, a single string, a
comma-separated string (split at the commas), or a number (made a string). Two choices of our own:
the items of a comma-separated string lose the blanks around them (``-a "job=a, b"`` means ``a`` and
``b``; a list keeps every item exactly as written), and an item that Ansible would turn into nonsense
text (a mapping, a list, a boolean, null) is refused instead.
"""
from __future__ import annotations

import dataclasses
import typing as t
import unicodedata

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.winbits.bits.plugins.plugin_utils.job_reference import (
    MAX_DISPLAY_NAME_UTF16,
    canonical_guid,
    guid_typo_warning,
    is_number,
)

ALLOWED_OPTIONS: tuple[str, ...] = ("all_users", "job")
WILDCARDS = "*?"
# A pattern is matched on the host character by character; a cap keeps that cheap whatever the input.
MAX_PATTERN_UTF16 = 4 * MAX_DISPLAY_NAME_UTF16
JOB_FORMS = (
    "a display name or a pattern of one (* any run of characters, ? one character), or a job GUID "
    "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, braces optional); as a list, or one string, which is split "
    "at commas"
)


class TaskArgumentError(ValueError):
    """The task's arguments cannot be sent to the host; the message names the parameter."""


@dataclasses.dataclass(frozen=True)
class InfoArgs:
    """The module arguments to send, and warnings about how the task's values were read."""

    module_args: dict[str, object]
    warnings: list[str]


def normalise_info_args(args: t.Mapping[str, object]) -> InfoArgs:
    """Return the module arguments: ``job`` as None or a list of checked items (GUIDs as
    ``{UPPER}``, duplicates dropped), ``all_users`` as a real boolean (default true)."""
    _reject_unknown_options(args)
    warnings: list[str] = []
    jobs = _job_option(args.get("job"), warnings)
    return InfoArgs(
        module_args={"job": jobs, "all_users": _all_users(args.get("all_users"))},
        warnings=warnings,
    )


# --- job ------------------------------------------------------------------------------------


def _job_option(value: object, warnings: list[str]) -> list[str] | None:
    if value is None:
        return None  # left out: every job the caller may list
    items = _job_items(value)
    if not items:
        raise TaskArgumentError(
            "job is an empty list, which would select no job; leave job out to list every job, or give %s"
            % JOB_FORMS
        )
    normalised: list[str] = []
    for position, item in enumerate(items, start=1):
        text = _job_item(item, position, warnings)
        if text not in normalised:
            normalised.append(text)
    return normalised


def _job_items(value: object) -> list[object]:
    """The items of the job option, split as Ansible splits a ``type: list`` value."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        if "," in value:
            return [part.strip() for part in value.split(",")]
        return [value]
    if is_number(value):
        return [value]
    raise TaskArgumentError(
        "job must be a list or a string, not %s %r; give %s" % (type(value).__name__, value, JOB_FORMS)
    )


def _job_item(item: object, position: int, warnings: list[str]) -> str:
    where = "job item %d" % position
    if is_number(item):
        # What Ansible does with a number in a list of strings; said aloud, as a number can lose
        # characters (leading zeros, a trailing .0) on the way to YAML and back.
        text = str(item)
        warnings.append(
            "%s: the %s %r was converted to the string %r; quote it if the display name is different"
            % (where, type(item).__name__, item, text)
        )
        item = text
    if not isinstance(item, str):
        raise TaskArgumentError(
            "%s must be a string, not %s %r; give %s" % (where, _type_name(item), item, JOB_FORMS)
        )
    return _checked_text(item, where, warnings)


def _checked_text(text: str, where: str, warnings: list[str]) -> str:
    if not text.strip():
        raise TaskArgumentError(
            "%s is empty or only blanks (%r); give %s" % (where, text, JOB_FORMS)
        )
    _reject_control_characters(text, where)
    guid = canonical_guid(text)
    if guid is not None:
        return guid
    _reject_too_long(text, where)
    warning = guid_typo_warning(text, where, "matched")
    if warning:
        warnings.append(warning)
    return text


def _reject_control_characters(text: str, where: str) -> None:
    for index, char in enumerate(text):
        if unicodedata.category(char) == "Cc":
            raise TaskArgumentError(
                "%s must not contain control characters; found U+%04X at position %d of %r"
                % (where, ord(char), index + 1, text)
            )


def _reject_too_long(text: str, where: str) -> None:
    total = _utf16_units(text)
    # Each character other than * stands for at least one character of the display name.
    needed = _utf16_units("".join(char for char in text if char != "*"))
    if needed > MAX_DISPLAY_NAME_UTF16:
        raise TaskArgumentError(
            "%s is %d characters (UTF-16) long without its * wildcards; BITS display names are at most "
            "%d characters, so it could match no job" % (where, needed, MAX_DISPLAY_NAME_UTF16)
        )
    if total > MAX_PATTERN_UTF16:
        raise TaskArgumentError(
            "%s is %d characters (UTF-16) long; a pattern is at most %d characters"
            % (where, total, MAX_PATTERN_UTF16)
        )


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


# --- all_users and unknown options -----------------------------------------------------------


def _all_users(value: object) -> bool:
    if value is None:
        return True  # the documented default: an audit wants every user's jobs
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise TaskArgumentError(
            "all_users must be a boolean (true/false, yes/no, on/off, 1/0), not %r" % (value,)
        ) from None


def _reject_unknown_options(args: t.Mapping[str, object]) -> None:
    unknown = sorted(str(name) for name in args if name not in ALLOWED_OPTIONS)
    if unknown:
        raise TaskArgumentError(
            "unsupported parameter%s: %s; supported: %s"
            % ("s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(ALLOWED_OPTIONS))
        )
