"""Where things are: the repository, the build directory, and a collection tree Ansible can load."""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / ".build"
MODULE_UTILS = REPO / "plugins" / "module_utils"
MODULES = REPO / "plugins" / "modules"
# The C# every module sends (COM declarations, job reading), then each module's own core.
COM_CS = MODULE_UTILS / "BitsCom.cs"
CORE_CS = MODULE_UTILS / "BitsHelperToken.cs"
JOB_INFO_CS = MODULE_UTILS / "BitsJobInfo.cs"
MODULE_PS1 = MODULES / "bits_helper_token.ps1"
MODULE_DOCS = MODULES / "bits_helper_token.yml"
JOB_INFO_PS1 = MODULES / "bits_job_info.ps1"
JOB_INFO_DOCS = MODULES / "bits_job_info.yml"
# What Ansible sends the host for each module: its core and the util it `using`s.
HELPER_TOKEN_SOURCES = (COM_CS, CORE_CS)
JOB_INFO_SOURCES = (COM_CS, JOB_INFO_CS)
MODULES_DIR = MODULES
SDK_INCLUDE = Path("/usr/share/mingw-w64/include")
# A test-only collection holding the benchmark's no-op module (winbits.benchmark.noop).
BENCHMARK_COLLECTIONS = REPO / "tests" / "benchmark" / "collections"
NOOP_MODULE_DOCS = (BENCHMARK_COLLECTIONS / "ansible_collections" / "winbits" / "benchmark" / "plugins" / "modules"
                    / "noop.yml")


def collections_root() -> Path:
    """Return a directory holding ansible_collections/winbits/bits -> this repository.

    Ansible and pytest find the collection by that layout; the repository itself is the
    collection root, so a symlink under .build/ is enough.
    """
    root = BUILD / "collections"
    link = root / "ansible_collections" / "winbits" / "bits"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(REPO, link)
    return root


def documented_modules() -> list[str]:
    """The collection's modules that have a YAML documentation sidecar, by name."""
    return sorted(path.stem for path in MODULES_DIR.glob("*.yml"))


def powershell_modules() -> list[str]:
    """The collection's modules that have their .ps1 (a sidecar without one cannot be run or rendered)."""
    return sorted(path.stem for path in MODULES_DIR.glob("*.ps1"))


def module_docs(name: str) -> Path:
    return MODULES_DIR / ("%s.yml" % name)


def module_ps1(name: str) -> Path:
    return MODULES_DIR / ("%s.ps1" % name)
