// Unit tests of the C# core (plugins/module_utils/BitsHelperToken.cs) against the managed fake BITS.
// Each test builds a host, runs the core once and asserts on the returned dictionary and the fake's state.

using System;
using System.Collections.Generic;
using ansible_collections.winbits.bits.plugins.module_utils.BitsCom;
using ansible_collections.winbits.bits.plugins.module_utils.BitsHelperToken;

namespace WinBits.Testing
{
    public static class CoreTests
    {
        public static int Main(string[] args)
        {
            return TestHarness.Run(args);
        }

        internal const string Me = "S-1-5-21-1000-1000-1000-1001";
        internal const string Other = "S-1-5-21-1000-1000-1000-1002";
        internal const string LocalSystem = "S-1-5-18";
        internal const long AccessDenied = 0x80070005;

        // ---- helpers -------------------------------------------------------------------------------

        internal static FakeBitsHost Host(params FakeJob[] jobs)
        {
            FakeBitsHost host = new FakeBitsHost();
            host.CallerSid = Me;
            host.Jobs.AddRange(jobs);
            return host;
        }

        internal static FakeJob Job(string name, string owner, uint flags)
        {
            FakeJob job = new FakeJob();
            job.Id = Guid.NewGuid();
            job.DisplayName = name;
            job.OwnerSid = owner;
            job.State = 3;
            job.Flags = flags;
            return job;
        }

        internal static string Braced(FakeJob job)
        {
            return job.Id.ToString("B").ToUpperInvariant();
        }

        internal sealed class Args
        {
            public string Job;
            public string[] Flags;
            public bool CheckMode, AllMatches, AllUsers, Force;
            public string HelperToken;
        }

        internal static Dictionary<string, object> Run(FakeBitsHost host, Args args)
        {
            Dictionary<string, object> parameters = new Dictionary<string, object>();
            parameters["job"] = args.Job;
            parameters["flags"] = args.Flags == null ? null : new List<object>(args.Flags);
            parameters["all_matches"] = args.AllMatches;
            parameters["all_users"] = args.AllUsers;
            parameters["force"] = args.Force;
            if (args.HelperToken != null)
                parameters["helper_token"] = args.HelperToken;
            return HelperTokenModule.Run(host.Factory, host.Caller, parameters, args.CheckMode);
        }

        static Dictionary<string, object> RunRaw(FakeBitsHost host, Dictionary<string, object> parameters)
        {
            return HelperTokenModule.Run(host.Factory, host.Caller, parameters, false);
        }

        internal static List<object> Jobs(Dictionary<string, object> result)
        {
            return (List<object>)result["jobs"];
        }

        internal static Dictionary<string, object> Report(Dictionary<string, object> result, int index)
        {
            return (Dictionary<string, object>)Jobs(result)[index];
        }

        internal static Dictionary<string, object> Error(Dictionary<string, object> result)
        {
            Assert.True(result["error"] != null, "expected an error, got none");
            return (Dictionary<string, object>)result["error"];
        }

        internal static void NoError(Dictionary<string, object> result)
        {
            object error = result["error"];
            Assert.True(error == null, "unexpected error: " +
                (error == null ? "" : ((Dictionary<string, object>)error)["message"]));
        }

        internal static void ExpectError(Dictionary<string, object> result, string reason, string call, long? hresult)
        {
            Dictionary<string, object> error = Error(result);
            Assert.Equal(reason, error["reason"], "error.reason");
            Assert.Equal(call, error["call"], "error.call");
            Assert.Equal(hresult.HasValue ? (object)hresult.Value : null, error["hresult"], "error.hresult");
            Assert.Equal(hresult.HasValue ? string.Format("0x{0:X8}", hresult.Value) : null, error["hresult_hex"],
                "error.hresult_hex");
            Assert.True(!string.IsNullOrEmpty(error["message"] as string), "error.message is empty");
        }

        internal static Args Set(string job, params string[] flags)
        {
            Args args = new Args();
            args.Job = job;
            args.Flags = flags;
            return args;
        }

        internal static Args Read(string job)
        {
            Args args = new Args();
            args.Job = job;
            return args;
        }

        // ---- finding jobs --------------------------------------------------------------------------

        public static void GuidWithBracesReadsEveryFact()
        {
            FakeJob job = Job("nightly", Me, 1);
            job.State = 2;
            job.HelperTokenSid = Other;
            FakeBitsHost host = Host(job);
            Dictionary<string, object> result = Run(host, Read("{" + job.Id.ToString("D") + "}"));
            NoError(result);
            Assert.Equal(false, result["changed"], "changed");
            Assert.Equal(null, result["desired_flags_value"], "desired_flags_value");
            Dictionary<string, object> caller = (Dictionary<string, object>)result["caller"];
            Assert.Equal(Me, caller["sid"], "caller.sid");
            Assert.Equal(false, caller["is_admin"], "caller.is_admin");
            Assert.Equal(20348, caller["os_build"], "caller.os_build");
            Assert.Equal(1, Jobs(result).Count, "job count");
            Dictionary<string, object> report = Report(result, 0);
            Assert.Equal(Braced(job), report["id"], "id");
            Assert.Equal("nightly", report["name"], "name");
            Assert.Equal(Me, report["owner"], "owner");
            Assert.Equal("TRANSFERRING", report["state"], "state");
            Assert.Equal(2, report["state_value"], "state_value");
            Assert.Equal(Other, report["helper_token_sid"], "helper_token_sid");
            Assert.Equal(false, report["client_certificate"], "client_certificate");
            Assert.Equal(1L, report["previous_flags_value"], "previous_flags_value");
            Assert.Equal(1L, report["flags_value"], "flags_value");
            Assert.Equal(false, report["changed"], "job changed");
            Assert.Equal(false, report["client_certificate_forced"], "client_certificate_forced");
            Assert.Equal(false, report["rolled_back"], "rolled_back");
            Assert.Equal(Other, report["previous_helper_token_sid"], "previous_helper_token_sid");
            Assert.Equal(false, report["flags_changed"], "flags_changed");
            Assert.Equal(false, report["helper_token_changed"], "helper_token_changed");
            Assert.Equal(0L, report["unknown_flags_value"], "unknown_flags_value");
            Assert.Equal(16, report.Count, "report key count");
            Assert.Equal(0, host.SetCalls, "SetCalls");
        }

