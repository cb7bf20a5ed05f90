"""The [ComImport] declarations of the host-side C# (BitsCom.cs) match the Windows SDK, slot by slot (docs/dev/design.md section 4).

A COM call goes to a vtable slot by number; a method declared one place off calls another function on
Windows and nothing in a managed test would notice. The layouts come from the mingw-w64 SDK headers
(plus tests/data/bits4_0.json for IBitsTokenOptions, and objidl.h's section for COM's IClientSecurity), never
from our own C#.
"""
from __future__ import annotations

import re
import uuid

import pytest

from tests.support.cs_com_decls import check_source, parse_com_interfaces, swap_methods
from tests.support.paths import MODULE_UTILS, SDK_INCLUDE
from tests.support.sdk_headers import HeaderFormatError, bits_interfaces, interface_section, parse_headers, \
    parse_sections

# The interfaces the core must declare (docs/dev/design.md section 3) and the slots it relies on.
REQUIRED = ("IBackgroundCopyManager", "IEnumBackgroundCopyJobs", "IBackgroundCopyJob",
            "IBitsTokenOptions", "IBackgroundCopyJobHttpOptions", "IBackgroundCopyError", "IClientSecurity")


@pytest.fixture(scope="module")
def sdk():
    return bits_interfaces()


@pytest.fixture(scope="module")
def core_source() -> str:
    """Every C# util of the collection: a declaration anywhere is checked (they belong in BitsCom.cs)."""
    return "\n".join(path.read_text() for path in sorted(MODULE_UTILS.glob("*.cs")))


# --- the header parser reads what docs/dev/design.md section 3 says the SDK holds --------------------------------

@pytest.mark.parametrize("name, iid, slots", [
    ("IBackgroundCopyManager", "5ce34c0d-0dc9-4c1f-897c-daa1b78cee7c",
     {3: "CreateJob", 4: "GetJob", 5: "EnumJobs", 6: "GetErrorDescription"}),
    ("IEnumBackgroundCopyJobs", "1af4f612-3b71-466f-8f58-7b6f73ac57ad",
     {3: "Next", 4: "Skip", 5: "Reset", 6: "Clone", 7: "GetCount"}),
    ("IBackgroundCopyJob", "37668d37-507e-4160-9316-26306d150b12",
     {3: "AddFileSet", 10: "GetId", 14: "GetState", 16: "GetOwner", 18: "GetDisplayName", 34: "TakeOwnership"}),
    ("IBitsTokenOptions", "9a2584c3-f7d2-457a-9a5e-22b67bffc7d2",
     {3: "SetHelperTokenFlags", 4: "GetHelperTokenFlags", 5: "SetHelperToken", 6: "ClearHelperToken",
      7: "GetHelperTokenSid"}),
    ("IBackgroundCopyJobHttpOptions", "f1bd1079-9f01-4bdc-8036-f09b70095066",
     {3: "SetClientCertificateByID", 6: "GetClientCertificate", 10: "GetSecurityFlags"}),
    ("IBackgroundCopyError", "19c613a0-fcb8-4f28-81ae-897c3d078f81",
     {3: "GetError", 4: "GetFile", 5: "GetErrorDescription", 6: "GetErrorContextDescription", 7: "GetProtocol"}),
    ("IClientSecurity", "0000013d-0000-0000-c000-000000000046",
     {3: "QueryBlanket", 4: "SetBlanket", 5: "CopyProxy"}),
])
def test_header_parser_reads_the_documented_layout(sdk, name, iid, slots):
    interface = sdk[name]
    assert interface.iid == uuid.UUID(iid)
    assert interface.slot_names()[:3] == ["QueryInterface", "AddRef", "Release"]
    assert {slot: interface.slot_names()[slot] for slot in slots} == slots
    assert len(interface.methods) == max(slots) + 1


