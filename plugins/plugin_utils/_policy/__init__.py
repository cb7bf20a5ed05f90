# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compliance policy of BITS helper-token settings: load it, judge hosts by it (docs/policy.md).

The one place that both the report (bits_compliance_report) and enforcement use. The work is split
by concern; import from here:

- bits_policy_model: the loaded policy (rules, waivers, selectors) and PolicyError;
- bits_policy_load: reading and validating a policy file or mapping (``load_policy``);
- bits_policy_eval: judging bits_job_info results (``evaluate_host``, ``evaluate_fleet``).

Controller-only code (plugin_utils): it never runs on a Windows host.
"""
from __future__ import annotations

from ansible_collections.winbits.bits.plugins.plugin_utils.bits_policy_eval import (
    FIX_MODULE,
    HOST_STATUSES,
    JOB_STATUSES,
    evaluate_fleet,
    evaluate_host,
)
from ansible_collections.winbits.bits.plugins.plugin_utils.bits_policy_load import load_policy
from ansible_collections.winbits.bits.plugins.plugin_utils.bits_policy_model import (
    SUPPORTED_VERSION,
    Policy,
    PolicyError,
    Rule,
    Waiver,
)

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
