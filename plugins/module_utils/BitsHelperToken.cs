// Copyright: (c) 2026, winbits.bits contributors
// GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

// The host-side core of winbits.bits.bits_helper_token (docs/host-contract.md): find BITS jobs, read
// their helper-token flags, write them when they differ, read them back and report facts. C# 5 only:
// Windows PowerShell 5.1 compiles this with the .NET Framework csc (DESIGN.md 1).

using System;
using System.Collections;
using System.Collections.Generic;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Principal;
using System.Text.RegularExpressions;

namespace ansible_collections.winbits.bits.plugins.module_utils.BitsHelperToken
{
    // COM declarations. Slot order and method names follow the Windows SDK headers (bits.h, bits2_5.h,
    // bits4_0.h) exactly: the runtime calls by slot, so a skipped or swapped method calls the wrong
    // function. A declaration stops after the last slot this file uses. Every method keeps the default
    // HRESULT-to-exception marshalling; callers compare Exception.HResult, never the exception type.

    [ComImport, Guid("5ce34c0d-0dc9-4c1f-897c-daa1b78cee7c"), InterfaceType(ComInterfaceType.InterfaceIsIUnknown)]
    public interface IBackgroundCopyManager
    {
        void CreateJob([MarshalAs(UnmanagedType.LPWStr)] string DisplayName, uint Type, out Guid pJobId,
            out IBackgroundCopyJob ppJob);
        void GetJob([In] ref Guid jobID, out IBackgroundCopyJob ppJob);
        void EnumJobs(uint dwFlags, out IEnumBackgroundCopyJobs ppEnum);
    }

    [ComImport, Guid("1af4f612-3b71-466f-8f58-7b6f73ac57ad"), InterfaceType(ComInterfaceType.InterfaceIsIUnknown)]
    public interface IEnumBackgroundCopyJobs
    {
        // Returns S_FALSE (a success code, so no exception) with pceltFetched 0 at the end.
        void Next(uint celt, out IBackgroundCopyJob rgelt, out uint pceltFetched);
    }

    [ComImport, Guid("37668d37-507e-4160-9316-26306d150b12"), InterfaceType(ComInterfaceType.InterfaceIsIUnknown)]
    public interface IBackgroundCopyJob
    {
        void AddFileSet(uint cFileCount, IntPtr pFileSet);
        void AddFile([MarshalAs(UnmanagedType.LPWStr)] string RemoteUrl,
            [MarshalAs(UnmanagedType.LPWStr)] string LocalName);
        void EnumFiles(out IntPtr pEnum);
        void Suspend();
        void Resume();
        void Cancel();
        void Complete();
        void GetId(out Guid pVal);
        void GetType(out uint pVal);
        void GetProgress(IntPtr pVal);
        void GetTimes(IntPtr pVal);
        void GetState(out uint pVal);
        void GetError(out IntPtr ppError);
        void GetOwner([MarshalAs(UnmanagedType.LPWStr)] out string pVal);
        void SetDisplayName([MarshalAs(UnmanagedType.LPWStr)] string Val);
        void GetDisplayName([MarshalAs(UnmanagedType.LPWStr)] out string pVal);
    }

    [ComImport, Guid("9a2584c3-f7d2-457a-9a5e-22b67bffc7d2"), InterfaceType(ComInterfaceType.InterfaceIsIUnknown)]
    public interface IBitsTokenOptions
    {
        void SetHelperTokenFlags(uint UsageFlags);
        void GetHelperTokenFlags(out uint pFlags);
        void SetHelperToken();
        void ClearHelperToken();
        // Null when the job has no helper token.
        void GetHelperTokenSid([MarshalAs(UnmanagedType.LPWStr)] out string pSid);
    }

    [ComImport, Guid("f1bd1079-9f01-4bdc-8036-f09b70095066"), InterfaceType(ComInterfaceType.InterfaceIsIUnknown)]
    public interface IBackgroundCopyJobHttpOptions
    {
        void SetClientCertificateByID(uint StoreLocation, [MarshalAs(UnmanagedType.LPWStr)] string StoreName,
            IntPtr pCertHashBlob);
        void SetClientCertificateByName(uint StoreLocation, [MarshalAs(UnmanagedType.LPWStr)] string StoreName,
            [MarshalAs(UnmanagedType.LPWStr)] string SubjectName);
        void RemoveClientCertificate();
        // Fails with RPC_X_BAD_STUB_DATA when the job has no certificate. ppCertHashBlob is a CoTaskMem
        // block the caller frees.
        void GetClientCertificate(out uint pStoreLocation, [MarshalAs(UnmanagedType.LPWStr)] out string pStoreName,
            out IntPtr ppCertHashBlob, [MarshalAs(UnmanagedType.LPWStr)] out string pSubjectName);
    }


