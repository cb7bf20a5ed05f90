# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge bits_job_info results against a loaded policy: the assessment that reports and enforcement read.

Conservative by design: a job whose flags (or any fact a rule depends on) could not be read is
``unassessed``, never compliant, and a host that gave no usable result is ``not_assessed``, never
dropped. The output is ordered (hosts by name, jobs by GUID) so that two assessments diff cleanly.
"""
from __future__ import annotations

import datetime
import functools
import re
import shlex
import typing as t
from collections import abc

import yaml

from .._flags import KNOWN_MASK, canonical_names, dword_from_host, format_flags, names_from_host
from .._jobs import bare_guid, guid_order, is_guid
from .model import Expect, Policy, Rule, Waiver


FIX_MODULE = "winbits.bits.bits_helper_token"
# Shape A's job keys (bits_job_info's RETURN): every assessed job has them all, null when the host sent none.
JOB_KEYS = ("id", "name", "owner", "owner_name", "state", "type", "flags", "flags_value", "unknown_flags_value",
            "helper_token_sid", "helper_token_name", "client_certificate", "creation_time", "modification_time", "error",
            "read_error", "read_errors")
_JOB_KEY_SET = frozenset(JOB_KEYS)
JOB_STATUSES = ("compliant", "violation", "waived", "unmanaged", "unassessed")
HOST_STATUSES = ("compliant", "noncompliant", "not_assessed")
RULE_COUNTS = ("compliant", "violation", "waived", "unassessed")

UNSAFE_TAG = "!unsafe"
# How many judgements (and sets of a host's waivers) a Judge remembers before starting afresh: hosts may
# send any number of names.
MEMO_SIZE = 4096


class _UnsafeText(str):
    """Text a fix task carries for people to read, never for Ansible to template: written ``!unsafe``.

    A job's display name is chosen by whoever created the job; pasted into a playbook as a plain
    task ``name:``, a name such as ``{{ lookup('pipe', ...) }}`` would run on the controller.
    """


class _FixDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """libyaml's emitter when PyYAML has it (several times faster for thousands of fixes), same output."""


_FixDumper.add_representer(_UnsafeText, lambda dumper, text: dumper.represent_scalar(UNSAFE_TAG, str(text)))
_BRACED_GUID = re.compile(r"\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}", re.ASCII | re.IGNORECASE)
_PLACEHOLDER_GUID = "{00000000-0000-0000-0000-000000000000}"
# An inventory name that is the same as a host pattern of the ansible command: no wildcard, separator or brace.
_PLAIN_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*", re.ASCII)


def evaluate_fleet(policy: Policy, results: abc.Mapping[str, abc.Mapping[str, t.Any] | None], *,
                   today: datetime.date) -> dict[str, t.Any]:
    """The ASSESSMENT of every host in ``results`` (inventory name -> bits_job_info result or None)."""
    judge = Judge(policy, _as_date(today))
    hosts = [judge.host(name, results[name]) for name in sorted(results)]
    return {
        "policy": {"version": policy.version, "digest": policy.digest,
                   "rules": [{"name": rule.name, "description": rule.description} for rule in policy.rules]},
        "as_of": judge.today.isoformat(),
        "summary": summarise(policy, hosts),
        "waivers": judge.waiver_report(),
        "hosts": hosts,
    }


def evaluate_host(policy: Policy, host: str, result: abc.Mapping[str, t.Any] | None, *,
                  today: datetime.date) -> dict[str, t.Any]:
    """One HOST entry of the assessment."""
    return Judge(policy, _as_date(today)).host(host, result)


def _as_date(today: object) -> datetime.date:
    if isinstance(today, datetime.datetime):
        return today.date()
    if isinstance(today, datetime.date):
        return today
    raise TypeError("today must be a datetime.date, not %s" % type(today).__name__)


