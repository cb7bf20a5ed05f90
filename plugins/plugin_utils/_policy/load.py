# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read and validate a compliance policy file (docs/docsite/rst/guide_policy.rst) into a bits_policy_model.Policy.

Every problem is collected, each named by its path in the file (``rules[2].expect.flags[0]``), and
raised together in one PolicyError, so that a user fixes a policy in one pass and no host is
contacted with a policy that cannot be applied.
"""
from __future__ import annotations

import datetime
import difflib
import os
import re
import typing as t
from collections import abc

import yaml

from .._flags import ALLOWED_HINT, FlagsError, canonical_names, parse_flags
from .._jobs import GUID_FORM, bare_guid, describe_guid_problem, is_guid, looks_like_guid
from .accounts import well_known_sid
from .model import (
    Expect,
    HELPER_TOKEN_STATES,
    HostSelector,
    JobSelector,
    OwnerSelector,
    Policy,
    PolicyError,
    Rule,
    SUPPORTED_VERSION,
    Selection,
    Waiver,
    compile_globs,
)


TOP_KEYS = ("version", "rules", "waivers")
RULE_KEYS = ("name", "description", "match", "expect")
MATCH_KEYS = ("job", "owner", "hosts")
EXPECT_KEYS = ("flags", "allowed_flags", "forbidden_flags", "helper_token")
FLAG_KEYS = ("flags", "allowed_flags", "forbidden_flags")
WAIVER_KEYS = ("rule", "hosts", "job", "owner", "reason", "expires")

# A policy is a short, hand-written file; these bounds keep a hostile or mistaken one from exhausting
# the controller (an alias bomb, thousands of nesting levels, a number too long to convert).
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_NODES = 20_000
MAX_NUMBER_LENGTH = 32

FLAGS_HINT = "allowed: local_file, network (any case, BG_TOKEN_ prefix optional) or a number 0-3 (3, 0x0003)"
_SID = re.compile(r"S-1(-[0-9]+)+", re.ASCII | re.IGNORECASE)
_ACCOUNT = re.compile(r"[^\\]*[^\\\s][^\\]*\\[^\\]*[^\\\s][^\\]*")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


class Problems:
    """The problems found so far, each ``<path>: <message>``, in the order of the file."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append("%s: %s" % (path, message))


def load_policy(source: object) -> Policy:
    """Load a policy from a YAML file (a path) or a mapping; raise PolicyError listing every problem."""
    if isinstance(source, abc.Mapping):
        problem = size_problem(source)
        if problem is not None:
            raise PolicyError(["policy: " + problem], "the policy")
        return validate_policy(source, label="the policy")
    if isinstance(source, (str, os.PathLike)):
        data, problems = read_policy_file(source)
        return validate_policy(data, label="policy file %s" % os.fspath(source), problems=problems)
    raise PolicyError(["policy: a %s is neither the path of a policy file nor a mapping" % type(source).__name__])


def read_policy_file(path: str | os.PathLike[str]) -> tuple[object, Problems]:
    """The YAML document of the file, and the problems the YAML itself has (duplicate keys).

    A file that cannot be read or parsed raises PolicyError at once: there is nothing to validate.
    """
    shown = os.fspath(path)
    label = "policy file %s" % shown
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read(MAX_FILE_BYTES + 1)
            if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8")) > MAX_FILE_BYTES:
                raise PolicyError(["%s: the policy file is larger than %d bytes (1 MiB), the most a policy may be"
                                   % (shown, MAX_FILE_BYTES)], label)
    except OSError as exc:
        raise PolicyError(["%s: cannot read the policy file: %s" % (shown, exc.strerror or exc)], label) from None
    except UnicodeDecodeError as exc:
        raise PolicyError(["%s: the policy file is not UTF-8 text (%s)" % (shown, exc.reason)], label) from None
    loader = _PolicyLoader(text)
    try:
        data = loader.get_single_data()
    except _LimitError as exc:
        raise PolicyError(["%s: %s" % (shown, exc)], label) from None
    except yaml.MarkedYAMLError as exc:
        raise PolicyError(["%s: %s" % (shown, describe_yaml_error(exc))], label) from None
    except yaml.YAMLError as exc:
        raise PolicyError(["%s: YAML error: %s" % (shown, exc)], label) from None
    finally:
        loader.dispose()
    return data, loader.problems


