// Copyright: (c) 2026, winbits.bits contributors
// GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

// What every winbits.bits module needs on the host: BITS' COM declarations, the injected manager
// factory and caller identity, the failure facts, and the reading of a job (docs/host-contract.md).
// Each module's own logic lives in its own util (BitsHelperToken.cs, BitsJobInfo.cs), which pulls this
// one in with a `using` of its namespace, so a module sends the host only the C# it needs.
// C# 5 only: Windows PowerShell 5.1 compiles this with the .NET Framework csc (docs/dev/design.md section 2).

using System;
using System.Collections.Generic;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Principal;
using System.Threading;
using ComTypes = System.Runtime.InteropServices.ComTypes;

namespace ansible_collections.winbits.bits.plugins.module_utils.BitsCom
{
    // COM declarations. Slot order and method names follow the Windows SDK headers (bits.h, bits2_5.h,
    // bits4_0.h) exactly: the runtime calls by slot, so a skipped or swapped method calls the wrong
    // function. A declaration stops after the last slot a module uses. Every method keeps the default
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

    // BG_JOB_TIMES (bits.h): three FILETIMEs, UTC; a time that has not happened yet is all zero.
    [StructLayout(LayoutKind.Sequential)]
    public struct BG_JOB_TIMES
    {
        public ComTypes.FILETIME CreationTime;
        public ComTypes.FILETIME ModificationTime;
        public ComTypes.FILETIME TransferCompletionTime;
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
        void GetTimes(out BG_JOB_TIMES pVal);
        void GetState(out uint pVal);
        // Fails with BG_E_ERROR_INFORMATION_UNAVAILABLE when the job has no error.
        void GetError(out IBackgroundCopyError ppError);
        void GetOwner([MarshalAs(UnmanagedType.LPWStr)] out string pVal);
        void SetDisplayName([MarshalAs(UnmanagedType.LPWStr)] string Val);
        void GetDisplayName([MarshalAs(UnmanagedType.LPWStr)] out string pVal);
    }

    [ComImport, Guid("19c613a0-fcb8-4f28-81ae-897c3d078f81"), InterfaceType(ComInterfaceType.InterfaceIsIUnknown)]
    public interface IBackgroundCopyError
    {
        void GetError(out uint pContext, out int pCode);
        void GetFile(out IntPtr pVal);
        // Localised text; LanguageId is a LANGID.
        void GetErrorDescription(uint LanguageId, [MarshalAs(UnmanagedType.LPWStr)] out string pErrorDescription);
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


    // objidl.h. Implemented by a COM proxy: SetBlanket sets the security of calls through one interface
    // proxy (pProxy) only, never the process's (CoInitializeSecurity is not ours to change).
    [ComImport, Guid("0000013d-0000-0000-c000-000000000046"), InterfaceType(ComInterfaceType.InterfaceIsIUnknown)]
    public interface IClientSecurity
    {
        void QueryBlanket(IntPtr pProxy, out uint pAuthnSvc, out uint pAuthzSvc, out IntPtr pServerPrincName,
            out uint pAuthnLevel, out uint pImpLevel, out IntPtr pAuthInfo, out uint pCapabilities);
        void SetBlanket(IntPtr pProxy, uint dwAuthnSvc, uint dwAuthzSvc, IntPtr pServerPrincName, uint dwAuthnLevel,
            uint dwImpLevel, IntPtr pAuthInfo, uint dwCapabilities);
    }

    // QueryInterface's HRESULT for an object that is not a COM object: `as` on a managed object is a type
    // test and cannot say why an interface is missing. The managed fakes of the tests and the simulator
    // implement it, so that a refused QueryInterface reaches the core with its HRESULT as it does from
    // BITS; a runtime-callable wrapper never does (the COM object is asked instead).
    public interface IQueryInterfaceAnswer
    {
        int QueryInterface(Guid iid);
    }

    // The glue builds the real manager; tests and the simulator pass fakes (docs/dev/design.md section 2).
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

    // Who calls BITS: the facts the controller needs to explain E_ACCESSDENIED (docs/dev/design.md section 3).
    public class CallerIdentity
    {
        public string Sid;
        public bool IsAdmin;
        public int OsBuild;

