/* A native fake of BITS for the interop tests (docs/dev/design.md section 4: "real COM dispatch").
 *
 * Mono calls it exactly as the .NET runtime calls the real BITS: through vtables, slot by slot. The
 * vtable types, slot order, IIDs and the E_NOTIMPL stubs for slots not implemented here are generated
 * from the SDK headers by gen_vtables.py (into .build/native/); this file only defines the functions
 * impl_<Interface>_<Method>, whose signatures gcc checks against the headers' ones.
 *
 * What it records, so a test can tell which slot a call landed in: every call ("Interface.Method",
 * the job, one argument), calls that reached a generated stub, calls whose out-pointer was not a
 * pointer (what a call in the wrong slot looks like), and refcount underflows.
 * A job's error is a COM object of its own (IBackgroundCopyError), made afresh by each GetError as BITS
 * does, and counted like the jobs: a test can tell the caller released it.
 * The job also answers for COM's IClientSecurity, as the proxy of a real out-of-process BITS does: a
 * blanket is set per interface pointer (proxy) of the job, and SetHelperToken honours only the one on the
 * job's IBitsTokenOptions pointer (docs/dev/design.md section 3: impersonate level or above, with dynamic cloaking).
 * Who may change a job's helper-token settings follows section 3 too, call by call: the caller's SID,
 * administrator status and the OS build are set by the test (an administrator on build 20348 unless told), and
 * so is whether a job's owner is an administrator (not unless told; LocalSystem always is).
 * Strings handed out are UTF-16, allocated with malloc: Mono on Linux frees LPWSTR out-values (and
 * CoTaskMem blocks) with free(); on Windows it would be CoTaskMemFree.
 * Objects are never freed: after a reset, Mono may still hold wrappers of the old ones and release
 * them later from its finalizer thread. Memory is cheap in a test; a use-after-free is not.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_bits_vtables.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_JOBS 64
#define MAX_FAULTS 32
#define MAX_CALLS 1024
#define MAX_TEXT 260
#define MAX_ERRORS 256
#define ANY_JOB (-1)

enum { BG_JOB_STATE_ACKNOWLEDGED = 7, BG_JOB_STATE_CANCELLED = 8 };
enum { BG_JOB_ENUM_ALL_USERS = 1 };
enum { DEFAULT_VALID_TOKEN_FLAGS = 0x3 };   /* BG_TOKEN_LOCAL_FILE | BG_TOKEN_NETWORK */
enum { MAX_MESSAGE_LANGUAGES = 8, ALL_LANGUAGES = -1 };
/* A non-administrator may change the helper-token settings of a job it owns from this build on. */
enum { BUILD_OWNER_MAY_SET_TOKEN = 14393, DEFAULT_OS_BUILD = 20348 };
/* objidl.h / rpcdce.h values: what a proxy has before any SetBlanket, and what SetHelperToken needs. */
enum { RPC_C_AUTHN_WINNT = 10, RPC_C_AUTHZ_NONE = 0, RPC_C_AUTHN_LEVEL_CONNECT = 2 };
enum { RPC_C_IMP_LEVEL_IDENTIFY = 2, RPC_C_IMP_LEVEL_IMPERSONATE = 3 };
enum { EOAC_NONE = 0, EOAC_DYNAMIC_CLOAKING = 0x40 };

/* The security blanket of one proxy (one interface pointer of a job): SetBlanket's arguments as given.
 * The principal and auth-info pointers are kept as numbers: COLE_DEFAULT_* is (void *)-1, never read. */
typedef struct Blanket {
    int set_count;
    DWORD authn_service, authz_service, authn_level, imp_level, capabilities;
    uintptr_t principal, auth_info;
} Blanket;

/* Which of a job's interface pointers a blanket belongs to; PROXY_FOREIGN: a pointer that is none of them. */
enum { PROXY_FOREIGN = -2, PROXY_NONE = -1, PROXY_JOB = 0, PROXY_TOKEN_OPTIONS, PROXY_HTTP_OPTIONS, PROXY_CLIENT_SECURITY,
       PROXY_COUNT };

typedef struct FakeJob {
    /* One COM object, four interfaces: each pointer handed out is the address of one of these. */
    IBackgroundCopyJob job;
    IBitsTokenOptions token;
    IBackgroundCopyJobHttpOptions http;
    IClientSecurity security;
    int index;
    long refs;
    GUID id;
    WCHAR name[MAX_TEXT];
    WCHAR owner[MAX_TEXT];
    int owner_is_admin;            /* the owner is an administrator (LocalSystem always is) */
    WCHAR helper_sid[MAX_TEXT];
    int has_helper_sid;
    int helper_has_admins;         /* the helper token has the Administrators SID enabled */
    Blanket blankets[PROXY_COUNT]; /* per interface pointer, by PROXY_* */
    int last_blanket_proxy;        /* PROXY_* of the last SetBlanket's pProxy; PROXY_NONE before any */
    BG_JOB_STATE state;
    DWORD flags;
    int client_certificate;
    int change_after_set;          /* "someone else" writes changed_flags right after our Set */
    DWORD changed_flags;
    BG_JOB_TYPE type;
    UINT64 creation_time, modification_time, transfer_completion_time;   /* FILETIMEs; 0 is "not yet" */
    int has_error;
    HRESULT error_code;
    BG_ERROR_CONTEXT error_context;
    int has_error_description;
    WCHAR error_description[MAX_TEXT];
} FakeJob;

typedef struct FakeError {
    IBackgroundCopyError iface;
    long refs;
    FakeJob *job;                  /* the facts are the job's; the job is never freed */
} FakeError;

typedef struct FakeEnum {
    IEnumBackgroundCopyJobs iface;
    long refs;
    int next;
    int count;
    FakeJob *jobs[MAX_JOBS];
} FakeEnum;

/* remaining: how many more calls fail (then the call succeeds again); -1 for every call. */
typedef struct Fault { int job; char call[96]; HRESULT hr; int remaining; } Fault;
typedef struct Call { int job; char what[112]; int64_t arg; } Call;

static struct { IBackgroundCopyManager iface; long refs; } manager = {{&IBackgroundCopyManager_vtbl}, 0};
static FakeJob *jobs[MAX_JOBS];
static int job_count;
static FakeEnum *enums[256];
static int enum_count;
static FakeError *errors[MAX_ERRORS];
static int error_count;
static Fault faults[MAX_FAULTS];
static int fault_count;
static Call calls[MAX_CALLS];
static int call_count;
static int unimplemented_calls;
static int bad_pointer_calls;
static int release_errors;
static DWORD last_enum_flags;
static WCHAR caller_sid[MAX_TEXT];
static int caller_is_admin;
static DWORD os_build;
static DWORD valid_token_flags;                /* what SetHelperTokenFlags accepts: a later BITS may define more */
static int empty_sid_without_token;            /* GetHelperTokenSid answers "" (not NULL) without a token */
static int message_language_count;             /* ALL_LANGUAGES, or how many LANGIDs have message resources */
static DWORD message_languages[MAX_MESSAGE_LANGUAGES];
static char call_log[MAX_CALLS * 128];

