"""COM interface layouts (IID and vtable slots) read from the Windows SDK headers.

The C# core declares BITS interfaces with `[ComImport]`; a method declared in the wrong place calls
the wrong function on Windows, and nothing here would notice. So the truth comes from outside our
code: the widl-generated mingw-w64 headers (Debian `mingw-w64-common`). For every interface they hold
`DEFINE_GUID(IID_X, ...)` and the C struct `XVtbl`, which lists every slot in order, inherited ones
(IUnknown's QueryInterface, AddRef, Release) included. The C++ `X : public Y` declaration is read as
well, and the two must agree, so a parsing slip cannot go unnoticed.

`bits4_0.h` (IBitsTokenOptions) is not shipped by Debian; its facts live in tests/data/bits4_0.json.
COM's own interfaces the core uses (IClientSecurity, objidl.h) come from their header's section only: see
INTERFACE_SECTIONS.
"""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

from tests.support.paths import REPO, SDK_INCLUDE

# The widl-generated BITS headers, plus the one that declares IUnknown (the base of every slot table).
# (bitscfg.h, the IIS upload extension, is an older hand-written header in another format: not needed.)
BITS_HEADERS = ("unknwnbase.h", "bits.h", "bits1_5.h", "bits2_0.h", "bits2_5.h", "bits3_0.h",
                "bits5_0.h")
SUPPLEMENT = REPO / "tests" / "data" / "bits4_0.json"
# COM interfaces from headers that are not BITS': (header, interface). objidl.h declares some ninety
# interfaces, several on bases from other headers; only the named interface's `__X_INTERFACE_DEFINED__`
# section is parsed, so the rest of that header can neither slow the parse down nor break it.
INTERFACE_SECTIONS = (("objidl.h", "IClientSecurity"),)

_DEFINE_GUID = re.compile(
    r"DEFINE_GUID\(\s*IID_(\w+)\s*,\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)"
    r"((?:\s*,\s*0x[0-9a-fA-F]+){8})\s*\)")
_VTBL = re.compile(r"typedef struct (\w+)Vtbl \{(.*?)\} \1Vtbl;", re.S)
_VTBL_SLOT = re.compile(r"(\w+)\s*\(STDMETHODCALLTYPE \*(\w+)\)\((.*?)\);", re.S)
_CPP_DECL = re.compile(r"MIDL_INTERFACE\(\"([0-9a-fA-F-]{36})\"\)\s*(\w+)\s*:\s*public\s+(\w+)\s*\{(.*?)\n\};",
                       re.S)
_CPP_METHOD = re.compile(r"virtual \w+ STDMETHODCALLTYPE (\w+)\(")


@dataclass(frozen=True)
class Param:
    type: str       # C type as the header spells it, e.g. "LPWSTR *"
    name: str


@dataclass(frozen=True)
class Method:
    name: str
    returns: str    # "HRESULT" or "ULONG"
    params: tuple[Param, ...]   # without the leading `This`


@dataclass(frozen=True)
class ComInterface:
    name: str
    iid: uuid.UUID
    base: str | None              # None only for IUnknown
    methods: tuple[Method, ...]   # every slot, in vtable order, inherited ones first
    source: str                   # header file (or data file) the facts come from

    def slot_names(self) -> list[str]:
        return [m.name for m in self.methods]

    def slot_of(self, method: str) -> int:
        return self.slot_names().index(method)


# A C++ `MIDL_INTERFACE(iid) X : public Base` declaration: (base name, IID, names of its own methods).
CppDeclaration = tuple[str, uuid.UUID, list[str]]


class HeaderFormatError(ValueError):
    """The headers do not look the way this parser expects; better to stop than to guess."""


def parse_guid_args(first: str, second: str, third: str, rest: str) -> uuid.UUID:
    """DEFINE_GUID's eleven numbers -> a UUID (Data1, Data2, Data3, then eight bytes)."""
    tail = [int(b, 16) for b in re.findall(r"0x[0-9a-fA-F]+", rest)]
    raw = int(first, 16).to_bytes(4, "big") + int(second, 16).to_bytes(2, "big") + \
        int(third, 16).to_bytes(2, "big") + bytes(tail)
    return uuid.UUID(bytes=raw)


