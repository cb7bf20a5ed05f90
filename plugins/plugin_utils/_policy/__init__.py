# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compliance policy of BITS helper-token settings: load it, judge hosts by it (docs/docsite/rst/guide_policy.rst).

The one place that both the report (bits_compliance_report) and enforcement (bits_policy's plan) use.
The work is split by concern; import from here:

- model: the loaded policy (rules, waivers, selectors) and PolicyError;
- load: reading and validating a policy file or mapping (``load_policy``);
- evaluate: judging bits_job_info results (``evaluate_host``, ``evaluate_fleet``);
- enforce: the fixes enforcement applies, from a host's assessment (``enforcement_plan``).

Internal to winbits.bits: not a public API, and it may change in any release. Controller-only code
(plugin_utils): it never runs on a Windows host.
"""
from __future__ import annotations

from .evaluate import FIX_MODULE, HOST_STATUSES, JOB_STATUSES, evaluate_fleet, evaluate_host
from .load import load_policy
from .model import Policy, PolicyError, Rule, SUPPORTED_VERSION, Waiver


__all__ = [
    "FIX_MODULE",
    "HOST_STATUSES",
    "JOB_STATUSES",
    "SUPPORTED_VERSION",
    "Policy",
    "PolicyError",
    "Rule",
    "Waiver",
    "evaluate_fleet",
    "evaluate_host",
    "load_policy",
]