class Judge:
    """Applies one policy on one day; counts how often each waiver was used across the hosts it sees."""

    def __init__(self, policy: Policy, today: datetime.date) -> None:
        self.policy = policy
        self.today = today
        self.waiver_active = [waiver.is_active(today) for waiver in policy.waivers]
        self.waiver_used = [0] * len(policy.waivers)
        self.expected: dict[str, dict[str, object]] = {}
        self.judgements = JudgementMemo(policy)
        # The waivers that select a host, per set of them (their positions): hosts share a few.
        self.host_waivers: dict[tuple[int, ...], HostWaivers] = {}

    def host(self, name: str, result: abc.Mapping[str, t.Any] | None) -> dict[str, t.Any]:
        entry: dict[str, t.Any] = {"name": name, "status": "not_assessed", "reason": None, "caller": None, "jobs": []}
        jobs, reason = usable_jobs(result)
        if jobs is None:
            entry["reason"] = reason
            return entry
        caller = result.get("caller") if isinstance(result, abc.Mapping) else None
        entry["caller"] = dict(caller) if isinstance(caller, abc.Mapping) else None
        selected = tuple(index for index, rule in enumerate(self.policy.rules) if rule.match.selects_host(name))
        waivers = self._host_waivers(name)
        entry["jobs"] = [self.job(name, job, selected, waivers) for job in sorted(jobs, key=guid_order)]
        entry["status"], entry["reason"] = host_status(entry["jobs"])
        return entry

    def job(self, host: str, job: abc.Mapping[str, t.Any], selected: tuple[int, ...],
            waivers: HostWaivers) -> dict[str, t.Any]:
        """The job's entry: its facts (every key of JOB_KEYS) and its judgement under the host's rules
        (``selected``: the indexes of the rules that select the host) and waivers."""
        entry = dict(job)
        if not _JOB_KEY_SET <= entry.keys():
            entry.update(_missing_job_keys(tuple(entry)))
        actual = dword_from_host(job.get("flags_value"))
        if entry["flags"] is None and actual is not None:
            # Flags that were read are always shown, even from a result that sent only their value.
            entry["flags"] = list(_names_read(actual))
        judgement = self._judgement_of(job, actual, selected, waivers)
        rule, active = judgement.rule, judgement.active
        entry.update(status=judgement.status, rule=None if rule is None else rule.name,
                     expected=None if rule is None else self._expected(rule), problems=list(judgement.problems),
                     fix=None, waiver=None if active is None else active.to_exemption(),
                     expired_waivers=[waiver.to_expired() for waiver in judgement.expired])
        if judgement.status in ("waived", "violation"):
            # ``used`` counts violations: those an active waiver exempts and, for expired waivers, those
            # they would still exempt (the violations their expiry let through).
            for waiver in [active] if active is not None else judgement.expired:
                self.waiver_used[waiver.index] += 1
        if judgement.status == "violation":
            entry["fix"] = build_fix(host, job.get("id"), job.get("name"), t.cast(Rule, rule), t.cast(int, actual),
                                     token_sid_read(job))
        return entry

    def _judgement_of(self, job: abc.Mapping[str, t.Any], actual: int | None, selected: tuple[int, ...],
                      waivers: HostWaivers) -> Judgement:
        """judgement under the host's rules and waivers, remembered for the jobs of the same facts."""
        key = self.judgements.key(selected, waivers.selecting, job, actual)
        judgement = self.judgements.memo.get(key) if key is not None else None
        if judgement is None:
            rules = [self.policy.rules[index] for index in selected]
            judgement = self.judgement(job, actual, *first_rule(rules, job), waivers.by_rule)
            if key is not None:
                self.judgements.remember(key, judgement)
        return judgement

    def judgement(self, job: abc.Mapping[str, t.Any], actual: int | None, rule: Rule | None, certain: bool,
                  waivers: dict[str, list[Waiver]]) -> Judgement:
        """What the job's facts come to under ``rule`` (first_rule's, and whether it is ``certain``) and
        the host's ``waivers`` (by rule name)."""
        if rule is None:
            return Judgement(None, "unmanaged")
        unread = unread_facts(rule, job, certain)
        if unread:
            return Judgement(rule, "unassessed", tuple(unread))
        actual = t.cast(int, actual)  # unread_facts has made sure the flags were read
        problems = find_problems(rule, actual & KNOWN_MASK, token_sid_read(job), job.get("helper_token_name"))
        unknown = unknown_bits_problem(rule, actual)
        if unknown and not problems:
            # Fail closed: bits this collection cannot name may be what the rule forbids; and a fix
            # cannot clear them (bits_helper_token keeps them), so they are for a person to judge.
            return Judgement(rule, "unassessed", (unknown,))
        if unknown:
            problems.append(unknown)
        # A waiver never exempts a job it cannot be sure it names (None: an unread fact).
        matched = [waiver for waiver in waivers.get(rule.name, ()) if waiver.selection.selects_job(job) is True]
        active = next((waiver for waiver in matched if self.waiver_active[waiver.index]), None)
        expired = tuple(waiver for waiver in matched if not self.waiver_active[waiver.index])
        status = "compliant" if not problems else "waived" if active is not None else "violation"
        return Judgement(rule, status, tuple(problems), active, expired)

    def _host_waivers(self, host: str) -> HostWaivers:
        """The waivers that select the host (shared by the hosts they all select: read only)."""
        selecting = tuple(position for position, waiver in enumerate(self.policy.waivers)
                          if waiver.selection.selects_host(host))
        waivers = self.host_waivers.get(selecting)
        if waivers is None:
            by_rule: dict[str, list[Waiver]] = {}
            for position in selecting:
                by_rule.setdefault(self.policy.waivers[position].rule, []).append(self.policy.waivers[position])
            if len(self.host_waivers) >= MEMO_SIZE:
                self.host_waivers.clear()
            waivers = self.host_waivers[selecting] = HostWaivers(selecting, by_rule)
        return waivers

    def _expected(self, rule: Rule) -> dict[str, object]:
        """The rule's normalised expect, a fresh copy per job (computed once per rule)."""
        expected = self.expected.get(rule.name)
        if expected is None:
            expected = self.expected[rule.name] = rule.expect.to_dict()
        return {key: list(value) if isinstance(value, list) else value for key, value in expected.items()}

    def waiver_report(self) -> list[dict[str, t.Any]]:
        report = []
        for waiver in self.policy.waivers:
            item = waiver.to_report()
            item.update(expired=not self.waiver_active[waiver.index], used=self.waiver_used[waiver.index])
            report.append(item)
        return report


