/* The few Windows base types the BITS vtables use, spelled for Linux (LP64).
 *
 * The SDK headers cannot be included as they are on Linux (they need the whole mingw-w64 windows.h);
 * the generator (gen_vtables.py) writes the interface and vtable types from them on top of these.
 * Sizes follow Windows: LONG/ULONG/DWORD are 32 bits; WCHAR is UTF-16 (wchar_t is 4 bytes here, so it
 * must not be used); GUID is the 16-byte Data1/Data2/Data3/Data4 layout .NET's Guid marshals to.
 * STDMETHODCALLTYPE is empty: on x86-64 Linux there is one calling convention, the platform's, which is
 * what Mono uses for COM calls.
 */
#ifndef FAKE_BITS_WINTYPES_H
#define FAKE_BITS_WINTYPES_H

#include <stddef.h>
#include <stdint.h>

#define STDMETHODCALLTYPE

typedef int32_t HRESULT;
typedef uint32_t ULONG;
typedef uint32_t DWORD;
typedef int32_t LONG;
typedef int32_t BOOL;
typedef uint8_t BYTE;
typedef uint16_t WCHAR;
typedef WCHAR OLECHAR;
typedef WCHAR *LPWSTR;
typedef const WCHAR *LPCWSTR;
typedef uint64_t UINT64;

typedef struct GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
} GUID;
typedef GUID IID;

typedef struct FILETIME {
    DWORD dwLowDateTime;
    DWORD dwHighDateTime;
} FILETIME;
typedef const GUID *REFGUID;
typedef const IID *REFIID;

_Static_assert(sizeof(GUID) == 16, "GUID must be 16 bytes");
_Static_assert(sizeof(WCHAR) == 2, "WCHAR must be UTF-16");
_Static_assert(sizeof(FILETIME) == 8 && offsetof(FILETIME, dwHighDateTime) == 4, "FILETIME is two DWORDs");

#define S_OK ((HRESULT)0)
#define S_FALSE ((HRESULT)1)
#define E_NOTIMPL ((HRESULT)0x80004001)
#define E_NOINTERFACE ((HRESULT)0x80004002)
#define E_POINTER ((HRESULT)0x80004003)
#define E_OUTOFMEMORY ((HRESULT)0x8007000E)
#define E_INVALIDARG ((HRESULT)0x80070057)
#define E_ACCESSDENIED ((HRESULT)0x80070005)
#define BG_E_NOT_FOUND ((HRESULT)0x80200001)
#define BG_E_INVALID_STATE ((HRESULT)0x80200002)
#define BG_E_ERROR_INFORMATION_UNAVAILABLE ((HRESULT)0x8020000F)
#define ERROR_MR_MID_NOT_FOUND_HRESULT ((HRESULT)0x8007013D)
#define ERROR_RESOURCE_LANG_NOT_FOUND_HRESULT ((HRESULT)0x80070717)
#define RPC_X_BAD_STUB_DATA ((HRESULT)0x800706F7)
#define RPC_X_NULL_REF_POINTER ((HRESULT)0x800706F4)
#define CO_E_FAILEDTOIMPERSONATE ((HRESULT)0x80010123)

#endif
