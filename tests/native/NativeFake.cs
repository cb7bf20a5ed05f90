// The native fake BITS's test API (fake_bits.c's exported fake_bits_* functions) and what every interop
// test program needs around it: the manager factory and the after-test checks. Shared by InteropTests.cs
// and TokenInteropTests.cs (bits_helper_token's core) and JobInfoInteropTests.cs (bits_job_info's core);
// each program is compiled with BitsCom.cs and its own core only, as Ansible sends them. C# 5.

using System;
using System.Runtime.InteropServices;
using ansible_collections.winbits.bits.plugins.module_utils.BitsCom;

namespace WinBits.NativeInterop
{
    static class Native
    {
        const string Library = "fakebits";

        [DllImport(Library)]
        public static extern void fake_bits_reset();

        [DllImport(Library)]
        public static extern void fake_bits_set_caller([MarshalAs(UnmanagedType.LPWStr)] string sid);

        // Whether the caller is an administrator (1 after a reset) and the OS build the access rules follow
        // (20348 after a reset).
        [DllImport(Library)]
        public static extern void fake_bits_set_caller_admin(int isAdmin);

        [DllImport(Library)]
        public static extern void fake_bits_set_os_build(uint build);

        // The helper-token flag bits SetHelperTokenFlags accepts (0x3 after a reset).
        [DllImport(Library)]
        public static extern void fake_bits_set_valid_token_flags(uint flags);

        // Whether GetHelperTokenSid answers "" instead of NULL for a job without a helper token.
        [DllImport(Library)]
        public static extern void fake_bits_set_empty_sid_without_token(int empty);

        // The LANGIDs BITS has message resources for; count -1: every language (after a reset).
        [DllImport(Library)]
        public static extern int fake_bits_set_message_languages(uint[] languages, int count);

        [DllImport(Library)]
        public static extern int fake_bits_add_job([In] ref Guid id, [MarshalAs(UnmanagedType.LPWStr)] string name,
            [MarshalAs(UnmanagedType.LPWStr)] string owner, int state, uint flags,
            [MarshalAs(UnmanagedType.LPWStr)] string helperSid, int clientCertificate);

        [DllImport(Library)]
        public static extern int fake_bits_set_job_type(int job, int type);

        // FILETIMEs as 64-bit counts (DateTime.ToFileTimeUtc); 0 is "not yet".
        [DllImport(Library)]
        public static extern int fake_bits_set_job_times(int job, ulong creation, ulong modification,
            ulong transferCompletion);

        // description may be null: GetErrorDescription then fails.
        [DllImport(Library)]
        public static extern int fake_bits_set_job_error(int job, int code, int context,
            [MarshalAs(UnmanagedType.LPWStr)] string description);

        [DllImport(Library)]
        public static extern int fake_bits_fail(int job, [MarshalAs(UnmanagedType.LPStr)] string call, int hresult);
        [DllImport(Library)]
        public static extern int fake_bits_fail_times(int job, [MarshalAs(UnmanagedType.LPStr)] string call, int hresult,
            int times);

        [DllImport(Library)]
        public static extern void fake_bits_change_after_set(int job, uint flags);

        [DllImport(Library)]
        public static extern uint fake_bits_job_flags(int job);

        // Whether the job's owner is an administrator (0 after fake_bits_add_job; LocalSystem always is).
        [DllImport(Library)]
        public static extern int fake_bits_set_job_owner_admin(int job, int isAdmin);

        [DllImport(Library)]
        public static extern int fake_bits_set_job_helper_admins(int job, int hasAdmins);

        // The fake's own UTF-16 memory (or null without a token): read it with JobHelperSid, never free it.
        [DllImport(Library)]
        public static extern IntPtr fake_bits_job_helper_sid(int job);

        [DllImport(Library)]
        public static extern int fake_bits_job_helper_admins(int job);

        // Which of the job's pointers the last SetBlanket's pProxy was (Proxy.*).
        [DllImport(Library)]
        public static extern int fake_bits_last_blanket_proxy(int job);