def describe_yaml_error(exc: yaml.MarkedYAMLError) -> str:
    """``line 4, column 9: YAML syntax error: ...`` with the 1-based position of the problem."""
    mark = exc.problem_mark or exc.context_mark
    where = "line %d, column %d: " % (mark.line + 1, mark.column + 1) if mark else ""
    what = exc.problem or "invalid YAML"
    if exc.context:
        context_line = " (%s on line %d)" % (exc.context, exc.context_mark.line + 1) if exc.context_mark else ""
        what = "%s%s" % (what, context_line)
    return "%sYAML syntax error: %s" % (where, what)


class _LimitError(ValueError):
    """A policy file beyond the bounds a policy may have; the message starts with its line and column."""


def _position(mark: yaml.Mark | None) -> str:
    return "line %d, column %d" % (mark.line + 1, mark.column + 1) if mark is not None else "somewhere"


class _PolicyLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """safe_load with differences: dates stay text (validated here, with a path), duplicate keys are
    problems, and the bounds of a policy are enforced while the file is read.

    PyYAML would turn ``2027-02-30`` into an exception without a path, and keep the last of two
    equal keys silently. It would also expand aliases (a few lines can stand for billions of nodes),
    recurse once per nesting level (10,000 levels raise RecursionError) and convert a number of any
    length; a policy needs none of that, so aliases are refused and depth and numbers are bounded.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.problems = Problems()
        self.depth = 0
        self.nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _LimitError("%s: YAML aliases (*%s) are not allowed in a policy; write the value out"
                              % (_position(event.start_mark), event.anchor))
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _LimitError("%s: the policy has more than %d YAML nodes, the most a policy may have"
                              % (_position(self.peek_event().start_mark), MAX_NODES))
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _LimitError("%s: nested more than %d levels deep, the most a policy may be"
                                  % (_position(self.peek_event().start_mark), MAX_DEPTH))
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self.depth -= 1

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        _check_number_length(node)
        return super().construct_yaml_int(node)  # type: ignore[no-any-return]

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        _check_number_length(node)
        return super().construct_yaml_float(node)  # type: ignore[no-any-return]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[t.Any, t.Any]:
        first_lines: dict[object, int] = {}
        for key_node, _value in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            line = key_node.start_mark.line + 1
            if key_node.value in first_lines:
                self.problems.add("line %d" % line, "key %r appears again (first on line %d); a key may appear only once"
                                  % (key_node.value, first_lines[key_node.value]))
            else:
                first_lines[key_node.value] = line
        return super().construct_mapping(node, deep=deep)


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


_PolicyLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)
_PolicyLoader.add_constructor("tag:yaml.org,2002:int", _PolicyLoader.construct_yaml_int)
_PolicyLoader.add_constructor("tag:yaml.org,2002:float", _PolicyLoader.construct_yaml_float)


def _check_number_length(node: yaml.ScalarNode) -> None:
    if len(node.value) > MAX_NUMBER_LENGTH:
        raise _LimitError("%s: a number of %d characters; a policy's numbers have at most %d"
                          % (_position(node.start_mark), len(node.value), MAX_NUMBER_LENGTH))


def size_problem(data: object) -> str | None:
    """Why a policy given as data (not read by our loader) is beyond a policy's bounds, or None.

    Walked without recursion and counting every node as often as it is reached, so that shared
    references (YAML aliases that another loader kept) count at their expanded size.
    """
    stack: list[tuple[object, int]] = [(data, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            return "has more than %d values, the most a policy may have" % MAX_NODES
        if depth > MAX_DEPTH:
            return "is nested more than %d levels deep, the most a policy may be" % MAX_DEPTH
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * MAX_NUMBER_LENGTH:
            return "holds a number of more than %d digits" % MAX_NUMBER_LENGTH
        if isinstance(value, abc.Mapping):
            stack.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, (list, tuple)):
            stack.extend((item, depth + 1) for item in value)
    return None


def validate_policy(data: object, *, label: str, problems: Problems | None = None) -> Policy:
    """Check a policy document; the Policy, or PolicyError listing every problem."""
    problems = problems or Problems()
    if not isinstance(data, abc.Mapping):
        shown = "is empty" if data is None else "is %s" % _kind(data)
        problems.add("policy", "%s; a policy is a mapping with the keys %s" % (shown, ", ".join(TOP_KEYS)))
        raise PolicyError(problems.items, label)
    check_keys(data, "", TOP_KEYS, "the policy", problems)
    version = check_version(data, problems)
    rules, rule_names = check_rules(data.get("rules"), problems)
    waivers = check_waivers(data.get("waivers"), rule_names, problems)
    if problems.items:
        raise PolicyError(problems.items, label)
    return Policy(version=version, rules=tuple(rules), waivers=tuple(waivers), warnings=waiver_warnings(waivers))


def waiver_warnings(waivers: t.Iterable[Waiver]) -> tuple[str, ...]:
    """One warning per waiver that exempts jobs whoever owns them."""
    return tuple(
        "waivers[%d]: names no owner, so any user of a host it selects can name a job %s and have it waived "
        "from rule %s; add owner: (the SID or DOMAIN\\user that runs the job)"
        % (waiver.index, " or ".join(repr(name) for name in waiver.selection.job.written) if waiver.selection.job
           else "anything", waiver.rule)
        for waiver in waivers if not waiver.names_owner)


def check_version(data: abc.Mapping[t.Any, t.Any], problems: Problems) -> int:
    if "version" not in data:
        problems.add("version", "missing; write version: %d (the only version of this format)" % SUPPORTED_VERSION)
        return SUPPORTED_VERSION
    version = data["version"]
    # bool is an int: 'version: true' must not pass as 1.
    if isinstance(version, bool) or not isinstance(version, int) or version != SUPPORTED_VERSION:
        problems.add("version", "%r is not supported; the only version of this format is %d" % (version, SUPPORTED_VERSION))
    return SUPPORTED_VERSION


def check_rules(value: object, problems: Problems) -> tuple[list[Rule], set[str]]:
    """The valid rules, in file order, and every rule name written (for checking the waivers)."""
    items = _list_of(value, "rules", "rule", problems, required=True)
    rules: list[Rule] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(items):
        path = "rules[%d]" % index
        name = item.get("name") if isinstance(item, abc.Mapping) else None
        if isinstance(name, str) and name.strip():
            if name in first_index:
                problems.add(path + ".name", "%r is already the name of rules[%d]; rule names must be unique"
                             % (name, first_index[name]))
            else:
                first_index[name] = index
        rule = check_rule(item, path, problems)
        if rule is not None:
            rules.append(rule)
    return rules, set(first_index)


def check_rule(item: object, path: str, problems: Problems) -> Rule | None:
    if not isinstance(item, abc.Mapping):
        problems.add(path, "is %s; a rule is a mapping with the keys %s" % (_kind(item), ", ".join(RULE_KEYS)))
        return None
    count = len(problems.items)
    check_keys(item, path, RULE_KEYS, "a rule", problems)
    name = _required_text(item, path, "name", "every rule needs a unique name", problems)
    description = _optional_text(item, path, "description", problems)
    match = item.get("match")
    selection = Selection()
    if match is not None and not isinstance(match, abc.Mapping):
        problems.add(path + ".match", "is %s; match is a mapping with the keys %s (leave it out to select every job)"
                     % (_kind(match), ", ".join(MATCH_KEYS)))
    elif match is not None:
        check_keys(match, path + ".match", MATCH_KEYS, "match", problems)
        selection = check_selection(match, path + ".match", problems)
    expect = check_expect(item, path, problems)
    if len(problems.items) > count or name is None or expect is None:
        return None
    return Rule(name=name, description=description, match=selection, expect=expect)


def check_expect(rule: abc.Mapping[t.Any, t.Any], path: str, problems: Problems) -> Expect | None:
    path += ".expect"
    kinds = "flags (exactly these), allowed_flags (a subset of these), forbidden_flags (none of these), helper_token (present or absent)"
    if "expect" not in rule:
        problems.add(path, "missing; say what the rule expects: " + kinds)
        return None
    expect = rule["expect"]
    if expect is not None and not isinstance(expect, abc.Mapping):
        problems.add(path, "is %s; expect is a mapping of %s" % (_kind(expect), kinds))
        return None
    if not expect:
        problems.add(path, "is empty; say what the rule expects: " + kinds)
        return None
    check_keys(expect, path, EXPECT_KEYS, "expect", problems)
    values = {key: check_flags(expect[key], "%s.%s" % (path, key), problems) for key in FLAG_KEYS if key in expect}
    if "flags" in expect and ("allowed_flags" in expect or "forbidden_flags" in expect):
        problems.add(path, "flags (exactly these) cannot be combined with allowed_flags or forbidden_flags; use one or the other")
    both = (values.get("allowed_flags") or 0) & (values.get("forbidden_flags") or 0)
    if both:
        problems.add(path, "%s both allowed and forbidden" % _names_are(both))
    helper_token = expect.get("helper_token")
    if "helper_token" in expect and helper_token not in HELPER_TOKEN_STATES:
        problems.add(path + ".helper_token", "%r is not allowed; allowed: %s" % (helper_token, ", ".join(HELPER_TOKEN_STATES)))
    return Expect(flags=values.get("flags"), allowed=values.get("allowed_flags"),
                  forbidden=values.get("forbidden_flags"), helper_token=helper_token)


def check_flags(value: object, path: str, problems: Problems) -> int | None:
    """The flags as a DWORD, parsed as the module parses its flags option; None after a problem."""
    if value is None:
        problems.add(path, "is null; give a list of flags ([] for none); " + FLAGS_HINT)
        return None
    if not isinstance(value, (list, tuple)):
        return _parse_flag_item(value, path, problems)
    total: int | None = 0
    for index, item in enumerate(value):
        item_path = "%s[%d]" % (path, index)
        if isinstance(item, str) and not item.strip():
            problems.add(item_path, "is an empty string; " + FLAGS_HINT)
            total = None
            continue
        bits = _parse_flag_item(item, item_path, problems)
        total = None if bits is None or total is None else total | bits
    return total


def _parse_flag_item(item: object, path: str, problems: Problems) -> int | None:
    try:
        return parse_flags(item)
    except FlagsError as exc:
        problems.add(path, "%s; %s" % (_flags_error_detail(exc), FLAGS_HINT))
        return None


def _flags_error_detail(exc: FlagsError) -> str:
    """The flag parser's message without its ``flags:`` prefix and its long hint (ours names the path)."""
    text = re.sub(r"^flags( item [0-9]+)?:? ", "", str(exc))
    suffix = "; " + ALLOWED_HINT
    return text[: -len(suffix)] if text.endswith(suffix) else text


