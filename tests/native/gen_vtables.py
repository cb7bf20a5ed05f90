"""Write the native fake's COM types and vtables from the SDK headers, then build it with gcc.

The point of the native fake is to check our C# declarations against an object laid out by someone
else. So nothing about slots is written by hand: this generator takes every interface's slots (names,
return types, parameter types, order) from tests/support/sdk_headers.py and writes
  .build/native/fake_bits_vtables.h  interface and `XVtbl` struct types, IIDs, prototypes of impl_*,
                                      and the fields of the BITS structs an implemented slot writes into
  .build/native/fake_bits_vtables.c  IID values, E_NOTIMPL stubs for slots the fake does not implement,
                                      and one vtable per interface, filled by designated initialisers.
The hand-written fake_bits.c only defines functions named impl_<Interface>_<Method>; gcc then checks
each one against the header's signature for that slot (a wrong signature is an incompatible-pointer
error), and a name that is no slot of that interface stops the generator.
"""
from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from tests.support.paths import BUILD, REPO, SDK_INCLUDE
from tests.support.sdk_headers import BITS_HEADERS, ComInterface, Method, bits_interfaces, bits_type_kinds

NATIVE_SRC = REPO / "tests" / "native"
IMPLEMENTATION = NATIVE_SRC / "fake_bits.c"
OUT_DIR = BUILD / "native"
LIBRARY_NAME = "fakebits"     # DllImport("fakebits") finds lib{name}.so through LD_LIBRARY_PATH
IUNKNOWN_METHODS = ("QueryInterface", "AddRef", "Release")
# Types wintypes.h defines; every other type name must be a BITS enum/struct or an interface.
BASE_TYPES = {"HRESULT", "ULONG", "DWORD", "LONG", "BOOL", "BYTE", "WCHAR", "OLECHAR", "LPWSTR", "LPCWSTR", "UINT64",
              "GUID", "IID", "REFGUID", "REFIID", "FILETIME", "void", "const"}
_IMPL = re.compile(r"^[ \t]*(?:HRESULT|ULONG)[ \t]+impl_([A-Za-z0-9]+)_(\w+)[ \t]*\(", re.M)
# A widl struct typedef (`typedef struct _X { ... } X;`) and one plain field of it (`TYPE Name;`).
_STRUCT_TYPEDEF = re.compile(r"typedef struct _(\w+) \{([^{}]*)\} \1;")
_STRUCT_FIELD = re.compile(r"(\w+)\s+(\w+);")
Layouts = Mapping[str, list[tuple[str, str]]]   # struct name -> [(field type, field name)] in header order


class GeneratorError(ValueError):
    """The implementation names something the SDK does not declare, or misses IUnknown."""


@dataclass(frozen=True)
class Generated:
    header: Path
    source: Path


def implemented_methods(c_source: str, sdk: Mapping[str, ComInterface]) -> dict[str, set[str]]:
    """impl_<Interface>_<Method> definitions in the hand-written C, checked against the SDK."""
    found: dict[str, set[str]] = {}
    for interface, method in _IMPL.findall(c_source):
        if interface not in sdk:
            raise GeneratorError(f"impl_{interface}_{method}: no interface {interface} in the SDK headers")
        if method not in sdk[interface].slot_names():
            raise GeneratorError(f"impl_{interface}_{method}: {interface} has no method {method} "
                                 f"(slots: {', '.join(sdk[interface].slot_names())})")
        found.setdefault(interface, set()).add(method)
    for interface, methods in found.items():
        missing = [m for m in IUNKNOWN_METHODS if m not in methods]
        if missing:
            raise GeneratorError(f"{interface}: the fake must implement IUnknown's {', '.join(missing)} itself")
    return found


def _type_names(c_type: str) -> list[str]:
    return re.findall(r"[A-Za-z_]\w*", c_type)


def _check_types(interfaces: Sequence[ComInterface], sdk: Mapping[str, ComInterface],
                 kinds: Mapping[str, str]) -> None:
    unknown = {name for interface in interfaces for method in interface.methods for param in method.params
               for name in _type_names(param.type) if name not in BASE_TYPES and name not in kinds
               and name not in sdk}
    if unknown:
        raise GeneratorError(f"types neither in wintypes.h nor in the BITS headers: {sorted(unknown)}")


