"""The real C# core against a native fake BITS, through Mono's COM interop (docs/dev/design.md section 4).

tests/native/fake_bits.c is a C COM server whose vtables gen_vtables.py lays out from the SDK headers;
tests/native/InteropTests.cs runs HelperTokenModule.Run against it, JobInfoInteropTests.cs runs
JobInfoModule.Run, TokenInteropTests.cs the helper token itself (the IClientSecurity blanket, then
`helper_token`); each program is built from BitsCom.cs and its own core only, as Ansible sends them.
A declaration in the wrong slot or with the wrong IID makes calls land in the wrong native function,
which the fake records; these tests show that happens by compiling deliberately broken copies of the
shared declarations into .build/mutants/.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.native.gen_vtables import NATIVE_SRC, GeneratorError, build_fake_bits, implemented_methods
from tests.support.cs_com_decls import swap_methods
from tests.support.mono import compile_cs, run_mono
from tests.support.paths import BUILD, COM_CS, CORE_CS, JOB_INFO_CS, REPO, SDK_INCLUDE
from tests.support.sdk_headers import bits_interfaces

# The runner is the one the core's unit tests use (tests/csharp/TestHarness.cs); NativeFake.cs is the fake's API.
SHARED_TEST_SOURCES = (REPO / "tests" / "csharp" / "TestHarness.cs", NATIVE_SRC / "NativeFake.cs")
HELPER_TOKEN_TESTS = NATIVE_SRC / "InteropTests.cs"
JOB_INFO_TESTS = NATIVE_SRC / "JobInfoInteropTests.cs"
TOKEN_TESTS = NATIVE_SRC / "TokenInteropTests.cs"
# The direct blanket test, and the direct SetHelperToken after it (TokenInteropTests.cs).
ALLOW_IMPERSONATION_TEST = "BlanketInteropTests.AllowImpersonationSetsImpersonateAndCloakingOnTheTokenOptionsPointer"
SET_AFTER_BLANKET_TEST = "BlanketInteropTests.SetHelperTokenAfterAllowImpersonationMakesTheCallerTheToken"
CO_E_FAILEDTOIMPERSONATE = "0x80010123"
MUTANTS = BUILD / "mutants"
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$", re.M)


@pytest.fixture(scope="module")
def fake_library() -> Path:
    return build_fake_bits()


def _run_interop(com: Path, name: str, library: Path, core: Path = CORE_CS,
                 tests: Path = HELPER_TOKEN_TESTS, only: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """A core (the helper-token one unless told) with this copy of the shared COM declarations, against the fake.

    `only`: run the tests whose "Class.Method" contains one of these (TestHarness.cs), else all.
    """
    exe = compile_cs([com, core, *SHARED_TEST_SOURCES, tests], name)
    env = {**os.environ, "LD_LIBRARY_PATH": str(library.parent)}
    return run_mono(exe, only, env=env, timeout=300)


def _summary(done: subprocess.CompletedProcess) -> tuple[int, int]:
    match = SUMMARY.search(done.stdout)
    assert match, f"no summary line; exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return int(match.group(1)), int(match.group(2))


def _mutant(source: str, name: str) -> Path:
    MUTANTS.mkdir(parents=True, exist_ok=True)
    path = MUTANTS / f"BitsCom.{name}.cs"
    temporary = path.with_name(f".{path.name}.{os.getpid()}")   # never show a concurrent run half a file
    temporary.write_text(source)
    os.replace(temporary, path)
    return path


def _run_job_info_interop(com: Path, name: str, library: Path) -> subprocess.CompletedProcess:
    return _run_interop(com, name, library, JOB_INFO_CS, JOB_INFO_TESTS)


def _failures(output: str, test_class: str = "InteropTests") -> list[str]:
    return re.findall(rf"^FAIL {test_class}\.(\w+)", output, re.M)


def _declared_tests(path: Path, test_class: str | None = None) -> list[str]:
    """The test methods of a file, or of one `public static class` of it."""
    text = path.read_text()
    if test_class is not None:
        parts = re.split(r"^    public static class (\w+)", text, flags=re.M)
        text = dict(zip(parts[1::2], parts[2::2]))[test_class]
    return re.findall(r"public static void (\w+)\(\)", text)


def _failure_of(output: str, test: str) -> str:
    """What the harness printed for one failed test (its line and the call log under it)."""
    assert f"FAIL {test}:" in output, f"{test} did not fail:\n{output}"
    return output.split(f"FAIL {test}:", 1)[1].split("\nFAIL ", 1)[0].split("\nPASS ", 1)[0]


def _run_token_interop(com: Path, name: str, library: Path, test_class: str) -> subprocess.CompletedProcess:
    return _run_interop(com, name, library, tests=TOKEN_TESTS, only=(f"{test_class}.",))


def test_core_runs_against_the_native_fake(fake_library):
    done = _run_interop(COM_CS, "NativeInterop", fake_library)
    passed, failed = _summary(done)
    assert failed == 0, "failed: " + ", ".join(_failures(done.stdout)) + "\n" + done.stdout + done.stderr
    assert done.returncode == 0, done.stdout + done.stderr
    # Every test method ran (a harness that silently skipped tests would pass with fewer).
    assert passed == len(_declared_tests(HELPER_TOKEN_TESTS)) >= 15


def test_job_info_core_runs_against_the_native_fake(fake_library):
    done = _run_job_info_interop(COM_CS, "NativeJobInfoInterop", fake_library)
    passed, failed = _summary(done)
    failures = _failures(done.stdout, "JobInfoInteropTests")
    assert failed == 0, "failed: " + ", ".join(failures) + "\n" + done.stdout + done.stderr
    assert done.returncode == 0, done.stdout + done.stderr
    assert passed == len(_declared_tests(JOB_INFO_TESTS)) >= 9


def test_blanket_and_token_slots_work_against_the_native_fake(fake_library):
    """ProxySecurity.AllowImpersonation and IBitsTokenOptions' token slots, driven directly through the wrappers."""
    done = _run_token_interop(COM_CS, "NativeBlanketInterop", fake_library, "BlanketInteropTests")
    passed, failed = _summary(done)
    assert failed == 0, "failed: " + ", ".join(_failures(done.stdout, "BlanketInteropTests")) + "\n" + done.stdout
    assert done.returncode == 0, done.stdout + done.stderr
    assert passed == len(_declared_tests(TOKEN_TESTS, "BlanketInteropTests")) >= 7


