"""ansible-lint run bare in a fresh copy of the repository, with no network: how people run it (about 12 s).

The configuration is the repository's .ansible-lint (profile production, offline, its skips with their
reasons, and stand-ins for the collection's own modules and roles). Nothing is supplied from outside:
no collections path, no set-up script, a scratch HOME, no network (``unshare --net``).
"""
from __future__ import annotations

from pathlib import Path

import yaml

from tests.ecosystem.conftest import fresh_checkout, run_tool, tool_env
from tests.support.paths import REPO

PASSED = "Profile 'production' was required, and it passed"


def _config() -> dict:
    return yaml.safe_load((REPO / ".ansible-lint").read_text(encoding="utf-8"))


def test_the_lint_configuration_asks_for_the_production_profile_offline():
    config = _config()
    assert config["profile"] == "production" and config["offline"] is True
    excluded = {entry.rstrip("/") for entry in config["exclude_paths"]}
    for path in ("roles", "examples", "tests/integration", "extensions", "meta", "changelogs"):
        assert not {path, path.split("/", maxsplit=1)[0]} & excluded, f"{path} must be linted, but .ansible-lint excludes it"


def test_the_stand_ins_are_exactly_the_collections_modules_and_roles():
    # A stand-in for a module or role the collection no longer has would hide a playbook that still
    # calls it; a module or role without one fails the bare run below.
    config = _config()
    modules = sorted({path.stem for pattern in ("*.py", "*.yml") for path in (REPO / "plugins" / "modules").glob(pattern)
                      if not path.name.startswith("__")})
    roles = sorted(path.name for path in (REPO / "roles").iterdir() if (path / "tasks").is_dir())
    assert sorted(config["mock_modules"]) == [f"winbits.bits.{name}" for name in modules]
    assert sorted(config["mock_roles"]) == [f"winbits.bits.{name}" for name in roles]


def test_bare_ansible_lint_passes_in_a_fresh_checkout_without_network(tmp_path: Path):
    checkout = fresh_checkout(tmp_path / "checkout")
    env = tool_env(tmp_path, "")
    del env["ANSIBLE_COLLECTIONS_PATH"]  # as a user's shell has it: nothing set
    done = run_tool(["ansible-lint"], cwd=checkout, env=env, timeout=600, offline=True)
    findings = done.stdout + done.stderr
    print(findings)
    assert done.returncode == 0, f"ansible-lint found problems:\n{findings[-8000:]}"
    assert PASSED in findings, findings[-3000:]