def check_waivers(value: object, rule_names: set[str], problems: Problems) -> list[Waiver]:
    items = _list_of(value, "waivers", "waiver", problems, required=False)
    waivers = []
    for index, item in enumerate(items):
        waiver = check_waiver(item, index, rule_names, problems)
        if waiver is not None:
            waivers.append(waiver)
    return waivers


def check_waiver(item: object, index: int, rule_names: set[str], problems: Problems) -> Waiver | None:
    path = "waivers[%d]" % index
    if not isinstance(item, abc.Mapping):
        problems.add(path, "is %s; a waiver is a mapping with the keys %s" % (_kind(item), ", ".join(WAIVER_KEYS)))
        return None
    count = len(problems.items)
    check_keys(item, path, WAIVER_KEYS, "a waiver", problems)
    rule = _required_text(item, path, "rule", "name the rule this waiver exempts jobs from", problems)
    if rule is not None and rule not in rule_names:
        problems.add(path + ".rule", "%r is not the name of any rule%s; rules: %s"
                     % (rule, _did_you_mean(rule, rule_names), ", ".join(sorted(rule_names)) or "none"))
    selection = check_selection(item, path, problems)
    reason = _required_text(item, path, "reason", "say why (a change or risk-acceptance reference)", problems)
    expires = check_date(item, path + ".expires", problems)
    if len(problems.items) > count or rule is None or reason is None or expires is None:
        return None
    return Waiver(index=index, rule=rule, selection=selection, reason=reason, expires=expires)