        public static void GuidWithoutBracesSetsFlags()
        {
            FakeJob job = Job("nightly", Me, 0);
            FakeBitsHost host = Host(job);
            Dictionary<string, object> result = Run(host, Set(job.Id.ToString("D"), "local_file", "network"));
            NoError(result);
            Assert.Equal(true, result["changed"], "changed");
            Assert.Equal(3L, result["desired_flags_value"], "desired_flags_value");
            Assert.Equal(0L, Report(result, 0)["previous_flags_value"], "previous_flags_value");
            Assert.Equal(3L, Report(result, 0)["flags_value"], "flags_value");
            Assert.Equal(true, Report(result, 0)["changed"], "job changed");
            Assert.Equal(3u, job.Flags, "fake flags");
            Assert.Equal(1, host.SetCalls, "SetCalls");
        }

        public static void HelperTokenSidIsNullWithoutToken()
        {
            FakeJob job = Job("nightly", Me, 0);
            Dictionary<string, object> result = Run(Host(job), Read(Braced(job)));
            NoError(result);
            Assert.True(Report(result, 0).ContainsKey("helper_token_sid"), "helper_token_sid key missing");
            Assert.Equal(null, Report(result, 0)["helper_token_sid"], "helper_token_sid");
        }

        public static void UnbalancedBraceIsADisplayName()
        {
            FakeJob guidLike = Job("{" + Guid.NewGuid().ToString("D"), Me, 0);
            Dictionary<string, object> result = Run(Host(guidLike), Set(guidLike.DisplayName, "network"));
            NoError(result);
            Assert.Equal(Braced(guidLike), Report(result, 0)["id"], "id");
            Assert.Equal(2u, guidLike.Flags, "fake flags");
        }

        public static void NameLookupSeesOnlyTheCallersJobs()
        {
            FakeJob mine = Job("nightly", Me, 0), theirs = Job("nightly", Other, 0);
            FakeBitsHost host = Host(theirs, mine);
            Dictionary<string, object> result = Run(host, Set("nightly", "network"));
            NoError(result);
            Assert.Equal(1, Jobs(result).Count, "job count");
            Assert.Equal(Braced(mine), Report(result, 0)["id"], "id");
            Assert.Equal(2u, mine.Flags, "own job flags");
            Assert.Equal(0u, theirs.Flags, "other user's job flags");
        }

        public static void NameComparisonIsOrdinal()
        {
            FakeJob job = Job("Nightly", Me, 0);
            Dictionary<string, object> result = Run(Host(job), Set("nightly", "network"));
            ExpectError(result, "not_found", "EnumJobs", null);
            Assert.Equal(0u, job.Flags, "fake flags");
        }

        public static void AllUsersFindsOtherUsersJobsForAnAdmin()
        {
            FakeJob theirs = Job("nightly", Other, 0);
            FakeBitsHost host = Host(theirs);
            host.CallerIsAdmin = true;
            Args args = Set("nightly", "local_file");
            args.AllUsers = true;
            Dictionary<string, object> result = Run(host, args);
            NoError(result);
            Assert.Equal(Other, Report(result, 0)["owner"], "owner");
            Assert.Equal(1u, theirs.Flags, "fake flags");
        }

        public static void AdminWithoutAllUsersSeesOnlyOwnJobs()
        {
            FakeBitsHost host = Host(Job("nightly", Other, 0));
            host.CallerIsAdmin = true;
            ExpectError(Run(host, Set("nightly", "network")), "not_found", "EnumJobs", null);
        }

        public static void AllUsersByANonAdminIsAccessDenied()
        {
            FakeBitsHost host = Host(Job("nightly", Me, 0));
            Args args = Read("nightly");
            args.AllUsers = true;
            Dictionary<string, object> result = Run(host, args);
            ExpectError(result, "com_error", "EnumJobs", AccessDenied);
            Assert.Equal(0, Jobs(result).Count, "job count");
        }

        public static void AmbiguousNameListsAllAndChangesNothing()
        {
            FakeJob first = Job("nightly", Me, 0), second = Job("nightly", Me, 1);
            first.State = 0;
            FakeBitsHost host = Host(first, second);
            Dictionary<string, object> result = Run(host, Set("nightly", "network"));
            ExpectError(result, "ambiguous", null, null);
            Assert.Equal(2, Jobs(result).Count, "job count");
            Assert.Equal(Braced(first), Report(result, 0)["id"], "first id");
            Assert.Equal(Braced(second), Report(result, 1)["id"], "second id");
            Assert.Equal("QUEUED", Report(result, 0)["state"], "first state");
            Assert.Equal(Me, Report(result, 1)["owner"], "second owner");
            Assert.Equal(false, result["changed"], "changed");
            Assert.Equal(0, host.SetCalls, "SetCalls");
            Assert.Equal(0u, first.Flags, "first flags");
            Assert.Equal(1u, second.Flags, "second flags");
        }

        public static void AllMatchesWritesEveryMatch()
        {
            FakeJob first = Job("nightly", Me, 0), second = Job("nightly", Me, 1), unrelated = Job("weekly", Me, 0);
            FakeBitsHost host = Host(first, unrelated, second);
            Args args = Set("nightly", "network");
            args.AllMatches = true;
            Dictionary<string, object> result = Run(host, args);
            NoError(result);
            Assert.Equal(2, Jobs(result).Count, "job count");
            Assert.Equal(2u, first.Flags, "first flags");
            Assert.Equal(2u, second.Flags, "second flags");
            Assert.Equal(0u, unrelated.Flags, "unrelated flags");
            Assert.Equal(1L, Report(result, 1)["previous_flags_value"], "second previous");
            Assert.Equal(2, host.SetCalls, "SetCalls");
        }

        public static void NotFoundByGuid()
        {
            FakeBitsHost host = Host(Job("nightly", Me, 0));
            Dictionary<string, object> result = Run(host, Set(Guid.NewGuid().ToString("B"), "network"));
            ExpectError(result, "not_found", "GetJob", 0x80200001);
            Assert.Equal(0, Jobs(result).Count, "job count");
            Assert.Equal(0, host.SetCalls, "SetCalls");
        }

