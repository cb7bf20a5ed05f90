// Copyright: (c) 2026, winbits.bits contributors
// GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

// The host-side core of winbits.bits.bits_helper_token (docs/host-contract.md): find BITS jobs, read
// their helper-token flags, write them when they differ, read them back and report facts. The COM
// declarations and the reading of a job are BitsCom.cs's (Ansible sends it along because of the `using`
// below). C# 5 only: Windows PowerShell 5.1 compiles this with the .NET Framework csc (docs/dev/design.md section 2).

using System;
using System.Collections;
using System.Collections.Generic;
using System.Text.RegularExpressions;
using ansible_collections.winbits.bits.plugins.module_utils.BitsCom;

namespace ansible_collections.winbits.bits.plugins.module_utils.BitsHelperToken
{
    public static class HelperTokenModule
    {
        public static Dictionary<string, object> RunOnHost(IDictionary parameters, bool checkMode)
        {
            return RunAs(CallerIdentity.Current, new ComBackgroundCopyManagerFactory(), parameters, checkMode);
        }

        // Who the module runs as is read first; when that fails, the failure is the result's error and
        // BITS is not touched.
        public static Dictionary<string, object> RunAs(Func<CallerIdentity> identity, IBackgroundCopyManagerFactory factory,
            IDictionary parameters, bool checkMode)
        {
            Failure failure;
            CallerIdentity caller = CallerIdentity.Read(identity, out failure);
            if (failure == null)
                return Run(factory, caller, parameters, checkMode);
            Dictionary<string, object> result = NewResult(null, new List<object>());
            result["error"] = failure.ToDictionary();
            return result;
        }

        static Dictionary<string, object> NewResult(CallerIdentity caller, List<object> reports)
        {
            Dictionary<string, object> result = new Dictionary<string, object>();
            result["changed"] = false;
            result["caller"] = CallerIdentity.FactsOf(caller);
            result["desired_flags_value"] = null;
            result["desired_helper_token"] = null;
            result["jobs"] = reports;
            result["error"] = null;
            return result;
        }

