"""The job option: display names pass as written, GUIDs must be well formed."""
from __future__ import annotations

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils.job_reference import (
    JobReferenceError,
    is_guid,
    looks_like_guid,
    normalise_job,
)

GUID = "5D3B4C39-1F0A-4D5B-9E2F-123456789ABC"

GOOD_JOBS = [
    # (given, passed on)
    ("myDownloadJob", "myDownloadJob"),
    (" spaced name ", " spaced name "),  # a display name is compared exactly by the host
    ("nightly-sync", "nightly-sync"),
    ("2024-01-15-10-30", "2024-01-15-10-30"),  # hex and hyphens, but far from 32 digits
    ("deadbeef", "deadbeef"),
    ("Téléchargement ☃", "Téléchargement ☃"),
    ("x" * 256, "x" * 256),
    ("\U0001F600" * 128, "\U0001F600" * 128),  # 256 UTF-16 code units
    (GUID, GUID),
    (GUID.lower(), GUID.lower()),
    ("{%s}" % GUID, "{%s}" % GUID),
    ("  {%s} " % GUID, "{%s}" % GUID),  # blanks around a GUID are dropped, nothing else changes
    ("name with } inside", "name with } inside"),
]


@pytest.mark.parametrize(("given", "passed"), GOOD_JOBS, ids=[repr(given)[:40] for given, passed in GOOD_JOBS])
def test_normalise_job_accepts(given: str, passed: str) -> None:
    assert normalise_job(given) == passed


BAD_JOBS = [
    # (given, text the message must contain)
    ("", "must not be empty"),
    ("   ", "must not be empty"),
    ("\t\n", "must not be empty"),
    ("my\njob", "control characters; found U+000A at position 3"),
    ("job\x00", "U+0000 at position 4"),
    ("a\x7fb", "U+007F"),
    ("a\x85b", "U+0085"),  # a C1 control
    ("x" * 257, "257 characters (UTF-16) long; BITS display names are at most 256"),
    ("\U0001F600" * 129, "258 characters (UTF-16)"),
    (None, "must be a string"),
    (123, "must be a string (a display name or a GUID), not int 123; quote it"),
    (["a"], "must be a string"),
    ("{%s" % GUID, "unbalanced braces"),
    ("%s}" % GUID, "unbalanced braces"),
    ("{backup}", "looks like a GUID but is malformed"),
    ("{}", "looks like a GUID but is malformed"),
    ("{%s}" % GUID.replace("A", "G"), "'G' is not a hexadecimal digit"),
    (GUID[:-1], "groups have 8-4-4-4-11 digits instead of 8-4-4-4-12"),
    (GUID + "D", "8-4-4-4-13"),
    (GUID.replace("-", ""), "groups have 32 digits"),
    ("5D3B4C391F0A-4D5B-9E2F-123456789ABC", "12-4-4-12"),
    ("5D3B4C39-1F0A-4D5B-9E2F-12345678ZABC", "'Z' is not a hexadecimal digit"),
]


@pytest.mark.parametrize(("given", "fragment"), BAD_JOBS, ids=[repr(given)[:40] for given, fragment in BAD_JOBS])
def test_normalise_job_rejects(given: object, fragment: str) -> None:
    with pytest.raises(JobReferenceError) as caught:
        normalise_job(given)
    assert str(caught.value).startswith("job")
    assert fragment in str(caught.value)


def test_malformed_guid_message_shows_the_expected_form() -> None:
    with pytest.raises(JobReferenceError, match=r"expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"):
        normalise_job("{1234}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [(GUID, True), ("{%s}" % GUID, True), ("{%s" % GUID, False), (GUID[1:], False), ("name", False)],
)
def test_is_guid(text: str, expected: bool) -> None:
    assert is_guid(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("{x", True), ("x}", True), (GUID.replace("-", ""), True), ("abc-def", False), ("plain name", False)],
)
def test_looks_like_guid(text: str, expected: bool) -> None:
    assert looks_like_guid(text) is expected
