"""The fleet file's transport keys, their checks, and the inventory the fleet prints (tests/sim/README.md)."""
from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.vars.manager import VariableManager

from tests.sim.fleet import (HOST_KEY_ALIAS, SLOW_MARGIN_SECONDS, FleetFileError, build_endpoints, inventory_ini,
                             load_fleet, ssh_key_path, ssh_keys)

# Every inventory variable that bounds how long a client waits for the host, per transport.
TIMEOUT_VARS = {"winrm": ("ansible_winrm_operation_timeout_sec", "ansible_winrm_read_timeout_sec"),
                "psrp": ("ansible_psrp_operation_timeout", "ansible_psrp_read_timeout", "ansible_psrp_connection_timeout"),
                "ssh": ("ansible_ssh_timeout",)}


def host_vars(tmp_path: Path, spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fleet's printed inventory, read back by Ansible's own inventory and variable managers."""
    hosts = load_fleet(spec)
    path = tmp_path / "inventory.ini"
    path.write_text(inventory_ini(hosts, {host.name: 40000 + n for n, host in enumerate(hosts)}, state_dir=tmp_path),
                    encoding="utf-8")
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(path)])
    variables = VariableManager(loader=loader, inventory=inventory)
    return {host.name: variables.get_vars(host=inventory.get_host(host.name)) for host in hosts}


def test_transport_defaults_to_winrm_with_basic_auth_and_ssh_to_keys() -> None:
    hosts = {host.name: host for host in load_fleet({"hosts": {"w": None, "s": {"transport": "ssh"}}})}
    assert (hosts["w"].transport, hosts["w"].auth) == ("winrm", "basic")
    assert (hosts["s"].transport, hosts["s"].auth) == ("ssh", "key")


@pytest.mark.parametrize("host, message", [
    ({"transport": "telnet"}, "host h: transport must be one of ['winrm', 'psrp', 'ssh'], not 'telnet'"),
    ({"transport": "ssh", "auth": "ntlm"}, "host h: auth must be one of ['key', 'password'] for transport ssh, not 'ntlm'"),
    ({"transport": "psrp", "auth": "key"}, "host h: auth must be one of ['basic', 'ntlm'] for transport psrp, not 'key'"),
    ({"faults": ["slow", "flaky"]}, "host h: unknown faults ['flaky']"),
    ({"faults": ["slow"], "slow_timeout": 1}, "host h: slow_timeout must be a whole number of seconds >= 2, not 1"),
    ({"faults": ["slow"], "slow_timeout": 5, "slow_seconds": 6}, "host h: slow_seconds (6) must be at least slow_timeout (5)"),
])
def test_bad_transport_keys_are_refused_naming_host_and_key(host: dict[str, Any], message: str) -> None:
    with pytest.raises(FleetFileError) as error:
        load_fleet({"hosts": {"h": host}})
    assert message in str(error.value)


@pytest.mark.parametrize("transport", ["winrm", "psrp", "ssh"])
def test_a_slow_host_stalls_longer_than_every_timeout_its_inventory_gives(tmp_path: Path, transport: str) -> None:
    spec = {"hosts": {"slow": {"transport": transport, "faults": ["slow"]}, "fine": {"transport": transport}}}
    slow = {host.name: host for host in load_fleet(spec)}["slow"]
    variables = host_vars(tmp_path, spec)
    timeouts = [int(variables["slow"][name]) for name in TIMEOUT_VARS[transport]]
    assert timeouts and max(timeouts) == slow.slow_timeout
    assert slow.slow_seconds >= slow.slow_timeout + SLOW_MARGIN_SECONDS
    assert not any(name in variables["fine"] for name in TIMEOUT_VARS[transport])  # only slow hosts are cut short


def test_inventory_per_transport(tmp_path: Path) -> None:
    variables = host_vars(tmp_path, {"hosts": {
        "w": {}, "wn": {"auth": "ntlm"}, "p": {"transport": "psrp"}, "pn": {"transport": "psrp", "auth": "ntlm"},
        "sk": {"transport": "ssh"}, "sp": {"transport": "ssh", "auth": "password"}}})
    assert variables["w"]["ansible_winrm_message_encryption"] == "never"
    assert "ansible_winrm_message_encryption" not in variables["wn"]
    assert {key: variables["p"][key] for key in ("ansible_connection", "ansible_psrp_protocol", "ansible_psrp_auth",
                                                 "ansible_psrp_message_encryption", "ansible_port")} == {
        "ansible_connection": "psrp", "ansible_psrp_protocol": "http", "ansible_psrp_auth": "basic",
        "ansible_psrp_message_encryption": "never", "ansible_port": 40002}
    assert variables["pn"]["ansible_psrp_auth"] == "ntlm" and "ansible_psrp_message_encryption" not in variables["pn"]
    for name in ("sk", "sp"):
        assert (variables[name]["ansible_connection"], variables[name]["ansible_shell_type"]) == ("ssh", "powershell")
        assert "ControlMaster=no" in variables[name]["ansible_ssh_args"]
        assert f"HostKeyAlias={HOST_KEY_ALIAS}" in variables[name]["ansible_ssh_common_args"]
    assert variables["sk"]["ansible_ssh_private_key_file"] == str(ssh_key_path(tmp_path))
    assert "ansible_password" not in variables["sk"]
    assert variables["sp"]["ansible_password"] == "Sim-Passw0rd!"
    assert "PubkeyAuthentication=no" in variables["sp"]["ansible_ssh_common_args"]


def test_ssh_keys_are_private_kept_and_known(tmp_path: Path) -> None:
    public, host_key = ssh_keys(tmp_path)
    assert ssh_keys(tmp_path) == (public, host_key)  # a restarted fleet keeps its keys
    key_file = ssh_key_path(tmp_path)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert asyncssh.read_private_key(str(key_file)).export_public_key().decode().split()[:2] == public.split()[:2]
    known = (tmp_path / "ssh" / "known_hosts").read_text().split()
    host_public = asyncssh.import_private_key(host_key).export_public_key().decode().split()
    assert known == [HOST_KEY_ALIAS, *host_public[:2]]


def test_endpoints_carry_transport_and_the_authorized_key(tmp_path: Path) -> None:
    hosts = load_fleet({"hosts": {"sk": {"transport": "ssh"}, "sp": {"transport": "ssh", "auth": "password"},
                                  "p": {"transport": "psrp"}}})
    endpoints = {endpoint.name: endpoint for endpoint in build_endpoints(hosts, tmp_path / "state")}
    public, _host_key = ssh_keys(tmp_path / "state")
    assert (endpoints["sk"].transport, endpoints["sk"].authorized_key) == ("ssh", public)
    assert endpoints["sp"].authorized_key == "" and endpoints["sp"].password == "Sim-Passw0rd!"
    assert (endpoints["p"].transport, endpoints["p"].host_key) == ("psrp", "")