def _parse_params(text: str) -> tuple[Param, ...]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    params = []
    for part in parts:
        match = re.fullmatch(r"(.*?)(\w+)\s*(\[\s*\])?", part, re.S)
        if not match or not match.group(1).strip():
            raise HeaderFormatError(f"cannot split parameter {part!r}")
        # `T name[]` in a parameter list is `T *name`; spell it that way for the C generator.
        c_type = " ".join(match.group(1).split()) + (" *" if match.group(3) else "")
        params.append(Param(c_type, match.group(2)))
    if not params or params[0].name != "This":
        raise HeaderFormatError(f"a Vtbl slot must start with This: {text!r}")
    return tuple(params[1:])


def parse_header_text(text: str, source: str) -> tuple[dict[str, uuid.UUID], dict[str, list[Method]],
                                                       dict[str, CppDeclaration]]:
    """One header -> (IIDs by name, Vtbl slots by name, C++ declarations by name)."""
    iids = {m.group(1): parse_guid_args(m.group(2), m.group(3), m.group(4), m.group(5))
            for m in _DEFINE_GUID.finditer(text)}
    vtbls = {}
    for match in _VTBL.finditer(text):
        vtbls[match.group(1)] = [Method(slot.group(2), slot.group(1), _parse_params(slot.group(3)))
                                 for slot in _VTBL_SLOT.finditer(match.group(2))]
    cpp = {m.group(2): (m.group(3), uuid.UUID(m.group(1)), _CPP_METHOD.findall(m.group(4)))
           for m in _CPP_DECL.finditer(text)}
    return iids, vtbls, cpp


def _check_cpp_agrees(name: str, methods: list[Method], cpp: CppDeclaration,
                      iid: uuid.UUID, found: Mapping[str, ComInterface]) -> str:
    """The C++ view (base + own methods) must give the same slots as the C Vtbl; return the base."""
    base, cpp_iid, own = cpp
    if cpp_iid != iid:
        raise HeaderFormatError(f"{name}: MIDL_INTERFACE {cpp_iid} != DEFINE_GUID {iid}")
    if base not in found:
        raise HeaderFormatError(f"{name}: base {base} not parsed before it")
    expected = found[base].slot_names() + own
    if [m.name for m in methods] != expected:
        raise HeaderFormatError(f"{name}: C Vtbl slots {[m.name for m in methods]} != C++ {expected}")
    return base


def parse_headers(texts: Iterable[tuple[str, str]],
                  bases: Mapping[str, ComInterface] | None = None) -> dict[str, ComInterface]:
    """(file name, text) pairs, bases first -> interfaces with an IID and a Vtbl struct.

    `bases`: interfaces parsed before (from other headers) that these may derive from; not returned.
    """
    known: dict[str, ComInterface] = dict(bases or {})
    found: dict[str, ComInterface] = {}
    for source, text in texts:
        iids, vtbls, cpp = parse_header_text(text, source)
        for name, methods in vtbls.items():
            if name not in iids:
                raise HeaderFormatError(f"{source}: {name}Vtbl without DEFINE_GUID(IID_{name})")
            if name == "IUnknown":
                base = None
            elif name in cpp:
                base = _check_cpp_agrees(name, methods, cpp[name], iids[name], known)
            else:
                raise HeaderFormatError(f"{source}: {name} has a Vtbl but no C++ declaration")
            found[name] = known[name] = ComInterface(name, iids[name], base, tuple(methods), source)
    return found


def interface_section(text: str, name: str, source: str) -> str:
    """The text from `#ifndef __X_INTERFACE_DEFINED__` to its `#endif`: one interface's IID, C++ view and Vtbl."""
    begin = f"#ifndef __{name}_INTERFACE_DEFINED__\n"
    end = f"#endif  /* __{name}_INTERFACE_DEFINED__ */"
    if text.count(begin) != 1 or text.count(end) != 1:
        raise HeaderFormatError(f"{source}: expected one {begin.strip()!r} ... {end!r} section for {name}, "
                                f"found {text.count(begin)} start(s) and {text.count(end)} end(s)")
    start, stop = text.index(begin), text.index(end)
    if stop < start:
        raise HeaderFormatError(f"{source}: the end of {name}'s section comes before its start")
    return text[start:stop + len(end)]


