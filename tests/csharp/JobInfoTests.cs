// Unit tests of the bits_job_info core (plugins/module_utils/BitsJobInfo.cs) against the managed fake BITS.
// Compiled with CoreTests.cs, whose Main runs every *Tests class.

using System;
using System.Collections.Generic;
using ansible_collections.winbits.bits.plugins.module_utils.BitsCom;
using ansible_collections.winbits.bits.plugins.module_utils.BitsJobInfo;

namespace WinBits.Testing
{
    public static class JobInfoTests
    {
        const string Me = "S-1-5-21-1000-1000-1000-1001";
        const string Other = "S-1-5-21-1000-1000-1000-1002";
        const string Helper = "S-1-5-21-1000-1000-1000-1013";
        const string LocalSystem = "S-1-5-18";
        const long AccessDenied = 0x80070005;
        const long TokenRequired = 0x80200056;

        // ---- helpers -------------------------------------------------------------------------------

        static FakeBitsHost Host(bool admin, params FakeJob[] jobs)
        {
            FakeBitsHost host = new FakeBitsHost();
            host.CallerSid = Me;
            host.CallerIsAdmin = admin;
            host.AccountNames[Me] = "CORP\\alice";
            host.AccountNames[LocalSystem] = "NT AUTHORITY\\SYSTEM";
            host.AccountNames[Helper] = "CORP\\svc-sync";
            host.Jobs.AddRange(jobs);
            return host;
        }

        static FakeJob Job(string name, string owner, uint flags)
        {
            FakeJob job = new FakeJob();
            job.Id = Guid.NewGuid();
            job.DisplayName = name;
            job.OwnerSid = owner;
            job.State = 3;
            job.Flags = flags;
            return job;
        }

        static Dictionary<string, object> Run(FakeBitsHost host, bool allUsers, params string[] patterns)
        {
            Dictionary<string, object> parameters = new Dictionary<string, object>();
            parameters["job"] = patterns.Length == 0 ? null : new List<object>(patterns);
            parameters["all_users"] = allUsers;
            return JobInfoModule.Run(host.Factory, host.Caller, host.Names, parameters);
        }

        static Dictionary<string, object> RunWithin(FakeBitsHost host, object nameTimeout)
        {
            Dictionary<string, object> parameters = new Dictionary<string, object>();
            parameters["all_users"] = true;
            parameters["name_timeout"] = nameTimeout;
            return JobInfoModule.Run(host.Factory, host.Caller, host.Names, parameters);
        }

        static List<object> Jobs(Dictionary<string, object> result)
        {
            return (List<object>)result["jobs"];
        }

        static Dictionary<string, object> Only(Dictionary<string, object> result)
        {
            Assert.Equal(null, result["error"], "error");
            Assert.Equal(1, Jobs(result).Count, "number of jobs listed");
            return (Dictionary<string, object>)Jobs(result)[0];
        }

        static Dictionary<string, object> Field(Dictionary<string, object> report, string key)
        {
            return (Dictionary<string, object>)report[key];
        }

        static List<string> Names(Dictionary<string, object> result)
        {
            List<string> names = new List<string>();
            foreach (Dictionary<string, object> report in Jobs(result))
                names.Add((string)report["name"]);
            names.Sort(StringComparer.Ordinal);
            return names;
        }

        // ---- what one job reports ------------------------------------------------------------------

        public static void ReportsEveryFactOfAJob()
        {
            FakeJob job = Job("contentSync", LocalSystem, 3);
            job.Type = 2;
            job.HelperTokenSid = Helper;
            job.CreationTime = new DateTime(2026, 11, 20, 8, 15, 0, DateTimeKind.Utc);
            job.ModificationTime = new DateTime(2026, 11, 21, 9, 0, 30, DateTimeKind.Utc);
            Dictionary<string, object> result = Run(Host(true, job), true);
            Dictionary<string, object> report = Only(result);
            Assert.Equal(job.Id.ToString("B").ToUpperInvariant(), report["id"], "id");
            Assert.Equal("contentSync", report["name"], "name");
            Assert.Equal(LocalSystem, report["owner"], "owner");
            Assert.Equal("NT AUTHORITY\\SYSTEM", report["owner_name"], "owner_name");
            Assert.Equal("SUSPENDED", report["state"], "state");
            Assert.Number(3, report["state_value"], "state_value");
            Assert.Equal("UPLOAD_REPLY", report["type"], "type");
            Assert.Number(2, report["type_value"], "type_value");
            Assert.Equal(3L, report["flags_value"], "flags_value");
            Assert.Equal(Helper, report["helper_token_sid"], "helper_token_sid");
            Assert.Equal("CORP\\svc-sync", report["helper_token_name"], "helper_token_name");
            Assert.Equal("2026-11-20T08:15:00Z", report["creation_time"], "creation_time");
            Assert.Equal("2026-11-21T09:00:30Z", report["modification_time"], "modification_time");
            Assert.Equal(null, report["error"], "error of a suspended job");
            Assert.Equal(null, report["read_error"], "read_error");
            Assert.Equal(false, result["changed"], "changed");
            Assert.Equal(true, result["all_users"], "all_users");
            Assert.Equal(Me, Field(result, "caller")["sid"], "caller sid");
        }

