"""Validate module arguments the way Ansible.Basic's AnsibleModule constructor does on Windows PowerShell 5.1.

The spec comes from the module's documentation (DOCUMENTATION.options of bits_helper_token.yml), the
behaviour from Ansible.Basic.cs (CheckArguments and the Parse* converters), including its quirks:
option names match case-insensitively, ``str`` is .NET ``ToString()`` (``True``, ``System.Object[]``), a
``list`` given as a string is split on commas, a default applies only when the key is absent (an
explicit null stays null), and the error messages are the ones Ansible.Basic prints.

The ``_ansible_*`` keys a module accepts depend on the Ansible.Basic that was sent, so they are read
from its source (:func:`basic_traits`), as is whether results always carry ``invocation`` (before
2.19) or only on request (``_ansible_inject_invocation``).
"""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any, Callable

import yaml

BOOLEANS_TRUE = ("y", "yes", "on", "1", "true", "t", "1.0")
BOOLEANS_FALSE = ("n", "no", "off", "0", "false", "f", "0.0")
_INT32 = range(-2**31, 2**31)
_PASS_VARS_BLOCK = re.compile(r"passVars\s*=\s*new\s+Dictionary<string,\s*string>\(\)\s*\{(.*?)\n\s*\};", re.S)
_PASS_VAR_KEY = re.compile(r'\{\s*"(\w+)"\s*,')


class ModuleExit(Exception):
    """The module stops here with this result and exit code (what the host prints and returns)."""

    def __init__(self, result: dict[str, Any], exit_code: int) -> None:
        super().__init__(result.get("msg", ""))
        self.result = result
        self.exit_code = exit_code


