"""Well-known accounts named in English in a policy: the table of their SIDs, and owners matched by it.

The table is checked against a list kept here from Microsoft's documentation: "Well-known SIDs"
(learn.microsoft.com/windows/win32/secauthz/well-known-sids) and "Security identifiers"
(learn.microsoft.com/windows-server/identity/ad-ds/manage/understand-security-identifiers), each entry
with its WELL_KNOWN_SID_TYPE value (winnt.h) and the name an English Windows gives the account.
"""
from __future__ import annotations

import datetime
import typing as t

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._policy import PolicyError, evaluate_host, load_policy
from ansible_collections.winbits.bits.plugins.plugin_utils._policy.accounts import WELL_KNOWN_ACCOUNTS, well_known_sid
from ansible_collections.winbits.bits.tests.unit.utils.policy_facts import make_job, make_result
from tests.sim.languages import WELL_KNOWN_NAMES

TODAY = datetime.date(2026, 11, 21)

# SID -> (WELL_KNOWN_SID_TYPE, the account as an English Windows names it), as documented.
DOCUMENTED: dict[str, tuple[str, str]] = {
    "S-1-1-0": ("WinWorldSid", "Everyone"),
    "S-1-5-1": ("WinDialupSid", "NT AUTHORITY\\DIALUP"),
    "S-1-5-2": ("WinNetworkSid", "NT AUTHORITY\\NETWORK"),
    "S-1-5-3": ("WinBatchSid", "NT AUTHORITY\\BATCH"),
    "S-1-5-4": ("WinInteractiveSid", "NT AUTHORITY\\INTERACTIVE"),
    "S-1-5-6": ("WinServiceSid", "NT AUTHORITY\\SERVICE"),
    "S-1-5-7": ("WinAnonymousSid", "NT AUTHORITY\\ANONYMOUS LOGON"),
    "S-1-5-11": ("WinAuthenticatedUserSid", "NT AUTHORITY\\Authenticated Users"),
    "S-1-5-17": ("WinIUserSid", "NT AUTHORITY\\IUSR"),
    "S-1-5-18": ("WinLocalSystemSid", "NT AUTHORITY\\SYSTEM"),
    "S-1-5-19": ("WinLocalServiceSid", "NT AUTHORITY\\LOCAL SERVICE"),
    "S-1-5-20": ("WinNetworkServiceSid", "NT AUTHORITY\\NETWORK SERVICE"),
    "S-1-5-32-544": ("WinBuiltinAdministratorsSid", "BUILTIN\\Administrators"),
    "S-1-5-32-545": ("WinBuiltinUsersSid", "BUILTIN\\Users"),
    "S-1-5-32-546": ("WinBuiltinGuestsSid", "BUILTIN\\Guests"),
    "S-1-5-32-547": ("WinBuiltinPowerUsersSid", "BUILTIN\\Power Users"),
    "S-1-5-32-548": ("WinBuiltinAccountOperatorsSid", "BUILTIN\\Account Operators"),
    "S-1-5-32-549": ("WinBuiltinSystemOperatorsSid", "BUILTIN\\Server Operators"),
    "S-1-5-32-550": ("WinBuiltinPrintOperatorsSid", "BUILTIN\\Print Operators"),
    "S-1-5-32-551": ("WinBuiltinBackupOperatorsSid", "BUILTIN\\Backup Operators"),
    "S-1-5-32-552": ("WinBuiltinReplicatorSid", "BUILTIN\\Replicator"),
    "S-1-5-32-555": ("WinBuiltinRemoteDesktopUsersSid", "BUILTIN\\Remote Desktop Users"),
    "S-1-5-32-556": ("WinBuiltinNetworkConfigurationOperatorsSid", "BUILTIN\\Network Configuration Operators"),
    "S-1-5-32-558": ("WinBuiltinPerfMonitoringUsersSid", "BUILTIN\\Performance Monitor Users"),
    "S-1-5-32-559": ("WinBuiltinPerfLoggingUsersSid", "BUILTIN\\Performance Log Users"),
    "S-1-5-32-562": ("WinBuiltinDCOMUsersSid", "BUILTIN\\Distributed COM Users"),
    "S-1-5-32-568": ("WinBuiltinIUsersSid", "BUILTIN\\IIS_IUSRS"),
    "S-1-5-32-569": ("WinBuiltinCryptoOperatorsSid", "BUILTIN\\Cryptographic Operators"),
    "S-1-5-32-573": ("WinBuiltinEventLogReadersGroup", "BUILTIN\\Event Log Readers"),
    "S-1-5-32-578": ("WinBuiltinHyperVAdminsSid", "BUILTIN\\Hyper-V Administrators"),
    "S-1-5-32-580": ("WinBuiltinRemoteManagementUsersSid", "BUILTIN\\Remote Management Users"),
}
# Other English names Windows documents for the service accounts (the service control manager's).
DOCUMENTED_ALIASES = {
    "S-1-5-18": {"LocalSystem", "Local System"},
    "S-1-5-19": {"NT AUTHORITY\\LocalService", "LocalService"},
    "S-1-5-20": {"NT AUTHORITY\\NetworkService", "NetworkService"},
}


@pytest.mark.parametrize("sid", sorted(WELL_KNOWN_ACCOUNTS))
def test_each_entry_of_the_table_is_a_documented_well_known_sid_with_its_english_name(sid: str) -> None:
    assert sid in DOCUMENTED, f"{sid} is not in the documented list of well-known SIDs"
    name, *aliases = WELL_KNOWN_ACCOUNTS[sid]
    assert name == DOCUMENTED[sid][1]
    assert set(aliases) == DOCUMENTED_ALIASES.get(sid, set())