        public static void UnknownTimesAndUnresolvableSidsAreNull()
        {
            FakeJob job = Job("orphan", "S-1-5-21-9-9-9-4242", 0);
            job.HelperTokenSid = "S-1-5-21-9-9-9-4343";
            Dictionary<string, object> report = Only(Run(Host(true, job), true));
            Assert.Equal(null, report["creation_time"], "a zero FILETIME");
            Assert.Equal(null, report["modification_time"], "a zero FILETIME");
            Assert.Equal(null, report["owner_name"], "an owner no one can resolve");
            Assert.Equal(null, report["helper_token_name"], "a helper token no one can resolve");
            Assert.Equal("DOWNLOAD", report["type"], "type");
        }

        public static void ATimePastYear9999IsUnknownNotACrash()
        {
            System.Runtime.InteropServices.ComTypes.FILETIME time = new System.Runtime.InteropServices.ComTypes.FILETIME();
            time.dwHighDateTime = 0x7FFFFFFF;
            time.dwLowDateTime = -1;
            Assert.Equal(null, JobLister.IsoUtc(time), "the largest FILETIME");
            time.dwHighDateTime = 0x01DD5A8B;   // 2026-11-21 and some
            time.dwLowDateTime = 0;
            Assert.True(((string)JobLister.IsoUtc(time)).StartsWith("2026-"), "an ordinary FILETIME");
        }

        public static void ReadingChangesNothing()
        {
            FakeJob job = Job("contentSync", Me, 1);
            FakeBitsHost host = Host(false, job);
            Run(host, false);
            Assert.Equal(0, host.SetCalls, "SetHelperTokenFlags calls");
            Assert.Equal(1u, job.Flags, "flags after a listing");
            Assert.Equal(3, job.State, "state after a listing");
        }

        // ---- selection -----------------------------------------------------------------------------

        public static void WithoutJobEveryJobIsListed()
        {
            Dictionary<string, object> result = Run(Host(true, Job("a", Me, 0), Job("b", Other, 1),
                Job("c", LocalSystem, 2)), true);
            Assert.Equal("a,b,c", string.Join(",", Names(result)), "names");
        }

        public static void GlobsMatchDisplayNamesCaseSensitively()
        {
            FakeBitsHost host = Host(true, Job("contentSync", Me, 0), Job("ContentArchive", Me, 0),
                Job("contentSync2", Me, 0), Job("logUpload", Me, 0));
            Assert.Equal("contentSync,contentSync2", string.Join(",", Names(Run(host, true, "content*"))), "content*");
            Assert.Equal("contentSync2", string.Join(",", Names(Run(host, true, "contentSync?"))), "contentSync?");
            Assert.Equal("ContentArchive,logUpload", string.Join(",", Names(Run(host, true, "Content*", "log*"))),
                "two patterns");
            Assert.Equal(0, Jobs(Run(host, true, "CONTENTSYNC")).Count, "another case matches nothing");
        }

        public static void OnlyStarAndQuestionMarkAreSpecial()
        {
            FakeBitsHost host = Host(true, Job("a.b (x)", Me, 0), Job("axb (x)", Me, 0), Job("a+b$", Me, 0),
                Job("{not a guid}", Me, 0));
            Assert.Equal("a.b (x)", string.Join(",", Names(Run(host, true, "a.b (x)"))), "dot and parentheses");
            Assert.Equal("a+b$", string.Join(",", Names(Run(host, true, "a+b$"))), "plus and dollar");
            Assert.Equal("{not a guid}", string.Join(",", Names(Run(host, true, "{not*"))), "braces");
            Assert.Equal(0, Jobs(Run(host, true, "a.b")).Count, "no implicit prefix match");
        }

