// Copyright: (c) 2026, winbits.bits contributors
// GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

// The host-side core of winbits.bits.bits_job_info (docs/host-contract.md, "bits_job_info"): list BITS
// jobs with what an audit needs, in one module run. It never writes. A job that cannot be read to the
// end is listed with what was read and the call that failed; only a failure of the manager or of the
// enumeration stops the run. C# 5 only (docs/dev/design.md section 2); the COM declarations are BitsCom.cs's.

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
                JobLister lister = new JobLister(request, caller, names, jobs);
                JobReading.Enumerate(manager, request.AllUsers ? Bits.EnumAllUsers : 0, lister.ReadIfSelected);
            }
            catch (Failure failure)
            {
                result["error"] = failure.ToDictionary();
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

        public bool AllUsers;
        public readonly List<Guid> Ids = new List<Guid>();
        public readonly List<Regex> NamePatterns = new List<Regex>();
        public bool SelectsAll;

        public static InfoRequest Parse(IDictionary parameters)
        {
            if (parameters == null)
                throw Failure.InvalidParameter("parameters are missing");
            InfoRequest request = new InfoRequest();
            request.AllUsers = ParseAllUsers(parameters.Contains("all_users") ? parameters["all_users"] : null);
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

        void Add(string item)
        {
            if (string.IsNullOrEmpty(item))
                throw Failure.InvalidParameter("'job' holds an empty or non-string item");
            if (GuidPattern.IsMatch(item))
                Ids.Add(Guid.Parse(item));
            else
                NamePatterns.Add(GlobToRegex(item));
        }

        // Display names are compared ordinally, as bits_helper_token compares them: case counts. Only `*`
        // and `?` are special; everything else in the name is a literal character.
        static Regex GlobToRegex(string glob)
        {
            string escaped = Regex.Escape(glob).Replace(@"\*", ".*").Replace(@"\?", ".");
            return new Regex(@"\A" + escaped + @"\z", RegexOptions.CultureInvariant | RegexOptions.Singleline);
        }

        // A job whose id or name could not be read is selected: an audit lists what it cannot judge.
        public bool Selects(Guid? id, string name)
        {
            if (SelectsAll || !id.HasValue || name == null)
                return true;
            if (Ids.Contains(id.Value))
                return true;
            foreach (Regex pattern in NamePatterns)
                if (pattern.IsMatch(name))
                    return true;
            return false;
        }
    }

    // Reads each selected job of the enumeration into a report; the job objects are released as soon as
    // they are read.
    sealed class JobLister
    {
        static readonly string[] ReportKeys = {
            "id", "name", "owner", "owner_name", "state", "state_value", "type", "type_value", "flags_value",
            "helper_token_sid", "helper_token_name", "client_certificate", "creation_time", "modification_time",
            "error", "read_error" };

        readonly InfoRequest request;
        readonly CallerIdentity caller;
        readonly IAccountNames names;
        readonly List<object> reports;

        public JobLister(InfoRequest request, CallerIdentity caller, IAccountNames names, List<object> reports)
        {
            this.request = request;
            this.caller = caller;
            this.names = names;
            this.reports = reports;
        }

        // Always false: Enumerate releases the job once it has been read.
        public bool ReadIfSelected(IBackgroundCopyJob job)
        {
            Dictionary<string, object> report = NewReport();
            Guid? id = null;
            try
            {
                id = ReadId(job, report);
                report["name"] = JobReading.DisplayName(job, (string)report["id"]);
            }
            catch (Failure failure)
            {
                report["read_error"] = failure.ToDictionary();
            }
            if (!request.Selects(id, report["name"] as string))
                return false;
            reports.Add(report);
            if (report["read_error"] == null)
                ReadTheRest(job, report);
            return false;
        }

        static Dictionary<string, object> NewReport()
        {
            Dictionary<string, object> report = new Dictionary<string, object>();
            foreach (string key in ReportKeys)
                report[key] = null;
            return report;
        }

        static Guid ReadId(IBackgroundCopyJob job, Dictionary<string, object> report)
        {
            Guid id = Guid.Empty;
            Bits.Call("GetId", null, delegate { job.GetId(out id); });
            report["id"] = Bits.GuidText(id);
            return id;
        }

        // Owner, state, type, times and error first, the token options last: a BITS without
        // IBitsTokenOptions still reports everything else.
        void ReadTheRest(IBackgroundCopyJob job, Dictionary<string, object> report)
        {
            string jobId = (string)report["id"];
            try
            {
                string owner = ReadOwner(job, jobId, report);
                uint state = ReadState(job, jobId, report);
                ReadType(job, jobId, report);
                ReadTimes(job, jobId, report);
                if (state == Bits.StateError || state == Bits.StateTransientError)
                    report["error"] = JobError.Read(job, jobId);
                report["client_certificate"] = ClientCertificate(job, jobId, owner);
                ReadTokenOptions(job, jobId, report);
            }
            catch (Failure failure)
            {
                report["read_error"] = failure.ToDictionary();
            }
        }

        string ReadOwner(IBackgroundCopyJob job, string jobId, Dictionary<string, object> report)
        {
            string owner = null;
            Bits.Call("GetOwner", jobId, delegate { job.GetOwner(out owner); });
            report["owner"] = owner;
            report["owner_name"] = names.NameOf(owner);
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

        void ReadTokenOptions(IBackgroundCopyJob job, string jobId, Dictionary<string, object> report)
        {
            IBitsTokenOptions options = JobReading.QueryTokenOptions(job, jobId);
            uint flags = 0;
            string helperSid = null;
            Bits.Call("GetHelperTokenFlags", jobId, delegate { options.GetHelperTokenFlags(out flags); });
            report["flags_value"] = (long)flags;
            Bits.Call("GetHelperTokenSid", jobId, delegate { options.GetHelperTokenSid(out helperSid); });
            report["helper_token_sid"] = helperSid;
            report["helper_token_name"] = names.NameOf(helperSid);
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
            facts["description"] = Description(error);
            return facts;
        }

        // Localised and optional: the facts above are what the controller explains.
        static string Description(IBackgroundCopyError error)
        {
            try
            {
                string text;
                error.GetErrorDescription((uint)(CultureInfo.CurrentUICulture.LCID & 0xFFFF), out text);
                return text == null ? null : text.Trim();
            }
            catch (Exception)
            {
                return null;
            }
        }
    }
}
