// The real core (BitsHelperToken.cs) against the native fake BITS (fake_bits.c), through Mono's COM
// interop (docs/dev/design.md section 4, "real COM dispatch"). Unlike the managed fakes, here `job as IBitsTokenOptions`
// is a real QueryInterface with the declared GUID, every call goes through a vtable slot laid out from
// the SDK headers, strings cross as UTF-16 LPWSTR, and failures come back as HRESULTs. The fake records
// which slot each call reached, so a declaration in the wrong place shows up as the wrong call.
// C# 5; compiled with the core, tests/csharp/TestHarness.cs and NativeFake.cs (the fake's test API) by
// tests/native/test_native_com.py; libfakebits.so found via LD_LIBRARY_PATH.

using System;
using System.Collections;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using ansible_collections.winbits.bits.plugins.module_utils.BitsCom;
using ansible_collections.winbits.bits.plugins.module_utils.BitsHelperToken;
using WinBits.Testing;

namespace WinBits.NativeInterop
{
    public static class InteropTests
    {
        const string Caller = "S-1-5-21-1111111111-2222222222-3333333333-1001";
        const string OtherUser = "S-1-5-21-1111111111-2222222222-3333333333-1002";
        const int Suspended = 3, Acknowledged = 7;
        const int EAccessDenied = unchecked((int)0x80070005);
        const int ENoInterface = unchecked((int)0x80004002);
        static readonly Guid JobId = new Guid("5d3b4c39-1f0a-4d5b-9e2f-123456789abc");
        static readonly Guid OtherId = new Guid("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");

        public static int Main(string[] args)
        {
            return TestHarness.Run(args, Reset, NativeFake.Invariants, NativeFake.CallLog);
        }

        static void Reset()
        {
            Native.fake_bits_reset();
            Native.fake_bits_set_caller(Caller);
        }

        static int AddJob(Guid id, string name, string owner, int state, uint flags, string helperSid, bool certificate)
        {
            int index = Native.fake_bits_add_job(ref id, name, owner, state, flags, helperSid, certificate ? 1 : 0);
            Assert.True(index >= 0, "the fake's job table is full");
            return index;
        }

        static Dictionary<string, object> Run(string job, string[] flags, bool checkMode, bool allMatches,
            bool allUsers)
        {
            Hashtable parameters = new Hashtable();
            parameters["job"] = job;
            parameters["flags"] = flags == null ? null : new ArrayList(flags);
            parameters["all_matches"] = allMatches;
            parameters["all_users"] = allUsers;
            parameters["force"] = false;
            CallerIdentity caller = new CallerIdentity();
            caller.Sid = Caller;
            caller.IsAdmin = true;
            caller.OsBuild = 20348;
            return HelperTokenModule.Run(new NativeManagerFactory(), caller, parameters, checkMode);
        }

        static Dictionary<string, object> Run(string job, string[] flags)
        {
            return Run(job, flags, false, false, false);
        }

        static Dictionary<string, object> Error(Dictionary<string, object> result)
        {
            Assert.True(result["error"] != null, "the run should have failed, it succeeded");
            return (Dictionary<string, object>)result["error"];
        }

        static void Succeeded(Dictionary<string, object> result)
        {
            Dictionary<string, object> error = (Dictionary<string, object>)result["error"];
            Assert.True(error == null, "unexpected error: " + (error == null ? "" : (string)error["message"]));
        }

        static List<Dictionary<string, object>> Jobs(Dictionary<string, object> result)
        {
            List<Dictionary<string, object>> jobs = new List<Dictionary<string, object>>();
            foreach (object job in (List<object>)result["jobs"])
                jobs.Add((Dictionary<string, object>)job);
            return jobs;
        }

        static string Braced(Guid id)
        {
            return id.ToString("B").ToUpperInvariant();
        }

        static int Calls(int job, string what)
        {
            return Native.fake_bits_call_count(job, what);
        }

        // ---- the tests --------------------------------------------------------------------------------

        public static void ManagerIsARealComObjectFoundByQueryInterface()
        {
            IBackgroundCopyManager manager = new NativeManagerFactory().Create();
            Assert.True(Marshal.IsComObject(manager), "the manager should be a runtime-callable wrapper");
            Assert.True(Calls(-1, "IBackgroundCopyManager.QueryInterface(IBackgroundCopyManager)") >= 1,
                "casting to IBackgroundCopyManager should QueryInterface for its IID");
            Marshal.ReleaseComObject(manager);
        }