def header_structs(include_dir: Path = SDK_INCLUDE) -> dict[str, list[tuple[str, str]]]:
    """BITS structs whose fields are all plain `TYPE Name;` lines: name -> [(type, field)] in header order.

    Structs with a union, an array or a `T *` field are left out: the fake only ever passes those on.
    """
    structs: dict[str, list[tuple[str, str]]] = {}
    for header in BITS_HEADERS:
        for match in _STRUCT_TYPEDEF.finditer((include_dir / header).read_text(errors="replace")):
            lines = [line.strip() for line in match.group(2).splitlines() if line.strip()]
            fields = [_STRUCT_FIELD.fullmatch(line) for line in lines]
            if lines and all(fields):
                structs[match.group(1)] = [(field.group(1), field.group(2)) for field in fields if field]
    return structs


def written_structs(interfaces: Sequence[ComInterface], implemented: Mapping[str, set[str]], structs: Layouts,
                    kinds: Mapping[str, str]) -> dict[str, list[tuple[str, str]]]:
    """The structs an implemented slot takes a pointer to, with their fields when every field type is known
    (a base type or a BITS enum). The fake can only fill in a struct whose layout it has."""
    wanted = {name for interface in interfaces for method in interface.methods
              if method.name in implemented.get(interface.name, set())
              for param in method.params for name in _type_names(param.type) if kinds.get(name) == "struct"}
    return {name: structs[name] for name in sorted(wanted) if name in structs
            and all(t in BASE_TYPES or kinds.get(t) == "enum" for t, _field in structs[name])}


def _signature(interface: str, method: Method, name: str) -> str:
    params = [f"{interface} *This"] + [f"{p.type} {p.name}" for p in method.params]
    return f"{method.returns} {name}({', '.join(params)})"


def _guid_initialiser(iid) -> str:
    fields = iid.fields
    data4 = iid.bytes[8:]
    return (f"{{0x{fields[0]:08x}, 0x{fields[1]:04x}, 0x{fields[2]:04x}, "
            f"{{{', '.join(f'0x{b:02x}' for b in data4)}}}}}")


def render_header(sdk: Mapping[str, ComInterface], kinds: Mapping[str, str],
                  implemented: Mapping[str, set[str]], layouts: Layouts | None = None) -> str:
    layouts = {} if layouts is None else layouts
    lines = ["/* Generated by tests/native/gen_vtables.py from the SDK headers. Do not edit. */",
             "#ifndef FAKE_BITS_VTABLES_H", "#define FAKE_BITS_VTABLES_H", "", "#include <stddef.h>",
             '#include "wintypes.h"', "",
             "/* BITS enums are C enums: int-sized. Structs are passed by pointer; the ones an implemented slot",
             "   writes into get their fields, in the header's order, below. */"]
    lines += [f"typedef int32_t {name};" if kind == "enum" else f"typedef struct {name} {name};"
              for name, kind in sorted(kinds.items())]
    for name, fields in layouts.items():
        lines += ["", f"struct {name} {{"] + [f"    {c_type} {field};" for c_type, field in fields] + ["};"]
    lines += ["", "/* Every interface the headers declare (most only ever appear behind a pointer). */"]
    lines += [f"typedef struct {name} {name};" for name in sdk]
    for name in sorted(implemented):
        interface = sdk[name]
        lines += ["", f"/* {name} {{{interface.iid}}}, {interface.source}: {len(interface.methods)} slots */",
                  f"struct {name}Vtbl {{"]
        lines += [f"    {m.returns} (STDMETHODCALLTYPE *{m.name})"
                  f"({', '.join([f'{name} *This'] + [f'{p.type} {p.name}' for p in m.params])});  /* slot {i} */"
                  for i, m in enumerate(interface.methods)]
        lines += ["};", f"struct {name} {{ const struct {name}Vtbl *lpVtbl; }};",
                  f"extern const struct {name}Vtbl {name}_vtbl;",
                  f"extern const char *const {name}_slot_names[{len(interface.methods)}];"]
        lines += [_signature(name, m, f"impl_{name}_{m.name}") + ";"
                  for m in interface.methods if m.name in implemented[name]]
    lines += ["", "/* IIDs, from DEFINE_GUID (and tests/data/bits4_0.json) */"]
    lines += [f"extern const GUID IID_{name};" for name in sdk]
    lines += ["", "struct fake_known_iid { const char *name; const GUID *iid; };",
              "extern const struct fake_known_iid fake_known_iids[];", "extern const int fake_known_iid_count;",
              "", "/* Defined by the hand-written fake: records a call that reached a generated stub. */",
              "void fake_bits_unimplemented(const char *interface_name, const char *method);", "", "#endif", ""]
    return "\n".join(lines)


