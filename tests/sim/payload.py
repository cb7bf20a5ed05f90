"""Decode what Ansible's winrm connection sends to run a PowerShell module.

Two layouts exist (measured with ansible-core 2.16 to 2.21, and checked against the
recorded payloads in tests/sim/tests/fixtures/):

- ansible-core 2.19+: the command line runs ``bootstrap_wrapper.ps1`` (``powershell ... -EncodedCommand``,
  one Command string in 2.21, Command plus space-split Arguments in 2.19/2.20; the script's first
  lines differ too); stdin is
  ``<bootstrap JSON>\\n\\0\\0\\0\\0\\n<manifest JSON>``. The manifest's ``actions`` end with
  ``module_wrapper.ps1`` whose params name the module script and carry ``complex_args``.
- ansible-core 2.16-2.18: the command line is encoded twice (a ``PowerShell ... -EncodedCommand`` line
  inside the first one); stdin is ``<exec_wrapper.ps1 text>\\0\\0\\0\\0<JSON>`` with ``module_entry``,
  ``module_args``, ``actions``, ``csharp_utils``.

Everything else (raw PowerShell, file transfers, other modules, async) is refused with
:class:`UnsupportedCommand`: the simulated host never pretends to have run something it did not.
The become password is kept out of ``repr`` and never logged.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
from typing import Any

SUPPORTED_MODULE = "winbits.bits.bits_helper_token"
JOB_INFO_MODULE = "winbits.bits.bits_job_info"
# The benchmark's baseline (tests/benchmark/collections): an Ansible.Basic module that does nothing.
NOOP_MODULE = "winbits.benchmark.noop"
SUPPORTED_MODULES = (SUPPORTED_MODULE, JOB_INFO_MODULE, NOOP_MODULE)
# The collection's C# utils, as the wrappers name them (the .cs suffix is dropped where present).
COLLECTION_UTIL_PREFIX = "ansible_collections.winbits.bits.plugins.module_utils."
# A util a module names relative to itself, as `#AnsibleRequires -CSharpUtil ..module_utils.X` does.
_RELATIVE_UTIL = re.compile(r"\.\.module_utils\.(\w+)")
_COLLECTION_MODULE_PREFIX = "ansible_collections."
_EXEC_WRAPPER_SEPARATOR = b"\0\0\0\0"
_BOOTSTRAP_SEPARATOR = b"\n\0\0\0\0\n"
# PowerShell accepts any unambiguous prefix of -EncodedCommand; Ansible writes it in full.
_ENCODED_COMMAND = re.compile(r"(?i)(?:^|\s)-(?:EncodedCommand|enc|e|ec)\s+([A-Za-z0-9+/=]+)")
_POWERSHELL_LINE = re.compile(r"(?i)^\s*(?:\S*[\\/])?(?:powershell|pwsh)(?:\.exe)?\s")
# bootstrap_wrapper.ps1 of every 2.19+ release splats the bootstrap JSON's params; 2.21 added a
# param([string]$InputFile) block first, 2.19/2.20 start with the PowerShell version check instead,
# and Ansible strips the indentation, so a statement both keep is matched, not the first line.
_BOOTSTRAP_MARKER = "foreach ($obj in $code.params.PSObject.Properties)"
_LEGACY_BOOTSTRAP_MARKER = "$exec_wrapper_str = $input | Out-String"
# become_flags of the runas plugin (ansible.plugins.become.runas._parse_flag), for 2.16-2.18 payloads.
_LOGON_TYPES = {"interactive": "Interactive", "network": "Network", "batch": "Batch", "service": "Service",
                "unlock": "Unlock", "network_cleartext": "NetworkCleartext",
                "new_credentials": "NewCredentials"}
_LOGON_FLAGS = {"none": "None", "with_profile": "WithProfile", "netcredentials_only": "NetCredentialsOnly"}


class UnsupportedCommand(Exception):
    """The command is not a run of a module the simulated host knows; the message says what it is."""


@dataclasses.dataclass(frozen=True)
class Become:
    """The runas become request: who to run as and how Windows would log them on."""
    user: str
    password: str | None = dataclasses.field(repr=False)
    logon_type: str = "Interactive"
    logon_flags: str = "WithProfile"


@dataclasses.dataclass(frozen=True)
class ModuleRequest:
    """One module execution as the host would see it after Ansible's wrappers unpacked it."""
    wrapper: str                      # "manifest" (2.19+) or "exec_wrapper" (2.16-2.18)
    module_name: str                  # FQCN, e.g. winbits.bits.bits_helper_token
    module_source: str                # the .ps1 that was sent
    complex_args: dict[str, Any]      # user args plus the _ansible_* keys
    csharp_utils: dict[str, str]      # util name (as the wrapper names it) -> C# source that was sent
    become: Become | None

    @property
    def check_mode(self) -> bool:
        return bool(self.complex_args.get("_ansible_check_mode", False))

    def csharp_util(self, suffix: str) -> str:
        """The source of the C# util whose name ends with suffix (e.g. ``BitsHelperToken``)."""
        for name, source in self.csharp_utils.items():
            if name.removesuffix(".cs").endswith(suffix):
                return source
        raise UnsupportedCommand(f"the payload carries no C# util named *{suffix} "
                                 f"(sent: {', '.join(sorted(self.csharp_utils)) or 'none'})")

    def collection_utils(self) -> dict[str, str]:
        """The collection's C# utils that were sent, by short name (``BitsCom``, ``BitsHelperToken``...).

        2.19+ names every util in full; 2.16-2.18 keep the module's own ``#AnsibleRequires`` as written,
        relative (``..module_utils.BitsHelperToken``), and name the utils it pulls in by ``using`` in full.
        """
        utils = {}
        for name, source in self.csharp_utils.items():
            bare = name.removesuffix(".cs")
            relative = _RELATIVE_UTIL.fullmatch(bare)
            if bare.startswith(COLLECTION_UTIL_PREFIX):
                utils[bare.removeprefix(COLLECTION_UTIL_PREFIX)] = source
            elif relative:
                utils[relative.group(1)] = source
        return utils


