// A managed fake of BITS for the C# unit tests and the simulated fleet's Mono host (tests/sim/SimHost.cs).
// Its public surface is the fields below (the simulator's fleet file maps onto them: tests/sim/README.md).
// It enforces the rules of docs/dev/design.md section 3; where BITS' docs leave a choice open, the comment says which one
// the fake makes.

using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using ansible_collections.winbits.bits.plugins.module_utils.BitsCom;

namespace WinBits.Testing
{
    public class FakeJob
    {
        public Guid Id;
        public string DisplayName;
        public string OwnerSid;
        public bool OwnerIsAdmin;          // the owner is an administrator (LocalSystem always is)
        public int State;                  // BG_JOB_STATE 0..8
        public uint Flags;                 // helper-token usage flags
        public string HelperTokenSid;      // null: no helper token
        public bool HelperTokenHasAdmins;  // the helper token has the Administrators SID enabled
        public bool ClientCertificate;     // a client certificate is set
        public bool ConcurrentChange;      // fault: after every SetHelperTokenFlags, "someone else"
        public uint ConcurrentFlags;       // writes ConcurrentFlags
        public uint Type;                  // BG_JOB_TYPE: 0 download, 1 upload, 2 upload-reply
        public DateTime? CreationTime;     // UTC; null reads as a zero FILETIME
        public DateTime? ModificationTime;
        public int? ErrorCode;             // the job's error (IBackgroundCopyError) in ERROR/TRANSIENT_ERROR
        public uint ErrorContext;          // BG_ERROR_CONTEXT
        public string ErrorDescription;
        // Fault injection (an addition to fake_api.md): a job method's name (e.g. "GetOwner",
        // "SetHelperTokenFlags", "IBackgroundCopyError.GetError") or "QueryInterface(<interface>)" -> the
        // HRESULT that call fails with. Null or absent: no fault. A refused QueryInterface makes the job
        // object one without that interface (IBitsTokenOptions, IBackgroundCopyJobHttpOptions).
        public Dictionary<string, int> Faults;
        // Per faulted call: how many calls succeed before the fault applies (absent: none), e.g. a write
        // that works and its restore that fails.
        public Dictionary<string, int> FaultAfter;
        readonly Dictionary<string, int> callCounts = new Dictionary<string, int>();

        internal void Fault(string call)
        {
            int code;
            if (Faults == null || !Faults.TryGetValue(call, out code))
                return;
            int made, skip;
            callCounts.TryGetValue(call, out made);
            callCounts[call] = made + 1;
            if (FaultAfter != null && FaultAfter.TryGetValue(call, out skip) && made < skip)
                return;
            throw HResults.Fail(call, code);
        }

        internal bool Refuses(string iidName, out int code)
        {
            code = 0;
            return Faults != null && Faults.TryGetValue("QueryInterface(" + iidName + ")", out code);
        }
    }

    public class FakeBitsHost
    {
        public int OsBuild = 20348;
        public int BitsMajor = 10;         // BITS 10.x ships with Windows 10 / Server 2016 and later
        public int BitsMinor = 0;
        public bool ServiceDisabled;
        public bool RefuseNetworkLogon;
        public string CallerSid = "S-1-5-21-1000-1000-1000-1001";
        public bool CallerIsAdmin;
        public bool CallerNetworkLogon;
        public List<FakeJob> Jobs = new List<FakeJob>();
        public int SetCalls;               // SetHelperTokenFlags calls
        public int TokenCalls;             // SetHelperToken and ClearHelperToken calls
        public uint LastBlanketImpersonation;
        public uint LastBlanketCapabilities;
        // The helper-token flag bits this BITS accepts (SetHelperTokenFlags refuses others with E_INVALIDARG);
        // a later BITS may define more than local_file and network.
        public uint ValidTokenFlags = 0x3;
        // What GetHelperTokenSid answers for a job without a helper token: null, or "" as a BITS may.
        public bool EmptySidWithoutToken;
        // LANGIDs BITS has message resources for (GetErrorDescription in another language fails with
        // ERROR_RESOURCE_LANG_NOT_FOUND); null: every language. LanguageId 0 is refused (E_INVALIDARG).
        public List<int> MessageLanguages;
        public List<int> DescriptionLanguagesAsked = new List<int>();
        // SID -> "DOMAIN\\user", what the LSA would answer; a SID not listed is not resolvable.
        public Dictionary<string, string> AccountNames = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        // Slow account lookups, as on a domain member whose domain controller (or a trusted domain's)
        // cannot be reached: a lookup that includes a slow SID waits NameLatency seconds once per distinct
        // slow domain (the SID without its last part), as the LSA asks each domain once per call. A SID is
        // slow when it is listed in SlowSids or is of a domain listed in SlowDomains ("S-1-5-21-7-7-7").
        public double NameLatency;
        public List<string> SlowSids = new List<string>();
        public List<string> SlowDomains = new List<string>();
        public int NameLookups;            // IAccountNames.Translate calls
        public int NameLookupSids;         // SIDs in the last one