def test_helper_token_core_runs_against_the_native_fake(fake_library):
    """HelperTokenModule.Run with `helper_token: caller|absent` (docs/host-contract.md) against the fake's rules."""
    done = _run_token_interop(COM_CS, "NativeTokenInterop", fake_library, "TokenInteropTests")
    passed, failed = _summary(done)
    assert failed == 0, "failed: " + ", ".join(_failures(done.stdout, "TokenInteropTests")) + "\n" + done.stdout
    assert done.returncode == 0, done.stdout + done.stderr
    assert passed == len(_declared_tests(TOKEN_TESTS, "TokenInteropTests")) >= 14


# Broken copies of ProxySecurity.AllowImpersonation (BitsCom.cs): (name, what is replaced, by what, what the direct
# test then reads in the fake). Each leaves the IBitsTokenOptions pointer without an impersonate-level, cloaking
# blanket, so SetHelperToken fails as BITS would.
BLANKET_MUTANTS = {
    # The call is skipped by a condition that never holds rather than deleted: the constants it passes must
    # stay used, or mcs -warnaserror refuses the copy (CS0414).
    "blanket-removed": (r"security\.SetBlanket\(", "if (proxy == IntPtr.Zero) security.SetBlanket(",
                        "SetBlanket calls (slot 4): expected 1 (Int32), got 0"),
    "identify-level": (r"ImpLevelImpersonate = 3;", "ImpLevelImpersonate = 2;",
                       "dwImpLevel (RPC_C_IMP_LEVEL_IMPERSONATE): expected 3, got 2"),
    "no-cloaking": (r"DynamicCloaking = 0x40;", "DynamicCloaking = 0x20;",
                    "dwCapabilities (EOAC_DYNAMIC_CLOAKING): expected 64, got 32"),
    "wrong-proxy": (r"Marshal\.GetComInterfaceForObject\(options, typeof\(IBitsTokenOptions\)\)",
                    "Marshal.GetIUnknownForObject(options)", "pProxy: the job's IBitsTokenOptions pointer"),
}


