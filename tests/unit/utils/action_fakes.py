"""What the module actions' unit tests share: a stand-in for _execute_module and an action to test."""
from __future__ import annotations

import copy
import typing as t
from pathlib import Path
from unittest import mock


class FakeModule:
    """Stands in for ActionBase._execute_module: records each call, returns a canned raw result."""

    def __init__(self, raw: dict[str, object]) -> None:
        self.raw = raw
        self.calls: list[dict[str, object]] = []

    def __call__(self, **kwargs: object) -> dict[str, object]:
        # Ansible adds _ansible_* keys to module_args in place; record what we were given, then do that.
        self.calls.append(copy.deepcopy(kwargs))
        t.cast(dict, kwargs["module_args"])["_ansible_check_mode"] = False
        return copy.deepcopy(self.raw)


def action_with_fake_module(action_class: type, module: str, args: dict[str, object], raw: dict[str, object], *,
                            check_mode: bool = False, diff: bool = False) -> tuple[t.Any, FakeModule]:
    """An action of action_class for a task with these args, whose module run returns raw."""
    task = mock.MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = diff
    task.action = module
    action = action_class(task, mock.MagicMock(), mock.MagicMock(), loader=None, templar=None,
                          shared_loader_obj=None)
    fake = FakeModule(raw)
    action._execute_module = fake
    return action, fake


def run_controller_action(action_class: type, module: str, args: dict[str, t.Any], task_vars: dict[str, t.Any], *,
                          check_mode: bool = False, basedir: t.Any = None) -> dict[str, t.Any]:
    """Run a controller-only action (bits_policy, bits_compliance_report) for a task with these args.

    A relative path is taken from ``basedir``, as Ansible's loader takes it from the playbook's directory.
    """
    task = mock.MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    task.action = module
    loader = mock.MagicMock()
    loader.path_dwim.side_effect = lambda path: str(Path(basedir or "/nonexistent") / path)
    action = action_class(task, mock.MagicMock(), mock.MagicMock(), loader=loader, templar=None,
                          shared_loader_obj=None)
    return action.run(task_vars=task_vars)