        // Each step names its call when it fails (a token without query access, a locked-down registry),
        // so that the failure reaches the controller as facts, like a failed BITS call.
        public static CallerIdentity Current()
        {
            WindowsIdentity identity;
            try
            {
                identity = WindowsIdentity.GetCurrent();
            }
            catch (Exception e)
            {
                throw IdentityFailure("WindowsIdentity.GetCurrent", e);
            }
            using (identity)
            {
                CallerIdentity caller = new CallerIdentity();
                caller.Sid = identity.User == null ? null : identity.User.Value;
                try
                {
                    // IsInRole looks for an enabled Administrators SID in the token, which is what BITS checks:
                    // a filtered (UAC) token of an administrator counts as a non-administrator.
                    caller.IsAdmin = new WindowsPrincipal(identity).IsInRole(WindowsBuiltInRole.Administrator);
                }
                catch (Exception e)
                {
                    throw IdentityFailure("WindowsPrincipal.IsInRole", e);
                }
                caller.OsBuild = ReadOsBuild();
                return caller;
            }
        }

        // Reads the identity with `identity` (CallerIdentity.Current on Windows); null when it could not
        // be read, with the failure in `failure` (reason caller_identity).
        public static CallerIdentity Read(Func<CallerIdentity> identity, out Failure failure)
        {
            failure = null;
            try
            {
                return identity();
            }
            catch (Failure known)
            {
                failure = known;
            }
            catch (Exception e)
            {
                failure = IdentityFailure("CallerIdentity", e);
            }
            return null;
        }

        static Failure IdentityFailure(string call, Exception e)
        {
            int code = Bits.HResultOf(e);
            return new Failure("caller_identity", call, code, null, string.Format(
                "Cannot read who the module runs as ({0} failed: {1}): {2}", call, Failure.Hex(code), e.Message));
        }

        public Dictionary<string, object> ToFacts()
        {
            Dictionary<string, object> facts = new Dictionary<string, object>();
            facts["sid"] = Sid;
            facts["is_admin"] = IsAdmin;
            facts["os_build"] = OsBuild;
            return facts;
        }

        public static Dictionary<string, object> FactsOf(CallerIdentity caller)
        {
            return (caller == null ? new CallerIdentity() : caller).ToFacts();
        }

        // Environment.OSVersion reports build 9200 in a process whose manifest does not declare Windows 10
        // support (the PSRP host wsmprovhost.exe may be one), which would misexplain access rules that
        // depend on build 14393; the registry value is right in every process.
        private static int ReadOsBuild()
        {
            object build;
            try
            {
                build = Microsoft.Win32.Registry.GetValue(
                    @"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion", "CurrentBuildNumber", null);
            }
            catch (Exception e)
            {
                throw IdentityFailure("Registry(CurrentBuildNumber)", e);
            }
            int parsed;
            if (build != null && int.TryParse(build.ToString(), out parsed))
                return parsed;
            return Environment.OSVersion.Version.Build;
        }
    }

    // SID -> account name ("DOMAIN\\user"), for reports. Injected like the manager: Windows asks the LSA,
    // tests and the simulator a table. One call resolves every SID a task needs (NameResolution below).
    public interface IAccountNames
    {
        // One batch lookup of distinct, non-empty SIDs; returns SID -> name for those that resolve. A SID
        // left out is not resolvable (a deleted account, a domain no one can reach). It may block for a
        // long time (an unreachable domain controller): the caller runs it under a time budget.
        IDictionary<string, string> Translate(IList<string> sids);
    }

    public sealed class WindowsAccountNames : IAccountNames
    {
        // IdentityReferenceCollection.Translate is one LsaLookupSids2 call for all the SIDs: the LSA asks
        // each domain once, instead of once per SID. Untranslated SIDs stay SecurityIdentifiers.
        // A malformed SID (ArgumentException) is left out rather than failing the others.
        public IDictionary<string, string> Translate(IList<string> sids)
        {
            IdentityReferenceCollection batch = new IdentityReferenceCollection(sids.Count);
            foreach (string sid in sids)
            {
                try
                {
                    batch.Add(new SecurityIdentifier(sid));
                }
                catch (ArgumentException)
                {
                }
            }
            Dictionary<string, string> names = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (batch.Count == 0)
                return names;
            IdentityReferenceCollection translated = batch.Translate(typeof(NTAccount), false);
            for (int index = 0; index < batch.Count && index < translated.Count; index++)
            {
                NTAccount account = translated[index] as NTAccount;
                if (account != null)
                    names[batch[index].Value] = account.Value;
            }
            return names;
        }
    }