/* ---- helpers ---------------------------------------------------------------------------------- */

static void copy_text(WCHAR *to, LPCWSTR from)
{
    size_t i = 0;
    for (; from != NULL && from[i] != 0 && i + 1 < MAX_TEXT; i++) {
        to[i] = from[i];
    }
    to[i] = 0;
}

static int same_text(LPCWSTR a, LPCWSTR b)
{
    size_t i = 0;
    for (; a[i] != 0 && a[i] == b[i]; i++) {
    }
    return a[i] == b[i];
}

static LPWSTR malloc_text(LPCWSTR text)
{
    size_t length = 0;
    while (text[length] != 0) {
        length++;
    }
    LPWSTR copy = malloc((length + 1) * sizeof(WCHAR));
    if (copy != NULL) {
        memcpy(copy, text, (length + 1) * sizeof(WCHAR));
    }
    return copy;
}

static void record(int job, const char *what, int64_t arg)
{
    if (call_count < MAX_CALLS) {
        calls[call_count].job = job;
        snprintf(calls[call_count].what, sizeof calls[call_count].what, "%s", what);
        calls[call_count].arg = arg;
        call_count++;
    }
}

/* A configured failure for this call on this job (or on any job), else S_OK. */
static HRESULT fault_for(int job, const char *call)
{
    for (int i = 0; i < fault_count; i++) {
        if ((faults[i].job == ANY_JOB || faults[i].job == job) && strcmp(faults[i].call, call) == 0
            && faults[i].remaining != 0) {
            if (faults[i].remaining > 0) {
                faults[i].remaining--;
            }
            return faults[i].hr;
        }
    }
    return S_OK;
}

/* An out-pointer that is NULL or in the first page is not one the runtime made: most likely an integer
 * argument of another method, i.e. a call that landed in the wrong slot. Refuse it instead of crashing. */
static int not_a_pointer(const void *p, int job, const char *call)
{
    if ((uintptr_t)p >= 0x10000) {
        return 0;
    }
    bad_pointer_calls++;
    char what[112];
    snprintf(what, sizeof what, "%s:bad-pointer", call);
    record(job, what, (int64_t)(uintptr_t)p);
    return 1;
}

/* The start of a getter: refuse an out-pointer the runtime cannot have made (E_POINTER, not recorded),
 * else record the call and return its configured fault (S_OK when none). */
static HRESULT enter_call(int job, const char *call, const void *out, int64_t arg)
{
    if (not_a_pointer(out, job, call)) {
        return E_POINTER;
    }
    record(job, call, arg);
    return fault_for(job, call);
}

static const char *iid_name(REFIID riid, char *buffer, size_t size)
{
    for (int i = 0; i < fake_known_iid_count; i++) {
        if (memcmp(fake_known_iids[i].iid, riid, sizeof(GUID)) == 0) {
            return fake_known_iids[i].name;
        }
    }
    snprintf(buffer, size, "{%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}", riid->Data1, riid->Data2,
             riid->Data3, riid->Data4[0], riid->Data4[1], riid->Data4[2], riid->Data4[3], riid->Data4[4],
             riid->Data4[5], riid->Data4[6], riid->Data4[7]);
    return buffer;
}

static ULONG add_ref(long *refs)
{
    return (ULONG)++*refs;
}

static ULONG release(long *refs)
{
    if (*refs <= 0) {
        release_errors++;   /* more Release than AddRef: a real object would be freed twice */
        return 0;
    }
    return (ULONG)--*refs;
}

void fake_bits_unimplemented(const char *interface_name, const char *method)
{
    char what[112];
    unimplemented_calls++;
    snprintf(what, sizeof what, "%s.%s:not-implemented", interface_name, method);
    record(ANY_JOB, what, 0);
}

#define JOB_FROM(member, pointer) ((FakeJob *)((char *)(pointer) - offsetof(FakeJob, member)))

/* ---- the job: IBackgroundCopyJob, IBitsTokenOptions, IBackgroundCopyJobHttpOptions ------------- */

static HRESULT job_query_interface(FakeJob *job, const char *from, REFIID riid, void **ppv)
{
    char buffer[64], what[112], fault_key[96];
    if (not_a_pointer(ppv, job->index, "QueryInterface") || not_a_pointer(riid, job->index, "QueryInterface")) {
        return E_POINTER;
    }
    *ppv = NULL;
    const char *name = iid_name(riid, buffer, sizeof buffer);
    snprintf(what, sizeof what, "%s.QueryInterface(%s)", from, name);
    record(job->index, what, 0);
    snprintf(fault_key, sizeof fault_key, "QueryInterface(%s)", name);
    HRESULT hr = fault_for(job->index, fault_key);
    if (hr != S_OK) {
        return hr;
    }
    if (strcmp(name, "IUnknown") == 0 || strcmp(name, "IBackgroundCopyJob") == 0) {
        *ppv = &job->job;
    } else if (strcmp(name, "IBitsTokenOptions") == 0) {
        *ppv = &job->token;
    } else if (strcmp(name, "IBackgroundCopyJobHttpOptions") == 0) {
        *ppv = &job->http;
    } else if (strcmp(name, "IClientSecurity") == 0) {
        *ppv = &job->security;
    } else {
        return E_NOINTERFACE;
    }
    add_ref(&job->refs);
    return S_OK;
}

HRESULT impl_IBackgroundCopyJob_QueryInterface(IBackgroundCopyJob *This, REFIID riid, void **ppvObject)
{
    return job_query_interface(JOB_FROM(job, This), "IBackgroundCopyJob", riid, ppvObject);
}

ULONG impl_IBackgroundCopyJob_AddRef(IBackgroundCopyJob *This)
{
    return add_ref(&JOB_FROM(job, This)->refs);
}

ULONG impl_IBackgroundCopyJob_Release(IBackgroundCopyJob *This)
{
    return release(&JOB_FROM(job, This)->refs);
}

HRESULT impl_IBackgroundCopyJob_GetId(IBackgroundCopyJob *This, GUID *pVal)
{
    FakeJob *job = JOB_FROM(job, This);
    HRESULT hr = enter_call(job->index, "IBackgroundCopyJob.GetId", pVal, 0);
    if (hr == S_OK) {
        *pVal = job->id;
    }
    return hr;
}

