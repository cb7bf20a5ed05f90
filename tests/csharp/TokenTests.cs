// Unit tests of bits_helper_token's `helper_token` option: SetHelperToken / ClearHelperToken
// against the managed fake BITS, whose SetHelperToken needs an impersonate-level, cloaking blanket.
// Compiled with CoreTests.cs, whose helpers it uses.

using System;
using System.Collections.Generic;
using ansible_collections.winbits.bits.plugins.module_utils.BitsCom;
using ansible_collections.winbits.bits.plugins.module_utils.BitsHelperToken;

namespace WinBits.Testing
{
    public static class TokenTests
    {
        const string Me = CoreTests.Me;
        const string Other = CoreTests.Other;
        const long FailedToImpersonate = 0x80010123;

        static CoreTests.Args Token(FakeJob job, string action, params string[] flags)
        {
            CoreTests.Args args = new CoreTests.Args();
            args.Job = CoreTests.Braced(job);
            args.Flags = flags.Length == 0 ? null : flags;
            args.HelperToken = action;
            return args;
        }

        static Dictionary<string, object> Run(FakeBitsHost host, CoreTests.Args args)
        {
            return CoreTests.Run(host, args);
        }

        static Dictionary<string, object> Only(Dictionary<string, object> result)
        {
            return CoreTests.Report(result, 0);
        }

        // ---- caller --------------------------------------------------------------------------------

        public static void CallerSetsTheCallersTokenWithTheBlanketItNeeds()
        {
            FakeJob job = CoreTests.Job("nightly", Me, 1);
            FakeBitsHost host = CoreTests.Host(job);
            Dictionary<string, object> result = Run(host, Token(job, "caller"));
            CoreTests.NoError(result);
            Assert.Equal(Me, job.HelperTokenSid, "the job's helper token in the fake");
            Assert.Equal(true, result["changed"], "changed");
            Dictionary<string, object> report = Only(result);
            Assert.Equal(null, report["previous_helper_token_sid"], "previous_helper_token_sid");
            Assert.Equal(Me, report["helper_token_sid"], "helper_token_sid (read back)");
            Assert.Equal(true, report["helper_token_changed"], "helper_token_changed");
            Assert.Equal(false, report["flags_changed"], "flags_changed");
            Assert.Equal("caller", result["desired_helper_token"], "desired_helper_token");
            Assert.Equal(3u, host.LastBlanketImpersonation, "RPC_C_IMP_LEVEL_IMPERSONATE");
            Assert.True((host.LastBlanketCapabilities & 0x40) != 0, "EOAC_DYNAMIC_CLOAKING");
            Assert.Equal(1u, job.Flags, "the flags are left as they were");
        }

        public static void CallerIsIdempotent()
        {
            FakeJob job = CoreTests.Job("nightly", Me, 1);
            job.HelperTokenSid = Me.ToLowerInvariant();   // SIDs compare without regard to case
            FakeBitsHost host = CoreTests.Host(job);
            Dictionary<string, object> result = Run(host, Token(job, "caller"));
            CoreTests.NoError(result);
            Assert.Equal(false, result["changed"], "changed");
            Assert.Equal(0, host.TokenCalls, "token writes");
        }

        public static void CallerReplacesAnotherUsersToken()
        {
            FakeJob job = CoreTests.Job("nightly", Me, 1);
            job.HelperTokenSid = Other;
            FakeBitsHost host = CoreTests.Host(job);
            Dictionary<string, object> report = Only(Run(host, Token(job, "caller")));
            Assert.Equal(Other, report["previous_helper_token_sid"], "previous");
            Assert.Equal(Me, report["helper_token_sid"], "after");
        }

        public static void FlagsAndTokenInOneTask()
        {
            FakeJob job = CoreTests.Job("nightly", Me, 0);
            FakeBitsHost host = CoreTests.Host(job);
            Dictionary<string, object> result = Run(host, Token(job, "caller", "local_file", "network"));
            CoreTests.NoError(result);
            Dictionary<string, object> report = Only(result);
            Assert.Equal(true, report["flags_changed"], "flags_changed");
            Assert.Equal(true, report["helper_token_changed"], "helper_token_changed");
            Assert.Equal(3u, job.Flags, "flags");
            Assert.Equal(Me, job.HelperTokenSid, "token");
        }