        public static void NotFoundByName()
        {
            Dictionary<string, object> result = Run(Host(Job("nightly", Me, 0)), Read("weekly"));
            ExpectError(result, "not_found", "EnumJobs", null);
            Assert.Equal(null, Error(result)["job_id"], "job_id");
        }

        // ---- what BITS refuses ---------------------------------------------------------------------

        public static void BitsOlderThan40HasNoTokenOptions()
        {
            FakeJob job = Job("nightly", Me, 0);
            FakeBitsHost host = Host(job);
            host.BitsMajor = 3;
            Dictionary<string, object> result = Run(host, Set(Braced(job), "network"));
            ExpectError(result, "no_token_options", "QueryInterface(IBitsTokenOptions)", 0x80004002);
            Assert.Equal(Braced(job), Error(result)["job_id"], "job_id");
            Assert.Equal(Braced(job), Report(result, 0)["id"], "the job read so far");
            Assert.Equal(null, Report(result, 0)["previous_flags_value"], "previous_flags_value");
        }

        public static void Bits20JobHasNoTokenOptionsEither()
        {
            FakeJob job = Job("nightly", Me, 0);
            FakeBitsHost host = Host(job);
            host.BitsMajor = 2;
            ExpectError(Run(host, Read(Braced(job))), "no_token_options", "QueryInterface(IBitsTokenOptions)", 0x80004002);
        }

        static void ExpectInvalidState(int state, string stateName)
        {
            FakeJob job = Job("nightly", Me, 0);
            job.State = state;
            Dictionary<string, object> result = Run(Host(job), Set(Braced(job), "network"));
            ExpectError(result, "com_error", "SetHelperTokenFlags", 0x80200002);
            Assert.Equal(Braced(job), Error(result)["job_id"], "job_id");
            Assert.Equal(stateName, Report(result, 0)["state"], "state");
            Assert.Equal(false, Report(result, 0)["changed"], "job changed");
            Assert.Equal(false, result["changed"], "changed");
        }

        public static void AcknowledgedJobIsInvalidState()
        {
            ExpectInvalidState(7, "ACKNOWLEDGED");
        }

        public static void CancelledJobIsInvalidState()
        {
            ExpectInvalidState(8, "CANCELLED");
        }

        static Dictionary<string, object> SetAs(FakeJob job, bool admin, int build)
        {
            FakeBitsHost host = Host(job);
            host.CallerIsAdmin = admin;
            host.OsBuild = build;
            return Run(host, Set(Braced(job), "local_file"));
        }

        public static void NonAdminOwnerBefore14393IsDenied()
        {
            FakeJob job = Job("nightly", Me, 0);
            Dictionary<string, object> result = SetAs(job, false, 10586);
            ExpectError(result, "com_error", "SetHelperTokenFlags", AccessDenied);
            Assert.Equal(10586, ((Dictionary<string, object>)result["caller"])["os_build"], "os_build");
            Assert.Equal(0u, job.Flags, "fake flags");
        }

        public static void NonAdminOwnerFrom14393IsAllowed()
        {
            FakeJob job = Job("nightly", Me, 0);
            NoError(SetAs(job, false, 14393));
            Assert.Equal(1u, job.Flags, "fake flags");
        }

        public static void AdminBefore14393IsAllowed()
        {
            FakeJob job = Job("nightly", Other, 0);
            NoError(SetAs(job, true, 7601));
            Assert.Equal(1u, job.Flags, "fake flags");
        }

        public static void NonAdminNonOwnerIsDeniedAtGetJob()
        {
            FakeJob job = Job("nightly", Other, 0);
            Dictionary<string, object> result = SetAs(job, false, 20348);
            ExpectError(result, "com_error", "GetJob", AccessDenied);
            Assert.Equal(0, Jobs(result).Count, "job count");
        }

        public static void HelperTokenWithAdminsDeniesANonAdminOwner()
        {
            FakeJob job = Job("nightly", Me, 0);
            job.HelperTokenSid = Other;
            job.HelperTokenHasAdmins = true;
            Dictionary<string, object> result = SetAs(job, false, 20348);
            ExpectError(result, "com_error", "SetHelperTokenFlags", AccessDenied);
            Assert.Equal(Other, Report(result, 0)["helper_token_sid"], "helper_token_sid");
        }

        public static void HelperTokenWithAdminsAllowsAnAdmin()
        {
            FakeJob job = Job("nightly", Me, 0);
            job.HelperTokenSid = Other;
            job.HelperTokenHasAdmins = true;
            NoError(SetAs(job, true, 20348));
            Assert.Equal(1u, job.Flags, "fake flags");
        }

        public static void NetworkLogonRefusedAtGetJob()
        {
            FakeJob job = Job("nightly", Me, 0);
            FakeBitsHost host = Host(job);
            host.CallerNetworkLogon = true;
            host.RefuseNetworkLogon = true;
            ExpectError(Run(host, Set(Braced(job), "network")), "com_error", "GetJob", 0x800704DD);
            ExpectError(Run(host, Set("nightly", "network")), "com_error", "EnumJobs", 0x800704DD);
            Assert.Equal(0u, job.Flags, "fake flags");
        }

        public static void NetworkLogonAcceptedWhenBitsAllowsIt()
        {
            FakeJob job = Job("nightly", Me, 0);
            FakeBitsHost host = Host(job);
            host.CallerNetworkLogon = true;
            NoError(Run(host, Set(Braced(job), "network")));
            Assert.Equal(2u, job.Flags, "fake flags");
        }

        public static void ServiceDisabledIsManagerUnavailable()
        {
            FakeBitsHost host = Host(Job("nightly", Me, 0));
            host.ServiceDisabled = true;
            Dictionary<string, object> result = Run(host, Set("nightly", "network"));
            ExpectError(result, "manager_unavailable", "CoCreateInstance", 0x80070422);
            Assert.Equal(0, Jobs(result).Count, "job count");
        }

        // ---- the client-certificate refusal --------------------------------------------------------