def decode_command_line(command: str, arguments: list[str]) -> str:
    """Return the innermost PowerShell script of a ``powershell ... -EncodedCommand <b64>`` line.

    WinRS joins the Command and its Arguments with spaces, so both forms decode alike. A decoded
    script that is itself a PowerShell command line (2.16-2.18) is decoded again.
    """
    line = " ".join([command, *arguments])
    for _depth in range(4):
        match = _ENCODED_COMMAND.search(line)
        if not _POWERSHELL_LINE.match(line) or match is None:
            raise UnsupportedCommand(f"not a PowerShell -EncodedCommand line: {_preview(line)}")
        try:
            script = base64.b64decode(match.group(1), validate=True).decode("utf-16-le")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise UnsupportedCommand(f"the -EncodedCommand value is not base64 of UTF-16LE text: {error}")
        if not _POWERSHELL_LINE.match(script) or _ENCODED_COMMAND.search(script) is None:
            return script
        line = script
    raise UnsupportedCommand("the command line nests -EncodedCommand deeper than Ansible does")


def parse_request(command: str, arguments: list[str], stdin: bytes) -> ModuleRequest:
    """Decode one WinRS command (line + whole stdin) into the module run it asks for."""
    script = decode_command_line(command, arguments)
    if _BOOTSTRAP_MARKER in script:
        return _parse_manifest_payload(stdin)
    if _LEGACY_BOOTSTRAP_MARKER in script:
        return _parse_exec_wrapper_payload(stdin)
    raise UnsupportedCommand(
        f"raw PowerShell is not supported by the simulated host (script starts: {_preview(script)})")


# ---- ansible-core 2.19+ -------------------------------------------------------------------------

def _parse_manifest_payload(stdin: bytes) -> ModuleRequest:
    head, separator, tail = stdin.partition(_BOOTSTRAP_SEPARATOR)
    if not separator:
        raise UnsupportedCommand("bootstrap_wrapper input without the \\n\\0\\0\\0\\0\\n separator")
    bootstrap = _load_json(head, "bootstrap JSON")
    if bootstrap.get("name") != "exec_wrapper":
        raise UnsupportedCommand(f"bootstrap of {bootstrap.get('name')!r} is not supported")
    manifest = _load_json(tail, "exec manifest")
    actions = manifest.get("actions") or []
    names = [action.get("name") for action in actions]
    if not names or names[-1] != "module_wrapper.ps1":
        raise UnsupportedCommand(f"manifest actions {names} do not run a module "
                                 "(file transfers and other wrappers are not supported)")
    _refuse_unknown_actions(names[:-1], {"become_wrapper.ps1"})
    params = actions[-1].get("params") or {}
    scripts = manifest.get("scripts") or {}
    script_key = str(params.get("Script", ""))
    module_name = _supported_module(_module_name_from_script_key(script_key))
    complex_args = _complex_args_of(params)
    csharp_utils = {name: _script_text(scripts, name) for name in params.get("CSharpModules") or []}
    become = None
    if "become_wrapper.ps1" in names:
        become_action = actions[names.index("become_wrapper.ps1")]
        become = _become_from_action(become_action)
    return ModuleRequest(wrapper="manifest", module_name=module_name,
                         module_source=_script_text(scripts, script_key), complex_args=complex_args,
                         csharp_utils=csharp_utils, become=become)


def _complex_args_of(module_params: dict[str, Any]) -> dict[str, Any]:
    for variable in module_params.get("Variables") or []:
        if variable.get("Name") == "complex_args":
            value = variable.get("Value")
            if isinstance(value, dict):
                return value
    raise UnsupportedCommand("module_wrapper.ps1 params carry no complex_args variable")


