"""The whole path: ansible / ansible-playbook -> winrm, psrp or ssh plugin -> simulated host -> real C# core under Mono.

Tests that take the `transport` fixture run over each transport (ids winrm, psrp, ssh); the others
exercise the module's own behaviour once, over WinRM.
"""
from __future__ import annotations

import subprocess

import pytest
from ansible.release import __version__ as ANSIBLE_CORE

from tests.e2e.conftest import ADMIN_SID, BIN, JOB_ID, one_job

USER_SID = "S-1-5-21-1000-1000-1000-1001"
OTHER_ID = "{5D3B4C39-1F0A-4D5B-9E2F-123456789ABD}"


def _single(fleet, **host):
    return fleet({"hosts": {"win01": {"jobs": [one_job()], **host}}})


def _task(args, **task):
    return [{"hosts": "all", "gather_facts": False,
             "tasks": [{"winbits.bits.bits_helper_token": args, **task}]}]


def _version_tuple(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def test_the_cli_is_the_interpreters_own_ansible_and_the_host_sees_its_payload(fleet, transport):
    # scripts/compat.sh runs these tests from another venv: they must drive that venv's ansible-core,
    # and the simulated host must decode the payload layout of that version.
    shown = subprocess.run([str(BIN / "ansible"), "--version"], capture_output=True, text=True, timeout=120,
                           check=True)
    assert f"[core {ANSIBLE_CORE}]" in shown.stdout, shown.stdout
    sim = _single(fleet)
    result = sim.ansible("win01", "job=myDownloadJob").result("win01")
    assert result["changed"] is False, result
    expected = "exec_wrapper" if _version_tuple(ANSIBLE_CORE) < (2, 19) else "manifest"
    assert sim.handlers["win01"].wrappers_seen == [expected]


def test_adhoc_sets_flags_from_a_comma_separated_string(fleet):
    sim = _single(fleet)
    run = sim.ansible("win01", "job=myDownloadJob flags=local_file,network")
    result = run.result("win01")
    assert run.returncode == 0, result
    assert result["changed"] is True
    assert (result["previous_flags_value"], result["flags_value"]) == (1, 3)
    assert sim.job("win01")["flags"] == ["local_file", "network"]


def test_check_mode_changes_nothing(fleet, transport):
    sim = _single(fleet)
    before = sim.state_bytes("win01")
    run = sim.playbook(_task({"job": "myDownloadJob", "flags": []}), "--check")
    result = run.result("win01")
    assert result["changed"] is True, result
    assert result["flags_value"] == 1
    assert sim.state_bytes("win01") == before


def test_enforce_then_idempotent(fleet, transport):
    # One play: the task enforces, the same task again changes nothing (one ansible process, not two).
    sim = _single(fleet)
    task = {"winbits.bits.bits_helper_token": {"job": JOB_ID, "flags": ["network"]}}
    run = sim.playbook([{"hosts": "all", "gather_facts": False, "tasks": [task, task]}])
    first, second = run.host_results("win01")
    assert first["changed"] is True and second["changed"] is False, (first, second)
    assert sim.job("win01")["flags"] == ["network"]
    assert sim.handlers["win01"].module_runs == 2


def test_diff_shows_before_and_after(fleet, transport):
    sim = _single(fleet)
    result = sim.playbook(_task({"job": "myDownloadJob", "flags": ["local_file", "network"]}), "--diff").result("win01")
    diff = result["diff"]
    text = str(diff)
    assert "local_file" in text and "network" in text, diff


def test_unknown_option_is_refused_before_the_host_runs_anything(fleet):
    # The action plugin validates first; the host's Ansible.Basic-style refusal is unit-tested (argspec).
    sim = _single(fleet)
    result = sim.ansible("win01", "job=myDownloadJob colour=red").result("win01")
    assert result["failed"] is True
    assert "colour" in result["msg"]
    assert sim.handlers["win01"].module_runs == 0


def test_ambiguous_name(fleet):
    sim = fleet({"hosts": {"win01": {"jobs": [one_job(), one_job(id=OTHER_ID)]}}})
    result = sim.ansible("win01", "job=myDownloadJob flags=network").result("win01")
    assert result["failed"] is True
    assert result["error"]["reason"] == "ambiguous"
    assert JOB_ID in result["msg"] and OTHER_ID in result["msg"]
    assert [job["flags"] for job in sim.state("win01")["jobs"]] == [["local_file"], ["local_file"]]


def test_all_matches_applies_to_every_job(fleet):
    sim = fleet({"hosts": {"win01": {"jobs": [one_job(), one_job(id=OTHER_ID)]}}})
    result = sim.ansible("win01", "job=myDownloadJob flags=network all_matches=yes").result("win01")
    assert result["changed"] is True, result
    assert [job["flags"] for job in sim.state("win01")["jobs"]] == [["network"], ["network"]]


def test_not_found(fleet):
    result = _single(fleet).ansible("win01", "job={5D3B4C39-0000-4D5B-9E2F-123456789ABC} flags=network").result("win01")
    assert result["failed"] is True
    assert result["error"]["reason"] == "not_found"
    assert result["error"]["hresult_hex"] == "0x80200001"


def test_bits_3_has_no_token_options(fleet):
    result = _single(fleet, bits_version="3.0").ansible("win01", "job=myDownloadJob").result("win01")
    assert result["failed"] is True
    assert result["error"]["reason"] == "no_token_options"
    assert "4.0" in result["msg"]


def test_access_denied_for_a_non_admin_on_another_users_job(fleet):
    user = {"name": "bob", "password": "Bob-Passw0rd!", "sid": USER_SID, "is_admin": False}
    sim = fleet({"hosts": {"win01": {"winrm_user": user, "os_build": 17763,
                                     "jobs": [one_job(owner=USER_SID), one_job(id=OTHER_ID, name="admins", owner=ADMIN_SID)]}}})
    own = sim.ansible("win01", "job=myDownloadJob flags=network").result("win01")
    assert own["changed"] is True, own
    other = sim.ansible("win01", f"job={OTHER_ID} flags=network").result("win01")
    assert other["failed"] is True
    assert other["error"]["hresult_hex"] == "0x80070005"


def test_not_logged_on_then_become_succeeds(fleet, transport):
    # SYSTEM's own job: as its owner, SYSTEM can tell that it has no client certificate.
    sim = _single(fleet, refuse_network_logon=True, jobs=[one_job(owner="S-1-5-18")])
    refused = sim.playbook(_task({"job": "myDownloadJob", "flags": ["network"]})).result("win01")
    assert refused["failed"] is True
    assert refused["error"]["hresult_hex"] == "0x800704DD"
    assert "become" in refused["msg"]
    become = _task({"job": "myDownloadJob", "flags": ["network"], "all_users": True},
                   become=True, become_method="runas", become_user="SYSTEM")
    done = sim.playbook(become).result("win01")
    assert done["changed"] is True, done
    assert done["caller"]["sid"] == "S-1-5-18"


def test_network_on_a_job_whose_certificate_the_caller_cannot_see_needs_force(fleet):
    # The WinRM user is an administrator but not the owner: BITS's "no certificate" answer is no answer.
    sim = _single(fleet, jobs=[one_job(owner=USER_SID, client_certificate=True)])
    refused = sim.playbook(_task({"job": JOB_ID, "flags": ["network"]})).result("win01")
    assert refused["failed"] is True and refused["error"]["reason"] == "client_certificate_unknown", refused
    assert refused["jobs"][0]["client_certificate"] is None
    assert sim.job("win01")["flags"] == ["local_file"], "a refused task must not write"
    forced = sim.playbook(_task({"job": JOB_ID, "flags": ["network"], "force": True})).result("win01")
    assert forced["changed"] is True, forced
    assert any("0x80072F9A" in warning for warning in forced.get("warnings", [])), forced
    assert sim.job("win01")["flags"] == ["network"]


def test_become_with_a_wrong_password_fails_like_windows(fleet, transport):
    sim = _single(fleet, users={"alice": {"sid": USER_SID, "is_admin": False, "password": "Alice-1!"}})
    play = _task({"job": "myDownloadJob"}, become=True, become_method="runas", become_user="alice",
                 vars={"ansible_become_password": "wrong"})
    result = sim.playbook(play).result("win01")
    assert result["failed"] is True
    assert "1326" in result["msg"]
    assert "wrong" not in result["msg"]
    good = _task({"job": "myDownloadJob"}, become=True, become_method="runas", become_user="alice",
                 vars={"ansible_become_password": "Alice-1!"})
    result = sim.playbook(good).result("win01")
    assert result["caller"]["sid"] == USER_SID  # alice owns no job named so: not found, but as alice
    assert result.get("failed") and result["error"]["reason"] == "not_found"


def test_explained_errors_over_each_transport(fleet, transport):
    # One run, one host per failure the module explains: each comes back with its facts over every transport.
    bob = {"name": "bob", "password": "Bob-Passw0rd!", "sid": USER_SID, "is_admin": False}
    sim = fleet({"hosts": {
        "notfound": {"jobs": [one_job(name="otherJob")]},
        "ambiguous": {"jobs": [one_job(), one_job(id=OTHER_ID)]},
        "bits3": {"jobs": [one_job()], "bits_version": "3.0"},
        "disabled": {"jobs": [one_job()], "faults": ["service_disabled"]},
        "denied": {"jobs": [one_job()], "winrm_user": bob, "os_build": 17763},
        "notloggedon": {"jobs": [one_job()], "refuse_network_logon": True},
    }})
    play = _task({"job": "{{ job_by_host[inventory_hostname] | default('myDownloadJob') }}", "flags": ["network"]},
                 vars={"job_by_host": {"denied": JOB_ID}})
    run = sim.playbook(play, "-f", "6")
    expected = {"notfound": ("reason", "not_found"), "ambiguous": ("reason", "ambiguous"),
                "bits3": ("reason", "no_token_options"), "disabled": ("hresult_hex", "0x80070422"),
                "denied": ("hresult_hex", "0x80070005"), "notloggedon": ("hresult_hex", "0x800704DD")}
    for host, (key, value) in expected.items():
        result = run.result(host)
        assert result.get("failed") is True, (host, result)
        assert result["error"][key] == value, (host, result["error"])
    assert "become" in run.result("notloggedon")["msg"]
    assert all(sim.job(host)["flags"] == ["local_file"] for host in expected)


def test_service_disabled(fleet):
    result = _single(fleet, faults=["service_disabled"]).ansible("win01", "job=myDownloadJob").result("win01")
    assert result["failed"] is True
    assert result["error"]["hresult_hex"] == "0x80070422"


def test_client_certificate_refusal_then_force(fleet):
    sim = _single(fleet, jobs=[one_job(client_certificate=True)])
    refused = sim.ansible("win01", "job=myDownloadJob flags=local_file,network").result("win01")
    assert refused["failed"] is True
    assert refused["error"]["reason"] == "client_certificate"
    assert sim.job("win01")["flags"] == ["local_file"]
    forced = sim.ansible("win01", "job=myDownloadJob flags=local_file,network force=true").result("win01")
    assert forced["changed"] is True, forced
    assert any("0x80072F9A" in warning for warning in forced.get("warnings", [])), forced
    assert sim.job("win01")["flags"] == ["local_file", "network"]


def test_concurrent_change(fleet):
    result = _single(fleet, faults=["concurrent_change"]).ansible("win01", "job=myDownloadJob flags=network").result("win01")
    assert result["failed"] is True
    assert result["error"]["reason"] == "readback_mismatch"


def test_raw_powershell_is_refused_not_faked(fleet, transport):
    sim = _single(fleet)
    result = sim.ansible("win01", "Get-Service BITS", module="raw").result("win01")
    assert result["failed"] is True
    assert "not supported" in result["stdout"] + result.get("msg", "")


def test_noop_baseline_module_runs_and_validates_its_spec(fleet):
    # The benchmark's baseline goes the same way as bits_helper_token and touches no state.
    sim = _single(fleet)
    before = sim.state_bytes("win01")
    done = sim.ansible("win01", "", module="winbits.benchmark.noop").result("win01")
    assert done["changed"] is False and not done.get("failed"), done
    refused = sim.ansible("win01", "bogus=1", module="winbits.benchmark.noop").result("win01")
    assert refused["failed"] is True
    assert "Unsupported parameters for (winbits.benchmark.noop) module: bogus" in refused["msg"]
    assert sim.state_bytes("win01") == before


@pytest.mark.parametrize("transport", ["winrm", "psrp"])
def test_ntlm_with_message_encryption(fleet, transport):
    sim = _single(fleet, auth="ntlm")
    result = sim.ansible("win01", "job=myDownloadJob flags=network").result("win01")
    assert result["changed"] is True, result