        static FakeJob CertJob(string owner, uint flags)
        {
            FakeJob job = Job("secure", owner, flags);
            job.ClientCertificate = true;
            return job;
        }

        public static void ClientCertificateRefusesNetwork()
        {
            FakeJob job = CertJob(Me, 0);
            FakeBitsHost host = Host(job);
            Dictionary<string, object> result = Run(host, Set(Braced(job), "network"));
            ExpectError(result, "client_certificate", null, null);
            Assert.Equal(Braced(job), Error(result)["job_id"], "job_id");
            Assert.Equal(true, Report(result, 0)["client_certificate"], "client_certificate");
            Assert.Equal(0, host.SetCalls, "SetCalls");
            Assert.Equal(0u, job.Flags, "fake flags");
        }

        public static void ClientCertificateRefusalAppliesInCheckMode()
        {
            FakeJob job = CertJob(Me, 1);
            Args args = Set(Braced(job), "local_file", "network");
            args.CheckMode = true;
            ExpectError(Run(Host(job), args), "client_certificate", null, null);
        }

        public static void ForceLetsNetworkThrough()
        {
            FakeJob job = CertJob(Me, 0);
            Args args = Set(Braced(job), "network");
            args.Force = true;
            Dictionary<string, object> result = Run(Host(job), args);
            NoError(result);
            Assert.Equal(true, Report(result, 0)["client_certificate_forced"], "client_certificate_forced");
            Assert.Equal(2u, job.Flags, "fake flags");
        }

        public static void LocalSystemOwnerWithCertificateIsAllowed()
        {
            FakeJob job = CertJob(LocalSystem, 0);
            FakeBitsHost host = Host(job);
            host.CallerIsAdmin = true;
            Dictionary<string, object> result = Run(host, Set(Braced(job), "network"));
            NoError(result);
            Assert.Equal(false, Report(result, 0)["client_certificate_forced"], "client_certificate_forced");
            Assert.Equal(2u, job.Flags, "fake flags");
        }

        public static void CertificateWithNetworkAlreadySetIsAllowed()
        {
            FakeJob job = CertJob(Me, 2);
            Dictionary<string, object> result = Run(Host(job), Set(Braced(job), "network", "local_file"));
            NoError(result);
            Assert.Equal(false, Report(result, 0)["client_certificate_forced"], "client_certificate_forced");
            Assert.Equal(3u, job.Flags, "fake flags");
        }

        public static void CertificateWithLocalFileOnlyIsAllowed()
        {
            FakeJob job = CertJob(Me, 0);
            NoError(Run(Host(job), Set(Braced(job), "local_file")));
            Assert.Equal(1u, job.Flags, "fake flags");
        }

        // ---- who the module runs as ---------------------------------------------------------------

        sealed class CountingFactory : IBackgroundCopyManagerFactory
        {
            public int Created;
            public IBackgroundCopyManager Create()
            {
                Created++;
                throw new InvalidOperationException("BITS must not be reached");
            }
        }

        public static void AnIdentityThatCannotBeReadIsAFailureWithFacts()
        {
            CountingFactory factory = new CountingFactory();
            Dictionary<string, object> parameters = new Dictionary<string, object>();
            parameters["job"] = "nightly";
            parameters["flags"] = new List<object>(new object[] { "network" });
            Dictionary<string, object> result = HelperTokenModule.RunAs(
                delegate { throw new UnauthorizedAccessException("token without TOKEN_QUERY"); },
                factory, parameters, false);
            Dictionary<string, object> error = Error(result);
            Assert.Equal("caller_identity", error["reason"], "reason");
            Assert.Equal("CallerIdentity", error["call"], "call");
            Assert.Equal(0x80070005L, error["hresult"], "hresult of UnauthorizedAccessException");
            Assert.True(((string)error["message"]).Contains("token without TOKEN_QUERY"), "the .NET message is kept");
            Assert.Equal(null, ((Dictionary<string, object>)result["caller"])["sid"], "caller sid");
            Assert.Equal(0, Jobs(result).Count, "jobs");
            Assert.Equal(0, factory.Created, "BITS was not reached");
        }

        public static void AnIdentityFailureKeepsTheCallItNamed()
        {
            Failure named = new Failure("caller_identity", "Registry(CurrentBuildNumber)", unchecked((int)0x80070005), null,
                "Cannot read who the module runs as");
            Dictionary<string, object> result = HelperTokenModule.RunAs(delegate { throw named; }, new CountingFactory(),
                new Dictionary<string, object>(), false);
            Assert.Equal("Registry(CurrentBuildNumber)", Error(result)["call"], "call");
        }

        public static void ARunAsTheReadIdentityRunsNormally()
        {
            FakeJob job = Job("nightly", Me, 1);
            FakeBitsHost host = Host(job);
            Dictionary<string, object> parameters = new Dictionary<string, object>();
            parameters["job"] = "nightly";
            parameters["flags"] = new List<object>(new object[] { "local_file", "network" });
            Dictionary<string, object> result = HelperTokenModule.RunAs(delegate { return host.Caller; }, host.Factory,
                parameters, false);
            NoError(result);
            Assert.Equal(3u, job.Flags, "fake flags");
        }

        // An administrator cannot see another owner's certificate (BITS answers as for none): the module
        // must not take that for "no certificate" and let network through.
        public static void AnUnseenCertificateRefusesNetworkAsUnknown()
        {
            FakeJob job = CertJob(Other, 0);
            FakeBitsHost host = Host(job);
            host.CallerIsAdmin = true;
            Dictionary<string, object> result = Run(host, Set(Braced(job), "network"));
            ExpectError(result, "client_certificate_unknown", null, null);
            Assert.Equal(Braced(job), Error(result)["job_id"], "job_id");
            Assert.Equal(null, Report(result, 0)["client_certificate"], "client_certificate (unknown)");
            Assert.Equal(0, host.SetCalls, "SetCalls");
        }

        public static void ANonOwnersNoCertificateAnswerIsUnknownToo()
        {
            FakeJob job = Job("plain", Other, 0);
            FakeBitsHost host = Host(job);
            host.CallerIsAdmin = true;
            ExpectError(Run(host, Set(Braced(job), "network")), "client_certificate_unknown", null, null);
            Dictionary<string, object> localOnly = Run(host, Set(Braced(job), "local_file"));
            NoError(localOnly);
            Assert.Equal(1u, job.Flags, "local_file needs no certificate check");
        }

