"""ansible-lint's production profile, offline, on the whole collection: what CI runs (about 5 s).

The configuration is the repository's .ansible-lint (profile production, offline, its skips with their
reasons); this test only supplies what ansible-lint cannot find offline by itself: the collection on the
collections path (the same symlinked tree the e2e tests use), so that the roles' and playbooks' winbits.bits
modules resolve.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from tests.ecosystem.conftest import run_tool, tool_env
from tests.support.paths import REPO, collections_root


def test_the_lint_configuration_asks_for_the_production_profile_offline():
    config = yaml.safe_load((REPO / ".ansible-lint").read_text(encoding="utf-8"))
    assert config["profile"] == "production" and config["offline"] is True
    excluded = {entry.rstrip("/") for entry in config["exclude_paths"]}
    for path in ("roles", "examples", "tests/integration", "extensions", "meta", "changelogs"):
        assert not {path, path.split("/", maxsplit=1)[0]} & excluded, f"{path} must be linted, but .ansible-lint excludes it"


def test_ansible_lint_production_profile_passes_offline(tmp_path: Path):
    done = run_tool(["ansible-lint", "--format", "pep8", "--nocolor"], cwd=REPO,
                    env=tool_env(tmp_path, collections_root()), timeout=600)
    findings = done.stdout + done.stderr
    print(findings)
    assert done.returncode == 0, f"ansible-lint found problems:\n{findings[-8000:]}"
    assert "Profile 'production' was required, and it passed" in findings, findings[-3000:]
