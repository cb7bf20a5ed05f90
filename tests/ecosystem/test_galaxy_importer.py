"""galaxy-importer, what Galaxy and Automation Hub run on an uploaded tarball, with no network (about 20 s).

The importer runs as its configuration below says (ansible-lint and ansible-doc on, ansible-test off:
that needs a container engine), on the tarball built from a fresh copy of the repository. It refuses a
galaxy.yml without a ``repository``; the collection has no public URL yet, so the copy gets
placeholders for the keys galaxy.yml lacks (PLACEHOLDER_URLS; the README's release checklist names
them). Once galaxy.yml has real ones, they are used as they are.
"""
from __future__ import annotations

import json

import pytest
import yaml

from tests.ecosystem.conftest import BIN, collection_version, fresh_checkout, run_tool, tool_env
from tests.support.paths import REPO

PLACEHOLDER_URLS = {key: f"https://example.invalid/winbits/bits/{key}"
                    for key in ("repository", "documentation", "homepage", "issues")}
CONFIG = """[galaxy-importer]
RUN_ANSIBLE_TEST = False
RUN_ANSIBLE_LINT = True
OFFLINE_ANSIBLE_LINT = True
RUN_ANSIBLE_DOC = True
CHECK_CHANGELOG = True
LOG_LEVEL_MAIN = INFO
"""
# The importer's one warning that is not a finding: tests/sanity/ignore-2.21.txt holds one line, for the
# nested benchmark collection's module (tests/benchmark, not shipped), which ansible-test cannot tell
# from a module of ours.
ACCEPTED_WARNINGS = ("WARNING: Ignore files skip ansible-test sanity tests, found ignore-2.21.txt with 1 statement(s)",)


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    """The importer's log and its result (importer_result.json) for the tarball of a fresh copy."""
    work = tmp_path_factory.mktemp("importer")
    checkout = fresh_checkout(work / "checkout")
    galaxy = yaml.safe_load((checkout / "galaxy.yml").read_text(encoding="utf-8"))
    missing = {key: url for key, url in PLACEHOLDER_URLS.items() if not galaxy.get(key)}
    with (checkout / "galaxy.yml").open("a", encoding="utf-8") as stream:
        stream.write("# Placeholders of tests/ecosystem/test_galaxy_importer.py: no public URL yet.\n")
        stream.write(yaml.safe_dump(missing, sort_keys=True))
    env = tool_env(work, work / "no-collections")
    built = run_tool(["ansible-galaxy", "collection", "build", "--output-path", work / "dist", checkout], cwd=work, env=env)
    assert built.returncode == 0, built.stdout + built.stderr
    tarball = work / "dist" / f"winbits-bits-{collection_version()}.tar.gz"

    (work / "galaxy-importer.cfg").write_text(CONFIG + f"ANSIBLE_LOCAL_TMP = {work / 'ansible-tmp'}\n", encoding="utf-8")
    env["GALAXY_IMPORTER_CONFIG"] = str(work / "galaxy-importer.cfg")
    done = run_tool([BIN / "python", "-m", "galaxy_importer.main", tarball], cwd=work, env=env, timeout=600,
                    offline=True)
    log = done.stdout + done.stderr
    print(log)
    assert done.returncode == 0, log[-8000:]
    return log, json.loads((work / "importer_result.json").read_text(encoding="utf-8"))


def test_the_importer_accepts_the_tarball_with_no_error_and_no_lint_finding(imported):
    log, _result = imported
    assert "Importer processing completed successfully" in log, log[-6000:]
    assert "...ansible-lint run complete" in log, "ansible-lint did not run"
    # ansible-lint's findings and every other problem are logged as ERROR or WARNING lines.
    problems = [line for line in log.splitlines()
                if line.startswith(("ERROR", "WARNING")) and line.strip() not in ACCEPTED_WARNINGS]
    assert problems == [], "\n".join(problems)


def test_the_importer_read_every_module_and_role_with_ansible_doc(imported):
    _log, result = imported
    assert result["metadata"]["repository"], "the importer saw no repository"
    contents = result["docs_blob"]["contents"]
    modules = {entry["content_name"] for entry in contents if entry["content_type"] == "module"}
    expected = {path.stem for pattern in ("*.py", "*.yml") for path in (REPO / "plugins" / "modules").glob(pattern)
                if not path.name.startswith("__")}
    assert modules == expected
    for entry in contents:
        if entry["content_type"] == "module":
            docs = entry["doc_strings"] or {}
            assert docs.get("doc", {}).get("options") and docs.get("examples"), entry["content_name"]
    roles = {entry["content_name"] for entry in contents if entry["content_type"] == "role"}
    assert roles == {path.name for path in (REPO / "roles").iterdir() if (path / "tasks").is_dir()}
    assert result["docs_blob"]["collection_readme"]["html"], "no README rendered"
