# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report's JSON schema (docs/schemas/bits-compliance.schema.json), applied to files read back.

A previous report and a sliced run's host results are read from disk, where anyone with write access
may have left anything. They are checked against the schema we ship before any of it is used, and
refused with the first problem and where it is. ansible-core brings no JSON Schema library, so this is
a small validator of the keywords that schema uses (an unknown keyword is an error, so that the schema
cannot grow past it unnoticed). It descends only as deep as the schema does.
"""
from __future__ import annotations

import functools
import json
import re
import typing as t
from pathlib import Path


SCHEMA_PATH = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "bits-compliance.schema.json"
# Keywords that only annotate.
_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description"})
# The JSON types as the Python types json.load gives (exact: true is not an integer).
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "integer": (int,), "number": (int, float),
    "boolean": (bool,), "null": (type(None),),
}

# A check returns None, or the first problem: the keys and indexes down to it (innermost first) and what.
Problem = t.Tuple[t.List[t.Union[str, int]], str]
Check = t.Callable[[object], t.Optional[Problem]]


class SchemaProblem(ValueError):
    """Where a document breaks the schema (``hosts[3].jobs[0].status``) and how."""

    def __init__(self, where: str, what: str) -> None:
        self.where, self.what = where, what
        super().__init__(f"{where or 'the document'}: {what}")


@functools.lru_cache(maxsize=1)
def report_schema() -> dict[str, t.Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def report_check() -> Check:
    schema = report_schema()
    return _Compiler(schema).compile(schema)


@functools.lru_cache(maxsize=1)
def report_host_check() -> Check:
    """One entry of a report's ``hosts``: what a previous report read host by host is checked against."""
    schema = report_schema()
    return _Compiler(schema).compile(schema["$defs"]["host"])


def host_job_schema() -> dict[str, t.Any]:
    """The job facts of a bits_job_info result, as the report's job carries them (shape A's keys only)."""
    from .._policy.evaluate import JOB_KEYS  # pylint: disable=import-outside-toplevel

    job = report_schema()["$defs"]["job"]
    return {"type": "object", "required": ["id"], "properties": {key: job["properties"][key] for key in JOB_KEYS}}


@functools.lru_cache(maxsize=1)
def host_job_check() -> Check:
    """host_job_schema's check: the compiled one, behind a quick yes for the jobs that meet it."""
    compiler = _Compiler(report_schema())
    facts = host_job_schema()
    return _accepting_first(_flat_object_acceptor(compiler, facts), compiler.compile(facts))


def _accepting_first(accepts: t.Callable[[object], bool], check: Check) -> Check:
    """``check``, run only on what ``accepts`` does not vouch for, so that a problem is its own.

    ``accepts`` must never accept what ``check`` refuses; it may refuse what ``check`` accepts (the
    check then says None after all).
    """
    return lambda value: None if accepts(value) else check(value)


def _flat_object_acceptor(compiler: _Compiler, schema: dict[str, t.Any]) -> t.Callable[[object], bool]:
    """A quick yes for a valid instance of an object schema of ``type``, ``required`` and ``properties``.

    Thousands of jobs are read back: one pass over a job's keys, each value's type looked up in a
    table, costs less than the compiled checks' calls per keyword. A property whose schema says more
    than its type (a pattern, a minimum, items) keeps its compiled check for the rest.
    """
    if set(schema) - _ANNOTATIONS != {"type", "required", "properties"} or schema["type"] != "object":
        raise ValueError("not a flat object schema")
    required = tuple(schema["required"])
    # Each property: the Python types its ``type`` allows (None: any), and the check of its other keywords.
    expected: dict[str, tuple[frozenset[type] | None, Check | None]] = {}
    for key, subschema in schema["properties"].items():
        keywords = {keyword: argument for keyword, argument in subschema.items() if keyword not in _ANNOTATIONS}
        kinds = _python_types(keywords.pop("type")) if "type" in keywords else None
        expected[key] = (kinds, compiler.compile(keywords) if keywords else None)
    # Types and the rest apart: most properties say only their type, so most keys cost one lookup, no call.
    types_of = {key: kinds for key, (kinds, _rest) in expected.items() if kinds is not None}
    refined = tuple((key, rest) for key, (_kinds, rest) in expected.items() if rest is not None)
    objects = _python_types("object")

    def accepts(value: object) -> bool:
        if type(value) not in objects:
            return False
        for key in required:
            if key not in value:
                return False
        for key, item in value.items():
            kinds = types_of.get(key)
            if kinds is not None and type(item) not in kinds:
                return False
        for key, rest in refined:
            if key in value and rest(value[key]) is not None:
                return False
        return True
    return accepts


