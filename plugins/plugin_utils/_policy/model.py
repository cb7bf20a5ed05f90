# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compliance policy once loaded: rules, waivers and the selectors they use (docs/docsite/rst/guide_policy.rst).

Everything here is already validated and normalised by bits_policy_load; evaluation
(bits_policy_eval) only reads it. Selectors are compiled once so that a fleet of thousands of
hosts is judged quickly.
"""
from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import re
import typing as t

from .._flags import canonical_names
from .._jobs import bare_guid


SUPPORTED_VERSION = 1
HELPER_TOKEN_STATES = ("present", "absent")

# A selector answers True, False, or None: "cannot tell", when the fact it looks at was not read.
Verdict = t.Optional[bool]


class PolicyError(ValueError):
    """A policy that cannot be used; ``problems`` lists every problem found, each ``<path>: <message>``."""

    def __init__(self, problems: t.Sequence[str], source: str = "the policy") -> None:
        self.problems = list(problems)
        self.source = source
        count = len(self.problems)
        heading = "%s has %d problem%s:" % (source, count, "" if count == 1 else "s")
        super().__init__("\n".join([heading] + ["  - " + problem for problem in self.problems]))


def compile_globs(patterns: t.Sequence[str]) -> Globs | None:
    """A matcher of any of ``patterns`` in full, case-sensitively; None if none.

    Only ``*`` (any run of characters) and ``?`` (one character) are wildcards, as in the
    ``job`` option of bits_job_info; every other character, ``[`` included, stands for itself, so a
    display name such as ``Update [KB5034441]`` matches itself.
    """
    return Globs(patterns) if patterns else None


class Globs:
    """Any of several globs, matched in time linear in the length of the name times that of the pattern.

    A regular expression such as ``.*a.*a.*a.*b`` backtracks: against a long name without the final
    ``b`` it tries every way to place each ``a`` (seconds per name). A glob needs none of that: the
    text between two stars is a fixed-length piece, and the leftmost place where each piece fits, in
    order, after the fixed head and before the fixed tail, is as good as any other.
    """

    def __init__(self, patterns: t.Iterable[str]) -> None:
        patterns = list(patterns)
        self.exact = frozenset(pattern for pattern in patterns if "*" not in pattern and "?" not in pattern)
        self.globs = tuple(_Glob(pattern) for pattern in dict.fromkeys(patterns) if pattern not in self.exact)

    def fullmatch(self, text: str) -> bool:
        return text in self.exact or any(glob.fullmatch(text) for glob in self.globs)


class _Piece:
    """Text between stars: literal characters and ``?``, each standing for exactly one character."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.length = len(text)
        # No quantifier: a search is at most (span) x (length) steps, never a backtracking explosion.
        self.regex = re.compile("".join("." if char == "?" else re.escape(char) for char in text),
                                re.DOTALL) if "?" in text else None

    def at(self, text: str, start: int) -> bool:
        if self.regex is None:
            return text.startswith(self.text, start)
        return self.regex.match(text, start, start + self.length) is not None

    def find(self, text: str, start: int, end: int) -> int:
        """The leftmost place from ``start`` where the piece fits entirely before ``end``; -1 if none."""
        if self.regex is None:
            return text.find(self.text, start, end)
        found = self.regex.search(text, start, end)
        return -1 if found is None else found.start()


class _Glob:
    """One glob: head * middle * ... * tail."""

    def __init__(self, pattern: str) -> None:
        pieces = [_Piece(text) for text in pattern.split("*")]
        self.head, self.tail = pieces[0], pieces[-1]
        self.middle = tuple(piece for piece in pieces[1:-1] if piece.length)
        self.starred = len(pieces) > 1
        self.shortest = sum(piece.length for piece in pieces)

    def fullmatch(self, text: str) -> bool:
        if not self.starred:
            return len(text) == self.head.length and self.head.at(text, 0)
        end = len(text) - self.tail.length
        if len(text) < self.shortest or not self.head.at(text, 0) or not self.tail.at(text, end):
            return False
        position = self.head.length
        for piece in self.middle:
            found = piece.find(text, position, end)
            if found < 0:
                return False
            position = found + piece.length
        return True


# How many display names a job selector remembers the match of before it starts afresh: fleets repeat
# a few names, but a host could send any number of distinct ones, so the memory is bounded.
NAME_MEMO_SIZE = 4096


@dataclasses.dataclass(frozen=True)
class JobSelector:
    """``job``: display-name globs (case-sensitive) and GUIDs (any case, braces optional)."""

    written: tuple[str, ...]
    names: Globs | None
    guids: frozenset[str]
    # Display name -> whether ``names`` matches it: the same names recur on thousands of hosts.
    name_memo: dict[str, bool] = dataclasses.field(default_factory=dict, init=False, compare=False, repr=False)

    def matches(self, job_id: object, job_name: object) -> Verdict:
        if self.guids and isinstance(job_id, str) and bare_guid(job_id) in self.guids:
            return True
        if self.names is None:
            # GUIDs only: an unread id cannot be ruled out.
            return False if isinstance(job_id, str) else None
        if isinstance(job_name, str):
            if self.name_matches(job_name):
                return True
            return False if isinstance(job_id, str) or not self.guids else None
        return None

    def name_matches(self, job_name: str) -> bool:
        """``names.fullmatch``, remembered per display name (names is not None)."""
        matched = self.name_memo.get(job_name)
        if matched is None:
            matched = t.cast(Globs, self.names).fullmatch(job_name)
            if len(self.name_memo) >= NAME_MEMO_SIZE:
                self.name_memo.clear()
            self.name_memo[job_name] = matched
        return matched


@dataclasses.dataclass(frozen=True)
class OwnerSelector:
    """``owner``: SIDs, compared with the job's owner SID, and DOMAIN\\user names, compared with its owner_name.

    Both comparisons ignore case. A well-known account named in English is already its SID
    (``_policy.accounts``), so it matches on a host of any language. The answer is None (cannot tell)
    when the owner's SID could not be read, or when a name is to be compared and the host could not
    resolve the owner's: an account whose domain did not answer in time may well be the one named.
    """

    written: tuple[str, ...]
    sids: frozenset[str]
    names: frozenset[str]

    def matches(self, owner_sid: object, owner_name: object) -> Verdict:
        if self.sids and isinstance(owner_sid, str) and owner_sid.upper() in self.sids:
            return True
        if self.names and isinstance(owner_name, str) and owner_name.casefold() in self.names:
            return True
        if not isinstance(owner_sid, str) or not owner_sid:
            return None
        if self.names and not isinstance(owner_name, str):
            return None
        return False


@dataclasses.dataclass(frozen=True)
class HostSelector:
    """``hosts``: inventory hostname globs, case-sensitive like Ansible's inventory names."""

    written: tuple[str, ...]
    pattern: Globs | None

    def matches(self, host: str) -> bool:
        return self.pattern is not None and self.pattern.fullmatch(host)


@dataclasses.dataclass(frozen=True)
class Selection:
    """The selectors of a rule's ``match`` or of a waiver; each left out selects everything."""

    job: JobSelector | None = None
    owner: OwnerSelector | None = None
    hosts: HostSelector | None = None

    def selects_host(self, host: str) -> bool:
        return self.hosts is None or self.hosts.matches(host)

    def selects_job(self, job: t.Mapping[str, object]) -> Verdict:
        """Whether the job is selected (the host already is); None when an unread fact decides it."""
        return self.selects(job.get("id"), job.get("name"), job.get("owner"), job.get("owner_name"))

    def selects(self, job_id: object, job_name: object, owner_sid: object, owner_name: object) -> Verdict:
        """selects_job on facts already taken out of the job (the hot path of a fleet evaluation)."""
        verdict: Verdict = True
        if self.job is not None:
            verdict = self.job.matches(job_id, job_name)
            if verdict is False:
                return False
        if self.owner is not None:
            owner_verdict = self.owner.matches(owner_sid, owner_name)
            if owner_verdict is False:
                return False
            if owner_verdict is None:
                verdict = None
        return verdict

    def to_dict(self) -> dict[str, list[str]]:
        """The selectors as written, each as a list; those left out are left out (a valid ``match``)."""
        selectors = {"job": self.job, "owner": self.owner, "hosts": self.hosts}
        return {key: list(selector.written) for key, selector in selectors.items() if selector is not None}


@dataclasses.dataclass(frozen=True)
class Expect:
    """A rule's expectation. ``flags`` excludes ``allowed``/``forbidden``; any may be left out (None)."""

    flags: int | None = None
    allowed: int | None = None
    forbidden: int | None = None
    helper_token: str | None = None

    def to_dict(self) -> dict[str, object]:
        """The normalised expectation (canonical flag names), only the keys the rule sets."""
        result: dict[str, object] = {}
        if self.flags is not None:
            result["flags"] = canonical_names(self.flags)
        if self.allowed is not None:
            result["allowed_flags"] = canonical_names(self.allowed)
        if self.forbidden is not None:
            result["forbidden_flags"] = canonical_names(self.forbidden)
        if self.helper_token is not None:
            result["helper_token"] = self.helper_token
        return result


@dataclasses.dataclass(frozen=True)
class Rule:
    name: str
    description: str | None
    match: Selection
    expect: Expect

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "description": self.description, "match": self.match.to_dict(),
                "expect": self.expect.to_dict()}


