"""The .ps1's argument spec says what the documentation says (docs/dev/design.md section 4).

Ansible.Basic validates module arguments on the host from `$spec`; ansible-doc, the action plugin
and the simulated fleet read the documented options. If they differ, a task valid by the docs fails
on Windows (or the reverse). The spec is read from the tree-sitter tree as a literal, never run. Every module with a .ps1 is checked
against its sidecar; the mutation tests below use bits_helper_token's source.
"""
from __future__ import annotations

from typing import Any, Mapping

import pytest
import yaml

from tests.support.paths import MODULE_DOCS, MODULE_PS1, module_docs, module_ps1, powershell_modules
from tests.support.pwsh import NotALiteral, find_assignment, literal_value, parse

# What Ansible.Basic (and the docs) assume for a key that is not written.
OPTION_DEFAULTS = {"type": "str", "elements": None, "required": False, "default": None, "choices": None,
                   "aliases": None, "no_log": False}
COMPARED = tuple(OPTION_DEFAULTS)


def spec_of(ps1: bytes) -> dict[str, Any]:
    return literal_value(find_assignment(parse(ps1), "spec"))


def documentation(module: str | None = None) -> dict[str, Any]:
    docs = module_docs(module) if module else MODULE_DOCS
    return yaml.safe_load(docs.read_text())["DOCUMENTATION"]


def _normalised(option: Mapping[str, Any]) -> dict[str, Any]:
    values = {key: option.get(key, OPTION_DEFAULTS[key]) for key in COMPARED}
    values["aliases"] = sorted(values["aliases"] or [])
    nested = option.get("options") or option.get("suboptions")
    values["options"] = _all_options(nested) if nested else None
    return values


def _all_options(options: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: _normalised(option or {}) for name, option in options.items()}


def spec_differences(spec: Mapping[str, Any], docs: Mapping[str, Any]) -> list[str]:
    """Every difference between a module spec and its DOCUMENTATION, as readable lines."""
    problems = []
    in_spec, in_docs = _all_options(spec.get("options", {})), _all_options(docs.get("options", {}))
    for name in sorted(set(in_spec) | set(in_docs)):
        if name not in in_docs:
            problems.append(f"option {name} is in $spec but not documented")
        elif name not in in_spec:
            problems.append(f"option {name} is documented but not in $spec")
        else:
            for key in (*COMPARED, "options"):
                if in_spec[name][key] != in_docs[name][key]:
                    problems.append(f"option {name}: {key} is {in_spec[name][key]!r} in $spec, "
                                    f"{in_docs[name][key]!r} in the docs")
    documented = docs.get("attributes", {}).get("check_mode", {}).get("support", "none") != "none"
    if bool(spec.get("supports_check_mode", False)) != documented:
        problems.append(f"supports_check_mode is {spec.get('supports_check_mode', False)!r} in $spec, "
                        f"the docs' check_mode support is {docs.get('attributes', {}).get('check_mode')}")
    return problems


# What each module's host contract says its $spec is (docs/host-contract.md), written
# out here so that the reader above is checked against something it did not produce.
EXPECTED_OPTIONS: dict[str, dict[str, dict[str, Any]]] = {
    "bits_helper_token": {
        "job": {"type": "str", "required": True},
        "flags": {"type": "list", "elements": "str"},
        "helper_token": {"type": "str", "choices": ["keep", "absent", "caller"], "default": "keep"},
        "all_matches": {"type": "bool", "default": False},
        "all_users": {"type": "bool", "default": False},
        "force": {"type": "bool", "default": False},
    },
    "bits_job_info": {
        "job": {"type": "list", "elements": "str"},
        "all_users": {"type": "bool", "default": True},
        "name_timeout": {"type": "int", "default": 5},
    },
}


@pytest.fixture(scope="module")
def source() -> bytes:
    return MODULE_PS1.read_bytes()


def test_every_module_has_its_expected_options():
    assert powershell_modules() and set(powershell_modules()) <= set(EXPECTED_OPTIONS)


