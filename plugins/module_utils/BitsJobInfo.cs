// Copyright: (c) 2026, winbits.bits contributors
// GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

// The host-side core of winbits.bits.bits_job_info (docs/host-contract.md, "bits_job_info"): list BITS
// jobs with what an audit needs, in one module run. It never writes. A job some of whose facts cannot
// be read is listed with every fact that could, and each call that failed; only a failure of the manager
// or of the enumeration stops the run. Account names come from one lookup of all the SIDs, under a time
// budget. C# 5 only (docs/dev/design.md section 2); the COM declarations are BitsCom.cs's.

using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text.RegularExpressions;
using ansible_collections.winbits.bits.plugins.module_utils.BitsCom;

namespace ansible_collections.winbits.bits.plugins.module_utils.BitsJobInfo
{
    public static class JobInfoModule
    {
        public static Dictionary<string, object> RunOnHost(IDictionary parameters)
        {
            return RunAs(CallerIdentity.Current, new ComBackgroundCopyManagerFactory(), new WindowsAccountNames(),
                parameters);
        }

        // Who the module runs as is read first; when that fails, the failure is the result's error and
        // BITS is not touched.
        public static Dictionary<string, object> RunAs(Func<CallerIdentity> identity, IBackgroundCopyManagerFactory factory,
            IAccountNames names, IDictionary parameters)
        {
            Failure failure;
            CallerIdentity caller = CallerIdentity.Read(identity, out failure);
            if (failure == null)
                return Run(factory, caller, names, parameters);
            Dictionary<string, object> result = NewResult(null, new List<object>());
            result["error"] = failure.ToDictionary();
            return result;
        }

        static Dictionary<string, object> NewResult(CallerIdentity caller, List<object> jobs)
        {
            Dictionary<string, object> result = new Dictionary<string, object>();
            result["changed"] = false;
            result["caller"] = CallerIdentity.FactsOf(caller);
            result["all_users"] = null;
            result["jobs"] = jobs;
            result["name_lookup"] = null;
            result["error"] = null;
            return result;
        }

        public static Dictionary<string, object> Run(IBackgroundCopyManagerFactory factory, CallerIdentity caller,
            IAccountNames names, IDictionary parameters)
        {
            List<object> jobs = new List<object>();
            Dictionary<string, object> result = NewResult(caller, jobs);
            IBackgroundCopyManager manager = null;
            try
            {
                InfoRequest request = InfoRequest.Parse(parameters);
                result["all_users"] = request.AllUsers;
                manager = JobReading.CreateManager(factory);
                JobLister lister = new JobLister(request, caller, jobs);
                JobReading.Enumerate(manager, request.AllUsers ? Bits.EnumAllUsers : 0, lister.ReadIfSelected);
                result["name_lookup"] = AccountNames.Fill(names, jobs, request.NameTimeout);
            }
            catch (Exception e)
            {
                // Any exception, of any type, is the result's error with its facts.
                result["error"] = Failure.Of(e, null, null).ToDictionary();
            }
            finally
            {
                Bits.Release(manager);
            }
            return result;
        }
    }

    // The module arguments after validation (docs/host-contract.md, "bits_job_info").
    sealed class InfoRequest
    {
        const string GuidDigits = "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}";
        static readonly Regex GuidPattern = new Regex(
            @"\A(?:\{" + GuidDigits + @"\}|" + GuidDigits + @")\z", RegexOptions.CultureInvariant);

        // The default time budget of the account-name lookup, in seconds, and the longest one accepted.
        public const double DefaultNameTimeout = 5;
        public const double MaxNameTimeout = 3600;

        public bool AllUsers;
        public double NameTimeout = DefaultNameTimeout;
        public readonly List<Guid> Ids = new List<Guid>();
        public readonly List<NameGlob> NamePatterns = new List<NameGlob>();
        public bool SelectsAll;

        public static InfoRequest Parse(IDictionary parameters)
        {
            if (parameters == null)
                throw Failure.InvalidParameter("parameters are missing");
            InfoRequest request = new InfoRequest();
            request.AllUsers = ParseAllUsers(parameters.Contains("all_users") ? parameters["all_users"] : null);
            request.NameTimeout = ParseNameTimeout(parameters.Contains("name_timeout") ? parameters["name_timeout"] : null);
            object jobs = parameters.Contains("job") ? parameters["job"] : null;
            if (jobs == null)
            {
                request.SelectsAll = true;
                return request;
            }
            IList items = jobs as IList;
            if (items == null || jobs is string)
                throw Failure.InvalidParameter("'job' must be a list of display-name patterns or GUIDs");
            foreach (object item in items)
                request.Add(item as string);
            return request;
        }