        public static void GuidLookupReadsEveryFactThroughItsSlot()
        {
            int job = AddJob(JobId, "myDownloadJob", Caller, Suspended, 1, OtherUser, false);
            Dictionary<string, object> result = Run(JobId.ToString(), null);
            Succeeded(result);
            Assert.Equal(false, result["changed"], "changed");
            Dictionary<string, object> report = Jobs(result)[0];
            Assert.Equal(Braced(JobId), report["id"], "id (GetId, slot 10)");
            Assert.Equal("myDownloadJob", report["name"], "name (GetDisplayName, slot 18)");
            Assert.Equal(Caller, report["owner"], "owner (GetOwner, slot 16)");
            Assert.Equal("SUSPENDED", report["state"], "state (GetState, slot 14)");
            Assert.Number(Suspended, report["state_value"], "state_value");
            Assert.Number(1, report["previous_flags_value"], "previous_flags_value (GetHelperTokenFlags, slot 4)");
            Assert.Number(1, report["flags_value"], "flags_value");
            Assert.Equal(OtherUser, report["helper_token_sid"], "helper_token_sid (GetHelperTokenSid, slot 7)");
            Assert.Equal(false, report["client_certificate"], "client_certificate (GetClientCertificate, slot 6)");
            Assert.Equal(1, Calls(job, "IBackgroundCopyManager.GetJob"), "GetJob calls");
            Assert.Equal(1, Calls(job, "IBackgroundCopyJob.QueryInterface(IBitsTokenOptions)"),
                "QueryInterface(IBitsTokenOptions) calls");
            Assert.Equal(0, Calls(job, "IBitsTokenOptions.SetHelperTokenFlags"), "no write without flags");
        }

        public static void NameLookupEnumeratesTheCallersJobsToTheEnd()
        {
            AddJob(OtherId, "other", Caller, 0, 0, null, false);
            int job = AddJob(JobId, "nightly-sync", Caller, Suspended, 0, null, false);
            AddJob(Guid.NewGuid(), "nightly-sync", OtherUser, Suspended, 0, null, false);
            Dictionary<string, object> result = Run("nightly-sync", null);
            Succeeded(result);
            Assert.Equal(1, Jobs(result).Count, "jobs found among the caller's own");
            Assert.Equal(Braced(JobId), Jobs(result)[0]["id"], "the job found");
            Assert.Number(0, Native.fake_bits_last_enum_flags(), "EnumJobs flags");
            // Two jobs of the caller, then one more Next that returns S_FALSE with nothing fetched.
            Assert.Equal(3, Calls(-1, "IEnumBackgroundCopyJobs.Next"), "Next calls");
            Assert.Equal(1, Calls(job, "IBitsTokenOptions.GetHelperTokenFlags"), "GetHelperTokenFlags calls");
        }

        public static void AllUsersEnumeratesEveryonesJobs()
        {
            AddJob(JobId, "nightly-sync", Caller, Suspended, 0, null, false);
            AddJob(OtherId, "nightly-sync", OtherUser, Suspended, 0, null, false);
            Dictionary<string, object> result = Run("nightly-sync", null, false, true, true);
            Succeeded(result);
            Assert.Number(1, Native.fake_bits_last_enum_flags(), "EnumJobs flags (BG_JOB_ENUM_ALL_USERS)");
            Assert.Equal(2, Jobs(result).Count, "jobs found among all users'");
            Assert.Equal(OtherUser, Jobs(result)[1]["owner"], "second job's owner");
        }

        public static void SetLandsInSetHelperTokenFlagsAndIsReadBack()
        {
            int job = AddJob(JobId, "myDownloadJob", Caller, Suspended, 1, null, false);
            Dictionary<string, object> result = Run(Braced(JobId), new[] { "local_file", "network" });
            Succeeded(result);
            Assert.Equal(1, Calls(job, "IBitsTokenOptions.SetHelperTokenFlags"), "SetHelperTokenFlags calls");
            Assert.Number(3, Native.fake_bits_last_arg(job, "IBitsTokenOptions.SetHelperTokenFlags"),
                "UsageFlags the native SetHelperTokenFlags (slot 3) received");
            Assert.Number(3, Native.fake_bits_job_flags(job), "the job's flags in the fake");
            Assert.Equal(2, Calls(job, "IBitsTokenOptions.GetHelperTokenFlags"), "read, then read back");
            Assert.Equal(true, result["changed"], "changed");
            Assert.Number(1, Jobs(result)[0]["previous_flags_value"], "previous_flags_value");
            Assert.Number(3, Jobs(result)[0]["flags_value"], "flags_value (read back)");
        }

