# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of winbits.bits.bits_compliance_report: evaluate the policy, write the fleet report.

Runs on the controller only; it never contacts a host. Every option, the policy and the previous
report are checked before anything is written, and a bad one fails with a message that names it.
Modes:
- ``report``: the registered results of ``hosts`` (from hostvars) -> the report in ``dest``;
- ``host_results``: the same results saved as one ``<host>.json`` each in ``results_dir`` (sliced runs);
- ``aggregate``: every ``*.json`` of ``results_dir`` -> the report in ``dest``;
- ``validate``: only load and check the policy (the role does this before any host is contacted);
- ``plan``: the registered result of the task's own host -> the bits_helper_token calls that enforce
  the policy there (the bits_enforce role loops over them).
"""
from __future__ import annotations

import datetime
import os
import re
import typing as t
from collections import abc
from pathlib import Path

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.winbits.bits.plugins.plugin_utils.bits_policy import (
    PolicyError,
    evaluate_fleet,
    evaluate_host,
    load_policy,
)
from ansible_collections.winbits.bits.plugins.plugin_utils.bits_enforce_plan import (
    enforcement_plan,
    failure_message,
    plan_message,
    unfixable_warnings,
)
from ansible_collections.winbits.bits.plugins.plugin_utils.bits_report import (
    FORMATS,
    RenderedFile,
    ReportError,
    build_report,
    load_previous_report,
    read_text,
    render_reports,
    write_files,
)
from ansible_collections.winbits.bits.plugins.plugin_utils.bits_report_results import (
    ResultsError,
    collect_results,
    plain,
    read_results_dir,
    registered_result,
    render_result_file,
    result_file_name,
)

NAME = "bits_compliance_report"
MODES = ("report", "host_results", "aggregate", "validate", "plan")
ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {
    "policy": {"type": "raw", "required": True},
    "dest": {"type": "path"},
    "mode": {"type": "str", "default": "report", "choices": list(MODES)},
    "hosts": {"type": "list", "elements": "str"},
    "result_var": {"type": "str", "default": "bits_report_info"},
    "results_dir": {"type": "path"},
    "previous": {"type": "path"},
    "formats": {"type": "list", "elements": "str", "default": list(FORMATS), "choices": list(FORMATS)},
    "as_of": {"type": "str"},
    "fail_on_violation": {"type": "bool", "default": False},
}
REQUIRED_IF = [
    ("mode", "report", ("dest",)),
    ("mode", "aggregate", ("dest", "results_dir")),
    ("mode", "host_results", ("results_dir",)),
]
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


class OptionError(ValueError):
    """A task option that cannot be used; the message starts with the option's name."""


def parse_as_of(value: str | None, today: datetime.date) -> datetime.date:
    if value is None:
        return today
    try:
        if not _DATE.fullmatch(value):
            raise ValueError("not YYYY-MM-DD")
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise OptionError(f"as_of: {value!r} is not a date; expected YYYY-MM-DD, e.g. 2026-11-21") from None


def summary_message(assessment: abc.Mapping[str, t.Any]) -> str:
    hosts = assessment["summary"]["hosts"]
    jobs = assessment["summary"]["jobs"]
    return (f"{hosts['total']} hosts: {hosts['compliant']} compliant, {hosts['noncompliant']} noncompliant, "
            f"{hosts['not_assessed']} not assessed; {jobs['total']} jobs: {jobs['violation']} violations, "
            f"{jobs['waived']} waived, {jobs['unassessed']} unassessed, {jobs['unmanaged']} unmanaged")


def drift_counts(drift: abc.Mapping[str, t.Any] | None) -> dict[str, int] | None:
    if drift is None:
        return None
    return {kind: len(drift.get(kind) or []) for kind in ("became_noncompliant", "fixed", "appeared", "disappeared")}


