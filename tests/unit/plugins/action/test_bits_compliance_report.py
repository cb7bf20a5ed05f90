"""The action plugin's own logic: options, hostvars, modes, per-host files, aggregation, previous, changed.

The policy evaluation (bits_policy) is replaced by a small fake here, so that these tests check what
the plugin does with its input and output, whatever the real evaluation decides.
"""
from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._policy import action as policy_action
from ansible_collections.winbits.bits.tests.unit.utils.action_fakes import run_controller_action
from ansible_collections.winbits.bits.tests.unit.utils.bits_report_assessment import (
    FakePolicyError,
    assessment,
    host,
    import_report_action,
    job,
)

action_module = import_report_action()
GOOD_POLICY = {"version": 1, "rules": [{"name": "content-sync", "match": {"job": "*"}, "expect": {"flags": ["local_file"]}}]}


class LoadedFake(dict):  # type: ignore[type-arg]
    """What FakePolicy.load_policy returns: the source, and no warnings (as a Policy has them)."""

    warnings: tuple[str, ...] = ()


class FakePolicy:
    """load_policy / evaluate_fleet stand-ins that record their calls.

    The evaluation: an unreachable, failed or missing result is not assessed; a job is compliant when
    its flags are exactly [local_file], a violation otherwise.
    """

    def __init__(self) -> None:
        self.loaded: list[object] = []
        self.evaluated: list[tuple[dict[str, t.Any], object]] = []

    def load_policy(self, source: object) -> object:
        self.loaded.append(source)
        data = source if isinstance(source, dict) else {"path": str(source)}
        problems = data.get("problems")
        if problems:
            raise FakePolicyError(list(problems))
        return LoadedFake(data)

    def evaluate_fleet(self, policy: object, results: t.Mapping[str, t.Any], *, today: object,
                       record: bool = True) -> dict[str, t.Any]:
        if record:
            self.evaluated.append((dict(results), today))
        hosts = []
        for name, result in results.items():
            if result is None:
                hosts.append(host(name, status="not_assessed", reason="no result"))
            elif result.get("unreachable"):
                hosts.append(host(name, status="not_assessed", reason=f"unreachable: {result.get('msg')}"))
            elif result.get("failed"):
                hosts.append(host(name, status="not_assessed", reason=f"failed: {result.get('msg')}"))
            else:
                hosts.append(host(name, [
                    job(number, host=name, name=item.get("name"), flags=item["flags"],
                        status="compliant" if item["flags"] == ["local_file"] else "violation",
                        problems=[] if item["flags"] == ["local_file"] else ["network is forbidden"])
                    for number, item in enumerate(result["jobs"], 1)]))
        return assessment(hosts, as_of=str(today))


class FakeEvaluation:
    """PolicyEvaluation (host by host) made of FakePolicy.evaluate_fleet; the fleet counts as evaluated once."""

    def __init__(self, fake: FakePolicy, policy: object, today: object) -> None:
        self.fake, self.policy, self.today = fake, policy, today
        self.results: dict[str, t.Any] = {}

    def host(self, name: str, result: t.Any) -> dict[str, t.Any]:
        self.results[name] = result
        return self.fake.evaluate_fleet(self.policy, {name: result}, today=self.today, record=False)["hosts"][0]

    def partial(self) -> dict[str, t.Any]:
        return dict(self.results)

    def absorb(self, results: dict[str, t.Any]) -> None:
        self.results.update(results)

    def head(self) -> dict[str, t.Any]:
        fleet = self.fake.evaluate_fleet(self.policy, self.results, today=self.today)
        return {key: fleet[key] for key in ("policy", "as_of", "summary", "waivers")}


@pytest.fixture
def policy(monkeypatch: pytest.MonkeyPatch) -> FakePolicy:
    fake = FakePolicy()
    # Loading is the policy actions' shared code; evaluating, the report action's own.
    monkeypatch.setattr(policy_action, "load_policy", fake.load_policy)
    monkeypatch.setattr(policy_action, "PolicyError", FakePolicyError)
    monkeypatch.setattr(action_module, "PolicyEvaluation",
                        lambda policy, today: FakeEvaluation(fake, policy, today))
    return fake