@dataclasses.dataclass(frozen=True)
class OptionSpec:
    name: str
    type: str = "str"
    elements: str | None = None
    required: bool = False
    default: Any = None
    choices: tuple[Any, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class ModuleSpec:
    options: dict[str, OptionSpec]
    supports_check_mode: bool


@dataclasses.dataclass(frozen=True)
class BasicTraits:
    """What the Ansible.Basic that was sent accepts and adds."""
    pass_vars: frozenset[str]          # the _ansible_<name> keys it knows
    always_injects_invocation: bool    # before 2.19 every result carries invocation.module_args


@dataclasses.dataclass
class ValidatedArgs:
    params: dict[str, Any]             # AnsibleModule.Params: every option, converted, null when unset
    module_name: str = "undefined win module"
    check_mode: bool = False
    diff_mode: bool = False
    verbosity: int = 0
    no_log: bool = False
    inject_invocation: bool = False
    ignore_unknown_opts: bool = False


def load_module_spec(docs_path: Path) -> ModuleSpec:
    """Read the argument spec from a module's YAML docs sidecar."""
    docs = yaml.safe_load(docs_path.read_text(encoding="utf-8"))["DOCUMENTATION"]
    options = {name: OptionSpec(name=name, type=opt.get("type", "str"), elements=opt.get("elements"),
                                required=bool(opt.get("required", False)), default=opt.get("default"),
                                choices=tuple(opt.get("choices") or ()), aliases=tuple(opt.get("aliases") or ()))
               for name, opt in docs["options"].items()}
    check_mode = ((docs.get("attributes") or {}).get("check_mode") or {}).get("support", "none")
    return ModuleSpec(options=options, supports_check_mode=check_mode in ("full", "partial"))


def basic_traits(ansible_basic_source: str) -> BasicTraits:
    """Read the known _ansible_* keys and the invocation behaviour from Ansible.Basic.cs."""
    block = _PASS_VARS_BLOCK.search(ansible_basic_source)
    if block is None:
        raise ValueError("Ansible.Basic.cs without a passVars table: unknown Ansible.Basic version")
    return BasicTraits(pass_vars=frozenset(_PASS_VAR_KEY.findall(block.group(1))),
                       always_injects_invocation="injectInvocation" not in ansible_basic_source)


def validate(spec: ModuleSpec, traits: BasicTraits, complex_args: dict[str, Any]) -> ValidatedArgs:
    """Return the converted parameters, or raise ModuleExit with the result Ansible.Basic would print."""
    state = ValidatedArgs(params=dict(complex_args))
    _check_unsupported(spec, traits, state)
    try:
        if state.check_mode and not spec.supports_check_mode:
            raise ModuleExit({"changed": False, "skipped": True,
                              "msg": f"remote module ({state.module_name}) does not support check mode"}, 0)
        _check_required(spec, state)
        for option in spec.options.values():
            _convert_option(option, state)
        for option in spec.options.values():
            state.params.setdefault(option.name, None)
            _convert_elements(option, state)
    except ModuleExit as stop:
        _add_invocation(stop.result, traits, state)
        raise
    return state


def exit_result(result: dict[str, Any], traits: BasicTraits, state: ValidatedArgs) -> ModuleExit:
    """ExitJson() as Ansible.Basic prints it: the module's result, exit code 0."""
    result = dict(result)
    _add_invocation(result, traits, state)
    return ModuleExit(result, 0)


def fail_result(message: str, traits: BasicTraits, state: ValidatedArgs) -> ModuleExit:
    """FailJson(message) as Ansible.Basic prints it at this point."""
    result: dict[str, Any] = {"changed": False, "failed": True, "msg": message}
    _add_invocation(result, traits, state)
    return ModuleExit(result, 1)


def dotnet_type_name(value: Any) -> str:
    """The .NET type PowerShell 5.1's ConvertFrom-Json (as Ansible uses it) gives a JSON value."""
    if isinstance(value, bool):
        return "System.Boolean"
    if isinstance(value, int):
        return "System.Int32" if value in _INT32 else "System.Int64"
    if isinstance(value, float):
        return "System.Decimal"
    if isinstance(value, str):
        return "System.String"
    if isinstance(value, list):
        return "System.Object[]"
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    raise TypeError(f"not a JSON value: {value!r}")


def dotnet_to_string(value: Any) -> str:
    """Ansible.Basic's ParseStr: ``value.ToString()`` of the .NET object."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (int, str)):
        return str(value)
    if isinstance(value, float):
        return json.dumps(value)
    return dotnet_type_name(value)


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = dotnet_to_string(value).lower().strip()
    if text in BOOLEANS_TRUE:
        return True
    if text in BOOLEANS_FALSE:
        return False
    raise ValueError(f"The value '{text}' is not a valid boolean. Valid booleans include: "
                     f"{', '.join(BOOLEANS_TRUE + BOOLEANS_FALSE)}")


def parse_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [part.strip() for part in value.split(",")]
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    raise ValueError(f"{dotnet_type_name(value)} cannot be converted to a list")


def parse_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = dotnet_to_string(value)
    if re.fullmatch(r"[+-]?\d+", text.strip()):
        return int(text)
    raise ValueError(f"{dotnet_type_name(value)} cannot be converted to an int")


_CONVERTERS: dict[str, Callable[[Any], Any]] = {"str": dotnet_to_string, "bool": parse_bool,
                                                "list": parse_list, "int": parse_int}


def _check_unsupported(spec: ModuleSpec, traits: BasicTraits, state: ValidatedArgs) -> None:
    legal = [f"_ansible_{name}" for name in traits.pass_vars]
    for option in spec.options.values():
        legal += [option.name, *option.aliases]
    unsupported: set[str] = set()
    for key in list(state.params):
        exact = key in legal
        folded = next((name for name in legal if name.lower() == key.lower()), None)
        if folded is None:
            unsupported.add(key)
        elif not exact:
            # Ansible.Basic accepts a case-insensitive match and renames it to the spec's spelling.
            state.params[folded] = state.params.pop(key)
        elif key.startswith("_ansible_"):
            _apply_pass_var(key.removeprefix("_ansible_"), state.params.pop(key), state)
    _apply_aliases(spec, state)
    if unsupported and not state.ignore_unknown_opts:
        supported = sorted((n for n in legal if n.removeprefix("_ansible_") not in traits.pass_vars))
        message = (f"Unsupported parameters for ({state.module_name}) module: "
                   f"{', '.join(sorted(unsupported))}. Supported parameters include: {', '.join(supported)}")
        raise fail_result(message, traits, state)


def _apply_pass_var(name: str, value: Any, state: ValidatedArgs) -> None:
    if name == "check_mode":
        state.check_mode = parse_bool(value)
    elif name == "diff":
        state.diff_mode = parse_bool(value)
    elif name == "verbosity":
        state.verbosity = parse_int(value)
    elif name == "module_name":
        state.module_name = dotnet_to_string(value)
    elif name == "no_log":
        state.no_log = parse_bool(value)
    elif name == "inject_invocation":
        state.inject_invocation = parse_bool(value)
    elif name == "ignore_unknown_opts":
        state.ignore_unknown_opts = parse_bool(value)


def _apply_aliases(spec: ModuleSpec, state: ValidatedArgs) -> None:
    for option in spec.options.values():
        for alias in option.aliases:
            if alias in state.params:
                state.params[option.name] = state.params.pop(alias)


def _check_required(spec: ModuleSpec, state: ValidatedArgs) -> None:
    missing = []
    for option in spec.options.values():
        if option.default is not None and option.name not in state.params:
            state.params[option.name] = option.default
        if option.required and option.name not in state.params:
            missing.append(option.name)
    if missing:
        raise ModuleExit({"changed": False, "failed": True,
                          "msg": f"missing required arguments: {', '.join(missing)}"}, 1)


def _convert_option(option: OptionSpec, state: ValidatedArgs) -> None:
    value = state.params.get(option.name)
    if value is None:
        return
    try:
        converted = _CONVERTERS[option.type](value)
    except ValueError as error:
        raise ModuleExit({"changed": False, "failed": True, "msg":
                          f"argument for {option.name} is of type {dotnet_type_name(value)} and we were "
                          f"unable to convert to {option.type}: {error}"}, 1)
    state.params[option.name] = converted
    if option.choices:
        values = converted if option.type == "list" else [converted]
        allowed = [dotnet_to_string(c) for c in option.choices]
        unmatched = [dotnet_to_string(v) for v in values
                     if dotnet_to_string(v).lower() not in {a.lower() for a in allowed}]
        if unmatched:
            how = "one or more of" if option.type == "list" else "one of"
            raise ModuleExit({"changed": False, "failed": True, "msg":
                              f"value of {option.name} must be {how}: {', '.join(allowed)}. "
                              f"Got no match for: {', '.join(unmatched)}"}, 1)


def _convert_elements(option: OptionSpec, state: ValidatedArgs) -> None:
    value = state.params.get(option.name)
    if option.type != "list" or option.elements is None or value is None:
        return
    converted = []
    for element in value:
        if element is None:
            # ParseStr(null) throws, and the catch block's element.GetType() throws again, uncaught:
            # the module dies in AnsibleModule.Create and module_wrapper reports it.
            raise ModuleExit({"failed": True, "msg": "Unhandled exception while executing module: Exception "
                              "calling \"Create\" with \"2\" argument(s): \"Object reference not set to an "
                              "instance of an object.\""}, 1)
        try:
            converted.append(_CONVERTERS[option.elements](element))
        except ValueError:
            raise ModuleExit({"changed": False, "failed": True, "msg":
                              f"argument for list entry {option.name} is of type {dotnet_type_name(element)} "
                              f"and we were unable to convert to {option.elements}: Exception has been thrown "
                              "by the target of an invocation."}, 1)
    state.params[option.name] = converted


def _add_invocation(result: dict[str, Any], traits: BasicTraits, state: ValidatedArgs) -> None:
    if result.get("msg", "").startswith("Unhandled exception"):
        return
    if traits.always_injects_invocation or state.inject_invocation:
        result.setdefault("invocation", {"module_args": dict(state.params)})