    // The glue builds the real manager; tests and the simulator pass fakes (DESIGN.md 1).
    public interface IBackgroundCopyManagerFactory
    {
        IBackgroundCopyManager Create();
    }

    public sealed class ComBackgroundCopyManagerFactory : IBackgroundCopyManagerFactory
    {
        static readonly Guid ClsidBackgroundCopyManager = new Guid("4991d34b-80a1-4291-83b6-3328366b9097");

        public IBackgroundCopyManager Create()
        {
            Type type = Type.GetTypeFromCLSID(ClsidBackgroundCopyManager, true);
            return (IBackgroundCopyManager)Activator.CreateInstance(type);
        }
    }

    // Who calls BITS: the facts the controller needs to explain E_ACCESSDENIED (DESIGN.md 3).
    public class CallerIdentity
    {
        public string Sid;
        public bool IsAdmin;
        public int OsBuild;

        public static CallerIdentity Current()
        {
            using (WindowsIdentity identity = WindowsIdentity.GetCurrent())
            {
                CallerIdentity caller = new CallerIdentity();
                caller.Sid = identity.User == null ? null : identity.User.Value;
                // IsInRole looks for an enabled Administrators SID in the token, which is what BITS checks:
                // a filtered (UAC) token of an administrator counts as a non-administrator.
                caller.IsAdmin = new WindowsPrincipal(identity).IsInRole(WindowsBuiltInRole.Administrator);
                caller.OsBuild = ReadOsBuild();
                return caller;
            }
        }

        // Environment.OSVersion reports build 9200 in a process whose manifest does not declare Windows 10
        // support (the PSRP host wsmprovhost.exe may be one), which would misexplain access rules that
        // depend on build 14393; the registry value is right in every process.
        private static int ReadOsBuild()
        {
            object build = Microsoft.Win32.Registry.GetValue(
                @"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion", "CurrentBuildNumber", null);
            int parsed;
            if (build != null && int.TryParse(build.ToString(), out parsed))
                return parsed;
            return Environment.OSVersion.Version.Build;
        }
    }

    public static class HelperTokenModule
    {
        public static Dictionary<string, object> RunOnHost(IDictionary parameters, bool checkMode)
        {
            return Run(new ComBackgroundCopyManagerFactory(), CallerIdentity.Current(), parameters, checkMode);
        }

        public static Dictionary<string, object> Run(IBackgroundCopyManagerFactory factory, CallerIdentity caller,
            IDictionary parameters, bool checkMode)
        {
            Dictionary<string, object> result = new Dictionary<string, object>();
            List<object> reports = new List<object>();
            result["changed"] = false;
            result["caller"] = CallerFacts(caller);
            result["desired_flags_value"] = null;
            result["jobs"] = reports;
            result["error"] = null;
            Execution execution = new Execution(reports, checkMode);
            try
            {
                Request request = Request.Parse(parameters);
                if (request.Flags.HasValue)
                    result["desired_flags_value"] = (long)request.Flags.Value;
                execution.Run(factory, request);
            }
            catch (Failure failure)
            {
                result["error"] = failure.ToDictionary();
            }
            finally
            {
                execution.Release();
            }
            foreach (Dictionary<string, object> report in reports)
                if ((bool)report["changed"])
                    result["changed"] = true;
            return result;
        }

        static Dictionary<string, object> CallerFacts(CallerIdentity caller)
        {
            Dictionary<string, object> facts = new Dictionary<string, object>();
            facts["sid"] = caller == null ? null : caller.Sid;
            facts["is_admin"] = caller != null && caller.IsAdmin;
            facts["os_build"] = caller == null ? 0 : caller.OsBuild;
            return facts;
        }
    }