        public IAccountNames Names
        {
            get { return new FakeAccountNames(this); }
        }

        public IBackgroundCopyManagerFactory Factory
        {
            get { return new FakeFactory(this); }
        }

        public CallerIdentity Caller
        {
            get
            {
                CallerIdentity caller = new CallerIdentity();
                caller.Sid = CallerSid;
                caller.IsAdmin = CallerIsAdmin;
                caller.OsBuild = OsBuild;
                return caller;
            }
        }

        internal bool HasVersion(int major, int minor)
        {
            return BitsMajor > major || (BitsMajor == major && BitsMinor >= minor);
        }

        internal bool CallerMaySee(FakeJob job)
        {
            return CallerIsAdmin || string.Equals(job.OwnerSid, CallerSid, StringComparison.OrdinalIgnoreCase);
        }
    }

    sealed class FakeAccountNames : IAccountNames
    {
        readonly FakeBitsHost host;

        public FakeAccountNames(FakeBitsHost host)
        {
            this.host = host;
        }

        public IDictionary<string, string> Translate(IList<string> sids)
        {
            lock (host)
            {
                host.NameLookups++;
                host.NameLookupSids = sids.Count;
            }
            HashSet<string> slowDomains = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            Dictionary<string, string> names = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (string sid in sids)
            {
                if (IsSlow(sid))
                    slowDomains.Add(DomainOf(sid));
                string name;
                if (sid != null && host.AccountNames.TryGetValue(sid, out name))
                    names[sid] = name;
            }
            if (slowDomains.Count > 0 && host.NameLatency > 0)
                System.Threading.Thread.Sleep(TimeSpan.FromSeconds(host.NameLatency * slowDomains.Count));
            return names;
        }

        bool IsSlow(string sid)
        {
            if (sid == null)
                return false;
            foreach (string slow in host.SlowSids)
                if (string.Equals(slow, sid, StringComparison.OrdinalIgnoreCase))
                    return true;
            foreach (string domain in host.SlowDomains)
                if (sid.StartsWith(domain.TrimEnd('-') + "-", StringComparison.OrdinalIgnoreCase))
                    return true;
            return false;
        }

        static string DomainOf(string sid)
        {
            int last = sid.LastIndexOf('-');
            return last > 0 ? sid.Substring(0, last) : sid;
        }
    }

    static class HResults
    {
        public const int NotImplemented = unchecked((int)0x80004001);
        public const int InvalidArgument = unchecked((int)0x80070057);
        public const int AccessDenied = unchecked((int)0x80070005);
        public const int NotFound = unchecked((int)0x80200001);         // BG_E_NOT_FOUND
        public const int InvalidState = unchecked((int)0x80200002);     // BG_E_INVALID_STATE
        public const int NotLoggedOn = unchecked((int)0x800704DD);      // ERROR_NOT_LOGGED_ON
        public const int ServiceDisabled = unchecked((int)0x80070422);  // ERROR_SERVICE_DISABLED
        public const int BadStubData = unchecked((int)0x800706F7);      // RPC_X_BAD_STUB_DATA
        public const int ErrorInformationUnavailable = unchecked((int)0x8020000F);  // BG_E_ERROR_INFORMATION_UNAVAILABLE
        public const int FailedToImpersonate = unchecked((int)0x80010123);  // CO_E_FAILEDTOIMPERSONATE
        public const int NoInterface = unchecked((int)0x80004002);
        public const int ResourceLanguageNotFound = unchecked((int)0x80070717);   // ERROR_RESOURCE_LANG_NOT_FOUND