        // The glob against the regex it replaced (which backtracks), over every pattern and name of up to
        // 5 characters made of a, b, * and ?: the same answer each time.
        public static void GlobsAnswerAsTheEquivalentRegex()
        {
            List<string> words = new List<string> { "" };
            for (int length = 1, start = 0; length <= 5; length++)
            {
                int stop = words.Count;
                for (int index = start; index < stop; index++)
                    foreach (char letter in "ab*?")
                        words.Add(words[index] + letter);
                start = stop;
            }
            int compared = 0;
            foreach (string pattern in words)
            {
                if (pattern.Length == 0)
                    continue;
                NameGlob glob = new NameGlob(pattern);
                System.Text.RegularExpressions.Regex regex = new System.Text.RegularExpressions.Regex(
                    @"\A" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".")
                    + @"\z", System.Text.RegularExpressions.RegexOptions.Singleline);
                foreach (string name in words)
                {
                    if (name.IndexOf('*') >= 0 || name.IndexOf('?') >= 0)
                        continue;
                    Assert.Equal(regex.IsMatch(name), glob.Matches(name), "'" + pattern + "' on '" + name + "'");
                    compared++;
                }
            }
            // 1,364 patterns of 1 to 5 characters, 63 names of 0 to 5 letters.
            Assert.Equal(1364 * 63, compared, "pairs compared");
        }

        // Any user names jobs: a name of 20,000 letters against ten stars is answered, not backtracked
        // through (the regex took longer than any audit would wait).
        public static void AGlobIsMatchedInNameTimesPatternSteps()
        {
            string name = new string('a', 20000);
            Assert.Equal(false, new NameGlob("*a*a*a*a*a*a*a*a*a*a*b").Matches(name), "no b at the end");
            Assert.Equal(true, new NameGlob("*a*a*a*a*a*a*a*a*a*a*").Matches(name), "ten a's somewhere");
            FakeBitsHost host = Host(true, Job(name, Me, 0), Job(name + "b", Me, 0));
            Assert.Equal(1, Jobs(Run(host, true, "*a*a*a*a*a*a*a*a*a*a*b")).Count, "the job ending in b");
        }

        public static void GuidsSelectByIdInAnyForm()
        {
            FakeJob wanted = Job("same", Me, 0);
            FakeBitsHost host = Host(true, wanted, Job("same", Me, 0));
            foreach (string form in new[] { wanted.Id.ToString("B").ToUpperInvariant(), wanted.Id.ToString("D"),
                                            wanted.Id.ToString("B").ToLowerInvariant() })
            {
                Dictionary<string, object> report = Only(Run(host, true, form));
                Assert.Equal(wanted.Id.ToString("B").ToUpperInvariant(), report["id"], "selected by " + form);
            }
        }

        public static void NoMatchIsAnEmptyListNotAnError()
        {
            Dictionary<string, object> result = Run(Host(true, Job("a", Me, 0)), true, "zzz*");
            Assert.Equal(null, result["error"], "error");
            Assert.Equal(0, Jobs(result).Count, "jobs");
        }

        // ---- all_users and access ------------------------------------------------------------------

        public static void AllUsersAsANonAdministratorFailsTheRun()
        {
            Dictionary<string, object> result = Run(Host(false, Job("mine", Me, 0), Job("theirs", Other, 0)), true);
            Dictionary<string, object> error = Field(result, "error");
            Assert.Equal("com_error", error["reason"], "reason");
            Assert.Equal("EnumJobs", error["call"], "call");
            Assert.Equal(AccessDenied, error["hresult"], "hresult");
            Assert.Equal(0, Jobs(result).Count, "no silently shorter list");
        }

        public static void OwnJobsOnlyWithoutAllUsers()
        {
            Dictionary<string, object> result = Run(Host(false, Job("mine", Me, 0), Job("theirs", Other, 0)), false);
            Assert.Equal("mine", string.Join(",", Names(result)), "names");
            Assert.Equal(false, result["all_users"], "all_users");
        }

        public static void AJobThatCannotBeReadIsListedWithTheFailedCall()
        {
            FakeJob locked = Job("locked", Other, 2);
            locked.Faults = new Dictionary<string, int>();
            locked.Faults["GetHelperTokenFlags"] = unchecked((int)AccessDenied);
            FakeJob fine = Job("fine", Me, 1);
            Dictionary<string, object> result = Run(Host(true, locked, fine), true);
            Assert.Equal(null, result["error"], "the run goes on");
            Dictionary<string, object> lockedReport = null, fineReport = null;
            foreach (Dictionary<string, object> report in Jobs(result))
                if ((string)report["name"] == "locked") lockedReport = report; else fineReport = report;
            Dictionary<string, object> readError = Field(lockedReport, "read_error");
            Assert.Equal("com_error", readError["reason"], "reason");
            Assert.Equal("GetHelperTokenFlags", readError["call"], "call");
            Assert.Equal(AccessDenied, readError["hresult"], "hresult");
            Assert.Equal(null, lockedReport["flags_value"], "flags not read");
            Assert.Equal(Other, lockedReport["owner"], "what was read before stays");
            Assert.Equal(1L, fineReport["flags_value"], "the next job is read in full");
            Assert.Equal(null, fineReport["read_error"], "the next job's read_error");
        }