def check_date(mapping: abc.Mapping[t.Any, t.Any], path: str, problems: Problems) -> datetime.date | None:
    """A date written YYYY-MM-DD (or a date object, as a YAML loader other than ours may give)."""
    if "expires" not in mapping:
        problems.add(path, "missing; give the last day the waiver counts, as YYYY-MM-DD")
        return None
    value = mapping["expires"]
    if isinstance(value, datetime.datetime):
        problems.add(path, "%s is a date and time; give a date, YYYY-MM-DD" % value.isoformat())
        return None
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        problems.add(path, "%r is not a date of the form YYYY-MM-DD" % (value,))
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        problems.add(path, "%r is not a valid date (%s)" % (value, exc))
        return None


def check_selection(mapping: abc.Mapping[t.Any, t.Any], path: str, problems: Problems) -> Selection:
    """The job, owner and hosts selectors of a rule's match or of a waiver (each optional)."""
    job = owner = hosts = None
    if "job" in mapping:
        job = check_job_selector(mapping["job"], path + ".job", problems)
    if "owner" in mapping:
        owner = check_owner_selector(mapping["owner"], path + ".owner", problems)
    if "hosts" in mapping:
        patterns = [pattern for _path, pattern in _patterns(mapping["hosts"], path + ".hosts", "inventory hostname globs", problems)]
        hosts = HostSelector(written=tuple(patterns), pattern=compile_globs(patterns))
    return Selection(job=job, owner=owner, hosts=hosts)