def _python_types(names: str | list[str]) -> frozenset[type]:
    """The Python types json.load gives for a ``type`` keyword's JSON type names."""
    return frozenset(kind for name in ([names] if isinstance(names, str) else names) for kind in _TYPES[name])


def validate(document: object, check: Check) -> None:
    """SchemaProblem for the first place where ``document`` breaks the schema."""
    problem = check(document)
    if problem is not None:
        steps, what = problem
        raise SchemaProblem(_where(reversed(steps)), what)


def _same(left: object, right: object) -> bool:
    """JSON equality: true is not 1."""
    return type(left) is type(right) and left == right if isinstance(left, bool) or isinstance(right, bool) \
        else left == right


def _where(steps: t.Iterable[str | int]) -> str:
    """``hosts[3].jobs[0].status`` from the keys and indexes, outermost first."""
    where = ""
    for step in steps:
        if isinstance(step, int):
            where += "[%d]" % step
        else:
            where = "%s.%s" % (where, step) if where else str(step)
    return where


def _short(value: object) -> str:
    text = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def _failing(test: t.Callable[[object], bool], message: t.Callable[[object], str]) -> Check:
    """A check of the value itself (no path below it)."""
    return lambda value: None if test(value) else ([], message(value))


def _first_problem_of(checks: t.Sequence[Check]) -> Check:
    """One check made of several: the first problem any of them finds, in order."""
    def check_all(value: object) -> Problem | None:
        for check in checks:
            problem = check(value)
            if problem is not None:
                return problem
        return None
    return check_all


