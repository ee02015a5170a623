"""A query tree back to query text, for labels and explanations."""

from __future__ import annotations

from typing import assert_never

from monitor.rules import ast


def to_text(node: ast.Node) -> str:
    """The query text of a node, for labels (normalised spacing, explicit AND)."""
    match node:
        case ast.Term():
            return node.text + ("*" if node.prefix else "")
        case ast.Phrase():
            return '"' + " ".join(node.words) + ("*" if node.prefix else "") + '"'
        case ast.Regex():
            return f"/{node.pattern}/"
        case ast.ListRef():
            return f"@{node.name}"
        case ast.Not():
            return f"NOT {_group(node.child)}"
        case ast.FieldScope():
            return f"{node.field}:{_group(node.child)}"
        case ast.Near() | ast.Before():
            op = proximity_label(node)
            return f"{_group(node.left)} {op} {_group(node.right)}"
        case ast.AtLeast():
            return f"ATLEAST {node.count} (" + ", ".join(to_text(c) for c in node.children) + ")"
        case ast.Chain():
            return f"{node.joiner} (" + ", ".join(to_text(c) for c in node.children) + ")"
        case ast.And():
            return " AND ".join(_group(c) for c in node.children)
        case ast.Or():
            return " OR ".join(_group(c) for c in node.children)
        case _:
            assert_never(node)


def proximity_label(node: ast.Near | ast.Before) -> str:
    """``NEAR/5`` or ``BEFORE/5``: the operator as written, for text and explanations."""
    match node:
        case ast.Near():
            return f"NEAR/{node.distance}"
        case ast.Before():
            return f"BEFORE/{node.distance}"
        case _:
            assert_never(node)


def _group(node: ast.Node) -> str:
    text = to_text(node)
    leaf = isinstance(node, (ast.Term, ast.Phrase, ast.Regex, ast.ListRef, ast.AtLeast, ast.Chain))
    return text if leaf else f"({text})"