class ActionModule(ActionBase):
    # Check mode: everything is computed and compared, nothing written. Reports are output, so the
    # role runs this task with check_mode: false; the plugin itself respects check mode.
    _supports_check_mode = True
    _supports_async = False
    TRANSFERS_FILES = False

    def run(
        self,
        tmp: str | None = None,
        task_vars: dict[str, t.Any] | None = None,
    ) -> dict[str, t.Any]:
        if task_vars is None:
            task_vars = {}
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect
        result["changed"] = False
        try:
            outcome = self._run(task_vars)
        except OptionError as error:
            result.update(failed=True, msg=f"{NAME}: {error}")
            return result
        result.update(outcome)
        return result

    # --- options --------------------------------------------------------------------------------

    def _options(self) -> dict[str, t.Any]:
        validator = ArgumentSpecValidator(ARGUMENT_SPEC, required_if=REQUIRED_IF)
        validated = validator.validate(dict(self._task.args))
        if validated.error_messages:
            raise OptionError("; ".join(validated.error_messages))
        return validated.validated_parameters

    def _local_path(self, value: str) -> Path:
        """A controller path; a relative one is taken from the playbook's directory, as fetch does."""
        return Path(value if os.path.isabs(value) else self._loader.path_dwim(value))

    def _policy(self, value: object) -> t.Any:
        if isinstance(value, abc.Mapping):
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

    @staticmethod
    def _load_policy(source: t.Any, label: str) -> t.Any:
        """load_policy, with every problem of a bad policy in the message, each with its path."""
        try:
            return load_policy(source)
        except PolicyError as error:
            problems = list(getattr(error, "problems", None) or [str(error)])
            count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
            raise OptionError(f"{label} is not valid ({count}): " + "; ".join(problems)) from None
        except OSError as error:
            raise OptionError(f"{label}: cannot be read: {error}") from None

    # --- the work -------------------------------------------------------------------------------

    def _run(self, task_vars: abc.Mapping[str, t.Any]) -> dict[str, t.Any]:
        options = self._options()
        today = parse_as_of(options["as_of"], datetime.date.today())
        policy = self._policy(options["policy"])
        mode = options["mode"]
        if mode == "validate":
            return {"policy": {"version": policy.version, "digest": policy.digest,
                               "rules": [rule.name for rule in policy.rules]},
                    "msg": f"the policy is valid: {len(policy.rules)} rules, {len(policy.waivers)} waivers"}
        if mode == "plan":
            if options["hosts"] is not None:
                raise OptionError("hosts: not used with mode=plan, which plans for the task's own host "
                                  "(inventory_hostname); run the task on the hosts to plan for")
            return self._plan(policy, task_vars, options["result_var"], today)
        if mode == "aggregate":
            try:
                results = read_results_dir(self._local_path(options["results_dir"]))
            except ResultsError as error:
                raise OptionError(f"results_dir: {error}") from None
            for host in options["hosts"] or []:
                results.setdefault(host, None)
        else:
            hosts = options["hosts"] if options["hosts"] is not None else task_vars.get("ansible_play_hosts_all") or []
            results = collect_results(task_vars.get("hostvars") or {}, hosts, options["result_var"])
        if mode == "host_results":
            return self._save_host_results(results, self._local_path(options["results_dir"]))
        try:
            previous = load_previous_report(self._local_path(options["previous"])) if options["previous"] else None
        except ReportError as error:
            raise OptionError(f"previous: {error}") from None
        assessment = evaluate_fleet(policy, results, today=today)
        report = build_report(assessment, generated_at=datetime.datetime.now(datetime.timezone.utc), previous=previous)
        files = render_reports(report, self._local_path(options["dest"]), options["formats"])
        if not self._task.check_mode:
            self._write(files, "dest")
        return self._outcome(report, files, fail_on_violation=options["fail_on_violation"])

    @staticmethod
    def _plan(policy: t.Any, task_vars: abc.Mapping[str, t.Any], result_var: str,
              today: datetime.date) -> dict[str, t.Any]:
        """The fixes for this host, judged by the same evaluation as the report; nothing is written."""
        host = task_vars.get("inventory_hostname")
        if not isinstance(host, str) or not host:
            raise OptionError("mode=plan: the task has no inventory_hostname to plan for")
        result = registered_result(task_vars.get("hostvars") or {}, host, result_var)
        plan = enforcement_plan(evaluate_host(policy, host, result, today=today))
        outcome: dict[str, t.Any] = {**plan, "as_of": today.isoformat(), "failure": failure_message(plan),
                                     "msg": plan_message(plan)}
        warnings = unfixable_warnings(plan)
        if warnings:
            outcome["warnings"] = warnings
        return outcome

    def _save_host_results(self, results: abc.Mapping[str, t.Any], directory: Path) -> dict[str, t.Any]:
        files = []
        for host, host_result in sorted(results.items()):
            path = directory / result_file_name(host)
            text = render_result_file(host, host_result)
            old = read_text(path)
            files.append(RenderedFile("host_result", path, text, old != text))
        if not self._task.check_mode:
            self._write([file for file in files if file.changed], "results_dir")
        missing = sorted(host for host, host_result in results.items() if host_result is None)
        return {
            "changed": any(file.changed for file in files),
            "host_results": [str(file.path) for file in files],
            "msg": f"{len(files)} host results in {directory}" + (f"; no result for {', '.join(missing)}" if missing else ""),
        }

    @staticmethod
    def _write(files: list[RenderedFile], option: str) -> None:
        try:
            write_files(files)
        except OSError as error:
            raise OptionError(f"{option}: cannot write {error.filename or ''}: {error.strerror or error}") from None

    def _outcome(self, report: abc.Mapping[str, t.Any], files: list[RenderedFile], *,
                 fail_on_violation: bool) -> dict[str, t.Any]:
        summary = report["summary"]
        outcome: dict[str, t.Any] = {
            "changed": any(file.changed for file in files),
            "summary": summary,
            "files": {file.format: str(file.path) for file in files},
            "drift": drift_counts(report.get("drift")),
            "as_of": report["as_of"],
            "generated_at": report["generated_at"],
            "msg": summary_message(report),
        }
        failing = summary["jobs"]["violation"] + summary["hosts"]["not_assessed"]
        if fail_on_violation and failing:
            outcome["failed"] = True
            outcome["msg"] = (f"{NAME}: fail_on_violation: {summary['jobs']['violation']} violations and "
                              f"{summary['hosts']['not_assessed']} hosts not assessed ({outcome['msg']}); "
                              f"the report is written: {', '.join(outcome['files'].values())}")
        return outcome
