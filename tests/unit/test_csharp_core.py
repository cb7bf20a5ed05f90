"""The C# core (BitsHelperToken.cs) compiles as Windows would compile it, and its Mono tests pass."""
from __future__ import annotations

import re

import pytest

from tests.support.mono import CompileError, compile_cs, run_mono
from tests.support.paths import BUILD, CORE_CS, REPO

CSHARP_DIR = REPO / "tests" / "csharp"
# Named, not globbed: another Main or a stray file in the folder must not change what is built.
TEST_SOURCES = [CSHARP_DIR / name for name in ("FakeBits.cs", "TestHarness.cs", "CoreTests.cs")]
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$")
TEST_METHOD = re.compile(r"^\s*public static void (\w+)\(\)", re.MULTILINE)
# A line of the core that a C# 6 null-conditional can replace without changing its meaning.
CSHARP5_LINE = "identity.User == null ? null : identity.User.Value"


def test_core_compiles_alone_as_a_csharp5_library() -> None:
    """The core alone, as Add-CSharpType builds it: C# 5, warnings as errors, WINDOWS defined."""
    assert compile_cs([CORE_CS], "BitsHelperToken", target="library").is_file()


def test_the_csharp5_guard_refuses_a_csharp6_feature() -> None:
    """Proves the flags catch C# 6: the same core with one `?.` must not compile."""
    source = CORE_CS.read_text()
    assert CSHARP5_LINE in source, "update CSHARP5_LINE: the anchor line left BitsHelperToken.cs"
    guard_dir = BUILD / "cs-guard"
    guard_dir.mkdir(parents=True, exist_ok=True)
    mutated = guard_dir / "BitsHelperTokenNullConditional.cs"
    mutated.write_text(source.replace(CSHARP5_LINE, "identity.User?.Value", 1))
    with pytest.raises(CompileError, match="CS1644"):
        compile_cs([mutated], "BitsHelperTokenNullConditional", target="library")


def test_csharp_unit_tests_pass_under_mono() -> None:
    exe = compile_cs([CORE_CS, *TEST_SOURCES], "CoreTests")
    done = run_mono(exe)
    lines = done.stdout.splitlines()
    failures = [line for line in lines if line.startswith("FAIL ")]
    summary = SUMMARY.match(lines[-1]) if lines else None
    assert summary, f"no summary line from the harness:\n{done.stdout}\n{done.stderr}"
    passed, failed = int(summary.group(1)), int(summary.group(2))
    assert done.returncode == 0 and failed == 0, "\n".join(failures) or done.stderr
    assert passed == len(_declared_tests()), "the harness did not run every declared test"


def _declared_tests() -> list[str]:
    """Test methods written in CoreTests.cs, to check the harness found them all."""
    return TEST_METHOD.findall((CSHARP_DIR / "CoreTests.cs").read_text())
