"""Run ``molecule test --all`` from extensions/ as a fresh clone would, and time each of its steps.

Molecule prints ``[<scenario> > <action>] Executing`` when a step starts and
``[<scenario> > <action>] Executed: <outcome>`` when it ends; each line is stamped as it arrives,
so the steps' times come from the run itself. ``python -m tests.support.molecule_run`` prints them.
"""
from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.paths import REPO, collections_root

EXTENSIONS = REPO / "extensions"
SCENARIOS_DIR = EXTENSIONS / "molecule"
_STEP = re.compile(r"^[A-Z]+\s+\[(?P<scenario>[^\]>]+?) > (?P<action>[a-z_]+)\] "
                   r"(?:(?P<start>Executing)|Executed: (?P<outcome>.+?))\s*$")


@dataclasses.dataclass
class Step:
    scenario: str
    action: str
    outcome: str
    seconds: float


@dataclasses.dataclass
class MoleculeRun:
    returncode: int
    output: str
    steps: list[Step]
    seconds: float

    def actions(self, scenario: str, outcome: str = "Successful") -> list[str]:
        """The actions of one scenario that ended with that outcome, in the order they ran."""
        return [step.action for step in self.steps if step.scenario == scenario and step.outcome == outcome]


def scenarios() -> list[str]:
    """The scenario directories (those with a molecule.yml), by name."""
    return sorted(path.parent.name for path in SCENARIOS_DIR.glob("*/molecule.yml"))


def clean_env(home: Path) -> dict[str, str]:
    """Only what a fresh shell gives: the venv's bin on PATH (molecule runs ansible-config), a home of its own."""
    venv_bin = Path(sys.executable).parent
    return {"PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
            "NO_COLOR": "1", "TERM": "dumb"}


def run_molecule(home: Path, timeout: float = 1800) -> MoleculeRun:
    collections_root()  # scripts/setup.sh makes the link; a test run made without it must not depend on that
    command = [str(Path(sys.executable).parent / "molecule"), "test", "--all", "--no-command-borders"]
    started = time.monotonic()
    lines: list[str] = []
    steps: list[Step] = []
    open_steps: dict[tuple[str, str], float] = {}
    with subprocess.Popen(command, cwd=EXTENSIONS, env=clean_env(home), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace") as process:
        assert process.stdout is not None
        for line in process.stdout:
            now = time.monotonic()
            lines.append(line)
            match = _STEP.match(line)
            if match is None:
                continue
            key = (match["scenario"], match["action"])
            if match["start"]:
                open_steps[key] = now
            elif key in open_steps:
                steps.append(Step(key[0], key[1], match["outcome"], now - open_steps.pop(key)))
            if now - started > timeout:
                process.kill()
        returncode = process.wait()
    return MoleculeRun(returncode, "".join(lines), steps, time.monotonic() - started)


def step_table(run: MoleculeRun) -> str:
    rows = [f"{step.scenario:<14} {step.action:<12} {step.seconds:7.1f} s  {step.outcome}" for step in run.steps]
    return "\n".join(rows + [f"{'total':<27} {run.seconds:7.1f} s  (molecule test --all, rc {run.returncode})"])


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="molecule-home-") as home:
        run = run_molecule(Path(home))
    print(step_table(run))
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