        static bool ParseAllUsers(object value)
        {
            if (value == null)
                return true;
            if (!(value is bool))
                throw Failure.InvalidParameter("'all_users' must be a boolean");
            return (bool)value;
        }

        // Seconds, 0 (no lookup) to MaxNameTimeout; any number type Ansible.Basic hands over.
        static double ParseNameTimeout(object value)
        {
            if (value == null)
                return DefaultNameTimeout;
            if (!(value is int || value is long || value is double || value is float || value is decimal))
                throw Failure.InvalidParameter("'name_timeout' must be a number of seconds");
            double seconds = Convert.ToDouble(value, CultureInfo.InvariantCulture);
            if (double.IsNaN(seconds) || seconds < 0 || seconds > MaxNameTimeout)
                throw Failure.InvalidParameter(string.Format(CultureInfo.InvariantCulture,
                    "'name_timeout' is {0}; expected 0 to {1} seconds", value, MaxNameTimeout));
            return seconds;
        }

        void Add(string item)
        {
            if (string.IsNullOrEmpty(item))
                throw Failure.InvalidParameter("'job' holds an empty or non-string item");
            if (GuidPattern.IsMatch(item))
                Ids.Add(Guid.Parse(item));
            else
                NamePatterns.Add(new NameGlob(item));
        }

        // A job whose id or name could not be read is selected: an audit lists what it cannot judge.
        public bool Selects(Guid? id, string name)
        {
            if (SelectsAll || !id.HasValue || name == null)
                return true;
            if (Ids.Contains(id.Value))
                return true;
            foreach (NameGlob pattern in NamePatterns)
                if (pattern.Matches(name))
                    return true;
            return false;
        }
    }

    // A display-name pattern of the 'job' option. Names are compared ordinally, as bits_helper_token
    // compares them: case counts. Only `*` (any run of characters) and `?` (one character) are special.
    // Matched piece by piece, each text between two stars at its leftmost place, never by a backtracking
    // regex: any user of the host names jobs, and a pattern such as *a*a*a*b against a long name then
    // costs at most name x pattern steps.
    sealed class NameGlob
    {
        readonly string[] pieces;
        readonly int shortest;

        public NameGlob(string pattern)
        {
            pieces = pattern.Split('*');
            foreach (string piece in pieces)
                shortest += piece.Length;
        }

        public bool Matches(string name)
        {
            string head = pieces[0], tail = pieces[pieces.Length - 1];
            if (pieces.Length == 1)
                return name.Length == head.Length && PieceAt(head, name, 0);
            int end = name.Length - tail.Length;
            if (name.Length < shortest || !PieceAt(head, name, 0) || !PieceAt(tail, name, end))
                return false;
            int position = head.Length;
            for (int index = 1; index < pieces.Length - 1; index++)
            {
                position = Find(pieces[index], name, position, end);
                if (position < 0)
                    return false;
                position += pieces[index].Length;
            }
            return true;
        }

        static bool PieceAt(string piece, string name, int start)
        {
            for (int offset = 0; offset < piece.Length; offset++)
                if (piece[offset] != '?' && piece[offset] != name[start + offset])
                    return false;
            return true;
        }

        // The leftmost place from start where the piece fits entirely before end; -1 if none.
        static int Find(string piece, string name, int start, int end)
        {
            for (int at = start; at + piece.Length <= end; at++)
                if (PieceAt(piece, name, at))
                    return at;
            return -1;
        }
    }

    // Reads each selected job of the enumeration into a report; the job objects are released as soon as
    // they are read. Each group of facts is read in its own guard: a call that fails leaves its facts null
    // and is listed in read_errors (the first also in read_error), and the next group is read all the same,
    // so a failing GetError or GetClientCertificate never costs the flags or the helper-token SID.
    sealed class JobLister
    {
        static readonly string[] ReportKeys = {
            "id", "name", "owner", "owner_name", "state", "state_value", "type", "type_value", "flags_value",
            "unknown_flags_value", "helper_token_sid", "helper_token_name", "client_certificate", "creation_time",
            "modification_time", "error", "read_error" };

        readonly InfoRequest request;
        readonly CallerIdentity caller;
        readonly List<object> reports;

        public JobLister(InfoRequest request, CallerIdentity caller, List<object> reports)
        {
            this.request = request;
            this.caller = caller;
            this.reports = reports;
        }

