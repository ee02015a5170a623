"""Where a query error is in the YAML file: line, column and the source line for the caret.

A rule's query is a YAML scalar (plain, quoted or a block), so a column inside the query is
mapped back through the scalar's node to a position in the file.
"""

from __future__ import annotations

import yaml


def value_nodes(text: str) -> dict[str, yaml.Node]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    if not isinstance(root, yaml.MappingNode):
        return {}
    return {k.value: v for k, v in root.value if isinstance(k, yaml.ScalarNode)}


def locate(lines: list[str], node: yaml.Node | None, offset: int) -> tuple[int, int, str]:
    """(line, column, source line), 1-based, of character ``offset`` of a scalar's value."""
    if node is None:
        return 0, 0, ""
    start = node.start_mark
    style = getattr(node, "style", None)
    if style in ("|", ">"):
        ln = start.line + 1
        indent = None
        remaining = offset
        while ln < len(lines):
            raw = lines[ln]
            if not raw.strip():
                remaining -= 1
                ln += 1
                continue
            if indent is None:
                indent = len(raw) - len(raw.lstrip(" "))
            content = raw[indent:]
            if remaining <= len(content):
                return ln + 1, indent + max(remaining, 0) + 1, raw
            remaining -= len(content) + 1
            ln += 1
        return start.line + 1, start.column + 1, lines[start.line] if lines else ""
    if style in ('"', "'"):
        raw = lines[start.line] if start.line < len(lines) else ""
        return start.line + 1, start.column + 2 + offset, raw
    # Plain scalar: continuation lines are joined with single spaces.
    ln, col, remaining = start.line, start.column, offset
    while ln < len(lines):
        raw = lines[ln]
        content = raw[col:].rstrip()
        if remaining <= len(content):
            return ln + 1, col + remaining + 1, raw
        remaining -= len(content) + 1
        ln += 1
        if ln < len(lines):
            col = len(lines[ln]) - len(lines[ln].lstrip())
    return start.line + 1, start.column + 1, lines[start.line] if lines else ""