    // The module arguments after validation (docs/host-contract.md, "Module arguments").
    sealed class Request
    {
        const string GuidDigits = "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}";
        static readonly Regex GuidPattern = new Regex(
            @"\A(?:\{" + GuidDigits + @"\}|" + GuidDigits + @")\z", RegexOptions.CultureInvariant);

        public string Job;
        public Guid? JobId;      // set when Job is a GUID, else Job is a display name
        public uint? Flags;      // null: read and report only
        public bool AllMatches;
        public bool AllUsers;
        public bool Force;

        public static Request Parse(IDictionary parameters)
        {
            if (parameters == null)
                throw Failure.InvalidParameter("parameters are missing");
            Request request = new Request();
            request.Job = parameters.Contains("job") ? parameters["job"] as string : null;
            if (string.IsNullOrEmpty(request.Job))
                throw Failure.InvalidParameter("'job' must be a non-empty string");
            if (GuidPattern.IsMatch(request.Job))
                request.JobId = Guid.Parse(request.Job);
            request.Flags = ParseFlags(parameters.Contains("flags") ? parameters["flags"] : null);
            request.AllMatches = ParseBool(parameters, "all_matches");
            request.AllUsers = ParseBool(parameters, "all_users");
            request.Force = ParseBool(parameters, "force");
            return request;
        }

        // The controller has already turned BG_TOKEN_*, integers and hex into canonical names.
        static uint? ParseFlags(object value)
        {
            if (value == null)
                return null;
            IList names = value as IList;
            if (names == null || value is string)
                throw Failure.InvalidParameter("'flags' must be a list of flag names");
            uint flags = 0;
            foreach (object item in names)
            {
                string name = item as string;
                if (string.Equals(name, "local_file", StringComparison.OrdinalIgnoreCase))
                    flags |= Bits.TokenLocalFile;
                else if (string.Equals(name, "network", StringComparison.OrdinalIgnoreCase))
                    flags |= Bits.TokenNetwork;
                else
                    throw Failure.InvalidParameter(string.Format(
                        "'flags' holds '{0}'; expected local_file or network", item));
            }
            return flags;
        }

        static bool ParseBool(IDictionary parameters, string key)
        {
            object value = parameters.Contains(key) ? parameters[key] : null;
            if (value == null)
                return false;
            if (!(value is bool))
                throw Failure.InvalidParameter(string.Format("'{0}' must be a boolean", key));
            return (bool)value;
        }
    }

    static class Bits
    {
        public const uint TokenLocalFile = 0x1;
        public const uint TokenNetwork = 0x2;
        public const uint EnumAllUsers = 0x1;
        public const int NotFound = unchecked((int)0x80200001);
        public const int NoInterface = unchecked((int)0x80004002);
        public const int BadStubData = unchecked((int)0x800706F7);   // RPC_X_BAD_STUB_DATA
        public const string LocalSystemSid = "S-1-5-18";

        static readonly string[] StateNames = {
            "QUEUED", "CONNECTING", "TRANSFERRING", "SUSPENDED", "ERROR", "TRANSIENT_ERROR", "TRANSFERRED",
            "ACKNOWLEDGED", "CANCELLED" };

        public static string StateName(uint state)
        {
            return state < StateNames.Length ? StateNames[state] : "UNKNOWN";
        }

        // A real RCW may throw UnauthorizedAccessException, ArgumentException... for an HRESULT, and
        // Activator wraps what a constructor throws: the HRESULT is the only reliable fact.
        public static int HResultOf(Exception e)
        {
            TargetInvocationException wrapped = e as TargetInvocationException;
            if (wrapped != null && wrapped.InnerException != null)
                return HResultOf(wrapped.InnerException);
            return e.HResult;
        }

        public static void Release(object o)
        {
            if (o != null && Marshal.IsComObject(o))
                Marshal.ReleaseComObject(o);
        }
    }

    // Stops the run; becomes the result's "error" (docs/host-contract.md, "error").
    sealed class Failure : Exception
    {
        readonly string reason, call, jobId;
        readonly int? code;

        public Failure(string reason, string call, int? code, string jobId, string message) : base(message)
        {
            this.reason = reason;
            this.call = call;
            this.code = code;
            this.jobId = jobId;
        }

