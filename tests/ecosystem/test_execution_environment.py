"""The execution environment, offline and without a container engine (about 5 s).

1. `ansible-builder introspect` over the installed tarball finds what meta/execution-environment.yml
   declares: pywinrm and pypsrp, and the Kerberos / OpenSSH client packages.
2. `ansible-builder create` on examples/execution-environment.yml writes a build context; then the two
   stages that matter are replayed here, with the context's own files, as its Containerfile runs them:
   the galaxy stage (`ansible-galaxy collection install -r requirements.yml` in `_build/`) installs
   winbits.bits, and the builder stage (the context's `scripts/introspect.py`) turns that installed
   collection into the pip requirements that put pywinrm in the image.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from tests.ecosystem.conftest import BIN, InstalledCollection, run_tool, tool_env
from tests.support.paths import REPO

EXAMPLE_EE = REPO / "examples" / "execution-environment.yml"


def _requirement_names(lines: list[str]) -> set[str]:
    """Package names of pip requirement lines as introspect prints them ('pywinrm[kerberos]>=0.4.3  # from ...')."""
    return {Requirement(line.split("#", 1)[0].strip()).name.lower() for line in lines if line.split("#", 1)[0].strip()}


def test_introspect_finds_the_collections_python_and_system_dependencies(
        installed_collection: InstalledCollection, tmp_path: Path):
    done = run_tool(["ansible-builder", "introspect", "--sanitize", installed_collection.collections_path],
                    cwd=tmp_path, env=tool_env(tmp_path, installed_collection.collections_path))
    assert done.returncode == 0, done.stdout + done.stderr
    found = yaml.safe_load(done.stdout.split("---", 1)[1])
    python = [line for line in found["python"] if line.endswith("# from collection winbits.bits")]
    assert {"pywinrm", "pypsrp"} <= _requirement_names(python), done.stdout
    system = " ".join(found["system"])
    for package in ("krb5-workstation [platform:rpm]", "krb5-devel [platform:rpm compile]",
                    "openssh-clients [platform:rpm]"):
        assert package in system, f"{package} missing from the collection's bindep:\n{done.stdout}"


@pytest.fixture
def ee_context(installed_collection: InstalledCollection, tmp_path: Path) -> Path:
    """`ansible-builder create` on the example, laid out as its comments tell a user to."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(EXAMPLE_EE, project / EXAMPLE_EE.name)
    (project / "ee-collections").mkdir()
    shutil.copy(installed_collection.tarball, project / "ee-collections")
    done = run_tool(["ansible-builder", "create", "-f", project / EXAMPLE_EE.name, "-c", tmp_path / "context",
                     "--output-filename", "Containerfile"], cwd=project, env=tool_env(tmp_path, tmp_path / "none"))
    assert done.returncode == 0, done.stdout + done.stderr
    return tmp_path / "context"


def test_the_example_ee_is_schema_3_and_its_context_installs_the_collection_and_pywinrm(
        ee_context: Path, tmp_path: Path):
    assert yaml.safe_load(EXAMPLE_EE.read_text(encoding="utf-8"))["version"] == 3
    build = ee_context / "_build"
    containerfile = (ee_context / "Containerfile").read_text(encoding="utf-8")
    assert "ansible-galaxy collection install" in containerfile and "introspect.py introspect" in containerfile
    collections = yaml.safe_load((build / "requirements.yml").read_text(encoding="utf-8"))["collections"]
    assert [entry["type"] for entry in collections] == ["file"]
    assert (build / collections[0]["name"]).is_file(), f"{collections[0]['name']} is not in the build context"

    # The galaxy stage, offline: its command, from _build/ (the Containerfile's WORKDIR /build).
    image_collections = tmp_path / "usr-share-ansible-collections"
    env = tool_env(tmp_path, image_collections)
    galaxy = run_tool(["ansible-galaxy", "collection", "install", "--offline", "-r", "requirements.yml",
                       "--collections-path", image_collections], cwd=build, env=env)
    assert galaxy.returncode == 0, galaxy.stdout + galaxy.stderr
    assert (image_collections / "ansible_collections" / "winbits" / "bits" / "MANIFEST.json").is_file()

    # The builder stage: the context's own introspect script over what the galaxy stage installed.
    pip_out, bindep_out = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    introspect = run_tool([BIN / "python", build / "scripts" / "introspect.py", "introspect", image_collections,
                           "--user-bindep", build / "bindep.txt", "--write-pip", pip_out, "--write-bindep", bindep_out],
                          cwd=build, env=env)
    assert introspect.returncode == 0, introspect.stdout + introspect.stderr
    pip_names = _requirement_names(pip_out.read_text(encoding="utf-8").splitlines())
    # orjson: optional for the report, but an EE built from the collection gets it.
    assert "pywinrm" in pip_names and "orjson" in pip_names, pip_names
    bindep = bindep_out.read_text(encoding="utf-8")
    assert "krb5-workstation" in bindep and "python3.12-devel" in bindep, bindep
