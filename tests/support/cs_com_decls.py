"""Read the `[ComImport]` interface declarations of a C# source, and check them against the SDK.

The runtime dispatches a COM call by slot number: the n-th method declared in a `[ComImport]`
interface is vtable slot 3 + n (after IUnknown's three). So the only facts that matter are the
interface GUID, `InterfaceIsIUnknown`, and the order of the method names; parameters are counted to
catch a method whose signature lost or gained an argument. A small scanner (comments and strings
blanked, balanced brackets) is enough for the declarations this project writes; anything it does not
understand inside a `[ComImport]` interface is reported as a problem rather than skipped.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Mapping

from tests.support.sdk_headers import ComInterface

IUNKNOWN_SLOTS = 3


@dataclass(frozen=True)
class CsMethod:
    name: str
    returns: str
    param_count: int
    preserve_sig: bool
    start: int      # offsets of the whole declaration (attributes included) in the source
    end: int        # just after its `;`


@dataclass(frozen=True)
class CsInterface:
    name: str
    guid: uuid.UUID | None
    interface_type: str | None   # e.g. "ComInterfaceType.InterfaceIsIUnknown"
    bases: str | None            # text after `:`, if any
    methods: tuple[CsMethod, ...]
    problems: tuple[str, ...]    # what the scanner could not make sense of


def blank_comments_and_strings(source: str) -> str:
    """Same length, comments and string contents replaced by spaces, so offsets stay valid.

    Attribute arguments such as Guid("...") are strings too; they are read from the original text.
    """
    out = list(source)
    pattern = re.compile(r'//[^\n]*|/\*.*?\*/|@"(?:[^"]|"")*"|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'', re.S)
    for match in pattern.finditer(source):
        text = match.group(0)
        keep_quotes = text[0] in "\"'@"
        for i in range(match.start(), match.end()):
            if source[i] == "\n":
                continue
            if keep_quotes and (i == match.start() or i == match.end() - 1 or
                                (text[0] == "@" and i == match.start() + 1)):
                continue
            out[i] = " "
    return "".join(out)


def _matching(text: str, open_at: int) -> int:
    """Index of the bracket closing the one at open_at ( (, [ or { )."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack = []
    for i in range(open_at, len(text)):
        if text[i] in pairs:
            stack.append(pairs[text[i]])
        elif stack and text[i] == stack[-1]:
            stack.pop()
            if not stack:
                return i
    raise ValueError(f"unbalanced bracket at offset {open_at}")


def _split_top_level(text: str, separator: str) -> list[str]:
    parts, depth, current = [], 0, []
    for char in text:
        if char in "([{<":
            depth += 1
        elif char in ")]}>":
            depth -= 1
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def _leading_attributes(decl: str) -> tuple[list[str], str]:
    """Split `[A] [B, C] rest` into (["A", "B, C"], "rest")."""
    attributes = []
    rest = decl.lstrip()
    while rest.startswith("["):
        close = _matching(rest, 0)
        attributes.append(rest[1:close])
        rest = rest[close + 1:].lstrip()
    return attributes, rest


def _strip_all_attributes(text: str) -> str:
    """Drop every `[...]` that is an attribute (not an empty array rank `[]` or `[,]`)."""
    result, i = [], 0
    while i < len(text):
        if text[i] == "[":
            close = _matching(text, i)
            if text[i + 1:close].strip(" ,"):
                i = close + 1
                continue
        result.append(text[i])
        i += 1
    return "".join(result)


def _parse_method(decl: str, start: int, end: int) -> CsMethod | str:
    attributes, rest = _leading_attributes(decl)
    preserve_sig = any(re.fullmatch(r"\s*PreserveSig(Attribute)?\s*(\(\s*\))?\s*", a) for a in attributes)
    signature = _strip_all_attributes(rest)
    match = re.fullmatch(r"\s*(?:new\s+)?([\w.<>\[\], ]+?)\s+(\w+)\s*\((.*)\)\s*", signature, re.S)
    if not match:
        return f"cannot read this member as a method: {' '.join(decl.split())!r}"
    params = _split_top_level(match.group(3), ",")
    return CsMethod(match.group(2), match.group(1).strip(), len(params), preserve_sig, start, end)


_INTERFACE = re.compile(r"\binterface\s+(\w+)\s*(:[^{]*)?\{")


def _attributes_before(clean: str, source: str, position: int) -> list[tuple[str, str]]:
    """The attribute sections directly before position (modifiers skipped), as (clean, original) text."""
    sections = []
    i = position
    while True:
        prefix = clean[:i].rstrip()
        modifiers = re.search(r"(?:\b(?:public|internal|private|protected|partial|unsafe)\s*)+$", prefix)
        if modifiers:
            prefix = prefix[:modifiers.start()].rstrip()
        if not prefix.endswith("]"):
            return sections
        depth, j = 0, len(prefix) - 1
        while j >= 0:
            depth += {"]": 1, "[": -1}.get(prefix[j], 0)
            if depth == 0:
                break
            j -= 1
        sections.insert(0, (clean[j + 1:len(prefix) - 1], source[j + 1:len(prefix) - 1]))
        i = j


def parse_com_interfaces(source: str) -> dict[str, CsInterface]:
    """Every interface marked `[ComImport]` in a C# source, by name, methods in declaration order."""
    clean = blank_comments_and_strings(source)
    found = {}
    for match in _INTERFACE.finditer(clean):
        sections = _attributes_before(clean, source, match.start())
        attribute_text = " ".join(original for cleaned, original in sections)
        clean_attributes = " ".join(cleaned for cleaned, original in sections)
        if not re.search(r"\bComImport(Attribute)?\b", clean_attributes):
            continue
        guid_match = re.search(r"\bGuid(?:Attribute)?\s*\(\s*\"([^\"]*)\"\s*\)", attribute_text)
        type_match = re.search(r"\bInterfaceType(?:Attribute)?\s*\(\s*([^)]*?)\s*\)", clean_attributes)
        problems = []
        guid = None
        if guid_match:
            try:
                guid = uuid.UUID(guid_match.group(1))
            except ValueError:
                problems.append(f"Guid({guid_match.group(1)!r}) is not a GUID")
        open_brace = match.end() - 1
        close_brace = _matching(clean, open_brace)
        methods = []
        offset = open_brace + 1
        for piece in clean[open_brace + 1:close_brace].split(";"):
            piece_start, piece_end = offset, offset + len(piece) + 1
            offset = piece_end
            if not piece.strip():
                continue
            if "{" in piece or "}" in piece:
                problems.append(f"a member with a body or accessors: {' '.join(piece.split())!r}")
                continue
            start = piece_start + (len(piece) - len(piece.lstrip()))
            parsed = _parse_method(piece, start, piece_end)
            if isinstance(parsed, str):
                problems.append(parsed)
            else:
                methods.append(parsed)
        bases = match.group(2)[1:].strip() if match.group(2) else None
        found[match.group(1)] = CsInterface(match.group(1), guid, type_match.group(1) if type_match else None,
                                            bases, tuple(methods), tuple(problems))
    return found


def _expected_param_count(method: CsMethod) -> int:
    """Native parameters (without This) that a C# declaration stands for.

    Without PreserveSig, a non-void return value is the native method's last [out, retval] parameter.
    """
    if method.preserve_sig or method.returns == "void":
        return method.param_count
    return method.param_count + 1


def check_interface(cs: CsInterface, sdk: ComInterface) -> list[str]:
    """Every way a C# declaration differs from the SDK's layout of the same interface."""
    problems = [f"{cs.name}: {p}" for p in cs.problems]
    if cs.guid != sdk.iid:
        problems.append(f"{cs.name}: Guid {cs.guid} but the SDK's IID_{sdk.name} is {sdk.iid} ({sdk.source})")
    if cs.interface_type != "ComInterfaceType.InterfaceIsIUnknown":
        problems.append(f"{cs.name}: InterfaceType is {cs.interface_type!r}, must be InterfaceIsIUnknown "
                        "(otherwise the runtime puts IDispatch's four slots first)")
    if cs.bases:
        problems.append(f"{cs.name}: derives from {cs.bases}; a [ComImport] interface must redeclare base "
                        "methods instead (the runtime does not put inherited members in the vtable)")
    slots = sdk.methods[IUNKNOWN_SLOTS:]
    if sdk.slot_names()[:IUNKNOWN_SLOTS] != ["QueryInterface", "AddRef", "Release"]:
        problems.append(f"{cs.name}: the SDK interface does not start with IUnknown's slots")
    for index, method in enumerate(cs.methods):
        slot = IUNKNOWN_SLOTS + index
        if index >= len(slots):
            problems.append(f"{cs.name}.{method.name}: slot {slot} does not exist; {sdk.name} has "
                            f"{len(sdk.methods)} slots")
            continue
        expected = slots[index]
        if method.name != expected.name:
            problems.append(f"{cs.name}: slot {slot} is {expected.name} in {sdk.source}, declared as {method.name}")
        elif _expected_param_count(method) != len(expected.params):
            problems.append(f"{cs.name}.{method.name}: {_expected_param_count(method)} native parameters, "
                            f"the SDK has {len(expected.params)}")
    return problems


def check_source(source: str, sdk: Mapping[str, ComInterface]) -> list[str]:
    """Check every [ComImport] interface of a C# source; an interface the SDK lacks is a problem too."""
    interfaces = parse_com_interfaces(source)
    if not interfaces:
        return ["no [ComImport] interface found"]
    problems = []
    for name, cs in interfaces.items():
        if name not in sdk:
            problems.append(f"{name}: no interface of that name in the SDK headers or tests/data")
            continue
        problems.extend(check_interface(cs, sdk[name]))
    return problems


def swap_methods(source: str, interface: str, first: str, second: str) -> str:
    """A copy of source with two method declarations of one [ComImport] interface exchanged."""
    methods = {m.name: m for m in parse_com_interfaces(source)[interface].methods}
    a, b = sorted((methods[first], methods[second]), key=lambda m: m.start)
    return (source[:a.start] + source[b.start:b.end] + source[a.end:b.start] +
            source[a.start:a.end] + source[b.end:])