        public static Failure InvalidParameter(string message)
        {
            return new Failure("invalid_parameter", null, null, null, message);
        }

        public static Failure ComError(string call, Exception e, string jobId)
        {
            int code = Bits.HResultOf(e);
            return new Failure("com_error", call, code, jobId, string.Format("{0} failed: {1}", call, Hex(code)));
        }

        public static string Hex(int code)
        {
            return "0x" + ((uint)code).ToString("X8");
        }

        public Dictionary<string, object> ToDictionary()
        {
            Dictionary<string, object> error = new Dictionary<string, object>();
            error["reason"] = reason;
            error["call"] = call;
            error["hresult"] = code.HasValue ? (object)(long)(uint)code.Value : null;
            error["hresult_hex"] = code.HasValue ? Hex(code.Value) : null;
            error["job_id"] = jobId;
            error["message"] = Message;
            return error;
        }
    }

    // One job found, with the COM objects and the facts read from it.
    sealed class JobEntry
    {
        public readonly IBackgroundCopyJob Job;
        public readonly Dictionary<string, object> Report = new Dictionary<string, object>();
        public IBitsTokenOptions Options;
        public string Id;
        public string Owner;
        public uint PreviousFlags;
        public bool HasClientCertificate;

        public JobEntry(IBackgroundCopyJob job)
        {
            Job = job;
            foreach (string key in new[] { "id", "name", "owner", "state", "state_value", "helper_token_sid",
                                           "client_certificate", "previous_flags_value", "flags_value" })
                Report[key] = null;
            Report["changed"] = false;
            Report["client_certificate_forced"] = false;
            Report["rolled_back"] = false;
        }
    }

    // One module run: find, read, preflight, write, read back (docs/host-contract.md, "Order of work").
    sealed class Execution
    {
        readonly List<object> reports;
        readonly bool checkMode;
        readonly List<JobEntry> entries = new List<JobEntry>();
        IBackgroundCopyManager manager;

        public Execution(List<object> reports, bool checkMode)
        {
            this.reports = reports;
            this.checkMode = checkMode;
        }

        public void Run(IBackgroundCopyManagerFactory factory, Request request)
        {
            CreateManager(factory);
            FindJobs(request);
            foreach (JobEntry entry in entries)
                ReadJob(entry);
            if (!request.Flags.HasValue)
                return;
            // Every job is read and checked before the first write, so a refusal changes nothing.
            foreach (JobEntry entry in entries)
                Preflight(entry, request.Flags.Value, request.Force);
            Apply(request.Flags.Value);
        }

        // Only the job RCWs and the manager are released: `job as IBitsTokenOptions` returns the same
        // RCW as the job, and releasing it twice would detach the job from its COM object.
        public void Release()
        {
            foreach (JobEntry entry in entries)
                Bits.Release(entry.Job);
            entries.Clear();
            Bits.Release(manager);
            manager = null;
        }

        void CreateManager(IBackgroundCopyManagerFactory factory)
        {
            try
            {
                manager = factory.Create();
            }
            catch (Exception e)
            {
                int code = Bits.HResultOf(e);
                throw new Failure("manager_unavailable", "CoCreateInstance", code, null,
                    "Cannot create the BITS manager (CoCreateInstance): " + Failure.Hex(code));
            }
        }

        void FindJobs(Request request)
        {
            if (request.JobId.HasValue)
            {
                entries.Add(new JobEntry(GetJob(request.JobId.Value)));
                return;
            }
            FindByName(request.Job, request.AllUsers ? Bits.EnumAllUsers : 0);
            if (entries.Count == 0)
                throw new Failure("not_found", "EnumJobs", null, null,
                    string.Format("No BITS job has the display name '{0}'", request.Job));
            if (entries.Count > 1 && !request.AllMatches)
            {
                foreach (JobEntry entry in entries)
                    ReadIdentity(entry);
                throw new Failure("ambiguous", null, null, null, string.Format(
                    "{0} BITS jobs have the display name '{1}'", entries.Count, request.Job));
            }
        }

        IBackgroundCopyJob GetJob(Guid id)
        {
            IBackgroundCopyJob job;
            try
            {
                manager.GetJob(ref id, out job);
            }
            catch (Exception e)
            {
                if (Bits.HResultOf(e) != Bits.NotFound)
                    throw Failure.ComError("GetJob", e, null);
                throw new Failure("not_found", "GetJob", Bits.NotFound, null,
                    string.Format("No BITS job has the id {0}", id.ToString("B").ToUpperInvariant()));
            }
            return job;
        }

