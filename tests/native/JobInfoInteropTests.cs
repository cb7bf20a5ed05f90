// The real bits_job_info core (BitsJobInfo.cs) against the native fake BITS (fake_bits.c), through Mono's
// COM interop (docs/dev/design.md section 4, "real COM dispatch"): GetType, GetTimes (a BG_JOB_TIMES laid out from bits.h)
// and GetError (a real IBackgroundCopyError object, released by the core) land in the slots the SDK
// headers give them, or the fake records otherwise. The account-name lookup is a managed table.
// C# 5; compiled with BitsCom.cs, BitsJobInfo.cs, tests/csharp/TestHarness.cs and NativeFake.cs by
// tests/native/test_native_com.py; libfakebits.so found via LD_LIBRARY_PATH.

using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using ansible_collections.winbits.bits.plugins.module_utils.BitsCom;
using ansible_collections.winbits.bits.plugins.module_utils.BitsJobInfo;
using WinBits.Testing;

namespace WinBits.NativeInterop
{
    // SID -> account name from a table, as the simulator resolves them.
    sealed class AccountTable : IAccountNames
    {
        readonly Dictionary<string, string> names = new Dictionary<string, string>();

        public AccountTable Add(string sid, string name)
        {
            names[sid] = name;
            return this;
        }

        public IDictionary<string, string> Translate(IList<string> sids)
        {
            Dictionary<string, string> found = new Dictionary<string, string>();
            foreach (string sid in sids)
            {
                string name;
                if (names.TryGetValue(sid, out name))
                    found[sid] = name;
            }
            return found;
        }
    }