def _blanket_mutant(name: str) -> Path:
    pattern, replacement, _seen = BLANKET_MUTANTS[name]
    source = COM_CS.read_text()
    broken, count = re.subn(pattern, replacement, source, flags=re.S)
    assert count == 1, f"{name}: {pattern!r} matched {count} times in BitsCom.cs"
    return _mutant(broken, name)


@pytest.mark.parametrize("name", sorted(BLANKET_MUTANTS))
def test_a_broken_blanket_is_caught_through_the_wrappers(fake_library, name):
    done = _run_token_interop(_blanket_mutant(name), f"NativeBlanketInterop-{name}", fake_library,
                              "BlanketInteropTests")
    assert done.returncode == 1, done.stdout + done.stderr
    recorded = _failure_of(done.stdout, ALLOW_IMPERSONATION_TEST)
    assert BLANKET_MUTANTS[name][2] in recorded, recorded
    # The fake's SetHelperToken refuses, as BITS does without the blanket.
    refused = _failure_of(done.stdout, SET_AFTER_BLANKET_TEST)
    assert re.search(r"0x80010123|-2147417821", refused), refused


@pytest.mark.parametrize("name", sorted(BLANKET_MUTANTS))
def test_a_broken_blanket_fails_the_caller_run_with_failed_to_impersonate(fake_library, name):
    """Issue 8's test: without SetBlanket (or with a wrong one) `helper_token: caller` gets CO_E_FAILEDTOIMPERSONATE."""
    done = _run_token_interop(_blanket_mutant(name), f"NativeTokenInterop-{name}", fake_library, "TokenInteropTests")
    assert done.returncode == 1, done.stdout + done.stderr
    failure = _failure_of(done.stdout, "TokenInteropTests.CallerSetsTheCallersSidAndASecondRunWritesNothing")
    assert f"SetHelperToken failed: {CO_E_FAILEDTOIMPERSONATE}" in failure, failure
    assert re.search(r"^\s+0 IBitsTokenOptions\.SetHelperToken 0$", failure, re.M), failure
    # Nothing else the core does depends on the blanket: clearing and the flags still work.
    assert "FAIL TokenInteropTests.AbsentClearsKeepsTheFlagsAndASecondRunWritesNothing" not in done.stdout


def test_an_unreleased_proxy_pointer_is_caught(fake_library):
    """Marshal.GetComInterfaceForObject hands out a reference (Mono too): AllowImpersonation must release it."""
    source = COM_CS.read_text()
    broken, count = re.subn(r"Marshal\.Release\(proxy\);", "GC.KeepAlive(proxy);", source)
    assert count == 1
    done = _run_token_interop(_mutant(broken, "proxy-not-released"), "NativeBlanketInterop-leak", fake_library,
                              "BlanketInteropTests")
    assert done.returncode == 1, done.stdout + done.stderr
    leaked = _failure_of(done.stdout, ALLOW_IMPERSONATION_TEST)
    assert leaked.startswith(" 1 reference(s) still held"), leaked


