# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shape both module action plugins share: check the arguments, run the module once, explain.

Policy lives on the controller, mechanism on the host (docs/dev/design.md): the task's arguments
are validated and normalised before the host is contacted, the module runs in one round trip, and the
facts it returns become the documented result. Each action says how to normalise and how to shape.
"""
from __future__ import annotations

import abc
import dataclasses
import typing as t

from .._action import CollectionAction


@dataclasses.dataclass(frozen=True)
class ModuleArgs:
    """What an action's normaliser returns: the module arguments to send, and warnings about how the
    task's values were read."""

    module_args: dict[str, object]
    warnings: list[str]


def host_warnings(raw: t.Mapping[str, object]) -> list[object]:
    """The warnings the module itself returned (a list, or none)."""
    warnings = raw.get("warnings")
    return list(warnings) if isinstance(warnings, list) else []


class OneRunModuleAction(CollectionAction):
    """An action that runs its module exactly once, never on bad input."""

    MODULE_NAME = ""

    def message_prefix(self) -> str:
        """A failure names the module, as the task does: bits_helper_token, bits_job_info."""
        return self.MODULE_NAME.rsplit(".", 1)[-1]

    @abc.abstractmethod
    def normalise(self, args: t.Mapping[str, object]) -> ModuleArgs:
        """The module's arguments for the task's, or OptionError naming the option at fault."""

    @abc.abstractmethod
    def shape(self, raw: t.Mapping[str, object], module_args: t.Mapping[str, object]) -> dict[str, object]:
        """The documented result for the module's raw facts."""

    def work(self, task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        normalised = self.normalise(self._task.args)
        # _execute_module adds the _ansible_* keys to the dict it is given: hand it a copy, so that
        # the result is shaped from the arguments the task asked for.
        raw = self._execute_module(module_name=self.MODULE_NAME, module_args=dict(normalised.module_args),
                                   task_vars=task_vars)
        result = self.shape(raw, normalised.module_args)
        # How the task's values were read comes first, as Ansible shows its own argument warnings.
        if normalised.warnings:
            result["warnings"] = list(normalised.warnings) + list(result.get("warnings") or [])
        return result
