# -*- coding: utf-8 -*-
# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    # The options of every controller-only module that judges by a policy (bits_compliance_report, bits_policy).
    DOCUMENTATION = r"""
options:
  policy:
    description:
      - The policy, as the path of its YAML file on the controller (a relative path is looked up in
        the role's C(files/) and the playbook's directory), or as a mapping.
      - Version 1; ordered rules (C(name), C(description), C(match) with C(job), C(owner), C(hosts);
        C(expect) with C(flags), or C(allowed_flags) and/or C(forbidden_flags), and/or
        C(helper_token) C(present) or C(absent)), and waivers (C(rule), C(hosts), C(job), C(owner),
        C(reason), C(expires)). R(The policy guide, ansible_collections.winbits.bits.docsite.guide_policy)
        documents every key.
      - Every problem of a malformed policy is reported at once, each with its path in the file,
        before anything else is done.
    type: raw
    required: true
  as_of:
    description:
      - The date (YYYY-MM-DD) on which waivers are judged expired or not. Defaults to today on the
        controller.
    type: str
"""

    # What every controller-only module of the collection is: an action that never contacts a host.
    CONTROLLER_ONLY = r"""
attributes:
  diff_mode:
    support: none
  platform:
    platforms: all
    details: Runs on the controller; it never contacts the hosts, whatever their platform.
  action:
    support: full
    details: Action only; there is no code that runs on a host.
  async:
    support: none
  bypass_host_loop:
    support: none
"""