HRESULT impl_IBackgroundCopyJob_GetType(IBackgroundCopyJob *This, BG_JOB_TYPE *pVal)
{
    FakeJob *job = JOB_FROM(job, This);
    HRESULT hr = enter_call(job->index, "IBackgroundCopyJob.GetType", pVal, 0);
    if (hr == S_OK) {
        *pVal = job->type;
    }
    return hr;
}

static FILETIME filetime(UINT64 value)
{
    FILETIME time = {(DWORD)(value & 0xFFFFFFFFu), (DWORD)(value >> 32)};
    return time;
}

/* BG_JOB_TIMES' fields (names and order) come from bits.h through the generated header. */
HRESULT impl_IBackgroundCopyJob_GetTimes(IBackgroundCopyJob *This, BG_JOB_TIMES *pVal)
{
    FakeJob *job = JOB_FROM(job, This);
    HRESULT hr = enter_call(job->index, "IBackgroundCopyJob.GetTimes", pVal, 0);
    if (hr == S_OK) {
        pVal->CreationTime = filetime(job->creation_time);
        pVal->ModificationTime = filetime(job->modification_time);
        pVal->TransferCompletionTime = filetime(job->transfer_completion_time);
    }
    return hr;
}

HRESULT impl_IBackgroundCopyJob_GetState(IBackgroundCopyJob *This, BG_JOB_STATE *pVal)
{
    FakeJob *job = JOB_FROM(job, This);
    HRESULT hr = enter_call(job->index, "IBackgroundCopyJob.GetState", pVal, 0);
    if (hr == S_OK) {
        *pVal = job->state;
    }
    return hr;
}

/* A new error object with one reference, the caller's; BG_E_ERROR_INFORMATION_UNAVAILABLE without an error. */
HRESULT impl_IBackgroundCopyJob_GetError(IBackgroundCopyJob *This, IBackgroundCopyError **ppError)
{
    FakeJob *job = JOB_FROM(job, This);
    if (not_a_pointer(ppError, job->index, "IBackgroundCopyJob.GetError")) {
        return E_POINTER;
    }
    *ppError = NULL;
    HRESULT hr = enter_call(job->index, "IBackgroundCopyJob.GetError", ppError, 0);
    if (hr != S_OK) {
        return hr;
    }
    if (!job->has_error) {
        return BG_E_ERROR_INFORMATION_UNAVAILABLE;
    }
    if (error_count >= MAX_ERRORS) {
        return E_OUTOFMEMORY;
    }
    FakeError *error = calloc(1, sizeof *error);
    if (error == NULL) {
        return E_OUTOFMEMORY;
    }
    error->iface.lpVtbl = &IBackgroundCopyError_vtbl;
    error->job = job;
    errors[error_count++] = error;
    add_ref(&error->refs);
    *ppError = &error->iface;
    return S_OK;
}

static HRESULT job_text(FakeJob *job, const char *call, LPCWSTR text, LPWSTR *out)
{
    if (not_a_pointer(out, job->index, call)) {
        return E_POINTER;
    }
    *out = NULL;
    record(job->index, call, 0);
    HRESULT hr = fault_for(job->index, call);
    if (hr != S_OK) {
        return hr;
    }
    *out = malloc_text(text);
    return *out == NULL ? E_OUTOFMEMORY : S_OK;
}

HRESULT impl_IBackgroundCopyJob_GetOwner(IBackgroundCopyJob *This, LPWSTR *pVal)
{
    FakeJob *job = JOB_FROM(job, This);
    return job_text(job, "IBackgroundCopyJob.GetOwner", job->owner, pVal);
}

HRESULT impl_IBackgroundCopyJob_GetDisplayName(IBackgroundCopyJob *This, LPWSTR *pVal)
{
    FakeJob *job = JOB_FROM(job, This);
    return job_text(job, "IBackgroundCopyJob.GetDisplayName", job->name, pVal);
}

HRESULT impl_IBitsTokenOptions_QueryInterface(IBitsTokenOptions *This, REFIID riid, void **ppvObject)
{
    return job_query_interface(JOB_FROM(token, This), "IBitsTokenOptions", riid, ppvObject);
}

ULONG impl_IBitsTokenOptions_AddRef(IBitsTokenOptions *This)
{
    return add_ref(&JOB_FROM(token, This)->refs);
}

ULONG impl_IBitsTokenOptions_Release(IBitsTokenOptions *This)
{
    return release(&JOB_FROM(token, This)->refs);
}

/* docs/dev/design.md section 3: nobody changes an acknowledged or cancelled job. */
static int is_finished(const FakeJob *job)
{
    return job->state == BG_JOB_STATE_ACKNOWLEDGED || job->state == BG_JOB_STATE_CANCELLED;
}

/* The access rules of section 3, one per call, each from that method's page. The docs check the owner at
 * QueryInterface time; the fake checks at the call, the same as long as nobody takes ownership in between. */
static int caller_owns(const FakeJob *job)
{
    return same_text(job->owner, caller_sid);
}

static int owner_is_admin(const FakeJob *job)
{
    static const WCHAR local_system[] = {'S', '-', '1', '-', '5', '-', '1', '8', 0};
    return job->owner_is_admin || same_text(job->owner, local_system);
}

/* SetHelperTokenFlags: an administrator; from build 14393 also the owner, unless the job's current helper
 * token has the Administrators SID enabled (the owner would gain rights it lacks). */
static HRESULT may_set_flags(const FakeJob *job)
{
    if (caller_is_admin) {
        return S_OK;
    }
    if (os_build < BUILD_OWNER_MAY_SET_TOKEN || !caller_owns(job) || (job->has_helper_sid && job->helper_has_admins)) {
        return E_ACCESSDENIED;
    }
    return S_OK;
}

/* SetHelperToken: before build 14393 only on a job an administrator owns, whoever calls (the fake takes that
 * E_ACCESSDENIED row as written); from 14393 an administrator, or the owner setting a token without the
 * Administrators SID enabled. The token set is the caller's own, so a non-administrator's never has it: the
 * owner may. The job's current token plays no part (that rule is SetHelperTokenFlags'). */
static HRESULT may_set_token(const FakeJob *job)
{
    if (os_build < BUILD_OWNER_MAY_SET_TOKEN) {
        return owner_is_admin(job) ? S_OK : E_ACCESSDENIED;
    }
    return caller_is_admin || caller_owns(job) ? S_OK : E_ACCESSDENIED;
}

