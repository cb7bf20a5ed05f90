"""bits_job_info's options: job as Ansible reads a list of strings (GUIDs made {UPPER}), all_users a boolean."""
from __future__ import annotations

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._modules.job_info import (
    OptionError,
    normalise_info_args,
)
from ansible_collections.winbits.bits.plugins.plugin_utils._jobs import canonical_guid

GUID = "5D3B4C39-1F0A-4D5B-9E2F-123456789ABC"
BRACED = "{%s}" % GUID

GOOD_JOBS = [
    # (the task's job, what the host receives)
    (None, None),
    ("contentSync", ["contentSync"]),
    (["contentSync"], ["contentSync"]),
    (("a*", "b?"), ["a*", "b?"]),
    ("contentSync,backup*", ["contentSync", "backup*"]),  # Ansible's type: list splits a string at commas
    ("contentSync, backup* ", ["contentSync", "backup*"]),  # ... and we drop the blanks around its items
    ([" spaced ", "x"], [" spaced ", "x"]),  # a list keeps each item exactly as written
    (" spaced ", [" spaced "]),  # so does a string without a comma
    (["a,b"], ["a,b"]),  # a name with a comma must be given in a list
    (GUID.lower(), [BRACED]),
    (BRACED.lower(), [BRACED]),
    (" %s " % GUID, [BRACED]),
    ([GUID, BRACED.lower(), "x", "x"], [BRACED, "x"]),  # duplicates dropped, first occurrence kept
    ("Sync {prod}", ["Sync {prod}"]),  # braces alone do not make a GUID
    ("@{a=1}", ["@{a=1}"]),
    ("${env:COMPUTERNAME}", ["${env:COMPUTERNAME}"]),
    ("{backup}", ["{backup}"]),
    ("x" * 256, ["x" * 256]),
    ("x" * 256 + "*", ["x" * 256 + "*"]),  # * may match nothing: still a possible name
    ("\U0001F600" * 128, ["\U0001F600" * 128]),  # 256 UTF-16 code units
]


@pytest.mark.parametrize(("given", "sent"), GOOD_JOBS, ids=[repr(given)[:40] for given, sent in GOOD_JOBS])
def test_job_is_normalised(given: object, sent: object) -> None:
    normalised = normalise_info_args({"job": given} if given is not None else {})
    assert normalised.module_args == {"job": sent, "all_users": True, "name_timeout": 5}
    assert normalised.warnings == []


@pytest.mark.parametrize(("given", "sent"), [(123, "123"), ([7, "a"], "7"), (1.5, "1.5")])
def test_a_number_becomes_a_string_with_a_warning(given: object, sent: str) -> None:
    normalised = normalise_info_args({"job": given})
    assert first_item(normalised.module_args["job"]) == sent
    assert len(normalised.warnings) == 1
    assert normalised.warnings[0].startswith("job item 1: the ") and "converted to the string %r" % sent in \
        normalised.warnings[0]


def first_item(value: object) -> object:
    assert isinstance(value, list)
    return value[0]


@pytest.mark.parametrize("given", ["%s}" % GUID[:-1], GUID[:-1], "{%s}" % GUID.replace("A", "G"), GUID.replace("-", "")])
def test_a_guid_with_a_typo_is_a_name_with_a_warning(given: str) -> None:
    normalised = normalise_info_args({"job": [given]})
    assert normalised.module_args["job"] == [given]
    assert len(normalised.warnings) == 1
    assert normalised.warnings[0].startswith("job item 1 %r looks like a GUID but is not one" % given)
    assert "matched as a display name" in normalised.warnings[0]


