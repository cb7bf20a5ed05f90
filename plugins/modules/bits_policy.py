# -*- coding: utf-8 -*-
# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin plugins/action/bits_policy.py on the
# controller, as ansible.builtin.template's is.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: bits_policy
short_description: Check a BITS helper-token policy, or plan its enforcement on a host
version_added: 1.0.0
description:
  - >-
    Runs on the controller only; it never contacts a host and writes nothing. The policy is the file
    that M(winbits.bits.bits_compliance_report) audits with.
  - >-
    O(mode=validate) loads and checks the policy: every problem is listed with its path in the file
    (C(rules[2].expect.flags[0]: 'bogus' is not a flag)). Both roles run it before any host is
    contacted, so that a malformed policy fails early and whole.
  - >-
    O(mode=plan) judges the task's own host (C(inventory_hostname)) by its registered
    M(winbits.bits.bits_job_info) result in O(result_var), with the same evaluation as the report,
    and returns the M(winbits.bits.bits_helper_token) calls that bring its jobs in line (RV(fixes)).
    It never fails for what it finds; compliant, waived and unmanaged jobs get no fix. The role
    C(winbits.bits.bits_enforce) runs it between M(winbits.bits.bits_job_info) and the fixes.
author:
  - winbits.bits contributors (@winbits)
extends_documentation_fragment:
  - winbits.bits.policy
  - winbits.bits.policy.controller_only
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
options:
  mode:
    description:
      - V(validate) checks the policy; V(plan) also plans the fixes for the task's own host.
    type: str
    choices: [validate, plan]
    default: validate
  result_var:
    description:
      - With O(mode=plan), the name of the variable that holds the host's registered
        M(winbits.bits.bits_job_info) result.
    type: str
    default: bits_report_info
attributes:
  check_mode:
    support: full
    details: It writes nothing in any mode.
seealso:
  - module: winbits.bits.bits_compliance_report
  - module: winbits.bits.bits_helper_token
"""

EXAMPLES = r"""
- name: Check the policy before any host is contacted
  winbits.bits.bits_policy:
    policy: policies/bits.yml
  run_once: true
  delegate_to: localhost

- name: List the BITS jobs of each host, for enforcement
  winbits.bits.bits_job_info:
  register: bits_jobs

- name: Plan the changes that bring each host in line with the policy
  winbits.bits.bits_policy:
    mode: plan
    policy: policies/bits.yml
    result_var: bits_jobs
  delegate_to: localhost
  register: bits_plan

- name: Apply only the changes the policy asks for
  winbits.bits.bits_helper_token:
    job: "{{ item.args.job }}"
    flags: "{{ item.args.flags }}"
  loop: "{{ bits_plan.fixes }}"
  loop_control:
    label: "{{ item.name }}: {{ item.flags_before }} -> {{ item.args.flags }}"
"""

RETURN = r"""
policy:
  description: The policy that was checked.
  returned: mode is validate
  type: dict
  sample: {version: 1, digest: "sha256:0f3c...", rules: [content-sync, no-network]}
as_of:
  description: The date waivers were judged on.
  returned: mode is plan
  type: str
  sample: "2026-11-21"
fixes:
  description:
    - One entry per job of the host in violation that a flag change fixes, by GUID -
      C(job), C(name), C(rule), C(problems), C(flags_before) and C(args), the exact options of
      M(winbits.bits.bits_helper_token) that fix it (C(job) and C(flags)). Empty when nothing differs.
  returned: mode is plan
  type: list
  elements: dict
  sample:
    - job: "{6A000000-0000-4000-8000-000000000201}"
      name: contentSync
      rule: content-sync
      problems: ["rule content-sync expects exactly local_file, network; the job has local_file"]
      flags_before: [local_file]
      args: {job: "{6A000000-0000-4000-8000-000000000201}", flags: [local_file, network]}
unfixable:
  description:
    - The violations the policy gives no fix for (a helper token it wants, since
      whose token it should be is not the policy's to say), with C(job), C(name), C(rule) and
      C(problems); each is also a warning.
  returned: mode is plan
  type: list
  elements: dict
unassessed:
  description:
    - The jobs a rule may select that could not be judged (flags unreadable after access
      denied or on BITS older than 4.0), with C(job), C(name), C(rule) and C(explanation), the host module's.
  returned: mode is plan
  type: list
  elements: dict
waived:
  description: The jobs left alone under an active waiver, with the waiver.
  returned: mode is plan
  type: list
  elements: dict
counts:
  description: The host's jobs by status.
  returned: mode is plan
  type: dict
  sample: {compliant: 2, violation: 1, waived: 0, unmanaged: 1, unassessed: 0}
status:
  description: The host's status in the report's terms (C(compliant), C(noncompliant), C(not_assessed)).
  returned: mode is plan
  type: str
  sample: noncompliant
reason:
  description: Why the host is not assessed, else null.
  returned: mode is plan
  type: str
failure:
  description:
    - Why the policy cannot be fully enforced on the host (its result is unusable, or
      jobs could not be judged, each with the host module's explanation), else null. The role fails
      the host with it after applying the fixes it could.
  returned: mode is plan
  type: str
host:
  description: The inventory name of the host planned for.
  returned: mode is plan
  type: str
  sample: web02
msg:
  description: A one-line summary of the policy, or of the plan.
  returned: always
  type: str
  sample: "web02: 2 jobs to change"
"""
