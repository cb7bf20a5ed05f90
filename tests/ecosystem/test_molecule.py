"""``molecule test --all`` from extensions/, offline and with a clean environment, as CI runs it.

Each scenario (one per role) starts its own simulated fleet, and must pass syntax, converge,
idempotence and verify; the fleet is stopped afterwards whatever happened.
"""
from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.support.molecule_run import run_molecule, scenarios, step_table

ROLES = ["bits_enforce", "bits_report"]
# Each scenario's test_sequence: destroy first (a fleet left by an aborted run), then the checks.
SEQUENCE = ["destroy", "syntax", "create", "converge", "idempotence", "verify", "destroy"]


def test_every_role_has_a_scenario() -> None:
    assert scenarios() == ROLES


def test_molecule_test_all_passes_every_step_of_every_scenario(tmp_path: Path) -> None:
    run = run_molecule(tmp_path / "home")
    print(step_table(run))  # shown with -s or -rP: the time of each step
    assert run.returncode == 0, run.output[-6000:]
    for scenario in ROLES:
        assert run.actions(scenario) == SEQUENCE, f"{scenario}:\n{step_table(run)}"
        assert run.actions(scenario, "Failed") == []
    # molecule 26 logs a failed idempotence step as "Executed: Successful" (only the exit code and
    # this line tell), so the line is checked on its own.
    assert "Idempotence test failed" not in run.output
    assert f"Molecule executed {len(ROLES)} scenarios ({len(ROLES)} successful)" in run.output
    # The offline promises: no Galaxy and no collection install at any step.
    assert "ansible-galaxy" not in run.output and "Downloading" not in run.output
    # destroy stopped each scenario's fleet: no pidfile is left in molecule's ephemeral directories.
    pidfiles = list((tmp_path / "home").glob(".ansible/tmp/molecule.*/fleet/pid"))
    for pidfile in pidfiles:  # clean up after a failed destroy, then fail
        os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
    assert pidfiles == [], "a scenario's fleet is still running after molecule's destroy"