BAD_JOBS = [
    # (the task's job, text the message must contain)
    ([], "job is an empty list, which would select no job; leave job out to list every job"),
    ("", "job item 1 is empty or only blanks"),
    ("   ", "job item 1 is empty or only blanks"),
    ("a,,b", "job item 2 is empty or only blanks"),
    ("a,", "job item 2 is empty"),
    (["a", ""], "job item 2 is empty"),
    (["a", None], "job item 2 must be a string, not null None"),
    ([{"name": "a"}], "job item 1 must be a string, not dict"),
    ([["a"]], "job item 1 must be a string, not list"),
    ([True], "job item 1 must be a string, not bool True"),
    (True, "job must be a list or a string, not bool True"),
    ({"name": "a"}, "job must be a list or a string, not dict"),
    (["my\njob"], "job item 1 must not contain control characters; found U+000A at position 3"),
    ("ok,a\x00b", "job item 2 must not contain control characters; found U+0000 at position 2"),
    (["a\x85"], "U+0085"),
    ("x" * 257, "job item 1 is 257 characters (UTF-16) long without its * wildcards; BITS display names are "
                "at most 256"),
    ("\U0001F600" * 129, "258 characters (UTF-16)"),
    ("*" * 1025, "job item 1 is 1025 characters (UTF-16) long; a pattern is at most 1024"),
]


@pytest.mark.parametrize(("given", "fragment"), BAD_JOBS, ids=[repr(given)[:40] for given, fragment in BAD_JOBS])
def test_bad_job_is_refused(given: object, fragment: str) -> None:
    with pytest.raises(OptionError) as caught:
        normalise_info_args({"job": given})
    assert str(caught.value).startswith("job")
    assert fragment in str(caught.value)


def test_messages_say_what_is_allowed() -> None:
    with pytest.raises(OptionError, match=r"give a display name or a pattern of one \(\* any run"):
        normalise_info_args({"job": [None]})


@pytest.mark.parametrize(("given", "expected"), [
    (None, True), (True, True), (False, False), ("no", False), ("yes", True), ("off", False), (0, False), ("1", True),
])
def test_all_users_is_a_boolean_defaulting_to_true(given: object, expected: bool) -> None:
    args = {"all_users": given} if given is not None else {}
    assert normalise_info_args(args).module_args["all_users"] is expected


@pytest.mark.parametrize("given", ["sometimes", 7, [True], {"a": 1}])
def test_all_users_not_a_boolean_is_refused(given: object) -> None:
    with pytest.raises(OptionError, match=r"^all_users must be a boolean \(true/false, yes/no, on/off, 1/0\)"):
        normalise_info_args({"all_users": given})


@pytest.mark.parametrize(("args", "message"), [
    ({"jobs": "a"}, "unsupported parameter: jobs; supported: all_users, job, name_timeout"),
    ({"flags": [1], "state": "x", "job": "a"}, "unsupported parameters: flags, state; supported: all_users, job, "
     "name_timeout"),
])
def test_unknown_options_are_named(args: dict[str, object], message: str) -> None:
    with pytest.raises(OptionError) as caught:
        normalise_info_args(args)
    assert str(caught.value) == message


def test_canonical_guid() -> None:
    assert canonical_guid(GUID.lower()) == BRACED
    assert canonical_guid("  {%s}\t" % GUID.lower()) == BRACED
    assert canonical_guid("{%s" % GUID) is None
    assert canonical_guid("Sync {prod}") is None
    assert canonical_guid(GUID + "0") is None


@pytest.mark.parametrize(("given", "sent"), [(None, 5), (0, 0), (2, 2), ("2", 2), (" 30 ", 30), (3600, 3600), (2.0, 2)])
def test_name_timeout_is_whole_seconds(given: object, sent: int) -> None:
    args = {} if given is None else {"name_timeout": given}
    assert normalise_info_args(args).module_args["name_timeout"] == sent


@pytest.mark.parametrize("given", [-1, 3601, 2.5, "2s", "", True, [2], "-1"])
def test_a_bad_name_timeout_is_refused_naming_the_option(given: object) -> None:
    with pytest.raises(OptionError, match=r"^name_timeout must be a whole number of seconds from 0 \(look no "
                                          r"account name up\) to 3600, not "):
        normalise_info_args({"name_timeout": given})