        public static void BitsWithoutTokenOptionsListsJobsWithNullFlags()
        {
            FakeBitsHost host = Host(true, Job("legacy", Me, 0));
            host.BitsMajor = 3;
            Dictionary<string, object> report = Only(Run(host, true));
            Dictionary<string, object> readError = Field(report, "read_error");
            Assert.Equal("no_token_options", readError["reason"], "reason");
            Assert.Equal("QueryInterface(IBitsTokenOptions)", readError["call"], "call");
            Assert.Equal(0x80004002L, readError["hresult"], "hresult");
            Assert.Equal(null, report["flags_value"], "flags");
            Assert.Equal("SUSPENDED", report["state"], "state is still read");
            Assert.Equal(false, report["client_certificate"], "BITS 3.0 has the HTTP options");
        }

        public static void ServiceDisabledIsManagerUnavailable()
        {
            FakeBitsHost host = Host(true, Job("a", Me, 0));
            host.ServiceDisabled = true;
            Dictionary<string, object> error = Field(Run(host, true), "error");
            Assert.Equal("manager_unavailable", error["reason"], "reason");
            Assert.Equal(0x80070422L, error["hresult"], "hresult");
        }

        // ---- job errors ----------------------------------------------------------------------------

        public static void AJobInErrorReportsItsErrorWithContext()
        {
            FakeJob job = Job("contentSync", Me, 3);
            job.State = 4;
            job.ErrorCode = unchecked((int)TokenRequired);
            job.ErrorContext = 5;
            job.ErrorDescription = "  A helper token is required.\r\n";
            Dictionary<string, object> error = Field(Only(Run(Host(true, job), true)), "error");
            Assert.Equal(TokenRequired, error["hresult"], "hresult");
            Assert.Equal("0x80200056", error["hresult_hex"], "hresult_hex");
            Assert.Equal("REMOTE_FILE", error["context"], "context");
            Assert.Number(5, error["context_value"], "context_value");
            Assert.Equal("A helper token is required.", error["description"], "description, trimmed");
        }

        public static void ATransientErrorIsReportedAndADescriptionIsOptional()
        {
            FakeJob job = Job("contentSync", Me, 0);
            job.State = 5;
            job.ErrorCode = unchecked((int)AccessDenied);
            job.ErrorContext = 4;
            Dictionary<string, object> error = Field(Only(Run(Host(true, job), true)), "error");
            Assert.Equal("LOCAL_FILE", error["context"], "context");
            Assert.Equal(null, error["description"], "no description");
        }

        public static void AnErrorStateWithoutErrorInformationHasNoError()
        {
            FakeJob job = Job("contentSync", Me, 0);
            job.State = 4;
            Dictionary<string, object> report = Only(Run(Host(true, job), true));
            Assert.Equal(null, report["error"], "error");
            Assert.Equal(null, report["read_error"], "BG_E_ERROR_INFORMATION_UNAVAILABLE is not a failure");
        }

        public static void AnErrorOutsideTheErrorStatesIsNotRead()
        {
            FakeJob job = Job("contentSync", Me, 0);
            job.ErrorCode = unchecked((int)TokenRequired);
            job.Faults = new Dictionary<string, int>();
            job.Faults["GetError"] = unchecked((int)AccessDenied);
            Dictionary<string, object> report = Only(Run(Host(true, job), true));
            Assert.Equal(null, report["error"], "a suspended job's error");
            Assert.Equal(null, report["read_error"], "GetError was not called");
        }

        // ---- client certificate --------------------------------------------------------------------

        // BITS answers "no certificate" and "you may not see it" alike: only the owner's answer is known.
        public static void ClientCertificateIsKnownOnlyToTheOwner()
        {
            FakeJob own = Job("own", Me, 0);
            FakeJob ownWithCertificate = Job("owncert", Me, 0);
            ownWithCertificate.ClientCertificate = true;
            FakeJob theirs = Job("theirs", Other, 0);
            FakeJob theirsWithCertificate = Job("theircert", Other, 0);
            theirsWithCertificate.ClientCertificate = true;
            Dictionary<string, object> result = Run(Host(true, own, ownWithCertificate, theirs, theirsWithCertificate), true);
            Dictionary<string, object> expected = new Dictionary<string, object>();
            expected["own"] = false;
            expected["owncert"] = true;
            expected["theirs"] = null;
            expected["theircert"] = null;
            foreach (Dictionary<string, object> report in Jobs(result))
                Assert.Equal(expected[(string)report["name"]], report["client_certificate"],
                    "client_certificate of " + report["name"]);
        }

