# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HRESULTs the collection names, and the shape of every explanation: what failed, why, the fix.

The values are those of the Windows SDK headers (winerror.h, bitsmsg.h); the unit tests check them against
the mingw-w64 headers where those have them.
"""
from __future__ import annotations

import dataclasses
import typing as t


BG_E_NOT_FOUND = 0x80200001
BG_E_INVALID_STATE = 0x80200002
E_ACCESSDENIED = 0x80070005
E_NOINTERFACE = 0x80004002
ERROR_NOT_LOGGED_ON = 0x800704DD
ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY = 0x80072F9A
ERROR_SERVICE_DISABLED = 0x80070422
# SetHelperToken without a proxy blanket that lets BITS impersonate the caller with dynamic cloaking.
CO_E_FAILEDTOIMPERSONATE = 0x80010123
# HRESULT_FROM_WIN32(RPC_X_BAD_STUB_DATA): what GetClientCertificate answers both for "no certificate"
# and for "you may not see it" (Microsoft's docs of IBackgroundCopyJobHttpOptions::GetClientCertificate).
RPC_X_BAD_STUB_DATA = 0x800706F7

# Job errors (IBackgroundCopyJob::GetError) that bits_job_info reports; values from the SDK's
# bitsmsg.h (tests/unit/plugins/plugin_utils/test_bits_errors.py checks them against it).
BG_E_DESTINATION_LOCKED = 0x8020000D
BG_E_NETWORK_DISCONNECTED = 0x80200010
BG_E_TIMEOUT = 0x8020003B
BG_E_HTTP_ERROR_401 = 0x80190191
BG_E_HTTP_ERROR_403 = 0x80190193
BG_E_HTTP_ERROR_404 = 0x80190194
BG_E_HTTP_ERROR_407 = 0x80190197
# Not in mingw-w64's bitsmsg.h, which stops before the BITS 4.0 codes: the value is the Windows
# SDK's (win32metadata's Windows.Win32.Networking.BackgroundIntelligentTransferService
# has BG_E_TOKEN_REQUIRED = -2145386410, i.e. 0x80200056).
BG_E_TOKEN_REQUIRED = 0x80200056

LOCAL_SYSTEM_SID = "S-1-5-18"
# Windows 10 1607: from this build on a non-administrator may set flags on a job it owns.
FIRST_BUILD_FOR_OWNERS = 14393

HRESULT_NAMES: dict[int, str] = {
    BG_E_NOT_FOUND: "BG_E_NOT_FOUND",
    BG_E_INVALID_STATE: "BG_E_INVALID_STATE",
    E_ACCESSDENIED: "E_ACCESSDENIED",
    E_NOINTERFACE: "E_NOINTERFACE",
    ERROR_NOT_LOGGED_ON: "ERROR_NOT_LOGGED_ON",
    ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY: "ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY",
    ERROR_SERVICE_DISABLED: "ERROR_SERVICE_DISABLED",
    RPC_X_BAD_STUB_DATA: "RPC_X_BAD_STUB_DATA",
    CO_E_FAILEDTOIMPERSONATE: "CO_E_FAILEDTOIMPERSONATE",
}


@dataclasses.dataclass(frozen=True)
class Explanation:
    """What happened, why, and what the user can do about it."""

    what: str
    cause: str
    fix: str


def hresult_of(error: t.Mapping[str, object]) -> int | None:
    """The HRESULT as an unsigned 32-bit number, from ``hresult`` or else ``hresult_hex``."""
    value = error.get("hresult")
    if isinstance(value, int) and not isinstance(value, bool):
        return value & 0xFFFFFFFF
    text = error.get("hresult_hex")
    if isinstance(text, str):
        try:
            return int(text, 16) & 0xFFFFFFFF
        except ValueError:
            return None
    return None


def hresult_text(hresult: int) -> str:
    """``0x80070005 (E_ACCESSDENIED)``, or the bare hex for codes without a name here."""
    name = HRESULT_NAMES.get(hresult)
    return "0x%08X (%s)" % (hresult, name) if name else "0x%08X" % hresult


def sentence(explanation: Explanation) -> str:
    """One message: what. Cause: why. Fix: what to do."""
    return "%s. Cause: %s. Fix: %s." % (explanation.what, explanation.cause, explanation.fix)