        public static void ClearingAllFlagsWritesZero()
        {
            int job = AddJob(JobId, "myDownloadJob", Caller, Suspended, 3, null, false);
            Succeeded(Run(Braced(JobId), new string[0]));
            Assert.Number(0, Native.fake_bits_last_arg(job, "IBitsTokenOptions.SetHelperTokenFlags"), "UsageFlags");
            Assert.Number(0, Native.fake_bits_job_flags(job), "the job's flags in the fake");
        }

        public static void CheckModeWritesNothing()
        {
            int job = AddJob(JobId, "myDownloadJob", Caller, Suspended, 1, null, false);
            Dictionary<string, object> result = Run(Braced(JobId), new[] { "network" }, true, false, false);
            Succeeded(result);
            Assert.Equal(true, result["changed"], "changed (would change)");
            Assert.Equal(0, Calls(job, "IBitsTokenOptions.SetHelperTokenFlags"), "SetHelperTokenFlags calls");
            Assert.Number(1, Native.fake_bits_job_flags(job), "the job's flags in the fake");
        }

        public static void AccessDeniedSurfacesAsComErrorWithItsHResult()
        {
            int job = AddJob(JobId, "myDownloadJob", Caller, Suspended, 0, null, false);
            Native.fake_bits_fail(job, "IBitsTokenOptions.SetHelperTokenFlags", EAccessDenied);
            Dictionary<string, object> error = Error(Run(Braced(JobId), new[] { "local_file" }));
            Assert.Equal("com_error", error["reason"], "reason");
            Assert.Equal("SetHelperTokenFlags", error["call"], "call");
            Assert.Number(0x80070005L, error["hresult"], "hresult");
            Assert.Equal("0x80070005", error["hresult_hex"], "hresult_hex");
            Assert.Equal(Braced(JobId), error["job_id"], "job_id");
            Assert.Number(0, Native.fake_bits_job_flags(job), "the job's flags in the fake");
        }

        public static void NoInterfaceMeansNoTokenOptions()
        {
            int job = AddJob(JobId, "myDownloadJob", Caller, Suspended, 0, null, false);
            Native.fake_bits_fail(job, "QueryInterface(IBitsTokenOptions)", ENoInterface);
            Dictionary<string, object> error = Error(Run(Braced(JobId), new[] { "local_file" }));
            Assert.Equal("no_token_options", error["reason"], "reason");
            Assert.Equal("QueryInterface(IBitsTokenOptions)", error["call"], "call");
            Assert.Number(0x80004002L, error["hresult"], "hresult");
            Assert.Equal(0, Calls(job, "IBitsTokenOptions.SetHelperTokenFlags"), "SetHelperTokenFlags calls");
        }

        // The runtime's cast hides why a QueryInterface failed, so the core asks once more; when that second
        // QueryInterface succeeds the interface is there, and the job is not a BITS older than 4.0.
        public static void AQueryInterfaceThatSucceedsTheSecondTimeIsUsed()
        {
            int job = AddJob(JobId, "myDownloadJob", Caller, Suspended, 0, null, false);
            Native.fake_bits_fail_times(job, "QueryInterface(IBitsTokenOptions)", ENoInterface, 1);
            Dictionary<string, object> result = Run(Braced(JobId), new[] { "local_file" });
            Assert.Equal(null, result["error"], "error");
            Assert.Equal(true, result["changed"], "changed");
            Assert.Number(1, Native.fake_bits_job_flags(job), "the job's flags in the fake");
            Assert.True(Calls(job, "IBackgroundCopyJob.QueryInterface(IBitsTokenOptions)") >= 2,
                "QueryInterface(IBitsTokenOptions) was asked again");
        }

        // Microsoft documents the owner check as made during QueryInterface: a refusal there is an access
        // problem to explain, not a BITS too old for IBitsTokenOptions.
        public static void AccessDeniedAtQueryInterfaceIsAComError()
        {
            int job = AddJob(JobId, "myDownloadJob", Caller, Suspended, 0, null, false);
            Native.fake_bits_fail(job, "QueryInterface(IBitsTokenOptions)", EAccessDenied);
            Dictionary<string, object> error = Error(Run(Braced(JobId), new[] { "local_file" }));
            Assert.Equal("com_error", error["reason"], "reason");
            Assert.Equal("QueryInterface(IBitsTokenOptions)", error["call"], "call");
            Assert.Number(0x80070005L, error["hresult"], "hresult");
            Assert.Equal(0, Calls(job, "IBitsTokenOptions.SetHelperTokenFlags"), "SetHelperTokenFlags calls");
        }