        public static void NoHttpOptionsMeansNoCertificateFacts()
        {
            FakeBitsHost host = Host(true, Job("old", Me, 0));
            host.BitsMajor = 2;
            host.BitsMinor = 0;
            Assert.Equal(null, Only(Run(host, true))["client_certificate"], "BITS 2.0 has no IBackgroundCopyJobHttpOptions");
        }

        // ---- partial failures: each group of facts in its own guard --------------------------------

        // A job in ERROR with every fact set, whose one call `faulty` fails.
        static FakeJob EveryFact(string faulty)
        {
            FakeJob job = Job("contentSync", Me, 3);
            job.State = 4;
            job.Type = 1;
            job.HelperTokenSid = Helper;
            job.CreationTime = new DateTime(2026, 11, 20, 8, 15, 0, DateTimeKind.Utc);
            job.ModificationTime = new DateTime(2026, 11, 21, 9, 0, 30, DateTimeKind.Utc);
            job.ErrorCode = unchecked((int)TokenRequired);
            job.ErrorContext = 5;
            job.ErrorDescription = "A helper token is required.";
            job.Faults = new Dictionary<string, int>();
            if (faulty != null)
                job.Faults[faulty] = unchecked((int)AccessDenied);
            return job;
        }

        static List<object> ReadErrors(Dictionary<string, object> report)
        {
            return (List<object>)report["read_errors"];
        }

        // Which facts each call's failure may cost; every other fact is read all the same, the flags and
        // the helper-token SID above all.
        public static void AFailingCallCostsOnlyItsOwnFacts()
        {
            Dictionary<string, string[]> lost = new Dictionary<string, string[]>();
            lost["GetOwner"] = new[] { "owner", "owner_name", "client_certificate" };
            lost["GetState"] = new[] { "state", "state_value", "error" };
            lost["GetType"] = new[] { "type", "type_value" };
            lost["GetTimes"] = new[] { "creation_time", "modification_time" };
            lost["GetError"] = new[] { "error" };
            lost["IBackgroundCopyError.GetError"] = new[] { "error" };
            lost["GetClientCertificate"] = new[] { "client_certificate" };
            lost["QueryInterface(IBackgroundCopyJobHttpOptions)"] = new[] { "client_certificate" };
            lost["GetHelperTokenFlags"] = new[] { "flags_value", "unknown_flags_value" };
            lost["GetHelperTokenSid"] = new[] { "helper_token_sid", "helper_token_name" };
            lost["QueryInterface(IBitsTokenOptions)"] = new[] {
                "flags_value", "unknown_flags_value", "helper_token_sid", "helper_token_name" };
            Dictionary<string, object> full = Only(Run(Host(true, EveryFact(null)), true));
            Assert.Equal(0, ReadErrors(full).Count, "read_errors without a fault");
            foreach (KeyValuePair<string, string[]> fault in lost)
            {
                FakeJob job = EveryFact(fault.Key);
                job.Id = new Guid((string)full["id"]);
                job.OwnerSid = Me;
                Dictionary<string, object> report = Only(Run(Host(true, job), true));
                string what = fault.Key + " failing: ";
                Assert.Equal(1, ReadErrors(report).Count, what + "read_errors");
                Dictionary<string, object> readError = Field(report, "read_error");
                Assert.Equal(fault.Key, readError["call"], what + "read_error.call");
                Assert.Equal(AccessDenied, readError["hresult"], what + "read_error.hresult");
                Assert.True(object.ReferenceEquals(readError, ReadErrors(report)[0]), what + "the first is read_error");
                foreach (string key in new List<string>(full.Keys))
                {
                    if (key == "read_error" || key == "read_errors")
                        continue;
                    bool mayBeLost = Array.IndexOf(fault.Value, key) >= 0;
                    if (mayBeLost && key != "client_certificate")
                        Assert.Equal(null, report[key], what + key);
                    else if (!mayBeLost && key == "error")
                        Assert.Equal(full["error"] != null, report["error"] != null, what + "error read");
                    else if (!mayBeLost)
                        Assert.Equal(full[key], report[key], what + key);
                }
            }
        }

