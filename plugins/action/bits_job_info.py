# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of winbits.bits.bits_job_info: check the arguments, run the module once, explain.

As for bits_helper_token (plugin_utils/_modules/action.py): the task's arguments are validated and
normalised before the host is contacted, the module lists the jobs in one round trip, and the facts
it returns become the documented result (sorted, named, explained) and its warnings. The module only
reads, so check mode is a normal run.
"""
from __future__ import annotations

import typing as t

from ansible_collections.winbits.bits.plugins.plugin_utils._modules.job_info import (
    normalise_info_args,
)
from ansible_collections.winbits.bits.plugins.plugin_utils._modules.job_info import shape_info_result
from ansible_collections.winbits.bits.plugins.plugin_utils._modules.action import ModuleArgs, OneRunModuleAction

MODULE_NAME = "winbits.bits.bits_job_info"


class ActionModule(OneRunModuleAction):
    MODULE_NAME = MODULE_NAME

    def normalise(self, args: t.Mapping[str, object]) -> ModuleArgs:
        return normalise_info_args(args)

    def shape(self, raw: t.Mapping[str, object], module_args: t.Mapping[str, object]) -> dict[str, object]:
        return shape_info_result(raw, module_args)
