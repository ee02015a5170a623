"""The query language's syntax tree, shared by rule matching and archive search.

``pos`` on every node is the 1-based column in the query text, for error messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

FieldName = Literal["title", "summary"]


@dataclass(frozen=True)
class Term:
    """A word. ``exact_case`` when written in capitals (US, ROK); ``prefix`` for ``miner*``."""

    text: str
    pos: int = 0
    exact_case: bool = False
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    """A "quoted phrase": its words in order, adjacent."""

    words: tuple[str, ...]
    pos: int = 0
    exact_case: bool = False  # some word is written in capitals (checked per word)
    prefix: bool = False  # the last word ends with ``*``


@dataclass(frozen=True)
class Regex:
    pattern: str
    pos: int = 0


@dataclass(frozen=True)
class ListRef:
    """``@name``: a term list from rules/lists/, expanded when rules are compiled."""

    name: str
    pos: int = 0


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]
    pos: int = 0


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]
    pos: int = 0


@dataclass(frozen=True)
class Not:
    child: Node
    pos: int = 0


@dataclass(frozen=True)
class Near:
    """``a NEAR/n b``: within n words (CJK: characters, see docs/rules.md), either order."""

    left: Node
    right: Node
    distance: int
    pos: int = 0


@dataclass(frozen=True)
class AtLeast:
    """``ATLEAST n (a, b, c)``: at least n of the children are true."""

    count: int
    children: tuple[Node, ...]
    pos: int = 0


@dataclass(frozen=True)
class FieldScope:
    """``title:(...)`` or ``summary:(...)``: the child is evaluated on that field only."""

    field: FieldName
    child: Node
    pos: int = 0


Node = Term | Phrase | Regex | ListRef | And | Or | Not | Near | AtLeast | FieldScope


def list_names(node: Node) -> Iterator[str]:
    if isinstance(node, ListRef):
        yield node.name
    elif isinstance(node, (And, Or, AtLeast)):
        for child in node.children:
            yield from list_names(child)
    elif isinstance(node, (Not, FieldScope)):
        yield from list_names(node.child)
    elif isinstance(node, Near):
        yield from list_names(node.left)
        yield from list_names(node.right)
