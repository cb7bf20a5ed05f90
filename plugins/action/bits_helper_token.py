# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of winbits.bits.bits_helper_token: check the arguments, run the module once, explain.

Policy lives here, mechanism on the host (docs/dev/design.md; plugin_utils/_modules/action.py): the
task's arguments are validated and normalised before the host is contacted, the module runs in one
round trip, and the facts it returns become the documented result, diff, warnings and error messages.
Check mode is the module's own: it reads and compares, and writes nothing.
"""
from __future__ import annotations

import typing as t

from ansible_collections.winbits.bits.plugins.plugin_utils._modules.helper_token import (
    normalise_task_args,
)
from ansible_collections.winbits.bits.plugins.plugin_utils._modules.helper_token import shape_result
from ansible_collections.winbits.bits.plugins.plugin_utils._modules.action import ModuleArgs, OneRunModuleAction

MODULE_NAME = "winbits.bits.bits_helper_token"


class ActionModule(OneRunModuleAction):
    MODULE_NAME = MODULE_NAME

    def normalise(self, args: t.Mapping[str, object]) -> ModuleArgs:
        return normalise_task_args(args)

    def shape(self, raw: t.Mapping[str, object], module_args: t.Mapping[str, object]) -> dict[str, object]:
        return shape_result(raw, module_args, check_mode=bool(self._task.check_mode), diff_mode=bool(self._task.diff))
