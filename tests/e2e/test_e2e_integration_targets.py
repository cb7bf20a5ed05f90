"""The integration targets for real Windows (tests/integration/targets), run against the simulated fleet.

``ansible-test windows-integration`` runs each target as a role against real hosts, where the target
creates its BITS job itself (with ansible.windows, through the hidden target setup_bits_job). Here each
target runs the same way, as a role in a play, against one simulated host whose fleet file seeds the
job instead: the target's ``*_create_job`` default is set to false and its ``*_job_name`` is the name
the fleet seeds. Every assert of the target must pass.
"""
from __future__ import annotations


import pytest
import yaml

from tests.e2e.conftest import one_job
from tests.support.paths import REPO

TARGETS = REPO / "tests" / "integration" / "targets"


def windows_targets() -> list[str]:
    """The targets ansible-test runs against Windows hosts (the setup target is hidden)."""
    return sorted(path.name for path in TARGETS.iterdir()
                  if "windows" in (path / "aliases").read_text(encoding="utf-8").split())


def _job_variables(target: str) -> tuple[str, str]:
    """The names of the target's job-name and create-job defaults."""
    defaults = yaml.safe_load((TARGETS / target / "defaults" / "main.yml").read_text(encoding="utf-8"))
    [name] = [key for key in defaults if key.endswith("_job_name")]
    [create] = [key for key in defaults if key.endswith("_create_job")]
    return name, create


def test_every_module_and_role_has_a_target():
    modules = {path.stem for path in (REPO / "plugins" / "modules").glob("*.ps1")}
    roles = {path.name for path in (REPO / "roles").iterdir() if (path / "tasks").is_dir()}
    assert set(windows_targets()) == modules | roles


@pytest.mark.parametrize("target", windows_targets())
def test_the_target_passes_against_the_fleet(fleet, target: str):
    name_variable, create_variable = _job_variables(target)
    job_name = f"winbits-integration-{target}"
    sim = fleet({"hosts": {"win01": {"jobs": [one_job(name=job_name, flags=[])]}}})
    play = [{"hosts": "all", "gather_facts": False,
             "roles": [{"role": str(TARGETS / target), "vars": {name_variable: job_name, create_variable: False}}]}]
    run = sim.playbook(play)
    results = run.host_results("win01")
    failed = [result for result in results if result.get("failed") and not result.get("ignore_errors")]
    assert run.returncode == 0 and run.stats["win01"]["failures"] == 0, failed or run.stderr[-3000:]
    asserts = [result for result in results if result.get("msg") == "All assertions passed"]
    assert len(asserts) >= 2, f"{target}: only {len(asserts)} assert tasks ran"