def _stub(name: str, method: Method) -> list[str]:
    if method.returns != "HRESULT":
        raise GeneratorError(f"{name}.{method.name} returns {method.returns}: implement it, no stub fits")
    unused = "".join(f" (void){p.name};" for p in method.params)
    return [f"static {_signature(name, method, f'stub_{name}_{method.name}')}",
            f"{{ (void)This;{unused} fake_bits_unimplemented(\"{name}\", \"{method.name}\"); return E_NOTIMPL; }}"]


def render_source(sdk: Mapping[str, ComInterface], implemented: Mapping[str, set[str]]) -> str:
    lines = ["/* Generated by tests/native/gen_vtables.py from the SDK headers. Do not edit. */",
             '#include "fake_bits_vtables.h"', ""]
    lines += [f"const GUID IID_{name} = {_guid_initialiser(i.iid)};  /* {i.iid} */" for name, i in sdk.items()]
    lines += ["", "const struct fake_known_iid fake_known_iids[] = {"]
    lines += [f'    {{"{name}", &IID_{name}}},' for name in sdk]
    lines += ["};", f"const int fake_known_iid_count = {len(sdk)};"]
    for name in sorted(implemented):
        interface = sdk[name]
        lines += ["", f"/* {name} */"]
        for method in interface.methods:
            if method.name not in implemented[name]:
                lines += _stub(name, method)
        lines += [f"const char *const {name}_slot_names[{len(interface.methods)}] = {{"]
        lines += [f'    "{m.name}",' for m in interface.methods]
        lines += ["};", f"const struct {name}Vtbl {name}_vtbl = {{"]
        for method in interface.methods:
            prefix = "impl" if method.name in implemented[name] else "stub"
            lines.append(f"    .{method.name} = {prefix}_{name}_{method.name},")
        lines.append("};")
        # The struct is generated in header order; these say the same thing in the terms of the ABI.
        lines += [f"_Static_assert(offsetof(struct {name}Vtbl, {m.name}) == {i} * sizeof(void *), "
                  f"\"{name}.{m.name} is slot {i}\");" for i, m in enumerate(interface.methods)]
    return "\n".join(lines) + "\n"


def generate(out_dir: Path = OUT_DIR, implementation: Path = IMPLEMENTATION,
             sdk: Mapping[str, ComInterface] | None = None) -> Generated:
    """Write the generated header and source for the fake into out_dir."""
    sdk = bits_interfaces() if sdk is None else sdk
    kinds = bits_type_kinds()
    implemented = implemented_methods(implementation.read_text(), sdk)
    interfaces = [sdk[name] for name in implemented]
    _check_types(interfaces, sdk, kinds)
    layouts = written_structs(interfaces, implemented, header_structs(), kinds)
    out_dir.mkdir(parents=True, exist_ok=True)
    header, source = out_dir / "fake_bits_vtables.h", out_dir / "fake_bits_vtables.c"
    _replace_atomically(header, render_header(sdk, kinds, implemented, layouts))
    _replace_atomically(source, render_source(sdk, implemented))
    return Generated(header, source)


def _replace_atomically(path: Path, text: str) -> None:
    """Another test run may be compiling from the same .build/ right now: never show it half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(text)
    os.replace(temporary, path)


def build_fake_bits(out_dir: Path = OUT_DIR, implementation: Path = IMPLEMENTATION) -> Path:
    """Generate, then compile the fake as lib<LIBRARY_NAME>.so; return the library's path."""
    generated = generate(out_dir, implementation)
    library = out_dir / f"lib{LIBRARY_NAME}.so"
    temporary = out_dir / f".lib{LIBRARY_NAME}.so.{os.getpid()}"
    command = ["gcc", "-shared", "-fPIC", "-std=c11", "-g", "-O1", "-Wall", "-Wextra", "-Werror",
               "-Werror=incompatible-pointer-types", "-fvisibility=hidden", f"-I{NATIVE_SRC}", f"-I{out_dir}",
               "-o", str(temporary), str(implementation), str(generated.source)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise AssertionError(f"gcc failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    os.replace(temporary, library)   # a Mono process loading the old one keeps its own mapping
    return library


if __name__ == "__main__":
    print(build_fake_bits())
