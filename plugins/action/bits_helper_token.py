# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of winbits.bits.bits_helper_token: check the arguments, run the module once, explain.

Policy lives here, mechanism on the host (DESIGN.md section 1): the task's arguments are validated
and normalised before the host is contacted, the module runs in one round trip, and the facts it
returns become the documented result, diff, warnings and error messages.
"""
from __future__ import annotations

import typing as t

from ansible.plugins.action import ActionBase

from ansible_collections.winbits.bits.plugins.plugin_utils.helper_token_args import (
    TaskArgumentError,
    normalise_task_args,
)
from ansible_collections.winbits.bits.plugins.plugin_utils.helper_token_result import shape_result

MODULE_NAME = "winbits.bits.bits_helper_token"


class ActionModule(ActionBase):
    # Check mode is the module's own (it reads and compares, writes nothing). Async is refused by
    # ActionBase: an async job id carries none of the facts the result is shaped from.
    _supports_check_mode = True
    _supports_async = False

    def run(
        self,
        tmp: str | None = None,
        task_vars: dict[str, t.Any] | None = None,
    ) -> dict[str, t.Any]:
        if task_vars is None:
            task_vars = {}
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect

        try:
            normalised = normalise_task_args(self._task.args)
        except TaskArgumentError as error:
            result.update(failed=True, changed=False, msg="bits_helper_token: %s" % error)
            return result

        # _execute_module adds the _ansible_* keys to the dict it is given: hand it a copy, so that
        # the result is shaped from the arguments the task asked for.
        raw = self._execute_module(
            module_name=MODULE_NAME,
            module_args=dict(normalised.module_args),
            task_vars=task_vars,
        )
        result.update(
            shape_result(
                raw,
                normalised.module_args,
                check_mode=bool(self._task.check_mode),
                diff_mode=bool(self._task.diff),
            )
        )
        # How the task's values were read comes first, as Ansible shows its own argument warnings.
        if normalised.warnings:
            result["warnings"] = list(normalised.warnings) + list(result.get("warnings") or [])
        return result
