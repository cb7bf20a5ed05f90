# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shape both module action plugins share: check the arguments, run the module once, explain.

Policy lives on the controller, mechanism on the host (DESIGN.md section 1): the task's arguments
are validated and normalised before the host is contacted, the module runs in one round trip, and the
facts it returns become the documented result. Each action says how to normalise and how to shape.

Controller-only code (plugin_utils): it never runs on a Windows host.
"""
from __future__ import annotations

import abc
import typing as t

from ansible.plugins.action import ActionBase


class NormalisedArgs(t.Protocol):
    """What an action's normaliser returns: the module's arguments and how the task's values were read."""
    module_args: t.Mapping[str, object]
    warnings: t.Sequence[str]


class OneRunModuleAction(ActionBase):
    """An action that runs its module exactly once, never on bad input (ActionBase is an ABC already)."""

    # Async is refused by ActionBase: an async job id carries none of the facts a result is shaped from.
    _supports_check_mode = True
    _supports_async = False
    MODULE_NAME = ""
    # The exception the normaliser raises for bad input; its message names the option.
    ARGUMENT_ERROR: type[Exception] = ValueError

    @abc.abstractmethod
    def normalise(self, args: t.Mapping[str, object]) -> NormalisedArgs:
        """The module's arguments for the task's, or ARGUMENT_ERROR naming the option at fault."""

    @abc.abstractmethod
    def shape(self, raw: t.Mapping[str, object], module_args: t.Mapping[str, object]) -> dict[str, object]:
        """The documented result for the module's raw facts."""

    def run(
        self,
        tmp: str | None = None,
        task_vars: dict[str, t.Any] | None = None,
    ) -> dict[str, t.Any]:
        if task_vars is None:
            task_vars = {}
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect
        short_name = self.MODULE_NAME.rsplit(".", 1)[-1]
        try:
            normalised = self.normalise(self._task.args)
        except self.ARGUMENT_ERROR as error:
            result.update(failed=True, changed=False, msg="%s: %s" % (short_name, error))
            return result
        # _execute_module adds the _ansible_* keys to the dict it is given: hand it a copy, so that
        # the result is shaped from the arguments the task asked for.
        raw = self._execute_module(module_name=self.MODULE_NAME, module_args=dict(normalised.module_args),
                                   task_vars=task_vars)
        result.update(self.shape(raw, normalised.module_args))
        # How the task's values were read comes first, as Ansible shows its own argument warnings.
        if normalised.warnings:
            result["warnings"] = list(normalised.warnings) + list(result.get("warnings") or [])
        return result
