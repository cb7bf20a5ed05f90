// The simulated Windows host's module process (tests/sim/bits_runner.py keeps a few warm per build).
// It stands where powershell.exe + the module's .ps1 + Ansible.Basic stand on Windows: it builds the
// host's fake BITS from the request, calls the REAL core (HelperTokenModule.Run or JobInfoModule.Run,
// compiled from the C# utils Ansible sent) as the .ps1 glue does, and prints the module's result the way
// Ansible.Basic's ExitJson/FailJson would. It never decides anything the core decides. Each module's
// call is compiled only when its core was sent (bits_runner.py defines HELPER_TOKEN / JOB_INFO), and the
// fake BITS only when BitsCom was sent (BITS_COM): the benchmark's no-op module sends no util at all.
//
// Requests (bits_runner.py):
//   {"kind": "module", "module", "host", "caller", "params", "check_mode", "invocation"}
//   {"kind": "noop", "params", "check_mode", "invocation"}: Ansible.Basic's Create() then ExitJson()
// Envelope: {"stdout": <the module's output line>, "exit_code": n, "host": <new host state, null for noop>}
//
// One-shot mode (no argument): one request on stdin, one envelope on stdout, exit.
// Server mode (--serve): one request per line on stdin, one envelope per line on stdout (UTF-8), until
// stdin closes. A request that cannot be handled answers {"error": "..."} and the process carries on.
// Every request builds its own fake BITS, so nothing of one request reaches the next.

using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Web.Script.Serialization;
#if BITS_COM
using ansible_collections.winbits.bits.plugins.module_utils.BitsCom;
#endif
#if HELPER_TOKEN
using ansible_collections.winbits.bits.plugins.module_utils.BitsHelperToken;
#endif
#if JOB_INFO
using ansible_collections.winbits.bits.plugins.module_utils.BitsJobInfo;
#endif
#if BITS_COM
using WinBits.Testing;
#endif

namespace WinBits.Sim
{
    public static class SimHost
    {
        public static int Main(string[] args)
        {
            JavaScriptSerializer json = NewSerializer();
            if (args.Length == 1 && args[0] == "--serve")
                return Serve(json);
            if (args.Length != 0)
            {
                Console.Error.WriteLine("usage: SimHost.exe [--serve]");
                return 2;
            }
            Console.Out.Write(json.Serialize(Handle(json, Console.In.ReadToEnd())));
            return 0;
        }

        static int Serve(JavaScriptSerializer json)
        {
            // Explicit UTF-8 both ways: Mono's console encoding follows the locale, which may be C.
            UTF8Encoding utf8 = new UTF8Encoding(false);
            using (StreamReader input = new StreamReader(Console.OpenStandardInput(), utf8))
            using (StreamWriter output = new StreamWriter(Console.OpenStandardOutput(), utf8))
            {
                string line;
                while ((line = input.ReadLine()) != null)
                {
                    if (line.Length == 0)
                        continue;
                    Dictionary<string, object> envelope;
                    try
                    {
                        envelope = Handle(json, line);
                    }
                    catch (Exception e)
                    {
                        // A malformed request (a simulator bug): say so and stay up for the next one.
                        envelope = new Dictionary<string, object>();
                        envelope["error"] = e.ToString();
                    }
                    // JavaScriptSerializer escapes line breaks inside strings: one envelope, one line.
                    output.Write(json.Serialize(envelope));
                    output.Write('\n');
                    output.Flush();
                }
            }
            return 0;
        }

        static Dictionary<string, object> Handle(JavaScriptSerializer json, string text)
        {
            Dictionary<string, object> request = (Dictionary<string, object>)json.DeserializeObject(text);
            Hashtable parameters = ToParams((Dictionary<string, object>)request["params"]);
            bool checkMode = (bool)request["check_mode"];
            string kind = (string)request["kind"];
            Dictionary<string, object> envelope = new Dictionary<string, object>();
            int exitCode;
            if (kind == "noop")
            {
                envelope["stdout"] = ExitJson(json, new Dictionary<string, object>(), parameters, request["invocation"],
                    out exitCode);
                envelope["host"] = null;
            }
            else if (kind == "module")
            {
                RunModuleOnHost(json, request, parameters, checkMode, envelope, out exitCode);
            }
            else
            {
                throw new ArgumentException("unknown request kind " + kind + "; expected module or noop");
            }
            envelope["exit_code"] = exitCode;
            return envelope;
        }

#if BITS_COM
        static void RunModuleOnHost(JavaScriptSerializer json, Dictionary<string, object> request, Hashtable parameters,
            bool checkMode, Dictionary<string, object> envelope, out int exitCode)
        {
            Dictionary<string, object> state = (Dictionary<string, object>)request["host"];
            FakeBitsHost host = BuildHost(state, (Dictionary<string, object>)request["caller"]);
            string module = (string)request["module"];
            // The module runs under the host's display language, as on Windows, where it decides which
            // language BITS' error descriptions are asked in first; a warm process gets its own back.
            System.Globalization.CultureInfo previous = System.Threading.Thread.CurrentThread.CurrentUICulture;
            try
            {
                System.Threading.Thread.CurrentThread.CurrentUICulture =
                    new System.Globalization.CultureInfo((string)state["language"]);
                envelope["stdout"] = RunModule(json, module, host, parameters, checkMode, request["invocation"],
                    out exitCode);
            }
            finally
            {
                System.Threading.Thread.CurrentThread.CurrentUICulture = previous;
            }
            envelope["host"] = DescribeHost(host);
        }
#else
        static void RunModuleOnHost(JavaScriptSerializer json, Dictionary<string, object> request, Hashtable parameters,
            bool checkMode, Dictionary<string, object> envelope, out int exitCode)
        {
            throw new InvalidOperationException("BitsCom was not sent: no module core can run on this host");
        }
#endif