def test_swapped_job_type_slot_is_caught_at_runtime(fake_library):
    """GetType declared in GetProgress's slot: the job-info read lands in the fake's unimplemented GetProgress."""
    broken = swap_methods(COM_CS.read_text(), "IBackgroundCopyJob", "GetType", "GetProgress")
    done = _run_job_info_interop(_mutant(broken, "swapped-type-progress"), "NativeJobInfoInteropSwapped", fake_library)
    passed, failed = _summary(done)
    assert done.returncode == 1 and failed > 0
    failures = _failures(done.stdout, "JobInfoInteropTests")
    assert "ReadsTypeAndTimesThroughTheirSlots" in failures
    assert "AFaultOnOneJobIsItsReadErrorAndTheNextJobIsRead" in failures
    # The call reached the generated E_NOTIMPL stub of slot 12, and the core reported it as GetType's failure.
    after_failure = done.stdout.split("FAIL JobInfoInteropTests.ReadsTypeAndTimesThroughTheirSlots", 1)[1]
    this_test = after_failure.split("\nFAIL ", 1)[0]
    assert re.search(r"^\s+-1 IBackgroundCopyJob\.GetProgress:not-implemented 0$", this_test, re.M), this_test
    assert "IBackgroundCopyJob.GetType" not in this_test, this_test


def test_exchanged_job_type_and_state_slots_are_caught_at_runtime(fake_library):
    """Two slots the job-info read uses, both `out uint`: each read lands in the other's native function."""
    broken = swap_methods(COM_CS.read_text(), "IBackgroundCopyJob", "GetType", "GetState")
    done = _run_job_info_interop(_mutant(broken, "swapped-type-state"), "NativeJobInfoInteropTypeState", fake_library)
    passed, failed = _summary(done)
    assert done.returncode == 1 and failed > 0
    failures = _failures(done.stdout, "JobInfoInteropTests")
    # The type read got the state (3, no type name) and the state read got the type...
    assert re.search(r"FAIL JobInfoInteropTests\.ReadsTypeAndTimesThroughTheirSlots: type \(GetType, slot 11\): "
                     r'expected "UPLOAD_REPLY", got "UNKNOWN"', done.stdout), done.stdout
    # ...so a job in ERROR read as QUEUED, and its error was never asked for.
    assert "AJobInErrorReportsTheErrorObjectsFacts" in failures


def test_swapped_token_option_slots_are_caught_at_runtime(fake_library):
    broken = swap_methods(COM_CS.read_text(), "IBitsTokenOptions", "SetHelperTokenFlags", "GetHelperTokenFlags")
    done = _run_interop(_mutant(broken, "swapped-token-slots"), "NativeInteropSwapped", fake_library)
    passed, failed = _summary(done)
    assert done.returncode == 1 and failed > 0
    failures = _failures(done.stdout)
    assert "SetLandsInSetHelperTokenFlagsAndIsReadBack" in failures
    assert "GuidLookupReadsEveryFactThroughItsSlot" in failures
    # The read (declared GetHelperTokenFlags, now in slot 3) landed in the native SetHelperTokenFlags:
    # the fake recorded a write nobody asked for, with a stack address as the flags.
    after_failure = done.stdout.split("FAIL InteropTests.GuidLookupReadsEveryFactThroughItsSlot", 1)[1]
    read_only = after_failure.split("\nFAIL ", 1)[0]
    assert re.search(r"^\s+0 IBitsTokenOptions\.SetHelperTokenFlags \d+$", read_only, re.M), read_only


def test_a_wrong_iid_is_caught_at_runtime(fake_library):
    source = COM_CS.read_text()
    original = 'Guid("9a2584c3-f7d2-457a-9a5e-22b67bffc7d2")'
    assert original in source
    broken = source.replace(original, 'Guid("9a2584c3-f7d2-457a-9a5e-22b67bffc7d3")')
    done = _run_interop(_mutant(broken, "wrong-iid"), "NativeInteropWrongIid", fake_library)
    passed, failed = _summary(done)
    assert done.returncode == 1 and failed > 0
    assert "SetLandsInSetHelperTokenFlagsAndIsReadBack" in _failures(done.stdout)
    # The fake was asked for an interface it does not know, and said E_NOINTERFACE.
    assert "QueryInterface({9a2584c3-f7d2-457a-9a5e-22b67bffc7d3})" in done.stdout
    assert "no_token_options" in done.stdout or "has no IBitsTokenOptions" in done.stdout


