"""Loading and validating the compliance policy file (docs/docsite/rst/guide_policy.rst)."""
from __future__ import annotations

import copy
import datetime
import re
import textwrap
import time
import typing as t
from pathlib import Path

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._policy import PolicyError, load_policy
from tests.support.paths import REPO

HINT = "allowed: local_file, network (any case, BG_TOKEN_ prefix optional) or a number 0-3 (3, 0x0003)"
EXPECT_KINDS = ("flags (exactly these), allowed_flags (a subset of these), forbidden_flags (none of these), "
                "helper_token (present or absent)")
JOB_HINT = "give one string or a list of display-name globs or GUIDs (leave the key out to select all)"
OWNER_HINT = "give one string or a list of SIDs or DOMAIN\\user accounts (leave the key out to select all)"
HOSTS_HINT = "give one string or a list of inventory hostname globs (leave the key out to select all)"
GUID = "{5D3B4C39-1F0A-4D5B-9E2F-000000000001}"

ISSUE_EXAMPLE = """\
version: 1
rules:
  - name: content-sync                 # unique; reports refer to rules by name
    description: contentSync needs the helper token for its temp file and the SMB share
    match: {job: contentSync}
    expect: {flags: [local_file, network]}   # exactly these
  - name: user-jobs
    match: {job: "user*"}
    expect: {allowed_flags: [local_file]}    # a subset of these
  - name: no-network
    match: {job: "*"}
    expect: {forbidden_flags: [network]}     # none of these; also helper_token: present|absent
waivers:
  - {rule: no-network, hosts: "backup*", job: backupUpload, reason: "CHG-1234", expires: "2027-03-31"}
"""


def base_policy() -> dict[str, t.Any]:
    """A valid policy that each malformed case below breaks in one place."""
    return {
        "version": 1,
        "rules": [
            {"name": "content-sync", "description": "the sync job", "match": {"job": "contentSync"},
             "expect": {"flags": ["local_file", "network"]}},
            {"name": "no-network", "match": {"job": "*"}, "expect": {"forbidden_flags": ["network"]}},
        ],
        "waivers": [{"rule": "no-network", "hosts": "backup*", "reason": "CHG-1234", "expires": "2027-03-31"}],
    }


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(source: object) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load_policy(source)
    return caught.value.problems


# --- valid policies ---------------------------------------------------------------------------------

def test_the_issue_example_loads_from_a_file(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, ISSUE_EXAMPLE))
    assert [rule.name for rule in policy.rules] == ["content-sync", "user-jobs", "no-network"]
    assert policy.rules[0].expect.flags == 3
    assert policy.rules[1].expect.allowed == 1
    assert policy.rules[2].expect.forbidden == 2
    waiver = policy.waivers[0]
    assert (waiver.rule, waiver.reason, waiver.expires) == ("no-network", "CHG-1234", datetime.date(2027, 3, 31))
    assert waiver.selection.hosts is not None and waiver.selection.hosts.matches("backup01")
    assert not waiver.selection.hosts.matches("web01")


def test_a_path_given_as_str_and_a_mapping_give_the_same_policy(tmp_path: Path) -> None:
    from_file = load_policy(str(write(tmp_path, ISSUE_EXAMPLE)))
    import yaml
    from_mapping = load_policy(yaml.safe_load(ISSUE_EXAMPLE))
    assert from_file.to_dict() == from_mapping.to_dict()
    assert from_file.digest == from_mapping.digest


def test_a_policy_as_ansible_loads_it_gives_the_same_policy(tmp_path: Path) -> None:
    # A policy given as a variable comes through Ansible's loader: its own str/dict/date subclasses.
    from ansible.parsing.dataloader import DataLoader
    data = DataLoader().load(ISSUE_EXAMPLE.replace('"2027-03-31"', "2027-03-31"))
    assert load_policy(data).digest == load_policy(write(tmp_path, ISSUE_EXAMPLE)).digest
    data["rules"][0]["description"] = DataLoader().load("[1]")
    assert problems_of(data) == ["rules[0].description: is a list; it must be a string (quote it)"]


