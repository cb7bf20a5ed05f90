# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every action of the collection shares: declared options, and a run() that refuses bad input.

Every action declares its options to Ansible's ArgumentSpecValidator, so that an option it does not
know is refused the same way everywhere, and an option it cannot use fails the task, before any host
is contacted, with a message that starts with the action's name and then the option's.

Internal to winbits.bits: not a public API, and it may change in any release. Controller-only code
(plugin_utils): it never runs on a Windows host.
"""
from __future__ import annotations

import abc
import typing as t

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

BOOLEAN_FORMS = "true/false, yes/no, on/off, 1/0"


class OptionError(ValueError):
    """A task option that cannot be used; the message names the option and what is allowed."""


def declared_options(
    spec: t.Mapping[str, t.Mapping[str, t.Any]],
    args: t.Mapping[str, object],
    required_if: t.Sequence[tuple[str, str, tuple[str, ...]]] = (),
) -> dict[str, t.Any]:
    """The task's options checked against ``spec`` by Ansible's own validator, or OptionError.

    An undeclared option is named with every supported one (Ansible's wording leaves out what it is);
    every other problem is Ansible's message.
    """
    validated = ArgumentSpecValidator(dict(spec), required_if=list(required_if)).validate(dict(args))
    messages = []
    for error in validated.errors:
        if isinstance(error, UnsupportedError):
            unknown = sorted(str(name) for name in validated.unsupported_parameters)
            messages.append("unsupported parameter%s: %s; supported: %s"
                            % ("s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(sorted(spec))))
        else:
            messages.append(str(error.msg))
    if messages:
        raise OptionError("; ".join(messages))
    return validated.validated_parameters


def boolean_option(name: str, value: object, default: bool) -> bool:
    """A boolean option in any of Ansible's forms (``default`` when left out), or OptionError naming it."""
    if value is None:
        return default
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise OptionError("%s must be a boolean (%s), not %r" % (name, BOOLEAN_FORMS, value)) from None


class CollectionAction(ActionBase, metaclass=abc.ABCMeta):
    """run(): the action's work, or a failed result whose message names the action and the bad option."""

    # Async is refused by ActionBase: an async job id carries none of the facts a result is shaped from.
    _supports_check_mode = True
    _supports_async = False
    NAME = ""

    def message_prefix(self) -> str:
        """What a failure's message starts with: the action's name."""
        return self.NAME

    @abc.abstractmethod
    def work(self, task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        """The task's result; OptionError for an option that cannot be used."""

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
            outcome = self.work(task_vars)
        except OptionError as error:
            result.update(failed=True, changed=False, msg="%s: %s" % (self.message_prefix(), error))
            return result
        result.update(outcome)
        return result