        public static void EveryFailingCallIsListedWithItsHResult()
        {
            string[] calls = { "GetDisplayName", "GetOwner", "GetState", "GetType", "GetTimes", "GetClientCertificate",
                               "GetHelperTokenFlags", "GetHelperTokenSid" };
            FakeJob job = EveryFact(null);
            foreach (string call in calls)
                job.Faults[call] = unchecked((int)AccessDenied);
            job.Faults["GetTimes"] = unchecked((int)0x800706BA);   // RPC_S_SERVER_UNAVAILABLE
            Dictionary<string, object> report = Only(Run(Host(true, job), true));
            List<string> listed = new List<string>();
            foreach (Dictionary<string, object> failure in ReadErrors(report))
            {
                listed.Add((string)failure["call"]);
                Assert.Equal(job.Id.ToString("B").ToUpperInvariant(), failure["job_id"], "job_id of " + failure["call"]);
                Assert.True(failure["hresult"] != null, "hresult of " + failure["call"]);
            }
            Assert.Equal(string.Join(",", calls), string.Join(",", listed), "the failed calls, in reading order");
            Assert.Equal(0x800706BAL, ((Dictionary<string, object>)ReadErrors(report)[4])["hresult"], "GetTimes' own HRESULT");
            Assert.Equal("GetDisplayName", Field(report, "read_error")["call"], "read_error: the first");
            Assert.Equal(job.Id.ToString("B").ToUpperInvariant(), report["id"], "the id is still read");
            Assert.Equal(null, report["error"], "the state is unknown, so the error is not read");
        }

        // An id that cannot be read: the job is listed (an audit lists what it cannot judge) and every
        // other fact is read.
        public static void AJobWhoseIdCannotBeReadIsReadAllTheSame()
        {
            FakeJob job = EveryFact("GetId");
            Dictionary<string, object> report = Only(Run(Host(true, job), true, "other*"));
            Assert.Equal(null, report["id"], "id");
            Assert.Equal("GetId", Field(report, "read_error")["call"], "read_error.call");
            Assert.Equal(null, Field(report, "read_error")["job_id"], "read_error.job_id");
            Assert.Equal(3L, report["flags_value"], "flags_value");
            Assert.Equal(Helper, report["helper_token_sid"], "helper_token_sid");
        }

        public static void UnknownFlagBitsAreReported()
        {
            FakeJob job = Job("later", Me, 0x7);
            Dictionary<string, object> report = Only(Run(Host(true, job), true));
            Assert.Equal(7L, report["flags_value"], "flags_value: the whole DWORD");
            Assert.Equal(4L, report["unknown_flags_value"], "unknown_flags_value");
            Assert.Equal(0L, Only(Run(Host(true, Job("known", Me, 3)), true))["unknown_flags_value"], "none unknown");
        }

        public static void AnEmptyTokenSidIsNoToken()
        {
            FakeBitsHost host = Host(true, Job("none", Me, 1));
            host.EmptySidWithoutToken = true;
            host.AccountNames[""] = "should never be asked";
            Dictionary<string, object> report = Only(Run(host, true));
            Assert.Equal(null, report["helper_token_sid"], "helper_token_sid");
            Assert.Equal(null, report["helper_token_name"], "helper_token_name");
        }

        // ---- error descriptions in a language BITS has messages for -----------------------------------

        static Dictionary<string, object> ErrorIn(string uiCulture, List<int> messageLanguages, out FakeBitsHost host)
        {
            System.Globalization.CultureInfo previous = System.Threading.Thread.CurrentThread.CurrentUICulture;
            host = Host(true, EveryFact(null));
            host.MessageLanguages = messageLanguages;
            try
            {
                System.Threading.Thread.CurrentThread.CurrentUICulture = new System.Globalization.CultureInfo(uiCulture);
                return Field(Only(Run(host, true)), "error");
            }
            finally
            {
                System.Threading.Thread.CurrentThread.CurrentUICulture = previous;
            }
        }

        public static void WithoutMessagesInTheUiLanguageTheDescriptionIsUsEnglish()
        {
            FakeBitsHost host;
            Dictionary<string, object> error = ErrorIn("fr-FR", new List<int> { 0x0409 }, out host);
            Assert.Equal("A helper token is required.", error["description"], "description");
            Assert.Equal(null, error["description_error"], "description_error");
            Assert.Equal("1036,1033", string.Join(",", host.DescriptionLanguagesAsked), "LANGIDs asked: 0x040C, 0x0409");
        }

        public static void TheUiLanguageIsAskedFirstAndOnce()
        {
            FakeBitsHost host;
            Assert.Equal("A helper token is required.", ErrorIn("de-DE", null, out host)["description"], "description");
            Assert.Equal("1031", string.Join(",", host.DescriptionLanguagesAsked), "LANGIDs asked: 0x0407 only");
            ErrorIn("en-US", new List<int> { 0x0409 }, out host);
            Assert.Equal("1033", string.Join(",", host.DescriptionLanguagesAsked), "US English is not asked twice");
        }