        // Always false: Enumerate releases the job once it has been read.
        public bool ReadIfSelected(IBackgroundCopyJob job)
        {
            Dictionary<string, object> report = NewReport();
            Guid? id = null;
            Guard(report, null, "GetId", delegate { id = ReadId(job, report); });
            string jobId = (string)report["id"];
            Guard(report, jobId, "GetDisplayName", delegate { report["name"] = JobReading.DisplayName(job, jobId); });
            if (!request.Selects(id, report["name"] as string))
                return false;
            reports.Add(report);
            ReadTheRest(job, jobId, report);
            return false;
        }

        static Dictionary<string, object> NewReport()
        {
            Dictionary<string, object> report = new Dictionary<string, object>();
            foreach (string key in ReportKeys)
                report[key] = null;
            report["read_errors"] = new List<object>();
            return report;
        }

        // One group of reads: a failure (of any type) is recorded with its call and HRESULT; `call` names
        // the group when the failure does not name its own.
        static bool Guard(Dictionary<string, object> report, string jobId, string call, Action read)
        {
            try
            {
                read();
                return true;
            }
            catch (Exception e)
            {
                Dictionary<string, object> failure = Failure.Of(e, call, jobId).ToDictionary();
                ((List<object>)report["read_errors"]).Add(failure);
                if (report["read_error"] == null)
                    report["read_error"] = failure;
                return false;
            }
        }

        static Guid ReadId(IBackgroundCopyJob job, Dictionary<string, object> report)
        {
            Guid id = Guid.Empty;
            Bits.Call("GetId", null, delegate { job.GetId(out id); });
            report["id"] = Bits.GuidText(id);
            return id;
        }

        // The token options come last: a BITS without IBitsTokenOptions still reports everything else.
        // The job's error is read only in ERROR or TRANSIENT_ERROR (a state that could not be read: none).
        void ReadTheRest(IBackgroundCopyJob job, string jobId, Dictionary<string, object> report)
        {
            string owner = null;
            uint? state = null;
            Guard(report, jobId, "GetOwner", delegate { owner = ReadOwner(job, jobId, report); });
            Guard(report, jobId, "GetState", delegate { state = ReadState(job, jobId, report); });
            Guard(report, jobId, "GetType", delegate { ReadType(job, jobId, report); });
            Guard(report, jobId, "GetTimes", delegate { ReadTimes(job, jobId, report); });
            if (state == Bits.StateError || state == Bits.StateTransientError)
                Guard(report, jobId, "GetError", delegate { report["error"] = JobError.Read(job, jobId); });
            Guard(report, jobId, "GetClientCertificate", delegate
            {
                report["client_certificate"] = ClientCertificate(job, jobId, owner);
            });
            IBitsTokenOptions options = null;
            if (!Guard(report, jobId, "QueryInterface(IBitsTokenOptions)", delegate
                {
                    options = JobReading.QueryTokenOptions(job, jobId);
                }))
                return;
            Guard(report, jobId, "GetHelperTokenFlags", delegate
            {
                JobReading.ReportFlags(report, "flags_value", JobReading.HelperTokenFlags(options, jobId));
            });
            Guard(report, jobId, "GetHelperTokenSid", delegate
            {
                report["helper_token_sid"] = JobReading.HelperTokenSid(options, jobId);
            });
        }

        static string ReadOwner(IBackgroundCopyJob job, string jobId, Dictionary<string, object> report)
        {
            string owner = null;
            Bits.Call("GetOwner", jobId, delegate { job.GetOwner(out owner); });
            report["owner"] = owner;
            return owner;
        }

        static uint ReadState(IBackgroundCopyJob job, string jobId, Dictionary<string, object> report)
        {
            uint state = 0;
            Bits.Call("GetState", jobId, delegate { job.GetState(out state); });
            report["state"] = Bits.StateName(state);
            report["state_value"] = (int)state;
            return state;
        }

        static void ReadType(IBackgroundCopyJob job, string jobId, Dictionary<string, object> report)
        {
            uint type = 0;
            Bits.Call("GetType", jobId, delegate { job.GetType(out type); });
            report["type"] = Bits.TypeName(type);
            report["type_value"] = (int)type;
        }

        static void ReadTimes(IBackgroundCopyJob job, string jobId, Dictionary<string, object> report)
        {
            BG_JOB_TIMES times = new BG_JOB_TIMES();
            Bits.Call("GetTimes", jobId, delegate { job.GetTimes(out times); });
            report["creation_time"] = IsoUtc(times.CreationTime);
            report["modification_time"] = IsoUtc(times.ModificationTime);
        }

