"""The bits_enforce role as files: its argument spec renders and matches its defaults, its tasks are in
ansible-lint's production style, and it gives bits_helper_token nothing but the plan's fix arguments."""
from __future__ import annotations

import os
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
import yaml

from tests.support.paths import BUILD, REPO, collections_root

ROLE = "winbits.bits.bits_enforce"
ROLE_DIR = REPO / "roles" / "bits_enforce"
BIN = Path(sys.executable).parent
REPORT = "winbits.bits.bits_policy"  # the role's check and plan
SET_FLAGS = "winbits.bits.bits_helper_token"


def tasks() -> list[dict[str, t.Any]]:
    return yaml.safe_load((ROLE_DIR / "tasks" / "main.yml").read_text(encoding="utf-8"))


def options() -> dict[str, dict[str, t.Any]]:
    specs = yaml.safe_load((ROLE_DIR / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))["argument_specs"]
    assert list(specs) == ["main"]
    return specs["main"]["options"]


def test_argument_spec_renders_with_ansible_doc() -> None:
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collections_root()), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_LOCAL_TEMP": str(BUILD / "ansible-tmp")}
    done = subprocess.run([str(BIN / "ansible-doc"), "-t", "role", ROLE], capture_output=True, text=True, env=env,
                          timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    assert "= bits_enforce_policy" in done.stdout and "bits_enforce_force" in done.stdout


def test_defaults_are_in_step_with_the_argument_spec() -> None:
    defaults = yaml.safe_load((ROLE_DIR / "defaults" / "main.yml").read_text(encoding="utf-8"))
    for name, option in options().items():
        assert name.startswith("bits_enforce_"), name
        assert option.get("description"), f"{name} has no description"
        if "default" in option:
            assert defaults.get(name) == option["default"], name
            assert not option.get("required"), name
        else:
            assert name not in defaults, f"{name} has a default in defaults/main.yml but not in the argument spec"
    assert set(defaults) <= set(options())


def test_tasks_follow_production_style() -> None:
    for task in tasks():
        assert task.get("name"), task
        modules = [key for key in task if "." in key]
        assert len(modules) == 1 and modules[0].startswith(("winbits.bits.", "ansible.builtin.")), task["name"]
        assert "ignore_errors" not in task, f"{task['name']}: a failing host must fail, not be ignored"
        if "register" in task:
            assert task["register"].startswith("bits_enforce_"), task["name"]


def test_the_policy_is_checked_first_and_once_then_one_listing_per_host() -> None:
    validate, listing, plan = tasks()[:3]
    assert validate[REPORT]["mode"] == "validate" and validate["run_once"] is True
    assert validate["delegate_to"] == "localhost" and validate["check_mode"] is False
    assert "winbits.bits.bits_job_info" in listing and "loop" not in listing
    assert plan[REPORT]["mode"] == "plan" and plan[REPORT]["result_var"] == listing["register"]
    assert plan["delegate_to"] == "localhost" and "run_once" not in plan


def test_bits_helper_token_runs_only_over_the_plans_fixes_with_their_arguments() -> None:
    [setting] = [task for task in tasks() if SET_FLAGS in task]
    plan = next(task for task in tasks() if REPORT in task and task[REPORT]["mode"] == "plan")
    assert setting["loop"] == "{{ %s.fixes }}" % plan["register"]
    arguments = setting[SET_FLAGS]
    assert arguments["job"] == "{{ item.args.job }}"
    # A fix may set the flags, clear the helper token, or both: neither argument is sent when the fix has none.
    assert arguments["flags"] == "{{ item.args.flags | default(omit) }}"
    assert arguments["helper_token"] == "{{ item.args.helper_token | default('keep') }}"
    assert "check_mode" not in setting and "changed_when" not in setting, "the module decides, in check mode too"


@pytest.mark.parametrize("role", ["bits_enforce", "bits_report"])
def test_each_role_passes_its_listing_options_to_bits_job_info(role: str) -> None:
    role_tasks = yaml.safe_load((REPO / "roles" / role / "tasks" / "main.yml").read_text())
    [listing] = [task for task in role_tasks if "winbits.bits.bits_job_info" in task]
    passed = listing["winbits.bits.bits_job_info"]
    assert passed["all_users"] == "{{ %s_all_users }}" % role
    assert passed["name_timeout"] == "{{ %s_name_timeout }}" % role
