"""A query tree back to query text, for labels and explanations."""

from __future__ import annotations

from monitor.rules import ast


def to_text(node: ast.Node) -> str:
    """The query text of a node, for labels (normalised spacing, explicit AND)."""
    if isinstance(node, ast.Term):
        return node.text + ("*" if node.prefix else "")
    if isinstance(node, ast.Phrase):
        return '"' + " ".join(node.words) + ("*" if node.prefix else "") + '"'
    if isinstance(node, ast.Regex):
        return f"/{node.pattern}/"
    if isinstance(node, ast.ListRef):
        return f"@{node.name}"
    if isinstance(node, ast.Not):
        return f"NOT {_group(node.child)}"
    if isinstance(node, ast.FieldScope):
        return f"{node.field}:{_group(node.child)}"
    if isinstance(node, ast.Near):
        return f"{_group(node.left)} NEAR/{node.distance} {_group(node.right)}"
    if isinstance(node, ast.AtLeast):
        return f"ATLEAST {node.count} (" + ", ".join(to_text(c) for c in node.children) + ")"
    joiner = " AND " if isinstance(node, ast.And) else " OR "
    return joiner.join(_group(c) for c in node.children)


def _group(node: ast.Node) -> str:
    text = to_text(node)
    leaf = isinstance(node, (ast.Term, ast.Phrase, ast.Regex, ast.ListRef, ast.AtLeast))
    return text if leaf else f"({text})"