        public static void ForceLetsNetworkThroughAnUnknownCertificate()
        {
            FakeJob job = Job("plain", Other, 0);
            FakeBitsHost host = Host(job);
            host.CallerIsAdmin = true;
            Args args = Set(Braced(job), "network");
            args.Force = true;
            Dictionary<string, object> result = Run(host, args);
            NoError(result);
            Assert.Equal(true, Report(result, 0)["client_certificate_forced"], "client_certificate_forced");
            Assert.Equal(null, Report(result, 0)["client_certificate"], "client_certificate");
            Assert.Equal(2u, job.Flags, "fake flags");
        }

        public static void RefusalComesBeforeAnyWrite()
        {
            FakeJob plain = Job("secure", Me, 0), withCert = CertJob(Me, 0);
            FakeBitsHost host = Host(plain, withCert);
            Args args = Set("secure", "network");
            args.AllMatches = true;
            Dictionary<string, object> result = Run(host, args);
            ExpectError(result, "client_certificate", null, null);
            Assert.Equal(Braced(withCert), Error(result)["job_id"], "job_id");
            Assert.Equal(0, host.SetCalls, "SetCalls");
            Assert.Equal(0u, plain.Flags, "first job flags");
            Assert.Equal(false, result["changed"], "changed");
        }

        // ---- writing -------------------------------------------------------------------------------

        public static void ConcurrentChangeIsReadbackMismatch()
        {
            FakeJob job = Job("nightly", Me, 0);
            job.ConcurrentChange = true;
            job.ConcurrentFlags = 1;
            Dictionary<string, object> result = Run(Host(job), Set(Braced(job), "network"));
            ExpectError(result, "readback_mismatch", "GetHelperTokenFlags", null);
            Assert.Equal(Braced(job), Error(result)["job_id"], "job_id");
            Assert.Equal(1L, Report(result, 0)["flags_value"], "flags_value");
            Assert.Equal(true, Report(result, 0)["changed"], "job changed");
            Assert.Equal(false, Report(result, 0)["rolled_back"], "rolled_back");
            Assert.Equal(1u, job.Flags, "the other writer's flags stay");
        }

        public static void CheckModeWritesNothingButReportsChanged()
        {
            FakeJob job = Job("nightly", Me, 1);
            FakeBitsHost host = Host(job);
            Args args = Set(Braced(job), "network");
            args.CheckMode = true;
            Dictionary<string, object> result = Run(host, args);
            NoError(result);
            Assert.Equal(true, result["changed"], "changed");
            Assert.Equal(true, Report(result, 0)["changed"], "job changed");
            Assert.Equal(1L, Report(result, 0)["flags_value"], "flags_value");
            Assert.Equal(2L, result["desired_flags_value"], "desired_flags_value");
            Assert.Equal(0, host.SetCalls, "SetCalls");
            Assert.Equal(1u, job.Flags, "fake flags");
        }

        public static void EqualFlagsAreNotWritten()
        {
            FakeJob job = Job("nightly", Me, 3);
            FakeBitsHost host = Host(job);
            Dictionary<string, object> result = Run(host, Set(Braced(job), "network", "local_file"));
            NoError(result);
            Assert.Equal(false, result["changed"], "changed");
            Assert.Equal(false, Report(result, 0)["changed"], "job changed");
            Assert.Equal(0, host.SetCalls, "SetCalls");
        }

        public static void SecondRunIsIdempotent()
        {
            FakeJob job = Job("nightly", Me, 0);
            FakeBitsHost host = Host(job);
            Assert.Equal(true, Run(host, Set(Braced(job), "local_file"))["changed"], "first run changed");
            Assert.Equal(false, Run(host, Set(Braced(job), "local_file"))["changed"], "second run changed");
            Assert.Equal(1, host.SetCalls, "SetCalls");
        }

        public static void FailedSecondWriteRollsTheFirstBack()
        {
            FakeJob first = Job("nightly", Me, 1), second = Job("nightly", Me, 0);
            second.State = 7;
            FakeBitsHost host = Host(first, second);
            Args args = Set("nightly", "network");
            args.AllMatches = true;
            Dictionary<string, object> result = Run(host, args);
            ExpectError(result, "com_error", "SetHelperTokenFlags", 0x80200002);
            Assert.Equal(Braced(second), Error(result)["job_id"], "job_id");
            Assert.Equal(true, Report(result, 0)["rolled_back"], "first rolled_back");
            Assert.Equal(1L, Report(result, 0)["flags_value"], "first flags_value");
            Assert.Equal(false, Report(result, 0)["changed"], "a restored job reports no change");
            Assert.Equal(false, result["changed"], "nothing changed overall");
            Assert.Equal(false, Report(result, 1)["rolled_back"], "second rolled_back");
            Assert.Equal(false, Report(result, 1)["changed"], "second changed");
            Assert.Equal(1u, first.Flags, "first job restored");
            Assert.Equal(3, host.SetCalls, "SetCalls: write, failed write, restore");
        }

        public static void EmptyFlagsClearAll()
        {
            FakeJob job = Job("nightly", Me, 3);
            Dictionary<string, object> result = Run(Host(job), Set(Braced(job)));
            NoError(result);
            Assert.Equal(0L, result["desired_flags_value"], "desired_flags_value");
            Assert.Equal(0L, Report(result, 0)["flags_value"], "flags_value");
            Assert.Equal(0u, job.Flags, "fake flags");
        }

        public static void FlagNamesAreCaseInsensitiveAndMayRepeat()
        {
            FakeJob job = Job("nightly", Me, 0);
            NoError(Run(Host(job), Set(Braced(job), "NETWORK", "Local_File", "network")));
            Assert.Equal(3u, job.Flags, "fake flags");
        }

