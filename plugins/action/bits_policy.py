# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of winbits.bits.bits_policy: check a policy, or plan its enforcement on one host.

Runs on the controller only; it never contacts a host and writes nothing. Modes:
- ``validate``: load and check the policy (both roles do this before any host is contacted);
- ``plan``: the registered bits_job_info result of the task's own host -> the bits_helper_token
  calls that enforce the policy there (the bits_enforce role loops over them), judged by the same
  evaluation as the report.
"""
from __future__ import annotations

import datetime
import typing as t
from collections import abc

from ansible_collections.winbits.bits.plugins.plugin_utils._action import OptionError
from ansible_collections.winbits.bits.plugins.plugin_utils._policy import Policy, evaluate_host
from ansible_collections.winbits.bits.plugins.plugin_utils._policy.action import (
    PolicyAction,
    parse_as_of,
    registered_result,
)
from ansible_collections.winbits.bits.plugins.plugin_utils._policy.enforce import (
    enforcement_plan,
    failure_message,
    plan_message,
    unfixable_warnings,
)

NAME = "bits_policy"
MODES = ("validate", "plan")
ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {
    "policy": {"type": "raw", "required": True},
    "mode": {"type": "str", "default": "validate", "choices": list(MODES)},
    "result_var": {"type": "str", "default": "bits_report_info"},
    "as_of": {"type": "str"},
}


class ActionModule(PolicyAction):
    NAME = NAME
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, options: dict[str, t.Any], task_vars: abc.Mapping[str, t.Any]) -> dict[str, t.Any]:
        today = parse_as_of(options["as_of"], datetime.date.today())
        policy = self.policy(options["policy"])
        if options["mode"] == "plan":
            return self._plan(policy, task_vars, options["result_var"], today)
        return {"policy": {"version": policy.version, "digest": policy.digest,
                           "rules": [rule.name for rule in policy.rules]},
                "msg": f"the policy is valid: {len(policy.rules)} rules, {len(policy.waivers)} waivers"}

    @staticmethod
    def _plan(policy: Policy, task_vars: abc.Mapping[str, t.Any], result_var: str,
              today: datetime.date) -> dict[str, t.Any]:
        """The fixes for this host, judged by the same evaluation as the report; nothing is written."""
        host = task_vars.get("inventory_hostname")
        if not isinstance(host, str) or not host:
            raise OptionError("mode=plan: the task has no inventory_hostname to plan for")
        result = registered_result(task_vars.get("hostvars") or {}, host, result_var)
        plan = enforcement_plan(evaluate_host(policy, host, result, today=today))
        outcome: dict[str, t.Any] = {**plan, "as_of": today.isoformat(), "failure": failure_message(plan),
                                     "msg": plan_message(plan)}
        warnings = unfixable_warnings(plan)
        if warnings:
            outcome["warnings"] = warnings
        return outcome
