"""Each module's .ps1 parses (tree-sitter-pwsh: no ERROR or MISSING node), and the glue points at what exists.

There is no PowerShell here (docs/dev/design.md section 4); tree-sitter with the pwsh grammar is the parser. The
negative tests break the file in memory to show the check notices.
"""
from __future__ import annotations

import re

import pytest

from tests.support.paths import CORE_CS, JOB_INFO_CS, JOB_INFO_PS1, MODULE_PS1, REPO
from tests.support.pwsh import parse, syntax_errors


# Each module's glue and the C# core it must load.
GLUE = {"bits_helper_token": (MODULE_PS1, CORE_CS), "bits_job_info": (JOB_INFO_PS1, JOB_INFO_CS)}


@pytest.fixture(scope="module", params=sorted(GLUE))
def module(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def source(module) -> bytes:
    return GLUE[module][0].read_bytes()


def _token_offsets(source: bytes, token: str) -> list[int]:
    """Byte offsets of every `token` node of the tree (so braces inside strings or comments are not counted)."""
    offsets, stack = [], [parse(source).root_node]
    while stack:
        node = stack.pop()
        if node.type == token:
            offsets.append(node.start_byte)
        stack.extend(node.children)
    return sorted(offsets)


def test_module_parses_without_errors(source):
    tree = parse(source)
    assert syntax_errors(tree) == []
    assert not tree.root_node.has_error


def test_every_closing_brace_is_needed(source):
    braces = _token_offsets(source, "}")
    assert len(braces) >= 5, "the spec and the loop have braces; did the parse change?"
    for offset in braces:
        broken = source[:offset] + source[offset + 1:]
        line = source[:offset].count(b"\n") + 1
        assert syntax_errors(parse(broken)), f"removing the '}}' of line {line} went unnoticed"


def test_every_closing_parenthesis_is_needed(source):
    for offset in _token_offsets(source, ")"):
        broken = source[:offset] + source[offset + 1:]
        assert syntax_errors(parse(broken)), f"removing the ')' at byte {offset} went unnoticed"


def test_an_unterminated_string_is_an_error(source):
    broken = source.replace(b"type = 'bool'", b"type = 'bool", 1)
    assert broken != source
    assert syntax_errors(parse(broken))


def test_a_stray_brace_is_an_error(source):
    broken = source.replace(b"$module.ExitJson()", b"}\n$module.ExitJson()", 1)
    assert broken != source
    assert syntax_errors(parse(broken))


# --- the glue refers to things that exist -------------------------------------------------------------

def test_requires_resolve_to_files_of_the_collection(module, source):
    # `#AnsibleRequires -CSharpUtil ..module_utils.X` is relative to plugins/modules/ (one dot per level).
    relative = re.findall(rb"^#AnsibleRequires -CSharpUtil (\.+[\w.]+)\s*$", source, re.M)
    assert relative, "the module should load its C# core with a relative #AnsibleRequires"
    for name in relative:
        dots = len(name) - len(name.lstrip(b"."))
        # One dot is plugins/modules/ itself, each further dot one folder up.
        base = GLUE[module][0].parents[dots - 1]
        path = base.joinpath(*name.lstrip(b".").decode().split(".")).with_suffix(".cs")
        assert path.exists(), f"{name.decode()} -> {path.relative_to(REPO)} does not exist"
        assert path == GLUE[module][1]


def test_glue_calls_a_type_and_method_the_core_defines(module, source):
    type_name = re.search(rb"\[(ansible_collections\.[\w.]+)\]", source).group(1).decode()
    namespace, class_name = type_name.rsplit(".", 1)
    core = GLUE[module][1].read_text()
    assert re.search(rf"^namespace {re.escape(namespace)}\s*$", core, re.M), namespace
    assert re.search(rf"\bpublic static class {class_name}\b", core), class_name
    for method in re.findall(rb"\$core::(\w+)\(", source):
        assert re.search(rf"public static [\w<>, ]+ {method.decode()}\(", core), method.decode()