        // The blanket set on one of the job's pointers (Proxy.*); returns how often it was set, -1: no such job.
        [DllImport(Library)]
        public static extern int fake_bits_blanket(int job, int proxy, out uint authnService, out uint authzService,
            out uint authnLevel, out uint impLevel, out uint capabilities, out long principal, out long authInfo);

        public static string JobHelperSid(int job)
        {
            IntPtr sid = fake_bits_job_helper_sid(job);
            return sid == IntPtr.Zero ? null : Marshal.PtrToStringUni(sid);
        }

        [DllImport(Library)]
        public static extern int fake_bits_call_count(int job, [MarshalAs(UnmanagedType.LPStr)] string what);

        [DllImport(Library)]
        public static extern long fake_bits_last_arg(int job, [MarshalAs(UnmanagedType.LPStr)] string what);

        [DllImport(Library)]
        public static extern uint fake_bits_last_enum_flags();

        [DllImport(Library)]
        public static extern int fake_bits_unimplemented_calls();

        [DllImport(Library)]
        public static extern int fake_bits_bad_pointer_calls();

        [DllImport(Library)]
        public static extern int fake_bits_release_errors();

        [DllImport(Library)]
        public static extern int fake_bits_error_objects();

        [DllImport(Library)]
        public static extern long fake_bits_outstanding_refs();

        [DllImport(Library)]
        public static extern IntPtr fake_bits_call_log();

        [DllImport(Library)]
        public static extern IntPtr fake_bits_manager();
    }

    // fake_bits.c's PROXY_*: which interface pointer of a job a blanket belongs to.
    static class Proxy
    {
        public const int Foreign = -2, None = -1, Job = 0, TokenOptions = 1, HttpOptions = 2, ClientSecurity = 3;
    }

    // One proxy's blanket as SetBlanket received it (fake_bits_blanket).
    sealed class RecordedBlanket
    {
        public int SetCount;
        public uint AuthnService, AuthzService, AuthnLevel, ImpLevel, Capabilities;
        public long Principal, AuthInfo;

        public static RecordedBlanket Of(int job, int proxy)
        {
            RecordedBlanket b = new RecordedBlanket();
            b.SetCount = Native.fake_bits_blanket(job, proxy, out b.AuthnService, out b.AuthzService, out b.AuthnLevel,
                out b.ImpLevel, out b.Capabilities, out b.Principal, out b.AuthInfo);
            return b;
        }
    }

    // What the glue's ComBackgroundCopyManagerFactory does with CoCreateInstance, done with the fake.
    sealed class NativeManagerFactory : IBackgroundCopyManagerFactory
    {
        public IBackgroundCopyManager Create()
        {
            IntPtr unknown = Native.fake_bits_manager();
            try
            {
                // The cast is a QueryInterface for IBackgroundCopyManager's declared GUID.
                return (IBackgroundCopyManager)Marshal.GetObjectForIUnknown(unknown);
            }
            finally
            {
                Marshal.Release(unknown);
            }
        }
    }

    static class NativeFake
    {
        // After every test: no call reached a slot the fake leaves unimplemented, none passed an integer
        // where the slot takes a pointer, and no object was released more often than referenced. Each of
        // these is what a wrongly ordered declaration produces.
        public static string Invariants()
        {
            if (Native.fake_bits_unimplemented_calls() != 0)
                return Native.fake_bits_unimplemented_calls() + " call(s) reached a slot the fake does not implement";
            if (Native.fake_bits_bad_pointer_calls() != 0)
                return Native.fake_bits_bad_pointer_calls() + " call(s) passed a non-pointer as an out-pointer";
            if (Native.fake_bits_release_errors() != 0)
                return Native.fake_bits_release_errors() + " Release call(s) without a reference";
            return null;
        }

        public static string CallLog()
        {
            string log = Marshal.PtrToStringAnsi(Native.fake_bits_call_log()).TrimEnd();
            return "calls the fake recorded:\n  " + log.Replace("\n", "\n  ");
        }

        // What the runtime still holds once the wrappers nobody references are finalized.
        public static long OutstandingRefsAfterCollection()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            return Native.fake_bits_outstanding_refs();
        }
    }
}