# --- the generator: layouts come from the headers, and the C must match them ----------------------

def test_generated_vtables_follow_the_header_slot_order(fake_library):
    generated = (fake_library.parent / "fake_bits_vtables.c").read_text()
    for name in ("IBitsTokenOptions", "IBackgroundCopyJob", "IBackgroundCopyManager", "IEnumBackgroundCopyJobs",
                 "IBackgroundCopyJobHttpOptions", "IBackgroundCopyError", "IClientSecurity"):
        block = re.search(rf"const char \*const {name}_slot_names\[\d+\] = \{{(.*?)\}};", generated, re.S)
        assert block, name
        assert re.findall(r'"(\w+)"', block.group(1)) == bits_interfaces()[name].slot_names()


def test_generated_job_times_follow_the_header_field_order(fake_library):
    """The fake writes BG_JOB_TIMES by field name; the generated struct must list bits.h's fields in its order."""
    generated = (fake_library.parent / "fake_bits_vtables.h").read_text()
    block = re.search(r"^struct BG_JOB_TIMES \{(.*?)\};", generated, re.S | re.M)
    assert block, "BG_JOB_TIMES has no fields in the generated header"
    header = (SDK_INCLUDE / "bits.h").read_text(errors="replace")
    declared = re.search(r"typedef struct _BG_JOB_TIMES \{(.*?)\} BG_JOB_TIMES;", header, re.S)
    assert declared
    field = re.compile(r"(\w+)\s+(\w+);")
    assert field.findall(block.group(1)) == field.findall(declared.group(1)) == [
        ("FILETIME", "CreationTime"), ("FILETIME", "ModificationTime"), ("FILETIME", "TransferCompletionTime")]
    # A struct no implemented slot writes into stays opaque: the fake cannot fill what it has no layout for.
    assert "struct BG_JOB_PROGRESS {" not in generated


def test_only_the_test_api_is_exported(fake_library):
    symbols = subprocess.run(["nm", "-D", "--defined-only", str(fake_library)], capture_output=True, text=True,
                             check=True).stdout
    exported = set(re.findall(r" T (\w+)$", symbols, re.M))
    assert exported and all(name.startswith("fake_bits_") for name in exported), exported


def test_generator_refuses_a_method_the_interface_lacks():
    source = "HRESULT impl_IBitsTokenOptions_SetHelperTokenFlag(IBitsTokenOptions *This, DWORD f)\n"
    with pytest.raises(GeneratorError, match="IBitsTokenOptions has no method SetHelperTokenFlag"):
        implemented_methods(source, bits_interfaces())


def test_generator_requires_iunknown():
    source = "HRESULT impl_IBitsTokenOptions_SetHelperTokenFlags(IBitsTokenOptions *This, DWORD f)\n"
    with pytest.raises(GeneratorError, match="QueryInterface, AddRef, Release"):
        implemented_methods(source, bits_interfaces())


def test_gcc_refuses_an_implementation_with_another_signature():
    original = (NATIVE_SRC / "fake_bits.c").read_text()
    good = "impl_IBitsTokenOptions_SetHelperTokenFlags(IBitsTokenOptions *This, DWORD UsageFlags)"
    assert original.count(good) == 1
    broken = original.replace(good, "impl_IBitsTokenOptions_SetHelperTokenFlags(IBitsTokenOptions *This, "
                                    "DWORD *UsageFlags)")
    out_dir = MUTANTS / "native-wrong-signature"
    out_dir.mkdir(parents=True, exist_ok=True)
    mutant = out_dir / "fake_bits.c"
    mutant.write_text(broken)
    with pytest.raises(AssertionError, match="gcc failed"):
        build_fake_bits(out_dir, mutant)