@dataclasses.dataclass(frozen=True)
class Waiver:
    """Exempts the jobs a rule judges (narrowed by the selectors) from it, through ``expires`` inclusive."""

    index: int
    rule: str
    selection: Selection
    reason: str
    expires: datetime.date

    def is_active(self, today: datetime.date) -> bool:
        return today <= self.expires

    @property
    def names_owner(self) -> bool:
        """Whether the waiver exempts only jobs of the owners it names (or of the GUIDs it names).

        A display name is chosen by whoever creates the job: without an owner, any user of a selected
        host can give a job the waived name and see it waived.
        """
        job = self.selection.job
        return self.selection.owner is not None or (job is not None and job.names is None)

    def to_exemption(self) -> dict[str, object]:
        """What a waived job's entry says about the waiver that exempts it."""
        return {"reason": self.reason, "expires": self.expires.isoformat(), "names_owner": self.names_owner}

    def to_expired(self) -> dict[str, object]:
        """What the entry of a job an expired waiver names says about it."""
        return {"rule": self.rule, "reason": self.reason, "expires": self.expires.isoformat()}

    def to_dict(self) -> dict[str, object]:
        """The waiver as written (normalised), its selectors left out when not given."""
        return {"rule": self.rule, **self.selection.to_dict(), "reason": self.reason, "expires": self.expires.isoformat()}

    def to_report(self) -> dict[str, object]:
        """The waiver as the assessment lists it: every selector key, null when not given."""
        selectors = self.selection.to_dict()
        return {"rule": self.rule, "hosts": selectors.get("hosts"), "job": selectors.get("job"),
                "owner": selectors.get("owner"), "reason": self.reason, "expires": self.expires.isoformat()}


@dataclasses.dataclass(frozen=True)
class Policy:
    version: int
    rules: tuple[Rule, ...]
    waivers: tuple[Waiver, ...]
    # What the policy allows but should not do (each ``<path>: <message>``); the actions pass them on.
    warnings: tuple[str, ...] = dataclasses.field(default=(), compare=False)

    def to_dict(self) -> dict[str, object]:
        """The normalised policy: what two equivalent files have in common, whatever forms they use."""
        return {"version": self.version, "rules": [rule.to_dict() for rule in self.rules],
                "waivers": [waiver.to_dict() for waiver in self.waivers]}

    @property
    def digest(self) -> str:
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return "sha256:" + hashlib.sha256(canonical.encode("ascii")).hexdigest()