def test_header_parser_walks_inheritance(sdk):
    # IBackgroundCopyJob2 (bits1_5.h) extends IBackgroundCopyJob: its Vtbl repeats the job's 35 slots.
    assert sdk["IBackgroundCopyJob2"].base == "IBackgroundCopyJob"
    assert sdk["IBackgroundCopyJob2"].slot_names()[:35] == sdk["IBackgroundCopyJob"].slot_names()
    assert sdk["IBackgroundCopyJob2"].slot_names()[35] == "SetNotifyCmdLine"


def test_header_parser_refuses_a_vtbl_that_disagrees_with_the_cpp_declaration():
    base = SDK_INCLUDE.joinpath("unknwnbase.h").read_text(errors="replace")
    bits = SDK_INCLUDE.joinpath("bits.h").read_text(errors="replace")
    parse_headers([("unknwnbase.h", base), ("bits.h", bits)])   # the real text parses
    # Swap GetId and GetType in the C Vtbl only: the C++ view still has the real order.
    vtbl = re.search(r"typedef struct IBackgroundCopyJobVtbl \{.*?\} IBackgroundCopyJobVtbl;", bits, re.S).group(0)
    broken_vtbl = vtbl.replace("*GetId)", "*TMP)").replace("*GetType)", "*GetId)").replace("*TMP)", "*GetType)")
    with pytest.raises(HeaderFormatError, match="IBackgroundCopyJob: C Vtbl slots"):
        parse_headers([("unknwnbase.h", base), ("bits.h", bits.replace(vtbl, broken_vtbl))])


def _objidl() -> str:
    return SDK_INCLUDE.joinpath("objidl.h").read_text(errors="replace")


def test_client_security_comes_from_its_objidl_section_alone(sdk):
    section = interface_section(_objidl(), "IClientSecurity", "objidl.h")
    # The section is one interface's: its guard, its IID, its C++ view and its Vtbl, nothing of the next one.
    assert section.startswith("#ifndef __IClientSecurity_INTERFACE_DEFINED__")
    assert section.count("DEFINE_GUID(") == 1 and section.count("Vtbl {") == 1
    assert "IServerSecurity" not in section
    interface = sdk["IClientSecurity"]
    assert (interface.base, interface.source) == ("IUnknown", "objidl.h")
    set_blanket = interface.methods[interface.slot_of("SetBlanket")]
    assert [p.type for p in set_blanket.params] == ["IUnknown *", "DWORD", "DWORD", "OLECHAR *", "DWORD", "DWORD",
                                                    "void *", "DWORD"]
    assert [p.name for p in set_blanket.params][5:] == ["dwImpLevel", "pAuthInfo", "dwCapabilities"]


def test_section_parser_refuses_a_vtbl_that_disagrees_with_the_cpp_declaration(sdk):
    objidl = _objidl()
    bases = {"IUnknown": sdk["IUnknown"]}
    assert parse_sections([("objidl.h", "IClientSecurity", objidl)], bases)["IClientSecurity"] == sdk["IClientSecurity"]
    section = interface_section(objidl, "IClientSecurity", "objidl.h")
    vtbl = re.search(r"typedef struct IClientSecurityVtbl \{.*?\} IClientSecurityVtbl;", section, re.S).group(0)
    swapped = vtbl.replace("*QueryBlanket)", "*TMP)").replace("*SetBlanket)", "*QueryBlanket)") \
        .replace("*TMP)", "*SetBlanket)")
    with pytest.raises(HeaderFormatError, match="IClientSecurity: C Vtbl slots"):
        parse_sections([("objidl.h", "IClientSecurity", objidl.replace(vtbl, swapped))], bases)


def test_section_parser_refuses_a_missing_or_doubled_section(sdk):
    bases = {"IUnknown": sdk["IUnknown"]}
    objidl = _objidl()
    with pytest.raises(HeaderFormatError, match="objidl.h: expected one .*IClientSecurit.* found 0 start"):
        parse_sections([("objidl.h", "IClientSecurit", objidl)], bases)
    section = interface_section(objidl, "IClientSecurity", "objidl.h")
    with pytest.raises(HeaderFormatError, match="found 2 start"):
        parse_sections([("objidl.h", "IClientSecurity", objidl + section)], bases)
    # Its base must be known: a section is parsed on top of the headers read before it.
    with pytest.raises(HeaderFormatError, match="base IUnknown not parsed before it"):
        parse_sections([("objidl.h", "IClientSecurity", objidl)], {})


