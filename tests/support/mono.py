"""Compile C# as Windows PowerShell 5.1 would (C# 5, warnings as errors) and run it under Mono."""
from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Sequence

from tests.support.paths import BUILD

# Add-CSharpType on Windows PowerShell compiles with csc: C# 5, warnings as errors, WINDOWS defined.
CS5_FLAGS = ("-langversion:5", "-warnaserror", "-define:WINDOWS", "-nologo")
DEFAULT_REFERENCES = ("System.dll", "System.Core.dll")


class CompileError(AssertionError):
    """mcs refused the sources; the message carries its diagnostics."""


def compile_cs(
    sources: Sequence[Path],
    name: str,
    target: str = "exe",
    references: Sequence[str] = (),
    extra_flags: Sequence[str] = (),
) -> Path:
    """Compile sources into .build/cs/<name>.<exe|dll>, reusing the output when inputs are unchanged."""
    suffix = "exe" if target == "exe" else "dll"
    out = BUILD / "cs" / f"{name}.{suffix}"
    refs = [*DEFAULT_REFERENCES, *references]
    command = ["mcs", *CS5_FLAGS, *extra_flags, f"-target:{target}", f"-out:{out}",
               *(f"-r:{ref}" for ref in refs), *(str(s) for s in sources)]
    stamp = out.with_suffix(out.suffix + ".inputs")
    digest = _inputs_digest(command, sources)
    if out.exists() and stamp.exists() and stamp.read_text() == digest:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CompileError(f"mcs failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    stamp.write_text(digest)
    return out


def run_mono(exe: Path, args: Sequence[str] = (), stdin: str | None = None,
             timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a compiled program under Mono with the debug flag, so stack traces name lines."""
    return subprocess.run(["mono", "--debug", str(exe), *args], input=stdin, capture_output=True,
                          text=True, timeout=timeout, env=env, check=False)


def _inputs_digest(command: Sequence[str], sources: Sequence[Path]) -> str:
    h = hashlib.sha256("\0".join(command).encode())
    for source in sources:
        h.update(Path(source).read_bytes())
    return h.hexdigest()
