"""PowerShell, read without PowerShell: tree-sitter with the tree-sitter-pwsh grammar.

It is not PowerShell's own parser (it gives false errors on a few valid constructs: `-cin`, nested
generic type literals, `break label`; and misses `catch` without `try`), but a missing brace, an
unterminated string or a stray `'@` show up as ERROR or MISSING nodes.
`literal_value` turns the literal part of the tree (hashtables, arrays, strings, numbers, $true,
$false, $null) into Python values and refuses anything else, so an argument spec that computes
something is reported rather than guessed at.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import tree_sitter
import tree_sitter_pwsh


class NotALiteral(ValueError):
    """The expression is not a plain literal (it calls, expands or computes something)."""


@lru_cache(maxsize=1)
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))


def parse(source: bytes) -> tree_sitter.Tree:
    return _parser().parse(source)


def syntax_errors(tree: tree_sitter.Tree) -> list[str]:
    """Every ERROR or MISSING node, as "line:column kind text" (1-based)."""
    problems = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            kind = "MISSING " + node.type if node.is_missing else "ERROR"
            text = node.text.decode(errors="replace")[:40] if node.text else ""
            problems.append(f"{node.start_point[0] + 1}:{node.start_point[1] + 1} {kind} {text!r}")
        if node.has_error or node.is_error:
            stack.extend(node.children)
    return sorted(problems)


def find_assignment(tree: tree_sitter.Tree, variable: str) -> tree_sitter.Node:
    """The value node of the top-level `$variable = ...` (the only one: a second is an error)."""
    found = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "assignment_expression":
            left = node.child_by_field_name("left") or node.children[0]
            if left.text.decode().strip().lower() == f"${variable}".lower():
                found.append(node.children[-1])
        stack.extend(node.children)
    if len(found) != 1:
        raise LookupError(f"expected one assignment to ${variable}, found {len(found)}")
    return found[0]


_PASS_THROUGH = {"assignment_value", "pipeline", "pipeline_chain", "unary_expression", "statement_list",
                 "parenthesized_expression", "integer_literal"}


def _children(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    return [c for c in node.named_children if c.type != "comment"]


def _string(node: tree_sitter.Node) -> str:
    text = node.text.decode()
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    if text.startswith('"') and text.endswith('"') and not any(c in text[1:-1] for c in "$`"):
        return text[1:-1]
    raise NotALiteral(f"not a constant string: {text}")


def _key(node: tree_sitter.Node) -> str:
    text = node.text.decode().strip()
    return _string(node) if text[:1] in "'\"" else text


def literal_value(node: tree_sitter.Node) -> Any:
    """A PowerShell literal expression -> dict / list / str / int / bool / None."""
    kind = node.type
    if kind == "hash_literal_expression":
        body = [c for c in _children(node) if c.type == "hash_literal_body"]
        entries = _children(body[0]) if body else []
        result = {}
        for entry in entries:
            if entry.type != "hash_entry":
                raise NotALiteral(f"unexpected {entry.type} in a hashtable")
            key_node, value_node = _children(entry)[0], _children(entry)[-1]
            key = _key(key_node)
            if key.lower() in {k.lower() for k in result}:
                raise NotALiteral(f"duplicate key {key}")  # PowerShell refuses it at run time
            result[key] = literal_value(value_node)
        return result
    if kind == "array_literal_expression":
        return [literal_value(c) for c in _children(node)]
    if kind == "array_expression":
        inner = _children(node)
        if not inner:
            return []
        value = literal_value(inner[0])
        return value if isinstance(value, list) else [value]
    if kind == "string_literal":
        return _string(node)
    if kind == "decimal_integer_literal":
        return int(node.text.decode())
    if kind == "hexadecimal_integer_literal":
        return int(node.text.decode(), 16)
    if kind == "variable":
        name = node.text.decode().lower()
        constants = {"$true": True, "$false": False, "$null": None}
        if name in constants:
            return constants[name]
        raise NotALiteral(f"variable {node.text.decode()}")
    if kind in _PASS_THROUGH and len(_children(node)) == 1:
        return literal_value(_children(node)[0])
    raise NotALiteral(f"{kind}: {node.text.decode()[:60]!r}")