# --- the core's declarations ---------------------------------------------------------------------

def test_core_declares_the_interfaces_it_needs(core_source):
    assert set(REQUIRED) <= set(parse_com_interfaces(core_source))


def test_core_declarations_match_the_sdk_slot_by_slot(core_source, sdk):
    problems = check_source(core_source, sdk)
    assert problems == [], "\n".join(problems)


def test_core_declares_the_slots_it_calls(core_source):
    # A declaration may stop early, but not before the slots docs/dev/design.md section 3 says the core uses.
    declared = {name: [m.name for m in i.methods] for name, i in parse_com_interfaces(core_source).items()}
    assert "GetJob" in declared["IBackgroundCopyManager"] and "EnumJobs" in declared["IBackgroundCopyManager"]
    assert "Next" in declared["IEnumBackgroundCopyJobs"]
    assert {"GetId", "GetType", "GetTimes", "GetState", "GetError", "GetOwner", "GetDisplayName"} <= \
        set(declared["IBackgroundCopyJob"])
    assert {"GetError", "GetErrorDescription"} <= set(declared["IBackgroundCopyError"])
    assert {"SetHelperTokenFlags", "GetHelperTokenFlags", "GetHelperTokenSid"} <= set(declared["IBitsTokenOptions"])
    assert "GetClientCertificate" in declared["IBackgroundCopyJobHttpOptions"]
    assert {"SetHelperToken", "ClearHelperToken"} <= set(declared["IBitsTokenOptions"])
    assert "SetBlanket" in declared["IClientSecurity"]


# --- the check fails on broken copies (made in memory, never written to the tree) -----------------

def _declaration(source: str, interface: str, method: str) -> str:
    found = {m.name: m for m in parse_com_interfaces(source)[interface].methods}[method]
    return source[found.start:found.end]


def test_check_catches_two_swapped_methods(core_source, sdk):
    broken = swap_methods(core_source, "IBitsTokenOptions", "SetHelperTokenFlags", "GetHelperTokenFlags")
    assert [m.name for m in parse_com_interfaces(broken)["IBitsTokenOptions"].methods][:2] == \
        ["GetHelperTokenFlags", "SetHelperTokenFlags"]
    problems = check_source(broken, sdk)
    assert any("slot 3 is SetHelperTokenFlags" in p and "declared as GetHelperTokenFlags" in p for p in problems)
    assert any("slot 4 is GetHelperTokenFlags" in p for p in problems)


def test_check_catches_swapped_error_methods(core_source, sdk):
    broken = swap_methods(core_source, "IBackgroundCopyError", "GetFile", "GetErrorDescription")
    assert any("slot 4 is GetFile" in p for p in check_source(broken, sdk))


def test_check_catches_swapped_blanket_methods(core_source, sdk):
    broken = swap_methods(core_source, "IClientSecurity", "QueryBlanket", "SetBlanket")
    assert [m.name for m in parse_com_interfaces(broken)["IClientSecurity"].methods] == ["SetBlanket", "QueryBlanket"]
    problems = check_source(broken, sdk)
    assert any("IClientSecurity: slot 3 is QueryBlanket in objidl.h, declared as SetBlanket" in p for p in problems)
    assert any("IClientSecurity: slot 4 is SetBlanket in objidl.h, declared as QueryBlanket" in p for p in problems)


def test_check_catches_a_wrong_client_security_iid(core_source, sdk):
    original = 'Guid("0000013d-0000-0000-c000-000000000046")'
    assert original in core_source
    broken = core_source.replace(original, 'Guid("0000013c-0000-0000-c000-000000000046")')
    assert any(p.startswith("IClientSecurity: Guid 0000013c") for p in check_source(broken, sdk))


def test_check_catches_swapped_job_getters(core_source, sdk):
    broken = swap_methods(core_source, "IBackgroundCopyJob", "GetOwner", "GetState")
    assert any("slot 14 is GetState" in p for p in check_source(broken, sdk))