        // Ansible.Basic's Result handling around a module's own result: Result starts as {changed: false};
        // an Ansible.Basic older than 2.19 adds invocation in its constructor (the request then carries
        // "invocation": "constructor"), a newer one adds it at exit only when _ansible_inject_invocation
        // asked ("exit"). A core's error becomes FailJson.
        static string ExitJson(JavaScriptSerializer json, Dictionary<string, object> core, Hashtable parameters,
            object invocation, out int exitCode)
        {
            Dictionary<string, object> result = new Dictionary<string, object>();
            result["changed"] = false;
            if ("constructor".Equals(invocation))
                result["invocation"] = Invocation(parameters);
            foreach (KeyValuePair<string, object> entry in core)
                result[entry.Key] = entry.Value;

            Dictionary<string, object> error = core.ContainsKey("error") ? core["error"] as Dictionary<string, object> : null;
            exitCode = 0;
            if (error != null)
            {
                result["failed"] = true;
                result["msg"] = error["message"];
                exitCode = 1;
            }
            if ("exit".Equals(invocation) && !result.ContainsKey("invocation"))
                result["invocation"] = Invocation(parameters);
            return json.Serialize(result);
        }

#if BITS_COM
        // What the module's .ps1 does between AnsibleModule.Create and the exit.
        static string RunModule(JavaScriptSerializer json, string module, FakeBitsHost host, Hashtable parameters,
            bool checkMode, object invocation, out int exitCode)
        {
            Dictionary<string, object> core;
            try
            {
                core = RunCore(module, host, parameters, checkMode);
            }
            catch (Exception e)
            {
                // A bug in the core: PowerShell wraps a .NET exception of a static method call this way,
                // and module_wrapper.ps1 reports it.
                Dictionary<string, object> crash = new Dictionary<string, object>();
                crash["failed"] = true;
                crash["msg"] = string.Format(
                    "Unhandled exception while executing module: Exception calling \"RunOnHost\" with \"{0}\" argument(s): \"{1}\"",
                    module == "bits_job_info" ? 1 : 2, e.Message);
                crash["exception"] = e.ToString();
                exitCode = 1;
                return json.Serialize(crash);
            }
            return ExitJson(json, core, parameters, invocation, out exitCode);
        }

        // The .ps1's one call, with the fake in place of the real manager, identity and account lookup.
        static Dictionary<string, object> RunCore(string module, FakeBitsHost host, Hashtable parameters, bool checkMode)
        {
#if HELPER_TOKEN
            if (module == "bits_helper_token")
                return HelperTokenModule.Run(host.Factory, host.Caller, parameters, checkMode);
#endif
#if JOB_INFO
            if (module == "bits_job_info")
                return JobInfoModule.Run(host.Factory, host.Caller, host.Names, parameters);
#endif
            throw new InvalidOperationException("the core of " + module + " was not sent");
        }
#endif

        static Dictionary<string, object> Invocation(Hashtable parameters)
        {
            Dictionary<string, object> invocation = new Dictionary<string, object>();
            invocation["module_args"] = parameters;
            return invocation;
        }

        // $module.Params after Ansible.Basic's validation: a Hashtable, lists as List<object>.
        static Hashtable ToParams(Dictionary<string, object> raw)
        {
            Hashtable parameters = new Hashtable();
            foreach (KeyValuePair<string, object> entry in raw)
                parameters[entry.Key] = ToBasicValue(entry.Value);
            return parameters;
        }