        // ---- absent --------------------------------------------------------------------------------

        public static void AbsentClearsTheTokenAndKeepsTheFlags()
        {
            FakeJob job = CoreTests.Job("nightly", Me, 3);
            job.HelperTokenSid = Other;
            FakeBitsHost host = CoreTests.Host(job);
            Dictionary<string, object> result = Run(host, Token(job, "absent"));
            CoreTests.NoError(result);
            Assert.Equal(null, job.HelperTokenSid, "token");
            Assert.Equal(3u, job.Flags, "flags kept");
            Assert.Equal(Other, Only(result)["previous_helper_token_sid"], "previous");
            Assert.Equal(null, Only(result)["helper_token_sid"], "read back");
            Dictionary<string, object> again = Run(host, Token(job, "absent"));
            Assert.Equal(false, again["changed"], "second run changed");
            Assert.Equal(1, host.TokenCalls, "one token write in two runs");
        }

        // A BITS that answers "" for "no token": absent sees no token, and a clear reads back as none.
        public static void AnEmptyTokenSidIsNoToken()
        {
            FakeJob none = CoreTests.Job("none", Me, 0), other = CoreTests.Job("other", Me, 0);
            other.HelperTokenSid = Other;
            FakeBitsHost host = CoreTests.Host(none, other);
            host.EmptySidWithoutToken = true;
            Dictionary<string, object> untouched = Run(host, Token(none, "absent"));
            CoreTests.NoError(untouched);
            Assert.Equal(false, untouched["changed"], "absent on a job without a token");
            Assert.Equal(null, Only(untouched)["previous_helper_token_sid"], "previous_helper_token_sid");
            Assert.Equal(null, Only(untouched)["helper_token_sid"], "helper_token_sid");
            Dictionary<string, object> cleared = Run(host, Token(other, "absent"));
            CoreTests.NoError(cleared);
            Assert.Equal(true, cleared["changed"], "absent clears the other user's token");
            Assert.Equal(null, Only(cleared)["helper_token_sid"], "read back: none");
            Dictionary<string, object> again = Run(host, Token(other, "absent"));
            CoreTests.NoError(again);
            Assert.Equal(false, again["changed"], "the second run changes nothing");
            Assert.Equal(1, host.TokenCalls, "one token write in three runs");
        }

        public static void KeepTouchesNoToken()
        {
            FakeJob job = CoreTests.Job("nightly", Me, 0);
            job.HelperTokenSid = Other;
            FakeBitsHost host = CoreTests.Host(job);
            CoreTests.NoError(Run(host, Token(job, "keep", "local_file")));
            Assert.Equal(Other, job.HelperTokenSid, "token");
            Assert.Equal(0, host.TokenCalls, "token writes");
        }

        // ---- check mode ----------------------------------------------------------------------------

        public static void CheckModeReportsTheTokenChangeAndWritesNothing()
        {
            FakeJob job = CoreTests.Job("nightly", Me, 0);
            FakeBitsHost host = CoreTests.Host(job);
            CoreTests.Args args = Token(job, "caller", "network");
            args.CheckMode = true;
            Dictionary<string, object> result = Run(host, args);
            CoreTests.NoError(result);
            Assert.Equal(true, result["changed"], "changed");
            Assert.Equal(true, Only(result)["helper_token_changed"], "helper_token_changed");
            Assert.Equal(null, Only(result)["helper_token_sid"], "nothing read back: nothing written");
            Assert.Equal(0, host.TokenCalls + host.SetCalls, "writes");
            Assert.Equal(null, job.HelperTokenSid, "token");
        }

        // ---- the rules -----------------------------------------------------------------------------