        // The invariant culture (LCID 0x7F) has no messages; LANGID 0 is never asked (BITS refuses it).
        public static void LanguageZeroIsNeverAsked()
        {
            FakeBitsHost host;
            Assert.Equal("A helper token is required.", ErrorIn("", new List<int> { 0x0409 }, out host)["description"],
                "description");
            Assert.True(!host.DescriptionLanguagesAsked.Contains(0), "LanguageId 0 asked");
        }

        public static void WithoutAnyMessageTheDescriptionIsNullAndSaysWhy()
        {
            FakeBitsHost host;
            Dictionary<string, object> error = ErrorIn("fr-FR", new List<int>(), out host);
            Assert.Equal(null, error["description"], "description");
            Dictionary<string, object> failure = (Dictionary<string, object>)error["description_error"];
            Assert.Equal("IBackgroundCopyError.GetErrorDescription(0x0409)", failure["call"], "call");
            Assert.Equal(0x80070717L, failure["hresult"], "ERROR_RESOURCE_LANG_NOT_FOUND");
            Assert.Equal(0x80200056L, error["hresult"], "the error itself is still reported");
        }

        // ---- account names: one lookup, a time budget ---------------------------------------------

        public static void EverySidIsResolvedInOneLookup()
        {
            FakeJob first = Job("a", Me, 0), second = Job("b", LocalSystem, 0), third = Job("c", Me, 0);
            first.HelperTokenSid = Helper;
            third.HelperTokenSid = Helper.ToLowerInvariant();
            FakeBitsHost host = Host(true, first, second, third);
            Dictionary<string, object> result = Run(host, true);
            Assert.Equal(1, host.NameLookups, "lookups");
            Assert.Equal(3, host.NameLookupSids, "distinct SIDs in the lookup");
            foreach (Dictionary<string, object> report in Jobs(result))
                Assert.True(report["owner_name"] != null, "owner_name of " + report["name"]);
            Dictionary<string, object> lookup = Field(result, "name_lookup");
            Assert.Equal(3, lookup["sids"], "name_lookup.sids");
            Assert.Equal(3, lookup["resolved"], "name_lookup.resolved");
            Assert.Equal(0, lookup["unresolved"], "name_lookup.unresolved");
            Assert.Equal(false, lookup["timed_out"], "name_lookup.timed_out");
            Assert.Equal(5.0, lookup["timeout_seconds"], "name_lookup.timeout_seconds (the default)");
            Assert.Equal(null, lookup["error"], "name_lookup.error");
        }

        // 200 jobs of an unreachable domain, whose lookup would take minutes: the task waits its budget
        // and no longer, and still reports every SID and flag.
        public static void ASlowLookupEndsAtTheBudgetAndEveryOtherFactStays()
        {
            List<FakeJob> jobs = new List<FakeJob>();
            for (int index = 0; index < 200; index++)
                jobs.Add(Job("remote" + index, "S-1-5-21-7-7-7-" + (2000 + index), 1));
            FakeBitsHost host = Host(true, jobs.ToArray());
            host.NameLatency = 120;
            host.SlowDomains.Add("S-1-5-21-7-7-7");
            host.AccountNames["S-1-5-21-7-7-7-2000"] = "FAR\\user";
            System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();
            Dictionary<string, object> result = RunWithin(host, 0.5);
            double seconds = clock.Elapsed.TotalSeconds;
            Assert.True(seconds >= 0.5 && seconds < 2.5, "the task took " + seconds + " s for a 0.5 s budget");
            Assert.Equal(null, result["error"], "error");
            Assert.Equal(200, Jobs(result).Count, "jobs");
            foreach (Dictionary<string, object> report in Jobs(result))
            {
                Assert.Equal(null, report["owner_name"], "owner_name");
                Assert.True(((string)report["owner"]).StartsWith("S-1-5-21-7-7-7-"), "owner (the SID) stays");
                Assert.Equal(1L, report["flags_value"], "flags_value");
            }
            Dictionary<string, object> lookup = Field(result, "name_lookup");
            Assert.Equal(true, lookup["timed_out"], "timed_out");
            Assert.Equal(200, lookup["sids"], "sids");
            Assert.Equal(200, lookup["unresolved"], "unresolved");
            Assert.Equal(0.5, lookup["timeout_seconds"], "timeout_seconds");
            Assert.Equal(1, host.NameLookups, "one lookup");
        }