/* ClearHelperToken: before build 14393 only an administrator; from 14393 also the owner. The job's current
 * token plays no part (that rule is SetHelperTokenFlags'). */
static HRESULT may_clear_token(const FakeJob *job)
{
    if (caller_is_admin) {
        return S_OK;
    }
    return os_build >= BUILD_OWNER_MAY_SET_TOKEN && caller_owns(job) ? S_OK : E_ACCESSDENIED;
}

HRESULT impl_IBitsTokenOptions_SetHelperTokenFlags(IBitsTokenOptions *This, DWORD UsageFlags)
{
    FakeJob *job = JOB_FROM(token, This);
    record(job->index, "IBitsTokenOptions.SetHelperTokenFlags", UsageFlags);
    HRESULT hr = fault_for(job->index, "IBitsTokenOptions.SetHelperTokenFlags");
    if (hr != S_OK) {
        return hr;
    }
    if (is_finished(job)) {
        return BG_E_INVALID_STATE;
    }
    hr = may_set_flags(job);
    if (hr != S_OK) {
        return hr;
    }
    if (UsageFlags & ~valid_token_flags) {
        return E_INVALIDARG;
    }
    job->flags = UsageFlags;
    if (job->change_after_set) {
        job->change_after_set = 0;
        job->flags = job->changed_flags;
    }
    return S_OK;
}

HRESULT impl_IBitsTokenOptions_GetHelperTokenFlags(IBitsTokenOptions *This, DWORD *pFlags)
{
    FakeJob *job = JOB_FROM(token, This);
    HRESULT hr = enter_call(job->index, "IBitsTokenOptions.GetHelperTokenFlags", pFlags, job->flags);
    if (hr == S_OK) {
        *pFlags = job->flags;
    }
    return hr;
}

/* What BITS impersonates through this proxy: SetBlanket's level on the job's IBitsTokenOptions pointer must
 * be IMPERSONATE or DELEGATE, with dynamic cloaking (so the thread's token, e.g. become's, is the one seen). */
static int token_options_proxy_may_impersonate(const FakeJob *job)
{
    const Blanket *blanket = &job->blankets[PROXY_TOKEN_OPTIONS];
    return blanket->set_count > 0 && blanket->imp_level >= RPC_C_IMP_LEVEL_IMPERSONATE
        && (blanket->capabilities & EOAC_DYNAMIC_CLOAKING) != 0;
}

/* The helper token becomes the caller's: its SID, and whether it has the Administrators SID enabled. */
HRESULT impl_IBitsTokenOptions_SetHelperToken(IBitsTokenOptions *This)
{
    FakeJob *job = JOB_FROM(token, This);
    record(job->index, "IBitsTokenOptions.SetHelperToken", 0);
    HRESULT hr = fault_for(job->index, "IBitsTokenOptions.SetHelperToken");
    if (hr != S_OK) {
        return hr;
    }
    if (!token_options_proxy_may_impersonate(job)) {
        return CO_E_FAILEDTOIMPERSONATE;
    }
    if (is_finished(job)) {
        return BG_E_INVALID_STATE;
    }
    hr = may_set_token(job);
    if (hr != S_OK) {
        return hr;
    }
    copy_text(job->helper_sid, caller_sid);
    job->has_helper_sid = 1;
    job->helper_has_admins = caller_is_admin;
    return S_OK;
}

/* Drops the token and keeps the flags (docs/dev/design.md section 3); no blanket needed: BITS impersonates nobody. */
HRESULT impl_IBitsTokenOptions_ClearHelperToken(IBitsTokenOptions *This)
{
    FakeJob *job = JOB_FROM(token, This);
    record(job->index, "IBitsTokenOptions.ClearHelperToken", 0);
    HRESULT hr = fault_for(job->index, "IBitsTokenOptions.ClearHelperToken");
    if (hr != S_OK) {
        return hr;
    }
    if (is_finished(job)) {
        return BG_E_INVALID_STATE;
    }
    hr = may_clear_token(job);
    if (hr != S_OK) {
        return hr;
    }
    job->has_helper_sid = 0;
    job->helper_sid[0] = 0;
    job->helper_has_admins = 0;
    return S_OK;
}

HRESULT impl_IBitsTokenOptions_GetHelperTokenSid(IBitsTokenOptions *This, LPWSTR *pSid)
{
    FakeJob *job = JOB_FROM(token, This);
    if (not_a_pointer(pSid, job->index, "IBitsTokenOptions.GetHelperTokenSid")) {
        return E_POINTER;
    }
    *pSid = NULL;
    record(job->index, "IBitsTokenOptions.GetHelperTokenSid", 0);
    HRESULT hr = fault_for(job->index, "IBitsTokenOptions.GetHelperTokenSid");
    if (hr != S_OK) {
        return hr;
    }
    if (!job->has_helper_sid && !empty_sid_without_token) {
        return S_OK;   /* S_OK with NULL: the job has no helper token */
    }
    static const WCHAR empty[] = {0};
    *pSid = malloc_text(job->has_helper_sid ? job->helper_sid : empty);
    return *pSid == NULL ? E_OUTOFMEMORY : S_OK;
}

HRESULT impl_IBackgroundCopyJobHttpOptions_QueryInterface(IBackgroundCopyJobHttpOptions *This, REFIID riid,
                                                          void **ppvObject)
{
    return job_query_interface(JOB_FROM(http, This), "IBackgroundCopyJobHttpOptions", riid, ppvObject);
}

ULONG impl_IBackgroundCopyJobHttpOptions_AddRef(IBackgroundCopyJobHttpOptions *This)
{
    return add_ref(&JOB_FROM(http, This)->refs);
}

ULONG impl_IBackgroundCopyJobHttpOptions_Release(IBackgroundCopyJobHttpOptions *This)
{
    return release(&JOB_FROM(http, This)->refs);
}

/* Microsoft's docs: S_OK with the certificate; RPC_X_BAD_STUB_DATA when the job has none (or the user may
 * not read it); RPC_X_NULL_REF_POINTER when an out-parameter is NULL. */