        // BITS 4.0 and later always answer for IBackgroundCopyJobHttpOptions: a QueryInterface for it that
        // fails otherwise than with E_NOINTERFACE is a failed call, never "no certificate".
        public static void ACertificateQueryInterfaceFailureIsAFailedCall()
        {
            int job = AddJob(JobId, "myDownloadJob", OtherUser, Suspended, 0, null, true);
            Native.fake_bits_fail(job, "QueryInterface(IBackgroundCopyJobHttpOptions)", unchecked((int)0x80010108));
            Dictionary<string, object> error = Error(Run(Braced(JobId), new[] { "network" }));
            Assert.Equal("com_error", error["reason"], "reason");
            Assert.Equal("QueryInterface(IBackgroundCopyJobHttpOptions)", error["call"], "call");
            Assert.Number(0x80010108L, error["hresult"], "hresult (RPC_E_DISCONNECTED)");
            Assert.Equal(0, Calls(job, "IBitsTokenOptions.SetHelperTokenFlags"), "SetHelperTokenFlags calls");
        }

        public static void ACertificateInterfaceThatIsNotThereMeansNone()
        {
            int job = AddJob(JobId, "myDownloadJob", OtherUser, Suspended, 0, null, true);
            Native.fake_bits_fail(job, "QueryInterface(IBackgroundCopyJobHttpOptions)", ENoInterface);
            Dictionary<string, object> result = Run(Braced(JobId), new[] { "network" });
            Succeeded(result);
            Assert.Equal(null, Jobs(result)[0]["client_certificate"], "client_certificate");
            Assert.Number(2, Native.fake_bits_job_flags(job), "the job's flags in the fake");
        }

        // A bit a later BITS defines is written back as it was and not compared.
        public static void UnknownFlagBitsAreKeptThroughTheSlot()
        {
            Native.fake_bits_set_valid_token_flags(0x7);
            int job = AddJob(JobId, "later", Caller, Suspended, 0x5, null, false);
            Dictionary<string, object> same = Run(Braced(JobId), new[] { "local_file" });
            Succeeded(same);
            Assert.Equal(false, same["changed"], "changed");
            Assert.Equal(0, Calls(job, "IBitsTokenOptions.SetHelperTokenFlags"), "no write: the known bits match");
            Dictionary<string, object> result = Run(Braced(JobId), new[] { "network" });
            Succeeded(result);
            Assert.Number(0x6, Native.fake_bits_last_arg(job, "IBitsTokenOptions.SetHelperTokenFlags"), "UsageFlags");
            Assert.Number(0x6, Jobs(result)[0]["flags_value"], "flags_value");
            Assert.Number(0x4, Jobs(result)[0]["unknown_flags_value"], "unknown_flags_value");
        }

        // Someone else rewrote the second job after our write: it is left as they left it, and the first
        // job of the run is restored.
        public static void AReadBackMismatchRestoresTheOtherJobs()
        {
            int first = AddJob(JobId, "twin", Caller, Suspended, 1, null, false);
            int second = AddJob(OtherId, "twin", Caller, Suspended, 1, null, false);
            Native.fake_bits_change_after_set(second, 1);
            Dictionary<string, object> result = Run("twin", new[] { "network" }, false, true, false);
            Assert.Equal("readback_mismatch", Error(result)["reason"], "reason");
            Assert.Equal(Braced(OtherId), Error(result)["job_id"], "job_id");
            Assert.Number(1, Native.fake_bits_job_flags(first), "first job restored");
            Assert.Equal(2, Calls(first, "IBitsTokenOptions.SetHelperTokenFlags"), "first: write, restore");
            Assert.Equal(1, Calls(second, "IBitsTokenOptions.SetHelperTokenFlags"), "second: written once, not restored");
            Assert.Equal(true, Jobs(result)[0]["rolled_back"], "first rolled_back");
            Assert.Equal(false, Jobs(result)[1]["rolled_back"], "second rolled_back");
        }

