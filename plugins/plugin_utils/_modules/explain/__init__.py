# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn the facts a host reports about a failure into a message: what failed, why, and what to do.

Split at its seams: hresults (the codes and the shape of an explanation), call_failures (a failed
call of bits_helper_token, and the rules every explanation shares), info_failures (bits_job_info's
failed task, or a job it could not fully read) and job_errors (the error a BITS job is in).

Internal to winbits.bits: not a public API, and it may change in any release. Controller-only code
(plugin_utils): it never runs on a Windows host.
"""
from __future__ import annotations

from .call_failures import FailureFacts, desired_helper_token, explain_failure, failure_facts
from .hresults import (
    BG_E_TOKEN_REQUIRED,
    ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY,
    LOCAL_SYSTEM_SID,
    Explanation,
    hresult_of,
    hresult_text,
)
from .info_failures import explain_info_failure, explain_read_error
from .job_errors import JobErrorFacts, explain_job_error, job_error_name

__all__ = [
    "BG_E_TOKEN_REQUIRED",
    "ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY",
    "LOCAL_SYSTEM_SID",
    "Explanation",
    "FailureFacts",
    "JobErrorFacts",
    "desired_helper_token",
    "explain_failure",
    "explain_info_failure",
    "explain_job_error",
    "explain_read_error",
    "failure_facts",
    "hresult_of",
    "hresult_text",
    "job_error_name",
]