HRESULT impl_IBackgroundCopyJobHttpOptions_GetClientCertificate(IBackgroundCopyJobHttpOptions *This,
                                                                BG_CERT_STORE_LOCATION *pStoreLocation,
                                                                LPWSTR *pStoreName, BYTE **ppCertHashBlob,
                                                                LPWSTR *pSubjectName)
{
    static const WCHAR store[] = {'M', 'Y', 0};
    static const WCHAR subject[] = {'C', 'N', '=', 'c', 'l', 'i', 'e', 'n', 't', 0};
    FakeJob *job = JOB_FROM(http, This);
    const char *call = "IBackgroundCopyJobHttpOptions.GetClientCertificate";
    if (not_a_pointer(pStoreLocation, job->index, call) || not_a_pointer(pStoreName, job->index, call) ||
        not_a_pointer(ppCertHashBlob, job->index, call) || not_a_pointer(pSubjectName, job->index, call)) {
        return RPC_X_NULL_REF_POINTER;
    }
    *pStoreName = NULL;
    *ppCertHashBlob = NULL;
    *pSubjectName = NULL;
    record(job->index, call, 0);
    HRESULT hr = fault_for(job->index, call);
    if (hr != S_OK) {
        return hr;
    }
    if (!job->client_certificate) {
        return RPC_X_BAD_STUB_DATA;
    }
    *pStoreLocation = 1;   /* BG_CERT_STORE_LOCATION_LOCAL_MACHINE */
    *pStoreName = malloc_text(store);
    *pSubjectName = malloc_text(subject);
    *ppCertHashBlob = malloc(20);   /* a SHA-1 thumbprint */
    if (*ppCertHashBlob != NULL) {
        memset(*ppCertHashBlob, 0xAB, 20);
    }
    return S_OK;
}

/* ---- the job's proxy security: IClientSecurity --------------------------------------------------- */

HRESULT impl_IClientSecurity_QueryInterface(IClientSecurity *This, REFIID riid, void **ppvObject)
{
    return job_query_interface(JOB_FROM(security, This), "IClientSecurity", riid, ppvObject);
}

ULONG impl_IClientSecurity_AddRef(IClientSecurity *This)
{
    return add_ref(&JOB_FROM(security, This)->refs);
}

ULONG impl_IClientSecurity_Release(IClientSecurity *This)
{
    return release(&JOB_FROM(security, This)->refs);
}

/* Which of the job's interface pointers pProxy is (PROXY_*), or PROXY_FOREIGN. */
static int proxy_of(const FakeJob *job, const IUnknown *proxy)
{
    const void *p = proxy;
    if (p == &job->job) {
        return PROXY_JOB;
    }
    if (p == &job->token) {
        return PROXY_TOKEN_OPTIONS;
    }
    if (p == &job->http) {
        return PROXY_HTTP_OPTIONS;
    }
    if (p == &job->security) {
        return PROXY_CLIENT_SECURITY;
    }
    return PROXY_FOREIGN;
}

/* Recorded with the proxy (PROXY_*) as the argument; a pointer that is none of the job's interfaces is
 * E_INVALIDARG, as COM says for a pProxy that is not a proxy of this object. */
HRESULT impl_IClientSecurity_SetBlanket(IClientSecurity *This, IUnknown *pProxy, DWORD dwAuthnSvc, DWORD dwAuthzSvc,
                                        OLECHAR *pServerPrincName, DWORD dwAuthnLevel, DWORD dwImpLevel,
                                        void *pAuthInfo, DWORD dwCapabilities)
{
    FakeJob *job = JOB_FROM(security, This);
    int proxy = proxy_of(job, pProxy);
    record(job->index, "IClientSecurity.SetBlanket", proxy);
    job->last_blanket_proxy = proxy;
    HRESULT hr = fault_for(job->index, "IClientSecurity.SetBlanket");
    if (hr != S_OK) {
        return hr;
    }
    if (proxy == PROXY_FOREIGN) {
        return E_INVALIDARG;
    }
    Blanket *blanket = &job->blankets[proxy];
    blanket->set_count++;
    blanket->authn_service = dwAuthnSvc;
    blanket->authz_service = dwAuthzSvc;
    blanket->principal = (uintptr_t)pServerPrincName;
    blanket->authn_level = dwAuthnLevel;
    blanket->imp_level = dwImpLevel;
    blanket->auth_info = (uintptr_t)pAuthInfo;
    blanket->capabilities = dwCapabilities;
    return S_OK;
}

static void put_dword(DWORD *out, DWORD value)
{
    if (out != NULL) {
        *out = value;
    }
}

/* The proxy's blanket: what SetBlanket gave it, else a process default (NTLM, connect level, identify,
 * no capabilities). Every out-parameter may be NULL (not wanted); no string or auth info is handed out. */
HRESULT impl_IClientSecurity_QueryBlanket(IClientSecurity *This, IUnknown *pProxy, DWORD *pAuthnSvc, DWORD *pAuthzSvc,
                                          OLECHAR **pServerPrincName, DWORD *pAuthnLevel, DWORD *pImpLevel,
                                          void **pAuthInfo, DWORD *pCapabilites)
{
    FakeJob *job = JOB_FROM(security, This);
    int proxy = proxy_of(job, pProxy);
    record(job->index, "IClientSecurity.QueryBlanket", proxy);
    HRESULT hr = fault_for(job->index, "IClientSecurity.QueryBlanket");
    if (hr != S_OK) {
        return hr;
    }
    if (proxy == PROXY_FOREIGN) {
        return E_INVALIDARG;
    }
    const Blanket *blanket = &job->blankets[proxy];
    int set = blanket->set_count > 0;
    put_dword(pAuthnSvc, set ? blanket->authn_service : RPC_C_AUTHN_WINNT);
    put_dword(pAuthzSvc, set ? blanket->authz_service : RPC_C_AUTHZ_NONE);
    put_dword(pAuthnLevel, set ? blanket->authn_level : RPC_C_AUTHN_LEVEL_CONNECT);
    put_dword(pImpLevel, set ? blanket->imp_level : RPC_C_IMP_LEVEL_IDENTIFY);
    put_dword(pCapabilites, set ? blanket->capabilities : EOAC_NONE);
    if (pServerPrincName != NULL) {
        *pServerPrincName = NULL;
    }
    if (pAuthInfo != NULL) {
        *pAuthInfo = NULL;
    }
    return S_OK;
}

/* ---- the job's error: IBackgroundCopyError -------------------------------------------------------- */

HRESULT impl_IBackgroundCopyError_QueryInterface(IBackgroundCopyError *This, REFIID riid, void **ppvObject)
{
    char buffer[64], what[112];
    FakeError *error = (FakeError *)This;
    if (not_a_pointer(ppvObject, error->job->index, "IBackgroundCopyError.QueryInterface")) {
        return E_POINTER;
    }
    const char *name = iid_name(riid, buffer, sizeof buffer);
    snprintf(what, sizeof what, "IBackgroundCopyError.QueryInterface(%s)", name);
    record(error->job->index, what, 0);
    if (strcmp(name, "IUnknown") == 0 || strcmp(name, "IBackgroundCopyError") == 0) {
        *ppvObject = &error->iface;
        add_ref(&error->refs);
        return S_OK;
    }
    *ppvObject = NULL;
    return E_NOINTERFACE;
}