    // The account names of one task: every SID in one IAccountNames.Translate call, waited for at most
    // `budget`. Past it the call is left to finish on its own (a background thread, which ends with the
    // process) and every name is null: names are a courtesy, the SIDs are the audit
    // (docs/host-contract.md, "name_lookup").
    public sealed class NameResolution
    {
        public const string LookupCall = "IdentityReferenceCollection.Translate";

        readonly Dictionary<string, string> names = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int sidCount;
        bool timedOut;
        Failure failure;
        double budgetSeconds;

        public static NameResolution Run(IAccountNames lookup, IEnumerable<string> sids, double budgetSeconds)
        {
            NameResolution resolution = new NameResolution();
            resolution.budgetSeconds = budgetSeconds;
            List<string> distinct = Distinct(sids);
            resolution.sidCount = distinct.Count;
            if (distinct.Count == 0 || budgetSeconds <= 0)
                return resolution;
            resolution.Lookup(lookup, distinct);
            return resolution;
        }

        static List<string> Distinct(IEnumerable<string> sids)
        {
            HashSet<string> seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            List<string> distinct = new List<string>();
            foreach (string sid in sids)
                if (!string.IsNullOrEmpty(sid) && seen.Add(sid))
                    distinct.Add(sid);
            return distinct;
        }

        void Lookup(IAccountNames lookup, List<string> sids)
        {
            IDictionary<string, string> answer = null;
            Exception error = null;
            Thread worker = new Thread(delegate()
            {
                try
                {
                    answer = lookup.Translate(sids);
                }
                catch (Exception e)
                {
                    error = e;
                }
            });
            worker.IsBackground = true;
            worker.Start();
            if (!worker.Join(TimeSpan.FromSeconds(budgetSeconds)))
            {
                timedOut = true;
                return;
            }
            if (error != null)
            {
                failure = Failure.Of(error, LookupCall, null);
                return;
            }
            if (answer == null)
                return;
            foreach (string sid in sids)
            {
                string name;
                if (answer.TryGetValue(sid, out name) && !string.IsNullOrEmpty(name))
                    names[sid] = name;
            }
        }

        // Null when the SID is null, did not resolve, or the lookup did not finish in time.
        public string NameOf(string sid)
        {
            string name;
            return sid != null && names.TryGetValue(sid, out name) ? name : null;
        }

        public Dictionary<string, object> ToFacts()
        {
            Dictionary<string, object> facts = new Dictionary<string, object>();
            facts["timeout_seconds"] = budgetSeconds;
            facts["sids"] = sidCount;
            facts["resolved"] = names.Count;
            facts["unresolved"] = sidCount - names.Count;
            facts["timed_out"] = timedOut;
            facts["error"] = failure == null ? null : failure.ToDictionary();
            return facts;
        }
    }

    public static class Bits
    {
        public const uint TokenLocalFile = 0x1;
        public const uint TokenNetwork = 0x2;
        // The flags this collection knows; a later BITS may define more bits, which are kept as they are.
        public const uint KnownTokenFlags = TokenLocalFile | TokenNetwork;
        public const uint EnumAllUsers = 0x1;
        public const int NotFound = unchecked((int)0x80200001);
        public const int ErrorInformationUnavailable = unchecked((int)0x8020000F);
        public const int NoInterface = unchecked((int)0x80004002);
        public const int BadStubData = unchecked((int)0x800706F7);   // RPC_X_BAD_STUB_DATA
        public const string LocalSystemSid = "S-1-5-18";
        public const uint StateError = 4;
        public const uint StateTransientError = 5;

        static readonly string[] StateNames = {
            "QUEUED", "CONNECTING", "TRANSFERRING", "SUSPENDED", "ERROR", "TRANSIENT_ERROR", "TRANSFERRED",
            "ACKNOWLEDGED", "CANCELLED" };
        static readonly string[] TypeNames = { "DOWNLOAD", "UPLOAD", "UPLOAD_REPLY" };
        static readonly string[] ErrorContextNames = {
            "NONE", "UNKNOWN", "GENERAL_QUEUE_MANAGER", "QUEUE_MANAGER_NOTIFICATION", "LOCAL_FILE", "REMOTE_FILE",
            "GENERAL_TRANSPORT", "REMOTE_APPLICATION" };

