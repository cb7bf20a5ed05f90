"""The collection as users install it: built, installed from the tarball, and run as Automation Controller runs it.

`installed_collection` (conftest) builds the tarball and installs it into an empty path; everything below
sees only that installed copy (ANSIBLE_COLLECTIONS_PATH is that path alone), so whatever build_ignore
leaves out that the collection needs makes one of these fail:
- the files users are pointed to ship (license, docs, the EE declaration), the developers' files do not;
- `ansible-doc` renders every module and every role of the repository (about 5 s);
- `ansible-runner run` (the engine of Automation Controller / AWX jobs) runs the shipped
  examples/audit.yml with the bits_report role against the compliance fleet; the run's artifacts
  (status, rc, job events, stats) and the report are checked (about 20 s).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.test_e2e_compliance import COMPLIANCE_FLEET, HOST_SUMMARY, HOSTS, JOB_SUMMARY
from tests.ecosystem.conftest import InstalledCollection, run_tool, tool_env
from tests.support.paths import REPO

SHIPPED = ["COPYING", "README.md", "requirements.txt", "bindep.txt", "meta/execution-environment.yml",
           "meta/runtime.yml", "docs/docsite/rst/guide_policy.rst", "docs/schemas/bits-compliance.schema.json",
           "docs/docsite/extra-docs.yml", "docs/docsite/rst/guide_scaling.rst", "docs/docsite/rst/guide_helper_token.rst",
           "examples/audit.yml", "examples/audit_aggregate.yml", "examples/bits_policy.yml",
           "examples/execution-environment.yml", "changelogs/changelog.yaml"]
NOT_SHIPPED = ["tests/sim", "tests/e2e", "tests/ecosystem", "tests/unit", "tests/browser", "scripts", "requirements",
               ".ansible-lint", "docs/host-contract.md", "docs/dev", "extensions/molecule"]
LIST_JOBS_TASK = "List the BITS jobs of each host"
REPORT_TASK = "Write the fleet compliance report"


def repository_modules() -> list[str]:
    """Every module of the repository: a Python module or a PowerShell one's documentation sidecar."""
    modules = REPO / "plugins" / "modules"
    return sorted({path.stem for pattern in ("*.py", "*.yml") for path in modules.glob(pattern)
                   if not path.name.startswith("__")})


def repository_roles() -> list[str]:
    return sorted(path.name for path in (REPO / "roles").iterdir() if (path / "meta" / "argument_specs.yml").is_file())


def test_the_tarball_ships_what_users_need_and_not_the_test_harness(installed_collection: InstalledCollection):
    root = installed_collection.root
    missing = [path for path in SHIPPED if not (root / path).is_file()]
    assert not missing, f"left out of the built collection: {missing}"
    stray = [path for path in NOT_SHIPPED if (root / path).exists()]
    assert not stray, f"shipped although build_ignore should leave them out: {stray}"
    manifest = json.loads((root / "MANIFEST.json").read_text(encoding="utf-8"))["collection_info"]
    assert manifest["license"] == ["GPL-3.0-or-later"]
    assert "GNU GENERAL PUBLIC LICENSE" in (root / "COPYING").read_text(encoding="utf-8")[:200]


def _ansible_doc(installed: InstalledCollection, tmp_path: Path, *args: str) -> dict[str, Any]:
    done = run_tool(["ansible-doc", "--json", *args], cwd=tmp_path, env=tool_env(tmp_path, installed.collections_path))
    assert done.returncode == 0, f"ansible-doc {' '.join(args)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    # ansible-core warns about its own internal collections; a warning about this one is a defect.
    assert not [line for line in done.stderr.splitlines() if "WARNING" in line and "winbits" in line], done.stderr
    return json.loads(done.stdout)


def test_ansible_doc_renders_every_module_from_the_installed_copy(installed_collection: InstalledCollection,
                                                                  tmp_path: Path):
    modules = repository_modules()
    assert modules, "no modules found in the repository"
    listed = _ansible_doc(installed_collection, tmp_path, "--list", "winbits.bits")
    assert sorted(listed) == [f"winbits.bits.{name}" for name in modules]
    docs = _ansible_doc(installed_collection, tmp_path, *(f"winbits.bits.{name}" for name in modules))
    for name in modules:
        entry = docs[f"winbits.bits.{name}"]
        assert entry["doc"]["short_description"] and entry["doc"]["options"], name
        assert entry["examples"] and entry["return"], f"{name}: no EXAMPLES or RETURN in the installed copy"


