"""The evaluation fails closed, shown on every combination of unread facts across rules of every kind.

Each job below is built from one choice per fact (id, display name, owner SID and name, flags, helper
token, an unrelated failed call, the shape in which the host lists its failed calls), and judged alone
on a host by single-rule and ordered policies of every kind. A small reference judge, written from the
policy guide and independent of the code, then judges every job the host's facts could be: each
unread fact replaced by each value it could have. What must hold:

- a host is never ``compliant`` while one of its jobs could be in violation under some reading of the
  facts the host could not read (each job status holds under every completion: compliant, waived and
  unmanaged ones exactly, a violation never turns compliant);
- when every fact was read, the status is exactly the reference's;
- a job whose flags were read is reported with them, whatever else failed.
"""
from __future__ import annotations

import datetime
import fnmatch
import functools
import itertools
import random
import typing as t

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._flags import names_from_host
from ansible_collections.winbits.bits.plugins.plugin_utils._policy import evaluate_host, load_policy

TODAY = datetime.date(2026, 11, 21)
HOST = "web01"
GUID_A = "{5D3B4C39-1F0A-4D5B-9E2F-00000000000A}"
GUID_B = "{5D3B4C39-1F0A-4D5B-9E2F-00000000000B}"
SYSTEM_SID = "S-1-5-18"
ALICE_SID = "S-1-5-21-1000-1000-1000-1013"
BOB_SID = "S-1-5-21-1000-1000-1000-1014"
TOKEN_SID = "S-1-5-21-1000-1000-1000-2001"
# The accounts a job can truly have: (SID, the names hosts of each language give it).
ACCOUNTS = {
    SYSTEM_SID: ("NT AUTHORITY\\SYSTEM", "AUTORITE NT\\Système", "NT-AUTORITÄT\\SYSTEM"),
    ALICE_SID: ("CORP\\alice",),
    BOB_SID: ("CORP\\bob",),
}
# Well-known names as the policy guide lists them (the reference does not use the code's table).
REFERENCE_WELL_KNOWN = {"nt authority\\system": SYSTEM_SID, "system": SYSTEM_SID, "localsystem": SYSTEM_SID}
UNREAD = object()   # a fact the host could not read


def failure(call: str) -> dict[str, t.Any]:
    return {"reason": "com_error", "call": call, "hresult": 2147942405, "hresult_hex": "0x80070005",
            "explanation": "access denied to %s" % call}


class Facts(t.NamedTuple):
    """One job's facts: a value, or UNREAD. owner_name None = read SID, name not resolved."""

    id: object
    name: object
    owner: object
    owner_name: object
    flags: object
    token: object        # None (no token), TOKEN_SID, or UNREAD
    token_options: bool  # False: QueryInterface(IBitsTokenOptions) failed (flags and token unread)
    unrelated: str | None   # a failed call that costs no fact a rule reads
    shape: str           # how the host lists its failed calls


IDS = (GUID_A, GUID_B, UNREAD)
NAMES = ("contentSync", "reportUpload", UNREAD)
# (The German name of SYSTEM and unknown flag bits have tests of their own below and elsewhere.)
OWNERS = ((SYSTEM_SID, "NT AUTHORITY\\SYSTEM"), (SYSTEM_SID, "AUTORITE NT\\Système"), (ALICE_SID, "CORP\\alice"),
          (ALICE_SID, None), (BOB_SID, "CORP\\bob"), (UNREAD, None))
FLAGS = (0, 1, 2, 3, UNREAD)
TOKENS = (None, TOKEN_SID, UNREAD, "no-token-options")
UNRELATED = (None, "GetClientCertificate", "GetState")
SHAPES = ("both", "single", "list")


def all_facts() -> t.Iterator[Facts]:
    turn = itertools.count()
    for job_id, name, (owner, owner_name), flags, token, unrelated in itertools.product(
            IDS, NAMES, OWNERS, FLAGS, TOKENS, UNRELATED):
        token_options = token != "no-token-options"
        if not token_options:
            flags, token = UNREAD, UNREAD
        failures = _failed_calls(job_id, name, owner, flags, token, token_options, unrelated)
        # The shape matters only with two failures or more; cover each shape once in turn otherwise.
        shapes = SHAPES if len(failures) > 1 else (SHAPES[next(turn) % 3],)
        for shape in shapes:
            yield Facts(job_id, name, owner, owner_name, flags, token, token_options, unrelated, shape)