        public static void AFastLookupIsNotCutByASlowHostsRule()
        {
            FakeBitsHost host = Host(true, Job("local", Me, 0));
            host.NameLatency = 120;
            host.SlowDomains.Add("S-1-5-21-7-7-7");
            Dictionary<string, object> result = RunWithin(host, 2);
            Assert.Equal("CORP\\alice", ((Dictionary<string, object>)Jobs(result)[0])["owner_name"], "owner_name");
            Assert.Equal(false, Field(result, "name_lookup")["timed_out"], "timed_out");
        }

        public static void NameTimeoutZeroLooksNoNameUp()
        {
            FakeBitsHost host = Host(true, Job("local", Me, 0));
            Dictionary<string, object> result = RunWithin(host, 0);
            Assert.Equal(0, host.NameLookups, "lookups");
            Assert.Equal(null, ((Dictionary<string, object>)Jobs(result)[0])["owner_name"], "owner_name");
            Assert.Equal(1, Field(result, "name_lookup")["unresolved"], "unresolved");
            Assert.Equal(false, Field(result, "name_lookup")["timed_out"], "timed_out");
        }

        sealed class FailingNames : IAccountNames
        {
            public IDictionary<string, string> Translate(IList<string> sids)
            {
                throw new System.ComponentModel.Win32Exception(1789, "The trust relationship failed");
            }
        }

        public static void AFailingLookupLeavesTheNamesNullAndSaysWhy()
        {
            FakeBitsHost host = Host(true, Job("local", Me, 2));
            Dictionary<string, object> parameters = new Dictionary<string, object>();
            Dictionary<string, object> result = JobInfoModule.Run(host.Factory, host.Caller, new FailingNames(), parameters);
            Assert.Equal(null, result["error"], "error");
            Assert.Equal(2L, ((Dictionary<string, object>)Jobs(result)[0])["flags_value"], "flags_value");
            Dictionary<string, object> failure = Field(Field(result, "name_lookup"), "error");
            Assert.Equal("IdentityReferenceCollection.Translate", failure["call"], "call");
            Assert.Equal("host_exception", failure["reason"], "reason");
            Assert.True(failure["hresult"] != null, "hresult");
        }

        public static void NameTimeoutMustBeSecondsInRange()
        {
            FakeBitsHost host = Host(true, Job("a", Me, 0));
            foreach (object bad in new object[] { "5", -1, double.NaN, 3601, true })
                Assert.Equal("invalid_parameter", Field(RunWithin(host, bad), "error")["reason"], "name_timeout " + bad);
            foreach (object good in new object[] { 2, 2L, 0.25, 3600 })
                Assert.Equal(null, RunWithin(host, good)["error"], "name_timeout " + good);
        }

        // ---- arguments -----------------------------------------------------------------------------

        public static void ArgumentsOfTheWrongShapeAreRefused()
        {
            FakeBitsHost host = Host(true, Job("a", Me, 0));
            Dictionary<string, object> parameters = new Dictionary<string, object>();
            parameters["job"] = "a";
            Dictionary<string, object> error = Field(JobInfoModule.Run(host.Factory, host.Caller, host.Names, parameters),
                "error");
            Assert.Equal("invalid_parameter", error["reason"], "a string job");
            parameters["job"] = new List<object>(new object[] { "" });
            error = Field(JobInfoModule.Run(host.Factory, host.Caller, host.Names, parameters), "error");
            Assert.Equal("invalid_parameter", error["reason"], "an empty pattern");
            parameters["job"] = null;
            parameters["all_users"] = "yes";
            error = Field(JobInfoModule.Run(host.Factory, host.Caller, host.Names, parameters), "error");
            Assert.Equal("invalid_parameter", error["reason"], "a string all_users");
        }

        public static void AnIdentityThatCannotBeReadFailsBeforeBits()
        {
            FakeBitsHost host = Host(true, Job("a", Me, 0));
            host.ServiceDisabled = true;   // BITS would fail differently: it must not be reached
            Dictionary<string, object> result = JobInfoModule.RunAs(
                delegate { throw new System.Security.SecurityException("registry locked"); }, host.Factory, host.Names,
                new Dictionary<string, object>());
            Dictionary<string, object> error = Field(result, "error");
            Assert.Equal("caller_identity", error["reason"], "reason");
            Assert.Equal("CallerIdentity", error["call"], "call");
            Assert.Equal(0, Jobs(result).Count, "jobs");
        }

        public static void AllUsersDefaultsToTrue()
        {
            FakeBitsHost host = Host(true, Job("a", Me, 0), Job("b", Other, 0));
            Dictionary<string, object> result = JobInfoModule.Run(host.Factory, host.Caller, host.Names,
                new Dictionary<string, object>());
            Assert.Equal(true, result["all_users"], "all_users");
            Assert.Equal(2, Jobs(result).Count, "all users' jobs");
        }
    }
}