        static readonly long LastFileTime = DateTime.MaxValue.ToFileTimeUtc();

        // FILETIME is UTC in 100 ns ticks since 1601; zero means "not yet". A value past year 9999 is
        // not a time .NET can show: unknown, like zero, rather than an exception that ends the listing.
        internal static string IsoUtc(System.Runtime.InteropServices.ComTypes.FILETIME time)
        {
            long ticks = ((long)(uint)time.dwHighDateTime << 32) | (uint)time.dwLowDateTime;
            if (ticks <= 0 || ticks > LastFileTime)
                return null;
            return DateTime.FromFileTimeUtc(ticks).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        }

        object ClientCertificate(IBackgroundCopyJob job, string jobId, string owner)
        {
            string callerSid = caller == null ? null : caller.Sid;
            return JobReading.ReportValue(JobReading.ClientCertificate(job, jobId, owner, callerSid));
        }
    }

    // owner_name and helper_token_name of every job, from one lookup of all their SIDs under the task's
    // time budget (name_timeout); the lookup's own facts go to the result's name_lookup.
    static class AccountNames
    {
        public static Dictionary<string, object> Fill(IAccountNames names, List<object> reports, double budgetSeconds)
        {
            List<string> sids = new List<string>();
            foreach (Dictionary<string, object> report in reports)
            {
                sids.Add(report["owner"] as string);
                sids.Add(report["helper_token_sid"] as string);
            }
            NameResolution resolution = NameResolution.Run(names, sids, budgetSeconds);
            foreach (Dictionary<string, object> report in reports)
            {
                report["owner_name"] = resolution.NameOf(report["owner"] as string);
                report["helper_token_name"] = resolution.NameOf(report["helper_token_sid"] as string);
            }
            return resolution.ToFacts();
        }
    }

    // The job's last error (IBackgroundCopyError), for a job in ERROR or TRANSIENT_ERROR.
    static class JobError
    {
        public static Dictionary<string, object> Read(IBackgroundCopyJob job, string jobId)
        {
            IBackgroundCopyError error = null;
            try
            {
                job.GetError(out error);
            }
            catch (Exception e)
            {
                // The job left the error state between GetState and GetError: no error to report.
                if (Bits.HResultOf(e) == Bits.ErrorInformationUnavailable)
                    return null;
                throw Failure.ComError("GetError", e, jobId);
            }
            try
            {
                return Describe(error, jobId);
            }
            finally
            {
                Bits.Release(error);
            }
        }

        static Dictionary<string, object> Describe(IBackgroundCopyError error, string jobId)
        {
            uint context = 0;
            int code = 0;
            Bits.Call("IBackgroundCopyError.GetError", jobId, delegate { error.GetError(out context, out code); });
            Dictionary<string, object> facts = new Dictionary<string, object>();
            facts["hresult"] = (long)(uint)code;
            facts["hresult_hex"] = Failure.Hex(code);
            facts["context"] = Bits.ErrorContextName(context);
            facts["context_value"] = (int)context;
            Description(error, jobId, facts);
            return facts;
        }

        // LANGID of US English, which every Windows has BITS' message resources for.
        const uint UsEnglish = 0x0409;

        // Localised and optional: the facts above are what the controller explains. Asked in the UI
        // language first; a host whose UI language has no BITS message resources fails that, so US English
        // is asked next. Never LanguageId 0 (LANG_NEUTRAL), which BITS refuses. When neither answers, the
        // last failure is kept as description_error.
        static void Description(IBackgroundCopyError error, string jobId, Dictionary<string, object> facts)
        {
            uint language = (uint)(CultureInfo.CurrentUICulture.LCID & 0xFFFF);
            Failure failure = null;
            string text = null;
            if (language != 0 && language != UsEnglish)
                text = DescriptionIn(error, language, jobId, ref failure);
            if (text == null)
                text = DescriptionIn(error, UsEnglish, jobId, ref failure);
            facts["description"] = text;
            facts["description_error"] = text == null && failure != null ? failure.ToDictionary() : null;
        }

        static string DescriptionIn(IBackgroundCopyError error, uint language, string jobId, ref Failure failure)
        {
            try
            {
                string text;
                error.GetErrorDescription(language, out text);
                return string.IsNullOrWhiteSpace(text) ? null : text.Trim();
            }
            catch (Exception e)
            {
                failure = Failure.ComError(string.Format(CultureInfo.InvariantCulture,
                    "IBackgroundCopyError.GetErrorDescription(0x{0:X4})", language), e, jobId);
                return null;
            }
        }
    }
}