def test_ansible_doc_renders_every_role_from_the_installed_copy(installed_collection: InstalledCollection,
                                                                tmp_path: Path):
    roles = repository_roles()
    assert "bits_report" in roles
    docs = _ansible_doc(installed_collection, tmp_path, "--type", "role", *(f"winbits.bits.{name}" for name in roles))
    for name in roles:
        entry_points = docs[f"winbits.bits.{name}"]["entry_points"]
        assert entry_points["main"]["short_description"] and entry_points["main"]["options"], name
    assert "aggregate" in docs["winbits.bits.bits_report"]["entry_points"]


@pytest.fixture
def runner_job(installed_collection: InstalledCollection, fleet, tmp_path: Path) -> Path:
    """A private data dir laid out as Automation Controller gives ansible-runner one; the project is the
    installed copy's examples/ (as a project checkout holding the playbook and the policy)."""
    audit = fleet(yaml.safe_load(COMPLIANCE_FLEET.read_text(encoding="utf-8")))
    job = tmp_path / "job"
    shutil.copytree(installed_collection.root / "examples", job / "project")
    (job / "inventory").mkdir(parents=True)
    shutil.copy(audit.inventory, job / "inventory" / "hosts")
    (job / "env").mkdir()
    envvars = tool_env(tmp_path, installed_collection.collections_path)
    del envvars["PATH"], envvars["HOME"]
    (job / "env" / "envvars").write_text(yaml.safe_dump(envvars), encoding="utf-8")
    extravars = {"target": "all", "bits_report_dir": str(tmp_path / "report"), "bits_report_as_of": "2026-11-21"}
    (job / "env" / "extravars").write_text(yaml.safe_dump(extravars), encoding="utf-8")
    return job


def _job_events(artifacts: Path) -> list[dict[str, Any]]:
    """The run's job events in order; those without event_data (verbose output) get an empty one."""
    events = [json.loads(path.read_text(encoding="utf-8")) for path in (artifacts / "job_events").glob("*.json")]
    return sorted(({"event_data": {}, **event} for event in events), key=lambda event: event["counter"])


def test_ansible_runner_runs_the_audit_from_the_installed_copy(runner_job: Path, tmp_path: Path):
    done = run_tool(["ansible-runner", "run", runner_job, "--playbook", "audit.yml", "--ident", "audit"],
                    cwd=tmp_path, env=tool_env(tmp_path, "unused-see-env-envvars"), timeout=600)
    artifacts = runner_job / "artifacts" / "audit"
    stdout = (artifacts / "stdout").read_text(encoding="utf-8") if (artifacts / "stdout").exists() else done.stdout
    assert done.returncode == 0, f"{stdout[-6000:]}\n{done.stderr[-3000:]}"
    assert (artifacts / "status").read_text(encoding="utf-8").strip() == "successful"
    assert (artifacts / "rc").read_text(encoding="utf-8").strip() == "0"

    events = _job_events(artifacts)
    listed = {event["event_data"]["host"]: event["event"] for event in events
              if event["event_data"].get("task") == LIST_JOBS_TASK and event["event"].startswith("runner_on_")
              and event["event"] != "runner_on_start"}
    assert sorted(listed) == HOSTS, listed
    assert listed["down01"] == "runner_on_unreachable" and listed["web01"] == "runner_on_ok", listed
    reported = [event for event in events if event["event_data"].get("task") == REPORT_TASK
                and event["event"] == "runner_on_ok"]
    assert len(reported) == 1 and reported[0]["event_data"]["resolved_action"] == "winbits.bits.bits_compliance_report"
    stats = next(event for event in events if event["event"] == "playbook_on_stats")["event_data"]
    # The role lists an unreachable host with ignore_unreachable (it goes into the report as not
    # assessed): the job does not fail, and the stats count that host as ignored.
    assert sorted(stats["processed"]) == HOSTS and stats["ignored"] == {"down01": 1}, json.dumps(stats)
    assert not stats["failures"] and not stats["dark"], json.dumps(stats)

    report = json.loads((tmp_path / "report" / "bits-compliance.json").read_text(encoding="utf-8"))
    assert report["summary"]["hosts"] == HOST_SUMMARY and report["summary"]["jobs"] == JOB_SUMMARY
    written = sorted(path.name for path in (tmp_path / "report").iterdir())
    assert written == ["bits-compliance.csv", "bits-compliance.html", "bits-compliance.json",
                       "bits-compliance.jsonl", "bits-compliance.junit.xml"]
