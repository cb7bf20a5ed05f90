"""Each module's documentation renders with ansible-doc, and its EXAMPLES are tasks a user can copy.

ansible-doc reads the YAML sidecars (plugins/modules/<module>.yml) through a collection tree
(tests.support.paths.collections_root). The EXAMPLES must be YAML tasks that call the module by its
FQCN with documented options only, valid under Ansible's own argument-spec validator (a module may
also name a few ansible.builtin helpers, such as debug to show what it registered).

Every module with a sidecar is tested; the tests that run ansible-doc need the module's .ps1 as well.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.playbook.task import Task

from tests.support.paths import (
    BUILD,
    MODULE_DOCS,
    MODULE_PS1,
    REPO,
    collections_root,
    documented_modules,
    module_docs,
    powershell_modules,
)

FQCN = "winbits.bits.bits_helper_token"
MODULES = documented_modules()
# ansible-doc finds a module by its plugin file: only a module with its .ps1 can be rendered.
RENDERABLE = [name for name in MODULES if name in powershell_modules()]
# Other modules an EXAMPLES task may call, per module (ours are called by FQCN, always).
EXAMPLE_HELPERS: dict[str, tuple[str, ...]] = {"bits_job_info": ("ansible.builtin.debug",)}
ANSIBLE_DOC = Path(sys.executable).with_name("ansible-doc")
SPEC_KEYS = ("type", "elements", "required", "default", "choices", "aliases", "no_log")


def ansible_doc(*args: str, root: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(root or collections_root()), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_DEPRECATION_WARNINGS": "1", "ANSIBLE_LOCAL_TEMP": str(BUILD / "ansible-tmp")}
    # check=False: callers assert the exit code, some expect a failure.
    return subprocess.run([str(ANSIBLE_DOC), *args], capture_output=True, text=True, env=env, timeout=180,
                          check=False)


def sidecar(module: str = "bits_helper_token") -> dict[str, Any]:
    return yaml.safe_load(module_docs(module).read_text())


def fqcn(module: str) -> str:
    return f"winbits.bits.{module}"


def argument_spec(options: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The documented options as an AnsibleModule argument_spec (what the module validates against)."""
    return {name: {key: option[key] for key in SPEC_KEYS if key in option} for name, option in options.items()}


def example_problems(examples: str, options: Mapping[str, Mapping[str, Any]], module: str = "bits_helper_token"
                     ) -> list[str]:
    """Why an EXAMPLES block is not a list of valid tasks of this module, one line per problem."""
    name = fqcn(module)
    helpers = EXAMPLE_HELPERS.get(module, ())
    try:
        tasks = yaml.safe_load(examples)
    except yaml.YAMLError as error:
        return [f"EXAMPLES is not YAML: {error}"]
    if not isinstance(tasks, list) or not tasks:
        return ["EXAMPLES should be a non-empty list of tasks"]
    problems = []
    validator = ArgumentSpecValidator(argument_spec(options))
    if not any(isinstance(task, dict) and name in task for task in tasks):
        problems.append(f"no task calls {name}")
    for number, task in enumerate(tasks, 1):
        label = f"task {number} ({task.get('name', 'unnamed') if isinstance(task, dict) else task!r})"
        if not isinstance(task, dict):
            problems.append(f"{label}: not a mapping")
            continue
        actions = [key for key in task if key not in Task.fattributes and not key.startswith("with_")]
        if len(actions) == 1 and actions[0] in helpers:
            continue
        if actions != [name]:
            problems.append(f"{label}: calls {actions}, expected exactly [{name!r}]")
            continue
        args = task[name] or {}
        if not isinstance(args, dict):
            problems.append(f"{label}: arguments should be a mapping, not {args!r}")
            continue
        unknown = sorted(set(args) - set(options))
        if unknown:
            problems.append(f"{label}: undocumented options {unknown}")
        result = validator.validate(dict(args))
        problems.extend(f"{label}: {message}" for message in result.error_messages)
    return problems


def test_every_module_has_its_documentation_and_its_ps1():
    # A sidecar without its .ps1 is a module ansible-doc cannot render (and the tests below skip);
    # a .ps1 without a sidecar is an undocumented module.
    assert MODULES and MODULES == powershell_modules()


@pytest.mark.parametrize("module", RENDERABLE)
def test_ansible_doc_renders(module):
    rendered = ansible_doc(fqcn(module))
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    assert "[WARNING]" not in rendered.stderr and "ERROR" not in rendered.stderr, rendered.stderr
    assert fqcn(module) in rendered.stdout
    # Without colour, ansible-doc marks a required option with "=" and an optional one with "-".
    for option, spec in sidecar(module)["DOCUMENTATION"]["options"].items():
        marker = "=" if spec.get("required") else "-"
        assert re.search(rf"^{marker} {option}\s", rendered.stdout, re.M), f"option {option} not shown as {marker}"
    assert "EXAMPLES:" in rendered.stdout and "RETURN VALUES:" in rendered.stdout