        public static void UnknownGuidIsNotFound()
        {
            AddJob(OtherId, "other", Caller, Suspended, 0, null, false);
            Dictionary<string, object> error = Error(Run(Braced(JobId), null));
            Assert.Equal("not_found", error["reason"], "reason");
            Assert.Equal("GetJob", error["call"], "call");
            Assert.Number(0x80200001L, error["hresult"], "hresult (BG_E_NOT_FOUND)");
        }

        public static void AcknowledgedJobRefusesTheWrite()
        {
            AddJob(JobId, "done", Caller, Acknowledged, 0, null, false);
            Dictionary<string, object> error = Error(Run(Braced(JobId), new[] { "local_file" }));
            Assert.Equal("com_error", error["reason"], "reason");
            Assert.Number(0x80200002L, error["hresult"], "hresult (BG_E_INVALID_STATE)");
        }

        public static void ClientCertificateIsReadAndNetworkRefused()
        {
            int job = AddJob(JobId, "withCert", Caller, Suspended, 1, null, true);
            Dictionary<string, object> result = Run(Braced(JobId), new[] { "local_file", "network" });
            Dictionary<string, object> error = Error(result);
            Assert.Equal("client_certificate", error["reason"], "reason");
            Assert.Equal(true, Jobs(result)[0]["client_certificate"], "client_certificate");
            Assert.Equal(0, Calls(job, "IBitsTokenOptions.SetHelperTokenFlags"), "SetHelperTokenFlags calls");
        }

        public static void ReadBackMismatchIsReported()
        {
            int job = AddJob(JobId, "raced", Caller, Suspended, 0, null, false);
            Native.fake_bits_change_after_set(job, 1);
            Dictionary<string, object> error = Error(Run(Braced(JobId), new[] { "network" }));
            Assert.Equal("readback_mismatch", error["reason"], "reason");
            Assert.Number(1, Native.fake_bits_job_flags(job), "the other writer's flags stay");
        }

        public static void FailedWriteRollsBackTheJobsAlreadyWritten()
        {
            int first = AddJob(JobId, "twin", Caller, Suspended, 1, null, false);
            int second = AddJob(OtherId, "twin", Caller, Suspended, 1, null, false);
            Native.fake_bits_fail(second, "IBitsTokenOptions.SetHelperTokenFlags", EAccessDenied);
            Dictionary<string, object> result = Run("twin", new[] { "network" }, false, true, false);
            Assert.Equal("com_error", Error(result)["reason"], "reason");
            Assert.Equal(2, Calls(first, "IBitsTokenOptions.SetHelperTokenFlags"), "write, then restore");
            Assert.Number(1, Native.fake_bits_job_flags(first), "first job restored");
            Assert.Equal(true, Jobs(result)[0]["rolled_back"], "rolled_back");
        }

        public static void Utf16StringsRoundTrip()
        {
            const string name = "T\u00e9l\u00e9chargement \u2713 \U0001F680";
            AddJob(JobId, name, Caller, Suspended, 0, null, false);
            Dictionary<string, object> result = Run(name, null);
            Succeeded(result);
            Assert.Equal(name, Jobs(result)[0]["name"], "display name read back");
            Assert.Equal(null, Jobs(result)[0]["helper_token_sid"], "no helper token: GetHelperTokenSid gives null");
        }

        // The core releases what it took (Marshal.ReleaseComObject, or the finalizer at worst).
        public static void ReferencesAreReleasedWhenTheRunEnds()
        {
            // First show the count moves: one job handed out is one reference, released is none.
            IBackgroundCopyManager manager = new NativeManagerFactory().Create();
            Guid id = JobId;
            AddJob(id, "probe", Caller, Suspended, 0, null, false);
            IBackgroundCopyJob probe;
            manager.GetJob(ref id, out probe);
            Assert.True(Native.fake_bits_outstanding_refs() >= 1, "a job held by the runtime should count");
            Marshal.ReleaseComObject(probe);
            Marshal.ReleaseComObject(manager);
            Assert.Number(0, Native.fake_bits_outstanding_refs(), "references after ReleaseComObject");
            Reset();
            AddJob(JobId, "myDownloadJob", Caller, Suspended, 0, null, true);
            AddJob(OtherId, "myDownloadJob", Caller, Suspended, 0, OtherUser, false);
            Succeeded(Run("myDownloadJob", new[] { "local_file" }, false, true, false));
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            Assert.Number(0, Native.fake_bits_outstanding_refs(), "references still held on jobs and enumerators");
        }
    }
}