class _Compiler:
    """Turns a schema into one function per subschema, compiled once.

    A problem's path is built only when there is one: on the way out, each level adds its key.
    """

    def __init__(self, root: dict[str, t.Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def compile(self, schema: t.Any) -> Check:
        if schema is True:
            return lambda value: None
        if schema is False:
            return lambda value: ([], "is not allowed here")
        checks = [self._keyword(schema, keyword) for keyword in schema if keyword not in _ANNOTATIONS]
        checks = [check for check in checks if check is not None]
        return checks[0] if len(checks) == 1 else _first_problem_of(checks)

    def _ref(self, ref: str) -> Check:
        if not ref.startswith("#/$defs/"):
            raise ValueError(f"unsupported $ref {ref}")
        name = ref[len("#/$defs/"):]

        def check(value: object) -> Problem | None:
            if name not in self.refs:
                self.refs[name] = self.compile(self.root["$defs"][name])
            return self.refs[name](value)
        return check

    def _keyword(self, schema: dict[str, t.Any], keyword: str) -> Check | None:  # noqa: C901 (one branch per keyword)
        argument = schema[keyword]
        if keyword == "type":
            names = [argument] if isinstance(argument, str) else list(argument)
            types = _python_types(names)

            # type, pattern and minimum are what a job's facts are checked against: one call each, not two.
            def check_type(value: object) -> Problem | None:
                return None if type(value) in types else ([], f"{_short(value)} is not of type {' or '.join(names)}")
            return check_type
        if keyword == "const":
            return _failing(lambda value: _same(value, argument), lambda value: f"{_short(value)} is not {argument!r}")
        if keyword == "enum":
            return _failing(lambda value: any(_same(value, item) for item in argument),
                            lambda value: f"{_short(value)} is not one of {', '.join(map(str, argument))}")
        if keyword == "pattern":
            pattern = re.compile(argument)

            def check_pattern(value: object) -> Problem | None:
                if not isinstance(value, str) or pattern.search(value) is not None:
                    return None
                return [], f"{_short(value)} does not match {argument}"
            return check_pattern
        if keyword == "minimum":
            def check_minimum(value: t.Any) -> Problem | None:
                return None if type(value) not in (int, float) or value >= argument else ([], f"{value} is below {argument}")
            return check_minimum
        if keyword == "minItems":
            return _failing(lambda value: not isinstance(value, list) or len(value) >= argument,
                            lambda value: f"has {len(value)} items; at least {argument} expected")
        if keyword == "maxItems":
            return _failing(lambda value: not isinstance(value, list) or len(value) <= argument,
                            lambda value: f"has {len(value)} items; at most {argument} expected")
        if keyword == "minProperties":
            return _failing(lambda value: not isinstance(value, dict) or len(value) >= argument,
                            lambda value: f"has {len(value)} keys; at least {argument} expected")
        if keyword == "required":
            def missing(value: t.Any) -> list[t.Any]:
                return [key for key in argument if key not in value]
            return _failing(lambda value: not isinstance(value, dict) or not missing(value),
                            lambda value: f"lacks the key {missing(value)[0]!r}")
        if keyword == "properties":
            return self._properties(argument)
        if keyword == "additionalProperties":
            return self._additional(schema.get("properties") or {}, argument)
        if keyword == "items":
            return self._items(self.compile(argument))
        if keyword == "$ref":
            return self._ref(argument)
        if keyword in ("allOf", "oneOf"):
            return self._combined(keyword, [self.compile(part) for part in argument])
        if keyword == "if":
            condition = self.compile(argument)
            then = self.compile(schema.get("then", True))
            return lambda value: then(value) if condition(value) is None else None
        if keyword == "then":
            return None
        raise ValueError(f"unsupported schema keyword {keyword}")

    def _properties(self, properties: dict[str, t.Any]) -> Check:
        checks = [(key, self.compile(subschema)) for key, subschema in properties.items()]

        def check(value: object) -> Problem | None:
            if not isinstance(value, dict):
                return None
            for key, key_check in checks:
                if key in value:
                    problem = key_check(value[key])
                    if problem is not None:
                        problem[0].append(key)
                        return problem
            return None
        return check

    def _additional(self, properties: dict[str, t.Any], argument: t.Any) -> Check:
        known = frozenset(properties)
        extra_check = self.compile(argument)

        def check(value: object) -> Problem | None:
            if not isinstance(value, dict):
                return None
            for key, item in value.items():
                if key not in known:
                    if argument is False:
                        return [], f"has the unexpected key {str(key)[:60]!r}"
                    problem = extra_check(item)
                    if problem is not None:
                        problem[0].append(key)
                        return problem
            return None
        return check

    @staticmethod
    def _items(item_check: Check) -> Check:
        def check(value: object) -> Problem | None:
            if not isinstance(value, list):
                return None
            for index, item in enumerate(value):
                problem = item_check(item)
                if problem is not None:
                    problem[0].append(index)
                    return problem
            return None
        return check

    @staticmethod
    def _combined(keyword: str, parts: list[Check]) -> Check:
        if keyword == "allOf":
            return _first_problem_of(parts)

        def one_of(value: object) -> Problem | None:
            problems = [part(value) for part in parts]
            passing = sum(problem is None for problem in problems)
            if passing == 1:
                return None
            if passing == 0:
                # The alternative that got deepest says most.
                return max((problem for problem in problems if problem is not None), key=lambda item: len(item[0]))
            return [], f"{_short(value)} matches more than one alternative"
        return one_of