def _failed_calls(job_id: object, name: object, owner: object, flags: object, token: object,
                  token_options: bool, unrelated: str | None) -> list[str]:
    """The calls a host would list as failed for these facts, in its reading order."""
    calls = [call for call, fact in (("GetId", job_id), ("GetDisplayName", name), ("GetOwner", owner))
             if fact is UNREAD]
    if unrelated:
        calls.append(unrelated)
    if not token_options:
        return calls + ["QueryInterface(IBitsTokenOptions)"]
    if flags is UNREAD:
        calls.append("GetHelperTokenFlags")
    if token is UNREAD:
        calls.append("GetHelperTokenSid")
    return calls


def host_job(facts: Facts) -> dict[str, t.Any]:
    """The job as bits_job_info reports it: unread facts null, each failed call listed."""
    def value(fact: object) -> object:
        return None if fact is UNREAD else fact

    flags = value(facts.flags)
    job: dict[str, t.Any] = {
        "id": value(facts.id), "name": value(facts.name), "owner": value(facts.owner), "owner_name": facts.owner_name,
        "state": None if facts.unrelated == "GetState" else "SUSPENDED", "type": "DOWNLOAD",
        "flags": names_from_host(flags), "flags_value": flags,
        "unknown_flags_value": None if flags is None else flags & ~3,
        "helper_token_sid": value(facts.token), "helper_token_name": "CORP\\svc" if facts.token == TOKEN_SID else None,
        "client_certificate": None, "creation_time": None, "modification_time": None, "error": None,
    }
    failed = _failed_calls(facts.id, facts.name, facts.owner, facts.flags, facts.token, facts.token_options,
                           facts.unrelated)
    failures = [failure(call) for call in failed]
    if facts.shape == "both":
        job.update(read_errors=failures, read_error=failures[0] if failures else None)
    elif facts.shape == "single":       # an older host: the first failure only
        job.update(read_error=failures[0] if failures else None)
    else:                               # the list only
        job.update(read_errors=failures, read_error=None)
    return job


# --- rules of every kind, and the reference judge ---------------------------------------------------

RULES: dict[str, dict[str, t.Any]] = {
    "by-name": {"match": {"job": "contentSync"}, "expect": {"flags": ["local_file", "network"]}},
    "by-glob": {"match": {"job": "*Upload"}, "expect": {"forbidden_flags": ["network"]}},
    "by-guid": {"match": {"job": GUID_A}, "expect": {"allowed_flags": ["local_file"]}},
    "by-sid": {"match": {"owner": SYSTEM_SID}, "expect": {"allowed_flags": ["local_file"]}},
    "by-well-known": {"match": {"owner": "NT AUTHORITY\\SYSTEM"}, "expect": {"forbidden_flags": ["network"]}},
    "by-bare-well-known": {"match": {"owner": "localsystem"}, "expect": {"flags": []}},
    "by-account": {"match": {"owner": "corp\\ALICE"}, "expect": {"allowed_flags": ["local_file"]}},
    "by-both": {"match": {"job": "contentSync", "owner": ["CORP\\bob", SYSTEM_SID]}, "expect": {"flags": ["network"]}},
    "token-present": {"expect": {"helper_token": "present"}},
    "token-absent": {"match": {"job": "*"}, "expect": {"helper_token": "absent", "allowed_flags": [1, 2]}},
    "other-host": {"match": {"hosts": "db*"}, "expect": {"flags": []}},
    "everything": {"expect": {"allowed_flags": []}},
}
WAIVERS = [
    {"rule": "by-well-known", "owner": "nt authority\\system", "job": "reportUpload", "reason": "CHG-1", "expires": "2027-01-31"},
    {"rule": "by-glob", "owner": "CORP\\alice", "reason": "CHG-2", "expires": "2027-01-31"},
    {"rule": "everything", "job": GUID_B, "reason": "CHG-3", "expires": "2026-01-31"},   # expired
]
POLICIES = [[name] for name in RULES] + [
    ["by-account", "by-well-known", "everything"], ["by-name", "by-sid", "token-absent"],
    ["by-guid", "by-glob", "token-present"], ["other-host", "by-both", "by-bare-well-known", "everything"],
]


def _flag_bits(value: t.Any) -> int:
    names = {"local_file": 1, "network": 2}
    return sum(names[item] if isinstance(item, str) else item for item in value)