        public static void BeforeBuild14393OnlyAdministratorsSetATokenAndNothingChanges()
        {
            FakeJob job = CoreTests.Job("nightly", Me, 0);
            FakeBitsHost host = CoreTests.Host(job);
            host.OsBuild = 9600;
            CoreTests.Args args = Token(job, "caller");
            Dictionary<string, object> result = Run(host, args);
            CoreTests.ExpectError(result, "com_error", "SetHelperToken", CoreTests.AccessDenied);
            Assert.Equal(null, job.HelperTokenSid, "token");
        }

        // Each call has its own rule (docs/dev/design.md section 3). SetHelperToken before 14393: only on a job
        // an administrator owns, whoever calls.
        public static void BeforeBuild14393AnAdministratorCannotSetATokenOnANonAdministratorsJob()
        {
            FakeJob job = CoreTests.Job("nightly", Other, 0);
            FakeBitsHost host = CoreTests.Host(job);
            host.OsBuild = 9600;
            host.CallerIsAdmin = true;
            CoreTests.ExpectError(Run(host, Token(job, "caller")), "com_error", "SetHelperToken", CoreTests.AccessDenied);
            Assert.Equal(null, job.HelperTokenSid, "token");
            CoreTests.NoError(Run(host, Token(job, "keep", "local_file")));
            Assert.Equal(1u, job.Flags, "SetHelperTokenFlags' rule lets the administrator set the flags");
        }

        public static void BeforeBuild14393AnAdministratorSetsATokenOnAnAdministratorsJob()
        {
            FakeJob admins = CoreTests.Job("admins", Other, 0), system = CoreTests.Job("system", CoreTests.LocalSystem, 0);
            admins.OwnerIsAdmin = true;
            FakeBitsHost host = CoreTests.Host(admins, system);
            host.OsBuild = 9600;
            host.CallerIsAdmin = true;
            CoreTests.NoError(Run(host, Token(admins, "caller")));
            CoreTests.NoError(Run(host, Token(system, "caller")));
            Assert.Equal(Me, admins.HelperTokenSid, "an administrator's job");
            Assert.Equal(Me, system.HelperTokenSid, "LocalSystem's job: LocalSystem is an administrator");
        }

        // From 14393 SetHelperToken asks whether the token being set (the caller's) has Administrators, not the
        // job's current one: a non-administrator owner replaces an administrator's token, but may not set flags.
        public static void From14393ANonAdministratorOwnerReplacesATokenWithAdministrators()
        {
            FakeJob job = CoreTests.Job("nightly", Me, 0);
            job.HelperTokenSid = Other;
            job.HelperTokenHasAdmins = true;
            FakeBitsHost host = CoreTests.Host(job);
            CoreTests.ExpectError(Run(host, Token(job, "caller", "network")), "com_error", "SetHelperTokenFlags",
                CoreTests.AccessDenied);
            Assert.Equal(Other, job.HelperTokenSid, "the flags failed first: no token written");
            CoreTests.NoError(Run(host, Token(job, "caller")));
            Assert.Equal(Me, job.HelperTokenSid, "the owner's token");
            Assert.Equal(false, job.HelperTokenHasAdmins, "a non-administrator's token has no Administrators");
            CoreTests.NoError(Run(host, Token(job, "caller", "network")));
            Assert.Equal(2u, job.Flags, "with the owner's own token, the flags too");
        }

        // ClearHelperToken's own rule: before build 14393 only an administrator, even on its own job.
        public static void Before14393ANonAdministratorOwnerMayNotClearTheToken()
        {
            foreach (int build in new[] { 9600, 14392 })
            {
                FakeJob job = CoreTests.Job("nightly", Me, 1);
                job.HelperTokenSid = Other;
                FakeBitsHost host = CoreTests.Host(job);
                host.OsBuild = build;
                CoreTests.ExpectError(Run(host, Token(job, "absent")), "com_error", "ClearHelperToken",
                    CoreTests.AccessDenied);
                Assert.Equal(Other, job.HelperTokenSid, "not cleared on build " + build);
                host.CallerIsAdmin = true;
                CoreTests.NoError(Run(host, Token(job, "absent")));
                Assert.Equal(null, job.HelperTokenSid, "an administrator clears it on build " + build);
                Assert.Equal(1u, job.Flags, "flags kept on build " + build);
            }
        }