class HostWaivers(t.NamedTuple):
    """The waivers that select a host: their positions in the policy, and the waivers by rule name."""

    selecting: tuple[int, ...]
    by_rule: dict[str, list[Waiver]]


class Judgement(t.NamedTuple):
    """What a job's facts come to: the same for every job of the same facts on hosts of the same rules and waivers."""

    rule: Rule | None
    status: str
    problems: tuple[str, ...] = ()
    active: Waiver | None = None  # the active waiver that names the job (it exempts the job if in violation)
    expired: tuple[Waiver, ...] = ()  # the expired waivers that name it


class JudgementMemo:
    """Judge.judgement remembered per the facts it depends on, for the jobs whose facts are plain.

    Fleets repeat a few display names, owners and flags on thousands of hosts, and most hosts are
    selected by the same rules and waivers, so the same judgement would be worked out again for most
    jobs. A judgement depends on the host's rules and waivers; on the job's name, owner and owner name
    only as text (any other value is unread, as the selectors read it); on its id only as whether it was
    read, unless the id is a GUID that a rule or waiver names; on its flags as read; and on its helper
    token's SID and name. That is the key, for a job that lists no failed call and whose token facts are
    text or null (any other job is judged afresh). A host may send any number of names: the memory is
    bounded.
    """

    def __init__(self, policy: Policy) -> None:
        selections = [rule.match for rule in policy.rules] + [waiver.selection for waiver in policy.waivers]
        self.named_guids = frozenset(guid for selection in selections if selection.job is not None
                                     for guid in selection.job.guids)
        self.memo: dict[tuple[t.Any, ...], Judgement] = {}

    def key(self, selected: tuple[int, ...], waivers: tuple[int, ...], job: abc.Mapping[str, t.Any],
            actual: int | None) -> tuple[t.Any, ...] | None:
        """The facts the judgement of the job depends on, on a host of these rules and waivers (their
        positions); None for a job that is to be judged afresh."""
        token_sid, token_name = job.get("helper_token_sid"), job.get("helper_token_name")
        if job.get("read_errors") or job.get("read_error") is not None or not (
                (token_sid is None or isinstance(token_sid, str)) and (token_name is None or isinstance(token_name, str))):
            return None
        job_id, name, owner, owner_name = job.get("id"), job.get("name"), job.get("owner"), job.get("owner_name")
        id_key: str | bool | None = None
        if isinstance(job_id, str):
            guid = bare_guid(job_id) if self.named_guids else None
            id_key = guid if guid in self.named_guids else True
        return (selected, waivers, id_key, name if isinstance(name, str) else None,
                owner if isinstance(owner, str) else None, owner_name if isinstance(owner_name, str) else None,
                actual, token_sid, token_name)

    def remember(self, key: tuple[t.Any, ...], judgement: Judgement) -> None:
        if len(self.memo) >= MEMO_SIZE:
            self.memo.clear()
        self.memo[key] = judgement


