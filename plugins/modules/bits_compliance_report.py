# -*- coding: utf-8 -*-
# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin plugins/action/bits_compliance_report.py
# on the controller, as ansible.builtin.template's is.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: bits_compliance_report
short_description: Evaluate a BITS helper-token policy over the fleet and write the compliance report
version_added: 1.0.0
description:
  - >-
    Runs on the controller only. Takes the results that M(winbits.bits.bits_job_info) registered on
    each host, evaluates them against a policy file, and writes the fleet report in
    O(dest): C(bits-compliance.json) (schema-versioned; sorted, so that two reports diff cleanly),
    C(bits-compliance.csv) (one row per host and job), C(bits-compliance.junit.xml) (one test case per
    host and job, a failure per violation) and C(bits-compliance.html) (one self-contained file, no
    outside address: summary, charts per rule and per host status, a job table that sorts and
    filters, each violation with the task that fixes it, drift, expired waivers).
  - Unreachable and failed hosts, and hosts without any result, are reported as not assessed, never
    dropped.
  - Every option, the policy (every problem with its path) and the previous report are checked
    before anything is written.
  - The task reports C(changed) only when a file's content differs apart from the generation time,
    so a second audit of an unchanged fleet reports no change. Files are written atomically.
  - With O(mode=host_results) and O(mode=aggregate), a sliced run (one play per slice of the
    inventory, as Automation Controller's job slicing does) still yields one fleet report.
  - The task fails only for bad input, or with O(fail_on_violation) after the report is written;
    noncompliant hosts do not fail it otherwise.
  - The role C(winbits.bits.bits_report) runs M(winbits.bits.bits_job_info) and this module; use the
    module directly for your own plays.
author:
  - winbits.bits contributors (@winbits)
options:
  dest:
    description:
      - Directory on the controller for the report files; created when missing. A relative path is
        taken from the playbook's directory.
      - Required with O(mode=report) and O(mode=aggregate).
    type: path
  mode:
    description:
      - >-
        V(report) reads the result of each host of O(hosts) from hostvars and writes the report.
      - >-
        V(host_results) writes one C(<host>.json) per host of O(hosts) into O(results_dir), the
        result as registered (unreachable and failed ones too, C(null) for a host without a
        result), and no report. A host name that is not a plain file name is percent-encoded.
      - >-
        V(aggregate) reads every C(*.json) of O(results_dir) and writes the report; a file that is
        not a host result written by V(host_results), or whose jobs do not have the types of a
        bits_job_info result, fails the task, naming the file and the first problem.
      - To check a policy alone, or plan its enforcement, use M(winbits.bits.bits_policy).
    type: str
    choices: [report, host_results, aggregate]
    default: report
  hosts:
    description:
      - The hosts to report on. Defaults to C(ansible_play_hosts_all) (every host of the play,
        including the failed and unreachable ones) in V(report) and V(host_results) modes.
      - With O(mode=aggregate), hosts listed here that have no file in O(results_dir) are reported
        as not assessed (no result); by default only the files found are reported.
    type: list
    elements: str
  result_var:
    description: Name of the variable that holds each host's registered M(winbits.bits.bits_job_info) result.
    type: str
    default: bits_report_info
  results_dir:
    description:
      - Directory on the controller for the per-host result files. Required with
        O(mode=host_results) and O(mode=aggregate).
    type: path
  previous:
    description:
      - >-
        A previous C(bits-compliance.json). The report then shows drift, by host and job GUID: jobs
        that became non-compliant, were fixed, appeared or disappeared.
      - It is read before anything is written, so it may be the report in O(dest) that this task
        replaces. A missing or unreadable file, or one that does not validate against the schema the
        collection ships (C(docs/schemas/bits-compliance.schema.json)), fails the task, naming the
        file and the first problem.
    type: path
  formats:
    description:
      - The formats to write, each one file in O(dest) - C(json) bits-compliance.json (every fact, valid
        against docs/schemas/bits-compliance.schema.json), C(csv) bits-compliance.csv (one row per host
        and job), C(junit) bits-compliance.junit.xml, C(html) bits-compliance.html, and C(jsonl)
        bits-compliance.jsonl (one JSON object per line with the CSV's fields, for Splunk, Elastic or Loki).
      - Every format is written host by host, and the set replaces the previous one whole or not at all.
    type: list
    elements: str
    choices: [json, csv, junit, html, jsonl]
    default: [json, csv, junit, html, jsonl]
  workers:
    description:
      - How many processes on the controller judge and write the hosts of O(mode=report) and
        O(mode=aggregate), each a contiguous slice of them in name order. The JSON, CSV, JUnit and
        JSON lines files are the same whatever the number; the HTML shows the same table, whose data
        comes in one block per process.
      - V(0) uses one per CPU this task may use, while each gets at least 1,000 hosts; smaller
        fleets are written by one process. V(1) never starts another process.
    type: int
    default: 0
  fail_on_violation:
    description:
      - Fail the task, after the report is written, when any job is in violation or any host is not
        assessed.
    type: bool
    default: false
extends_documentation_fragment:
  - winbits.bits.policy
  - winbits.bits.policy.controller_only
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: Computes the report and whether it would change, and writes nothing.
notes:
  - CSV cells that a spreadsheet would take as a formula (starting with C(=), C(+), C(-), C(@)) get
    a leading apostrophe; job names are chosen by any user of an audited host.
  - The HTML report carries a Content-Security-Policy that forbids every network request and
    allows only its own script.
seealso:
  - module: winbits.bits.bits_policy
  - module: winbits.bits.bits_job_info
  - module: winbits.bits.bits_helper_token
"""

EXAMPLES = r"""
- name: List the BITS jobs of every host
  winbits.bits.bits_job_info:
    all_users: true
  register: bits_report_info
  ignore_unreachable: true
  ignore_errors: true  # failed hosts are registered and reported as not assessed

- name: Write the fleet compliance report on the controller
  winbits.bits.bits_compliance_report:
    policy: policies/bits.yml
    dest: reports/bits
  run_once: true
  delegate_to: localhost
  check_mode: false  # reports are output, written in check mode too

- name: Compare with last month's report and fail the pipeline on any violation
  winbits.bits.bits_compliance_report:
    policy: policies/bits.yml
    dest: reports/bits
    previous: archive/2026-10/bits-compliance.json
    formats: [json, junit, html]
    fail_on_violation: true
  run_once: true
  delegate_to: localhost

- name: In each slice of a sliced run, save every host's result
  winbits.bits.bits_compliance_report:
    mode: host_results
    policy: policies/bits.yml
    results_dir: /srv/audit/bits-results
  run_once: true
  delegate_to: localhost

- name: After the slices, aggregate the results into one fleet report
  winbits.bits.bits_compliance_report:
    mode: aggregate
    policy: policies/bits.yml
    results_dir: /srv/audit/bits-results
    dest: /srv/audit/report
"""

RETURN = r"""
summary:
  description:
    - The fleet summary, as in the JSON report. C(rules) maps each rule name to its counts of
      C(compliant), C(violation), C(waived) and C(unassessed) jobs.
  returned: mode is report or aggregate
  type: dict
  sample:
    hosts: {total: 8, compliant: 3, noncompliant: 2, not_assessed: 3}
    jobs: {total: 7, compliant: 1, violation: 3, waived: 1, unmanaged: 1, unassessed: 1}
    rules:
      content-sync: {compliant: 1, violation: 0, waived: 0, unassessed: 0}
files:
  description: Path of each written (in check mode, would-be written) report file, by format.
  returned: mode is report or aggregate
  type: dict
  sample:
    json: /srv/audit/report/bits-compliance.json
    html: /srv/audit/report/bits-compliance.html
drift:
  description: Number of jobs in each drift category, or null without O(previous).
  returned: mode is report or aggregate
  type: dict
  sample: {became_noncompliant: 1, fixed: 2, appeared: 0, disappeared: 1}
as_of:
  description: The date waivers were judged on.
  returned: mode is report or aggregate
  type: str
  sample: "2026-11-21"
generated_at:
  description: When the report was generated (ISO 8601, UTC).
  returned: mode is report or aggregate
  type: str
  sample: "2026-11-21T08:15:00Z"
host_results:
  description: Paths of the per-host result files.
  returned: mode is host_results
  type: list
  elements: str
  sample: [/srv/audit/bits-results/web01.json]
msg:
  description: A one-line summary; with O(fail_on_violation), why the task failed.
  returned: always
  type: str
  sample: "8 hosts: 3 compliant, 2 noncompliant, 3 not assessed; 7 jobs: 3 violations, 1 waived, 1 unassessed, 1 unmanaged"
"""
