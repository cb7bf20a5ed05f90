# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of winbits.bits.bits_compliance_report: evaluate the policy, write the fleet report.

Runs on the controller only; it never contacts a host. Every option, the policy and the previous
report are checked before anything is written, and a bad one fails with a message that names it.
Modes:
- ``report``: the registered results of ``hosts`` (from hostvars) -> the report in ``dest``;
- ``host_results``: the same results saved as one ``<host>.json`` each in ``results_dir`` (sliced runs);
- ``aggregate``: every ``*.json`` of ``results_dir`` -> the report in ``dest``.
Checking a policy and planning enforcement are winbits.bits.bits_policy's.
"""
from __future__ import annotations

import datetime
import typing as t
from collections import abc
from pathlib import Path

from ansible_collections.winbits.bits.plugins.plugin_utils._action import OptionError
from ansible_collections.winbits.bits.plugins.plugin_utils._policy.action import (
    PolicyAction,
    collect_results,
    parse_as_of,
)
from ansible_collections.winbits.bits.plugins.plugin_utils._report.build import (
    FORMATS,
    RenderedFile,
    PolicyEvaluation,
    ReportError,
    WrittenFile,
    assess_and_write,
    file_text,
    load_previous_index,
    read_text,
    write_files,
)
from ansible_collections.winbits.bits.plugins.plugin_utils._report.host_results import (
    ResultsError,
    ResultsListing,
    render_result_file,
    result_file_name,
)

NAME = "bits_compliance_report"
MODES = ("report", "host_results", "aggregate")
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
    "workers": {"type": "int", "default": 0},
}
REQUIRED_IF = [
    ("mode", "report", ("dest",)),
    ("mode", "aggregate", ("dest", "results_dir")),
    ("mode", "host_results", ("results_dir",)),
]


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


class ActionModule(PolicyAction):
    # Reports are output, so the roles run this task with check_mode: false; in check mode the plugin
    # computes and compares everything and writes nothing.
    NAME = NAME
    ARGUMENT_SPEC = ARGUMENT_SPEC
    REQUIRED_IF = REQUIRED_IF

    def act(self, options: dict[str, t.Any], task_vars: abc.Mapping[str, t.Any]) -> dict[str, t.Any]:
        today = parse_as_of(options["as_of"], datetime.date.today())
        policy = self.policy(options["policy"])
        mode = options["mode"]
        if options["workers"] < 0:
            raise OptionError(f"workers: must be 0 (one per CPU) or a number of processes, not {options['workers']}")
        read = None
        if mode == "aggregate":
            # Each host's file is read when its turn comes, while the report is written (see
            # ResultsListing); a bad file stops the writing before the new set replaces anything.
            try:
                listing = ResultsListing(self.local_path(options["results_dir"]), options["hosts"] or [])
            except ResultsError as error:
                raise OptionError(f"results_dir: {error}") from None
            results, read = listing.items, listing.read
        else:
            hosts = options["hosts"] if options["hosts"] is not None else task_vars.get("ansible_play_hosts_all") or []
            collected = collect_results(task_vars.get("hostvars") or {}, hosts, options["result_var"])
            if mode == "host_results":
                return self._save_host_results(collected, self.local_path(options["results_dir"]))
            results = sorted(collected.items())
        try:
            previous = load_previous_index(self.local_path(options["previous"])) if options["previous"] else None
        except ReportError as error:
            raise OptionError(f"previous: {error}") from None
        try:
            report, files = assess_and_write(
                PolicyEvaluation(policy, today), results, self.local_path(options["dest"]), options["formats"],
                generated_at=datetime.datetime.now(datetime.timezone.utc), previous=previous,
                write=not self._task.check_mode, workers=options["workers"], read=read)
        except ResultsError as error:
            raise OptionError(f"results_dir: {error}") from None
        except OSError as error:
            raise OptionError(f"dest: cannot write {error.filename or ''}: {error.strerror or error}") from None
        return self._outcome(report, files, fail_on_violation=options["fail_on_violation"])

    def _save_host_results(self, results: abc.Mapping[str, t.Any], directory: Path) -> dict[str, t.Any]:
        files = []
        for host, host_result in sorted(results.items()):
            path = directory / result_file_name(host)
            text = render_result_file(host, host_result)
            old = read_text(path)
            files.append(RenderedFile("host_result", path, text, old != file_text(text)))
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

    def _outcome(self, report: abc.Mapping[str, t.Any], files: list[WrittenFile], *,
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
