"""The module's documentation renders with ansible-doc, and its EXAMPLES are tasks a user can copy.

ansible-doc reads the YAML sidecar (plugins/modules/bits_helper_token.yml) through a collection tree
(tests.support.paths.collections_root). The EXAMPLES must be YAML tasks that call the module by its
FQCN with documented options only, valid under Ansible's own argument-spec validator.
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

from tests.support.paths import BUILD, MODULE_DOCS, MODULE_PS1, REPO, collections_root

FQCN = "winbits.bits.bits_helper_token"
ANSIBLE_DOC = Path(sys.executable).with_name("ansible-doc")
SPEC_KEYS = ("type", "elements", "required", "default", "choices", "aliases", "no_log")


def ansible_doc(*args: str, root: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(root or collections_root()), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_DEPRECATION_WARNINGS": "1", "ANSIBLE_LOCAL_TEMP": str(BUILD / "ansible-tmp")}
    # check=False: callers assert the exit code, some expect a failure.
    return subprocess.run([str(ANSIBLE_DOC), *args], capture_output=True, text=True, env=env, timeout=180,
                          check=False)


def sidecar() -> dict[str, Any]:
    return yaml.safe_load(MODULE_DOCS.read_text())


def argument_spec(options: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The documented options as an AnsibleModule argument_spec (what the module validates against)."""
    return {name: {key: option[key] for key in SPEC_KEYS if key in option} for name, option in options.items()}


def example_problems(examples: str, options: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Why an EXAMPLES block is not a list of valid tasks of this module, one line per problem."""
    try:
        tasks = yaml.safe_load(examples)
    except yaml.YAMLError as error:
        return [f"EXAMPLES is not YAML: {error}"]
    if not isinstance(tasks, list) or not tasks:
        return ["EXAMPLES should be a non-empty list of tasks"]
    problems = []
    validator = ArgumentSpecValidator(argument_spec(options))
    for number, task in enumerate(tasks, 1):
        label = f"task {number} ({task.get('name', 'unnamed') if isinstance(task, dict) else task!r})"
        if not isinstance(task, dict):
            problems.append(f"{label}: not a mapping")
            continue
        actions = [key for key in task if key not in Task.fattributes and not key.startswith("with_")]
        if actions != [FQCN]:
            problems.append(f"{label}: calls {actions}, expected exactly [{FQCN!r}]")
            continue
        args = task[FQCN] or {}
        if not isinstance(args, dict):
            problems.append(f"{label}: arguments should be a mapping, not {args!r}")
            continue
        unknown = sorted(set(args) - set(options))
        if unknown:
            problems.append(f"{label}: undocumented options {unknown}")
        result = validator.validate(dict(args))
        problems.extend(f"{label}: {message}" for message in result.error_messages)
    return problems


@pytest.fixture(scope="module")
def rendered() -> subprocess.CompletedProcess:
    return ansible_doc(FQCN)


def test_ansible_doc_renders(rendered):
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    assert "[WARNING]" not in rendered.stderr and "ERROR" not in rendered.stderr, rendered.stderr
    assert FQCN in rendered.stdout
    # Without colour, ansible-doc marks a required option with "=" and an optional one with "-".
    for option, spec in sidecar()["DOCUMENTATION"]["options"].items():
        marker = "=" if spec.get("required") else "-"
        assert re.search(rf"^{marker} {option}\s", rendered.stdout, re.M), f"option {option} not shown as {marker}"
    assert "EXAMPLES:" in rendered.stdout and "RETURN VALUES:" in rendered.stdout


def test_ansible_doc_json_matches_the_sidecar():
    done = ansible_doc("--json", FQCN)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)[FQCN]
    docs = sidecar()
    assert set(data["doc"]["options"]) == set(docs["DOCUMENTATION"]["options"])
    assert data["doc"]["module"] == "bits_helper_token"
    assert data["doc"]["attributes"]["check_mode"]["support"] == "full"
    assert set(data["return"]) == set(docs["RETURN"])
    assert data["examples"].strip() == docs["EXAMPLES"].strip()


def test_examples_are_tasks_of_this_module_with_documented_options():
    docs = sidecar()
    assert example_problems(docs["EXAMPLES"], docs["DOCUMENTATION"]["options"]) == []


def test_ad_hoc_examples_use_the_fqcn():
    commands = re.findall(r"-m\s+(\S+)", sidecar()["EXAMPLES"])
    assert commands and all(module == FQCN for module in commands), commands


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