def test_every_flag_form_normalises_to_the_same_policy_and_digest() -> None:
    forms = [["local_file", "network"], ["BG_TOKEN_NETWORK", "Local_File"], 3, "0x0003", "local_file,network",
             ["1", 2]]
    policies = []
    for form in forms:
        data = base_policy()
        data["rules"][0]["expect"] = {"flags": form}
        policies.append(load_policy(data))
    assert {policy.digest for policy in policies} == {policies[0].digest}
    assert policies[0].to_dict()["rules"][0]["expect"] == {"flags": ["local_file", "network"]}


def test_the_digest_changes_with_the_policy() -> None:
    data = base_policy()
    before = load_policy(data).digest
    data["waivers"][0]["expires"] = "2027-04-01"
    assert load_policy(data).digest != before
    assert before.startswith("sha256:") and len(before) == len("sha256:") + 64


def test_rules_keep_their_order() -> None:
    data = base_policy()
    data["rules"] = [{"name": name, "match": {"job": name}, "expect": {"flags": []}} for name in "zyxabc"]
    data["waivers"] = []
    assert [rule.name for rule in load_policy(data).rules] == list("zyxabc")


def test_optional_parts_may_be_left_out() -> None:
    policy = load_policy({"version": 1, "rules": [{"name": "all", "expect": {"helper_token": "absent"}}]})
    rule = policy.rules[0]
    assert rule.match.job is None and rule.match.owner is None and rule.match.hosts is None
    assert rule.description is None
    assert policy.waivers == ()
    assert load_policy({"version": 1, "rules": [{"name": "all", "expect": {"flags": 0}}], "waivers": None}).waivers == ()


def test_a_date_object_is_accepted_for_expires() -> None:
    data = base_policy()
    data["waivers"][0]["expires"] = datetime.date(2027, 3, 31)
    assert load_policy(data).waivers[0].expires == datetime.date(2027, 3, 31)