        public static void FlagsOmittedReportsOnly()
        {
            FakeJob job = Job("nightly", Me, 2);
            job.ClientCertificate = true;
            FakeBitsHost host = Host(job);
            Dictionary<string, object> result = Run(host, Read("nightly"));
            NoError(result);
            Assert.Equal(false, result["changed"], "changed");
            Assert.Equal(null, result["desired_flags_value"], "desired_flags_value");
            Assert.Equal(2L, Report(result, 0)["flags_value"], "flags_value");
            Assert.Equal(true, Report(result, 0)["client_certificate"], "client_certificate");
            Assert.Equal(0, host.SetCalls, "SetCalls");
        }

        public static void UnknownStateValueIsNamedUnknown()
        {
            FakeJob job = Job("nightly", Me, 0);
            job.State = 42;
            Dictionary<string, object> result = Run(Host(job), Read(Braced(job)));
            NoError(result);
            Assert.Equal("UNKNOWN", Report(result, 0)["state"], "state");
            Assert.Equal(42, Report(result, 0)["state_value"], "state_value");
        }

        // ---- other failures of BITS calls (injected) ------------------------------------------------

        static FakeJob Faulty(string call, long hresult)
        {
            FakeJob job = Job("nightly", Me, 0);
            job.Faults = new Dictionary<string, int>();
            job.Faults[call] = unchecked((int)hresult);
            return job;
        }

        public static void DisplayNameFailureDuringLookupIsComError()
        {
            Dictionary<string, object> result = Run(Host(Faulty("GetDisplayName", AccessDenied)), Read("nightly"));
            ExpectError(result, "com_error", "GetDisplayName", AccessDenied);
            Assert.Equal(0, Jobs(result).Count, "job count");
        }

        public static void OwnerFailureKeepsWhatWasRead()
        {
            FakeJob job = Faulty("GetOwner", 0x80004005);
            Dictionary<string, object> result = Run(Host(job), Set(Braced(job), "network"));
            ExpectError(result, "com_error", "GetOwner", 0x80004005);
            Assert.Equal(Braced(job), Error(result)["job_id"], "job_id");
            Assert.Equal("nightly", Report(result, 0)["name"], "name read before the failure");
            Assert.Equal(null, Report(result, 0)["owner"], "owner");
        }

        public static void CertificateReadFailureOtherThanNoCertificateIsComError()
        {
            FakeJob job = Faulty("GetClientCertificate", AccessDenied);
            FakeBitsHost host = Host(job);
            Dictionary<string, object> result = Run(host, Set(Braced(job), "network"));
            ExpectError(result, "com_error", "GetClientCertificate", AccessDenied);
            Assert.Equal(0, host.SetCalls, "SetCalls");
        }

        public static void FailedRollbackLeavesRolledBackFalse()
        {
            // The first job's write works, the second job's fails, then restoring the first job fails too.
            FakeJob first = Faulty("SetHelperTokenFlags", 0x80004005), second = Faulty("SetHelperTokenFlags", 0x80004005);
            first.FaultAfter = new Dictionary<string, int>();
            first.FaultAfter["SetHelperTokenFlags"] = 1;
            FakeBitsHost host = Host(first, second);
            Args args = Set("nightly", "network");
            args.AllMatches = true;
            Dictionary<string, object> result = Run(host, args);
            ExpectError(result, "com_error", "SetHelperTokenFlags", 0x80004005);
            Assert.Equal(Braced(second), Error(result)["job_id"], "job_id");
            Assert.Equal(false, Report(result, 0)["rolled_back"], "first rolled_back");
            Assert.Equal(2L, Report(result, 0)["flags_value"], "first keeps the written flags");
            Assert.Equal(true, Report(result, 0)["changed"], "first changed");
            Assert.Equal(2u, first.Flags, "fake flags of the first job");
            Assert.Equal(3, host.SetCalls, "SetCalls: write, failed write, failed restore");
        }

        // A real RCW may raise UnauthorizedAccessException for 0x80070005, and Activator wraps what a
        // constructor throws: the core must go by the HRESULT either way.
        sealed class ThrowingFactory : IBackgroundCopyManagerFactory
        {
            readonly Exception toThrow;

            public ThrowingFactory(Exception toThrow)
            {
                this.toThrow = toThrow;
            }

            public IBackgroundCopyManager Create()
            {
                throw toThrow;
            }
        }

        static Dictionary<string, object> RunWithFactory(IBackgroundCopyManagerFactory factory)
        {
            FakeBitsHost host = Host();
            Dictionary<string, object> parameters = new Dictionary<string, object>();
            parameters["job"] = "nightly";
            return HelperTokenModule.Run(factory, host.Caller, parameters, false);
        }

        public static void ManagerFailureIsJudgedByHResultNotType()
        {
            ExpectError(RunWithFactory(new ThrowingFactory(new UnauthorizedAccessException("denied"))),
                "manager_unavailable", "CoCreateInstance", AccessDenied);
        }

        public static void ManagerFailureInsideTargetInvocationIsUnwrapped()
        {
            Exception inner = new System.Runtime.InteropServices.COMException("disabled", unchecked((int)0x80070422));
            ExpectError(RunWithFactory(new ThrowingFactory(new System.Reflection.TargetInvocationException(inner))),
                "manager_unavailable", "CoCreateInstance", 0x80070422);
        }

        // ---- a read-back that differs, unknown flag bits, the certificate's interface ------------------

        // Someone else wrote the second job between our write and the read-back: theirs is the newer
        // intent, so that job is left as they left it; the first job, which this run wrote, is restored,
        // as after a failed write, and the run stops.
        public static void AReadBackMismatchRestoresTheOtherJobsAndLeavesThatOne()
        {
            FakeJob first = Job("nightly", Me, 0), second = Job("nightly", Me, 0), third = Job("nightly", Me, 0);
            second.ConcurrentChange = true;
            second.ConcurrentFlags = 1;
            FakeBitsHost host = Host(first, second, third);
            Args args = Set("nightly", "network");
            args.AllMatches = true;
            Dictionary<string, object> result = Run(host, args);
            ExpectError(result, "readback_mismatch", "GetHelperTokenFlags", null);
            Assert.Equal(Braced(second), Error(result)["job_id"], "job_id");
            Assert.Equal(0u, first.Flags, "the first job is restored");
            Assert.Equal(true, Report(result, 0)["rolled_back"], "first rolled_back");
            Assert.Equal(false, Report(result, 0)["changed"], "first changed");
            Assert.Equal(0L, Report(result, 0)["flags_value"], "first flags_value");
            Assert.Equal(1u, second.Flags, "the other writer's flags stay");
            Assert.Equal(false, Report(result, 1)["rolled_back"], "second rolled_back");
            Assert.Equal(true, Report(result, 1)["changed"], "second changed");
            Assert.Equal(1L, Report(result, 1)["flags_value"], "second flags_value (read back)");
            Assert.Equal(0u, third.Flags, "the third job is not written");
            Assert.Equal(3, host.SetCalls, "SetCalls: first, second, restore of the first");
            Assert.Equal(true, result["changed"], "changed: the second job was written");
        }