        public static Dictionary<string, object> Run(IBackgroundCopyManagerFactory factory, CallerIdentity caller,
            IDictionary parameters, bool checkMode)
        {
            List<object> reports = new List<object>();
            Dictionary<string, object> result = NewResult(caller, reports);
            Execution execution = new Execution(reports, checkMode, caller == null ? null : caller.Sid);
            try
            {
                Request request = Request.Parse(parameters);
                if (request.Flags.HasValue)
                    result["desired_flags_value"] = (long)request.Flags.Value;
                result["desired_helper_token"] = request.HelperToken.ToString().ToLowerInvariant();
                execution.Run(factory, request);
            }
            catch (Exception e)
            {
                // Any exception, of any type, is the result's error with its facts; the writes of this
                // run were undone before it got here (Writer.Apply).
                result["error"] = Failure.Of(e, null, null).ToDictionary();
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
        public TokenAction HelperToken;

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
            request.HelperToken = ParseTokenAction(parameters.Contains("helper_token") ? parameters["helper_token"] : null);
            return request;
        }

        static TokenAction ParseTokenAction(object value)
        {
            if (value == null)
                return TokenAction.Keep;
            string text = value as string;
            if (string.Equals(text, "keep", StringComparison.OrdinalIgnoreCase))
                return TokenAction.Keep;
            if (string.Equals(text, "absent", StringComparison.OrdinalIgnoreCase))
                return TokenAction.Absent;
            if (string.Equals(text, "caller", StringComparison.OrdinalIgnoreCase))
                return TokenAction.Caller;
            throw Failure.InvalidParameter(string.Format("'helper_token' is '{0}'; expected keep, absent or caller", value));
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

    enum TokenAction
    {
        Keep,
        Absent,
        Caller,
    }

    enum TokenChange
    {
        None,
        Set,
        Clear,
    }

    // One job found, with the COM objects, the facts read from it and what this run will write.
    sealed class JobEntry
    {
        public readonly IBackgroundCopyJob Job;
        public readonly Dictionary<string, object> Report = new Dictionary<string, object>();
        public IBitsTokenOptions Options;
        public string Id;
        public string Owner;
        public uint PreviousFlags;
        public string PreviousSid;
        public CertificateFact Certificate;
        public bool WritesFlags;
        public TokenChange TokenChange;
        public int Writes;
        public int Undone;

        public JobEntry(IBackgroundCopyJob job)
        {
            Job = job;
            foreach (string key in new[] { "id", "name", "owner", "state", "state_value", "previous_helper_token_sid",
                                           "helper_token_sid", "client_certificate", "previous_flags_value",
                                           "flags_value", "unknown_flags_value" })
                Report[key] = null;
            Report["changed"] = false;
            Report["flags_changed"] = false;
            Report["helper_token_changed"] = false;
            Report["client_certificate_forced"] = false;
            Report["rolled_back"] = false;
        }
    }

    // One module run: find, read, preflight, write, read back (docs/host-contract.md, "Order of work").
    sealed class Execution
    {
        readonly List<object> reports;
        readonly bool checkMode;
        readonly string callerSid;
        readonly List<JobEntry> entries = new List<JobEntry>();
        IBackgroundCopyManager manager;

        public Execution(List<object> reports, bool checkMode, string callerSid)
        {
            this.reports = reports;
            this.checkMode = checkMode;
            this.callerSid = callerSid;
        }

        public void Run(IBackgroundCopyManagerFactory factory, Request request)
        {
            manager = JobReading.CreateManager(factory);
            FindJobs(request);
            foreach (JobEntry entry in entries)
                ReadJob(entry);
            if (!request.Flags.HasValue && request.HelperToken == TokenAction.Keep)
                return;
            // Every job is read and checked before the first write, so a refusal changes nothing.
            foreach (JobEntry entry in entries)
            {
                if (request.Flags.HasValue)
                    Preflight(entry, request.Flags.Value, request.Force);
                // Only the flags this collection knows are compared (and written): a bit a later BITS
                // defines is kept as it is.
                entry.WritesFlags = request.Flags.HasValue
                    && (entry.PreviousFlags & Bits.KnownTokenFlags) != request.Flags.Value;
                entry.TokenChange = TokenChangeFor(request.HelperToken, entry.PreviousSid);
            }
            new Writer(checkMode, callerSid).Apply(entries, request.Flags);
        }

        // caller: set unless the job's token is already the caller's; absent: clear a token that is there.
        TokenChange TokenChangeFor(TokenAction action, string currentSid)
        {
            if (action == TokenAction.Caller && !Bits.SameSid(currentSid, callerSid))
                return TokenChange.Set;
            if (action == TokenAction.Absent && currentSid != null)
                return TokenChange.Clear;
            return TokenChange.None;
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
            JobReading.Enumerate(manager, enumFlags, delegate(IBackgroundCopyJob job)
            {
                if (!string.Equals(JobReading.DisplayName(job, null), name, StringComparison.Ordinal))
                    return false;
                entries.Add(new JobEntry(job));
                return true;
            });
        }

        // The report joins the result before it is filled, so a failure still shows what was read.
        void ReadIdentity(JobEntry entry)
        {
            reports.Add(entry.Report);
            JobIdentity identity = JobReading.ReadIdentity(entry.Job, entry.Report);
            entry.Id = identity.Id;
            entry.Owner = identity.Owner;
        }

        void ReadJob(JobEntry entry)
        {
            ReadIdentity(entry);
            IBitsTokenOptions options = JobReading.QueryTokenOptions(entry.Job, entry.Id);
            entry.Options = options;
            uint flags = JobReading.HelperTokenFlags(options, entry.Id);
            entry.PreviousFlags = flags;
            entry.Report["previous_flags_value"] = (long)flags;
            JobReading.ReportFlags(entry.Report, "flags_value", flags);
            string helperSid = JobReading.HelperTokenSid(options, entry.Id);
            entry.PreviousSid = helperSid;
            entry.Report["previous_helper_token_sid"] = helperSid;
            entry.Report["helper_token_sid"] = helperSid;
            entry.Certificate = JobReading.ClientCertificate(entry.Job, entry.Id, entry.Owner, callerSid);
            entry.Report["client_certificate"] = JobReading.ReportValue(entry.Certificate);
        }

        // The one write the docs say breaks a job: NETWORK added while a client certificate is set and the
        // owner is not LocalSystem fails the job with 0x80072F9A (docs/dev/design.md section 3). A certificate the caller
        // cannot see is treated as one that may be there: refused without force, never assumed absent.
        static void Preflight(JobEntry entry, uint desired, bool force)
        {
            bool addsNetwork = (desired & Bits.TokenNetwork) != 0 && (entry.PreviousFlags & Bits.TokenNetwork) == 0;
            bool mayHaveCertificate = entry.Certificate == CertificateFact.Present
                || entry.Certificate == CertificateFact.Unknown;
            if (!addsNetwork || !mayHaveCertificate
                || string.Equals(entry.Owner, Bits.LocalSystemSid, StringComparison.OrdinalIgnoreCase))
                return;
            if (!force && entry.Certificate == CertificateFact.Unknown)
                throw new Failure("client_certificate_unknown", null, null, entry.Id, string.Format(
                    "Cannot tell whether job {0} has a client certificate (only its owner {1} can see it); with one, "
                    + "setting network would fail the job with 0x80072F9A", entry.Id, entry.Owner));
            if (!force)
                throw new Failure("client_certificate", null, null, entry.Id, string.Format(
                    "Setting network on job {0} would fail it with 0x80072F9A: it has a client certificate and "
                    + "its owner {1} is not LocalSystem", entry.Id, entry.Owner));
            entry.Report["client_certificate_forced"] = true;
        }

    }

    // The writes of one run: flags first, then the token, job by job; on a failure, what this run wrote is
    // undone in reverse (docs/host-contract.md, "Order of work").
    sealed class Writer
    {
        sealed class Write
        {
            public JobEntry Entry;
            public bool Token;   // false: the flags
        }

        readonly bool checkMode;
        readonly string callerSid;
        readonly List<Write> done = new List<Write>();

        public Writer(bool checkMode, string callerSid)
        {
            this.checkMode = checkMode;
            this.callerSid = callerSid;
        }

        public void Apply(List<JobEntry> entries, uint? desiredFlags)
        {
            foreach (JobEntry entry in entries)
            {
                if (!entry.WritesFlags && entry.TokenChange == TokenChange.None)
                    continue;
                if (checkMode)
                {
                    MarkChanged(entry, entry.WritesFlags, entry.TokenChange != TokenChange.None);
                    continue;
                }
                string step = null;   // what an exception that names no call happened in
                try
                {
                    if (entry.WritesFlags)
                    {
                        step = "SetHelperTokenFlags";
                        WriteFlags(entry, desiredFlags.Value);
                    }
                    if (entry.TokenChange != TokenChange.None)
                    {
                        step = entry.TokenChange == TokenChange.Set ? "SetHelperToken" : "ClearHelperToken";
                        WriteToken(entry);
                    }
                }
                catch (Exception e)
                {
                    Failure failure = Failure.Of(e, step, entry.Id);
                    // A read-back that differs means someone else wrote this job meanwhile: theirs is the
                    // newer intent, so this job is left as it is; the other jobs of the run are restored.
                    RollBack(failure.Reason == "readback_mismatch" ? entry : null);
                    throw failure;
                }
            }
        }

        static void MarkChanged(JobEntry entry, bool flags, bool token)
        {
            entry.Report["changed"] = true;
            if (flags)
                entry.Report["flags_changed"] = true;
            if (token)
                entry.Report["helper_token_changed"] = true;
        }

        void Done(JobEntry entry, bool token)
        {
            Write write = new Write();
            write.Entry = entry;
            write.Token = token;
            done.Add(write);
            entry.Writes++;
            MarkChanged(entry, !token, token);
        }

        // Writes the desired flags with the job's unknown bits as they were, then reads back: the known
        // bits must be the desired ones, or someone else wrote in between (readback_mismatch).
        void WriteFlags(JobEntry entry, uint desired)
        {
            IBitsTokenOptions options = entry.Options;
            uint written = desired | (entry.PreviousFlags & ~Bits.KnownTokenFlags);
            Bits.Call("SetHelperTokenFlags", entry.Id, delegate { options.SetHelperTokenFlags(written); });
            Done(entry, false);
            uint readBack = JobReading.HelperTokenFlags(options, entry.Id);
            JobReading.ReportFlags(entry.Report, "flags_value", readBack);
            if ((readBack & Bits.KnownTokenFlags) != desired)
                throw new Failure("readback_mismatch", "GetHelperTokenFlags", null, entry.Id, string.Format(
                    "Job {0}: wrote flags 0x{1:X}, read back 0x{2:X}", entry.Id, written, readBack));
        }

        // Sets or clears the token, then reads it back: set, the caller's SID; cleared, none.
        void WriteToken(JobEntry entry)
        {
            IBitsTokenOptions options = entry.Options;
            if (entry.TokenChange == TokenChange.Set)
            {
                ProxySecurity.AllowImpersonation(options, entry.Id);
                Bits.Call("SetHelperToken", entry.Id, delegate { options.SetHelperToken(); });
            }
            else
            {
                Bits.Call("ClearHelperToken", entry.Id, delegate { options.ClearHelperToken(); });
            }
            Done(entry, true);
            string readBack = JobReading.HelperTokenSid(options, entry.Id);
            entry.Report["helper_token_sid"] = readBack;
            string expected = entry.TokenChange == TokenChange.Set ? callerSid : null;
            if (!Bits.SameSid(readBack, expected))
                throw new Failure("readback_mismatch", "GetHelperTokenSid", null, entry.Id, string.Format(
                    "Job {0}: {1} the helper token, read back {2}", entry.Id,
                    entry.TokenChange == TokenChange.Set ? "set" : "cleared", readBack ?? "none"));
        }

        // Best effort, newest write first. A job all of whose writes were undone ends as it began: it
        // reports rolled_back and no change. A token of another user cannot be put back (BITS sets only
        // the caller's own token), so such a job keeps changed true and rolled_back false. `keep` (the job
        // whose read-back differed, or null) is not written again: someone else is writing it.
        void RollBack(JobEntry keep)
        {
            for (int index = done.Count - 1; index >= 0; index--)
            {
                JobEntry entry = done[index].Entry;
                if (entry != keep && (done[index].Token ? UndoToken(entry) : UndoFlags(entry)))
                    entry.Undone++;
            }
            foreach (Write write in done)
            {
                JobEntry entry = write.Entry;
                if (entry == keep || entry.Undone != entry.Writes)
                    continue;
                entry.Report["rolled_back"] = true;
                entry.Report["changed"] = false;
                entry.Report["flags_changed"] = false;
                entry.Report["helper_token_changed"] = false;
            }
            done.Clear();
        }

        static bool UndoFlags(JobEntry entry)
        {
            try
            {
                entry.Options.SetHelperTokenFlags(entry.PreviousFlags);
            }
            catch (Exception)
            {
                return false;
            }
            JobReading.ReportFlags(entry.Report, "flags_value", entry.PreviousFlags);
            return true;
        }

        bool UndoToken(JobEntry entry)
        {
            try
            {
                if (entry.PreviousSid == null)
                    entry.Options.ClearHelperToken();
                else if (Bits.SameSid(entry.PreviousSid, callerSid))
                {
                    ProxySecurity.AllowImpersonation(entry.Options, entry.Id);
                    entry.Options.SetHelperToken();
                }
                else
                    return false;
            }
            catch (Exception)
            {
                return false;
            }
            entry.Report["helper_token_sid"] = entry.PreviousSid;
            return true;
        }
    }
}
