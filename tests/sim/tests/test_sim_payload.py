"""payload.py against WinRS commands recorded from real ansible-core 2.18 and 2.21 runs, and a live one."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest

from tests.sim.payload import Become, ModuleRequest, UnsupportedCommand, decode_command_line, parse_request
from tests.support.paths import REPO, collections_root
from tests.sim.tests.recorded import VERSIONS, load_recorded


@pytest.fixture(scope="module", params=VERSIONS)
def recorded(request):
    return load_recorded(request.param)


def _parse(entry):
    return parse_request(entry.command, entry.arguments, entry.stdin)


def test_adhoc_run_yields_module_args_and_sources(recorded):
    request = _parse(recorded["adhoc_string_flags"])
    assert request.module_name == "winbits.bits.bits_helper_token"
    assert request.complex_args["job"] == "myDownloadJob"
    assert request.complex_args["flags"] == "local_file,network"
    assert request.check_mode is False
    assert request.become is None
    assert "HelperTokenModule" in request.module_source
    assert "namespace ansible_collections.winbits.bits.plugins.module_utils.BitsHelperToken" in \
        request.csharp_util("BitsHelperToken")
    assert "class AnsibleModule" in request.csharp_util("Ansible.Basic")


def test_wrapper_layout_follows_the_ansible_version(recorded):
    entry = recorded["adhoc_string_flags"]
    expected = "exec_wrapper" if entry.ansible_core.startswith("2.18") else "manifest"
    assert _parse(entry).wrapper == expected


def test_check_and_diff_markers_and_list_flags(recorded):
    request = _parse(recorded["check_diff_list_flags"])
    assert request.check_mode is True
    assert request.complex_args["_ansible_diff"] is True
    assert request.complex_args["flags"] == ["local_file", "network"]
    assert request.complex_args["_ansible_verbosity"] == 1


def test_become_with_password_keeps_it_out_of_repr(recorded):
    request = _parse(recorded["become_alice_password"])
    assert request.become == Become(user="alice", password="S3cret-Become!", logon_type="Interactive",
                                    logon_flags="WithProfile")
    assert "S3cret" not in repr(request.become)
    assert "S3cret" not in repr(request)
    assert request.complex_args["flags"] == []


def test_become_system_with_batch_logon(recorded):
    become = _parse(recorded["become_system_batch"]).become
    assert (become.user, become.password, become.logon_type) == ("SYSTEM", None, "Batch")


def test_async_is_refused_by_name(recorded):
    with pytest.raises(UnsupportedCommand, match="async"):
        _parse(recorded["async"])


def test_raw_powershell_is_refused(recorded):
    with pytest.raises(UnsupportedCommand, match="raw PowerShell.*Get-Service BITS"):
        _parse(recorded["raw"])


def test_2_18_command_line_is_decoded_twice():
    entry = load_recorded("2.18.19")["adhoc_string_flags"]
    script = decode_command_line(entry.command, entry.arguments)
    assert "$exec_wrapper_str = $input | Out-String" in script


def test_2_19_style_split_arguments_decode_like_one_command_string():
    entry = load_recorded("2.21.5")["adhoc_string_flags"]
    command, *arguments = entry.command.split(" ")
    split = parse_request(command, arguments, entry.stdin)
    whole = _parse(entry)
    assert split == whole
    assert arguments[-2] == "-EncodedCommand"


def test_other_module_is_refused_with_its_name():
    entry = load_recorded("2.21.5")["adhoc_string_flags"]
    head, sep, tail = entry.stdin.partition(b"\n\0\0\0\0\n")
    manifest = json.loads(tail)
    module = manifest["actions"][-1]["params"]
    old_key = module["Script"]
    module["Script"] = "ansible_collections.ansible.windows.plugins.modules.win_shell.ps1"
    manifest["scripts"][module["Script"]] = manifest["scripts"].pop(old_key)
    stdin = head + sep + json.dumps(manifest).encode()
    with pytest.raises(UnsupportedCommand, match="ansible.windows.win_shell"):
        parse_request(entry.command, entry.arguments, stdin)


def test_other_module_in_legacy_payload_is_refused():
    entry = load_recorded("2.18.19")["adhoc_string_flags"]
    wrapper, sep, tail = entry.stdin.partition(b"\0\0\0\0")
    payload = json.loads(tail)
    payload["module_args"]["_ansible_module_name"] = "ansible.windows.win_command"
    with pytest.raises(UnsupportedCommand, match="win_command"):
        parse_request(entry.command, entry.arguments, wrapper + sep + json.dumps(payload).encode())


@pytest.mark.parametrize("stdin", [b"", b"garbage", b'{"name": "exec_wrapper"}\n\0\0\0\0\nnot json'])
def test_broken_stdin_is_refused(stdin):
    entry = load_recorded("2.21.5")["adhoc_string_flags"]
    with pytest.raises(UnsupportedCommand):
        parse_request(entry.command, entry.arguments, stdin)


def test_non_powershell_command_is_refused():
    with pytest.raises(UnsupportedCommand, match="not a PowerShell"):
        parse_request("cmd.exe", ["/c", "dir"], b"")


def test_file_transfer_bootstrap_is_refused():
    entry = load_recorded("2.21.5")["adhoc_string_flags"]
    bootstrap = json.dumps({"name": "exec_wrapper", "script": "", "params": {}}).encode()
    manifest = {"scripts": {}, "actions": [{"name": "winrm_put_file.ps1", "params": {}}]}
    with pytest.raises(UnsupportedCommand, match="winrm_put_file.ps1"):
        parse_request(entry.command, entry.arguments, bootstrap + b"\n\0\0\0\0\n" + json.dumps(manifest).encode())


def test_live_payload_of_the_installed_ansible(tmp_path):
    """The venv's ansible-core still sends what payload.py understands (records one ad-hoc run)."""
    inventory = tmp_path / "inventory"
    inventory.write_text("win01 ansible_connection=winrm ansible_host=127.0.0.1 ansible_user=u "
                         "ansible_password=p ansible_winrm_transport=basic ansible_winrm_scheme=http\n")
    out = tmp_path / "recorded.jsonl"
    env = {"PATH": os.environ.get("PATH", ""), "ANSIBLE_COLLECTIONS_PATH": str(collections_root()),
           "ANSIBLE_HOME": str(tmp_path / "home"), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
           "ANSIBLE_HOST_KEY_CHECKING": "False"}
    subprocess.run([sys.executable, str(REPO / "tests/sim/capture_payload.py"), str(out), "adhoc",
                    "-i", str(inventory), "-m", "winbits.bits.bits_helper_token",
                    "-a", "job=x flags=network all_users=yes", "--check", "win01"],
                   check=True, capture_output=True, env=env, timeout=120)
    entry = json.loads(out.read_text().splitlines()[0])
    request = parse_request(entry["command"], entry["arguments"], base64.b64decode(entry["stdin_b64"]))
    assert request.complex_args["job"] == "x"
    assert request.module_name == "winbits.bits.bits_helper_token"
    assert request.check_mode is True


def test_the_collections_utils_are_found_whatever_the_wrapper_calls_them(recorded):
    """2.16-2.18 name the module's own util relatively (``..module_utils.X``), 2.19+ in full: the
    simulated host must compile it either way, or every module run on those versions fails."""
    utils = _parse(recorded["adhoc_string_flags"]).collection_utils()
    assert "BitsHelperToken" in utils
    assert "namespace ansible_collections.winbits.bits.plugins.module_utils.BitsHelperToken" in utils["BitsHelperToken"]
    assert "Ansible.Basic" not in utils


def test_relative_and_full_util_names_map_to_short_names():
    request = ModuleRequest(wrapper="exec_wrapper", module_name="winbits.bits.bits_helper_token", module_source="",
                            complex_args={}, become=None,
                            csharp_utils={"..module_utils.BitsHelperToken": "core", "Ansible.Basic": "basic",
                                          "ansible_collections.winbits.bits.plugins.module_utils.BitsCom": "com",
                                          "ansible_collections.winbits.bits.plugins.module_utils.BitsJobInfo.cs": "info"})
    assert request.collection_utils() == {"BitsHelperToken": "core", "BitsCom": "com", "BitsJobInfo": "info"}