@pytest.mark.parametrize("module", RENDERABLE)
def test_ansible_doc_json_matches_the_sidecar(module):
    done = ansible_doc("--json", fqcn(module))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)[fqcn(module)]
    docs = sidecar(module)
    assert set(data["doc"]["options"]) == set(docs["DOCUMENTATION"]["options"])
    assert data["doc"]["module"] == module
    assert data["doc"]["attributes"]["check_mode"]["support"] == "full"
    assert set(data["return"]) == set(docs["RETURN"])
    assert data["examples"].strip() == docs["EXAMPLES"].strip()


@pytest.mark.parametrize("module", MODULES)
def test_examples_are_tasks_of_this_module_with_documented_options(module):
    docs = sidecar(module)
    assert example_problems(docs["EXAMPLES"], docs["DOCUMENTATION"]["options"], module) == []


@pytest.mark.parametrize("module", MODULES)
def test_ad_hoc_examples_use_the_fqcn(module):
    commands = re.findall(r"-m\s+(\S+)", sidecar(module)["EXAMPLES"])
    assert commands and all(command == fqcn(module) for command in commands), commands


@pytest.mark.parametrize("old, new, expected", [
    (f"  {FQCN}:\n    job: myDownloadJob\n    flags: [local_file, network]",
     "  bits_helper_token:\n    job: myDownloadJob\n    flags: [local_file, network]", "calls ['bits_helper_token']"),
    ("    job: nightly-sync\n", "    job: nightly-sync\n    flag: network\n", "undocumented options ['flag']"),
    ("    job: '{5D3B4C39-1F0A-4D5B-9E2F-123456789ABC}'\n", "", "missing required arguments: job"),
    ("    all_matches: true\n", "    all_matches: sometimes\n", "all_matches"),
    ("    flags: []\n", "    flags: [\n", "EXAMPLES is not YAML"),
])
def test_broken_examples_are_caught(old, new, expected):
    docs = sidecar()
    assert docs["EXAMPLES"].count(old) == 1, f"the mutation no longer applies: {old!r}"
    problems = example_problems(docs["EXAMPLES"].replace(old, new), docs["DOCUMENTATION"]["options"])
    assert any(expected in problem for problem in problems), problems


INFO = "winbits.bits.bits_job_info"


@pytest.mark.parametrize("old, new, expected", [
    (f"  {INFO}:\n  register: bits_audit", "  bits_job_info:\n  register: bits_audit", "calls ['bits_job_info']"),
    ("    all_users: false\n", "    all_user: false\n", "undocumented options ['all_user']"),
    ("    all_users: false\n", "    all_users: sometimes\n", "all_users"),
    ("    job: '{5D3B4C39-1F0A-4D5B-9E2F-123456789ABC}'\n", "    job: {guid: 5D3B4C39}\n", "argument 'job' is of type dict"),
    ("- name: Name the jobs", "- name: Name the jobs\n  ansible.builtin.shell: whoami",
     "calls ['ansible.builtin.shell', 'ansible.builtin.debug']"),
    ("  ansible.builtin.debug:", "  ansible.builtin.command:", "calls ['ansible.builtin.command']"),
    ("    job:\n      - contentSync\n", "    job: [\n", "EXAMPLES is not YAML"),
])
def test_broken_job_info_examples_are_caught(old, new, expected):
    docs = sidecar("bits_job_info")
    assert docs["EXAMPLES"].count(old) == 1, f"the mutation no longer applies: {old!r}"
    problems = example_problems(docs["EXAMPLES"].replace(old, new), docs["DOCUMENTATION"]["options"], "bits_job_info")
    assert any(expected in problem for problem in problems), problems


def test_examples_must_call_the_module_at_least_once():
    only_debug = "- name: x\n  ansible.builtin.debug:\n    msg: hi\n"
    assert example_problems(only_debug, {}, "bits_job_info") == [f"no task calls {INFO}"]


def test_ansible_doc_fails_on_broken_documentation():
    # A copy of the collection whose sidecar is not valid YAML: ansible-doc must not render it.
    # A directory of its own: another test run in the same tree may be doing the same right now.
    (BUILD / "mutants").mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="collections-", dir=BUILD / "mutants"))
    try:
        _check_broken_documentation_fails(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _check_broken_documentation_fails(root: Path) -> None:
    copy = root / "ansible_collections" / "winbits" / "bits"
    (copy / "plugins" / "modules").mkdir(parents=True)
    (copy / "meta").mkdir()
    shutil.copy(REPO / "galaxy.yml", copy / "galaxy.yml")
    shutil.copy(REPO / "meta" / "runtime.yml", copy / "meta" / "runtime.yml")
    shutil.copy(MODULE_PS1, copy / "plugins" / "modules" / MODULE_PS1.name)
    target = copy / "plugins" / "modules" / MODULE_DOCS.name
    shutil.copy(MODULE_DOCS, target)
    control = ansible_doc(FQCN, root=root)
    assert control.returncode == 0, "the copied collection should render before it is broken: " + control.stderr
    target.write_text(MODULE_DOCS.read_text().replace("  options:\n", "  options:\n   - [\n", 1))
    done = ansible_doc(FQCN, root=root)
    assert done.returncode != 0, done.stdout
    assert "could not parse documentation" in done.stderr, done.stderr