    public static class JobInfoInteropTests
    {
        const string Caller = "S-1-5-21-1111111111-2222222222-3333333333-1001";
        const string OtherUser = "S-1-5-21-1111111111-2222222222-3333333333-1002";
        const string Helper = "S-1-5-21-1111111111-2222222222-3333333333-1013";
        const string LocalSystem = "S-1-5-18";
        const int Suspended = 3, Error = 4, TransientError = 5;
        const int Download = 0, Upload = 1, UploadReply = 2;
        const int ContextLocalFile = 4, ContextRemoteFile = 5;
        const int EAccessDenied = unchecked((int)0x80070005);
        const int TokenRequired = unchecked((int)0x80200056);
        static readonly Guid JobId = new Guid("5d3b4c39-1f0a-4d5b-9e2f-123456789abc");
        static readonly Guid OtherId = new Guid("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
        // Both DWORD halves of each FILETIME are non-zero (checked below), so neither half can be lost or
        // swapped unnoticed; the transfer-completion time differs from both, so a shifted field shows.
        static readonly DateTime Created = new DateTime(2026, 11, 20, 8, 15, 7, DateTimeKind.Utc);
        static readonly DateTime Modified = new DateTime(2026, 11, 21, 9, 0, 30, DateTimeKind.Utc);
        static readonly DateTime Completed = new DateTime(2027, 1, 2, 3, 4, 5, DateTimeKind.Utc);

        public static int Main(string[] args)
        {
            return TestHarness.Run(args, Reset, AfterEachTest, NativeFake.CallLog);
        }

        static void Reset()
        {
            Native.fake_bits_reset();
            Native.fake_bits_set_caller(Caller);
        }

        // The slot invariants, then: every job, enumerator and error object handed out was released.
        static string AfterEachTest()
        {
            string complaint = NativeFake.Invariants();
            if (complaint != null)
                return complaint;
            long outstanding = NativeFake.OutstandingRefsAfterCollection();
            return outstanding == 0 ? null : outstanding + " reference(s) still held on jobs, enumerators or errors";
        }

        static int AddJob(Guid id, string name, string owner, int state, uint flags, string helperSid)
        {
            int index = Native.fake_bits_add_job(ref id, name, owner, state, flags, helperSid, 0);
            Assert.True(index >= 0, "the fake's job table is full");
            return index;
        }

        static void SetError(int job, int code, int context, string description)
        {
            Assert.Equal(0, Native.fake_bits_set_job_error(job, code, context, description), "fake_bits_set_job_error");
        }

        static ulong FileTime(DateTime time)
        {
            return (ulong)time.ToFileTimeUtc();
        }

        static Dictionary<string, object> Run(bool allUsers, params string[] patterns)
        {
            Hashtable parameters = new Hashtable();
            parameters["job"] = patterns.Length == 0 ? null : new ArrayList(patterns);
            parameters["all_users"] = allUsers;
            CallerIdentity caller = new CallerIdentity();
            caller.Sid = Caller;
            caller.IsAdmin = true;
            caller.OsBuild = 20348;
            AccountTable names = new AccountTable().Add(Caller, "CORP\\alice").Add(LocalSystem, "NT AUTHORITY\\SYSTEM")
                .Add(Helper, "CORP\\svc-sync");
            Dictionary<string, object> result = JobInfoModule.Run(new NativeManagerFactory(), caller, names, parameters);
            // Before any collection: the core releases what it took itself (ReleaseComObject), rather than
            // leaving BITS objects to the finalizer. AfterEachTest checks again once finalizers have run.
            Assert.Number(0, Native.fake_bits_outstanding_refs(), "references held when the run returned");
            Dictionary<string, object> error = (Dictionary<string, object>)result["error"];
            Assert.True(error == null, "unexpected run error: " + (error == null ? "" : (string)error["message"]));
            return result;
        }

        static List<Dictionary<string, object>> Jobs(Dictionary<string, object> result)
        {
            List<Dictionary<string, object>> jobs = new List<Dictionary<string, object>>();
            foreach (object job in (List<object>)result["jobs"])
                jobs.Add((Dictionary<string, object>)job);
            return jobs;
        }

        static Dictionary<string, object> Only(Dictionary<string, object> result)
        {
            Assert.Equal(1, Jobs(result).Count, "number of jobs listed");
            return Jobs(result)[0];
        }

        static Dictionary<string, object> ByName(Dictionary<string, object> result, string name)
        {
            foreach (Dictionary<string, object> report in Jobs(result))
                if ((string)report["name"] == name)
                    return report;
            throw new AssertionFailed("no job named " + name + " listed");
        }

        static Dictionary<string, object> Field(Dictionary<string, object> report, string key)
        {
            object value = report[key];
            Assert.True(value is Dictionary<string, object>, key + " should be a dictionary, is " + (value ?? "null"));
            return (Dictionary<string, object>)value;
        }

        static int Calls(int job, string what)
        {
            return Native.fake_bits_call_count(job, what);
        }

        // ---- the tests --------------------------------------------------------------------------------

        public static void TheTestTimesHaveBothFileTimeHalvesSet()
        {
            foreach (DateTime time in new[] { Created, Modified, Completed })
            {
                ulong value = FileTime(time);
                Assert.True((value & 0xFFFFFFFFUL) != 0 && (value >> 32) != 0, "both halves of " + time.ToString("o"));
            }
        }

        public static void ReadsTypeAndTimesThroughTheirSlots()
        {
            int job = AddJob(JobId, "contentSync", LocalSystem, Suspended, 3, Helper);
            Native.fake_bits_set_job_type(job, UploadReply);
            Native.fake_bits_set_job_times(job, FileTime(Created), FileTime(Modified), FileTime(Completed));
            Dictionary<string, object> report = Only(Run(true));
            Assert.Equal("{5D3B4C39-1F0A-4D5B-9E2F-123456789ABC}", report["id"], "id (GetId, slot 10)");
            Assert.Equal("UPLOAD_REPLY", report["type"], "type (GetType, slot 11)");
            Assert.Number(UploadReply, report["type_value"], "type_value");
            Assert.Equal("2026-11-20T08:15:07Z", report["creation_time"], "creation_time (GetTimes, slot 13)");
            Assert.Equal("2026-11-21T09:00:30Z", report["modification_time"], "modification_time (GetTimes, slot 13)");
            Assert.Equal("SUSPENDED", report["state"], "state (GetState, slot 14)");
            Assert.Equal(LocalSystem, report["owner"], "owner (GetOwner, slot 16)");
            Assert.Equal("NT AUTHORITY\\SYSTEM", report["owner_name"], "owner_name (the account table)");
            Assert.Equal(3L, report["flags_value"], "flags_value (GetHelperTokenFlags)");
            Assert.Equal(Helper, report["helper_token_sid"], "helper_token_sid (GetHelperTokenSid)");
            Assert.Equal("CORP\\svc-sync", report["helper_token_name"], "helper_token_name");
            Assert.Equal(null, report["error"], "a suspended job's error");
            Assert.Equal(null, report["read_error"], "read_error");
            Assert.Equal(1, Calls(job, "IBackgroundCopyJob.GetType"), "native GetType calls");
            Assert.Equal(1, Calls(job, "IBackgroundCopyJob.GetTimes"), "native GetTimes calls");
            Assert.Equal(1, Calls(job, "IBackgroundCopyJob.GetState"), "native GetState calls");
            Assert.Equal(0, Calls(job, "IBackgroundCopyJob.GetError"), "a suspended job's error is not read");
            Assert.Number(1, Native.fake_bits_last_enum_flags(), "EnumJobs flags (BG_JOB_ENUM_ALL_USERS)");
        }

        public static void TypesAndTimesArePerJobAndAZeroTimeIsNull()
        {
            int upload = AddJob(JobId, "upload", Caller, Suspended, 0, null);
            int download = AddJob(OtherId, "download", OtherUser, Suspended, 0, null);
            Native.fake_bits_set_job_type(upload, Upload);
            Native.fake_bits_set_job_type(download, Download);
            Native.fake_bits_set_job_times(upload, FileTime(Modified), 0, 0);
            Dictionary<string, object> result = Run(true);
            Assert.Equal("UPLOAD", ByName(result, "upload")["type"], "upload's type");
            Assert.Equal("DOWNLOAD", ByName(result, "download")["type"], "download's type");
            Assert.Equal("2026-11-21T09:00:30Z", ByName(result, "upload")["creation_time"], "upload's creation_time");
            Assert.Equal(null, ByName(result, "upload")["modification_time"], "a zero FILETIME");
            Assert.Equal(null, ByName(result, "download")["creation_time"], "a job without times");
            Assert.Equal(null, ByName(result, "download")["owner_name"], "an owner the table does not know");
            Assert.Equal(1, Calls(download, "IBackgroundCopyJob.GetTimes"), "download's GetTimes calls");
        }

        public static void AJobInErrorReportsTheErrorObjectsFacts()
        {
            const string description = "  Un jeton d'assistance est n\u00e9cessaire \u2713\r\n";
            int job = AddJob(JobId, "contentSync", Caller, Error, 0, null);
            SetError(job, TokenRequired, ContextRemoteFile, description);
            Dictionary<string, object> report = Only(Run(false));
            Dictionary<string, object> error = Field(report, "error");
            Assert.Equal(0x80200056L, error["hresult"], "hresult (IBackgroundCopyError.GetError, slot 3)");
            Assert.Equal("0x80200056", error["hresult_hex"], "hresult_hex");
            Assert.Equal("REMOTE_FILE", error["context"], "context");
            Assert.Number(ContextRemoteFile, error["context_value"], "context_value");
            Assert.Equal(description.Trim(), error["description"], "description (GetErrorDescription, slot 5), trimmed");
            Assert.Equal(null, report["read_error"], "read_error");
            Assert.Equal("ERROR", report["state"], "state");
            Assert.Number(0, Native.fake_bits_last_enum_flags(), "EnumJobs flags (the caller's jobs)");
            Assert.Equal(1, Calls(job, "IBackgroundCopyJob.GetError"), "native job GetError calls (slot 15)");
            Assert.Equal(1, Calls(job, "IBackgroundCopyError.GetError"), "native error GetError calls");
            Assert.Equal(1, Calls(job, "IBackgroundCopyError.GetErrorDescription"), "GetErrorDescription calls");
            Assert.Number(CultureInfo.CurrentUICulture.LCID & 0xFFFF,
                Native.fake_bits_last_arg(job, "IBackgroundCopyError.GetErrorDescription"),
                "the LanguageId GetErrorDescription received");
            Assert.Equal(1, Native.fake_bits_error_objects(), "IBackgroundCopyError objects handed out");
        }

        public static void ATransientErrorWithoutDescriptionHasANullDescription()
        {
            int job = AddJob(JobId, "contentSync", Caller, TransientError, 0, null);
            SetError(job, EAccessDenied, ContextLocalFile, null);
            Dictionary<string, object> report = Only(Run(true));
            Dictionary<string, object> error = Field(report, "error");
            Assert.Equal(0x80070005L, error["hresult"], "hresult");
            Assert.Equal("LOCAL_FILE", error["context"], "context");
            Assert.Equal(null, error["description"], "a failed GetErrorDescription");
            Assert.Equal(null, report["read_error"], "a missing description is no read error");
            Assert.Number(0x0409, Native.fake_bits_last_arg(job, "IBackgroundCopyError.GetErrorDescription"),
                "US English is asked last");
            Dictionary<string, object> failure = Field(error, "description_error");
            Assert.Number(0x8007013DL, failure["hresult"], "description_error: ERROR_MR_MID_NOT_FOUND");
        }

        static Dictionary<string, object> ErrorInCulture(string culture, int job)
        {
            CultureInfo previous = System.Threading.Thread.CurrentThread.CurrentUICulture;
            try
            {
                System.Threading.Thread.CurrentThread.CurrentUICulture = new CultureInfo(culture);
                return Field(Only(Run(true)), "error");
            }
            finally
            {
                System.Threading.Thread.CurrentThread.CurrentUICulture = previous;
            }
        }

        // A host whose UI language has no BITS message resources: the description comes in US English, and
        // LanguageId 0 (which BITS refuses) is never asked. The LANGID crosses as a DWORD in slot 5.
        public static void WithoutMessagesInTheUiLanguageTheDescriptionIsUsEnglish()
        {
            int job = AddJob(JobId, "contentSync", Caller, Error, 0, null);
            SetError(job, TokenRequired, ContextRemoteFile, "A helper token is required.");
            Assert.Equal(0, Native.fake_bits_set_message_languages(new uint[] { 0x0409 }, 1), "message languages");
            Dictionary<string, object> error = ErrorInCulture("fr-FR", job);
            Assert.Equal("A helper token is required.", error["description"], "description");
            Assert.Equal(2, Calls(job, "IBackgroundCopyError.GetErrorDescription"), "GetErrorDescription calls");
            Assert.Number(0x0409, Native.fake_bits_last_arg(job, "IBackgroundCopyError.GetErrorDescription"),
                "the second LANGID");
            Assert.True(NativeFake.CallLog().Contains("IBackgroundCopyError.GetErrorDescription 1036"),
                "the UI language (0x040C) was asked first");
            Assert.True(!NativeFake.CallLog().Contains("IBackgroundCopyError.GetErrorDescription 0\n"), "LANGID 0");
        }

        public static void AnErrorStateWithoutErrorInformationHasNoError()
        {
            int job = AddJob(JobId, "contentSync", Caller, Error, 0, null);
            Dictionary<string, object> report = Only(Run(true));
            Assert.Equal(null, report["error"], "error");
            Assert.Equal(null, report["read_error"], "BG_E_ERROR_INFORMATION_UNAVAILABLE is not a failure");
            Assert.Equal(1, Calls(job, "IBackgroundCopyJob.GetError"), "GetError was asked");
            Assert.Equal(0, Native.fake_bits_error_objects(), "no error object handed out");
            Assert.Equal(0L, report["flags_value"], "the rest of the job is still read");
        }

        public static void AFailingErrorObjectIsAReadErrorAndStillReleased()
        {
            int job = AddJob(JobId, "contentSync", Caller, Error, 0, null);
            SetError(job, TokenRequired, ContextRemoteFile, "text");
            Native.fake_bits_fail(job, "IBackgroundCopyError.GetError", EAccessDenied);
            Dictionary<string, object> readError = Field(Only(Run(true)), "read_error");
            Assert.Equal("com_error", readError["reason"], "reason");
            Assert.Equal("IBackgroundCopyError.GetError", readError["call"], "call");
            Assert.Equal(0x80070005L, readError["hresult"], "hresult");
            Assert.Equal(1, Native.fake_bits_error_objects(), "the error object was handed out");
            // AfterEachTest checks that it came back.
        }

        public static void AFaultOnOneJobIsItsReadErrorAndTheNextJobIsRead()
        {
            int locked = AddJob(JobId, "locked", OtherUser, Suspended, 2, null);
            int fine = AddJob(OtherId, "fine", Caller, Error, 1, Helper);
            SetError(fine, TokenRequired, ContextRemoteFile, "A helper token is required.");
            Native.fake_bits_set_job_type(fine, Upload);
            Native.fake_bits_fail(locked, "IBitsTokenOptions.GetHelperTokenFlags", EAccessDenied);
            Dictionary<string, object> result = Run(true);
            Assert.Equal(2, Jobs(result).Count, "both jobs listed");
            Dictionary<string, object> lockedReport = ByName(result, "locked");
            Dictionary<string, object> readError = Field(lockedReport, "read_error");
            Assert.Equal("com_error", readError["reason"], "reason");
            Assert.Equal("GetHelperTokenFlags", readError["call"], "call");
            Assert.Equal(0x80070005L, readError["hresult"], "hresult");
            Assert.Equal("{5D3B4C39-1F0A-4D5B-9E2F-123456789ABC}", readError["job_id"], "job_id");
            Assert.Equal(null, lockedReport["flags_value"], "flags not read");
            Assert.Equal(OtherUser, lockedReport["owner"], "what was read before stays");
            Assert.Equal(1, Calls(locked, "IBitsTokenOptions.GetHelperTokenSid"), "the helper-token SID is read all the same");
            Assert.Equal(1, ((List<object>)lockedReport["read_errors"]).Count, "read_errors");
            Dictionary<string, object> fineReport = ByName(result, "fine");
            Assert.Equal(null, fineReport["read_error"], "the next job's read_error");
            Assert.Equal(1L, fineReport["flags_value"], "the next job is read in full");
            Assert.Equal("UPLOAD", fineReport["type"], "the next job's type");
            Assert.Equal(0x80200056L, Field(fineReport, "error")["hresult"], "the next job's error");
            Assert.Equal(Helper, fineReport["helper_token_sid"], "the next job's helper token");
        }

        // GetError, the certificate's QueryInterface and GetTimes fail through their slots; the flags and the
        // helper-token SID are read all the same, and each failed call is listed with its HRESULT.
        public static void FailingGettersCostOnlyTheirOwnFacts()
        {
            int job = AddJob(JobId, "contentSync", Caller, Error, 3, Helper);
            SetError(job, TokenRequired, ContextRemoteFile, "text");
            Native.fake_bits_fail(job, "IBackgroundCopyJob.GetError", EAccessDenied);
            Native.fake_bits_fail(job, "QueryInterface(IBackgroundCopyJobHttpOptions)", unchecked((int)0x80010108));
            Native.fake_bits_fail(job, "IBackgroundCopyJob.GetTimes", unchecked((int)0x800706BA));
            Dictionary<string, object> report = Only(Run(true));
            Assert.Number(3, report["flags_value"], "flags_value");
            Assert.Equal(Helper, report["helper_token_sid"], "helper_token_sid");
            Assert.Equal("CORP\\svc-sync", report["helper_token_name"], "helper_token_name");
            Assert.Equal("ERROR", report["state"], "state");
            Assert.Equal(null, report["error"], "error");
            Assert.Equal(null, report["client_certificate"], "client_certificate");
            List<string> failed = new List<string>();
            foreach (Dictionary<string, object> failure in (List<object>)report["read_errors"])
                failed.Add(failure["call"] + "=" + failure["hresult_hex"]);
            Assert.Equal("GetTimes=0x800706BA,GetError=0x80070005,QueryInterface(IBackgroundCopyJobHttpOptions)=0x80010108",
                string.Join(",", failed), "read_errors");
        }

        public static void UnknownFlagBitsAndAnEmptyTokenSidCrossAsRead()
        {
            Native.fake_bits_set_empty_sid_without_token(1);
            AddJob(JobId, "later", Caller, Suspended, 0x15, null);
            Dictionary<string, object> report = Only(Run(true));
            Assert.Number(0x15, report["flags_value"], "flags_value: the whole DWORD");
            Assert.Number(0x14, report["unknown_flags_value"], "unknown_flags_value");
            Assert.Equal(null, report["helper_token_sid"], "an empty SID is no token");
            Assert.Equal(null, report["read_error"], "read_error");
        }

        public static void SelectionByNameAndGuidGoesThroughTheEnumeration()
        {
            AddJob(JobId, "nightly-sync", Caller, Suspended, 0, null);
            int skipped = AddJob(OtherId, "upload", Caller, Suspended, 0, null);
            int byGuid = AddJob(new Guid("11111111-2222-3333-4444-555555555555"), "other", Caller, Suspended, 0, null);
            Dictionary<string, object> result = Run(true, "nightly-*", "{11111111-2222-3333-4444-555555555555}");
            Assert.Equal(2, Jobs(result).Count, "jobs selected");
            Assert.Equal("nightly-sync", Jobs(result)[0]["name"], "by pattern");
            Assert.Equal("other", Jobs(result)[1]["name"], "by GUID");
            Assert.Equal(0, Calls(skipped, "IBackgroundCopyJob.GetTimes"), "an unselected job is not read further");
            Assert.Equal(1, Calls(byGuid, "IBackgroundCopyJob.GetTimes"), "a selected job is");
            // Three jobs, then one more Next that returns S_FALSE with nothing fetched.
            Assert.Equal(4, Calls(-1, "IEnumBackgroundCopyJobs.Next"), "Next calls");
        }

        // The count the after-test check relies on moves: an error object held is a reference, released is none.
        public static void AnErrorObjectHeldByTheRuntimeCounts()
        {
            IBackgroundCopyManager manager = new NativeManagerFactory().Create();
            Guid id = JobId;
            int job = AddJob(id, "probe", Caller, Error, 0, null);
            SetError(job, TokenRequired, ContextRemoteFile, null);
            IBackgroundCopyJob probe;
            manager.GetJob(ref id, out probe);
            IBackgroundCopyError error;
            probe.GetError(out error);
            Marshal.ReleaseComObject(probe);
            Marshal.ReleaseComObject(manager);
            Assert.True(Native.fake_bits_outstanding_refs() >= 1, "an error object held by the runtime should count");
            uint context;
            int code;
            error.GetError(out context, out code);
            Assert.Number(TokenRequired, code, "code through the held error object");
            Assert.Number(ContextRemoteFile, context, "context through the held error object");
            Marshal.ReleaseComObject(error);
            Assert.Number(0, Native.fake_bits_outstanding_refs(), "references after ReleaseComObject");
        }
    }
}