def test_an_unquoted_yaml_date_is_read_as_a_date(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        version: 1
        rules: [{name: r, expect: {flags: []}}]
        waivers: [{rule: r, reason: why, expires: 2027-03-31}]
        """)
    assert load_policy(path).waivers[0].expires == datetime.date(2027, 3, 31)


def test_selectors_take_a_string_or_a_list() -> None:
    data = base_policy()
    data["rules"][0]["match"] = {"job": ["contentSync", GUID.lower().strip("{}")], "owner": ["S-1-5-18", "CORP\\svc"],
                                 "hosts": ["web*", "db?"]}
    match = load_policy(data).rules[0].match
    assert match.to_dict() == {"job": ["contentSync", GUID.lower().strip("{}")], "owner": ["S-1-5-18", "CORP\\svc"],
                               "hosts": ["web*", "db?"]}


# --- malformed policies: input -> exactly these problems ----------------------------------------------

def broken(change: t.Callable[[dict[str, t.Any]], None]) -> dict[str, t.Any]:
    data = copy.deepcopy(base_policy())
    change(data)
    return data


def set_path(*keys: t.Any, value: t.Any) -> t.Callable[[dict[str, t.Any]], None]:
    def change(data: dict[str, t.Any]) -> None:
        target = data
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return change


def delete_path(*keys: t.Any) -> t.Callable[[dict[str, t.Any]], None]:
    def change(data: dict[str, t.Any]) -> None:
        target = data
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]
    return change


MALFORMED = [
    pytest.param(broken(delete_path("version")),
                 ["version: missing; write version: 1 (the only version of this format)"], id="version-missing"),
    pytest.param(broken(set_path("version", value=2)),
                 ["version: 2 is not supported; the only version of this format is 1"], id="version-2"),
    pytest.param(broken(set_path("version", value=True)),
                 ["version: True is not supported; the only version of this format is 1"], id="version-bool"),
    pytest.param(broken(set_path("version", value="1")),
                 ["version: '1' is not supported; the only version of this format is 1"], id="version-string"),
    pytest.param(broken(set_path("rule", value=[])),
                 ["rule: unknown key (did you mean 'rules'?); allowed keys of the policy: version, rules, waivers"],
                 id="unknown-top-key"),
    pytest.param(broken(delete_path("rules")),
                 ["rules: missing; a policy needs a list of at least one rule",
                  "waivers[0].rule: 'no-network' is not the name of any rule; rules: none"], id="rules-missing"),
    pytest.param(broken(set_path("rules", value=[])),
                 ["rules: is empty; a policy needs at least one rule",
                  "waivers[0].rule: 'no-network' is not the name of any rule; rules: none"], id="rules-empty"),
    pytest.param(broken(set_path("rules", value={"name": "x"})),
                 ["rules: is a mapping; give a list of rules",
                  "waivers[0].rule: 'no-network' is not the name of any rule; rules: none"], id="rules-not-list"),
    pytest.param(broken(set_path("rules", 0, value="content-sync")),
                 ["rules[0]: is a string; a rule is a mapping with the keys name, description, match, expect"],
                 id="rule-not-mapping"),
    pytest.param(broken(set_path("rules", 0, "mach", value={})),
                 ["rules[0].mach: unknown key (did you mean 'match'?); allowed keys of a rule: name, description, match, "
                  "expect"], id="unknown-rule-key"),
    pytest.param(broken(set_path("rules", 0, "match", "jobs", value="x")),
                 ["rules[0].match.jobs: unknown key (did you mean 'job'?); allowed keys of match: job, owner, hosts"],
                 id="unknown-match-key"),
    pytest.param(broken(set_path("rules", 0, "expect", "flag", value=[])),
                 ["rules[0].expect.flag: unknown key (did you mean 'flags'?); allowed keys of expect: flags, "
                  "allowed_flags, forbidden_flags, helper_token"], id="unknown-expect-key"),
    pytest.param(broken(set_path("waivers", 0, "until", value="2027-01-01")),
                 ["waivers[0].until: unknown key; allowed keys of a waiver: rule, hosts, job, owner, reason, expires"],
                 id="unknown-waiver-key"),
    pytest.param(broken(delete_path("rules", 1, "name")),
                 ["rules[1].name: missing; every rule needs a unique name",
                  "waivers[0].rule: 'no-network' is not the name of any rule; rules: content-sync"], id="name-missing"),
    pytest.param(broken(set_path("rules", 0, "name", value="  ")),
                 ["rules[0].name: is empty; every rule needs a unique name"], id="name-empty"),
    pytest.param(broken(set_path("rules", 0, "name", value=7)),
                 ["rules[0].name: is an integer, not a string; every rule needs a unique name"], id="name-not-string"),
    pytest.param(broken(set_path("rules", 1, "name", value="content-sync")),
                 ["rules[1].name: 'content-sync' is already the name of rules[0]; rule names must be unique",
                  "waivers[0].rule: 'no-network' is not the name of any rule; rules: content-sync"], id="name-duplicate"),
    pytest.param(broken(set_path("rules", 0, "description", value=["a"])),
                 ["rules[0].description: is a list; it must be a string (quote it)"], id="description-not-string"),
    pytest.param(broken(set_path("rules", 0, "match", value="contentSync")),
                 ["rules[0].match: is a string; match is a mapping with the keys job, owner, hosts (leave it out to "
                  "select every job)"], id="match-not-mapping"),
    pytest.param(broken(set_path("rules", 0, "match", "job", value="")),
                 ["rules[0].match.job: is an empty string; " + JOB_HINT], id="job-empty-string"),
    pytest.param(broken(set_path("rules", 0, "match", "job", value=[])),
                 ["rules[0].match.job: is an empty list; " + JOB_HINT], id="job-empty-list"),
    pytest.param(broken(set_path("rules", 0, "match", "job", value=["ok", 5, ""])),
                 ["rules[0].match.job[1]: is an integer; " + JOB_HINT,
                  "rules[0].match.job[2]: is an empty string; " + JOB_HINT], id="job-bad-items"),
    pytest.param(broken(set_path("rules", 0, "match", "job", value=["ok", "{5D3B4C39-1F0A-4D5B-9E2F-00000000001}"])),
                 ["rules[0].match.job[1]: '{5D3B4C39-1F0A-4D5B-9E2F-00000000001}' looks like a GUID but is malformed "
                  "(its groups have 8-4-4-4-11 digits instead of 8-4-4-4-12); expected "
                  "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hexadecimal digits, braces optional)"], id="job-bad-guid"),
    pytest.param(broken(set_path("rules", 0, "match", "job", value={"name": "x"})),
                 ["rules[0].match.job: is a mapping; " + JOB_HINT], id="job-mapping"),
    pytest.param(broken(set_path("rules", 0, "match", "owner", value="alice")),
                 ["rules[0].match.owner: 'alice' is neither a SID (S-1-5-...) nor an account DOMAIN\\user"],
                 id="owner-bare-user"),
    pytest.param(broken(set_path("rules", 0, "match", "owner", value=["S-1-5-18", "CORP\\svc-*", "S-1-x"])),
                 ["rules[0].match.owner[1]: 'CORP\\\\svc-*': owner takes no wildcards; give a SID or DOMAIN\\user",
                  "rules[0].match.owner[2]: 'S-1-x' is neither a SID (S-1-5-...) nor an account DOMAIN\\user"],
                 id="owner-wildcard-and-bad-sid"),
    pytest.param(broken(set_path("rules", 0, "match", "owner", value=None)),
                 ["rules[0].match.owner: is null; " + OWNER_HINT], id="owner-null"),
    pytest.param(broken(set_path("rules", 0, "match", "hosts", value=3)),
                 ["rules[0].match.hosts: is an integer; " + HOSTS_HINT], id="hosts-not-string"),
    pytest.param(broken(delete_path("rules", 0, "expect")),
                 ["rules[0].expect: missing; say what the rule expects: " + EXPECT_KINDS], id="expect-missing"),
    pytest.param(broken(set_path("rules", 0, "expect", value={})),
                 ["rules[0].expect: is empty; say what the rule expects: " + EXPECT_KINDS], id="expect-empty"),
    pytest.param(broken(set_path("rules", 0, "expect", value=None)),
                 ["rules[0].expect: is empty; say what the rule expects: " + EXPECT_KINDS], id="expect-null"),
    pytest.param(broken(set_path("rules", 0, "expect", value=["local_file"])),
                 ["rules[0].expect: is a list; expect is a mapping of " + EXPECT_KINDS], id="expect-list"),
    pytest.param(broken(set_path("rules", 0, "expect", "flags", value=["local_file", "bogus"])),
                 ["rules[0].expect.flags[1]: unknown flag name 'bogus'; " + HINT], id="flag-unknown-name"),
    pytest.param(broken(set_path("rules", 1, "expect", "forbidden_flags", value="network,bogus")),
                 ["rules[1].expect.forbidden_flags: unknown flag name 'bogus'; " + HINT], id="flag-comma-string"),
    pytest.param(broken(set_path("rules", 0, "expect", "flags", value=[4, -1, 1.5, True, "", "0x10"])),
                 ["rules[0].expect.flags[0]: 4 sets bits 0x4 that are not helper-token flags (only 0x0001 and "
                  "0x0002 exist); " + HINT,
                  "rules[0].expect.flags[1]: -1 is negative; " + HINT,
                  "rules[0].expect.flags[2]: 1.5 is a float, not a flag; " + HINT,
                  "rules[0].expect.flags[3]: True is a boolean, not a flag; " + HINT,
                  "rules[0].expect.flags[4]: is an empty string; " + HINT,
                  "rules[0].expect.flags[5]: '0x10' sets bits 0x10 that are not helper-token flags (only 0x0001 "
                  "and 0x0002 exist); " + HINT], id="flag-bad-items"),
    pytest.param(broken(set_path("rules", 0, "expect", "flags", value=None)),
                 ["rules[0].expect.flags: is null; give a list of flags ([] for none); " + HINT], id="flags-null"),
    pytest.param(broken(set_path("rules", 0, "expect", value={"flags": [], "allowed_flags": [1]})),
                 ["rules[0].expect: flags (exactly these) cannot be combined with allowed_flags or forbidden_flags; "
                  "use one or the other"], id="flags-with-allowed"),
    pytest.param(broken(set_path("rules", 0, "expect", value={"flags": [], "forbidden_flags": [2]})),
                 ["rules[0].expect: flags (exactly these) cannot be combined with allowed_flags or forbidden_flags; "
                  "use one or the other"], id="flags-with-forbidden"),
    pytest.param(broken(set_path("rules", 0, "expect", value={"allowed_flags": 3, "forbidden_flags": "network"})),
                 ["rules[0].expect: network is both allowed and forbidden"], id="allowed-and-forbidden"),
    pytest.param(broken(set_path("rules", 0, "expect", value={"helper_token": "yes"})),
                 ["rules[0].expect.helper_token: 'yes' is not allowed; allowed: present, absent"], id="helper-token-bad"),
    pytest.param(broken(set_path("waivers", value={"rule": "no-network"})),
                 ["waivers: is a mapping; give a list of waivers"], id="waivers-not-list"),
    pytest.param(broken(set_path("waivers", 0, value="no-network")),
                 ["waivers[0]: is a string; a waiver is a mapping with the keys rule, hosts, job, owner, reason, "
                  "expires"], id="waiver-not-mapping"),
    pytest.param(broken(set_path("waivers", 0, "rule", value="no-netwrok")),
                 ["waivers[0].rule: 'no-netwrok' is not the name of any rule (did you mean 'no-network'?); rules: "
                  "content-sync, no-network"], id="waiver-unknown-rule"),
    pytest.param(broken(delete_path("waivers", 0, "rule")),
                 ["waivers[0].rule: missing; name the rule this waiver exempts jobs from"], id="waiver-rule-missing"),
    pytest.param(broken(delete_path("waivers", 0, "reason")),
                 ["waivers[0].reason: missing; say why (a change or risk-acceptance reference)"],
                 id="waiver-reason-missing"),
    pytest.param(broken(set_path("waivers", 0, "reason", value=1234)),
                 ["waivers[0].reason: is an integer, not a string; say why (a change or risk-acceptance reference)"],
                 id="waiver-reason-number"),
    pytest.param(broken(delete_path("waivers", 0, "expires")),
                 ["waivers[0].expires: missing; give the last day the waiver counts, as YYYY-MM-DD"],
                 id="waiver-expires-missing"),
    pytest.param(broken(set_path("waivers", 0, "expires", value="31/03/2027")),
                 ["waivers[0].expires: '31/03/2027' is not a date of the form YYYY-MM-DD"], id="date-wrong-form"),
    pytest.param(broken(set_path("waivers", 0, "expires", value="2027-02-30")),
                 ["waivers[0].expires: '2027-02-30' is not a valid date (day is out of range for month)"],
                 id="date-invalid"),
    pytest.param(broken(set_path("waivers", 0, "expires", value=20270331)),
                 ["waivers[0].expires: 20270331 is not a date of the form YYYY-MM-DD"], id="date-number"),
    pytest.param(broken(set_path("waivers", 0, "expires", value=datetime.datetime(2027, 3, 31, 12, 0))),
                 ["waivers[0].expires: 2027-03-31T12:00:00 is a date and time; give a date, YYYY-MM-DD"],
                 id="date-and-time"),
    pytest.param(broken(set_path("waivers", 0, "job", value="{5D3B4C391F0A4D5B9E2F00000000001}")),
                 ["waivers[0].job: '{5D3B4C391F0A4D5B9E2F00000000001}' looks like a GUID but is malformed (its groups "
                  "have 31 digits instead of 8-4-4-4-12); expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hexadecimal "
                  "digits, braces optional)"], id="waiver-bad-guid"),
    pytest.param(broken(set_path("waivers", 0, "owner", value="nobody")),
                 ["waivers[0].owner: 'nobody' is neither a SID (S-1-5-...) nor an account DOMAIN\\user"],
                 id="waiver-bad-owner"),
]


@pytest.mark.parametrize(("data", "expected"), MALFORMED)
def test_a_malformed_policy_lists_exactly_its_problems(data: object, expected: list[str]) -> None:
    assert problems_of(data) == expected


def test_every_problem_is_collected_before_raising() -> None:
    data = {
        "version": 3,
        "rules": [{"name": "a", "expect": {}}, {"name": "a", "expect": {"flags": ["nope"]}}],
        "waivers": [{"rule": "b", "reason": "r", "expires": "tomorrow"}],
    }
    assert problems_of(data) == [
        "version: 3 is not supported; the only version of this format is 1",
        "rules[0].expect: is empty; say what the rule expects: " + EXPECT_KINDS,
        "rules[1].name: 'a' is already the name of rules[0]; rule names must be unique",
        "rules[1].expect.flags[0]: unknown flag name 'nope'; " + HINT,
        "waivers[0].rule: 'b' is not the name of any rule; rules: a",
        "waivers[0].expires: 'tomorrow' is not a date of the form YYYY-MM-DD",
    ]


def test_the_message_names_the_source_and_lists_every_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 2\nrules: []\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert str(caught.value) == (
        "policy file %s has 2 problems:\n"
        "  - version: 2 is not supported; the only version of this format is 1\n"
        "  - rules: is empty; a policy needs at least one rule" % path
    )
    assert isinstance(caught.value, ValueError)


def test_a_mapping_source_is_called_the_policy() -> None:
    with pytest.raises(PolicyError, match=r"^the policy has 1 problem:\n  - version: missing"):
        load_policy({"rules": [{"name": "a", "expect": {"flags": []}}]})


# --- problems of the file itself ----------------------------------------------------------------------

def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yml"
    assert problems_of(path) == ["%s: cannot read the policy file: No such file or directory" % path]


def test_a_yaml_syntax_error_gives_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        version: 1
        rules:
          - name: a
            expect: {flags: [local_file]
          - name: b
        """)
    assert problems_of(path) == [
        "%s: line 5, column 3: YAML syntax error: expected ',' or '}', but got '-' "
        "(while parsing a flow mapping on line 4)" % path
    ]