        // The exception a .NET runtime-callable wrapper throws for a failed HRESULT: its own type for the
        // HRESULTs it knows (E_ACCESSDENIED is an UnauthorizedAccessException, E_INVALIDARG an
        // ArgumentException...), else a COMException; the HRESULT is always in Exception.HResult.
        public static Exception Fail(string call, int code)
        {
            string message = string.Format("{0} failed: 0x{1:X8}", call, code);
            if (code == AccessDenied)
                return new UnauthorizedAccessException(message);
            Exception mapped = Marshal.GetExceptionForHR(code);
            if (mapped != null && !(mapped is COMException) && mapped.HResult == code)
                return mapped;
            return new COMException(message, code);
        }
    }

    sealed class FakeFactory : IBackgroundCopyManagerFactory
    {
        readonly FakeBitsHost host;

        public FakeFactory(FakeBitsHost host)
        {
            this.host = host;
        }

        public IBackgroundCopyManager Create()
        {
            if (host.ServiceDisabled)
                throw HResults.Fail("CoCreateInstance", HResults.ServiceDisabled);
            return new FakeManager(host);
        }
    }

    sealed class FakeManager : IBackgroundCopyManager
    {
        readonly FakeBitsHost host;

        public FakeManager(FakeBitsHost host)
        {
            this.host = host;
        }

        public void CreateJob(string DisplayName, uint Type, out Guid pJobId, out IBackgroundCopyJob ppJob)
        {
            CheckLogon("CreateJob");
            FakeJob job = new FakeJob();
            job.Id = Guid.NewGuid();
            job.DisplayName = DisplayName;
            job.OwnerSid = host.CallerSid;
            job.OwnerIsAdmin = host.CallerIsAdmin;
            job.State = 3;   // new jobs start suspended
            host.Jobs.Add(job);
            pJobId = job.Id;
            ppJob = FakeJobObject.Wrap(host, job);
        }

        public void GetJob(ref Guid jobID, out IBackgroundCopyJob ppJob)
        {
            CheckLogon("GetJob");
            FakeJob found = null;
            foreach (FakeJob job in host.Jobs)
                if (job.Id == jobID)
                    found = job;
            if (found == null)
                throw HResults.Fail("GetJob", HResults.NotFound);
            if (!host.CallerMaySee(found))
                throw HResults.Fail("GetJob", HResults.AccessDenied);
            ppJob = FakeJobObject.Wrap(host, found);
        }

        // Flag 0 lists the caller's own jobs, administrators included; ALL_USERS needs an administrator.
        public void EnumJobs(uint dwFlags, out IEnumBackgroundCopyJobs ppEnum)
        {
            CheckLogon("EnumJobs");
            bool allUsers = (dwFlags & 0x1) != 0;
            if (allUsers && !host.CallerIsAdmin)
                throw HResults.Fail("EnumJobs", HResults.AccessDenied);
            List<IBackgroundCopyJob> listed = new List<IBackgroundCopyJob>();
            foreach (FakeJob job in host.Jobs)
                if (allUsers || string.Equals(job.OwnerSid, host.CallerSid, StringComparison.OrdinalIgnoreCase))
                    listed.Add(FakeJobObject.Wrap(host, job));
            ppEnum = new FakeEnum(listed);
        }

        // The fake refuses at each manager call rather than at creation: BITS checks the caller per call.
        void CheckLogon(string call)
        {
            if (host.CallerNetworkLogon && host.RefuseNetworkLogon)
                throw HResults.Fail(call, HResults.NotLoggedOn);
        }
    }

    sealed class FakeEnum : IEnumBackgroundCopyJobs
    {
        readonly List<IBackgroundCopyJob> jobs;
        int next;