def check_job_selector(value: object, path: str, problems: Problems) -> JobSelector:
    items = _patterns(value, path, "display-name globs or GUIDs", problems)
    globs, guids = [], set()
    for item_path, pattern in items:
        candidate = pattern.strip()
        if is_guid(candidate):
            guids.add(bare_guid(candidate))
        elif looks_like_guid(candidate.strip("{}")):
            # Braces alone do not make a GUID (`Sync {prod}` is a display name, as in the modules); what
            # is inside them must look like a GUID with a typo to be refused.
            problems.add(item_path, "%r looks like a GUID but is malformed (%s); expected %s"
                         % (pattern, describe_guid_problem(candidate), GUID_FORM))
        else:
            globs.append(pattern)
    return JobSelector(written=tuple(pattern for _path, pattern in items), names=compile_globs(globs),
                       guids=frozenset(guids))


def check_owner_selector(value: object, path: str, problems: Problems) -> OwnerSelector:
    items = _patterns(value, path, "SIDs or DOMAIN\\user accounts", problems)
    sids, names = set(), set()
    for item_path, owner in items:
        candidate = owner.strip()
        # A well-known account is its SID: its name is localised on hosts of other languages.
        well_known = well_known_sid(candidate)
        if _SID.fullmatch(candidate):
            sids.add(candidate.upper())
        elif well_known is not None:
            sids.add(well_known)
        elif "*" in candidate or "?" in candidate:
            problems.add(item_path, "%r: owner takes no wildcards; give a SID or DOMAIN\\user" % owner)
        elif _ACCOUNT.fullmatch(candidate):
            names.add(candidate.casefold())
        else:
            problems.add(item_path, "%r is neither a SID (S-1-5-...) nor an account DOMAIN\\user" % owner)
    return OwnerSelector(written=tuple(owner for _path, owner in items), sids=frozenset(sids), names=frozenset(names))