ULONG impl_IBackgroundCopyError_AddRef(IBackgroundCopyError *This)
{
    return add_ref(&((FakeError *)This)->refs);
}

ULONG impl_IBackgroundCopyError_Release(IBackgroundCopyError *This)
{
    return release(&((FakeError *)This)->refs);
}

HRESULT impl_IBackgroundCopyError_GetError(IBackgroundCopyError *This, BG_ERROR_CONTEXT *pContext, HRESULT *pCode)
{
    FakeJob *job = ((FakeError *)This)->job;
    const char *call = "IBackgroundCopyError.GetError";
    if (not_a_pointer(pContext, job->index, call)) {
        return E_POINTER;
    }
    HRESULT hr = enter_call(job->index, call, pCode, 0);
    if (hr == S_OK) {
        *pContext = job->error_context;
        *pCode = job->error_code;
    }
    return hr;
}

static int has_message_resources(DWORD language)
{
    if (message_language_count == ALL_LANGUAGES) {
        return 1;
    }
    for (int i = 0; i < message_language_count; i++) {
        if (message_languages[i] == language) {
            return 1;
        }
    }
    return 0;
}

/* The argument recorded is the LANGID asked for. LANGID 0 is refused (E_INVALIDARG); a language without
 * BITS' message resources fails with ERROR_RESOURCE_LANG_NOT_FOUND; a job set without a description has no
 * message text, which FormatMessage reports as ERROR_MR_MID_NOT_FOUND. */
HRESULT impl_IBackgroundCopyError_GetErrorDescription(IBackgroundCopyError *This, DWORD LanguageId,
                                                      LPWSTR *pErrorDescription)
{
    FakeJob *job = ((FakeError *)This)->job;
    const char *call = "IBackgroundCopyError.GetErrorDescription";
    if (not_a_pointer(pErrorDescription, job->index, call)) {
        return E_POINTER;
    }
    *pErrorDescription = NULL;
    HRESULT hr = enter_call(job->index, call, pErrorDescription, LanguageId);
    if (hr != S_OK) {
        return hr;
    }
    if (LanguageId == 0) {
        return E_INVALIDARG;
    }
    if (!has_message_resources(LanguageId)) {
        return ERROR_RESOURCE_LANG_NOT_FOUND_HRESULT;
    }
    if (!job->has_error_description) {
        return ERROR_MR_MID_NOT_FOUND_HRESULT;
    }
    *pErrorDescription = malloc_text(job->error_description);
    return *pErrorDescription == NULL ? E_OUTOFMEMORY : S_OK;
}

/* ---- the enumerator ------------------------------------------------------------------------------ */

HRESULT impl_IEnumBackgroundCopyJobs_QueryInterface(IEnumBackgroundCopyJobs *This, REFIID riid, void **ppvObject)
{
    char buffer[64], what[112];
    FakeEnum *e = (FakeEnum *)This;
    if (not_a_pointer(ppvObject, ANY_JOB, "IEnumBackgroundCopyJobs.QueryInterface")) {
        return E_POINTER;
    }
    const char *name = iid_name(riid, buffer, sizeof buffer);
    snprintf(what, sizeof what, "IEnumBackgroundCopyJobs.QueryInterface(%s)", name);
    record(ANY_JOB, what, 0);
    if (strcmp(name, "IUnknown") == 0 || strcmp(name, "IEnumBackgroundCopyJobs") == 0) {
        *ppvObject = &e->iface;
        add_ref(&e->refs);
        return S_OK;
    }
    *ppvObject = NULL;
    return E_NOINTERFACE;
}

ULONG impl_IEnumBackgroundCopyJobs_AddRef(IEnumBackgroundCopyJobs *This)
{
    return add_ref(&((FakeEnum *)This)->refs);
}

ULONG impl_IEnumBackgroundCopyJobs_Release(IEnumBackgroundCopyJobs *This)
{
    return release(&((FakeEnum *)This)->refs);
}

/* Fills up to celt jobs; S_FALSE (a success code) when fewer than celt were left. */
HRESULT impl_IEnumBackgroundCopyJobs_Next(IEnumBackgroundCopyJobs *This, ULONG celt, IBackgroundCopyJob **rgelt,
                                          ULONG *pceltFetched)
{
    FakeEnum *e = (FakeEnum *)This;
    if (not_a_pointer(rgelt, ANY_JOB, "IEnumBackgroundCopyJobs.Next")) {
        return E_POINTER;
    }
    if (pceltFetched == NULL && celt != 1) {
        return E_INVALIDARG;
    }
    record(ANY_JOB, "IEnumBackgroundCopyJobs.Next", celt);
    HRESULT hr = fault_for(ANY_JOB, "IEnumBackgroundCopyJobs.Next");
    if (hr != S_OK) {
        return hr;
    }
    ULONG fetched = 0;
    while (fetched < celt && e->next < e->count) {
        FakeJob *job = e->jobs[e->next++];
        add_ref(&job->refs);
        rgelt[fetched++] = &job->job;
    }
    if (pceltFetched != NULL) {
        *pceltFetched = fetched;
    }
    return fetched == celt ? S_OK : S_FALSE;
}

/* ---- the manager --------------------------------------------------------------------------------- */

HRESULT impl_IBackgroundCopyManager_QueryInterface(IBackgroundCopyManager *This, REFIID riid, void **ppvObject)
{
    char buffer[64], what[112];
    if (not_a_pointer(ppvObject, ANY_JOB, "IBackgroundCopyManager.QueryInterface")) {
        return E_POINTER;
    }
    const char *name = iid_name(riid, buffer, sizeof buffer);
    snprintf(what, sizeof what, "IBackgroundCopyManager.QueryInterface(%s)", name);
    record(ANY_JOB, what, 0);
    if (strcmp(name, "IUnknown") == 0 || strcmp(name, "IBackgroundCopyManager") == 0) {
        *ppvObject = This;
        add_ref(&manager.refs);
        return S_OK;
    }
    *ppvObject = NULL;
    return E_NOINTERFACE;
}

ULONG impl_IBackgroundCopyManager_AddRef(IBackgroundCopyManager *This)
{
    (void)This;
    return add_ref(&manager.refs);
}

ULONG impl_IBackgroundCopyManager_Release(IBackgroundCopyManager *This)
{
    (void)This;
    return release(&manager.refs);
}

