"""Every job error bits_job_info names is explained with its cause and fix."""
from __future__ import annotations

import typing as t

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._modules.explain import hresults
from ansible_collections.winbits.bits.plugins.plugin_utils._modules.explain.job_errors import JOB_ERROR_NAMES
from ansible_collections.winbits.bits.plugins.plugin_utils._modules.explain import (
    explain_job_error,
    job_error_name,
)
from ansible_collections.winbits.bits.tests.unit.utils.explain_checks import assert_structure
from tests.support.sdk_headers import hresult_from_win32, sdk_constant
from ansible_collections.winbits.bits.tests.unit.utils.job_info_facts import HELPER_SID, job_error, raw_job

# --- bits_job_info: the errors jobs are in ---------------------------------------------------


def test_job_error_codes_are_the_sdks() -> None:
    for code, name in JOB_ERROR_NAMES.items():
        in_header = sdk_constant("bitsmsg.h", name)
        if name == "BG_E_TOKEN_REQUIRED":
            # mingw-w64's bitsmsg.h stops before the BITS 4.0 codes; should it gain this one, it must agree.
            assert in_header in (None, code)
            assert code == 0x80200056
        else:
            assert in_header == code, name
    assert sdk_constant("winerror.h", "E_ACCESSDENIED") == hresults.E_ACCESSDENIED
    assert hresult_from_win32(t.cast(int, sdk_constant("winerror.h", "ERROR_NOT_LOGGED_ON"))) == hresults.ERROR_NOT_LOGGED_ON
    assert hresult_from_win32(t.cast(int, sdk_constant("winhttp.h", "ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY"))) \
        == hresults.ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY


def test_sdk_reader_reads_what_it_should() -> None:
    # Guards the reader above: a known value, and a name the header does not have.
    assert sdk_constant("bitsmsg.h", "BG_E_NOT_FOUND") == 0x80200001
    assert sdk_constant("bitsmsg.h", "BG_E_NO_SUCH_THING") is None


@pytest.mark.parametrize(("code", "name"), [
    (0x80200056, "BG_E_TOKEN_REQUIRED"), (0x80070005, "E_ACCESSDENIED"), (0x800704DD, "ERROR_NOT_LOGGED_ON"),
    (0x80190191, "BG_E_HTTP_ERROR_401"), (0x80190193, "BG_E_HTTP_ERROR_403"), (0x80190194, "BG_E_HTTP_ERROR_404"),
    (0x80200010, "BG_E_NETWORK_DISCONNECTED"), (0x8020003B, "BG_E_TIMEOUT"),
    (0x80072F9A, "ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY"), (0x8020000D, "BG_E_DESTINATION_LOCKED"),
])
def test_every_listed_job_error_is_named_and_explained_with_cause_and_fix(code: int, name: str) -> None:
    assert job_error_name(code) == name
    message = explain_job_error(job_error(code, "REMOTE_FILE"), raw_job(state="ERROR"))
    assert_structure(message)
    assert message.startswith("The job is in error 0x%08X (%s) in the REMOTE_FILE context. " % (code, name))
    # Each has its own explanation, not the fallback.
    assert "does not explain" not in message


def job_message(code: int, context: str = "REMOTE_FILE", **job: object) -> str:
    return explain_job_error(job_error(code, context), raw_job(**{"state": "ERROR", **job}))


def test_token_required_says_the_token_was_discarded_and_how_to_set_it_again() -> None:
    message = job_message(0x80200056, flags_value=3)
    assert "the job's flags (local_file, network) send some of its work through its helper token" in message
    assert "discarded that token at a log-off" in message
    assert "SetHelperToken" in message and "resume the job" in message
    assert "clear its flags with winbits.bits.bits_helper_token (flags: [])" in message


@pytest.mark.parametrize(("context", "flag", "flags_value"), [("LOCAL_FILE", "local_file", 1),
                                                              ("REMOTE_FILE", "network", 2)])
def test_access_denied_with_the_flag_set_blames_the_helper_token(context: str, flag: str, flags_value: int) -> None:
    message = job_message(0x80070005, context, flags_value=flags_value)
    assert "as the helper token's account, CORP\\svc-sync (%s), and that account may not open it (%s is set)" % (
        HELPER_SID, flag) in message
    assert "remove %s from the job's flags" % flag in message