@functools.lru_cache(maxsize=256)
def _names_read(value: int) -> tuple[str, ...]:
    """names_from_host of a flags value that was read: a few values recur on every host of a fleet."""
    return tuple(t.cast(t.List[str], names_from_host(value)))


@functools.lru_cache(maxsize=256)
def _missing_job_keys(keys: tuple[t.Any, ...]) -> dict[str, None]:
    """The job keys a job with these keys lacks, each null, in JOB_KEYS order (hosts send the same few key sets)."""
    return {key: None for key in JOB_KEYS if key not in keys}


def usable_jobs(result: object) -> tuple[list[abc.Mapping[str, t.Any]] | None, str | None]:
    """The jobs of a bits_job_info result, or None and why the host cannot be assessed."""
    if result is None:
        return None, "no result"
    if not isinstance(result, abc.Mapping):
        return None, "failed: the result is a %s, not a bits_job_info result" % type(result).__name__
    if result.get("unreachable"):
        return None, "unreachable: %s" % _message(result)
    if result.get("failed"):
        return None, "failed: %s" % _message(result)
    if result.get("skipped"):
        return None, "no result (skipped: %s)" % (result.get("skip_reason") or "no reason given")
    jobs = result.get("jobs")
    if not isinstance(jobs, list):
        return None, "failed: the result has no jobs list (is it a bits_job_info result?)"
    for index, job in enumerate(jobs):
        # dict first: every job read from JSON is one, and the ABC's check alone costs several times more.
        if not isinstance(job, (dict, abc.Mapping)):
            return None, "failed: jobs[%d] of the result is a %s, not a job" % (index, type(job).__name__)
    return jobs, None


def _message(result: abc.Mapping[str, t.Any]) -> str:
    message = result.get("msg")
    return str(message) if message else "no message"


def first_rule(rules: t.Iterable[Rule], job: abc.Mapping[str, t.Any]) -> tuple[Rule | None, bool]:
    """The rule that judges the job, and whether that is certain.

    When an unread fact (name, id or owner) leaves open whether a rule selects the job, that rule
    is returned as uncertain: a later rule must not judge a job the earlier one may own.
    """
    facts = (job.get("id"), job.get("name"), job.get("owner"), job.get("owner_name"))
    for rule in rules:
        verdict = rule.match.selects(*facts)
        if verdict is not False:
            return rule, verdict is True
    return None, True


# Calls of bits_job_info (docs/host-contract.md, read_errors) outside the token options: each group of facts
# is read in its own guard, so their failure cannot have cost the helper-token SID. Any other failed call,
# or a failure that names none, may have: the SID is then unknown, although null would read as "no token".
CALLS_OUTSIDE_TOKEN_OPTIONS = frozenset({
    "GetId", "GetDisplayName", "GetOwner", "GetState", "GetType", "GetTimes", "GetError",
    "IBackgroundCopyError.GetError", "GetClientCertificate", "QueryInterface(IBackgroundCopyJobHttpOptions)",
    "GetHelperTokenFlags",
})
FLAGS_CALLS = frozenset({"QueryInterface(IBitsTokenOptions)", "GetHelperTokenFlags"})
# The call behind each fact a selector reads (owner_name comes from the host's account lookup, no call).
SELECTOR_FACT_CALLS = {"id": "GetId", "name": "GetDisplayName", "owner": "GetOwner"}