        // The flags read back differ: the token of that job is not written.
        public static void AFlagsReadBackMismatchStopsBeforeThatJobsToken()
        {
            FakeJob job = Job("nightly", Me, 0);
            job.ConcurrentChange = true;
            job.ConcurrentFlags = 1;
            FakeBitsHost host = Host(job);
            Args args = Set(Braced(job), "network");
            args.HelperToken = "caller";
            ExpectError(Run(host, args), "readback_mismatch", "GetHelperTokenFlags", null);
            Assert.Equal(0, host.TokenCalls, "token writes");
            Assert.Equal(null, job.HelperTokenSid, "helper token");
        }

        // A later BITS may define a third bit: it is neither compared nor cleared.
        public static void UnknownFlagBitsAreKeptAndReported()
        {
            FakeJob job = Job("nightly", Me, 0x5);
            FakeBitsHost host = Host(job);
            host.ValidTokenFlags = 0x7;
            Dictionary<string, object> same = Run(host, Set(Braced(job), "local_file"));
            NoError(same);
            Assert.Equal(false, same["changed"], "local_file on 0x5: the known bits already match");
            Assert.Equal(0, host.SetCalls, "SetCalls");
            Assert.Equal(5L, Report(same, 0)["flags_value"], "flags_value is the whole DWORD");
            Assert.Equal(4L, Report(same, 0)["unknown_flags_value"], "unknown_flags_value");
            Dictionary<string, object> result = Run(host, Set(Braced(job), "network"));
            NoError(result);
            Assert.Equal(6u, job.Flags, "network written, the unknown bit kept");
            Assert.Equal(6L, Report(result, 0)["flags_value"], "flags_value (read back)");
            Assert.Equal(4L, Report(result, 0)["unknown_flags_value"], "unknown_flags_value");
            Assert.Equal(2L, result["desired_flags_value"], "desired_flags_value: the known bits asked for");
            Assert.Equal(5L, Report(result, 0)["previous_flags_value"], "previous_flags_value");
        }

        public static void EmptyFlagsClearOnlyTheKnownBits()
        {
            FakeJob job = Job("nightly", Me, 0xB);
            FakeBitsHost host = Host(job);
            host.ValidTokenFlags = 0xF;
            NoError(Run(host, Set(Braced(job))));
            Assert.Equal(8u, job.Flags, "fake flags");
        }

        // The unknown bits restored whole when a later write of the run fails.
        public static void RollbackRestoresUnknownBits()
        {
            FakeJob first = Job("nightly", Me, 0x4), second = Faulty("SetHelperTokenFlags", 0x80004005);
            FakeBitsHost host = Host(first, second);
            host.ValidTokenFlags = 0x7;
            Args args = Set("nightly", "network");
            args.AllMatches = true;
            ExpectError(Run(host, args), "com_error", "SetHelperTokenFlags", 0x80004005);
            Assert.Equal(4u, first.Flags, "first job restored whole");
        }

        // BITS 4.0 and later always have IBackgroundCopyJobHttpOptions: a QueryInterface for it that
        // fails otherwise than with E_NOINTERFACE is a failed call, never "no certificate".
        public static void ACertificateQueryInterfaceFailureIsAFailedCall()
        {
            FakeJob job = Faulty("QueryInterface(IBackgroundCopyJobHttpOptions)", AccessDenied);
            job.OwnerSid = Other;
            job.ClientCertificate = true;
            FakeBitsHost host = Host(job);
            host.CallerIsAdmin = true;
            Dictionary<string, object> result = Run(host, Set(Braced(job), "network"));
            ExpectError(result, "com_error", "QueryInterface(IBackgroundCopyJobHttpOptions)", AccessDenied);
            Assert.Equal(Braced(job), Error(result)["job_id"], "job_id");
            Assert.Equal(0, host.SetCalls, "SetCalls");
            Assert.Equal(0u, job.Flags, "fake flags");
        }

        public static void ACertificateInterfaceThatIsNotThereMeansNone()
        {
            FakeJob job = Faulty("QueryInterface(IBackgroundCopyJobHttpOptions)", 0x80004002);
            job.OwnerSid = Other;
            FakeBitsHost host = Host(job);
            host.CallerIsAdmin = true;
            Dictionary<string, object> result = Run(host, Set(Braced(job), "network"));
            NoError(result);
            Assert.Equal(null, Report(result, 0)["client_certificate"], "client_certificate");
            Assert.Equal(2u, job.Flags, "fake flags");
        }

        public static void ATokenOptionsQueryInterfaceFailureIsAFailedCall()
        {
            FakeJob job = Faulty("QueryInterface(IBitsTokenOptions)", AccessDenied);
            FakeBitsHost host = Host(job);
            Dictionary<string, object> result = Run(host, Set(Braced(job), "network"));
            ExpectError(result, "com_error", "QueryInterface(IBitsTokenOptions)", AccessDenied);
            Assert.Equal(0, host.SetCalls, "SetCalls");
        }

        // ---- any exception ------------------------------------------------------------------------