        public FakeEnum(List<IBackgroundCopyJob> jobs)
        {
            this.jobs = jobs;
        }

        // Only celt == 1 is supported: the declaration has a single out slot.
        public void Next(uint celt, out IBackgroundCopyJob rgelt, out uint pceltFetched)
        {
            if (celt != 1)
                throw HResults.Fail("Next", HResults.InvalidArgument);
            rgelt = null;
            pceltFetched = 0;
            if (next >= jobs.Count)
                return;   // S_FALSE
            rgelt = jobs[next++];
            pceltFetched = 1;
        }
    }

    // Which interfaces a job answers depends on the BITS version, and `job as IBitsTokenOptions` on a
    // managed object is a type test: so there is one class per set of interfaces (1.x, 2.5+, 4.0+, and
    // 4.0+ without IBackgroundCopyJobHttpOptions for a job whose QueryInterface for it is refused). Why a
    // QueryInterface failed the core learns through IQueryInterfaceAnswer, as it would from COM.
    class FakeJobObject : IBackgroundCopyJob, IQueryInterfaceAnswer
    {
        protected readonly FakeBitsHost host;
        protected readonly FakeJob job;

        protected FakeJobObject(FakeBitsHost host, FakeJob job)
        {
            this.host = host;
            this.job = job;
        }

        public static IBackgroundCopyJob Wrap(FakeBitsHost host, FakeJob job)
        {
            int code;
            bool http = host.HasVersion(2, 5) && !job.Refuses("IBackgroundCopyJobHttpOptions", out code);
            bool token = host.HasVersion(4, 0) && !job.Refuses("IBitsTokenOptions", out code);
            if (token)
                return http ? new FakeJobObject40Http(host, job) : new FakeJobObject40(host, job);
            return http ? new FakeJobObject25(host, job) : new FakeJobObject(host, job);
        }

        static readonly Type[] KnownInterfaces = {
            typeof(IBackgroundCopyJob), typeof(IBackgroundCopyJobHttpOptions), typeof(IBitsTokenOptions),
            typeof(IClientSecurity) };

        // A configured refusal, else S_OK for an interface this object has, E_NOINTERFACE for one it lacks.
        public int QueryInterface(Guid iid)
        {
            foreach (Type known in KnownInterfaces)
            {
                if (known.GUID != iid)
                    continue;
                int code;
                if (job.Refuses(known.Name, out code))
                    return code;
                return known.IsInstanceOfType(this) ? 0 : HResults.NoInterface;
            }
            return HResults.NoInterface;
        }

        public void AddFileSet(uint cFileCount, IntPtr pFileSet) { throw NotImplemented("AddFileSet"); }
        public void AddFile(string RemoteUrl, string LocalName) { throw NotImplemented("AddFile"); }
        public void EnumFiles(out IntPtr pEnum) { throw NotImplemented("EnumFiles"); }
        public void Suspend() { job.State = 3; }
        public void Resume() { job.State = 0; }
        public void Cancel() { job.State = 8; }
        public void Complete() { job.State = 7; }
        public void GetId(out Guid pVal) { job.Fault("GetId"); pVal = job.Id; }
        public void GetType(out uint pVal) { job.Fault("GetType"); pVal = job.Type; }
        public void GetProgress(IntPtr pVal) { throw NotImplemented("GetProgress"); }
        public void GetState(out uint pVal) { job.Fault("GetState"); pVal = (uint)job.State; }

        public void GetTimes(out BG_JOB_TIMES pVal)
        {
            job.Fault("GetTimes");
            pVal = new BG_JOB_TIMES();
            pVal.CreationTime = FileTime(job.CreationTime);
            pVal.ModificationTime = FileTime(job.ModificationTime);
        }

        // BITS keeps the last error while the job is in ERROR or TRANSIENT_ERROR; otherwise there is none.
        public void GetError(out IBackgroundCopyError ppError)
        {
            job.Fault("GetError");
            if (!job.ErrorCode.HasValue || (job.State != 4 && job.State != 5))
                throw HResults.Fail("GetError", HResults.ErrorInformationUnavailable);
            ppError = new FakeError(host, job);
        }