def reference_selects(match: dict[str, t.Any], job_id: str, name: str, owner: str, owner_name: str) -> bool:
    if "hosts" in match and not any(fnmatch.fnmatchcase(HOST, pattern) for pattern in _listed(match["hosts"])):
        return False
    if "job" in match and not any(pattern == job_id or fnmatch.fnmatchcase(name, pattern)
                                  for pattern in _listed(match["job"])):
        return False
    if "owner" in match:
        def owns(written: str) -> bool:
            sid = REFERENCE_WELL_KNOWN.get(written.casefold(), written if written.startswith("S-1-") else None)
            return owner == sid if sid else owner_name.casefold() == written.casefold()
        if not any(owns(written) for written in _listed(match["owner"])):
            return False
    return True


def _listed(value: t.Any) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def reference_complies(expect: dict[str, t.Any], flags: int, token: str | None) -> bool:
    if "flags" in expect and flags != _flag_bits(expect["flags"]):
        return False
    if "allowed_flags" in expect and flags & ~_flag_bits(expect["allowed_flags"]):
        return False
    if "forbidden_flags" in expect and flags & _flag_bits(expect["forbidden_flags"]):
        return False
    return {"present": token is not None, "absent": token is None}.get(expect.get("helper_token"), True)


@functools.lru_cache(maxsize=None)
def reference_status(rule_names: tuple[str, ...], world: tuple[str, str, str, str, int, str | None]) -> str:
    job_id, name, owner, owner_name, flags, token = world
    for rule_name in rule_names:
        rule = RULES[rule_name]
        if reference_selects(rule.get("match", {}), job_id, name, owner, owner_name):
            if reference_complies(rule["expect"], flags, token):
                return "compliant"
            waived = any(waiver["rule"] == rule_name and waiver["expires"] >= TODAY.isoformat()
                         and reference_selects(waiver, job_id, name, owner, owner_name) for waiver in WAIVERS)
            return "waived" if waived else "violation"
    return "unmanaged"


def completions(facts: Facts) -> t.Iterator[tuple[str, str, str, str, int, str | None]]:
    """Every job the host's facts could stand for: each unread fact takes each value it could have."""
    ids = (GUID_A, GUID_B) if facts.id is UNREAD else (facts.id,)
    names = ("contentSync", "reportUpload", "other") if facts.name is UNREAD else (facts.name,)
    if facts.owner is UNREAD:
        owners = [(sid, account) for sid, accounts in ACCOUNTS.items() for account in accounts]
    elif facts.owner_name is None:      # the SID was read, its account name was not: any name is possible
        owners = [(facts.owner, account) for accounts in ACCOUNTS.values() for account in accounts]
    else:
        owners = [(facts.owner, facts.owner_name)]
    flag_values = range(4) if facts.flags is UNREAD else (facts.flags,)
    tokens = (None, TOKEN_SID) if facts.token is UNREAD else (facts.token,)
    for job_id, name, (owner, owner_name), flags, token in itertools.product(ids, names, owners, flag_values, tokens):
        yield job_id, name, owner, owner_name, flags, token


@functools.lru_cache(maxsize=None)
def possible_statuses(rule_names: tuple[str, ...], facts: Facts) -> frozenset[str]:
    """The reference's status of every job these facts could stand for (the shape of the failures aside)."""
    return frozenset(reference_status(rule_names, world) for world in completions(facts._replace(shape="")))


def policy_of(rule_names: list[str]) -> t.Any:
    rules = [{"name": name, **RULES[name]} for name in rule_names]
    return load_policy({"version": 1, "rules": rules,
                        "waivers": [waiver for waiver in WAIVERS if waiver["rule"] in rule_names]})


ALL_FACTS = list(all_facts())
ALL_JOBS = [(facts, host_job(facts)) for facts in ALL_FACTS]
# Under every completion, a job status must be one of these (fail closed: only towards "not compliant").
ALLOWED_UNDER = {
    "compliant": {"compliant"},
    "waived": {"waived"},
    "unmanaged": {"unmanaged"},
    "violation": {"violation", "waived"},
    "unassessed": {"compliant", "violation", "waived", "unmanaged"},
}