HRESULT impl_IBackgroundCopyManager_GetJob(IBackgroundCopyManager *This, REFGUID jobID, IBackgroundCopyJob **ppJob)
{
    (void)This;
    if (not_a_pointer(jobID, ANY_JOB, "IBackgroundCopyManager.GetJob") ||
        not_a_pointer(ppJob, ANY_JOB, "IBackgroundCopyManager.GetJob")) {
        return E_POINTER;
    }
    *ppJob = NULL;
    for (int i = 0; i < job_count; i++) {
        if (memcmp(&jobs[i]->id, jobID, sizeof(GUID)) == 0) {
            record(i, "IBackgroundCopyManager.GetJob", 0);
            HRESULT hr = fault_for(i, "IBackgroundCopyManager.GetJob");
            if (hr != S_OK) {
                return hr;
            }
            add_ref(&jobs[i]->refs);
            *ppJob = &jobs[i]->job;
            return S_OK;
        }
    }
    record(ANY_JOB, "IBackgroundCopyManager.GetJob", 0);
    HRESULT hr = fault_for(ANY_JOB, "IBackgroundCopyManager.GetJob");
    return hr != S_OK ? hr : BG_E_NOT_FOUND;
}

/* dwFlags 0: the caller's own jobs; BG_JOB_ENUM_ALL_USERS: everyone's. */
HRESULT impl_IBackgroundCopyManager_EnumJobs(IBackgroundCopyManager *This, DWORD dwFlags,
                                             IEnumBackgroundCopyJobs **ppEnum)
{
    (void)This;
    if (not_a_pointer(ppEnum, ANY_JOB, "IBackgroundCopyManager.EnumJobs")) {
        return E_POINTER;
    }
    *ppEnum = NULL;
    last_enum_flags = dwFlags;
    record(ANY_JOB, "IBackgroundCopyManager.EnumJobs", dwFlags);
    HRESULT hr = fault_for(ANY_JOB, "IBackgroundCopyManager.EnumJobs");
    if (hr != S_OK) {
        return hr;
    }
    if (enum_count >= (int)(sizeof enums / sizeof enums[0])) {
        return E_OUTOFMEMORY;
    }
    FakeEnum *e = calloc(1, sizeof *e);
    if (e == NULL) {
        return E_OUTOFMEMORY;
    }
    e->iface.lpVtbl = &IEnumBackgroundCopyJobs_vtbl;
    for (int i = 0; i < job_count; i++) {
        if ((dwFlags & BG_JOB_ENUM_ALL_USERS) || same_text(jobs[i]->owner, caller_sid)) {
            e->jobs[e->count++] = jobs[i];
        }
    }
    enums[enum_count++] = e;
    add_ref(&e->refs);
    *ppEnum = &e->iface;
    return S_OK;
}

/* ---- the test API (called from C# with DllImport) ------------------------------------------------- */

EXPORT void fake_bits_reset(void)
{
    job_count = 0;          /* the old jobs stay allocated: see the top of the file */
    enum_count = 0;
    error_count = 0;
    fault_count = 0;
    call_count = 0;
    unimplemented_calls = 0;
    bad_pointer_calls = 0;
    release_errors = 0;
    last_enum_flags = 0xFFFFFFFFu;
    caller_sid[0] = 0;
    caller_is_admin = 1;
    os_build = DEFAULT_OS_BUILD;
    valid_token_flags = DEFAULT_VALID_TOKEN_FLAGS;
    empty_sid_without_token = 0;
    message_language_count = ALL_LANGUAGES;
    manager.refs = 0;
}

/* The helper-token flag bits SetHelperTokenFlags accepts (0x3 after a reset). */
EXPORT void fake_bits_set_valid_token_flags(DWORD flags)
{
    valid_token_flags = flags;
}

/* Whether GetHelperTokenSid answers "" rather than NULL for a job without a helper token (0 after a reset). */
EXPORT void fake_bits_set_empty_sid_without_token(int empty)
{
    empty_sid_without_token = empty != 0;
}

/* The LANGIDs BITS has message resources for; count -1: every language (after a reset). Returns -1 when
 * there are too many. */
EXPORT int fake_bits_set_message_languages(const DWORD *languages, int count)
{
    if (count > MAX_MESSAGE_LANGUAGES) {
        return -1;
    }
    message_language_count = count < 0 ? ALL_LANGUAGES : count;
    for (int i = 0; i < count; i++) {
        message_languages[i] = languages[i];
    }
    return 0;
}

EXPORT void fake_bits_set_caller(LPCWSTR sid)
{
    copy_text(caller_sid, sid);
}

/* Whether the caller's token has the Administrators SID enabled (1 after a reset). */
EXPORT void fake_bits_set_caller_admin(int is_admin)
{
    caller_is_admin = is_admin != 0;
}

/* The Windows build the access rules follow (DEFAULT_OS_BUILD after a reset). */
EXPORT void fake_bits_set_os_build(DWORD build)
{
    os_build = build;
}

/* Returns the job's index, or -1 when the table is full. helper_sid may be NULL (no helper token). */
EXPORT int fake_bits_add_job(const GUID *id, LPCWSTR name, LPCWSTR owner, int32_t state, DWORD flags,
                             LPCWSTR helper_sid, int client_certificate)
{
    if (job_count >= MAX_JOBS) {
        return -1;
    }
    FakeJob *job = calloc(1, sizeof *job);
    if (job == NULL) {
        return -1;
    }
    job->job.lpVtbl = &IBackgroundCopyJob_vtbl;
    job->token.lpVtbl = &IBitsTokenOptions_vtbl;
    job->http.lpVtbl = &IBackgroundCopyJobHttpOptions_vtbl;
    job->security.lpVtbl = &IClientSecurity_vtbl;
    job->last_blanket_proxy = PROXY_NONE;
    job->index = job_count;
    job->id = *id;
    copy_text(job->name, name);
    copy_text(job->owner, owner);
    job->has_helper_sid = helper_sid != NULL;
    copy_text(job->helper_sid, helper_sid);
    job->state = state;
    job->flags = flags;
    job->client_certificate = client_certificate;
    jobs[job_count] = job;
    return job_count++;
}

/* Make a call fail: call is "Interface.Method" or "QueryInterface(Interface)"; job -1 means any job. */
/* The next `times` calls named `call` on `job` (ANY_JOB: any) fail with hr; times -1: every call. */
EXPORT int fake_bits_fail_times(int job, const char *call, HRESULT hr, int times)
{
    if (fault_count >= MAX_FAULTS) {
        return -1;
    }
    faults[fault_count].job = job;
    snprintf(faults[fault_count].call, sizeof faults[fault_count].call, "%s", call);
    faults[fault_count].hr = hr;
    faults[fault_count].remaining = times;
    return fault_count++;
}

