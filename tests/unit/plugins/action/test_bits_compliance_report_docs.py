"""Docs and packaging of the controller-only modules (bits_compliance_report, bits_policy) and the report
role: ansible-doc renders them, each module's documented options are its action plugin's, the role's
argument spec matches its defaults and tasks, and the built collection carries what the code loads at
run time."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import importlib
import tarfile
import typing as t
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from tests.support.paths import BUILD, REPO, collections_root

# The controller-only modules: documentation in plugins/modules, the work in plugins/action.
MODULES = ("winbits.bits.bits_compliance_report", "winbits.bits.bits_policy")
ROLE = "winbits.bits.bits_report"
ROLE_DIR = REPO / "roles" / "bits_report"
BIN = Path(sys.executable).parent
SPEC_KEYS = ("type", "elements", "required", "default", "choices")


def ansible(tool: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collections_root()), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_LOCAL_TEMP": str(BUILD / "ansible-tmp")}
    # check=False: the tests assert the exit code with the output in the message.
    return subprocess.run([str(BIN / tool), *args], capture_output=True, text=True, env=env, timeout=180,
                          check=False, cwd=cwd)


def our_warnings(stderr: str) -> list[str]:
    """Warnings about this collection (ansible-core warns about its own internal collections too)."""
    return [line for line in stderr.splitlines() if ("WARNING" in line or "ERROR" in line) and "_protomatter" not in line]


@pytest.fixture(scope="module", params=MODULES)
def module(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def module_doc(module: str) -> dict[str, t.Any]:
    done = ansible("ansible-doc", "--json", module)
    assert done.returncode == 0, done.stderr
    assert our_warnings(done.stderr) == []
    return json.loads(done.stdout)[module]


def action_of(module: str) -> t.Any:
    return importlib.import_module("ansible_collections.winbits.bits.plugins.action.%s" % module.rsplit(".", 1)[-1])


def test_module_doc_renders_as_text(module: str) -> None:
    done = ansible("ansible-doc", module)
    assert done.returncode == 0, done.stderr
    assert our_warnings(done.stderr) == []
    assert "= policy" in done.stdout and "EXAMPLES:" in done.stdout and "RETURN VALUES:" in done.stdout


def test_documented_options_are_the_action_plugins(module: str, module_doc: dict[str, t.Any]) -> None:
    action = action_of(module)
    options = module_doc["doc"]["options"]
    assert set(options) == set(action.ARGUMENT_SPEC)
    for name, spec in action.ARGUMENT_SPEC.items():
        documented = {key: options[name][key] for key in SPEC_KEYS if options[name].get(key) not in (None, False)}
        coded = {key: spec[key] for key in SPEC_KEYS if spec.get(key) not in (None, False)}
        assert documented == coded, name


def test_module_examples_use_documented_options(module: str, module_doc: dict[str, t.Any]) -> None:
    options = module_doc["doc"]["options"]
    validator = ArgumentSpecValidator({name: {key: option[key] for key in SPEC_KEYS if key in option}
                                       for name, option in options.items()})
    tasks = yaml.safe_load(module_doc["examples"])
    ours = [task for task in tasks if module in task]
    assert len(ours) >= 2
    for task in ours:
        assert set(task[module]) <= set(options), task["name"]
        assert validator.validate(dict(task[module])).error_messages == [], task["name"]


@pytest.mark.parametrize("entry_point", ["main", "aggregate"])
def test_role_argument_spec_renders(entry_point: str) -> None:
    done = ansible("ansible-doc", "-t", "role", "-e", entry_point, ROLE)
    assert done.returncode == 0, done.stderr
    assert our_warnings(done.stderr) == []
    # ansible-core 2.17+ marks the entry point's name with asterisks, 2.16 does not.
    assert re.search(rf"ENTRY POINT: \*?{entry_point}\*?", done.stdout), done.stdout[:500]
    assert "= bits_report_policy" in done.stdout


def argument_specs() -> dict[str, t.Any]:
    return yaml.safe_load((ROLE_DIR / "meta" / "argument_specs.yml").read_text())["argument_specs"]


def test_defaults_are_in_step_with_the_argument_spec() -> None:
    defaults = yaml.safe_load((ROLE_DIR / "defaults" / "main.yml").read_text())
    for entry_point, spec in argument_specs().items():
        for name, option in spec["options"].items():
            assert name.startswith("bits_report_"), name
            assert option.get("description"), f"{entry_point}.{name} has no description"
            if "default" in option:
                assert defaults.get(name) == option["default"], f"{entry_point}.{name}"
                assert not option.get("required"), name
            else:
                assert name not in defaults, f"{name} has a default in defaults/main.yml but not in {entry_point}"
    documented = {name for spec in argument_specs().values() for name in spec["options"]}
    assert set(defaults) <= documented


def role_tasks(name: str) -> list[dict[str, t.Any]]:
    return yaml.safe_load((ROLE_DIR / "tasks" / name).read_text())


@pytest.mark.parametrize("file_name", ["main.yml", "aggregate.yml"])
def test_role_tasks_follow_production_style(file_name: str) -> None:
    for task in role_tasks(file_name):
        assert task.get("name"), task
        modules = [key for key in task if "." in key]
        assert len(modules) == 1 and modules[0].startswith(("winbits.bits.", "ansible.builtin.")), task["name"]
        if "ignore_errors" in task:
            assert "register" in task, f"{task['name']}: ignore_errors without register"


@pytest.mark.parametrize("file_name", ["main.yml", "aggregate.yml"])
def test_report_tasks_run_once_on_the_controller_and_write_in_check_mode(file_name: str) -> None:
    tasks = [task for task in role_tasks(file_name) if any(module in task for module in MODULES)]
    assert tasks
    for task in tasks:
        assert task["run_once"] is True and task["delegate_to"] == "localhost" and task["check_mode"] is False


def test_main_keeps_unreachable_and_failed_hosts() -> None:
    [listing] = [task for task in role_tasks("main.yml") if "winbits.bits.bits_job_info" in task]
    assert listing["register"] == "bits_report_info"
    assert listing["ignore_unreachable"] is True and listing["ignore_errors"] is True


def test_role_passes_only_documented_module_options(module: str, module_doc: dict[str, t.Any]) -> None:
    options = set(module_doc["doc"]["options"])
    for file_name in ("main.yml", "aggregate.yml"):
        for task in role_tasks(file_name):
            if module in task:
                assert set(task[module]) <= options, task["name"]


def test_built_collection_carries_the_templates_and_the_schema(tmp_path: Path) -> None:
    done = ansible("ansible-galaxy", "collection", "build", "--output-path", str(tmp_path), str(REPO))
    assert done.returncode == 0, done.stdout + done.stderr
    [archive] = tmp_path.glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    templates = REPO / "plugins" / "plugin_utils" / "_report" / "templates"
    for path in sorted(templates.iterdir()):
        assert f"plugins/plugin_utils/_report/templates/{path.name}" in names
    for expected in ("docs/schemas/bits-compliance.schema.json", "plugins/action/bits_compliance_report.py",
                     "plugins/modules/bits_compliance_report.py", "roles/bits_report/meta/argument_specs.yml",
                     "roles/bits_report/tasks/aggregate.yml"):
        assert expected in names, expected
