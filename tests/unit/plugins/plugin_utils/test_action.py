"""Every action's options go through Ansible's validator, with messages that name the option."""
from __future__ import annotations

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._action import OptionError, boolean_option, declared_options

SPEC = {"job": {"type": "raw"}, "mode": {"type": "str", "choices": ["a", "b"], "default": "a"}, "dest": {"type": "path"}}


def test_declared_options_are_validated_and_defaulted() -> None:
    assert declared_options(SPEC, {"job": "x"}) == {"job": "x", "mode": "a", "dest": None}


@pytest.mark.parametrize(("args", "message"), [
    ({"jobs": "x"}, "unsupported parameter: jobs; supported: dest, job, mode"),
    ({"jobs": "x", "flag": 1}, "unsupported parameters: flag, jobs; supported: dest, job, mode"),
    ({"mode": "c"}, "value of mode must be one of: a, b, got: c"),
])
def test_undeclared_or_bad_options_name_the_option_and_what_is_allowed(args: dict[str, object], message: str) -> None:
    with pytest.raises(OptionError) as caught:
        declared_options(SPEC, args)
    assert str(caught.value) == message


def test_required_if_is_ansibles() -> None:
    with pytest.raises(OptionError, match="mode is b but all of the following are missing: dest"):
        declared_options(SPEC, {"mode": "b"}, [("mode", "b", ("dest",))])


@pytest.mark.parametrize(("value", "expected"), [("yes", True), ("off", False), (1, True), ("0", False), (None, True)])
def test_boolean_option_takes_ansibles_forms(value: object, expected: bool) -> None:
    assert boolean_option("all_users", value, default=True) is expected


@pytest.mark.parametrize("value", ["maybe", 2, [True]])
def test_boolean_option_refuses_anything_else_naming_the_option(value: object) -> None:
    with pytest.raises(OptionError, match=r"^all_users must be a boolean \(true/false, yes/no, on/off, 1/0\), not "):
        boolean_option("all_users", value, default=True)