def test_the_table_has_the_accounts_the_guide_names() -> None:
    for sid in ("S-1-5-18", "S-1-5-19", "S-1-5-20", "S-1-5-32-544", "S-1-5-32-545", "S-1-5-32-546",
                "S-1-5-32-547", "S-1-5-32-551"):
        assert sid in WELL_KNOWN_ACCOUNTS


def test_the_simulators_english_names_are_the_tables() -> None:
    """The simulated fleet answers with the same English names as the table (and only other languages differ)."""
    for sid, english in WELL_KNOWN_NAMES["en-US"].items():
        assert WELL_KNOWN_ACCOUNTS[sid][0] == english
        assert well_known_sid(english) == sid
    for language in ("fr-FR", "de-DE"):
        localised = [name for sid, name in WELL_KNOWN_NAMES[language].items() if name != WELL_KNOWN_NAMES["en-US"][sid]]
        assert localised and all(well_known_sid(name) is None for name in localised), language


def test_no_spelling_names_two_accounts() -> None:
    seen: dict[str, str] = {}
    for sid, names in WELL_KNOWN_ACCOUNTS.items():
        for name in names:
            for spelling in (name.casefold(), name.rpartition("\\")[2].casefold()):
                assert seen.setdefault(spelling, sid) == sid, spelling


@pytest.mark.parametrize(("written", "sid"), [
    ("NT AUTHORITY\\SYSTEM", "S-1-5-18"), ("nt authority\\system", "S-1-5-18"), ("SYSTEM", "S-1-5-18"),
    ("LocalSystem", "S-1-5-18"), (" localsystem ", "S-1-5-18"), ("NT AUTHORITY\\LOCAL SERVICE", "S-1-5-19"),
    ("LocalService", "S-1-5-19"), ("NETWORK SERVICE", "S-1-5-20"), ("NT AUTHORITY\\NetworkService", "S-1-5-20"),
    ("BUILTIN\\Administrators", "S-1-5-32-544"), ("builtin\\users", "S-1-5-32-545"), ("Administrators", "S-1-5-32-544"),
    ("BUILTIN\\Backup Operators", "S-1-5-32-551"),
    ("CORP\\alice", None), ("AUTORITE NT\\Système", None), ("CORP\\SYSTEM", None), ("HOST\\Administrator", None),
])
def test_well_known_names_in_english_any_case_are_their_sids(written: str, sid: str | None) -> None:
    assert well_known_sid(written) == sid


def _policy(owner: t.Any, waiver_owner: t.Any = None) -> t.Any:
    waivers = [{"rule": "system", "owner": waiver_owner, "reason": "CHG-9", "expires": "2027-01-01"}] if waiver_owner else []
    rules = [{"name": "system", "match": {"owner": owner}, "expect": {"forbidden_flags": ["network"]}}]
    return load_policy({"version": 1, "rules": rules, "waivers": waivers})


SYSTEM_IN = {"en-US": "NT AUTHORITY\\SYSTEM", "fr-FR": "AUTORITE NT\\Système", "de-DE": "NT-AUTORITÄT\\SYSTEM"}


@pytest.mark.parametrize("language", sorted(SYSTEM_IN))
@pytest.mark.parametrize("written", ["NT AUTHORITY\\SYSTEM", "nt authority\\system", "SYSTEM", "LocalSystem"])
def test_a_rule_naming_system_in_english_selects_its_jobs_on_a_host_of_any_language(language: str, written: str) -> None:
    job = make_job(flags=3, owner=("S-1-5-18", SYSTEM_IN[language]))
    host = evaluate_host(_policy(written), "win01", make_result(job), today=TODAY)
    assert (host["status"], host["jobs"][0]["rule"], host["jobs"][0]["status"]) == ("noncompliant", "system", "violation")


def test_a_waiver_naming_system_in_english_exempts_its_jobs_on_a_french_host() -> None:
    job = make_job(flags=3, owner=("S-1-5-18", "AUTORITE NT\\Système"))
    host = evaluate_host(_policy("S-1-5-18", waiver_owner="nt authority\\SYSTEM"), "win01", make_result(job), today=TODAY)
    assert host["jobs"][0]["status"] == "waived" and host["status"] == "compliant"


def test_a_well_known_name_is_kept_as_written_in_the_normalised_policy() -> None:
    assert _policy("LocalSystem").to_dict()["rules"][0]["match"] == {"owner": ["LocalSystem"]}


def test_other_accounts_still_match_the_hosts_name_ignoring_case() -> None:
    job = make_job(flags=3, owner=("S-1-5-21-1-2-3-1013", "CORP\\Alice"))
    assert evaluate_host(_policy("corp\\ALICE"), "win01", make_result(job), today=TODAY)["jobs"][0]["rule"] == "system"


def test_an_unresolved_owner_name_leaves_a_rule_by_account_name_undecided() -> None:
    """The host's lookup of the owner's name timed out or failed: it may be the account named."""
    job = make_job(flags=3, owner=("S-1-5-21-7-7-7-3000", None))
    host = evaluate_host(_policy("CORP\\alice"), "win01", make_result(job), today=TODAY)
    [judged] = host["jobs"]
    assert (host["status"], judged["status"], judged["rule"]) == ("not_assessed", "unassessed", "system")
    assert "could not resolve the owner S-1-5-21-7-7-7-3000" in judged["problems"][0]
    assert "by SID" in judged["problems"][0]


def test_a_bare_name_that_is_not_well_known_is_still_refused() -> None:
    with pytest.raises(PolicyError, match=r"'Systeme' is neither a SID"):
        _policy("Systeme")