def test_check_catches_a_skipped_slot(core_source, sdk):
    broken = core_source.replace(_declaration(core_source, "IBackgroundCopyJob", "GetType"), "", 1)
    problems = check_source(broken, sdk)
    assert any("slot 11 is GetType" in p and "declared as GetProgress" in p for p in problems)


def test_check_catches_one_changed_guid_digit(core_source, sdk):
    original = 'Guid("9a2584c3-f7d2-457a-9a5e-22b67bffc7d2")'
    assert original in core_source
    broken = core_source.replace(original, 'Guid("9a2584c3-f7d2-457a-9a5e-22b67bffc7d3")')
    problems = check_source(broken, sdk)
    assert any(p.startswith("IBitsTokenOptions: Guid 9a2584c3") and "22b67bffc7d3 but" in p for p in problems)


def test_check_catches_a_dispatch_interface(core_source, sdk):
    broken = core_source.replace("ComInterfaceType.InterfaceIsIUnknown", "ComInterfaceType.InterfaceIsDual", 1)
    assert any("must be InterfaceIsIUnknown" in p for p in check_source(broken, sdk))


def test_check_catches_a_slot_past_the_end(core_source, sdk):
    last = _declaration(core_source, "IBitsTokenOptions", "GetHelperTokenSid")
    broken = core_source.replace(last, last + "\n        void GetHelperTokenSid2();", 1)
    assert any("slot 8 does not exist" in p for p in check_source(broken, sdk))


def test_check_catches_a_lost_parameter(core_source, sdk):
    declaration = _declaration(core_source, "IBitsTokenOptions", "SetHelperTokenFlags")
    broken = core_source.replace(declaration, "void SetHelperTokenFlags();", 1)
    assert any("SetHelperTokenFlags: 0 native parameters, the SDK has 1" in p for p in check_source(broken, sdk))


def test_check_catches_an_inherited_declaration(core_source, sdk):
    broken = core_source.replace("public interface IBitsTokenOptions\n",
                                 "public interface IBitsTokenOptions : IBackgroundCopyJob\n", 1)
    assert broken != core_source
    assert any("derives from IBackgroundCopyJob" in p for p in check_source(broken, sdk))


def test_check_catches_an_interface_the_sdk_does_not_know(core_source, sdk):
    broken = core_source.replace("interface IBitsTokenOptions", "interface IBitsTokenOption", 1)
    assert any(p.startswith("IBitsTokenOption: no interface") for p in check_source(broken, sdk))


def test_comments_and_strings_do_not_count_as_methods(sdk):
    source = '''
    [ComImport, Guid("9a2584c3-f7d2-457a-9a5e-22b67bffc7d2"), InterfaceType(ComInterfaceType.InterfaceIsIUnknown)]
    public interface IBitsTokenOptions
    {
        // void GetHelperTokenFlags(out uint pFlags);  a comment, not a slot
        /* void ClearHelperToken(); */
        [PreserveSig] int SetHelperTokenFlags(uint UsageFlags);
        uint GetHelperTokenFlags();
    }'''
    assert check_source(source, sdk) == []
    assert [m.name for m in parse_com_interfaces(source)["IBitsTokenOptions"].methods] == \
        ["SetHelperTokenFlags", "GetHelperTokenFlags"]


def test_attributes_in_separate_sections_are_read(sdk):
    source = '''
    [ComImport]
    [Guid("1af4f612-3b71-466f-8f58-7b6f73ac57ad")]
    [InterfaceType(ComInterfaceType.InterfaceIsIUnknown)]
    internal interface IEnumBackgroundCopyJobs
    {
        void Next(uint celt, [MarshalAs(UnmanagedType.Interface)] out object rgelt, out uint pceltFetched);
        void Skip(uint celt);
    }
    public interface INotCom { void Whatever(); }'''
    interfaces = parse_com_interfaces(source)
    assert list(interfaces) == ["IEnumBackgroundCopyJobs"]
    assert check_source(source, sdk) == []
    assert check_source(source.replace("void Skip", "void Reset"), sdk) != []
