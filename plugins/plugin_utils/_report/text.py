# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Short human texts for the report formats: expected flags, actual flags, job errors, job labels.

One place, so that the CSV, the JUnit XML and the HTML say the same thing the same way.
"""
from __future__ import annotations

import re
import typing as t


def describe_flags(flags: t.Sequence[str] | None) -> str:
    """'local_file, network'; 'none' for no flags; 'unreadable' when the host could not read them."""
    if flags is None:
        return "unreadable"
    return ", ".join(map(str, flags)) if flags else "none"  # map: no generator to run per job and format


def describe_expected(expected: t.Mapping[str, t.Any] | None) -> str:
    """The rule's normalised expect as one line, e.g. 'allowed: local_file; helper token: absent'."""
    if not expected:
        return ""
    parts = []
    if "flags" in expected:
        parts.append("exactly: " + describe_flags(expected["flags"]))
    if "allowed_flags" in expected:
        parts.append("allowed: " + describe_flags(expected["allowed_flags"]))
    if "forbidden_flags" in expected:
        parts.append("forbidden: " + describe_flags(expected["forbidden_flags"]))
    if expected.get("helper_token"):
        parts.append(f"helper token: {expected['helper_token']}")
    return "; ".join(parts)


def describe_job_error(error: t.Mapping[str, t.Any] | None) -> str:
    """The job's own BITS error (ERROR / TRANSIENT_ERROR state), with the controller's explanation."""
    if not error:
        return ""
    head = " ".join(str(part) for part in (error.get("name"), error.get("hresult_hex")) if part)
    tail = error.get("explanation") or error.get("description")
    return f"{head}: {tail}" if tail else head


def describe_read_error(read_error: t.Mapping[str, t.Any] | None) -> str:
    """Why the job could not be fully read: the failed call, its HRESULT and the explanation."""
    if not read_error:
        return ""
    head = " ".join(str(part) for part in (read_error.get("call"), read_error.get("hresult_hex")) if part)
    tail = read_error.get("explanation")
    return f"{head}: {tail}" if tail else head


def describe_account(name: object, sid: object) -> str:
    """The account as the host named it, its SID beside it: 'AUTORITE NT\\Système (S-1-5-18)'; the SID alone
    when the host could not resolve the name; '' when there is no SID either."""
    if not sid:
        return str(name) if name else ""
    return f"{name} ({sid})" if name else str(sid)


def testcase_name(job: t.Mapping[str, t.Any]) -> str:
    """A JUnit test case's name: 'contentSync {GUID}', or the GUID alone when the name could not be read."""
    name, job_id = job.get("name"), job.get("id")
    return f"{name} {job_id}" if name is not None else str(job_id)


# Characters that change how a name looks without being seen: bidirectional controls (U+202E makes
# "exe.txt" read "txt.exe"), zero-width and other format characters, spaces other than U+0020,
# invisible fillers, variation selectors, C0/C1 controls (tab, newline and CR aside: the page shows
# them as white space) and lone surrogates. Any user of a host can put them into a job's name, so
# that it renders like another job's; the HTML shows each one as its code point.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xa0\xad\u034f\u061c\u115f\u1160\u1680\u180b-\u180f"
    "\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb"
    "\ud800-\udfff\U000110bd\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")


def _code_point(match: re.Match[str]) -> str:
    return "⟨U+%04X⟩" % ord(match.group())


def visible_text(value: object) -> str:
    """The text with every invisible or direction-changing character written as ⟨U+XXXX⟩."""
    text = "" if value is None else str(value)
    return _INVISIBLE.sub(_code_point, text) if _INVISIBLE.search(text) else text


def visible_or_none(value: object) -> str | None:
    return None if value is None else visible_text(value)


def describe_waiver(job: t.Mapping[str, t.Any]) -> str:
    """Why a waived job is waived, with its owner; a waiver that names no owner is said to be one.

    'CHG-1234 (until 2027-03-31); owner: CORP\\svc-backup; the waiver names no owner: any user's job
    of this name would be waived'. Empty when the job is not waived.
    """
    waiver = job.get("waiver") or {}
    if not waiver:
        return ""
    owner = job.get("owner_name") or job.get("owner") or "unknown"
    text = f"{waiver.get('reason')} (until {waiver.get('expires')}); owner: {owner}"
    if waiver.get("names_owner") is False:
        text += "; the waiver names no owner: any user's job of this name would be waived"
    return text