        // Display names are not unique: every job of the enumeration is compared, ordinally.
        void FindByName(string name, uint enumFlags)
        {
            IEnumBackgroundCopyJobs jobs = null;
            Call("EnumJobs", null, delegate { manager.EnumJobs(enumFlags, out jobs); });
            try
            {
                while (true)
                {
                    IBackgroundCopyJob job = null;
                    uint fetched = 0;
                    Call("Next", null, delegate { jobs.Next(1, out job, out fetched); });
                    if (fetched == 0 || job == null)
                        return;
                    string jobName = null;
                    try
                    {
                        Call("GetDisplayName", null, delegate { job.GetDisplayName(out jobName); });
                    }
                    catch (Failure)
                    {
                        Bits.Release(job);
                        throw;
                    }
                    if (string.Equals(jobName, name, StringComparison.Ordinal))
                        entries.Add(new JobEntry(job));
                    else
                        Bits.Release(job);
                }
            }
            finally
            {
                Bits.Release(jobs);
            }
        }

        // The report joins the result before it is filled, so a failure still shows what was read.
        void ReadIdentity(JobEntry entry)
        {
            reports.Add(entry.Report);
            IBackgroundCopyJob job = entry.Job;
            Guid id = Guid.Empty;
            string name = null, owner = null;
            uint state = 0;
            Call("GetId", null, delegate { job.GetId(out id); });
            entry.Id = id.ToString("B").ToUpperInvariant();
            entry.Report["id"] = entry.Id;
            Call("GetDisplayName", entry.Id, delegate { job.GetDisplayName(out name); });
            entry.Report["name"] = name;
            Call("GetOwner", entry.Id, delegate { job.GetOwner(out owner); });
            entry.Owner = owner;
            entry.Report["owner"] = owner;
            Call("GetState", entry.Id, delegate { job.GetState(out state); });
            entry.Report["state"] = Bits.StateName(state);
            entry.Report["state_value"] = (int)state;
        }

        void ReadJob(JobEntry entry)
        {
            ReadIdentity(entry);
            IBitsTokenOptions options = QueryTokenOptions(entry);
            entry.Options = options;
            uint flags = 0;
            string helperSid = null;
            Call("GetHelperTokenFlags", entry.Id, delegate { options.GetHelperTokenFlags(out flags); });
            entry.PreviousFlags = flags;
            entry.Report["previous_flags_value"] = (long)flags;
            entry.Report["flags_value"] = (long)flags;
            Call("GetHelperTokenSid", entry.Id, delegate { options.GetHelperTokenSid(out helperSid); });
            entry.Report["helper_token_sid"] = helperSid;
            ReadClientCertificate(entry);
        }

        static IBitsTokenOptions QueryTokenOptions(JobEntry entry)
        {
            IBitsTokenOptions options = entry.Job as IBitsTokenOptions;
            if (options != null)
                return options;
            int code = QueryInterfaceResult(entry.Job, typeof(IBitsTokenOptions).GUID);
            // BITS checks the caller against the job's owner during this QueryInterface: only
            // E_NOINTERFACE means a BITS without the interface; anything else is a failed call to explain.
            if (code != Bits.NoInterface)
                throw new Failure("com_error", "QueryInterface(IBitsTokenOptions)", code, entry.Id,
                    "QueryInterface(IBitsTokenOptions) failed: " + Failure.Hex(code));
            throw new Failure("no_token_options", "QueryInterface(IBitsTokenOptions)", code, entry.Id,
                "The job has no IBitsTokenOptions (BITS 4.0 or later is needed): " + Failure.Hex(code));
        }

        // `as` hides why QueryInterface failed; a real COM object is asked once more for the HRESULT.
        static int QueryInterfaceResult(object o, Guid iid)
        {
            if (!Marshal.IsComObject(o))
                return Bits.NoInterface;
            IntPtr unknown = Marshal.GetIUnknownForObject(o);
            try
            {
                IntPtr result;
                int code = Marshal.QueryInterface(unknown, ref iid, out result);
                if (result != IntPtr.Zero)
                    Marshal.Release(result);
                return code < 0 ? code : Bits.NoInterface;
            }
            finally
            {
                Marshal.Release(unknown);
            }
        }