def info(*flags: list[str]) -> dict[str, t.Any]:
    """A registered bits_job_info result with one job per flags list."""
    caller = {"sid": "S-1-5-21-1-500", "is_admin": True, "os_build": 20348}
    return {"changed": False, "exists": bool(flags), "caller": caller,
            "jobs": [{"id": "{5D3B4C39-1F0A-4D5B-9E2F-%012X}" % index, "name": f"job{index}", "flags": list(item)}
                     for index, item in enumerate(flags)], "warnings": []}


HOSTVARS: dict[str, dict[str, t.Any]] = {
    "web01": {"bits_report_info": info(["local_file"])},
    "web02": {"bits_report_info": info(["local_file", "network"], ["local_file"])},
    "dead01": {"bits_report_info": {"unreachable": True, "msg": "connection refused", "changed": False}},
    "fail01": {"bits_report_info": {"failed": True, "msg": "BITS service disabled", "changed": False}},
    "skipped01": {},
}


def task_vars(hostvars: dict[str, dict[str, t.Any]] | None = None) -> dict[str, t.Any]:
    hostvars = HOSTVARS if hostvars is None else hostvars
    return {"hostvars": hostvars, "ansible_play_hosts_all": list(hostvars)}


def run(args: dict[str, t.Any], *, check_mode: bool = False, variables: dict[str, t.Any] | None = None,
        basedir: Path | None = None) -> dict[str, t.Any]:
    return run_controller_action(action_module.ActionModule, "winbits.bits.bits_compliance_report", args,
                                 variables if variables is not None else task_vars(), check_mode=check_mode,
                                 basedir=basedir)


def report_files(directory: Path) -> list[str]:
    return sorted(item.name for item in directory.iterdir()) if directory.exists() else []


# --- report mode -----------------------------------------------------------------------------------

def test_report_mode_reports_every_host_including_unreachable_failed_and_missing(
        tmp_path: Path, policy: FakePolicy) -> None:
    result = run({"policy": GOOD_POLICY, "dest": str(tmp_path / "out"), "as_of": "2026-11-21"})
    assert result.get("failed") is not True, result
    [(results, today)] = policy.evaluated
    assert str(today) == "2026-11-21"
    assert results["web02"] == HOSTVARS["web02"]["bits_report_info"]
    assert results["dead01"] == {"unreachable": True, "msg": "connection refused", "changed": False}
    assert results["fail01"]["failed"] is True and results["skipped01"] is None
    assert result["summary"]["hosts"] == {"total": 5, "compliant": 1, "noncompliant": 1, "not_assessed": 3}
    assert result["changed"] is True and result["drift"] is None
    assert report_files(tmp_path / "out") == ["bits-compliance.csv", "bits-compliance.html", "bits-compliance.json",
                                              "bits-compliance.jsonl", "bits-compliance.junit.xml"]
    written = json.loads((tmp_path / "out" / "bits-compliance.json").read_text())
    reasons = {entry["name"]: entry["reason"] for entry in written["hosts"]}
    assert reasons["dead01"] == "unreachable: connection refused" and reasons["skipped01"] == "no result"


def test_hosts_option_and_result_var(tmp_path: Path, policy: FakePolicy) -> None:
    variables = task_vars({"a": {"mine": info(["local_file"])}, "b": {"mine": info(["network"])}})
    result = run({"policy": GOOD_POLICY, "dest": str(tmp_path), "hosts": ["b"], "result_var": "mine"},
                 variables=variables)
    assert list(policy.evaluated[0][0]) == ["b"]
    assert result["summary"]["jobs"]["violation"] == 1


def test_second_identical_run_is_not_changed_and_a_change_is(tmp_path: Path, policy: FakePolicy) -> None:
    args = {"policy": GOOD_POLICY, "dest": str(tmp_path), "as_of": "2026-11-21"}
    assert run(args)["changed"] is True
    assert run(args)["changed"] is False
    hostvars = dict(HOSTVARS, web01={"bits_report_info": info(["network"])})
    assert run(args, variables=task_vars(hostvars))["changed"] is True


def test_check_mode_writes_nothing_but_says_what_would_change(tmp_path: Path, policy: FakePolicy) -> None:
    dest = tmp_path / "out"
    result = run({"policy": GOOD_POLICY, "dest": str(dest)}, check_mode=True)
    assert result["changed"] is True and not dest.exists()
    assert result["files"]["json"] == str(dest / "bits-compliance.json")