def read_failures(job: abc.Mapping[str, t.Any]) -> list[abc.Mapping[str, t.Any]]:
    """Every failed call of the job: ``read_errors`` (the list a host sends) and ``read_error`` (the first
    of them, or the only one an older host sends); an entry that is not a mapping is a failure of no call."""
    listed = job.get("read_errors")
    failures = list(listed) if isinstance(listed, list) else []
    single = job.get("read_error")
    if single is not None and single not in failures:
        failures.append(single)
    return [failure if isinstance(failure, abc.Mapping) else {} for failure in failures]


def _failed_calls(job: abc.Mapping[str, t.Any]) -> set[object]:
    return {failure.get("call") for failure in read_failures(job)}


def token_sid_read(job: abc.Mapping[str, t.Any]) -> str | None:
    """The helper-token SID; None for none (an empty SID is none, as the host reads it)."""
    sid = job.get("helper_token_sid")
    return sid if isinstance(sid, str) and sid else None


def unread_facts(rule: Rule, job: abc.Mapping[str, t.Any], certain: bool) -> list[str]:
    """What keeps the rule from judging the job, one line per unread fact it needs; [] when it can.

    Fail closed: the flags always, the helper-token SID for a helper_token rule, and whatever fact
    left it open whether the rule selects the job at all.
    """
    calls = _failed_calls(job) if job.get("read_errors") or job.get("read_error") else set()
    unread = []
    if not certain:
        unread.append("it is unknown whether rule %s selects the job: %s" % (rule.name, _unread_selector_facts(rule, job)))
    if dword_from_host(job.get("flags_value")) is None or calls & FLAGS_CALLS:
        unread.append("its helper-token flags could not be read%s" % _failure_text(job, FLAGS_CALLS))
    token = job.get("helper_token_sid")
    # A host that lists only its first failure (read_error without read_errors) may have failed later calls too.
    only_first_listed = bool(calls) and not isinstance(job.get("read_errors"), list)
    if rule.expect.helper_token is not None and (
            calls - CALLS_OUTSIDE_TOKEN_OPTIONS or only_first_listed or not (token is None or isinstance(token, str))):
        unread.append("its helper token could not be read%s"
                      % _failure_text(job, {call for call in calls if call not in CALLS_OUTSIDE_TOKEN_OPTIONS}))
    return unread


def _unread_selector_facts(rule: Rule, job: abc.Mapping[str, t.Any]) -> str:
    missing = []
    if rule.match.job is not None:
        missing += [fact for fact in ("id", "name") if not isinstance(job.get(fact), str)]
    if rule.match.owner is not None:
        if not isinstance(job.get("owner"), str) or not job.get("owner"):
            missing.append("owner")
        elif rule.match.owner.names and not isinstance(job.get("owner_name"), str):
            return ("the host could not resolve the owner %s to an account name, and the rule names accounts "
                    "(name the owner by SID to judge such jobs)" % job.get("owner"))
    shown = [("its %s could not be read%s" % (fact, _failure_text(job, {SELECTOR_FACT_CALLS[fact]})))
             for fact in missing]
    return "; ".join(shown) or "a fact it selects by could not be read"


def _failure_text(job: abc.Mapping[str, t.Any], calls: t.Collection[object]) -> str:
    """`` (GetOwner 0x80070005: <the module's explanation>)`` for the job's failures of these calls; ''
    when it has none."""
    named = []
    for failure in read_failures(job):
        if failure.get("call") in calls:
            text = " ".join(str(part) for part in (failure.get("call") or "a call", failure.get("hresult_hex")) if part)
            named.append("%s: %s" % (text, failure["explanation"]) if failure.get("explanation") else text)
    return " (%s)" % "; ".join(named) if named else ""