def _become_from_action(action: dict[str, Any]) -> Become:
    params = action.get("params") or {}
    secure = action.get("secure_params") or {}
    return Become(user=str(params.get("BecomeUser") or ""), password=secure.get("BecomePassword") or None,
                  logon_type=str(params.get("LogonType") or "Interactive"),
                  logon_flags=str(params.get("LogonFlags") or "WithProfile"))


def _module_name_from_script_key(key: str) -> str:
    """``ansible_collections.ns.coll.plugins.modules.name.ps1`` -> ``ns.coll.name``."""
    stem = key.removesuffix(".ps1")
    parts = stem.split(".")
    if stem.startswith(_COLLECTION_MODULE_PREFIX) and len(parts) == 6 and parts[3:5] == ["plugins", "modules"]:
        return f"{parts[1]}.{parts[2]}.{parts[5]}"
    return stem


def _script_text(scripts: dict[str, Any], name: str) -> str:
    entry = scripts.get(name)
    if not isinstance(entry, dict) or "script" not in entry:
        raise UnsupportedCommand(f"the manifest does not carry the script {name!r}")
    return _b64_text(entry["script"], name)


# ---- ansible-core 2.16-2.18 ---------------------------------------------------------------------

def _parse_exec_wrapper_payload(stdin: bytes) -> ModuleRequest:
    _wrapper, separator, tail = stdin.partition(_EXEC_WRAPPER_SEPARATOR)
    if not separator:
        raise UnsupportedCommand("exec_wrapper input without the \\0\\0\\0\\0 separator")
    payload = _load_json(tail, "exec_wrapper payload")
    actions = [str(a) for a in payload.get("actions") or []]
    if not actions or actions[-1] != "module_powershell_wrapper":
        raise UnsupportedCommand(f"exec_wrapper actions {actions} do not run a PowerShell module")
    _refuse_unknown_actions(actions[:-1], {"become_wrapper"})
    complex_args = payload.get("module_args")
    if not isinstance(complex_args, dict):
        raise UnsupportedCommand("exec_wrapper payload without module_args")
    module_name = _supported_module(str(complex_args.get("_ansible_module_name", "")))
    csharp_utils = {name: _b64_text(source, name) for name, source in (payload.get("csharp_utils") or {}).items()}
    become = None
    if "become_wrapper" in actions:
        become = _legacy_become(payload)
    return ModuleRequest(wrapper="exec_wrapper", module_name=module_name,
                         module_source=_b64_text(payload.get("module_entry", ""), "module_entry"),
                         complex_args=complex_args, csharp_utils=csharp_utils, become=become)


def _legacy_become(payload: dict[str, Any]) -> Become:
    logon_type, logon_flags = "Interactive", "WithProfile"
    for flag in str(payload.get("become_flags") or "").split():
        key, value = flag.partition("=")[::2]
        if key == "logon_type":
            logon_type = _LOGON_TYPES.get(value.lower(), value)
        elif key == "logon_flags":
            logon_flags = ",".join(_LOGON_FLAGS.get(v.lower(), v) for v in value.split(",") if v)
    return Become(user=str(payload.get("become_user") or ""), password=payload.get("become_password") or None,
                  logon_type=logon_type, logon_flags=logon_flags)


# ---- shared -------------------------------------------------------------------------------------

def _refuse_unknown_actions(actions: list[Any], allowed: set[str]) -> None:
    for name in actions:
        if name in allowed:
            continue
        if "async" in str(name):
            raise UnsupportedCommand(f"async tasks are not supported by the simulated host (action {name})")
        raise UnsupportedCommand(f"the wrapper action {name!r} is not supported by the simulated host")


def _supported_module(module_name: str) -> str:
    """The FQCN of a module the simulated host runs; anything else is refused."""
    # 2.16-2.18 only name the module by _ansible_module_name, which is the short name when the task
    # used one (e.g. under a play's `collections:` keyword).
    for supported in SUPPORTED_MODULES:
        if module_name in (supported, supported.rsplit(".", 1)[-1]):
            return supported
    raise UnsupportedCommand(f"module {module_name!r} is not supported by the simulated host "
                             f"(it runs only {', '.join(SUPPORTED_MODULES)})")


def _load_json(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise UnsupportedCommand(f"the {what} is not valid JSON: {error}")
    if not isinstance(value, dict):
        raise UnsupportedCommand(f"the {what} is not a JSON object")
    return value


def _b64_text(value: Any, what: str) -> str:
    try:
        return base64.b64decode(str(value), validate=True).decode("utf-8-sig")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise UnsupportedCommand(f"{what} is not base64 of UTF-8 text: {error}")


def _preview(text: str, limit: int = 80) -> str:
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    return repr(first_line[:limit] + ("..." if len(first_line) > limit else ""))