        static System.Runtime.InteropServices.ComTypes.FILETIME FileTime(DateTime? time)
        {
            System.Runtime.InteropServices.ComTypes.FILETIME value = new System.Runtime.InteropServices.ComTypes.FILETIME();
            if (!time.HasValue)
                return value;
            long ticks = time.Value.ToFileTimeUtc();
            value.dwLowDateTime = unchecked((int)(ticks & 0xFFFFFFFF));
            value.dwHighDateTime = (int)(ticks >> 32);
            return value;
        }
        public void GetOwner(out string pVal) { job.Fault("GetOwner"); pVal = job.OwnerSid; }
        public void SetDisplayName(string Val) { job.DisplayName = Val; }
        public void GetDisplayName(out string pVal) { job.Fault("GetDisplayName"); pVal = job.DisplayName; }

        static Exception NotImplemented(string call)
        {
            return HResults.Fail(call, HResults.NotImplemented);
        }
    }

    sealed class FakeError : IBackgroundCopyError
    {
        readonly FakeBitsHost host;
        readonly FakeJob job;

        public FakeError(FakeBitsHost host, FakeJob job)
        {
            this.host = host;
            this.job = job;
        }

        public void GetError(out uint pContext, out int pCode)
        {
            job.Fault("IBackgroundCopyError.GetError");
            pContext = job.ErrorContext;
            pCode = job.ErrorCode.Value;
        }

        public void GetFile(out IntPtr pVal) { throw HResults.Fail("GetFile", HResults.NotImplemented); }

        // One description in every language that has message resources (or none, as BITS may).
        public void GetErrorDescription(uint LanguageId, out string pErrorDescription)
        {
            host.DescriptionLanguagesAsked.Add((int)LanguageId);
            job.Fault("IBackgroundCopyError.GetErrorDescription");
            if (LanguageId == 0)
                throw HResults.Fail("GetErrorDescription", HResults.InvalidArgument);
            if (host.MessageLanguages != null && !host.MessageLanguages.Contains((int)LanguageId))
                throw HResults.Fail("GetErrorDescription", HResults.ResourceLanguageNotFound);
            if (job.ErrorDescription == null)
                throw HResults.Fail("GetErrorDescription", HResults.NotFound);
            pErrorDescription = job.ErrorDescription;
        }
    }

    class FakeJobObject25 : FakeJobObject, IBackgroundCopyJobHttpOptions
    {
        public FakeJobObject25(FakeBitsHost host, FakeJob job) : base(host, job) { }

        public void SetClientCertificateByID(uint StoreLocation, string StoreName, IntPtr pCertHashBlob)
        {
            FakeHttpOptions.SetCertificate(job);
        }

        public void SetClientCertificateByName(uint StoreLocation, string StoreName, string SubjectName)
        {
            FakeHttpOptions.SetCertificate(job);
        }

        public void RemoveClientCertificate()
        {
            job.ClientCertificate = false;
        }

        public void GetClientCertificate(out uint pStoreLocation, out string pStoreName, out IntPtr ppCertHashBlob,
            out string pSubjectName)
        {
            FakeHttpOptions.GetClientCertificate(host, job, out pStoreLocation, out pStoreName, out ppCertHashBlob,
                out pSubjectName);
        }
    }

    // IBackgroundCopyJobHttpOptions of a job, for the classes that have it.
    static class FakeHttpOptions
    {
        public static void SetCertificate(FakeJob job)
        {
            job.ClientCertificate = true;
        }