def parse_sections(texts: Iterable[tuple[str, str, str]], bases: Mapping[str, ComInterface]) -> dict[str, ComInterface]:
    """(file name, interface name, header text) -> those interfaces, each parsed from its own section only.

    A section goes through the same parser as a whole header (IID, C Vtbl and C++ view cross-checked), on
    top of the interfaces already found (its base among them); it must declare that one interface only.
    """
    result = {}
    for source, name, text in texts:
        parsed = parse_headers([(source, interface_section(text, name, source))], bases)
        if list(parsed) != [name]:
            raise HeaderFormatError(f"{source}: the section of {name} declares {sorted(parsed)}")
        result[name] = parsed[name]
    return result


def load_supplement(path: Path, found: Mapping[str, ComInterface]) -> dict[str, ComInterface]:
    """Interfaces from a data file (own methods only), stacked on their base from the headers."""
    data = json.loads(path.read_text())
    result = {}
    for entry in data["interfaces"]:
        base = found[entry["base"]]
        own = tuple(Method(m["name"], m["returns"], tuple(Param(t, n) for t, n in m["params"]))
                    for m in entry["methods"])
        result[entry["name"]] = ComInterface(entry["name"], uuid.UUID(entry["iid"]), base.name,
                                             base.methods + own, f"{path.name} ({entry['header']})")
    return result


@lru_cache(maxsize=None)
def bits_interfaces(include_dir: Path = SDK_INCLUDE, supplement: Path = SUPPLEMENT) -> Mapping[str, ComInterface]:
    """Every BITS interface the SDK headers (and the bits4_0 supplement) declare, by name."""
    texts = []
    for header in BITS_HEADERS:
        path = include_dir / header
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: install mingw-w64-common (requirements/apt.txt)")
        texts.append((header, path.read_text(errors="replace")))
    found = parse_headers(texts)
    sections = []
    for header, name in INTERFACE_SECTIONS:
        path = include_dir / header
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: install mingw-w64-common (requirements/apt.txt)")
        sections.append((header, name, path.read_text(errors="replace")))
    found.update(parse_sections(sections, found))
    for name, interface in load_supplement(supplement, found).items():
        if name in found:
            raise HeaderFormatError(f"{name} is in the headers now; drop it from {supplement.name}")
        found[name] = interface
    return found


_ENUM = re.compile(r"typedef enum \w+ \{[^}]*\} (\w+);")
_STRUCT = re.compile(r"typedef struct _\w+ \{[^}]*\} (\w+);")


@lru_cache(maxsize=None)
def bits_type_kinds(include_dir: Path = SDK_INCLUDE) -> Mapping[str, str]:
    """The BITS headers' own typedefs: name -> "enum" or "struct" (for the native fake's generator)."""
    kinds: dict[str, str] = {}
    for header in BITS_HEADERS:
        text = (include_dir / header).read_text(errors="replace")
        kinds.update({name: "enum" for name in _ENUM.findall(text)})
        kinds.update({name: "struct" for name in _STRUCT.findall(text)})
    return kinds


def sdk_constant(header: str, name: str) -> int | None:
    """A #define of the mingw-w64 SDK headers as a number; None when the header lacks it."""
    text = SDK_INCLUDE.joinpath(header).read_text(errors="replace")
    found = re.search(r"^#define\s+%s\s+(.+)$" % re.escape(name), text, re.M)
    if not found:
        return None
    value = found.group(1)
    base = re.search(r"\(WINHTTP_ERROR_BASE \+ (\d+)\)", value)
    if base:
        return 12000 + int(base.group(1))
    return int(re.search(r"(0x[0-9A-Fa-f]+|\d+)", value).group(1), 0)


def hresult_from_win32(code: int) -> int:
    return 0x80070000 | code