def test_relative_dest_is_taken_from_the_playbook_directory(tmp_path: Path, policy: FakePolicy) -> None:
    result = run({"policy": GOOD_POLICY, "dest": "reports", "formats": ["csv"]}, basedir=tmp_path)
    assert report_files(tmp_path / "reports") == ["bits-compliance.csv"]
    assert result["files"] == {"csv": str(tmp_path / "reports" / "bits-compliance.csv")}


def test_previous_report_gives_drift_even_when_it_is_the_file_replaced(tmp_path: Path, policy: FakePolicy) -> None:
    args = {"policy": GOOD_POLICY, "dest": str(tmp_path)}
    run(args)
    hostvars = dict(HOSTVARS, web01={"bits_report_info": info(["network"], ["local_file"])})
    result = run(dict(args, previous=str(tmp_path / "bits-compliance.json")), variables=task_vars(hostvars))
    assert result["drift"] == {"became_noncompliant": 1, "fixed": 0, "appeared": 1, "disappeared": 0}
    written = json.loads((tmp_path / "bits-compliance.json").read_text())
    assert [(item["host"], item["status"]) for item in written["drift"]["became_noncompliant"]] == [("web01", "violation")]


@pytest.mark.parametrize(("hostvars", "fails"), [
    ({"a": {"bits_report_info": info(["local_file"])}}, False),
    ({"a": {"bits_report_info": info(["network"])}}, True),
    ({"a": {"bits_report_info": {"unreachable": True, "msg": "x"}}}, True),
])
def test_fail_on_violation_fails_after_writing(tmp_path: Path, policy: FakePolicy, hostvars: dict[str, t.Any],
                                               fails: bool) -> None:
    result = run({"policy": GOOD_POLICY, "dest": str(tmp_path), "fail_on_violation": True},
                 variables=task_vars(hostvars))
    assert bool(result.get("failed")) is fails
    if fails:
        assert "fail_on_violation" in result["msg"] and str(tmp_path / "bits-compliance.html") in result["msg"]
    assert (tmp_path / "bits-compliance.json").exists()


def test_noncompliant_hosts_do_not_fail_the_task_by_default(tmp_path: Path, policy: FakePolicy) -> None:
    result = run({"policy": GOOD_POLICY, "dest": str(tmp_path)})
    assert result["summary"]["jobs"]["violation"] == 1 and "failed" not in result


# --- bad input fails before anything is written ----------------------------------------------------

@pytest.mark.parametrize(("args", "fragment"), [
    ({"mode": "everything"}, "value of mode must be one of: report, host_results, aggregate, got: everything"),
    ({"as_of": "2026-13-01"}, "as_of: '2026-13-01' is not a date; expected YYYY-MM-DD"),
    ({"as_of": "21/11/2026"}, "as_of: '21/11/2026' is not a date"),
    ({"formats": ["json", "pdf"]}, "formats"),
    ({"dest": None}, "dest"),
    ({"colour": "blue"}, "colour"),
    ({"policy": {"problems": ["rules[2].expect.flags[0]: 'bogus' is not a flag", "waivers[0].rule: no rule 'x'"]}},
     "policy is not valid (2 problems): rules[2].expect.flags[0]: 'bogus' is not a flag; waivers[0].rule: no rule 'x'"),
    ({"policy": 42}, "policy: expected the path of a policy file or the policy as a mapping, not int"),
    ({"policy": "/nonexistent/policy.yml"}, "policy: file not found: /nonexistent/policy.yml"),
    ({"previous": "/nonexistent/old.json"}, "previous: /nonexistent/old.json: no such file"),
    ({"mode": "aggregate"}, "results_dir"),
    ({"workers": -1}, "workers: must be 0 (one per CPU) or a number of processes, not -1"),
    ({"workers": "many"}, "workers"),
])
def test_bad_options_fail_naming_the_option_before_writing(tmp_path: Path, policy: FakePolicy,
                                                           args: dict[str, t.Any], fragment: str) -> None:
    dest = tmp_path / "out"
    full = {"policy": GOOD_POLICY, "dest": str(dest), **args}
    result = run({key: value for key, value in full.items() if value is not None})
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"].startswith("bits_compliance_report: ") and fragment in result["msg"], result["msg"]
    assert not dest.exists() and policy.evaluated == []


