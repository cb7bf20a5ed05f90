# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the two controller-only actions that take a policy share (bits_policy, bits_compliance_report):
their options, the policy option, and the hosts' registered bits_job_info results from hostvars.

Each declares its options to Ansible's ArgumentSpecValidator and does its work in ``work``; this class
runs it, turns an OptionError into a failed result whose message names the option, and reads the
``policy`` and ``as_of`` options the same way for both. They never contact a host.
"""
from __future__ import annotations

import abc
import datetime
import os
import re
import typing as t
from collections import abc as cabc
from pathlib import Path

from ansible.errors import AnsibleError

from .._action import CollectionAction, OptionError, declared_options
from .load import load_policy, size_problem
from .model import Policy, PolicyError


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def parse_as_of(value: str | None, today: datetime.date) -> datetime.date:
    """The ``as_of`` option as a date (today when left out), or OptionError."""
    if value is None:
        return today
    try:
        if not _DATE.fullmatch(value):
            raise ValueError("not YYYY-MM-DD")
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise OptionError(f"as_of: {value!r} is not a date; expected YYYY-MM-DD, e.g. 2026-11-21") from None


def plain(value: object) -> t.Any:
    """A copy made of plain JSON types only (Ansible may hand over tagged or lazy containers)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, cabc.Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(item) for item in value]
    return str(value)


def registered_result(hostvars: cabc.Mapping[str, t.Any], host: str, var: str) -> dict[str, t.Any] | None:
    """``hostvars[host][var]`` as a plain dict; None when the host has no such result at all."""
    if host not in hostvars:
        return None
    host_vars = hostvars[host]
    try:
        value = host_vars[var] if var in host_vars else None
    except KeyError:
        return None
    return plain(value) if isinstance(value, cabc.Mapping) else None


def collect_results(hostvars: cabc.Mapping[str, t.Any], hosts: t.Iterable[str], var: str) -> dict[str, dict[str, t.Any] | None]:
    return {str(host): registered_result(hostvars, str(host), var) for host in hosts}


class PolicyAction(CollectionAction, metaclass=abc.ABCMeta):
    """A controller-only action with declared options and a ``policy`` option."""

    TRANSFERS_FILES = False
    ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {}
    REQUIRED_IF: list[tuple[str, str, tuple[str, ...]]] = []

    @abc.abstractmethod
    def act(self, options: dict[str, t.Any], task_vars: cabc.Mapping[str, t.Any]) -> dict[str, t.Any]:
        """The action's result for validated options; OptionError for an option that cannot be used."""

    policy_warnings: tuple[str, ...] = ()

    def work(self, task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        options = declared_options(self.ARGUMENT_SPEC, self._task.args, self.REQUIRED_IF)
        outcome = {"changed": False, **self.act(options, task_vars)}
        if self.policy_warnings:
            # Ansible shows a result's warnings to the user; the policy's come first.
            outcome["warnings"] = ["policy " + warning for warning in self.policy_warnings] + list(
                outcome.get("warnings") or [])
        return outcome

    def local_path(self, value: str) -> Path:
        """A controller path; a relative one is taken from the playbook's directory, as fetch does."""
        return Path(value if os.path.isabs(value) else self._loader.path_dwim(value))

    def policy(self, value: object) -> Policy:
        """The ``policy`` option, a file path or a mapping, loaded and checked."""
        if isinstance(value, cabc.Mapping):
            # Bounded before plain() copies it (it recurses, and would expand shared references).
            problem = size_problem(value)
            if problem is not None:
                raise OptionError(f"policy is not valid (1 problem): policy: {problem}")
            return self._load_policy(plain(value), "policy")
        if not isinstance(value, str) or not value.strip():
            raise OptionError(f"policy: expected the path of a policy file or the policy as a mapping, "
                              f"not {type(value).__name__}")
        try:
            path = value if os.path.isabs(value) else self._find_needle("files", value)
        except AnsibleError:
            raise OptionError(f"policy: file not found: {value} (looked in the role's files/ and the playbook's "
                              f"directory)") from None
        if not os.path.isfile(path):
            raise OptionError(f"policy: file not found: {path}")
        return self._load_policy(path, f"policy {path}")

    def _load_policy(self, source: t.Any, label: str) -> Policy:
        """load_policy, with every problem of a bad policy in the message, each with its path."""
        try:
            policy = load_policy(source)
        except PolicyError as error:
            problems = list(getattr(error, "problems", None) or [str(error)])
            count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
            raise OptionError(f"{label} is not valid ({count}): " + "; ".join(problems)) from None
        except OSError as error:
            raise OptionError(f"{label}: cannot be read: {error}") from None
        self.policy_warnings = policy.warnings
        return policy