        public static string StateName(uint state)
        {
            return NameOf(StateNames, state);
        }

        public static string TypeName(uint type)
        {
            return NameOf(TypeNames, type);
        }

        public static string ErrorContextName(uint context)
        {
            return NameOf(ErrorContextNames, context);
        }

        static string NameOf(string[] names, uint value)
        {
            return value < names.Length ? names[value] : "UNKNOWN";
        }

        // SIDs compare without regard to case (S-1-5-18 = s-1-5-18); null equals only null.
        public static bool SameSid(string first, string second)
        {
            if (first == null || second == null)
                return first == null && second == null;
            return string.Equals(first, second, StringComparison.OrdinalIgnoreCase);
        }

        public static string GuidText(Guid id)
        {
            return id.ToString("B").ToUpperInvariant();
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

        // Never throws: a reference that cannot be released must not replace the run's result.
        public static void Release(object o)
        {
            try
            {
                if (o != null && Marshal.IsComObject(o))
                    Marshal.ReleaseComObject(o);
            }
            catch (Exception)
            {
            }
        }

        // Runs one COM call; any failure becomes com_error with the call's name and HRESULT.
        public static void Call(string name, string jobId, Action call)
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

    // Stops the run (or the reading of one job); becomes an "error" or "read_error" of the result
    // (docs/host-contract.md, "error").
    public sealed class Failure : Exception
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

        // Any exception as a Failure: ours as it is; any other (a runtime failure, or a bug) as
        // host_exception with the call it happened in, its HRESULT, type and message, so that no exception
        // ever leaves a module's Run without the facts (and after the run's writes were undone).
        public static Failure Of(Exception e, string call, string jobId)
        {
            Failure known = e as Failure;
            if (known != null)
                return known;
            int code = Bits.HResultOf(e);
            Exception cause = e is TargetInvocationException && e.InnerException != null ? e.InnerException : e;
            return new Failure("host_exception", call, code, jobId, string.Format("{0} failed: {1} ({2}: {3})",
                call ?? "the module", Hex(code), cause.GetType().FullName, cause.Message));
        }

        public string Reason
        {
            get { return reason; }
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

    // The calls every module makes on the manager and on a job. Each failure is a Failure naming the call.
    public static class JobReading
    {
        public static IBackgroundCopyManager CreateManager(IBackgroundCopyManagerFactory factory)
        {
            try
            {
                return factory.Create();
            }
            catch (Exception e)
            {
                int code = Bits.HResultOf(e);
                throw new Failure("manager_unavailable", "CoCreateInstance", code, null,
                    "Cannot create the BITS manager (CoCreateInstance): " + Failure.Hex(code));
            }
        }

        // Hands every job of the enumeration to keep(); a job it does not keep is released at once.
        public static void Enumerate(IBackgroundCopyManager manager, uint enumFlags,
            Func<IBackgroundCopyJob, bool> keep)
        {
            IEnumBackgroundCopyJobs jobs = null;
            Bits.Call("EnumJobs", null, delegate { manager.EnumJobs(enumFlags, out jobs); });
            try
            {
                while (true)
                {
                    IBackgroundCopyJob job = null;
                    uint fetched = 0;
                    Bits.Call("Next", null, delegate { jobs.Next(1, out job, out fetched); });
                    if (fetched == 0 || job == null)
                        return;
                    bool kept = false;
                    try
                    {
                        kept = keep(job);
                    }
                    finally
                    {
                        if (!kept)
                            Bits.Release(job);
                    }
                }
            }
            finally
            {
                Bits.Release(jobs);
            }
        }

        public static string DisplayName(IBackgroundCopyJob job, string jobId)
        {
            string name = null;
            Bits.Call("GetDisplayName", jobId, delegate { job.GetDisplayName(out name); });
            return name;
        }

        // Id, name, owner and state into the report, in that order; a failure leaves what was read.
        public static JobIdentity ReadIdentity(IBackgroundCopyJob job, Dictionary<string, object> report)
        {
            JobIdentity identity = new JobIdentity();
            Guid id = Guid.Empty;
            string owner = null;
            uint state = 0;
            Bits.Call("GetId", null, delegate { job.GetId(out id); });
            identity.Id = Bits.GuidText(id);
            report["id"] = identity.Id;
            report["name"] = DisplayName(job, identity.Id);
            Bits.Call("GetOwner", identity.Id, delegate { job.GetOwner(out owner); });
            identity.Owner = owner;
            report["owner"] = owner;
            Bits.Call("GetState", identity.Id, delegate { job.GetState(out state); });
            identity.State = state;
            report["state"] = Bits.StateName(state);
            report["state_value"] = (int)state;
            return identity;
        }

        public static IBitsTokenOptions QueryTokenOptions(IBackgroundCopyJob job, string jobId)
        {
            int code;
            IBitsTokenOptions options = Query<IBitsTokenOptions>(job, out code);
            if (options != null)
                return options;
            // BITS checks the caller against the job's owner during this QueryInterface: only
            // E_NOINTERFACE means a BITS without the interface; anything else is a failed call to explain.
            if (code != Bits.NoInterface)
                throw QueryFailure("QueryInterface(IBitsTokenOptions)", code, jobId);
            throw new Failure("no_token_options", "QueryInterface(IBitsTokenOptions)", code, jobId,
                "The job has no IBitsTokenOptions (BITS 4.0 or later is needed): " + Failure.Hex(code));
        }

        // The interface, or null with the HRESULT of the QueryInterface that refused it. The runtime's
        // cast hides why it failed, so the object is asked once more; when that second QueryInterface
        // succeeds the interface is there (the first failure passed, an RPC hiccup) and the cast is tried
        // again rather than the job called a BITS without it.
        public static T Query<T>(object o, out int code) where T : class
        {
            code = 0;
            T found = o as T;
            if (found != null)
                return found;
            code = QueryInterfaceResult(o, typeof(T).GUID);
            if (code >= 0)
            {
                found = o as T;
                if (found != null)
                    return found;
                code = Bits.NoInterface;
            }
            return null;
        }

        public static Failure QueryFailure(string call, int code, string jobId)
        {
            return new Failure("com_error", call, code, jobId, call + " failed: " + Failure.Hex(code));
        }

        // `as` hides why QueryInterface failed; a real COM object is asked once more for the HRESULT
        // (S_OK when it answers this time). A managed object (the fakes) answers through
        // IQueryInterfaceAnswer, or has no interface to give.
        static int QueryInterfaceResult(object o, Guid iid)
        {
            if (!Marshal.IsComObject(o))
            {
                IQueryInterfaceAnswer answer = o as IQueryInterfaceAnswer;
                return answer == null ? Bits.NoInterface : answer.QueryInterface(iid);
            }
            IntPtr unknown = Marshal.GetIUnknownForObject(o);
            try
            {
                IntPtr result;
                int code = Marshal.QueryInterface(unknown, ref iid, out result);
                if (result != IntPtr.Zero)
                    Marshal.Release(result);
                return code;
            }
            finally
            {
                Marshal.Release(unknown);
            }
        }

        // GetHelperTokenFlags as read: the whole DWORD, bits this collection does not know included.
        public static uint HelperTokenFlags(IBitsTokenOptions options, string jobId)
        {
            uint flags = 0;
            Bits.Call("GetHelperTokenFlags", jobId, delegate { options.GetHelperTokenFlags(out flags); });
            return flags;
        }

        // GetHelperTokenSid: null when the job has no helper token, which a BITS may also answer with an
        // empty string; either reads as "no token" everywhere (else `absent` would clear, then see a token).
        public static string HelperTokenSid(IBitsTokenOptions options, string jobId)
        {
            string sid = null;
            Bits.Call("GetHelperTokenSid", jobId, delegate { options.GetHelperTokenSid(out sid); });
            return string.IsNullOrWhiteSpace(sid) ? null : sid;
        }

        // The flags value and the bits of it this collection does not know, into a report.
        public static void ReportFlags(Dictionary<string, object> report, string key, uint flags)
        {
            report[key] = (long)flags;
            report["unknown_flags_value"] = (long)(flags & ~Bits.KnownTokenFlags);
        }

        // What the caller can tell of the job's client certificate. GetClientCertificate fails with
        // RPC_X_BAD_STUB_DATA both when the job has no certificate and when the caller may not see it
        // (Microsoft's docs), so that answer means "none" only to the job's owner; to anyone else it is
        // unknown. Only E_NOINTERFACE on the QueryInterface for IBackgroundCopyJobHttpOptions means a BITS
        // before 2.5, which cannot set a certificate at all; any other refusal is a failed call, never
        // "no certificate".
        public static CertificateFact ClientCertificate(IBackgroundCopyJob job, string jobId, string ownerSid,
            string callerSid)
        {
            int code;
            IBackgroundCopyJobHttpOptions http = Query<IBackgroundCopyJobHttpOptions>(job, out code);
            if (http == null)
            {
                if (code == Bits.NoInterface)
                    return CertificateFact.NotSupported;
                throw QueryFailure("QueryInterface(IBackgroundCopyJobHttpOptions)", code, jobId);
            }
            try
            {
                uint location;
                string store, subject;
                IntPtr hash;
                http.GetClientCertificate(out location, out store, out hash, out subject);
                if (hash != IntPtr.Zero)
                    Marshal.FreeCoTaskMem(hash);
                return CertificateFact.Present;
            }
            catch (Exception e)
            {
                if (Bits.HResultOf(e) != Bits.BadStubData)
                    throw Failure.ComError("GetClientCertificate", e, jobId);
            }
            bool isOwner = ownerSid != null && Bits.SameSid(ownerSid, callerSid);
            return isOwner ? CertificateFact.Absent : CertificateFact.Unknown;
        }

        // The result's client_certificate: true, false, or null (unknown to the caller, or not supported).
        public static object ReportValue(CertificateFact fact)
        {
            if (fact == CertificateFact.Present)
                return true;
            if (fact == CertificateFact.Absent)
                return false;
            return null;
        }
    }

    public enum CertificateFact
    {
        NotSupported,
        Absent,
        Present,
        Unknown,
    }

    // IBitsTokenOptions::SetHelperToken makes the helper token the COM client's token: BITS must be let
    // impersonate the caller, with dynamic cloaking so that it sees the thread's (become) identity, else
    // the call fails with CO_E_FAILEDTOIMPERSONATE (Microsoft's docs).
    public static class ProxySecurity
    {
        public const uint AuthnDefault = 0xFFFFFFFF;         // RPC_C_AUTHN_DEFAULT
        public const uint AuthzDefault = 0xFFFFFFFF;         // RPC_C_AUTHZ_DEFAULT
        public const uint AuthnLevelDefault = 0;             // RPC_C_AUTHN_LEVEL_DEFAULT
        public const uint ImpLevelImpersonate = 3;           // RPC_C_IMP_LEVEL_IMPERSONATE
        public const uint DynamicCloaking = 0x40;            // EOAC_DYNAMIC_CLOAKING
        static readonly IntPtr DefaultPrincipal = new IntPtr(-1);   // COLE_DEFAULT_PRINCIPAL
        static readonly IntPtr DefaultAuthInfo = new IntPtr(-1);    // COLE_DEFAULT_AUTHINFO

        // Sets the blanket on the IBitsTokenOptions proxy of this job only. Every step is a named call: the
        // proxy pointer too, whose failure would otherwise skip the rollback of the run's earlier writes.
        public static void AllowImpersonation(IBitsTokenOptions options, string jobId)
        {
            int code;
            IClientSecurity security = JobReading.Query<IClientSecurity>(options, out code);
            if (security == null)
                throw JobReading.QueryFailure("QueryInterface(IClientSecurity)", code, jobId);
            IntPtr proxy = IntPtr.Zero;
            Bits.Call("Marshal.GetComInterfaceForObject", jobId, delegate
            {
                proxy = Marshal.GetComInterfaceForObject(options, typeof(IBitsTokenOptions));
            });
            try
            {
                Bits.Call("IClientSecurity.SetBlanket", jobId, delegate
                {
                    security.SetBlanket(proxy, AuthnDefault, AuthzDefault, DefaultPrincipal, AuthnLevelDefault,
                        ImpLevelImpersonate, DefaultAuthInfo, DynamicCloaking);
                });
            }
            finally
            {
                Marshal.Release(proxy);
            }
        }
    }

    public sealed class JobIdentity
    {
        public string Id;
        public string Owner;
        public uint State;
    }
}
