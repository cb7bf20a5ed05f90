# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn the task's arguments into the module arguments of docs/host-contract.md, or refuse them.

Everything here happens before the host is contacted, so a bad task costs no round trip.
"""
from __future__ import annotations

import dataclasses
import typing as t

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.winbits.bits.plugins.plugin_utils.helper_token_flags import (
    FlagsError,
    canonical_names,
    parse_flags,
)
from ansible_collections.winbits.bits.plugins.plugin_utils.job_reference import (
    JobReferenceError,
    normalise_job,
)

BOOLEAN_OPTIONS: tuple[str, ...] = ("all_matches", "all_users", "force")
# What to do with the job's helper token itself: leave it, clear it, or set it to the caller's token.
HELPER_TOKEN_CHOICES: tuple[str, ...] = ("keep", "absent", "caller")
HELPER_TOKEN_DEFAULT = "keep"
ALLOWED_OPTIONS: tuple[str, ...] = ("job", "flags", "helper_token") + BOOLEAN_OPTIONS


class TaskArgumentError(ValueError):
    """The task's arguments cannot be sent to the host; the message names the parameter."""


@dataclasses.dataclass(frozen=True)
class TaskArgs:
    """The module arguments to send, and warnings about how the task's values were read."""

    module_args: dict[str, object]
    warnings: list[str]


def normalise_task_args(args: t.Mapping[str, object]) -> TaskArgs:
    """Return the module arguments: job as given (checked; a number made a string), flags as sorted
    canonical names (left out when the task leaves it out), helper_token in lower case (always sent,
    ``keep`` when left out), and the three booleans as real booleans."""
    _reject_unknown_options(args)
    if args.get("job") is None:
        raise TaskArgumentError("missing required argument: job (a BITS job display name or GUID)")
    warnings: list[str] = []
    try:
        module_args: dict[str, object] = {"job": normalise_job(args["job"], warnings)}
        desired = parse_flags(args.get("flags"))
    except (JobReferenceError, FlagsError) as error:
        raise TaskArgumentError(str(error)) from None
    if desired is not None:
        module_args["flags"] = canonical_names(desired)
    module_args["helper_token"] = _helper_token_option(args.get("helper_token"))
    for name in BOOLEAN_OPTIONS:
        module_args[name] = _boolean_option(name, args.get(name))
    return TaskArgs(module_args=module_args, warnings=warnings)


def _reject_unknown_options(args: t.Mapping[str, object]) -> None:
    unknown = sorted(str(name) for name in args if name not in ALLOWED_OPTIONS)
    if unknown:
        raise TaskArgumentError(
            "unsupported parameter%s: %s; supported: %s"
            % ("s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(sorted(ALLOWED_OPTIONS)))
        )


def _boolean_option(name: str, value: object) -> bool:
    if value is None:
        return False  # the documented default
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise TaskArgumentError(
            "%s must be a boolean (true/false, yes/no, on/off, 1/0), not %r" % (name, value)
        ) from None


def _helper_token_option(value: object) -> str:
    """``keep``, ``absent`` or ``caller``, from any case; anything else names the option and the choices."""
    if value is None:
        return HELPER_TOKEN_DEFAULT
    if isinstance(value, str) and value.strip().lower() in HELPER_TOKEN_CHOICES:
        return value.strip().lower()
    shown = "%s %r" % (type(value).__name__, value) if not isinstance(value, str) else repr(value)
    raise TaskArgumentError(
        "helper_token must be one of %s (keep leaves the job's helper token as it is, absent clears it, caller "
        "sets it to the token of the user the module runs as), not %s" % (", ".join(HELPER_TOKEN_CHOICES), shown)
    )
