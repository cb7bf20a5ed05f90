"""The fleet file's traits of real Windows hosts, through the real cores under Mono (tests/sim/README.md).

A host's display language names its well-known accounts; its BITS may lack the message resources of that
language, answer "" for "no helper token", know more flag bits, or refuse a QueryInterface; its account
lookups may be slow. Each host here is loaded from a fleet dict, seeded as a fleet would seed it, and run
through bits_runner on one warm SimHost pool.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.sim.bits_runner import Caller, ModuleRun, SimHostPool, read_state, run_module
from tests.sim.fleet import FleetFileError, load_fleet, seed_state
from tests.sim.languages import LANGUAGES, WELL_KNOWN_NAMES
from tests.support.paths import COM_CS, CORE_CS, JOB_INFO_CS, REPO

ADMIN = "S-1-5-21-1000-1000-1000-500"
ADMIN_CALLER = Caller(sid=ADMIN, is_admin=True, network_logon=True)
JOB_ID = "{5D3B4C39-1F0A-4D5B-9E2F-000000000001}"
FAR_DOMAIN = "S-1-5-21-7-7-7"


@pytest.fixture(scope="module")
def pool():
    runner = SimHostPool(size=2)
    yield runner
    runner.close()


def _host(tmp_path: Path, **keys: Any) -> Path:
    """The state file of one host of a fleet dict, seeded as the fleet seeds it."""
    (host,) = load_fleet({"hosts": {"win01": keys}})
    return seed_state(host, tmp_path)


def _info(pool: SimHostPool, state: Path, **params: Any) -> dict[str, Any]:
    utils = {"BitsCom": COM_CS.read_text(encoding="utf-8"), "BitsJobInfo": JOB_INFO_CS.read_text(encoding="utf-8")}
    run = ModuleRun(params={"job": None, "all_users": True, "name_timeout": 5, **params}, check_mode=False)
    return json.loads(run_module(state, ADMIN_CALLER, run, utils, module="bits_job_info", runner=pool).stdout)


def _token(pool: SimHostPool, state: Path, **params: Any) -> dict[str, Any]:
    utils = {"BitsCom": COM_CS.read_text(encoding="utf-8"), "BitsHelperToken": CORE_CS.read_text(encoding="utf-8")}
    run = ModuleRun(params={"job": JOB_ID, "flags": None, "helper_token": "keep", "all_matches": False,
                            "all_users": True, "force": False, **params}, check_mode=False)
    return json.loads(run_module(state, ADMIN_CALLER, run, utils, runner=pool).stdout)


def _job(owner: str = "S-1-5-18", **keys: Any) -> dict[str, Any]:
    return {"id": JOB_ID, "name": "contentSync", "owner": owner, "flags": ["local_file"], **keys}


# --- language ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("language, system, administrators, local_service", [
    ("en-US", "NT AUTHORITY\\SYSTEM", "BUILTIN\\Administrators", "NT AUTHORITY\\LOCAL SERVICE"),
    ("fr-FR", "AUTORITE NT\\Système", "BUILTIN\\Administrateurs", "AUTORITE NT\\SERVICE LOCAL"),
    ("de-DE", "NT-AUTORITÄT\\SYSTEM", "VORDEFINIERT\\Administratoren", "NT-AUTORITÄT\\LOKALER DIENST"),
])
def test_the_host_language_names_the_well_known_accounts(tmp_path, pool, language, system, administrators,
                                                         local_service):
    jobs = [_job("S-1-5-18", helper_token_sid="S-1-5-32-544"),
            _job("S-1-5-19", id="{5D3B4C39-1F0A-4D5B-9E2F-000000000002}")]
    result = _info(pool, _host(tmp_path, language=language, jobs=jobs))
    names = {job["owner"]: job["owner_name"] for job in result["jobs"]}
    assert names == {"S-1-5-18": system, "S-1-5-19": local_service}
    assert result["jobs"][0]["helper_token_name"] == administrators


def test_every_language_names_the_same_well_known_sids():
    assert len({frozenset(names) for names in WELL_KNOWN_NAMES.values()}) == 1
    assert {"en-US", "fr-FR", "de-DE"} <= set(LANGUAGES)


def test_the_fleet_accounts_table_wins_and_the_language_is_case_insensitive(tmp_path, pool):
    state = _host(tmp_path, language="FR-fr", accounts={"S-1-5-18": "CUSTOM\\name"}, jobs=[_job()])
    assert _info(pool, state)["jobs"][0]["owner_name"] == "CUSTOM\\name"
    assert read_state(state)["language"] == "fr-FR"


@pytest.mark.parametrize("keys, message", [
    ({"language": "xx-XX"}, "host h: language: unknown language 'xx-XX'; expected one of en-US, fr-FR, de-DE"),
    ({"message_languages": "en-US"}, "host h: message_languages: message_languages must be a list"),
    ({"message_languages": ["tlh"]}, "host h: message_languages: unknown language 'tlh'"),
    ({"slow_names": {"latency": -1}}, "host h: slow_names: slow_names.latency must be a number of seconds >= 0"),
    ({"slow_names": {"domain": ["S-1-5-21-7"]}}, "host h: slow_names: slow_names has unknown keys ['domain']"),
    ({"slow_names": {"sids": ["alice"]}}, "host h: slow_names: slow_names.sids must be a list of SIDs"),
    ({"valid_token_flags": ["bogus"]}, "host h: valid_token_flags: unknown helper-token flag 'bogus'"),
])
def test_bad_windows_traits_are_refused_naming_host_and_key(keys, message):
    with pytest.raises(FleetFileError) as error:
        load_fleet({"hosts": {"h": keys}})
    assert message in str(error.value)


# --- error descriptions -------------------------------------------------------------------------------

def _job_in_error() -> dict[str, Any]:
    return _job(state="ERROR", error={"hresult": "0x80200056", "context": "REMOTE_FILE",
                                      "description": "A helper token is required."})


def test_a_language_without_bits_messages_gets_the_us_english_description(tmp_path, pool):
    state = _host(tmp_path, language="de-DE", message_languages=["en-US"], jobs=[_job_in_error()])
    error = _info(pool, state)["jobs"][0]["error"]
    assert (error["description"], error["description_error"]) == ("A helper token is required.", None)


def test_the_description_is_asked_in_the_host_language_first(tmp_path, pool):
    """A host with German BITS messages only: the module runs in its UI language, so German is asked."""
    state = _host(tmp_path, language="de-DE", message_languages=["de-DE"], jobs=[_job_in_error()])
    assert _info(pool, state)["jobs"][0]["error"]["description"] == "A helper token is required."


def test_without_any_bits_messages_the_description_is_null_and_says_why(tmp_path, pool):
    state = _host(tmp_path, language="fr-FR", message_languages=[], jobs=[_job_in_error()])
    error = _info(pool, state)["jobs"][0]["error"]
    assert error["description"] is None and error["hresult_hex"] == "0x80200056"
    assert (error["description_error"]["call"], error["description_error"]["hresult_hex"]) == \
        ("IBackgroundCopyError.GetErrorDescription(0x0409)", "0x80070717")


# --- slow account lookups -------------------------------------------------------------------------

def _remote_jobs(count: int) -> list[dict[str, Any]]:
    return [{"id": "{5D3B4C39-1F0A-4D5B-9E2F-%012X}" % index, "name": f"remote{index}",
             "owner": f"{FAR_DOMAIN}-{2000 + index}", "flags": ["network"]} for index in range(count)]


def test_slow_sids_cost_the_budget_not_their_latency(tmp_path, pool):
    state = _host(tmp_path, slow_names={"latency": 60, "domains": [FAR_DOMAIN]}, jobs=_remote_jobs(50))
    started = time.monotonic()
    result = _info(pool, state, name_timeout=1)
    elapsed = time.monotonic() - started
    assert elapsed < 1 + 3, f"{elapsed:.1f} s for a 1 s budget"
    assert result["name_lookup"]["timed_out"] is True and result["name_lookup"]["unresolved"] == 50
    assert {job["owner_name"] for job in result["jobs"]} == {None}
    assert {job["flags_value"] for job in result["jobs"]} == {2}


def test_a_listed_slow_sid_is_slow_and_the_others_are_not(tmp_path, pool):
    slow = f"{FAR_DOMAIN}-2000"
    state = _host(tmp_path, slow_names={"latency": 0.2, "sids": [slow]}, accounts={slow: "FAR\\user"},
                  jobs=[_job(slow)])
    result = _info(pool, state)
    assert result["jobs"][0]["owner_name"] == "FAR\\user"
    assert result["name_lookup"]["timed_out"] is False


# --- what a BITS may answer ---------------------------------------------------------------------------

def test_an_empty_token_sid_is_no_token(tmp_path, pool):
    state = _host(tmp_path, empty_helper_token_sid=True, jobs=[_job(ADMIN)])
    result = _token(pool, state, helper_token="absent")
    assert result["changed"] is False and result["error"] is None
    assert result["jobs"][0]["helper_token_sid"] is None
    assert _info(pool, state)["jobs"][0]["helper_token_sid"] is None


def test_unknown_flag_bits_are_kept_in_the_host_state(tmp_path, pool):
    state = _host(tmp_path, valid_token_flags=7, jobs=[_job(ADMIN, flags=5)])
    assert read_state(state)["jobs"][0]["flags"] == ["local_file", "0x0004"]
    result = _token(pool, state, flags=["network"])
    assert result["error"] is None and result["jobs"][0]["flags_value"] == 6
    assert read_state(state)["jobs"][0]["flags"] == ["network", "0x0004"]
    assert _info(pool, state)["jobs"][0]["unknown_flags_value"] == 4


def test_a_refused_query_interface_is_a_failed_call(tmp_path, pool):
    state = _host(tmp_path, jobs=[_job(ADMIN, faults={"QueryInterface(IBackgroundCopyJobHttpOptions)": "0x80070005"})])
    refused = _token(pool, state, flags=["network"])
    assert (refused["error"]["call"], refused["error"]["hresult_hex"]) == \
        ("QueryInterface(IBackgroundCopyJobHttpOptions)", "0x80070005")
    listed = _info(pool, state)["jobs"][0]
    assert [(failure["call"], failure["hresult_hex"]) for failure in listed["read_errors"]] == \
        [("QueryInterface(IBackgroundCopyJobHttpOptions)", "0x80070005")]
    assert listed["flags_value"] == 1 and listed["client_certificate"] is None


def test_a_fault_after_calls_that_succeed(tmp_path, pool):
    """The first GetHelperTokenSid (the read) works, the second (the read-back after the clear) fails."""
    faults = {"GetHelperTokenSid": {"hresult": "0x800706BA", "after": 1}}
    state = _host(tmp_path, jobs=[_job(ADMIN, helper_token_sid="S-1-5-21-1000-1000-1000-1013", faults=faults)])
    result = _token(pool, state, helper_token="absent")
    assert (result["error"]["call"], result["error"]["hresult_hex"]) == ("GetHelperTokenSid", "0x800706BA")
    assert result["jobs"][0]["previous_helper_token_sid"] == "S-1-5-21-1000-1000-1000-1013"


# --- the documentation says what the simulator does -----------------------------------------------------

FLEET_DOC = REPO / "tests" / "sim" / "README.md"


def test_the_documented_name_table_is_the_simulators():
    rows = re.findall(r"^\| `(S-1-[\d-]+)` \| `([^`]+)` \| `([^`]+)` \| `([^`]+)` \|$", FLEET_DOC.read_text(), re.M)
    documented = {language: {sid: names[index] for sid, *names in rows}
                  for index, language in enumerate(("en-US", "fr-FR", "de-DE"))}
    assert documented == {language: WELL_KNOWN_NAMES[language] for language in documented}


def test_the_documented_fleets_load():
    blocks = re.findall(r"```yaml\n(.*?)```", FLEET_DOC.read_text(), re.S)
    assert len(blocks) >= 2
    for block in blocks:
        assert load_fleet(yaml.safe_load(block))