@pytest.mark.parametrize("module", powershell_modules())
def test_spec_matches_the_documented_options(module):
    assert spec_differences(spec_of(module_ps1(module).read_bytes()), documentation(module)) == []


@pytest.mark.parametrize("module", powershell_modules())
def test_spec_is_read_in_full(module):
    # Guards the reader itself: the options the contract lists are all there, as the contract says.
    spec = spec_of(module_ps1(module).read_bytes())
    # Compared with Ansible.Basic's defaults filled in: `required = $false` written out is the same spec.
    assert _all_options(spec["options"]) == _all_options(EXPECTED_OPTIONS[module])
    assert spec["supports_check_mode"] is True


@pytest.mark.parametrize("change, expected", [
    ((b"force = @{ type = 'bool'; default = $false }", b"force = @{ type = 'bool'; default = $true }"),
     "option force: default is True in $spec, False in the docs"),
    ((b"job = @{ type = 'str'; required = $true }", b"job = @{ type = 'str' }"),
     "option job: required is False in $spec, True in the docs"),
    ((b"elements = 'str'", b"elements = 'int'"), "option flags: elements is 'int' in $spec, 'str' in the docs"),
    ((b"all_users = @{ type = 'bool'", b"all_users = @{ type = 'str'"),
     "option all_users: type is 'str' in $spec, 'bool' in the docs"),
    ((b"flags = @{ type = 'list'; elements = 'str' }",
      b"flags = @{ type = 'list'; elements = 'str'; choices = 'local_file', 'network' }"),
     "option flags: choices is ['local_file', 'network'] in $spec, None in the docs"),
    ((b"        force = @{", b"        forced = @{"), "option forced is in $spec but not documented"),
    ((b"supports_check_mode = $true", b"supports_check_mode = $false"), "supports_check_mode is False in $spec"),
    ((b"choices = 'keep', 'absent', 'caller'", b"choices = 'keep', 'absent'"),
     "option helper_token: choices is ['keep', 'absent'] in $spec, ['keep', 'absent', 'caller'] in the docs"),
    ((b"'caller'; default = 'keep' }", b"'caller'; default = 'absent' }"),
     "option helper_token: default is 'absent' in $spec, 'keep' in the docs"),
])
def test_a_mutated_spec_is_caught(source, change, expected):
    old, new = change
    assert source.count(old) == 1, f"the mutation no longer applies: {old!r}"
    problems = spec_differences(spec_of(source.replace(old, new)), documentation())
    assert any(p.startswith(expected) for p in problems), problems


def test_a_mutated_documentation_is_caught(source):
    docs = documentation()
    docs["options"]["all_matches"]["default"] = True
    del docs["options"]["force"]
    problems = spec_differences(spec_of(source), docs)
    assert "option all_matches: default is False in $spec, True in the docs" in problems
    assert "option force is in $spec but not documented" in problems


def test_a_computed_spec_is_refused_not_guessed():
    with pytest.raises(NotALiteral):
        spec_of(b"$spec = @{ options = @{ job = @{ type = $type } } }")


@pytest.mark.parametrize(("module", "option", "key", "value", "expected"), [
    ("bits_job_info", "all_users", "default", False, "option all_users: default is True in $spec, False in the docs"),
    ("bits_job_info", "job", "elements", None, "option job: elements is 'str' in $spec, None in the docs"),
    ("bits_job_info", "job", "type", "str", "option job: type is 'list' in $spec, 'str' in the docs"),
])
def test_a_mutated_documentation_of_each_module_is_caught(module, option, key, value, expected):
    if module not in powershell_modules():
        pytest.fail(f"plugins/modules/{module}.ps1 is missing; this test needs it")
    docs = documentation(module)
    if value is None:
        del docs["options"][option][key]
    else:
        docs["options"][option][key] = value
    assert expected in spec_differences(spec_of(module_ps1(module).read_bytes()), docs)