        // No IBackgroundCopyJobHttpOptions (BITS < 2.5) means no certificate can be set: reported as null.
        // GetClientCertificate fails with RPC_X_BAD_STUB_DATA when the job has no certificate (Microsoft's
        // docs; the same code when the caller may not see the certificate, which BITS does not tell apart).
        static void ReadClientCertificate(JobEntry entry)
        {
            IBackgroundCopyJobHttpOptions http = entry.Job as IBackgroundCopyJobHttpOptions;
            if (http == null)
                return;
            try
            {
                uint location;
                string store, subject;
                IntPtr hash;
                http.GetClientCertificate(out location, out store, out hash, out subject);
                if (hash != IntPtr.Zero)
                    Marshal.FreeCoTaskMem(hash);
                entry.HasClientCertificate = true;
            }
            catch (Exception e)
            {
                if (Bits.HResultOf(e) != Bits.BadStubData)
                    throw Failure.ComError("GetClientCertificate", e, entry.Id);
            }
            entry.Report["client_certificate"] = entry.HasClientCertificate;
        }

        // The one write the docs say breaks a job: NETWORK added while a client certificate is set and the
        // owner is not LocalSystem fails the job with 0x80072F9A (DESIGN.md 3).
        static void Preflight(JobEntry entry, uint desired, bool force)
        {
            bool addsNetwork = (desired & Bits.TokenNetwork) != 0 && (entry.PreviousFlags & Bits.TokenNetwork) == 0;
            if (!addsNetwork || !entry.HasClientCertificate
                || string.Equals(entry.Owner, Bits.LocalSystemSid, StringComparison.OrdinalIgnoreCase))
                return;
            if (!force)
                throw new Failure("client_certificate", null, null, entry.Id, string.Format(
                    "Setting network on job {0} would fail it with 0x80072F9A: it has a client certificate and "
                    + "its owner {1} is not LocalSystem", entry.Id, entry.Owner));
            entry.Report["client_certificate_forced"] = true;
        }

        void Apply(uint desired)
        {
            List<JobEntry> written = new List<JobEntry>();
            foreach (JobEntry entry in entries)
            {
                if (entry.PreviousFlags == desired)
                    continue;
                if (checkMode)
                {
                    entry.Report["changed"] = true;
                    continue;
                }
                uint readBack = 0;
                IBitsTokenOptions options = entry.Options;
                try
                {
                    Call("SetHelperTokenFlags", entry.Id, delegate { options.SetHelperTokenFlags(desired); });
                    written.Add(entry);
                    entry.Report["changed"] = true;
                    Call("GetHelperTokenFlags", entry.Id, delegate { options.GetHelperTokenFlags(out readBack); });
                }
                catch (Failure)
                {
                    RollBack(written);
                    throw;
                }
                entry.Report["flags_value"] = (long)readBack;
                // Someone else wrote in between: theirs is the newer intent, so it is reported, not undone.
                if (readBack != desired)
                    throw new Failure("readback_mismatch", "GetHelperTokenFlags", null, entry.Id, string.Format(
                        "Job {0}: wrote flags 0x{1:X}, read back 0x{2:X}", entry.Id, desired, readBack));
            }
        }

        // Best effort: a job whose restore fails keeps rolled_back false, changed true and the flags we
        // wrote. A restored job ends as it began, so it reports no change.
        static void RollBack(List<JobEntry> written)
        {
            foreach (JobEntry entry in written)
            {
                try
                {
                    entry.Options.SetHelperTokenFlags(entry.PreviousFlags);
                }
                catch (Exception)
                {
                    continue;
                }
                entry.Report["rolled_back"] = true;
                entry.Report["changed"] = false;
                entry.Report["flags_value"] = (long)entry.PreviousFlags;
            }
        }

        // Runs one COM call; any failure becomes com_error with the call's name and HRESULT.
        static void Call(string name, string jobId, Action call)
        {
            try
            {
                call();
            }
            catch (Exception e)
            {
                throw Failure.ComError(name, e, jobId);
            }
        }
    }
}
