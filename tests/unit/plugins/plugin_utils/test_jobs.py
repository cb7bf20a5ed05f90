"""The job option: only the exact GUID form is a GUID; anything else is a display name, sent as written."""
from __future__ import annotations

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._jobs import (
    JobReferenceError,
    guid_typo_warning,
    is_guid,
    looks_like_guid,
    normalise_job,
)

GUID = "5D3B4C39-1F0A-4D5B-9E2F-123456789ABC"
QUOTE_ADVICE = "If this does not look like what you expect, quote the entire value to ensure it does not change."


def normalised(value: object) -> tuple[str, list[str]]:
    warnings: list[str] = []
    return normalise_job(value, warnings), warnings


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
    ("{%s}" % GUID.lower(), "{%s}" % GUID.lower()),
    ("  {%s} " % GUID, "{%s}" % GUID),  # blanks around a GUID are dropped, nothing else changes
    ("name with } inside", "name with } inside"),
    # Braces and PowerShell-looking characters do not make a GUID: these are display names, sent as data.
    ("Sync {prod}", "Sync {prod}"),
    ("@{a=1}", "@{a=1}"),
    ("${env:COMPUTERNAME}", "${env:COMPUTERNAME}"),
    ("{not-a-guid}", "{not-a-guid}"),
    ("{backup}", "{backup}"),
    ("{}", "{}"),
    ("$(Remove-Item C:\\ -Recurse)", "$(Remove-Item C:\\ -Recurse)"),
    ("a'b\"c`d", "a'b\"c`d"),
]


@pytest.mark.parametrize(("given", "passed"), GOOD_JOBS, ids=[repr(given)[:40] for given, passed in GOOD_JOBS])
def test_normalise_job_accepts_without_warning(given: str, passed: str) -> None:
    assert normalised(given) == (passed, [])


GUID_TYPOS = [
    # (given, what the warning says is wrong)
    ("{%s" % GUID, "unbalanced braces"),
    ("%s}" % GUID, "unbalanced braces"),
    ("{%s}" % GUID.replace("A", "G"), "'G' is not a hexadecimal digit"),
    (GUID[:-1], "its groups have 8-4-4-4-11 digits instead of 8-4-4-4-12"),
    (GUID + "D", "its groups have 8-4-4-4-13 digits instead of 8-4-4-4-12"),
    (GUID.replace("-", ""), "its groups have 32 digits instead of 8-4-4-4-12"),
    ("5D3B4C391F0A-4D5B-9E2F-123456789ABC", "its groups have 12-4-4-12 digits instead of 8-4-4-4-12"),
    ("5D3B4C39-1F0A-4D5B-9E2F-12345678ZABC", "'Z' is not a hexadecimal digit"),
    (" {%s} " % GUID[:-1], "its groups have 8-4-4-4-11 digits instead of 8-4-4-4-12"),
]


@pytest.mark.parametrize(("given", "problem"), GUID_TYPOS, ids=[repr(given)[:40] for given, problem in GUID_TYPOS])
def test_a_guid_with_a_typo_is_sent_as_a_display_name_with_a_warning(given: str, problem: str) -> None:
    passed, warnings = normalised(given)
    assert passed == given  # exactly as written: it is a display name now
    assert warnings == [
        "job %r looks like a GUID but is not one (%s), so it is looked up as a display name; expected a GUID "
        "of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hexadecimal digits, braces optional)" % (given, problem)
    ]


@pytest.mark.parametrize(("given", "text"), [(123, "123"), (0, "0"), (-7, "-7"), (10**20, "1" + "0" * 20),
                                             (1.5, "1.5")])
def test_a_number_is_converted_as_ansible_converts_it_with_its_warning(given: object, text: str) -> None:
    passed, warnings = normalised(given)
    assert passed == text
    assert warnings == ["job: The value %r (type %s) was converted to %r (type str). %s"
                        % (given, type(given).__name__, text, QUOTE_ADVICE)]


def test_the_conversion_warning_reads_as_ansibles() -> None:
    assert normalised(1500)[1] == [
        "job: The value 1500 (type int) was converted to '1500' (type str). If this does not look like what you "
        "expect, quote the entire value to ensure it does not change."
    ]


BAD_JOBS = [
    # (given, text the message must contain)
    ("", "must not be empty"),
    ("   ", "must not be empty"),
    ("\t\n", "must not be empty"),
    ("my\njob", "control characters; found U+000A at position 3"),
    ("job\x00", "U+0000 at position 4"),
    ("a\x7fb", "U+007F"),
    ("a\x85b", "U+0085"),  # a C1 control
    ("{%s}\n" % GUID, "U+000A"),  # a GUID is checked like a name before it is recognised
    ("x" * 257, "257 characters (UTF-16) long; BITS display names are at most 256"),
    ("\U0001F600" * 129, "258 characters (UTF-16)"),
    (None, "must be a string (a display name or a GUID), not null None"),
    (True, "must be a string (a display name or a GUID), not bool True; quote it"),
    (["a"], "must be a string"),
    ({"a": 1}, "not dict"),
]


@pytest.mark.parametrize(("given", "fragment"), BAD_JOBS, ids=[repr(given)[:40] for given, fragment in BAD_JOBS])
def test_normalise_job_rejects(given: object, fragment: str) -> None:
    warnings: list[str] = []
    with pytest.raises(JobReferenceError) as caught:
        normalise_job(given, warnings)
    assert str(caught.value).startswith("job")
    assert fragment in str(caught.value)
    assert warnings == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [(GUID, True), ("{%s}" % GUID, True), (GUID.lower(), True), ("{%s" % GUID, False), (GUID[1:], False),
     ("name", False), ("{%s}}" % GUID, False)],
)
def test_is_guid(text: str, expected: bool) -> None:
    assert is_guid(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("{x", True), ("x}", True), (GUID.replace("-", ""), True), ("abc-def", False), ("plain name", False)],
)
def test_looks_like_guid(text: str, expected: bool) -> None:
    # The policy loader's rule, which refuses these: any brace at an end counts.
    assert looks_like_guid(text) is expected


@pytest.mark.parametrize(("text", "warns"), [
    ("{backup}", False), ("Sync {prod}", False), ("{}", False), (GUID, False), ("{%s}" % GUID, False),
    ("{%s" % GUID, True), ("{%s}" % GUID[:-1], True),
])
def test_the_typo_warning_looks_inside_the_braces(text: str, warns: bool) -> None:
    warning = guid_typo_warning(text, "job item 1", "matched")
    assert (warning is not None) is warns
    if warning:
        assert warning.startswith("job item 1 %r looks like a GUID but is not one (" % text)
        assert "so it is matched as a display name" in warning
