"""argspec.py: the module's documented spec, validated as Ansible.Basic (2.18 and 2.21) would."""
from __future__ import annotations

from pathlib import Path

import ansible
import pytest

from tests.sim.argspec import (BasicTraits, ModuleExit, basic_traits, dotnet_to_string, load_module_spec,
                               validate)
from tests.sim.payload import parse_request
from tests.support.paths import MODULE_DOCS
from tests.sim.tests.recorded import load_recorded

VENV_BASIC = Path(ansible.__file__).parent / "module_utils" / "csharp" / "Ansible.Basic.cs"
MODULE = "winbits.bits.bits_helper_token"


@pytest.fixture(scope="module")
def spec():
    return load_module_spec(MODULE_DOCS)


def _traits_sent_by(version: str) -> BasicTraits:
    entry = load_recorded(version)["adhoc_string_flags"]
    request = parse_request(entry.command, entry.arguments, entry.stdin)
    return basic_traits(request.csharp_util("Ansible.Basic"))


@pytest.fixture(scope="module")
def traits_221():
    # The recorded 2.21.5 Ansible.Basic, not the venv's: these expectations are 2.21's, and the same
    # tests run under older ansible-core venvs too (scripts/compat.sh).
    return _traits_sent_by("2.21.5")


def _args(**user):
    return {**user, "_ansible_module_name": MODULE, "_ansible_check_mode": False, "_ansible_verbosity": 0}


def _failure(spec, traits, args):
    with pytest.raises(ModuleExit) as stop:
        validate(spec, traits, args)
    assert stop.value.exit_code == 1
    assert stop.value.result["failed"] is True
    return stop.value.result


def test_spec_is_read_from_the_docs(spec):
    assert sorted(spec.options) == ["all_matches", "all_users", "flags", "force", "helper_token", "job"]
    assert spec.options["helper_token"].default == "keep"
    assert spec.options["job"].required
    assert (spec.options["flags"].type, spec.options["flags"].elements) == ("list", "str")
    assert spec.options["force"].default is False
    assert spec.supports_check_mode


def test_traits_follow_the_ansible_basic_that_was_sent():
    old, new = _traits_sent_by("2.18.19"), _traits_sent_by("2.21.5")
    assert old.always_injects_invocation and not new.always_injects_invocation
    assert "string_conversion_action" in old.pass_vars and "string_conversion_action" not in new.pass_vars
    assert {"inject_invocation", "tracebacks_for"} <= new.pass_vars


def test_the_live_ansible_basic_is_understood():
    # Whatever ansible-core runs the tests (2.16-2.21), the sim must read the Ansible.Basic it sends.
    traits = basic_traits(VENV_BASIC.read_text())
    assert {"check_mode", "module_name", "verbosity"} <= traits.pass_vars


def test_unknown_ansible_basic_is_refused():
    with pytest.raises(ValueError):
        basic_traits("public class AnsibleModule {}")


def test_defaults_conversion_and_comma_split(spec, traits_221):
    done = validate(spec, traits_221, _args(job="myDownloadJob", flags="local_file, network", force="yes"))
    assert done.params == {"job": "myDownloadJob", "flags": ["local_file", "network"], "all_matches": False,
                           "all_users": False, "force": True, "helper_token": "keep"}
    assert done.module_name == MODULE and done.check_mode is False


def test_flags_absent_stays_null_and_empty_list_stays_empty(spec, traits_221):
    assert validate(spec, traits_221, _args(job="j")).params["flags"] is None
    assert validate(spec, traits_221, _args(job="j", flags=[])).params["flags"] == []


def test_dotnet_tostring_quirks(spec, traits_221):
    done = validate(spec, traits_221, _args(job=123, flags=[1, True, "x"]))
    assert done.params["job"] == "123"
    assert done.params["flags"] == ["1", "True", "x"]
    assert dotnet_to_string(["a"]) == "System.Object[]"


