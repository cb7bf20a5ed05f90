"""Fixtures of the ecosystem checks: the collection as users get it (a built tarball, installed), and the tools.

These tests drive the real Ansible tooling in subprocesses, as a user, a maintainer, Galaxy or Automation
Controller would: ansible-lint, antsibull-docs and Sphinx, galaxy-importer, ansible-builder,
ansible-galaxy, ansible-doc and ansible-runner, all from the venv that runs pytest. They live apart from
tests/e2e so that scripts/compat.sh (older ansible-core, without these tools) does not run them. The
tarball is built and installed once per session.

The gates that promise to work offline (ansible-lint, the docs build, galaxy-importer) run with
``offline=True``: in a network namespace of their own with only a loopback device that is down
(``unshare --net``), so that a tool that tried to reach the network would fail here as it would in CI.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator, Sequence

import pytest
import yaml

# The simulated fleet fixture of tests/e2e, offered to these tests too.
from tests.e2e.conftest import fleet  # noqa: F401  pylint: disable=unused-import
from tests.support.paths import REPO

BIN = Path(sys.executable).parent


@dataclasses.dataclass(frozen=True)
class InstalledCollection:
    tarball: Path
    collections_path: Path      # holds ansible_collections/winbits/bits, installed from the tarball

    @property
    def root(self) -> Path:
        return self.collections_path / "ansible_collections" / "winbits" / "bits"


def tool_env(home: Path, collections_path: Path | str) -> dict[str, str]:
    """A clean environment for a tool run: the venv's bin on PATH, a scratch HOME, one collections path."""
    return {"PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(home), "LANG": "C.UTF-8",
            "ANSIBLE_COLLECTIONS_PATH": str(collections_path), "ANSIBLE_HOME": str(home / ".ansible"),
            "ANSIBLE_LOCAL_TEMP": str(home / "ansible-tmp"), "ANSIBLE_NOCOLOR": "1", "NO_COLOR": "1",
            "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_RETRY_FILES_ENABLED": "False"}


@functools.cache
def no_network_prefix() -> tuple[str, ...]:
    """The command prefix that takes the network away (a new, empty network namespace), checked once."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "--net", "true"], capture_output=True, check=False).returncode:
        pytest.fail("`unshare --net` is needed to prove the offline gates offline (util-linux; root, or user "
                    "namespaces allowed)")
    return (unshare, "--net")


def run_tool(command: Sequence[str | Path], *, cwd: Path, env: dict[str, str], timeout: int = 300,
             offline: bool = False) -> subprocess.CompletedProcess[str]:
    """Run one of the venv's tools (a bare name is taken from the venv's bin) and capture its output;
    with ``offline``, without any network."""
    first = str(command[0])
    executable = first if os.sep in first else str(BIN / first)
    prefix = no_network_prefix() if offline else ()
    return subprocess.run([*prefix, executable, *map(str, command[1:])], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=timeout, check=False)


def fresh_checkout(destination: Path) -> Path:
    """What a fresh clone of the working tree holds (tracked files and new ones git does not ignore, with
    their uncommitted edits), committed in a new repository at ``destination``: nothing the set-up script
    or a build left behind (.build, .venv, .ansible)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode("utf-8")
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():  # a tracked file deleted in the working tree is not in a clone of it either
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name, follow_symlinks=False)
    git = ["git", "-c", "user.name=checkout", "-c", "user.email=checkout@localhost"]
    for step in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "fresh checkout"]):
        subprocess.run([*git, *step], cwd=destination, capture_output=True, check=True)
    return destination


def collection_version() -> str:
    return str(yaml.safe_load((REPO / "galaxy.yml").read_text(encoding="utf-8"))["version"])


@pytest.fixture(scope="session")
def installed_collection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InstalledCollection]:
    """`ansible-galaxy collection build` of the working tree, then `collection install` into an empty path."""
    work = tmp_path_factory.mktemp("galaxy")
    env = tool_env(work, work / "no-collections")
    built = run_tool(["ansible-galaxy", "collection", "build", "--output-path", work / "dist", REPO], cwd=work, env=env)
    assert built.returncode == 0, built.stdout + built.stderr
    tarball = work / "dist" / f"winbits-bits-{collection_version()}.tar.gz"
    assert tarball.is_file(), f"ansible-galaxy build wrote no {tarball.name}:\n{built.stdout}"
    installed = run_tool(["ansible-galaxy", "collection", "install", "--offline", "-p", work / "installed", tarball],
                         cwd=work, env=env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    yield InstalledCollection(tarball=tarball, collections_path=work / "installed")
