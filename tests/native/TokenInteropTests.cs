// The helper token itself against the native fake BITS (fake_bits.c), through Mono's COM interop.
// SetHelperToken needs an impersonate-level blanket with dynamic cloaking on the job's IBitsTokenOptions
// proxy (docs/dev/design.md section 3); the fake answers QueryInterface(IClientSecurity) on the job, records every
// SetBlanket per interface pointer, and refuses SetHelperToken with CO_E_FAILEDTOIMPERSONATE unless the
// IBitsTokenOptions pointer's blanket allows it, as BITS does.
// Two classes: BlanketInteropTests drives BitsCom.cs's ProxySecurity and the IBitsTokenOptions slots
// directly; TokenInteropTests runs HelperTokenModule.Run with `helper_token` (docs/host-contract.md).
// C# 5; compiled with BitsCom.cs, BitsHelperToken.cs, tests/csharp/TestHarness.cs and NativeFake.cs by
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
    // What both classes share: the identities, the fake's set-up and the after-test checks.
    static class TokenFixture
    {
        public const string Caller = "S-1-5-21-1111111111-2222222222-3333333333-1001";
        public const string OtherUser = "S-1-5-21-1111111111-2222222222-3333333333-1002";
        public const int Suspended = 3, Acknowledged = 7;
        public const int LocalFile = 1, Network = 2;
        public const int EAccessDenied = unchecked((int)0x80070005);
        public const int ENoInterface = unchecked((int)0x80004002);
        public const int CoEFailedToImpersonate = unchecked((int)0x80010123);
        public const int BgEInvalidState = unchecked((int)0x80200002);
        public const int ErrorNotLoggedOn = unchecked((int)0x800704DD);
        public const uint ImpIdentify = 2, ImpImpersonate = 3, ImpDelegate = 4;
        public const uint DynamicCloaking = 0x40, StaticCloaking = 0x20;
        public static readonly Guid JobId = new Guid("5d3b4c39-1f0a-4d5b-9e2f-123456789abc");
        public static readonly Guid OtherId = new Guid("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");

        public static void Reset()
        {
            Native.fake_bits_reset();
            Native.fake_bits_set_caller(Caller);
        }

        // The slot invariants, then: every job and enumerator handed out was released.
        public static string AfterEachTest()
        {
            string complaint = NativeFake.Invariants();
            if (complaint != null)
                return complaint;
            long outstanding = NativeFake.OutstandingRefsAfterCollection();
            return outstanding == 0 ? null : outstanding + " reference(s) still held on jobs or enumerators";
        }

        public static int AddJob(Guid id, string owner, int state, uint flags, string helperSid)
        {
            int index = Native.fake_bits_add_job(ref id, "token-job", owner, state, flags, helperSid, 0);
            Assert.True(index >= 0, "the fake's job table is full");
            return index;
        }

        // The caller is a non-administrator on this build, for the fake and for the core alike.
        public static void NonAdministratorOn(uint build)
        {
            Native.fake_bits_set_caller_admin(0);
            Native.fake_bits_set_os_build(build);
        }

        public static int Calls(int job, string what)
        {
            return Native.fake_bits_call_count(job, what);
        }

        public static string Braced(Guid id)
        {
            return id.ToString("B").ToUpperInvariant();
        }
    }

    public static class TokenInteropMain
    {
        public static int Main(string[] args)
        {
            return TestHarness.Run(args, TokenFixture.Reset, TokenFixture.AfterEachTest, NativeFake.CallLog);
        }
    }

    // ProxySecurity.AllowImpersonation and the IBitsTokenOptions slots, called through the runtime's wrappers.
    public static class BlanketInteropTests
    {
        const string Caller = TokenFixture.Caller;
        const string OtherUser = TokenFixture.OtherUser;

        // A job's wrappers as the core holds them; Dispose releases every one, so no reference outlives a test.
        sealed class Held : IDisposable
        {
            public readonly IBackgroundCopyManager Manager;
            public readonly IBackgroundCopyJob Job;
            public readonly IBitsTokenOptions Options;

            public Held(Guid id)
            {
                Manager = new NativeManagerFactory().Create();
                Manager.GetJob(ref id, out Job);
                Options = (IBitsTokenOptions)Job;   // QueryInterface(IBitsTokenOptions)
            }

            public IClientSecurity Security
            {
                get { return (IClientSecurity)Options; }   // QueryInterface(IClientSecurity)
            }

            public void Dispose()
            {
                Marshal.ReleaseComObject(Job);
                Marshal.ReleaseComObject(Manager);
            }
        }

        static int Add(uint flags, string helperSid)
        {
            return TokenFixture.AddJob(TokenFixture.JobId, Caller, TokenFixture.Suspended, flags, helperSid);
        }

        static int HResultOf(Action call, string what)
        {
            try
            {
                call();
            }
            catch (Exception e)
            {
                return e.HResult;
            }
            throw new AssertionFailed(what + ": expected a failed HRESULT, the call succeeded");
        }

        // Through whichever of the job's pointers the runtime asks (Mono asks the wrapper's IUnknown).
        static int QueryInterfaceCalls(int job, string iid)
        {
            int calls = 0;
            foreach (string from in new[] { "IBackgroundCopyJob", "IBitsTokenOptions", "IBackgroundCopyJobHttpOptions",
                "IClientSecurity" })
                calls += TokenFixture.Calls(job, from + ".QueryInterface(" + iid + ")");
            return calls;
        }

        // pProxy is the job's own pointer of the given interface, as SetBlanket on a real proxy takes it.
        static void SetBlanket(Held held, Type proxyInterface, uint impLevel, uint capabilities)
        {
            IntPtr proxy = Marshal.GetComInterfaceForObject(held.Options, proxyInterface);
            try
            {
                held.Security.SetBlanket(proxy, ProxySecurity.AuthnDefault, ProxySecurity.AuthzDefault, new IntPtr(-1),
                    ProxySecurity.AuthnLevelDefault, impLevel, new IntPtr(-1), capabilities);
            }
            finally
            {
                Marshal.Release(proxy);
            }
        }

        public static void AllowImpersonationSetsImpersonateAndCloakingOnTheTokenOptionsPointer()
        {
            int job = Add(0, null);
            using (Held held = new Held(TokenFixture.JobId))
                ProxySecurity.AllowImpersonation(held.Options, TokenFixture.Braced(TokenFixture.JobId));
            Assert.Equal(1, QueryInterfaceCalls(job, "IClientSecurity"), "QueryInterface(IClientSecurity) calls");
            Assert.Equal(1, TokenFixture.Calls(job, "IClientSecurity.SetBlanket"), "SetBlanket calls (slot 4)");
            Assert.Equal(0, TokenFixture.Calls(job, "IClientSecurity.QueryBlanket"), "QueryBlanket calls (slot 3)");
            Assert.Number(Proxy.TokenOptions, Native.fake_bits_last_blanket_proxy(job),
                "pProxy: the job's IBitsTokenOptions pointer (0 job, 1 token options, 2 http options, -2 foreign)");
            RecordedBlanket blanket = RecordedBlanket.Of(job, Proxy.TokenOptions);
            Assert.Number(1, blanket.SetCount, "blankets set on the token-options pointer");
            Assert.Number(TokenFixture.ImpImpersonate, blanket.ImpLevel, "dwImpLevel (RPC_C_IMP_LEVEL_IMPERSONATE)");
            Assert.Number(TokenFixture.DynamicCloaking, blanket.Capabilities, "dwCapabilities (EOAC_DYNAMIC_CLOAKING)");
            Assert.Number(0xFFFFFFFFL, blanket.AuthnService, "dwAuthnSvc (RPC_C_AUTHN_DEFAULT)");
            Assert.Number(0xFFFFFFFFL, blanket.AuthzService, "dwAuthzSvc (RPC_C_AUTHZ_DEFAULT)");
            Assert.Number(0, blanket.AuthnLevel, "dwAuthnLevel (RPC_C_AUTHN_LEVEL_DEFAULT)");
            Assert.Number(-1, blanket.Principal, "pServerPrincName (COLE_DEFAULT_PRINCIPAL)");
            Assert.Number(-1, blanket.AuthInfo, "pAuthInfo (COLE_DEFAULT_AUTHINFO)");
            foreach (int other in new[] { Proxy.Job, Proxy.HttpOptions, Proxy.ClientSecurity })
                Assert.Number(0, RecordedBlanket.Of(job, other).SetCount, "blankets on the job's pointer " + other);
        }

        // QueryBlanket (slot 3) reads back what SetBlanket (slot 4) set: the two slots are where objidl.h says.
        public static void QueryBlanketReadsTheBlanketAllowImpersonationSet()
        {
            int job = Add(0, null);
            using (Held held = new Held(TokenFixture.JobId))
            {
                uint before = QueryImpLevel(held), capabilitiesBefore = QueryCapabilities(held);
                ProxySecurity.AllowImpersonation(held.Options, TokenFixture.Braced(TokenFixture.JobId));
                Assert.Number(TokenFixture.ImpIdentify, before, "impersonation level before (the fake's default)");
                Assert.Number(0, capabilitiesBefore, "capabilities before");
                Assert.Number(TokenFixture.ImpImpersonate, QueryImpLevel(held), "impersonation level after");
                Assert.Number(TokenFixture.DynamicCloaking, QueryCapabilities(held), "capabilities after");
            }
            Assert.Equal(4, TokenFixture.Calls(job, "IClientSecurity.QueryBlanket"), "QueryBlanket calls");
        }

        static uint QueryImpLevel(Held held)
        {
            uint authn, authz, level, imp, capabilities;
            IntPtr principal, authInfo;
            IntPtr proxy = Marshal.GetComInterfaceForObject(held.Options, typeof(IBitsTokenOptions));
            try
            {
                held.Security.QueryBlanket(proxy, out authn, out authz, out principal, out level, out imp, out authInfo,
                    out capabilities);
            }
            finally
            {
                Marshal.Release(proxy);
            }
            return imp;
        }

        static uint QueryCapabilities(Held held)
        {
            uint authn, authz, level, imp, capabilities;
            IntPtr principal, authInfo;
            IntPtr proxy = Marshal.GetComInterfaceForObject(held.Options, typeof(IBitsTokenOptions));
            try
            {
                held.Security.QueryBlanket(proxy, out authn, out authz, out principal, out level, out imp, out authInfo,
                    out capabilities);
            }
            finally
            {
                Marshal.Release(proxy);
            }
            return capabilities;
        }

        public static void SetHelperTokenAfterAllowImpersonationMakesTheCallerTheToken()
        {
            int job = Add(TokenFixture.Network, OtherUser);
            using (Held held = new Held(TokenFixture.JobId))
            {
                ProxySecurity.AllowImpersonation(held.Options, TokenFixture.Braced(TokenFixture.JobId));
                held.Options.SetHelperToken();
                string sid;
                held.Options.GetHelperTokenSid(out sid);
                Assert.Equal(Caller, sid, "GetHelperTokenSid (slot 7) after SetHelperToken (slot 5)");
            }
            Assert.Equal(Caller, Native.JobHelperSid(job), "the job's helper token in the fake");
            Assert.Number(1, Native.fake_bits_job_helper_admins(job), "an administrator's token has Administrators");
            Assert.Number(TokenFixture.Network, Native.fake_bits_job_flags(job), "flags untouched");
            Assert.Equal(1, TokenFixture.Calls(job, "IBitsTokenOptions.SetHelperToken"), "SetHelperToken calls");
        }

        public static void SetHelperTokenWithoutABlanketFailsToImpersonate()
        {
            int job = Add(0, null);
            using (Held held = new Held(TokenFixture.JobId))
                Assert.Number(TokenFixture.CoEFailedToImpersonate,
                    HResultOf(delegate { held.Options.SetHelperToken(); }, "SetHelperToken"),
                    "HRESULT (CO_E_FAILEDTOIMPERSONATE)");
            Assert.Equal(null, Native.JobHelperSid(job), "no token set");
            Assert.Equal(1, TokenFixture.Calls(job, "IBitsTokenOptions.SetHelperToken"), "the call reached slot 5");
        }

        // Level and capabilities each matter; the blanket counts on the IBitsTokenOptions pointer only.
        public static void OnlyImpersonateOrDelegateWithDynamicCloakingOnTheTokenOptionsPointerWorks()
        {
            Type options = typeof(IBitsTokenOptions), job = typeof(IBackgroundCopyJob);
            uint identify = TokenFixture.ImpIdentify, impersonate = TokenFixture.ImpImpersonate;
            uint dynamic = TokenFixture.DynamicCloaking, mutualAuthentication = 0x1;
            object[][] cases =
            {
                new object[] { options, identify, dynamic, false },
                new object[] { options, impersonate, 0u, false },
                new object[] { options, impersonate, TokenFixture.StaticCloaking, false },
                new object[] { job, impersonate, dynamic, false },
                new object[] { options, TokenFixture.ImpDelegate, dynamic | mutualAuthentication, true },
            };
            foreach (object[] c in cases)
            {
                TokenFixture.Reset();
                int index = Add(0, null);
                string what = string.Format("blanket on {0}, level {1}, capabilities 0x{2:X}", ((Type)c[0]).Name, c[1],
                    c[2]);
                using (Held held = new Held(TokenFixture.JobId))
                {
                    SetBlanket(held, (Type)c[0], (uint)c[1], (uint)c[2]);
                    if ((bool)c[3])
                        held.Options.SetHelperToken();
                    else
                        Assert.Number(TokenFixture.CoEFailedToImpersonate,
                            HResultOf(delegate { held.Options.SetHelperToken(); }, what), what);
                }
                Assert.Equal((bool)c[3] ? Caller : null, Native.JobHelperSid(index), what + ": the job's token");
            }
        }

        public static void ClearHelperTokenDropsTheTokenAndKeepsTheFlags()
        {
            int job = Add(TokenFixture.LocalFile | TokenFixture.Network, OtherUser);
            using (Held held = new Held(TokenFixture.JobId))
            {
                held.Options.ClearHelperToken();   // no blanket needed
                string sid;
                held.Options.GetHelperTokenSid(out sid);
                Assert.Equal(null, sid, "GetHelperTokenSid after ClearHelperToken (slot 6)");
                uint flags;
                held.Options.GetHelperTokenFlags(out flags);
                Assert.Number(3, flags, "flags kept");
            }
            Assert.Equal(1, TokenFixture.Calls(job, "IBitsTokenOptions.ClearHelperToken"), "ClearHelperToken calls");
            Assert.Equal(0, TokenFixture.Calls(job, "IClientSecurity.SetBlanket"), "SetBlanket calls");
        }

        // docs/dev/design.md section 3, call by call; nobody changes an acknowledged job.
        public static void SetHelperTokenFlagsNeedsAnAdministratorOrFrom14393AnOwnerWithoutAnAdministratorsToken()
        {
            Assert.Number(TokenFixture.EAccessDenied, TokenCallOn(9600, Caller, false, TokenFixture.Suspended, SetFlags),
                "non-administrator owner before 14393");
            Assert.Number(0, TokenCallOn(14393, Caller, false, TokenFixture.Suspended, SetFlags),
                "non-administrator owner on 14393");
            Assert.Number(TokenFixture.EAccessDenied, TokenCallOn(20348, OtherUser, false, TokenFixture.Suspended,
                SetFlags), "non-administrator, someone else's job");
            Assert.Number(TokenFixture.EAccessDenied, TokenCallOn(20348, Caller, false, TokenFixture.Suspended, SetFlags,
                true), "non-administrator owner, the job's token has Administrators");
            Assert.Number(0, TokenCallOn(9600, OtherUser, true, TokenFixture.Suspended, SetFlags, true),
                "administrator, someone else's job with an administrator's token, before 14393");
        }

        public static void SetHelperTokenBefore14393NeedsAJobAnAdministratorOwns()
        {
            Assert.Number(TokenFixture.EAccessDenied, TokenCallOn(9600, OtherUser, true, TokenFixture.Suspended, Set),
                "administrator, a non-administrator's job");
            Assert.Number(TokenFixture.EAccessDenied, TokenCallOn(9600, Caller, false, TokenFixture.Suspended, Set),
                "non-administrator owner");
            Assert.Number(0, TokenCallOn(9600, OtherUser, true, TokenFixture.Suspended, Set, false, true),
                "administrator, an administrator's job");
            Assert.Number(0, TokenCallOn(9600, "S-1-5-18", true, TokenFixture.Suspended, Set), "LocalSystem's job");
        }

        // The token set is the caller's: the job's current token, with Administrators or not, is no reason to refuse.
        public static void SetHelperTokenFrom14393LetsTheOwnerReplaceAnAdministratorsToken()
        {
            Assert.Number(0, TokenCallOn(14393, Caller, false, TokenFixture.Suspended, Set, true),
                "non-administrator owner, the job's token has Administrators");
            Assert.Equal(Caller, Native.JobHelperSid(0), "the owner's token");
            Assert.Number(0, Native.fake_bits_job_helper_admins(0), "a non-administrator's token: no Administrators");
            Assert.Number(TokenFixture.EAccessDenied, TokenCallOn(20348, OtherUser, false, TokenFixture.Suspended, Set),
                "non-administrator, someone else's job");
            Assert.Number(0, TokenCallOn(20348, OtherUser, true, TokenFixture.Suspended, Set),
                "administrator, someone else's job");
            Assert.Number(1, Native.fake_bits_job_helper_admins(0), "an administrator's token has Administrators");
        }

        // ClearHelperToken's own rule: before build 14393 only an administrator; from 14393 the owner too. The
        // job's current token (here one with Administrators) plays no part.
        public static void ClearHelperTokenBefore14393IsOnlyAnAdministrator()
        {
            Assert.Number(TokenFixture.EAccessDenied, TokenCallOn(14392, Caller, false, TokenFixture.Suspended, Clear,
                true), "non-administrator owner, build 14392");
            Assert.Equal(OtherUser, Native.JobHelperSid(0), "not cleared, build 14392");
            Assert.Number(TokenFixture.EAccessDenied, TokenCallOn(9600, Caller, false, TokenFixture.Suspended, Clear,
                false, true), "non-administrator owner, even of an administrator's job, build 9600");
            Assert.Number(0, TokenCallOn(14392, Caller, true, TokenFixture.Suspended, Clear, true),
                "administrator owner, build 14392");
            Assert.Equal(null, Native.JobHelperSid(0), "cleared by an administrator, build 14392");
            Assert.Number(0, TokenCallOn(9600, OtherUser, true, TokenFixture.Suspended, Clear),
                "administrator, someone else's job, build 9600");
            Assert.Number(TokenFixture.EAccessDenied, TokenCallOn(9600, OtherUser, false, TokenFixture.Suspended,
                Clear), "non-administrator, someone else's job, build 9600");
        }

        public static void ClearHelperTokenFrom14393IsTheOwnerOrAnAdministrator()
        {
            foreach (uint build in new uint[] { 14393, 20348 })
            {
                Assert.Number(0, TokenCallOn(build, Caller, false, TokenFixture.Suspended, Clear, true),
                    "non-administrator owner, the job's token has Administrators, build " + build);
                Assert.Equal(null, Native.JobHelperSid(0), "cleared, build " + build);
                Assert.Number(TokenFixture.EAccessDenied, TokenCallOn(build, OtherUser, false, TokenFixture.Suspended,
                    Clear), "non-administrator, someone else's job, build " + build);
                Assert.Number(0, TokenCallOn(build, OtherUser, true, TokenFixture.Suspended, Clear),
                    "administrator, someone else's job, build " + build);
            }
        }

        public static void NobodyChangesAnAcknowledgedJob()
        {
            foreach (Func<IBitsTokenOptions, int> call in new Func<IBitsTokenOptions, int>[] { Set, Clear, SetFlags })
                Assert.Number(TokenFixture.BgEInvalidState, TokenCallOn(20348, Caller, true, TokenFixture.Acknowledged,
                    call), "acknowledged job: " + call.Method.Name);
        }

        static int Set(IBitsTokenOptions options)
        {
            return HResultOrZero(delegate { options.SetHelperToken(); });
        }

        static int Clear(IBitsTokenOptions options)
        {
            return HResultOrZero(delegate { options.ClearHelperToken(); });
        }

        static int SetFlags(IBitsTokenOptions options)
        {
            return HResultOrZero(delegate { options.SetHelperTokenFlags(TokenFixture.Network); });
        }

        static int HResultOrZero(Action call)
        {
            try
            {
                call();
                return 0;
            }
            catch (Exception e)
            {
                return e.HResult;
            }
        }

        // A fresh fake with one job (with a token of OtherUser's, holding Administrators when told; its owner an
        // administrator when told); the blanket is always allowed, so only the access rules decide.
        static int TokenCallOn(uint build, string owner, bool callerIsAdmin, int state,
            Func<IBitsTokenOptions, int> call, bool tokenHasAdmins = false, bool ownerIsAdmin = false)
        {
            TokenFixture.Reset();
            Native.fake_bits_set_os_build(build);
            Native.fake_bits_set_caller_admin(callerIsAdmin ? 1 : 0);
            int job = TokenFixture.AddJob(TokenFixture.JobId, owner, state, 0, tokenHasAdmins ? OtherUser : null);
            Native.fake_bits_set_job_helper_admins(job, tokenHasAdmins ? 1 : 0);
            Native.fake_bits_set_job_owner_admin(job, ownerIsAdmin ? 1 : 0);
            using (Held held = new Held(TokenFixture.JobId))
            {
                ProxySecurity.AllowImpersonation(held.Options, TokenFixture.Braced(TokenFixture.JobId));
                return call(held.Options);
            }
        }
    }

    // HelperTokenModule.Run with `helper_token` (caller | absent), against the fake's rules.
    public static class TokenInteropTests
    {
        const string Caller = TokenFixture.Caller;
        const string OtherUser = TokenFixture.OtherUser;

        static Dictionary<string, object> Run(string job, string[] flags, string helperToken, bool checkMode,
            bool isAdmin, int osBuild)
        {
            Hashtable parameters = new Hashtable();
            parameters["job"] = job;
            parameters["flags"] = flags == null ? null : new ArrayList(flags);
            parameters["helper_token"] = helperToken;
            parameters["all_matches"] = true;
            parameters["all_users"] = false;
            parameters["force"] = false;
            CallerIdentity caller = new CallerIdentity();
            caller.Sid = Caller;
            caller.IsAdmin = isAdmin;
            caller.OsBuild = osBuild;
            return HelperTokenModule.Run(new NativeManagerFactory(), caller, parameters, checkMode);
        }

        static Dictionary<string, object> Run(string[] flags, string helperToken)
        {
            return Run(TokenFixture.Braced(TokenFixture.JobId), flags, helperToken, false, true, 20348);
        }

        static int Add(uint flags, string helperSid)
        {
            return TokenFixture.AddJob(TokenFixture.JobId, Caller, TokenFixture.Suspended, flags, helperSid);
        }

        static void Succeeded(Dictionary<string, object> result)
        {
            Dictionary<string, object> error = (Dictionary<string, object>)result["error"];
            Assert.True(error == null, "unexpected error: " + (error == null ? "" : (string)error["message"]));
        }

        static Dictionary<string, object> Error(Dictionary<string, object> result)
        {
            Assert.True(result["error"] != null, "the run should have failed, it succeeded");
            return (Dictionary<string, object>)result["error"];
        }

        static Dictionary<string, object> OnlyJob(Dictionary<string, object> result)
        {
            List<object> jobs = (List<object>)result["jobs"];
            Assert.Equal(1, jobs.Count, "jobs reported");
            return (Dictionary<string, object>)jobs[0];
        }

        static void ComError(Dictionary<string, object> result, string call, long hresult)
        {
            Dictionary<string, object> error = Error(result);
            Assert.Equal("com_error", error["reason"], "reason");
            Assert.Equal(call, error["call"], "call");
            Assert.Number(hresult, error["hresult"], "hresult");
        }

        static int Calls(int job, string what)
        {
            return TokenFixture.Calls(job, what);
        }

        public static void CallerSetsTheCallersSidAndASecondRunWritesNothing()
        {
            int job = Add(0, null);
            Dictionary<string, object> result = Run(null, "caller");
            Succeeded(result);
            Assert.Equal("caller", result["desired_helper_token"], "desired_helper_token");
            Assert.Equal(true, result["changed"], "changed");
            Dictionary<string, object> report = OnlyJob(result);
            Assert.Equal(null, report["previous_helper_token_sid"], "previous_helper_token_sid");
            Assert.Equal(Caller, report["helper_token_sid"], "helper_token_sid (read back)");
            Assert.Equal(true, report["helper_token_changed"], "helper_token_changed");
            Assert.Equal(false, report["flags_changed"], "flags_changed");
            Assert.Equal(Caller, Native.JobHelperSid(job), "the job's helper token in the fake");
            Assert.Number(Proxy.TokenOptions, Native.fake_bits_last_blanket_proxy(job), "SetBlanket's pProxy");
            RecordedBlanket blanket = RecordedBlanket.Of(job, Proxy.TokenOptions);
            Assert.Number(TokenFixture.ImpImpersonate, blanket.ImpLevel, "dwImpLevel");
            Assert.Number(TokenFixture.DynamicCloaking, blanket.Capabilities, "dwCapabilities");
            Assert.Equal(1, Calls(job, "IBitsTokenOptions.SetHelperToken"), "SetHelperToken calls");
            Assert.Equal(0, Calls(job, "IBitsTokenOptions.SetHelperTokenFlags"), "no flags asked, none written");

            Dictionary<string, object> again = Run(null, "caller");
            Succeeded(again);
            Assert.Equal(false, again["changed"], "changed on the second run");
            Assert.Equal(Caller, OnlyJob(again)["previous_helper_token_sid"], "previous_helper_token_sid, second run");
            Assert.Equal(1, Calls(job, "IBitsTokenOptions.SetHelperToken"), "SetHelperToken calls after both runs");
        }

        // SIDs compare case-insensitively: a token recorded in lower case is the caller's already.
        public static void CallerMatchesTheSidWhateverItsCase()
        {
            int job = Add(0, Caller.ToLowerInvariant());
            Dictionary<string, object> result = Run(null, "caller");
            Succeeded(result);
            Assert.Equal(false, result["changed"], "changed");
            Assert.Equal(0, Calls(job, "IBitsTokenOptions.SetHelperToken"), "SetHelperToken calls");
        }

        public static void CallerReplacesAnotherUsersToken()
        {
            int job = Add(TokenFixture.LocalFile, OtherUser);
            Dictionary<string, object> result = Run(null, "caller");
            Succeeded(result);
            Assert.Equal(OtherUser, OnlyJob(result)["previous_helper_token_sid"], "previous_helper_token_sid");
            Assert.Equal(Caller, OnlyJob(result)["helper_token_sid"], "helper_token_sid");
            Assert.Equal(Caller, Native.JobHelperSid(job), "the job's helper token in the fake");
            Assert.Number(TokenFixture.LocalFile, Native.fake_bits_job_flags(job), "flags untouched");
        }

        public static void AbsentClearsKeepsTheFlagsAndASecondRunWritesNothing()
        {
            int job = Add(TokenFixture.LocalFile | TokenFixture.Network, OtherUser);
            Dictionary<string, object> result = Run(null, "absent");
            Succeeded(result);
            Assert.Equal(true, result["changed"], "changed");
            Dictionary<string, object> report = OnlyJob(result);
            Assert.Equal(OtherUser, report["previous_helper_token_sid"], "previous_helper_token_sid");
            Assert.Equal(null, report["helper_token_sid"], "helper_token_sid (read back)");
            Assert.Equal(true, report["helper_token_changed"], "helper_token_changed");
            Assert.Equal(null, Native.JobHelperSid(job), "the job's helper token in the fake");
            Assert.Number(3, Native.fake_bits_job_flags(job), "ClearHelperToken keeps the flags");
            Assert.Equal(1, Calls(job, "IBitsTokenOptions.ClearHelperToken"), "ClearHelperToken calls");

            Dictionary<string, object> again = Run(null, "absent");
            Succeeded(again);
            Assert.Equal(false, again["changed"], "changed on the second run");
            Assert.Equal(1, Calls(job, "IBitsTokenOptions.ClearHelperToken"), "ClearHelperToken calls after both runs");
        }

        // A BITS that answers "" for "no token": `absent` finds nothing to clear, and after a clear the
        // empty read-back is no mismatch.
        public static void AnEmptyTokenSidIsNoToken()
        {
            Native.fake_bits_set_empty_sid_without_token(1);
            int job = Add(2, null);
            Dictionary<string, object> untouched = Run(null, "absent");
            Succeeded(untouched);
            Assert.Equal(false, untouched["changed"], "changed");
            Assert.Equal(null, OnlyJob(untouched)["previous_helper_token_sid"], "previous_helper_token_sid");
            Assert.Equal(0, Calls(job, "IBitsTokenOptions.ClearHelperToken"), "ClearHelperToken calls");
            TokenFixture.Reset();
            Native.fake_bits_set_empty_sid_without_token(1);
            job = Add(2, OtherUser);
            Dictionary<string, object> cleared = Run(null, "absent");
            Succeeded(cleared);
            Assert.Equal(null, OnlyJob(cleared)["helper_token_sid"], "read back");
            Assert.Equal(1, Calls(job, "IBitsTokenOptions.ClearHelperToken"), "ClearHelperToken calls");
        }

        public static void CheckModeWritesNoToken()
        {
            int job = Add(0, OtherUser);
            Dictionary<string, object> result = Run(TokenFixture.Braced(TokenFixture.JobId), null, "caller", true, true,
                20348);
            Succeeded(result);
            Assert.Equal(true, result["changed"], "changed (would change)");
            Assert.Equal(OtherUser, OnlyJob(result)["helper_token_sid"], "helper_token_sid (nothing written)");
            Assert.Equal(0, Calls(job, "IBitsTokenOptions.SetHelperToken"), "SetHelperToken calls");
            Assert.Equal(OtherUser, Native.JobHelperSid(job), "the job's helper token in the fake");
        }

        // Order: flags, then the token, then the read-back.
        public static void FlagsAndCallerInOneRunWriteFlagsFirst()
        {
            int job = Add(0, null);
            Dictionary<string, object> result = Run(new[] { "network" }, "caller");
            Succeeded(result);
            Dictionary<string, object> report = OnlyJob(result);
            Assert.Equal(true, report["flags_changed"], "flags_changed");
            Assert.Equal(true, report["helper_token_changed"], "helper_token_changed");
            Assert.Number(TokenFixture.Network, Native.fake_bits_job_flags(job), "flags in the fake");
            Assert.Equal(Caller, Native.JobHelperSid(job), "token in the fake");
            string log = NativeFake.CallLog();
            int flags = log.IndexOf("IBitsTokenOptions.SetHelperTokenFlags", StringComparison.Ordinal);
            int token = log.IndexOf("IBitsTokenOptions.SetHelperToken 0", StringComparison.Ordinal);
            Assert.True(flags >= 0 && token > flags, "SetHelperTokenFlags before SetHelperToken:\n" + log);
        }

        // The token write fails after the flags were written: the flags are restored.
        public static void AFailedTokenWriteRestoresTheFlags()
        {
            int job = Add(TokenFixture.LocalFile, null);
            Native.fake_bits_fail(job, "IBitsTokenOptions.SetHelperToken", TokenFixture.ErrorNotLoggedOn);
            Dictionary<string, object> result = Run(new[] { "local_file", "network" }, "caller");
            ComError(result, "SetHelperToken", 0x800704DDL);
            Dictionary<string, object> report = OnlyJob(result);
            Assert.Equal(true, report["rolled_back"], "rolled_back");
            Assert.Equal(false, report["changed"], "changed");
            Assert.Equal(2, Calls(job, "IBitsTokenOptions.SetHelperTokenFlags"), "write, then restore");
            Assert.Number(TokenFixture.LocalFile, Native.fake_bits_job_flags(job), "flags restored");
            Assert.Equal(null, Native.JobHelperSid(job), "no token");
        }

        // all_matches: the second job's clear fails, so the first job's cleared token (the caller's) is set again,
        // which needs the blanket as much as the first write did.
        public static void AFailedClearOnTheSecondJobSetsTheFirstJobsTokenAgain()
        {
            int first = TokenFixture.AddJob(TokenFixture.JobId, Caller, TokenFixture.Suspended, 0, Caller);
            int second = TokenFixture.AddJob(TokenFixture.OtherId, Caller, TokenFixture.Suspended, 0, OtherUser);
            Native.fake_bits_fail(second, "IBitsTokenOptions.ClearHelperToken", TokenFixture.EAccessDenied);
            Dictionary<string, object> result = Run("token-job", null, "absent", false, true, 20348);
            ComError(result, "ClearHelperToken", 0x80070005L);
            Assert.Equal(1, Calls(first, "IBitsTokenOptions.ClearHelperToken"), "first job cleared");
            Assert.Equal(1, Calls(first, "IBitsTokenOptions.SetHelperToken"), "then set again");
            Assert.Number(Proxy.TokenOptions, Native.fake_bits_last_blanket_proxy(first), "the restore's blanket");
            Assert.Equal(Caller, Native.JobHelperSid(first), "the first job's token restored");
            Dictionary<string, object> report = (Dictionary<string, object>)((List<object>)result["jobs"])[0];
            Assert.Equal(true, report["rolled_back"], "rolled_back");
            Assert.Equal(false, report["changed"], "changed");
        }

        // BITS sets only the caller's token: another user's token, once cleared, cannot be put back.
        public static void AnotherUsersClearedTokenCannotBeRestored()
        {
            int first = TokenFixture.AddJob(TokenFixture.JobId, Caller, TokenFixture.Suspended, 0, OtherUser);
            int second = TokenFixture.AddJob(TokenFixture.OtherId, Caller, TokenFixture.Suspended, 0, OtherUser);
            Native.fake_bits_fail(second, "IBitsTokenOptions.ClearHelperToken", TokenFixture.EAccessDenied);
            Dictionary<string, object> result = Run("token-job", null, "absent", false, true, 20348);
            ComError(result, "ClearHelperToken", 0x80070005L);
            Assert.Equal(0, Calls(first, "IBitsTokenOptions.SetHelperToken"), "no restore as the caller");
            Assert.Equal(null, Native.JobHelperSid(first), "the first job stays cleared");
            Dictionary<string, object> report = (Dictionary<string, object>)((List<object>)result["jobs"])[0];
            Assert.Equal(false, report["rolled_back"], "rolled_back");
            Assert.Equal(true, report["changed"], "changed");
        }

        public static void ARefusedBlanketIsItsOwnFailureAndNoTokenIsAskedFor()
        {
            int job = Add(0, null);
            Native.fake_bits_fail(job, "IClientSecurity.SetBlanket", TokenFixture.EAccessDenied);
            ComError(Run(null, "caller"), "IClientSecurity.SetBlanket", 0x80070005L);
            Assert.Equal(0, Calls(job, "IBitsTokenOptions.SetHelperToken"), "SetHelperToken calls");
        }

        public static void AJobWithoutClientSecurityIsItsOwnFailure()
        {
            int job = Add(0, null);
            Native.fake_bits_fail(job, "QueryInterface(IClientSecurity)", TokenFixture.ENoInterface);
            ComError(Run(null, "caller"), "QueryInterface(IClientSecurity)", 0x80004002L);
            Assert.Equal(0, Calls(job, "IBitsTokenOptions.SetHelperToken"), "SetHelperToken calls");
        }

        public static void ANonAdministratorBefore14393IsRefused()
        {
            int job = Add(0, null);
            TokenFixture.NonAdministratorOn(9600);
            ComError(Run(TokenFixture.Braced(TokenFixture.JobId), null, "caller", false, false, 9600), "SetHelperToken",
                0x80070005L);
            Assert.Equal(null, Native.JobHelperSid(job), "no token");
        }

        public static void ANonAdministratorOwnerFrom14393SetsATokenWithoutAdministrators()
        {
            int job = Add(0, null);
            TokenFixture.NonAdministratorOn(14393);
            Succeeded(Run(TokenFixture.Braced(TokenFixture.JobId), null, "caller", false, false, 14393));
            Assert.Equal(Caller, Native.JobHelperSid(job), "the job's helper token in the fake");
            Assert.Number(0, Native.fake_bits_job_helper_admins(job), "the token has no Administrators");
        }

        // Through the core, call by call: a non-administrator owner clears or replaces an administrator's token,
        // but may not set the flags while that token is there.
        public static void ANonAdministratorOwnerClearsOrReplacesAnAdministratorsTokenButNotItsFlags()
        {
            string id = TokenFixture.Braced(TokenFixture.JobId);
            foreach (string action in new[] { "absent", "caller" })
            {
                TokenFixture.Reset();
                int job = Add(0, OtherUser);
                Native.fake_bits_set_job_helper_admins(job, 1);
                TokenFixture.NonAdministratorOn(20348);
                ComError(Run(id, new[] { "network" }, action, false, false, 20348), "SetHelperTokenFlags", 0x80070005L);
                Assert.Equal(OtherUser, Native.JobHelperSid(job), action + ": the flags failed first, the token stays");
                Succeeded(Run(id, null, action, false, false, 20348));
                Assert.Equal(action == "caller" ? Caller : null, Native.JobHelperSid(job), action + ": the token");
                Assert.Number(0, Native.fake_bits_job_helper_admins(job), action + ": no Administrators now");
            }
        }

        public static void AnAdministratorBefore14393CannotSetATokenOnANonAdministratorsJob()
        {
            int job = TokenFixture.AddJob(TokenFixture.JobId, OtherUser, TokenFixture.Suspended, 0, null);
            Native.fake_bits_set_os_build(9600);
            string id = TokenFixture.Braced(TokenFixture.JobId);
            ComError(Run(id, null, "caller", false, true, 9600), "SetHelperToken", 0x80070005L);
            Assert.Equal(null, Native.JobHelperSid(job), "no token");
            Native.fake_bits_set_job_owner_admin(job, 1);
            Succeeded(Run(id, null, "caller", false, true, 9600));
            Assert.Equal(Caller, Native.JobHelperSid(job), "on an administrator's job");
        }
    }
}