def test_an_empty_file(tmp_path: Path) -> None:
    assert problems_of(write(tmp_path, "# nothing yet\n")) == [
        "policy: is empty; a policy is a mapping with the keys version, rules, waivers"
    ]


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yml"
    path.write_bytes("version: 1 # caf\u00e9\n".encode("latin-1"))
    assert problems_of(path) == ["%s: the policy file is not UTF-8 text (invalid continuation byte)" % path]


def test_a_duplicate_key_is_a_problem_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        version: 1
        rules:
          - name: a
            expect: {flags: [local_file]}
            expect: {flags: [network]}
        """)
    assert problems_of(path) == ["line 5: key 'expect' appears again (first on line 4); a key may appear only once"]


def test_an_invalid_unquoted_date_is_a_problem_with_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        version: 1
        rules: [{name: r, expect: {flags: []}}]
        waivers: [{rule: r, reason: why, expires: 2027-02-30}]
        """)
    assert problems_of(path) == ["waivers[0].expires: '2027-02-30' is not a valid date (day is out of range for month)"]


def test_a_file_whose_document_is_not_a_mapping(tmp_path: Path) -> None:
    assert problems_of(write(tmp_path, "- version: 1\n")) == [
        "policy: is a list; a policy is a mapping with the keys version, rules, waivers"
    ]