        // Microsoft's docs: RPC_X_BAD_STUB_DATA when the job specifies no certificate, or when the caller may
        // not see it; the fake takes the strict reading and shows a certificate to the job's owner only. The
        // hash blob is CoTaskMem memory the caller frees, as BITS hands it out.
        public static void GetClientCertificate(FakeBitsHost host, FakeJob job, out uint pStoreLocation,
            out string pStoreName, out IntPtr ppCertHashBlob, out string pSubjectName)
        {
            job.Fault("GetClientCertificate");
            if (!job.ClientCertificate || !string.Equals(job.OwnerSid, host.CallerSid, StringComparison.OrdinalIgnoreCase))
                throw HResults.Fail("GetClientCertificate", HResults.BadStubData);
            pStoreLocation = 1;   // BG_CERT_STORE_LOCATION_LOCAL_MACHINE
            pStoreName = "MY";
            ppCertHashBlob = Marshal.AllocCoTaskMem(20);   // a SHA-1 thumbprint
            pSubjectName = "CN=fake-client";
        }
    }

    // One proxy of a BITS 4.0 job: IBitsTokenOptions plus the IClientSecurity a COM proxy has (and, in
    // FakeJobObject40Http below, IBackgroundCopyJobHttpOptions; alone, this class is a job that refuses
    // that QueryInterface). The blanket belongs to this proxy, as on Windows: another lookup of the job
    // starts without one.
    class FakeJobObject40 : FakeJobObject, IBitsTokenOptions, IClientSecurity
    {
        public FakeJobObject40(FakeBitsHost host, FakeJob job) : base(host, job) { }

        uint blanketImpersonation;   // RPC_C_IMP_LEVEL_* set by SetBlanket (0: none set)
        uint blanketCapabilities;    // EOAC_*

        // The docs compare the caller with the owner at QueryInterface time; the fake compares at the
        // call, which is the same as long as nobody takes ownership in between.
        public void SetHelperTokenFlags(uint UsageFlags)
        {
            host.SetCalls++;
            job.Fault("SetHelperTokenFlags");
            CheckWritable("SetHelperTokenFlags");
            if (!MaySetFlags())
                throw HResults.Fail("SetHelperTokenFlags", HResults.AccessDenied);
            if ((UsageFlags & ~host.ValidTokenFlags) != 0)
                throw HResults.Fail("SetHelperTokenFlags", HResults.InvalidArgument);
            job.Flags = UsageFlags;
            if (job.ConcurrentChange)
                job.Flags = job.ConcurrentFlags;
        }

        public void GetHelperTokenFlags(out uint pFlags) { job.Fault("GetHelperTokenFlags"); pFlags = job.Flags; }

        // Microsoft's docs: BITS impersonates the caller to take its token, which needs an impersonate
        // (or delegate) level blanket with dynamic cloaking; else CO_E_FAILEDTOIMPERSONATE. Then this call's
        // own access rules (MaySetToken), not SetHelperTokenFlags'.
        public void SetHelperToken()
        {
            host.TokenCalls++;
            job.Fault("SetHelperToken");
            if (blanketImpersonation < 3 || (blanketCapabilities & 0x40) == 0)
                throw HResults.Fail("SetHelperToken", HResults.FailedToImpersonate);
            CheckWritable("SetHelperToken");
            if (!MaySetToken())
                throw HResults.Fail("SetHelperToken", HResults.AccessDenied);
            job.HelperTokenSid = host.CallerSid;
            job.HelperTokenHasAdmins = host.CallerIsAdmin;
        }

        // The docs: ClearHelperToken drops the token but keeps the flags.
        public void ClearHelperToken()
        {
            host.TokenCalls++;
            job.Fault("ClearHelperToken");
            CheckWritable("ClearHelperToken");
            if (!MayClearToken())
                throw HResults.Fail("ClearHelperToken", HResults.AccessDenied);
            job.HelperTokenSid = null;
            job.HelperTokenHasAdmins = false;
        }

        public void GetHelperTokenSid(out string pSid)
        {
            job.Fault("GetHelperTokenSid");
            pSid = job.HelperTokenSid == null && host.EmptySidWithoutToken ? "" : job.HelperTokenSid;
        }