def find_problems(rule: Rule, actual: int, token_sid: object, token_name: object) -> list[str]:
    """What is wrong with a job's flags and helper token under the rule, in plain English; [] if nothing."""
    expect = rule.expect
    problems = []
    if expect.flags is not None and actual != expect.flags:
        problems.append("rule %s expects exactly %s; the job has %s"
                        % (rule.name, format_flags(expect.flags), format_flags(actual)))
    if expect.allowed is not None and actual & ~expect.allowed:
        problems.append("%s not allowed by rule %s (allowed: %s)"
                        % (_flag_names_are(actual & ~expect.allowed), rule.name, format_flags(expect.allowed)))
    if expect.forbidden is not None and actual & expect.forbidden:
        problems.append("%s forbidden by rule %s" % (_flag_names_are(actual & expect.forbidden), rule.name))
    has_token = isinstance(token_sid, str) and bool(token_sid)
    if expect.helper_token == "present" and not has_token:
        # Reported, never fixed: whose token the job should carry is not the policy's to invent.
        problems.append("rule %s expects a helper token; the job has none (set it with bits_helper_token "
                        "helper_token: caller, run as the account whose token the job needs)" % rule.name)
    elif expect.helper_token == "absent" and has_token:
        holder = "%s (%s)" % (token_sid, token_name) if token_name else str(token_sid)
        problems.append("rule %s expects no helper token; the job has one, of %s; it must be cleared "
                        "(helper_token: absent)" % (rule.name, holder))
    return problems


def unknown_bits_problem(rule: Rule, actual: int) -> str | None:
    """Why bits beyond local_file and network keep the rule from calling the job compliant; None if they do not.

    A rule with ``flags`` or ``allowed_flags`` says which flags a job may have, so bits no helper-token
    flag we know defines (a later BITS may) cannot be judged by it; ``forbidden_flags`` and
    ``helper_token`` name only what we know, and are judged on the known bits alone.
    """
    unknown = actual & ~KNOWN_MASK
    if not unknown or (rule.expect.flags is None and rule.expect.allowed is None):
        return None
    return ("its flags have bits 0x%X that no helper-token flag known to this collection defines; rule %s "
            "says which flags a job may have, so judge those bits by hand (bits_helper_token keeps them)"
            % (unknown, rule.name))


def _flag_names_are(bits: int) -> str:
    names = names_from_host(bits) or []
    return "%s %s" % (", ".join(names), "is" if len(names) == 1 else "are")


def flags_comply(expect: Expect, actual: int) -> bool:
    """Whether the flags satisfy every flag expectation of the rule (true when it has none)."""
    if expect.flags is not None and actual != expect.flags:
        return False
    if expect.allowed is not None and actual & ~expect.allowed:
        return False
    return expect.forbidden is None or not actual & expect.forbidden


def fixed_flags(expect: Expect, actual: int) -> int:
    """The flags that satisfy the rule while changing as little as possible of what the job has.

    Bits that no Windows we know defines cannot be written by the module, so a fix drops them.
    """
    if expect.flags is not None:
        return expect.flags
    target = actual & KNOWN_MASK
    if expect.allowed is not None:
        target &= expect.allowed
    if expect.forbidden is not None:
        target &= ~expect.forbidden
    return target


def build_fix(host: str, job_id: object, job_name: object, rule: Rule, actual: int,
              token_sid: object = None) -> dict[str, t.Any] | None:
    """The bits_helper_token call that brings the job in line; None when nothing it can write is wrong.

    Wrong flags are set to what the rule wants; a helper token the rule forbids is cleared
    (helper_token: absent). A missing token the rule wants is not fixed: whose token it should be
    is not the policy's to invent. A job is addressed by its GUID (unique, and found whoever owns it);
    one without a readable, well-formed GUID gets no fix rather than one that might touch another job.
    """
    flags_wrong = not flags_comply(rule.expect, actual)
    clear_token = rule.expect.helper_token == "absent" and token_sid is not None
    if not (flags_wrong or clear_token) or not isinstance(job_id, str) or not is_guid(job_id):
        return None
    names = canonical_names(fixed_flags(rule.expect, actual)) if flags_wrong else None
    args: dict[str, t.Any] = {"job": job_id}
    words = ["job=%s" % job_id]
    if names is not None:
        args["flags"] = names
        words.append("flags=%s" % ",".join(names))
    if clear_token:
        args["helper_token"] = "absent"
        words.append("helper_token=absent")
    return {
        "module": FIX_MODULE,
        "args": args,
        "task": fix_task_text(rule.name, job_name, job_id, names, clear_token),
        # An ad-hoc key=value string: the GUID, the canonical flag names and `absent` need no quoting.
        "command": "ansible %s -m %s -a %s" % (shlex.quote(adhoc_pattern(host)), FIX_MODULE,
                                               shlex.quote(" ".join(words))),
    }