@pytest.mark.parametrize("rule_names", POLICIES, ids=["+".join(names) for names in POLICIES])
def test_no_job_is_called_compliant_on_facts_that_were_not_read(rule_names: list[str]) -> None:
    policy = policy_of(rule_names)
    assert len(ALL_FACTS) > 2000
    for facts, host_facts in ALL_JOBS:
        host = evaluate_host(policy, HOST, {"changed": False, "jobs": [host_facts]}, today=TODAY)
        [job] = host["jobs"]
        possible = possible_statuses(tuple(rule_names), facts)
        assert possible <= ALLOWED_UNDER[job["status"]], (facts, job["status"], possible, job["problems"])
        if host["status"] == "compliant":
            assert possible <= {"compliant", "waived", "unmanaged"}, (facts, possible)
        if len(possible) > 1:
            assert host["status"] != "compliant", (facts, possible)


@pytest.mark.parametrize("rule_names", POLICIES, ids=["+".join(names) for names in POLICIES])
def test_a_job_whose_every_fact_was_read_gets_exactly_the_reference_status(rule_names: list[str]) -> None:
    policy = policy_of(rule_names)
    for facts in ALL_FACTS:
        # (A host that lists only its first failed call may have failed later ones: not every fact is known.)
        if UNREAD in facts or facts.owner_name is None or (facts.unrelated and facts.shape == "single"):
            continue
        [job] = evaluate_host(policy, HOST, {"changed": False, "jobs": [host_job(facts)]}, today=TODAY)["jobs"]
        [world] = completions(facts)
        assert job["status"] == reference_status(tuple(rule_names), world), (facts, job)


@pytest.mark.parametrize("rule_names", POLICIES[:4] + POLICIES[-4:], ids="+".join)
def test_a_job_whose_flags_were_read_is_reported_with_them(rule_names: list[str]) -> None:
    policy = policy_of(rule_names)
    for facts in ALL_FACTS:
        job = host_job(facts)
        if facts.flags is not UNREAD and facts.id is UNREAD:
            job.pop("flags")    # a result that sent only the value: the names are still shown
        [judged] = evaluate_host(policy, HOST, {"changed": False, "jobs": [job]}, today=TODAY)["jobs"]
        if facts.flags is UNREAD:
            assert judged["flags"] is None and judged["flags_value"] is None
        else:
            assert (judged["flags"], judged["flags_value"]) == (names_from_host(facts.flags), facts.flags), facts
        if judged["status"] == "unassessed":
            assert judged["problems"], facts     # and says why


def test_a_host_is_compliant_only_when_every_job_is_known_to_comply() -> None:
    """Hosts of many jobs drawn from every combination: one unknown or violating job is enough."""
    rule_names = ["by-account", "by-well-known", "token-absent", "everything"]
    policy = policy_of(rule_names)
    draw = random.Random(13)
    for _host in range(400):
        chosen = draw.sample(ALL_FACTS, draw.randint(1, 6))
        jobs = [host_job(facts) for facts in chosen]
        host = evaluate_host(policy, HOST, {"changed": False, "jobs": jobs}, today=TODAY)
        every_reading_complies = all(possible_statuses(tuple(rule_names), facts) <= {"compliant", "waived", "unmanaged"}
                                     for facts in chosen)
        if host["status"] == "compliant":
            assert every_reading_complies, chosen


@pytest.mark.parametrize("language_name", ACCOUNTS[SYSTEM_SID])
def test_a_rule_naming_system_in_english_selects_systems_jobs_in_every_language(language_name: str) -> None:
    policy = policy_of(["by-well-known", "everything"])
    job = host_job(Facts(GUID_A, "contentSync", SYSTEM_SID, language_name, 3, None, True, None, "both"))
    [judged] = evaluate_host(policy, HOST, {"changed": False, "jobs": [job]}, today=TODAY)["jobs"]
    assert (judged["rule"], judged["status"]) == ("by-well-known", "violation")
    host = evaluate_host(policy, HOST, {"changed": False, "jobs": [job]}, today=TODAY)
    assert host["status"] == "noncompliant"


@pytest.mark.parametrize(("expect", "status"), [("absent", "compliant"), ("present", "violation")])
def test_an_empty_helper_token_sid_is_no_token(expect: str, status: str) -> None:
    """A BITS that answers "" for "no token": the job has none, and no fix would clear it on every run."""
    policy = load_policy({"version": 1, "rules": [{"name": "token", "expect": {"helper_token": expect}}]})
    job = host_job(Facts(GUID_A, "contentSync", SYSTEM_SID, "NT AUTHORITY\\SYSTEM", 1, "", True, None, "both"))
    [judged] = evaluate_host(policy, HOST, {"changed": False, "jobs": [job]}, today=TODAY)["jobs"]
    assert judged["status"] == status and judged["fix"] is None