        public void QueryBlanket(IntPtr pProxy, out uint pAuthnSvc, out uint pAuthzSvc, out IntPtr pServerPrincName,
            out uint pAuthnLevel, out uint pImpLevel, out IntPtr pAuthInfo, out uint pCapabilities)
        {
            pAuthnSvc = 10;          // RPC_C_AUTHN_WINNT
            pAuthzSvc = 0;
            pServerPrincName = IntPtr.Zero;
            pAuthnLevel = 2;         // RPC_C_AUTHN_LEVEL_CONNECT
            pImpLevel = blanketImpersonation == 0 ? 2 : blanketImpersonation;   // IDENTIFY by default
            pAuthInfo = IntPtr.Zero;
            pCapabilities = blanketCapabilities;
        }

        public void SetBlanket(IntPtr pProxy, uint dwAuthnSvc, uint dwAuthzSvc, IntPtr pServerPrincName,
            uint dwAuthnLevel, uint dwImpLevel, IntPtr pAuthInfo, uint dwCapabilities)
        {
            if (pProxy == IntPtr.Zero)
                throw HResults.Fail("SetBlanket", HResults.InvalidArgument);
            blanketImpersonation = dwImpLevel;
            blanketCapabilities = dwCapabilities;
            host.LastBlanketImpersonation = dwImpLevel;
            host.LastBlanketCapabilities = dwCapabilities;
        }

        // Acknowledged or cancelled jobs take no writes, whoever calls.
        void CheckWritable(string call)
        {
            if (job.State == 7 || job.State == 8)
                throw HResults.Fail(call, HResults.InvalidState);
        }

        // The access rules of docs/dev/design.md section 3, one per call, each from that method's page.
        // SetHelperTokenFlags: an administrator; from build 14393 also the owner, unless the job's current
        // helper token has the Administrators SID enabled.
        bool MaySetFlags()
        {
            if (host.CallerIsAdmin)
                return true;
            return host.OsBuild >= FirstBuildForOwners && IsOwner() && !job.HelperTokenHasAdmins;
        }

        // SetHelperToken: before build 14393 only on a job an administrator owns, whoever calls (the fake takes
        // that E_ACCESSDENIED row as written); from 14393 an administrator, or the owner setting a token without
        // the Administrators SID enabled. The token set is the caller's own, so a non-administrator's never has
        // it: the owner may. The job's current token plays no part (that rule is SetHelperTokenFlags').
        bool MaySetToken()
        {
            if (host.OsBuild < FirstBuildForOwners)
                return OwnerIsAdmin();
            return host.CallerIsAdmin || IsOwner();
        }

        // ClearHelperToken: before build 14393 only an administrator; from 14393 also the owner. The job's
        // current token plays no part (that rule is SetHelperTokenFlags').
        bool MayClearToken()
        {
            if (host.CallerIsAdmin)
                return true;
            return host.OsBuild >= FirstBuildForOwners && IsOwner();
        }

        const int FirstBuildForOwners = 14393;
        const string LocalSystem = "S-1-5-18";

        bool OwnerIsAdmin()
        {
            return job.OwnerIsAdmin || string.Equals(job.OwnerSid, LocalSystem, StringComparison.OrdinalIgnoreCase);
        }

        bool IsOwner()
        {
            return string.Equals(job.OwnerSid, host.CallerSid, StringComparison.OrdinalIgnoreCase);
        }
    }

    // A BITS 4.0+ job with every interface (the usual one).
    sealed class FakeJobObject40Http : FakeJobObject40, IBackgroundCopyJobHttpOptions
    {
        public FakeJobObject40Http(FakeBitsHost host, FakeJob job) : base(host, job) { }

        public void SetClientCertificateByID(uint StoreLocation, string StoreName, IntPtr pCertHashBlob)
        {
            FakeHttpOptions.SetCertificate(job);
        }

        public void SetClientCertificateByName(uint StoreLocation, string StoreName, string SubjectName)
        {
            FakeHttpOptions.SetCertificate(job);
        }

        public void RemoveClientCertificate()
        {
            job.ClientCertificate = false;
        }

        public void GetClientCertificate(out uint pStoreLocation, out string pStoreName, out IntPtr ppCertHashBlob,
            out string pSubjectName)
        {
            FakeHttpOptions.GetClientCertificate(host, job, out pStoreLocation, out pStoreName, out ppCertHashBlob,
                out pSubjectName);
        }
    }
}