def test_integer_flags_become_a_one_item_list(spec, traits_221):
    assert validate(spec, traits_221, _args(job="j", flags=3)).params["flags"] == ["3"]


def test_unknown_option_message(spec, traits_221):
    result = _failure(spec, traits_221, _args(job="j", colour="red", bogus=1))
    assert result["msg"] == (f"Unsupported parameters for ({MODULE}) module: bogus, colour. Supported parameters "
                             "include: all_matches, all_users, flags, force, helper_token, job")
    assert "invocation" not in result


def test_invocation_before_2_19(spec):
    result = _failure(spec, _traits_sent_by("2.18.19"), _args(job="j", colour="red"))
    assert result["invocation"] == {"module_args": {"job": "j", "colour": "red"}}


def test_invocation_on_request_from_2_19(spec, traits_221):
    result = _failure(spec, traits_221, {**_args(job="j", force="perhaps"), "_ansible_inject_invocation": True})
    assert result["invocation"]["module_args"]["job"] == "j"


def test_missing_required(spec, traits_221):
    assert _failure(spec, traits_221, _args(flags=["network"]))["msg"] == "missing required arguments: job"


def test_explicit_null_passes_required_as_in_ansible_basic(spec, traits_221):
    assert validate(spec, traits_221, _args(job=None)).params["job"] is None


def test_bad_boolean(spec, traits_221):
    result = _failure(spec, traits_221, _args(job="j", all_users="perhaps"))
    assert result["msg"] == ("argument for all_users is of type System.String and we were unable to convert to "
                             "bool: The value 'perhaps' is not a valid boolean. Valid booleans include: y, yes, on, "
                             "1, true, t, 1.0, n, no, off, 0, false, f, 0.0")


@pytest.mark.parametrize("value, expected", [("ON", True), (" no ", False), (1, True), (0, False), ("1.0", True)])
def test_ansible_boolean_strings(spec, traits_221, value, expected):
    assert validate(spec, traits_221, _args(job="j", all_matches=value)).params["all_matches"] is expected


def test_flags_as_boolean_cannot_be_a_list(spec, traits_221):
    result = _failure(spec, traits_221, _args(job="j", flags=True))
    assert result["msg"] == ("argument for flags is of type System.Boolean and we were unable to convert to list: "
                             "System.Boolean cannot be converted to a list")


def test_null_list_element_crashes_like_ansible_basic(spec, traits_221):
    result = _failure(spec, traits_221, _args(job="j", flags=["network", None]))
    assert result["msg"].startswith("Unhandled exception while executing module")


def test_option_names_match_case_insensitively(spec, traits_221):
    assert validate(spec, traits_221, _args(JOB="j", Force=True)).params["force"] is True


def test_ignore_unknown_opts(spec, traits_221):
    done = validate(spec, traits_221, {**_args(job="j", extra=1), "_ansible_ignore_unknown_opts": True})
    assert done.params["job"] == "j"


def test_check_mode_marker(spec, traits_221):
    assert validate(spec, traits_221, {**_args(job="j"), "_ansible_check_mode": True}).check_mode is True


def test_check_mode_on_a_module_without_support_is_skipped(spec, traits_221):
    no_check = type(spec)(options=spec.options, supports_check_mode=False)
    with pytest.raises(ModuleExit) as stop:
        validate(no_check, traits_221, {**_args(job="j"), "_ansible_check_mode": True})
    assert stop.value.exit_code == 0
    assert stop.value.result == {"changed": False, "skipped": True,
                                 "msg": f"remote module ({MODULE}) does not support check mode"}


def test_unknown_ansible_key_of_another_version_is_refused(spec):
    # 2.18's Ansible.Basic does not know 2.21's _ansible_tracebacks_for.
    result = _failure(spec, _traits_sent_by("2.18.19"), {**_args(job="j"), "_ansible_tracebacks_for": []})
    assert "_ansible_tracebacks_for" in result["msg"]