        // From build 14393 the owner too; the job's current token plays no part (that rule is SetHelperTokenFlags').
        public static void From14393ANonAdministratorOwnerClearsATokenWithAdministrators()
        {
            foreach (int build in new[] { 14393, 20348 })
            {
                FakeJob job = CoreTests.Job("nightly", Me, 1);
                job.HelperTokenSid = Other;
                job.HelperTokenHasAdmins = true;
                FakeBitsHost host = CoreTests.Host(job);
                host.OsBuild = build;
                CoreTests.NoError(Run(host, Token(job, "absent")));
                Assert.Equal(null, job.HelperTokenSid, "cleared on build " + build);
                Assert.Equal(1u, job.Flags, "flags kept on build " + build);
            }
        }

        // Someone else's job, on every build: a non-administrator is refused, an administrator clears the token.
        // (Opened as an administrator that then stops being one: a non-administrator cannot GetJob it.)
        public static void ClearingAnotherUsersTokenIsAnAdministratorsOnEveryBuild()
        {
            foreach (int build in new[] { 9600, 14392, 14393, 20348 })
            {
                FakeJob job = CoreTests.Job("nightly", Other, 0);
                job.HelperTokenSid = Other;
                FakeBitsHost host = CoreTests.Host(job);
                host.OsBuild = build;
                host.CallerIsAdmin = true;
                IBackgroundCopyJob found;
                Guid id = job.Id;
                host.Factory.Create().GetJob(ref id, out found);
                IBitsTokenOptions options = (IBitsTokenOptions)found;
                host.CallerIsAdmin = false;
                Exception clear = Assert.Throws<Exception>(delegate { options.ClearHelperToken(); },
                    "non-owner ClearHelperToken on build " + build);
                Assert.Equal(unchecked((int)CoreTests.AccessDenied), clear.HResult, "HResult on build " + build);
                Assert.Equal(Other, job.HelperTokenSid, "not cleared on build " + build);
                host.CallerIsAdmin = true;
                options.ClearHelperToken();
                Assert.Equal(null, job.HelperTokenSid, "an administrator clears it on build " + build);
            }
        }

        // A non-administrator that does not own the job cannot open it (GetJob), so these rules are reached
        // through a job opened as an administrator that then stops being one.
        public static void FakeDeniesANonOwnerEachTokenCall()
        {
            FakeJob job = CoreTests.Job("nightly", Other, 0);
            job.HelperTokenSid = Other;
            FakeBitsHost host = CoreTests.Host(job);
            host.CallerIsAdmin = true;
            IBackgroundCopyJob found;
            Guid id = job.Id;
            host.Factory.Create().GetJob(ref id, out found);
            IBitsTokenOptions options = (IBitsTokenOptions)found;
            ProxySecurity.AllowImpersonation(options, CoreTests.Braced(job));
            host.CallerIsAdmin = false;
            Exception set = Assert.Throws<Exception>(delegate { options.SetHelperToken(); }, "non-owner SetHelperToken");
            Exception clear = Assert.Throws<Exception>(delegate { options.ClearHelperToken(); }, "non-owner Clear");
            Assert.Equal(unchecked((int)CoreTests.AccessDenied), set.HResult, "SetHelperToken HResult");
            Assert.Equal(unchecked((int)CoreTests.AccessDenied), clear.HResult, "ClearHelperToken HResult");
            Assert.Equal(Other, job.HelperTokenSid, "token");
            host.CallerIsAdmin = true;
            options.SetHelperToken();
            Assert.Equal(Me, job.HelperTokenSid, "an administrator sets it on someone else's job from 14393");
            Assert.Equal(true, job.HelperTokenHasAdmins, "an administrator's token has Administrators");
        }

