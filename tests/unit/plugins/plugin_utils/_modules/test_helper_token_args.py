"""The task's arguments become the module arguments of docs/host-contract.md, or a clear refusal."""
from __future__ import annotations

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._modules.helper_token import (
    OptionError,
    normalise_task_args,
)

DEFAULTS = {"helper_token": "keep", "all_matches": False, "all_users": False, "force": False}


def module_args(args: dict[str, object]) -> dict[str, object]:
    return normalise_task_args(args).module_args


def test_read_only_task_sends_no_flags() -> None:
    normalised = normalise_task_args({"job": "myDownloadJob"})
    assert normalised.module_args == {"job": "myDownloadJob", **DEFAULTS}
    assert normalised.warnings == []


def test_flags_none_means_left_out() -> None:
    assert "flags" not in module_args({"job": "j", "flags": None})


@pytest.mark.parametrize("job", ["Sync {prod}", "@{a=1}", "${env:COMPUTERNAME}", "{not-a-guid}"])
def test_display_names_with_braces_are_sent_as_written(job: str) -> None:
    normalised = normalise_task_args({"job": job})
    assert normalised.module_args["job"] == job
    assert normalised.warnings == []


def test_an_integer_job_is_sent_as_a_string_with_ansibles_warning() -> None:
    normalised = normalise_task_args({"job": 42, "flags": "network"})
    assert normalised.module_args == {"job": "42", "flags": ["network"], **DEFAULTS}
    assert len(normalised.warnings) == 1
    assert normalised.warnings[0].startswith("job: The value 42 (type int) was converted to '42' (type str). ")


def test_a_guid_with_a_typo_is_sent_as_a_name_with_a_warning() -> None:
    typo = "{5D3B4C39-1F0A-4D5B-9E2F-123456789AB}"
    normalised = normalise_task_args({"job": typo})
    assert normalised.module_args["job"] == typo
    assert len(normalised.warnings) == 1
    assert "looks like a GUID but is not one" in normalised.warnings[0]
    assert "looked up as a display name" in normalised.warnings[0]


@pytest.mark.parametrize(
    ("flags", "names"),
    [
        ("", []),
        ([], []),
        ("local_file,network", ["local_file", "network"]),
        (["BG_TOKEN_NETWORK", "0x0001"], ["local_file", "network"]),
        (3, ["local_file", "network"]),
        ("0x0002", ["network"]),
    ],
)
def test_flags_become_sorted_canonical_names(flags: object, names: list[str]) -> None:
    assert module_args({"job": "j", "flags": flags})["flags"] == names


@pytest.mark.parametrize(
    ("given", "expected"),
    [("yes", True), ("no", False), ("True", True), (1, True), (0, False), ("off", False), (True, True), (None, False)],
)
@pytest.mark.parametrize("option", ["all_matches", "all_users", "force"])
def test_booleans_use_ansible_conversion(option: str, given: object, expected: bool) -> None:
    assert module_args({"job": "j", option: given})[option] is expected


@pytest.mark.parametrize("given", ["maybe", 2, [], "", {"a": 1}])
@pytest.mark.parametrize("option", ["all_matches", "all_users", "force"])
def test_non_booleans_are_rejected(option: str, given: object) -> None:
    with pytest.raises(OptionError, match=r"^%s must be a boolean" % option):
        normalise_task_args({"job": "j", option: given})


def test_unknown_options_are_rejected_listing_the_allowed_ones() -> None:
    with pytest.raises(OptionError) as caught:
        normalise_task_args({"job": "j", "flag": "network", "users": True})
    assert str(caught.value) == (
        "unsupported parameters: flag, users; supported: all_matches, all_users, flags, force, helper_token, job"
    )


def test_missing_job_is_rejected() -> None:
    with pytest.raises(OptionError, match=r"missing required argument: job"):
        normalise_task_args({"flags": "network"})


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"job": "", "flags": "network"}, "job must not be empty"),
        ({"job": "{oo\x07ps}"}, "job must not contain control characters; found U+0007"),
        ({"job": False}, "job must be a string (a display name or a GUID), not bool False"),
        ({"job": "j", "flags": "nope"}, "flags: unknown flag name 'nope'"),
        ({"job": "j", "flags": [1, 4]}, "flags item 2: 4 sets bits 0x4"),
    ],
)
def test_job_and_flags_errors_name_the_parameter(args: dict[str, object], fragment: str) -> None:
    with pytest.raises(OptionError) as caught:
        normalise_task_args(args)
    assert fragment in str(caught.value)


@pytest.mark.parametrize(("given", "expected"), [
    (None, "keep"), ("keep", "keep"), ("absent", "absent"), ("caller", "caller"),
    ("ABSENT", "absent"), ("Caller", "caller"), (" Keep ", "keep"),
])
def test_helper_token_is_sent_in_lower_case(given: object, expected: str) -> None:
    assert module_args({"job": "j", "helper_token": given})["helper_token"] == expected


@pytest.mark.parametrize("flags", [None, [], ["network"]])
@pytest.mark.parametrize("helper_token", ["absent", "caller"])
def test_helper_token_works_with_or_without_flags(flags: object, helper_token: str) -> None:
    sent = module_args({"job": "j", "flags": flags, "helper_token": helper_token})
    assert sent["helper_token"] == helper_token
    assert sent.get("flags") == (None if flags is None else flags)


@pytest.mark.parametrize(("given", "shown"), [
    ("present", "'present'"), ("", "''"), ("set", "'set'"), (True, "bool True"), (1, "int 1"),
    (["caller"], "list ['caller']"),
])
def test_helper_token_outside_its_choices_is_refused_naming_them(given: object, shown: str) -> None:
    with pytest.raises(OptionError) as caught:
        normalise_task_args({"job": "j", "helper_token": given})
    message = str(caught.value)
    assert message.startswith("helper_token must be one of keep, absent, caller (")
    assert message.endswith("not %s" % shown)
