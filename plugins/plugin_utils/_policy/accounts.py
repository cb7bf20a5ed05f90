# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The well-known accounts a policy may name in English, and their fixed SIDs.

Windows localises the names of its well-known accounts and groups (``NT AUTHORITY\\SYSTEM`` is
``AUTORITE NT\\Système`` on a French host, ``NT-AUTORITÄT\\SYSTEM`` on a German one), but their SIDs are
the same on every Windows. A policy that names one of these accounts in English is therefore read as
its SID, and selects that account's jobs on a host of any language. Any other account name is matched
against the name the host reports, which only works on hosts that spell it the same way.

Only SIDs that are the same on every host are here (Microsoft's list of well-known SIDs): never a
domain- or machine-relative one such as the built-in Administrator account (``S-1-5-21-...-500``),
whose name is localised too but whose SID differs from host to host; a policy names those by SID.
"""
from __future__ import annotations


# SID -> the English account name as an English Windows reports it (domain\name, or the name alone
# for the accounts without a domain), then other English names Windows accepts for it.
WELL_KNOWN_ACCOUNTS: dict[str, tuple[str, ...]] = {
    "S-1-1-0": ("Everyone",),
    "S-1-5-1": ("NT AUTHORITY\\DIALUP",),
    "S-1-5-2": ("NT AUTHORITY\\NETWORK",),
    "S-1-5-3": ("NT AUTHORITY\\BATCH",),
    "S-1-5-4": ("NT AUTHORITY\\INTERACTIVE",),
    "S-1-5-6": ("NT AUTHORITY\\SERVICE",),
    "S-1-5-7": ("NT AUTHORITY\\ANONYMOUS LOGON",),
    "S-1-5-11": ("NT AUTHORITY\\Authenticated Users",),
    "S-1-5-17": ("NT AUTHORITY\\IUSR",),
    # The service control manager's names for the three service accounts are accepted too.
    "S-1-5-18": ("NT AUTHORITY\\SYSTEM", "LocalSystem", "Local System"),
    "S-1-5-19": ("NT AUTHORITY\\LOCAL SERVICE", "NT AUTHORITY\\LocalService", "LocalService"),
    "S-1-5-20": ("NT AUTHORITY\\NETWORK SERVICE", "NT AUTHORITY\\NetworkService", "NetworkService"),
    "S-1-5-32-544": ("BUILTIN\\Administrators",),
    "S-1-5-32-545": ("BUILTIN\\Users",),
    "S-1-5-32-546": ("BUILTIN\\Guests",),
    "S-1-5-32-547": ("BUILTIN\\Power Users",),
    "S-1-5-32-548": ("BUILTIN\\Account Operators",),
    "S-1-5-32-549": ("BUILTIN\\Server Operators",),
    "S-1-5-32-550": ("BUILTIN\\Print Operators",),
    "S-1-5-32-551": ("BUILTIN\\Backup Operators",),
    "S-1-5-32-552": ("BUILTIN\\Replicator",),
    "S-1-5-32-555": ("BUILTIN\\Remote Desktop Users",),
    "S-1-5-32-556": ("BUILTIN\\Network Configuration Operators",),
    "S-1-5-32-558": ("BUILTIN\\Performance Monitor Users",),
    "S-1-5-32-559": ("BUILTIN\\Performance Log Users",),
    "S-1-5-32-562": ("BUILTIN\\Distributed COM Users",),
    "S-1-5-32-568": ("BUILTIN\\IIS_IUSRS",),
    "S-1-5-32-569": ("BUILTIN\\Cryptographic Operators",),
    "S-1-5-32-573": ("BUILTIN\\Event Log Readers",),
    "S-1-5-32-578": ("BUILTIN\\Hyper-V Administrators",),
    "S-1-5-32-580": ("BUILTIN\\Remote Management Users",),
}


def _names_to_sids() -> dict[str, str]:
    """Every accepted spelling, casefolded: each name, and the part after the backslash on its own
    (``SYSTEM``, ``Administrators``), as Windows' own account lookup accepts a well-known name."""
    table: dict[str, str] = {}
    for sid, names in WELL_KNOWN_ACCOUNTS.items():
        for name in names:
            table[name.casefold()] = sid
            table[name.rpartition("\\")[2].casefold()] = sid
    return table


_SID_OF_NAME = _names_to_sids()


def well_known_sid(name: str) -> str | None:
    """The SID of a well-known account named in English, in any case (``nt authority\\system``,
    ``SYSTEM``, ``LocalSystem`` -> ``S-1-5-18``); None for any other name."""
    return _SID_OF_NAME.get(name.strip().casefold())