        public static void WithoutTheBlanketBitsCannotImpersonate()
        {
            FakeJob job = CoreTests.Job("nightly", Me, 0);
            FakeBitsHost host = CoreTests.Host(job);
            IBackgroundCopyJob wrapped;
            Guid id = job.Id;
            host.Factory.Create().GetJob(ref id, out wrapped);
            IBitsTokenOptions options = (IBitsTokenOptions)wrapped;
            Exception refused = Assert.Throws<Exception>(delegate { options.SetHelperToken(); }, "SetHelperToken");
            Assert.Equal(unchecked((int)FailedToImpersonate), refused.HResult, "CO_E_FAILEDTOIMPERSONATE");
            ProxySecurity.AllowImpersonation(options, CoreTests.Braced(job));
            options.SetHelperToken();
            Assert.Equal(Me, job.HelperTokenSid, "with the blanket");
        }

        // ---- nothing half-done ---------------------------------------------------------------------

        public static void AFailedTokenWriteRestoresTheFlagsWritten()
        {
            FakeJob job = CoreTests.Job("nightly", Me, 1);
            job.Faults = new Dictionary<string, int>();
            job.Faults["SetHelperToken"] = unchecked((int)CoreTests.AccessDenied);
            FakeBitsHost host = CoreTests.Host(job);
            Dictionary<string, object> result = Run(host, Token(job, "caller", "local_file", "network"));
            CoreTests.ExpectError(result, "com_error", "SetHelperToken", CoreTests.AccessDenied);
            Assert.Equal(1u, job.Flags, "flags restored");
            Dictionary<string, object> report = Only(result);
            Assert.Equal(true, report["rolled_back"], "rolled_back");
            Assert.Equal(false, report["changed"], "changed");
            Assert.Equal(1L, report["flags_value"], "flags_value");
            Assert.Equal(false, result["changed"], "result changed");
        }

        public static void ALaterJobsFailureUndoesAnEarlierJobsTokenAndFlags()
        {
            FakeJob first = CoreTests.Job("twin", Me, 0), second = CoreTests.Job("twin", Me, 0);
            second.Faults = new Dictionary<string, int>();
            second.Faults["SetHelperToken"] = unchecked((int)CoreTests.AccessDenied);
            FakeBitsHost host = CoreTests.Host(first, second);
            CoreTests.Args args = CoreTests.Set("twin", "local_file");
            args.AllMatches = true;
            args.HelperToken = "caller";
            Dictionary<string, object> result = Run(host, args);
            CoreTests.ExpectError(result, "com_error", "SetHelperToken", CoreTests.AccessDenied);
            Assert.Equal(null, first.HelperTokenSid, "the first job's token cleared again");
            Assert.Equal(0u, first.Flags, "the first job's flags restored");
            Assert.Equal(true, CoreTests.Report(result, 0)["rolled_back"], "first rolled_back");
            Assert.Equal(0u, second.Flags, "the second job's flags restored");
        }

        // BITS sets only the caller's own token: another user's token, once cleared, cannot be put back.
        public static void AnotherUsersClearedTokenCannotBeRestoredAndSaysSo()
        {
            FakeJob first = CoreTests.Job("twin", Me, 0), second = CoreTests.Job("twin", Me, 0);
            first.HelperTokenSid = Other;
            second.HelperTokenSid = Other;
            second.Faults = new Dictionary<string, int>();
            second.Faults["ClearHelperToken"] = unchecked((int)CoreTests.AccessDenied);
            FakeBitsHost host = CoreTests.Host(first, second);
            CoreTests.Args args = CoreTests.Read("twin");
            args.AllMatches = true;
            args.HelperToken = "absent";
            Dictionary<string, object> result = Run(host, args);
            CoreTests.ExpectError(result, "com_error", "ClearHelperToken", CoreTests.AccessDenied);
            Dictionary<string, object> report = CoreTests.Report(result, 0);
            Assert.Equal(null, first.HelperTokenSid, "cleared, and not restorable");
            Assert.Equal(false, report["rolled_back"], "rolled_back");
            Assert.Equal(true, report["changed"], "changed");
            Assert.Equal(true, result["changed"], "result changed");
        }

        public static void AnUnknownHelperTokenActionIsRefused()
        {
            FakeJob job = CoreTests.Job("nightly", Me, 0);
            CoreTests.ExpectError(Run(CoreTests.Host(job), Token(job, "mine")), "invalid_parameter", null, null);
        }
    }
}
