"""The host-side C# compiles as Windows would compile it, module by module, and its Mono tests pass.

Ansible sends each module its own core plus BitsCom.cs (pulled in by a `using`); Add-CSharpType compiles
them together. Each pair must compile alone, so neither core can lean on the other.
"""
from __future__ import annotations

import re

import pytest

from tests.support.mono import CompileError, compile_cs, run_mono
from tests.support.paths import BUILD, COM_CS, CORE_CS, HELPER_TOKEN_SOURCES, JOB_INFO_CS, JOB_INFO_SOURCES, REPO

CSHARP_DIR = REPO / "tests" / "csharp"
# Named, not globbed: another Main or a stray file in the folder must not change what is built.
TEST_FILES = ("CoreTests.cs", "JobInfoTests.cs", "TokenTests.cs")
TEST_SOURCES = [CSHARP_DIR / name for name in ("FakeBits.cs", "TestHarness.cs", *TEST_FILES)]
# The one call that lets BITS impersonate the caller for SetHelperToken.
SET_BLANKET_CALL = re.compile(r"\n\s*security\.SetBlanket\(proxy,[^;]*;")
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$")
TEST_METHOD = re.compile(r"^\s*public static void (\w+)\(\)", re.MULTILINE)
# A line of the core that a C# 6 null-conditional can replace without changing its meaning.
CSHARP5_LINE = "identity.User == null ? null : identity.User.Value"


@pytest.mark.parametrize("sources", [HELPER_TOKEN_SOURCES, JOB_INFO_SOURCES], ids=["bits_helper_token", "bits_job_info"])
def test_each_module_compiles_as_a_csharp5_library(sources) -> None:
    """What Ansible sends for one module, as Add-CSharpType builds it: C# 5, warnings as errors, WINDOWS."""
    assert compile_cs(list(sources), sources[-1].stem, target="library").is_file()


@pytest.mark.parametrize("core", [CORE_CS, JOB_INFO_CS], ids=["bits_helper_token", "bits_job_info"])
def test_a_core_without_the_shared_util_does_not_compile(core) -> None:
    """Proves the split is real: each core needs BitsCom.cs, so the `using` that makes Ansible send it is needed."""
    with pytest.raises(CompileError, match="CS0246|CS0234"):
        compile_cs([core], f"{core.stem}Alone", target="library")


def test_com_declarations_live_only_in_the_shared_util() -> None:
    """The COM declarations and the job reading are shared, not copied, between the modules."""
    for path in (CORE_CS, JOB_INFO_CS):
        source = path.read_text()
        assert "[ComImport" not in source, f"{path.name} declares a COM interface; they belong in BitsCom.cs"
        assert "using ansible_collections.winbits.bits.plugins.module_utils.BitsCom;" in source.splitlines()


def test_the_csharp5_guard_refuses_a_csharp6_feature() -> None:
    """Proves the flags catch C# 6: the same util with one `?.` must not compile."""
    source = COM_CS.read_text()
    assert CSHARP5_LINE in source, "update CSHARP5_LINE: the anchor line left BitsCom.cs"
    guard_dir = BUILD / "cs-guard"
    guard_dir.mkdir(parents=True, exist_ok=True)
    mutated = guard_dir / "BitsComNullConditional.cs"
    mutated.write_text(source.replace(CSHARP5_LINE, "identity.User?.Value", 1))
    with pytest.raises(CompileError, match="CS1644"):
        compile_cs([mutated], "BitsComNullConditional", target="library")


def test_csharp_unit_tests_pass_under_mono() -> None:
    exe = compile_cs([COM_CS, CORE_CS, JOB_INFO_CS, *TEST_SOURCES], "CoreTests")
    done = run_mono(exe)
    lines = done.stdout.splitlines()
    failures = [line for line in lines if line.startswith("FAIL ")]
    summary = SUMMARY.match(lines[-1]) if lines else None
    assert summary, f"no summary line from the harness:\n{done.stdout}\n{done.stderr}"
    passed, failed = int(summary.group(1)), int(summary.group(2))
    assert done.returncode == 0 and failed == 0, "\n".join(failures) or done.stderr
    assert passed == len(_declared_tests()), "the harness did not run every declared test"


def test_removing_the_blanket_breaks_set_helper_token() -> None:
    """The fake refuses SetHelperToken without the blanket, as BITS does: a copy of BitsCom.cs without the
    SetBlanket call must fail the token tests with CO_E_FAILEDTOIMPERSONATE."""
    source = COM_CS.read_text()
    assert len(SET_BLANKET_CALL.findall(source)) == 1, "update SET_BLANKET_CALL: the call left BitsCom.cs"
    mutant_dir = BUILD / "cs-mutants"
    mutant_dir.mkdir(parents=True, exist_ok=True)
    mutant = mutant_dir / "BitsComWithoutBlanket.cs"
    mutant.write_text(SET_BLANKET_CALL.sub("", source))
    # The blanket constants are then unused: that warning (CS0414) is not what this test is about.
    exe = compile_cs([mutant, CORE_CS, JOB_INFO_CS, *TEST_SOURCES], "CoreTestsWithoutBlanket", extra_flags=("-nowarn:414",))
    done = run_mono(exe, ["TokenTests."])
    assert done.returncode == 1
    failed = [line for line in done.stdout.splitlines() if line.startswith("FAIL ")]
    assert any("CallerSetsTheCallersTokenWithTheBlanketItNeeds" in line for line in failed), done.stdout
    assert "0x80010123" in done.stdout


def _declared_tests() -> list[str]:
    """Test methods written in the test files, to check the harness found them all."""
    return [name for file in TEST_FILES for name in TEST_METHOD.findall((CSHARP_DIR / file).read_text())]
