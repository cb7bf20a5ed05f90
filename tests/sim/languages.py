"""The display languages a simulated host can have, and the names its LSA gives the well-known accounts.

Windows localises the names of its well-known accounts and groups (the SIDs stay the same): SYSTEM is
``NT AUTHORITY\\SYSTEM`` on an English host, ``AUTORITE NT\\Système`` on a French one and
``NT-AUTORITÄT\\SYSTEM`` on a German one. A host's ``language`` (tests/sim/README.md) picks the table its
account lookups answer with, and the UI culture its module runs under (which LANGID the job-error
descriptions are asked in first).
"""
from __future__ import annotations

DEFAULT_LANGUAGE = "en-US"

# SID -> the account name as LookupAccountSid gives it, per display language.
WELL_KNOWN_NAMES: dict[str, dict[str, str]] = {
    "en-US": {
        "S-1-1-0": "Everyone",
        "S-1-5-4": "NT AUTHORITY\\INTERACTIVE",
        "S-1-5-6": "NT AUTHORITY\\SERVICE",
        "S-1-5-11": "NT AUTHORITY\\Authenticated Users",
        "S-1-5-18": "NT AUTHORITY\\SYSTEM",
        "S-1-5-19": "NT AUTHORITY\\LOCAL SERVICE",
        "S-1-5-20": "NT AUTHORITY\\NETWORK SERVICE",
        "S-1-5-32-544": "BUILTIN\\Administrators",
        "S-1-5-32-545": "BUILTIN\\Users",
        "S-1-5-32-546": "BUILTIN\\Guests",
        "S-1-5-32-551": "BUILTIN\\Backup Operators",
        "S-1-5-32-555": "BUILTIN\\Remote Desktop Users",
    },
    "fr-FR": {
        "S-1-1-0": "Tout le monde",
        "S-1-5-4": "AUTORITE NT\\INTERACTIF",
        "S-1-5-6": "AUTORITE NT\\SERVICE",
        "S-1-5-11": "AUTORITE NT\\Utilisateurs authentifiés",
        "S-1-5-18": "AUTORITE NT\\Système",
        "S-1-5-19": "AUTORITE NT\\SERVICE LOCAL",
        "S-1-5-20": "AUTORITE NT\\SERVICE RÉSEAU",
        "S-1-5-32-544": "BUILTIN\\Administrateurs",
        "S-1-5-32-545": "BUILTIN\\Utilisateurs",
        "S-1-5-32-546": "BUILTIN\\Invités",
        "S-1-5-32-551": "BUILTIN\\Opérateurs de sauvegarde",
        "S-1-5-32-555": "BUILTIN\\Utilisateurs du Bureau à distance",
    },
    "de-DE": {
        "S-1-1-0": "Jeder",
        "S-1-5-4": "NT-AUTORITÄT\\INTERAKTIV",
        "S-1-5-6": "NT-AUTORITÄT\\DIENST",
        "S-1-5-11": "NT-AUTORITÄT\\Authentifizierte Benutzer",
        "S-1-5-18": "NT-AUTORITÄT\\SYSTEM",
        "S-1-5-19": "NT-AUTORITÄT\\LOKALER DIENST",
        "S-1-5-20": "NT-AUTORITÄT\\NETZWERKDIENST",
        "S-1-5-32-544": "VORDEFINIERT\\Administratoren",
        "S-1-5-32-545": "VORDEFINIERT\\Benutzer",
        "S-1-5-32-546": "VORDEFINIERT\\Gäste",
        "S-1-5-32-551": "VORDEFINIERT\\Sicherungs-Operatoren",
        "S-1-5-32-555": "VORDEFINIERT\\Remotedesktopbenutzer",
    },
}
LANGUAGES = tuple(WELL_KNOWN_NAMES)
# The LANGID of each language: what GetErrorDescription is asked for.
LANGIDS = {"en-US": 0x0409, "fr-FR": 0x040C, "de-DE": 0x0407}


def well_known_names(language: str) -> dict[str, str]:
    """The well-known accounts' names on a host of this language (one of LANGUAGES)."""
    return dict(WELL_KNOWN_NAMES[canonical_language(language)])


def canonical_language(language: object) -> str:
    """``fr-fr`` -> ``fr-FR``; ValueError naming the languages the simulator has for anything else."""
    for known in LANGUAGES:
        if str(language).lower() == known.lower():
            return known
    raise ValueError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")


def message_langids(languages: object) -> list[int]:
    """LANGIDs of the languages a host's BITS has message resources for (a list of language names)."""
    if not isinstance(languages, (list, tuple)):
        raise ValueError(f"message_languages must be a list of languages ({', '.join(LANGUAGES)}), not {languages!r}")
    return sorted({LANGIDS[canonical_language(language)] for language in languages})