EXPORT int fake_bits_fail(int job, const char *call, HRESULT hr)
{
    return fake_bits_fail_times(job, call, hr, -1);
}

static FakeJob *job_at(int job)
{
    return job >= 0 && job < job_count ? jobs[job] : NULL;
}

/* The setters below return 0, or -1 when there is no such job. */
EXPORT int fake_bits_set_job_type(int job, int32_t type)
{
    FakeJob *found = job_at(job);
    if (found == NULL) {
        return -1;
    }
    found->type = type;
    return 0;
}

/* FILETIMEs as 64-bit counts of 100 ns since 1601 (UTC); 0 means "not yet". */
EXPORT int fake_bits_set_job_times(int job, UINT64 creation, UINT64 modification, UINT64 transfer_completion)
{
    FakeJob *found = job_at(job);
    if (found == NULL) {
        return -1;
    }
    found->creation_time = creation;
    found->modification_time = modification;
    found->transfer_completion_time = transfer_completion;
    return 0;
}

/* Give the job an error (GetError then hands out an IBackgroundCopyError); description may be NULL. */
EXPORT int fake_bits_set_job_error(int job, HRESULT code, int32_t context, LPCWSTR description)
{
    FakeJob *found = job_at(job);
    if (found == NULL) {
        return -1;
    }
    found->has_error = 1;
    found->error_code = code;
    found->error_context = context;
    found->has_error_description = description != NULL;
    copy_text(found->error_description, description);
    return 0;
}

EXPORT void fake_bits_change_after_set(int job, DWORD flags)
{
    jobs[job]->change_after_set = 1;
    jobs[job]->changed_flags = flags;
}

EXPORT DWORD fake_bits_job_flags(int job)
{
    return jobs[job]->flags;
}

/* Whether the job's owner is an administrator (0 after fake_bits_add_job; LocalSystem always is). */
EXPORT int fake_bits_set_job_owner_admin(int job, int is_admin)
{
    FakeJob *found = job_at(job);
    if (found == NULL) {
        return -1;
    }
    found->owner_is_admin = is_admin != 0;
    return 0;
}

/* Whether the job's helper token (if it has one) has the Administrators SID enabled. */
EXPORT int fake_bits_set_job_helper_admins(int job, int has_admins)
{
    FakeJob *found = job_at(job);
    if (found == NULL) {
        return -1;
    }
    found->helper_has_admins = has_admins != 0;
    return 0;
}

/* The job's helper-token SID, or NULL without a token. The fake's own memory: copy it, never free it. */
EXPORT LPCWSTR fake_bits_job_helper_sid(int job)
{
    FakeJob *found = job_at(job);
    return found != NULL && found->has_helper_sid ? found->helper_sid : NULL;
}

EXPORT int fake_bits_job_helper_admins(int job)
{
    FakeJob *found = job_at(job);
    return found != NULL ? found->helper_has_admins : -1;
}

/* The last SetBlanket on this job: which of its pointers pProxy was (PROXY_*: 1 is IBitsTokenOptions,
 * PROXY_NONE before any call, PROXY_FOREIGN for a pointer that is none of the job's). */
EXPORT int fake_bits_last_blanket_proxy(int job)
{
    FakeJob *found = job_at(job);
    return found != NULL ? found->last_blanket_proxy : PROXY_NONE;
}

/* The blanket SetBlanket gave one of the job's pointers (proxy: PROXY_*), as its arguments came; returns
 * how many SetBlanket calls set it (0: never; the outputs are then zero), or -1 for no such job or proxy. */
EXPORT int fake_bits_blanket(int job, int proxy, DWORD *authn_service, DWORD *authz_service, DWORD *authn_level,
                             DWORD *imp_level, DWORD *capabilities, int64_t *principal, int64_t *auth_info)
{
    FakeJob *found = job_at(job);
    if (found == NULL || proxy < 0 || proxy >= PROXY_COUNT) {
        return -1;
    }
    const Blanket *blanket = &found->blankets[proxy];
    *authn_service = blanket->authn_service;
    *authz_service = blanket->authz_service;
    *authn_level = blanket->authn_level;
    *imp_level = blanket->imp_level;
    *capabilities = blanket->capabilities;
    *principal = (int64_t)blanket->principal;
    *auth_info = (int64_t)blanket->auth_info;
    return blanket->set_count;
}

/* How many recorded calls match (job -1: any job). */
EXPORT int fake_bits_call_count(int job, const char *what)
{
    int count = 0;
    for (int i = 0; i < call_count; i++) {
        if ((job == ANY_JOB || calls[i].job == job) && strcmp(calls[i].what, what) == 0) {
            count++;
        }
    }
    return count;
}

/* The argument of the last matching call, or -1 when there was none. */
EXPORT int64_t fake_bits_last_arg(int job, const char *what)
{
    for (int i = call_count - 1; i >= 0; i--) {
        if ((job == ANY_JOB || calls[i].job == job) && strcmp(calls[i].what, what) == 0) {
            return calls[i].arg;
        }
    }
    return -1;
}

EXPORT DWORD fake_bits_last_enum_flags(void) { return last_enum_flags; }
EXPORT int fake_bits_unimplemented_calls(void) { return unimplemented_calls; }
EXPORT int fake_bits_bad_pointer_calls(void) { return bad_pointer_calls; }
EXPORT int fake_bits_release_errors(void) { return release_errors; }
/* IBackgroundCopyError objects GetError handed out this round. */
EXPORT int fake_bits_error_objects(void) { return error_count; }

/* References still held on the jobs, enumerators and errors of this round (the manager excluded). */
EXPORT long fake_bits_outstanding_refs(void)
{
    long total = 0;
    for (int i = 0; i < job_count; i++) {
        total += jobs[i]->refs;
    }
    for (int i = 0; i < enum_count; i++) {
        total += enums[i]->refs;
    }
    for (int i = 0; i < error_count; i++) {
        total += errors[i]->refs;
    }
    return total;
}

/* Every call of this round, one a line: "job what arg". For failure messages. */
EXPORT const char *fake_bits_call_log(void)
{
    size_t used = 0;
    call_log[0] = 0;
    for (int i = 0; i < call_count && used + 128 < sizeof call_log; i++) {
        used += (size_t)snprintf(call_log + used, sizeof call_log - used, "%d %s %lld\n", calls[i].job,
                                 calls[i].what, (long long)calls[i].arg);
    }
    return call_log;
}

/* A new reference to the manager, as CoCreateInstance would hand out. */
EXPORT IBackgroundCopyManager *fake_bits_manager(void)
{
    add_ref(&manager.refs);
    return &manager.iface;
}