        static object ToBasicValue(object value)
        {
            object[] array = value as object[];
            if (array == null)
            {
                ArrayList arrayList = value as ArrayList;
                if (arrayList != null)
                    array = arrayList.ToArray();
            }
            if (array == null)
                return value;
            List<object> list = new List<object>();
            foreach (object item in array)
                list.Add(ToBasicValue(item));
            return list;
        }

#if BITS_COM
        static FakeBitsHost BuildHost(Dictionary<string, object> state, Dictionary<string, object> caller)
        {
            FakeBitsHost host = new FakeBitsHost();
            host.OsBuild = Convert.ToInt32(state["os_build"]);
            host.BitsMajor = Convert.ToInt32(state["bits_major"]);
            host.BitsMinor = Convert.ToInt32(state["bits_minor"]);
            host.ServiceDisabled = (bool)state["service_disabled"];
            host.RefuseNetworkLogon = (bool)state["refuse_network_logon"];
            host.CallerSid = (string)caller["sid"];
            host.CallerIsAdmin = (bool)caller["is_admin"];
            host.CallerNetworkLogon = (bool)caller["network_logon"];
            foreach (KeyValuePair<string, object> account in (Dictionary<string, object>)state["accounts"])
                host.AccountNames[account.Key] = (string)account.Value;
            host.ValidTokenFlags = Convert.ToUInt32(state["valid_token_flags"]);
            host.EmptySidWithoutToken = (bool)state["empty_helper_token_sid"];
            host.MessageLanguages = new List<int>();
            foreach (object language in (IEnumerable)state["message_languages"])
                host.MessageLanguages.Add(Convert.ToInt32(language));
            Dictionary<string, object> slow = (Dictionary<string, object>)state["slow_names"];
            host.NameLatency = Convert.ToDouble(slow["latency"], System.Globalization.CultureInfo.InvariantCulture);
            foreach (object sid in (IEnumerable)slow["sids"])
                host.SlowSids.Add((string)sid);
            foreach (object domain in (IEnumerable)slow["domains"])
                host.SlowDomains.Add((string)domain);
            foreach (object item in (IEnumerable)state["jobs"])
                host.Jobs.Add(BuildJob((Dictionary<string, object>)item));
            return host;
        }

        static FakeJob BuildJob(Dictionary<string, object> entry)
        {
            FakeJob job = new FakeJob();
            job.Id = new Guid((string)entry["id"]);
            job.DisplayName = (string)entry["name"];
            job.OwnerSid = (string)entry["owner"];
            job.OwnerIsAdmin = (bool)entry["owner_admin"];
            job.State = Convert.ToInt32(entry["state"]);
            job.Flags = Convert.ToUInt32(entry["flags"]);
            job.HelperTokenSid = entry["helper_token_sid"] as string;
            job.HelperTokenHasAdmins = (bool)entry["helper_token_admin"];
            job.ClientCertificate = (bool)entry["client_certificate"];
            job.ConcurrentChange = (bool)entry["concurrent_change"];
            job.ConcurrentFlags = Convert.ToUInt32(entry["concurrent_flags"]);
            job.Type = Convert.ToUInt32(entry["type"]);
            job.CreationTime = UtcTime(entry["creation_time"]);
            job.ModificationTime = UtcTime(entry["modification_time"]);
            if (entry["error_code"] != null)
                job.ErrorCode = Convert.ToInt32(entry["error_code"]);
            job.ErrorContext = Convert.ToUInt32(entry["error_context"]);
            job.ErrorDescription = entry["error_description"] as string;
            Dictionary<string, object> faults = (Dictionary<string, object>)entry["faults"];
            if (faults.Count > 0)
            {
                job.Faults = new Dictionary<string, int>();
                foreach (KeyValuePair<string, object> fault in faults)
                    job.Faults[fault.Key] = Convert.ToInt32(fault.Value);
            }
            Dictionary<string, object> after = (Dictionary<string, object>)entry["fault_after"];
            if (after.Count > 0)
            {
                job.FaultAfter = new Dictionary<string, int>();
                foreach (KeyValuePair<string, object> fault in after)
                    job.FaultAfter[fault.Key] = Convert.ToInt32(fault.Value);
            }
            return job;
        }

        // bits_runner.py sends times as ISO 8601 UTC ("2026-11-20T08:15:00Z") or null.
        static DateTime? UtcTime(object value)
        {
            string text = value as string;
            if (text == null)
                return null;
            return DateTime.Parse(text, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal);
        }

        static Dictionary<string, object> DescribeHost(FakeBitsHost host)
        {
            List<object> jobs = new List<object>();
            foreach (FakeJob job in host.Jobs)
            {
                Dictionary<string, object> entry = new Dictionary<string, object>();
                entry["id"] = job.Id.ToString("B").ToUpperInvariant();
                entry["name"] = job.DisplayName;
                entry["owner"] = job.OwnerSid;
                entry["state"] = job.State;
                entry["flags"] = (long)job.Flags;
                entry["helper_token_sid"] = job.HelperTokenSid;
                entry["helper_token_admin"] = job.HelperTokenHasAdmins;
                entry["client_certificate"] = job.ClientCertificate;
                jobs.Add(entry);
            }
            Dictionary<string, object> described = new Dictionary<string, object>();
            described["jobs"] = jobs;
            described["set_calls"] = host.SetCalls;
            return described;
        }
#endif

        // Ansible.Basic's own settings for JavaScriptSerializer (FromJson/ToJson outside a runspace).
        static JavaScriptSerializer NewSerializer()
        {
            JavaScriptSerializer json = new JavaScriptSerializer();
            json.MaxJsonLength = int.MaxValue;
            json.RecursionLimit = int.MaxValue;
            return json;
        }
    }
}