        public static void AnyExceptionBecomesAFailureWithItsFacts()
        {
            Failure failure = Failure.Of(new InvalidOperationException("boom"), "SetHelperToken", "{JOB}");
            Dictionary<string, object> facts = failure.ToDictionary();
            Assert.Equal("host_exception", facts["reason"], "reason");
            Assert.Equal("SetHelperToken", facts["call"], "call");
            Assert.Equal(0x80131509L, facts["hresult"], "hresult (COR_E_INVALIDOPERATION)");
            Assert.Equal("{JOB}", facts["job_id"], "job_id");
            Assert.True(((string)facts["message"]).Contains("System.InvalidOperationException: boom"), "message");
            Failure ours = Failure.InvalidParameter("bad");
            Assert.True(object.ReferenceEquals(ours, Failure.Of(ours, "x", null)), "a Failure stays itself");
            Exception wrapped = new System.Reflection.TargetInvocationException(new ArgumentException("inner"));
            Assert.Equal(0x80070057L, Failure.Of(wrapped, null, null).ToDictionary()["hresult"], "unwrapped");
        }

        // A real RCW throws UnauthorizedAccessException for E_ACCESSDENIED (the fake does too): the
        // rollback and the error go by the HRESULT, whatever the type.
        public static void AnAccessDeniedOfAnotherTypeStillRollsBack()
        {
            FakeJob first = Job("nightly", Me, 0), second = Faulty("SetHelperTokenFlags", AccessDenied);
            FakeBitsHost host = Host(first, second);
            Args args = Set("nightly", "local_file");
            args.AllMatches = true;
            Dictionary<string, object> result = Run(host, args);
            ExpectError(result, "com_error", "SetHelperTokenFlags", AccessDenied);
            Assert.Equal(0u, first.Flags, "first job restored");
            Assert.Equal(true, Report(result, 0)["rolled_back"], "rolled_back");
        }

        // ---- invalid parameters --------------------------------------------------------------------

        static void ExpectInvalid(FakeBitsHost host, Dictionary<string, object> parameters, string what)
        {
            Dictionary<string, object> result = RunRaw(host, parameters);
            Dictionary<string, object> error = Error(result);
            Assert.Equal("invalid_parameter", error["reason"], what + ": reason");
            Assert.Equal(null, error["call"], what + ": call");
            Assert.Equal(null, error["hresult"], what + ": hresult");
            Assert.Equal(0, Jobs(result).Count, what + ": job count");
            Assert.Equal(0, host.SetCalls, what + ": SetCalls");
        }

        static Dictionary<string, object> Params(string job, object flags)
        {
            Dictionary<string, object> parameters = new Dictionary<string, object>();
            parameters["job"] = job;
            parameters["flags"] = flags;
            return parameters;
        }

        public static void InvalidFlagNameIsInvalidParameter()
        {
            FakeJob job = Job("nightly", Me, 0);
            FakeBitsHost host = Host(job);
            Dictionary<string, object> result = Run(host, Set(Braced(job), "local_file", "BG_TOKEN_NETWORK"));
            ExpectError(result, "invalid_parameter", null, null);
            Assert.True(((string)Error(result)["message"]).Contains("BG_TOKEN_NETWORK"), "message names the flag");
            Assert.Equal(null, result["desired_flags_value"], "desired_flags_value");
            Assert.Equal(0, host.SetCalls, "SetCalls");
        }

        public static void MalformedParametersAreInvalid()
        {
            FakeBitsHost host = Host(Job("nightly", Me, 0));
            ExpectInvalid(host, Params(null, null), "job missing");
            ExpectInvalid(host, Params("", null), "job empty");
            ExpectInvalid(host, Params("nightly", "network"), "flags a string");
            ExpectInvalid(host, Params("nightly", new List<object> { 2 }), "flag an integer");
            ExpectInvalid(host, Params("nightly", new List<object> { null }), "flag null");
            Dictionary<string, object> badBool = Params("nightly", null);
            badBool["all_matches"] = "yes";
            ExpectInvalid(host, badBool, "all_matches a string");
            Dictionary<string, object> result = HelperTokenModule.Run(host.Factory, host.Caller, null, false);
            Assert.Equal("invalid_parameter", Error(result)["reason"], "parameters null");
        }

        public static void OmittedBooleansDefaultToFalse()
        {
            FakeJob first = Job("nightly", Me, 0), second = Job("nightly", Me, 0);
            Dictionary<string, object> parameters = new Dictionary<string, object>();
            parameters["job"] = "nightly";
            parameters["flags"] = new List<object> { "network" };
            ExpectError(RunRaw(Host(first, second), parameters), "ambiguous", null, null);
        }

        // ---- the fake's own rules that the core cannot reach -------------------------------------------

        public static void FakeDeniesANonOwnerAtSetHelperTokenFlags()
        {
            FakeJob job = Job("nightly", Other, 0);
            FakeBitsHost host = Host(job);
            host.CallerIsAdmin = true;
            IBackgroundCopyJob found;
            Guid id = job.Id;
            host.Factory.Create().GetJob(ref id, out found);
            host.CallerIsAdmin = false;   // the same job, now seen by a non-administrator that does not own it
            IBitsTokenOptions options = (IBitsTokenOptions)found;
            Exception e = Assert.Throws<Exception>(delegate { options.SetHelperTokenFlags(1); }, "non-owner Set");
            Assert.Equal(unchecked((int)0x80070005), e.HResult, "HResult");
            Assert.Equal(0u, job.Flags, "fake flags");
        }

        public static void FakeRejectsUnknownFlagBits()
        {
            FakeJob job = Job("nightly", Me, 0);
            FakeBitsHost host = Host(job);
            IBackgroundCopyJob found;
            Guid id = job.Id;
            host.Factory.Create().GetJob(ref id, out found);
            Exception e = Assert.Throws<Exception>(delegate { ((IBitsTokenOptions)found).SetHelperTokenFlags(4); },
                "flag 0x4");
            Assert.Equal(unchecked((int)0x80070057), e.HResult, "HResult");
        }

        public static void FakeClearHelperTokenKeepsFlags()
        {
            FakeJob job = Job("nightly", Me, 2);
            job.HelperTokenSid = Other;
            FakeBitsHost host = Host(job);
            IBackgroundCopyJob found;
            Guid id = job.Id;
            host.Factory.Create().GetJob(ref id, out found);
            ((IBitsTokenOptions)found).ClearHelperToken();
            Assert.Equal(null, job.HelperTokenSid, "helper token");
            Assert.Equal(2u, job.Flags, "flags kept");
        }
    }
}
