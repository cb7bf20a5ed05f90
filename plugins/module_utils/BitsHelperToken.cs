// Copyright: (c) 2026, winbits.bits contributors
// GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

// The host-side core of winbits.bits.bits_helper_token (docs/host-contract.md): find BITS jobs, read
// their helper-token flags, write them when they differ, read them back and report facts. C# 5 only:
// Windows PowerShell 5.1 compiles this with the .NET Framework csc (DESIGN.md 1).

using System;
using System.Runtime.InteropServices;

namespace ansible_collections.winbits.bits.plugins.module_utils.BitsHelperToken
{
    // COM declarations. Slot order and method names follow the Windows SDK headers (bits.h, bits2_5.h,
    // bits4_0.h) exactly: the runtime calls by slot, so a skipped or swapped method calls the wrong
    // function. A declaration stops after the last slot this file uses. Every method keeps the default
    // HRESULT-to-exception marshalling; callers compare Exception.HResult, never the exception type.

    [ComImport, Guid("5ce34c0d-0dc9-4c1f-897c-daa1b78cee7c"), InterfaceType(ComInterfaceType.InterfaceIsIUnknown)]
    public interface IBackgroundCopyManager
    {
        void CreateJob([MarshalAs(UnmanagedType.LPWStr)] string DisplayName, uint Type, out Guid pJobId,
            out IBackgroundCopyJob ppJob);
        void GetJob([In] ref Guid jobID, out IBackgroundCopyJob ppJob);
        void EnumJobs(uint dwFlags, out IEnumBackgroundCopyJobs ppEnum);
    }

    [ComImport, Guid("1af4f612-3b71-466f-8f58-7b6f73ac57ad"), InterfaceType(ComInterfaceType.InterfaceIsIUnknown)]
    public interface IEnumBackgroundCopyJobs
    {
        // Returns S_FALSE (a success code, so no exception) with pceltFetched 0 at the end.
        void Next(uint celt, out IBackgroundCopyJob rgelt, out uint pceltFetched);
    }

    [ComImport, Guid("37668d37-507e-4160-9316-26306d150b12"), InterfaceType(ComInterfaceType.InterfaceIsIUnknown)]
    public interface IBackgroundCopyJob
    {
        void AddFileSet(uint cFileCount, IntPtr pFileSet);
        void AddFile([MarshalAs(UnmanagedType.LPWStr)] string RemoteUrl,
            [MarshalAs(UnmanagedType.LPWStr)] string LocalName);
        void EnumFiles(out IntPtr pEnum);
        void Suspend();
        void Resume();
        void Cancel();
        void Complete();
        void GetId(out Guid pVal);
        void GetType(out uint pVal);
        void GetProgress(IntPtr pVal);
        void GetTimes(IntPtr pVal);
        void GetState(out uint pVal);
        void GetError(out IntPtr ppError);
        void GetOwner([MarshalAs(UnmanagedType.LPWStr)] out string pVal);
        void SetDisplayName([MarshalAs(UnmanagedType.LPWStr)] string Val);
        void GetDisplayName([MarshalAs(UnmanagedType.LPWStr)] out string pVal);
    }

    [ComImport, Guid("9a2584c3-f7d2-457a-9a5e-22b67bffc7d2"), InterfaceType(ComInterfaceType.InterfaceIsIUnknown)]
    public interface IBitsTokenOptions
    {
        void SetHelperTokenFlags(uint UsageFlags);
        void GetHelperTokenFlags(out uint pFlags);
        void SetHelperToken();
        void ClearHelperToken();
        // Null when the job has no helper token.
        void GetHelperTokenSid([MarshalAs(UnmanagedType.LPWStr)] out string pSid);
    }

    [ComImport, Guid("f1bd1079-9f01-4bdc-8036-f09b70095066"), InterfaceType(ComInterfaceType.InterfaceIsIUnknown)]
    public interface IBackgroundCopyJobHttpOptions
    {
        void SetClientCertificateByID(uint StoreLocation, [MarshalAs(UnmanagedType.LPWStr)] string StoreName,
            IntPtr pCertHashBlob);
        void SetClientCertificateByName(uint StoreLocation, [MarshalAs(UnmanagedType.LPWStr)] string StoreName,
            [MarshalAs(UnmanagedType.LPWStr)] string SubjectName);
        void RemoveClientCertificate();
        // Fails with RPC_X_BAD_STUB_DATA when the job has no certificate. ppCertHashBlob is a CoTaskMem
        // block the caller frees.
        void GetClientCertificate(out uint pStoreLocation, [MarshalAs(UnmanagedType.LPWStr)] out string pStoreName,
            out IntPtr ppCertHashBlob, [MarshalAs(UnmanagedType.LPWStr)] out string pSubjectName);
    }
}
