"""The host-side C# compiles as Windows would compile it, module by module, and its Mono tests pass.

Ansible sends each module its own core plus BitsCom.cs (pulled in by a `using`); Add-CSharpType compiles
them together. Each pair must compile alone, so neither core can lean on the other.
"""
from __future__ import annotations

import json
import re

import pytest

from tests.sim.bits_runner import Caller, ModuleRun, OneShotRunner, canonical_job, read_state, run_module, write_state

from tests.support.mono import CompileError, compile_cs, run_mono
from tests.support.paths import BUILD, COM_CS, CORE_CS, HELPER_TOKEN_SOURCES, JOB_INFO_CS, JOB_INFO_SOURCES, REPO

CSHARP_DIR = REPO / "tests" / "csharp"
# Named, not globbed: another Main or a stray file in the folder must not change what is built.
TEST_FILES = ("CoreTests.cs", "JobInfoTests.cs", "TokenTests.cs")
TEST_SOURCES = [CSHARP_DIR / name for name in ("FakeBits.cs", "TestHarness.cs", *TEST_FILES)]
# The one call that lets BITS impersonate the caller for SetHelperToken.
SET_BLANKET_CALL = re.compile(r"\n\s*security\.SetBlanket\(proxy,[^;]*;")
ADMIN_SID = "S-1-5-21-1000-1000-1000-500"
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


# --- any exception: the error with its facts, after the rollback ---------------------------------------
# No fake can make the runtime itself throw (Mono's Marshal.GetComInterfaceForObject never does, and the
# RCW caches the pointer), so these copies of the host code throw where Windows might, and the module
# runs in the simulated host, the .ps1's stand-in, which reports an exception that escapes as a crash.

EXCEPTION_JOB = "{5D3B4C39-1F0A-4D5B-9E2F-00000000E001}"
PROXY_POINTER = "Marshal.GetComInterfaceForObject(options, typeof(IBitsTokenOptions))"
WRITE_TOKEN = "        void WriteToken(JobEntry entry)\n        {\n"


def _run_in_sim_host(tmp_path, com_source: str, core_source: str) -> tuple[dict, dict]:
    """bits_helper_token with flags [network] and helper_token caller on one job: (result, job state after)."""
    state = tmp_path / "host.json"
    write_state(state, {"os_build": 20348, "bits_version": "10.0", "refuse_network_logon": False, "accounts": {},
                        "jobs": [canonical_job({"id": EXCEPTION_JOB, "name": "twin", "owner": ADMIN_SID,
                                                "flags": ["local_file"]})]})
    run = ModuleRun(params={"job": EXCEPTION_JOB, "flags": ["network"], "helper_token": "caller", "all_matches": False,
                            "all_users": False, "force": False}, check_mode=False)
    caller = Caller(sid=ADMIN_SID, is_admin=True, network_logon=False)
    outcome = run_module(state, caller, run, {"BitsCom": com_source, "BitsHelperToken": core_source},
                         runner=OneShotRunner())
    return json.loads(outcome.stdout), read_state(state)["jobs"][0]


def _assert_error_after_rollback(result: dict, job: dict, reason: str, call: str, hresult_hex: str) -> None:
    assert "exception" not in result, f"the exception escaped the module: {result.get('msg')}"
    assert (result["error"]["reason"], result["error"]["call"], result["error"]["hresult_hex"]) == \
        (reason, call, hresult_hex)
    assert result["error"]["job_id"] == EXCEPTION_JOB
    assert job["flags"] == ["local_file"], "the flags written before the exception were not restored"
    assert result["jobs"][0]["rolled_back"] is True and result["changed"] is False


def test_a_proxy_pointer_that_cannot_be_had_is_the_error_after_the_rollback(tmp_path) -> None:
    source = COM_CS.read_text()
    assert source.count(PROXY_POINTER) == 1, "update PROXY_POINTER: the call left BitsCom.cs"
    throwing = source.replace(PROXY_POINTER, '((Func<IntPtr>)(() => { throw new InvalidCastException("no proxy"); }))()')
    result, job = _run_in_sim_host(tmp_path, throwing, CORE_CS.read_text())
    _assert_error_after_rollback(result, job, "com_error", "Marshal.GetComInterfaceForObject", "0x80004002")


def test_an_exception_of_any_type_is_the_error_after_the_rollback(tmp_path) -> None:
    source = CORE_CS.read_text()
    assert source.count(WRITE_TOKEN) == 1, "update WRITE_TOKEN: WriteToken left BitsHelperToken.cs"
    throwing = source.replace(WRITE_TOKEN, WRITE_TOKEN + '            throw new InvalidOperationException("a bug");\n')
    # The rest of WriteToken is now unreachable: that warning (CS0162) is not what this test is about.
    throwing = "#pragma warning disable 162\n" + throwing
    result, job = _run_in_sim_host(tmp_path, COM_CS.read_text(), throwing)
    _assert_error_after_rollback(result, job, "host_exception", "SetHelperToken", "0x80131509")
    assert "System.InvalidOperationException: a bug" in result["error"]["message"]


@pytest.mark.parametrize("module, anchor", [
    ("bits_helper_token", "        void ReadJob(JobEntry entry)\n        {\n"),
    ("bits_job_info", "        public static Dictionary<string, object> Fill(IAccountNames names, List<object> reports, "
                      "double budgetSeconds)\n        {\n"),
])
def test_an_exception_outside_the_writes_is_the_error_not_a_crash(tmp_path, module, anchor) -> None:
    """Each module's Run turns any exception into its error: no exception reaches the .ps1."""
    core = CORE_CS if module == "bits_helper_token" else JOB_INFO_CS
    source = core.read_text()
    assert source.count(anchor) == 1, f"update the anchor: it left {core.name}"
    throwing = "#pragma warning disable 162\n" + source.replace(
        anchor, anchor + '            throw new InvalidOperationException("a bug");\n')
    state = tmp_path / "host.json"
    write_state(state, {"os_build": 20348, "bits_version": "10.0", "refuse_network_logon": False, "accounts": {},
                        "jobs": [canonical_job({"id": EXCEPTION_JOB, "name": "twin", "owner": ADMIN_SID})]})
    params = {"job": EXCEPTION_JOB, "flags": None, "helper_token": "keep", "all_matches": False, "all_users": False,
              "force": False} if module == "bits_helper_token" else {"job": None, "all_users": True, "name_timeout": 5}
    utils = {"BitsCom": COM_CS.read_text(), core.stem: throwing}
    outcome = run_module(state, Caller(sid=ADMIN_SID, is_admin=True, network_logon=False),
                         ModuleRun(params=params, check_mode=False), utils, module=module, runner=OneShotRunner())
    result = json.loads(outcome.stdout)
    assert "exception" not in result, f"the exception escaped the module: {result.get('msg')}"
    assert (result["error"]["reason"], result["error"]["hresult_hex"]) == ("host_exception", "0x80131509")
    assert outcome.exit_code == 1