def adhoc_pattern(host: str) -> str:
    """A host pattern of the ``ansible`` command that selects this inventory name and runs nothing.

    The command templates its pattern (a host named ``{{ lookup('pipe', ...) }}`` would run on the
    controller), and reads ``,``, ``:``, ``!``, ``&``, ``*``, ``?`` and ``[`` as pattern syntax. A plain
    name is written as it is; any other becomes an anchored regular expression (``~``) in which every
    other character is a hexadecimal escape, so that no brace or separator is left.
    """
    if _PLAIN_HOST.fullmatch(host):
        return host
    return "~^%s\\Z" % "".join(char if char.isascii() and (char.isalnum() or char in "_-") else _escape(char)
                               for char in host)


def _escape(char: str) -> str:
    code = ord(char)
    return "\\x%02x" % code if code < 0x100 else "\\u%04x" % code if code < 0x10000 else "\\U%08x" % code


def fix_task_text(rule_name: str, job_name: object, job_id: str, flags: list[str] | None,
                  clear_token: bool = False) -> str:
    """The YAML of a one-task list that runs the fix, as yaml.safe_dump writes it.

    Dumping is the costly part of judging a large fleet, and fleets repeat job names, so the text
    is dumped once per rule, name, flags and token action with a placeholder GUID, which is then
    replaced by the job's. That is exact: both are braced hexadecimal GUIDs, which YAML quotes alike,
    and the placeholder must occur exactly once (else the task is dumped afresh).
    """
    flag_key = None if flags is None else tuple(flags)
    if _BRACED_GUID.fullmatch(job_id):
        template = _task_template(rule_name, job_name if isinstance(job_name, str) else None, flag_key, clear_token)
        if template.count(_PLACEHOLDER_GUID) == 1:
            return template.replace(_PLACEHOLDER_GUID, job_id)
    return dump_task(rule_name, job_name, job_id, flags, clear_token)


@functools.lru_cache(maxsize=4096)
def _task_template(rule_name: str, job_name: str | None, flags: tuple[str, ...] | None, clear_token: bool) -> str:
    return dump_task(rule_name, job_name, _PLACEHOLDER_GUID, None if flags is None else list(flags), clear_token)


def dump_task(rule_name: str, job_name: object, job_id: str, flags: list[str] | None,
              clear_token: bool = False) -> str:
    """The task; only its ``name`` carries text from a host or a policy, and that is ``!unsafe``.

    The module's arguments are the job's GUID (checked to be one), canonical flag names and
    ``absent``: nothing a template could be hidden in.
    """
    label = "BITS job %s" % job_name if isinstance(job_name, str) else "a BITS job"
    args: dict[str, t.Any] = {"job": job_id}
    if flags is not None:
        args["flags"] = flags
    if clear_token:
        args["helper_token"] = "absent"
    task = [{"name": _UnsafeText("Apply policy rule %s to %s" % (rule_name, label)), FIX_MODULE: args}]
    return yaml.dump(task, Dumper=_FixDumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=1000)


def host_status(jobs: list[dict[str, t.Any]]) -> tuple[str, str | None]:
    statuses = [job["status"] for job in jobs]
    unassessed = statuses.count("unassessed")
    if unassessed:
        return "not_assessed", "%d job%s unassessed" % (unassessed, "" if unassessed == 1 else "s")
    if "violation" in statuses:
        return "noncompliant", None
    return "compliant", None


def summarise(policy: Policy, hosts: list[dict[str, t.Any]]) -> dict[str, t.Any]:
    host_counts = dict.fromkeys(HOST_STATUSES, 0)
    job_counts = dict.fromkeys(JOB_STATUSES, 0)
    rule_counts = {rule.name: dict.fromkeys(RULE_COUNTS, 0) for rule in policy.rules}
    for host in hosts:
        host_counts[host["status"]] += 1
        for job in host["jobs"]:
            job_counts[job["status"]] += 1
            if job["rule"] is not None:
                rule_counts[job["rule"]][job["status"]] += 1
    return {"hosts": {"total": len(hosts), **host_counts},
            "jobs": {"total": sum(job_counts.values()), **job_counts},
            "rules": rule_counts}