@pytest.mark.parametrize(("source", "kind"), [(42, "int"), ([{"version": 1}], "list"), (None, "NoneType")])
def test_a_source_of_another_type_is_refused(source: object, kind: str) -> None:
    assert problems_of(source) == ["policy: a %s is neither the path of a policy file nor a mapping" % kind]


# --- the policy guide (docs/docsite/rst/guide_policy.rst) stays true -------------------------------------

def _doc_block(heading: str, language: str) -> str:
    """The first ``code-block`` of that language after the heading, as it reads without its indent."""
    text = (REPO / "docs" / "docsite" / "rst" / "guide_policy.rst").read_text(encoding="utf-8")
    section = text.split("\n%s\n" % heading, 1)[1]
    block = section.split(".. code-block:: %s\n\n" % language, 1)[1]
    lines = []
    for line in block.splitlines():
        if line and not line.startswith(" "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines)).strip("\n") + "\n"


def test_the_documented_full_example_loads(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, _doc_block("A full example", "yaml")))
    assert [rule.name for rule in policy.rules] == ["content-sync", "pinned-job", "system-updates", "user-jobs",
                                                    "no-network"]
    assert len(policy.waivers) == 2


def test_the_documented_mistakes_are_the_messages_given(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        version: 1
        rules:
          - {name: content-sync, mach: {job: contentSync}, expect: {flags: 3}}
          - {name: user-jobs, expect: {allowed_flags: [local_file]}}
          - {name: no-network, expect: {flags: [bogus]}}
        waivers:
          - {rule: no-netwrok, reason: CHG-1, expires: "2027-02-30"}
        """)
    documented = [line[len("  - "):] for line in _doc_block("Mistakes in the policy", "text").splitlines()[1:]]
    assert problems_of(path) == documented


# --- bounds: a hostile or mistaken file is refused quickly, with its place --------------------------

def _alias_bomb(key: str) -> str:
    """Nine levels of nine aliases each: 9**9 (387 million) nodes once expanded, in ten lines."""
    lines = ['x0: &x0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += ["x%d: &x%d [%s]" % (level, level, ", ".join(["*x%d" % (level - 1)] * 9)) for level in range(1, 9)]
    # Anchors are defined under a key the policy does not know (a problem, not the point), then used.
    return "junk:\n" + "".join("  %s\n" % line for line in lines) + key


BOUNDED = {
    "an alias bomb in version": (_alias_bomb("version: *x8\nrules: []\n"), "line 3, column 12: YAML aliases (*x0)"),
    "an alias bomb in expires": (_alias_bomb("version: 1\nrules: []\nwaivers: [{expires: *x8}]\n"),
                                 "YAML aliases (*x0) are not allowed in a policy; write the value out"),
    "an alias bomb in helper_token": (
        _alias_bomb("version: 1\nrules: [{name: a, expect: {helper_token: *x8}}]\n"), "YAML aliases"),
    "a 5,000-digit integer": ("version: %s\nrules: []\n" % ("9" * 5000),
                              "line 1, column 10: a number of 5000 characters; a policy's numbers have at most 32"),
    "a 5,000-digit float": ("version: 1.%s\nrules: []\n" % ("5" * 5000), "a number of 5002 characters"),
    "10,000 levels of flow nesting": ("version: 1\nrules: %s%s\n" % ("[" * 10_000, "]" * 10_000),
                                      "line 2, column 39: nested more than 32 levels deep, the most a policy may be"),
    "10,000 levels of mappings": ("version: 1\nrules: %s1%s\n" % ("{a: " * 10_000, "}" * 10_000),
                                  "nested more than 32 levels deep"),
    "an oversize file": ("version: 1\nrules: []\n# %s\n" % ("x" * (1024 * 1024)),
                         "the policy file is larger than 1048576 bytes (1 MiB), the most a policy may be"),
    "too many nodes": ("version: 1\nrules: [%s]\n" % ", ".join(["a"] * 30_000),
                       "the policy has more than 20000 YAML nodes"),
}


@pytest.mark.parametrize("text, message", BOUNDED.values(), ids=list(BOUNDED))
def test_a_policy_file_beyond_the_bounds_is_refused_at_once_with_its_place(tmp_path: Path, text: str,
                                                                           message: str) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(text, encoding="utf-8")
    started = time.monotonic()
    problems = problems_of(path)
    # Not a benchmark (well under a second alone): without the bounds these hang for minutes or raise
    # RecursionError or ValueError.
    assert time.monotonic() - started < 30
    assert len(problems) == 1 and problems[0].startswith("%s: " % path) and message in problems[0], problems


def _nested(levels: int) -> list[t.Any]:
    outer: list[t.Any] = []
    inner = outer
    for _level in range(levels):
        inner.append([])
        inner = inner[0]
    return outer


def _shared(levels: int) -> list[t.Any]:
    """What another YAML loader makes of an alias bomb: one list referenced nine times per level."""
    value: list[t.Any] = ["lol"] * 9
    for _level in range(levels):
        value = [value] * 9
    return value


@pytest.mark.parametrize("policy, message", [
    ({"version": 1, "rules": _nested(10_000)}, "policy: is nested more than 32 levels deep"),
    ({"version": 1, "rules": [{"name": "a", "expect": {"helper_token": _shared(9)}}]},
     "policy: has more than 20000 values"),
    ({"version": 10 ** 5000, "rules": []}, "policy: holds a number of more than 32 digits"),
], ids=["nesting", "shared references", "a 5,000-digit integer"])
def test_a_policy_mapping_beyond_the_bounds_is_refused_at_once(policy: dict[str, t.Any], message: str) -> None:
    started = time.monotonic()
    problems = problems_of(policy)
    assert time.monotonic() - started < 30
    assert len(problems) == 1 and problems[0].startswith(message), problems


# --- waivers that name no owner -----------------------------------------------------------------------

def _waiver_policy(**waiver: t.Any) -> dict[str, t.Any]:
    return {"version": 1, "rules": [{"name": "no-network", "expect": {"forbidden_flags": ["network"]}}],
            "waivers": [{"rule": "no-network", "reason": "CHG-1234", "expires": "2027-03-31", **waiver}]}


def test_a_waiver_by_display_name_without_an_owner_warns() -> None:
    policy = load_policy(_waiver_policy(hosts="backup*", job="backupUpload"))
    assert policy.warnings == (
        "waivers[0]: names no owner, so any user of a host it selects can name a job 'backupUpload' and have it "
        "waived from rule no-network; add owner: (the SID or DOMAIN\\user that runs the job)",)
    assert policy.waivers[0].names_owner is False


@pytest.mark.parametrize("waiver, warns", [
    ({"hosts": "backup*"}, True),
    ({"job": ["backup*", GUID]}, True),
    ({"job": "backupUpload", "owner": "S-1-5-18"}, False),
    ({"owner": "CORP\\svc-backup"}, False),
    ({"job": GUID}, False),
], ids=["hosts only", "a name and a GUID", "name and owner", "owner only", "GUID only"])
def test_which_waivers_warn(waiver: dict[str, t.Any], warns: bool) -> None:
    policy = load_policy(_waiver_policy(**waiver))
    assert bool(policy.warnings) is warns and policy.waivers[0].names_owner is not warns


def test_the_examples_and_docs_name_the_owner_of_every_waiver(tmp_path: Path) -> None:
    assert load_policy(str(REPO / "examples" / "bits_policy.yml")).warnings == ()
    assert load_policy(write(tmp_path, _doc_block("A full example", "yaml"))).warnings == ()
    for readme in (REPO / "README.md", REPO / "roles" / "bits_report" / "README.md"):
        for block in _yaml_blocks(readme.read_text(encoding="utf-8")):
            if block.startswith("version: 1"):
                assert load_policy(write(tmp_path, block)).warnings == (), readme


def _yaml_blocks(text: str) -> list[str]:
    return [block.split("\n", 1)[1] if block.startswith("#") else block
            for block in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)]