@pytest.mark.parametrize(("context", "flag", "flags_value"), [("LOCAL_FILE", "local_file", 2),
                                                              ("REMOTE_FILE", "network", 1)])
def test_access_denied_without_the_flag_blames_the_owner(context: str, flag: str, flags_value: int) -> None:
    message = job_message(0x80070005, context, flags_value=flags_value)
    assert "as the job's owner, NT AUTHORITY\\SYSTEM (S-1-5-18), and that account may not open it (%s is not set)" % (
        flag) in message
    assert "add %s to the job's flags (winbits.bits.bits_helper_token)" % flag in message


def test_access_denied_with_unreadable_flags_names_both_accounts() -> None:
    message = job_message(0x80070005, "LOCAL_FILE", flags_value=None, owner_name=None)
    assert "as the job's owner, S-1-5-18 or, if local_file is set, the helper token's account" in message
    assert "the flags could not be read" in message


def test_access_denied_elsewhere_names_owner_and_helper() -> None:
    message = job_message(0x80070005, "GENERAL_TRANSPORT", helper_token_sid=None, helper_token_name=None)
    assert "the job's owner, NT AUTHORITY\\SYSTEM (S-1-5-18) or" in message
    assert "the helper token (the job has none now)" in message


def test_not_logged_on_recommends_become_system() -> None:
    message = job_message(0x800704DD, "GENERAL_TRANSPORT")
    assert "become: true, become_method: runas, become_user: SYSTEM" in message
    assert "is then the caller, its SID S-1-5-18 in caller" in message
    assert "network logon" in message


def test_unauthorized_with_network_set_points_to_the_helper_token_and_set_credentials() -> None:
    message = job_message(0x80190191, flags_value=2)
    assert "401 Unauthorized" in message and "network is set" in message
    assert "as the helper token's account, CORP\\svc-sync" in message
    assert "SetCredentials(..., NULL, NULL)" in message


def test_unauthorized_without_network_suggests_adding_it() -> None:
    message = job_message(0x80190191, flags_value=1)
    assert "as the job's owner, NT AUTHORITY\\SYSTEM (S-1-5-18)" in message
    assert "add network to the job's flags" in message


def test_proxy_authentication_is_explained_like_401() -> None:
    message = job_message(0x80190197, flags_value=0)
    assert "0x80190197 (BG_E_HTTP_ERROR_407)" in message and "proxy answered 407" in message


def test_forbidden_and_not_found() -> None:
    assert "refuses the URL to the account BITS presented, the helper token's account" in job_message(
        0x80190193, flags_value=2)
    message = job_message(0x80190194)
    assert "404 Not Found" in message and "flags play no part" in message


@pytest.mark.parametrize("code", [0x80200010, 0x8020003B])
def test_transient_errors_are_retried_by_bits_errors_need_a_resume(code: int) -> None:
    assert "BITS retries a job in TRANSIENT_ERROR by itself" in job_message(code, state="TRANSIENT_ERROR")
    message = job_message(code, state="ERROR")
    assert "then resume the job (Resume-BitsTransfer)" in message and "by itself" not in message


def test_client_certificate_private_key_ties_to_network_and_the_owner() -> None:
    message = job_message(0x80072F9A, owner="S-1-5-21-1-2-3-1001", owner_name="CORP\\alice", flags_value=2,
                          client_certificate=True)
    assert "whose owner is not LocalSystem (S-1-5-18) once network is set" in message
    assert "this job's owner is CORP\\alice (S-1-5-21-1-2-3-1001) and its flags are network" in message
    assert "remove network from the job's flags" in message


def test_destination_locked() -> None:
    assert "another program has the job's destination file open" in job_message(0x8020000D, "LOCAL_FILE")


def test_unknown_job_error_names_code_context_and_description() -> None:
    message = explain_job_error({"hresult": 0x80200099, "context": None, "context_value": 6,
                                 "description": "Something odd.\r\n"}, raw_job(state="ERROR"))
    assert_structure(message)
    assert "BITS reported 0x80200099 in the GENERAL_TRANSPORT context, which winbits.bits does not explain" in message
    assert "the host's description: Something odd." in message
    assert "certutil -error 0x80200099" in message


def test_job_error_without_any_hresult_still_explains() -> None:
    message = explain_job_error({"hresult": None, "hresult_hex": None}, {})
    assert "an error without an HRESULT" in message and "unknown context" in message