def _patterns(value: object, path: str, what: str, problems: Problems) -> list[tuple[str, str]]:
    """A selector's values, one non-empty string or a non-empty list of them, each with its path."""
    hint = "give one string or a list of %s (leave the key out to select all)" % what
    if isinstance(value, str):
        items = [(path, value)]
    elif isinstance(value, (list, tuple)) and value:
        items = [("%s[%d]" % (path, index), item) for index, item in enumerate(value)]
    else:
        shown = "is an empty list" if isinstance(value, (list, tuple)) else "is %s" % _kind(value)
        problems.add(path, "%s; %s" % (shown, hint))
        return []
    good = []
    for item_path, item in items:
        if not isinstance(item, str):
            problems.add(item_path, "is %s; %s" % (_kind(item), hint))
        elif not item.strip():
            problems.add(item_path, "is an empty string; " + hint)
        else:
            good.append((item_path, item))
    return good


def check_keys(mapping: abc.Mapping[t.Any, t.Any], path: str, allowed: t.Sequence[str], what: str,
               problems: Problems) -> None:
    for key in mapping:
        if key not in allowed:
            problems.add(_join(path, key), "unknown key%s; allowed keys of %s: %s"
                         % (_did_you_mean(str(key), allowed), what, ", ".join(allowed)))


def _did_you_mean(word: str, candidates: t.Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(candidates), n=1)
    return " (did you mean %r?)" % close[0] if close else ""


def _required_text(mapping: abc.Mapping[t.Any, t.Any], path: str, key: str, why: str, problems: Problems) -> str | None:
    if key not in mapping:
        problems.add(_join(path, key), "missing; " + why)
        return None
    value = mapping[key]
    if not isinstance(value, str):
        problems.add(_join(path, key), "is %s, not a string; %s" % (_kind(value), why))
        return None
    if not value.strip():
        problems.add(_join(path, key), "is empty; " + why)
        return None
    return value


def _optional_text(mapping: abc.Mapping[t.Any, t.Any], path: str, key: str, problems: Problems) -> str | None:
    value = mapping.get(key)
    if value is not None and not isinstance(value, str):
        problems.add(_join(path, key), "is %s; it must be a string (quote it)" % _kind(value))
        return None
    return value


def _list_of(value: object, path: str, what: str, problems: Problems, *, required: bool) -> list[object]:
    if value is None:
        if required:
            problems.add(path, "missing; a policy needs a list of at least one %s" % what)
        return []
    if not isinstance(value, (list, tuple)):
        problems.add(path, "is %s; give a list of %ss" % (_kind(value), what))
        return []
    if required and not value:
        problems.add(path, "is empty; a policy needs at least one %s" % what)
    return list(value)


def _join(path: str, key: object) -> str:
    return "%s.%s" % (path, key) if path else str(key)


def _kind(value: object) -> str:
    """What a value is, with its article, in YAML's words: ``an integer``, ``a list``, ``null``.

    isinstance, not type(): Ansible hands over its own subclasses of str, list and dict.
    """
    if value is None:
        return "null"
    for kind, words in _KINDS:
        if isinstance(value, kind):
            return words
    return "a %s" % type(value).__name__


# In order: bool is an int, datetime is a date.
_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (abc.Mapping, "a mapping"), ((list, tuple), "a list"), (bool, "a boolean"), (int, "an integer"),
    (float, "a decimal number"), (str, "a string"), (datetime.datetime, "a date and time"), (datetime.date, "a date"),
)


def _names_are(bits: int) -> str:
    names = canonical_names(bits)
    return "%s %s" % (", ".join(names), "is" if len(names) == 1 else "are")