def test_policy_file_problems_name_the_file(tmp_path: Path, policy: FakePolicy, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "policy.yml"
    path.write_text("version: 1\n")

    def refuse(source: object) -> object:
        raise FakePolicyError(["rules: required"])

    monkeypatch.setattr(policy_action, "load_policy", refuse)
    result = run({"policy": str(path), "dest": str(tmp_path / "out")})
    assert result["msg"] == f"bits_compliance_report: policy {path} is not valid (1 problem): rules: required"


def test_corrupt_previous_report_fails_before_writing(tmp_path: Path, policy: FakePolicy) -> None:
    old = tmp_path / "old.json"
    old.write_text("{broken")
    result = run({"policy": GOOD_POLICY, "dest": str(tmp_path / "out"), "previous": str(old)})
    assert result["failed"] is True and f"previous: {old}: not a readable JSON report" in result["msg"]
    assert not (tmp_path / "out").exists()


def test_unwritable_dest_names_the_option(tmp_path: Path, policy: FakePolicy) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = run({"policy": GOOD_POLICY, "dest": str(blocker / "out")})
    assert result["failed"] is True and result["msg"].startswith("bits_compliance_report: dest: cannot write")


# --- host_results and aggregate --------------------------------------------------------------------

def test_host_results_saves_every_host_raw_including_unreachable_and_missing(
        tmp_path: Path, policy: FakePolicy) -> None:
    results_dir = tmp_path / "results"
    result = run({"policy": GOOD_POLICY, "mode": "host_results", "results_dir": str(results_dir)})
    assert result["changed"] is True and policy.evaluated == []
    assert report_files(results_dir) == ["dead01.json", "fail01.json", "skipped01.json", "web01.json", "web02.json"]
    saved = json.loads((results_dir / "dead01.json").read_text())
    assert saved == {"winbits_bits_host_result": 1, "host": "dead01", "result": HOSTVARS["dead01"]["bits_report_info"]}
    assert json.loads((results_dir / "skipped01.json").read_text())["result"] is None
    assert "no result for skipped01" in result["msg"]
    again = run({"policy": GOOD_POLICY, "mode": "host_results", "results_dir": str(results_dir)})
    assert again["changed"] is False


def test_host_results_in_check_mode_writes_nothing(tmp_path: Path, policy: FakePolicy) -> None:
    result = run({"policy": GOOD_POLICY, "mode": "host_results", "results_dir": str(tmp_path / "r")}, check_mode=True)
    assert result["changed"] is True and not (tmp_path / "r").exists()


def test_slices_then_aggregate_equal_one_run(tmp_path: Path, policy: FakePolicy) -> None:
    results_dir = tmp_path / "results"
    names = list(HOSTVARS)
    for piece in (names[:2], names[2:]):
        run({"policy": GOOD_POLICY, "mode": "host_results", "results_dir": str(results_dir)},
            variables=task_vars({name: HOSTVARS[name] for name in piece}))
    aggregated = run({"policy": GOOD_POLICY, "mode": "aggregate", "results_dir": str(results_dir),
                      "dest": str(tmp_path / "agg"), "as_of": "2026-11-21"})
    single = run({"policy": GOOD_POLICY, "dest": str(tmp_path / "one"), "as_of": "2026-11-21"})
    assert aggregated["summary"] == single["summary"]
    assert policy.evaluated[0][0] == policy.evaluated[1][0]
    one = json.loads((tmp_path / "one" / "bits-compliance.json").read_text())
    agg = json.loads((tmp_path / "agg" / "bits-compliance.json").read_text())
    assert agg["hosts"] == one["hosts"]


def test_aggregate_adds_expected_hosts_without_a_file(tmp_path: Path, policy: FakePolicy) -> None:
    results_dir = tmp_path / "results"
    run({"policy": GOOD_POLICY, "mode": "host_results", "results_dir": str(results_dir), "hosts": ["web01"]})
    result = run({"policy": GOOD_POLICY, "mode": "aggregate", "results_dir": str(results_dir),
                  "dest": str(tmp_path / "out"), "hosts": ["web01", "lost01"]})
    assert result["summary"]["hosts"] == {"total": 2, "compliant": 1, "noncompliant": 0, "not_assessed": 1}


@pytest.mark.parametrize(("name", "content", "fragment"), [
    ("bad.json", "{not json", "not a readable JSON host result"),
    ("other.json", '{"some": "thing"}', "not a host result written by mode=host_results"),
    ("nohost.json", '{"winbits_bits_host_result": 1, "host": "", "result": null}', "'host' must be a non-empty string"),
    ("list.json", '{"winbits_bits_host_result": 1, "host": "x", "result": [1]}', "'result' must be a mapping or null"),
])
def test_aggregate_refuses_a_corrupt_file_naming_it(tmp_path: Path, policy: FakePolicy, name: str, content: str,
                                                    fragment: str) -> None:
    results_dir = tmp_path / "results"
    run({"policy": GOOD_POLICY, "mode": "host_results", "results_dir": str(results_dir)})
    (results_dir / name).write_text(content)
    result = run({"policy": GOOD_POLICY, "mode": "aggregate", "results_dir": str(results_dir),
                  "dest": str(tmp_path / "out")})
    assert result["failed"] is True
    assert result["msg"].startswith(f"bits_compliance_report: results_dir: {results_dir / name}: "), result["msg"]
    assert fragment in result["msg"] and not (tmp_path / "out").exists()


def test_aggregate_refuses_a_host_saved_twice(tmp_path: Path, policy: FakePolicy) -> None:
    results_dir = tmp_path / "results"
    run({"policy": GOOD_POLICY, "mode": "host_results", "results_dir": str(results_dir), "hosts": ["web01"]})
    (results_dir / "copy.json").write_text((results_dir / "web01.json").read_text())
    result = run({"policy": GOOD_POLICY, "mode": "aggregate", "results_dir": str(results_dir),
                  "dest": str(tmp_path / "out")})
    assert "host 'web01' is already in" in result["msg"]


def test_aggregate_of_a_missing_directory(tmp_path: Path, policy: FakePolicy) -> None:
    result = run({"policy": GOOD_POLICY, "mode": "aggregate", "results_dir": str(tmp_path / "nope"),
                  "dest": str(tmp_path / "out")})
    assert result["msg"] == f"bits_compliance_report: results_dir: {tmp_path / 'nope'}: not a directory"


def test_host_names_that_are_not_file_names_round_trip(tmp_path: Path, policy: FakePolicy) -> None:
    odd = "../etc/passwd host"
    results_dir = tmp_path / "results"
    run({"policy": GOOD_POLICY, "mode": "host_results", "results_dir": str(results_dir)},
        variables=task_vars({odd: {"bits_report_info": info(["local_file"])}}))
    assert report_files(results_dir) == ["%2E.%2Fetc%2Fpasswd%20host.json"]
    run({"policy": GOOD_POLICY, "mode": "aggregate", "results_dir": str(results_dir), "dest": str(tmp_path / "o")})
    assert list(policy.evaluated[-1][0]) == [odd]


def test_a_lone_surrogate_from_a_host_fails_no_mode(tmp_path: Path, policy: FakePolicy) -> None:
    """A host may send half a UTF-16 pair in a job's name; UTF-8 cannot carry it: U+FFFD instead, in every file."""
    hostvars = {"web01": {"bits_report_info": info(["local_file"])}}
    hostvars["web01"]["bits_report_info"]["jobs"][0]["name"] = "half\ud800pair"
    variables = task_vars(hostvars)
    report = run({"policy": GOOD_POLICY, "dest": str(tmp_path / "one")}, variables=variables)
    assert report.get("failed") is not True, report
    saved = run({"policy": GOOD_POLICY, "mode": "host_results", "results_dir": str(tmp_path / "r")},
                variables=variables)
    assert saved.get("failed") is not True, saved
    again = run({"policy": GOOD_POLICY, "mode": "host_results", "results_dir": str(tmp_path / "r")},
                variables=variables)
    assert again["changed"] is False
    aggregated = run({"policy": GOOD_POLICY, "mode": "aggregate", "results_dir": str(tmp_path / "r"),
                      "dest": str(tmp_path / "agg")})
    assert aggregated.get("failed") is not True, aggregated
    for directory in ("one", "agg"):
        for path in (tmp_path / directory).iterdir():
            text = path.read_text(encoding="utf-8")
            # The HTML shows the code point (invisible characters), the other formats the replacement.
            assert "half\ufffdpair" in text or "half⟨U+D800⟩pair" in text, path
