"""The query language's syntax tree, shared by rule matching and archive search.

``pos`` on every node is the 1-based column in the query text, for error messages. Every
node exposes ``children`` (empty for a leaf). Code that needs to know the kind of a node is a
``match`` over ``Node`` ending in ``assert_never``, so that mypy names every place a new
operator must be handled (docs/architecture.md, "Adding an operator").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, assert_never

FieldName = Literal["title", "summary", "body"]


@dataclass(frozen=True)
class Term:
    """A word. ``exact_case`` when written in capitals (US, ROK); ``prefix`` for ``miner*``."""

    text: str
    pos: int = 0
    exact_case: bool = False
    prefix: bool = False

    @property
    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True)
class Phrase:
    """A "quoted phrase": its words in order, adjacent."""

    words: tuple[str, ...]
    pos: int = 0
    exact_case: bool = False  # some word is written in capitals (checked per word)
    prefix: bool = False  # the last word ends with ``*``

    @property
    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True)
class Regex:
    pattern: str
    pos: int = 0

    @property
    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True)
class ListRef:
    """``@name``: a term list from rules/lists/, expanded when rules are compiled."""

    name: str
    pos: int = 0

    @property
    def children(self) -> tuple[Node, ...]:
        return ()


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

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.child,)


@dataclass(frozen=True)
class Near:
    """``a NEAR/n b``: within n words (CJK: characters, see docs/rules.md), either order."""

    left: Node
    right: Node
    distance: int
    pos: int = 0

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Before:
    """``a BEFORE/n b``: b within n words after a (CJK: characters, as for NEAR), in that
    order: b starts after a ends."""

    left: Node
    right: Node
    distance: int
    pos: int = 0

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class AtLeast:
    """``ATLEAST n (a, b, c)``: at least n of the children are true."""

    count: int
    children: tuple[Node, ...]
    pos: int = 0


JOINERS = ("COMPOUND", "SERIES")
Joiner = Literal["COMPOUND", "SERIES"]


@dataclass(frozen=True)
class Chain:
    """``COMPOUND (a, b)`` and ``SERIES (a, b, c)``: one occurrence of each child, in any
    order, written one after the other as a single phrase. COMPOUND joins them with hyphens
    or dashes and nothing else ("Japan-South Korea", "US-Japan-ROK", not one link of a longer
    chain); SERIES with commas and "and" ("the US, Japan and South Korea")."""

    joiner: Joiner
    children: tuple[Node, ...]
    pos: int = 0


@dataclass(frozen=True)
class FieldScope:
    """``title:(...)`` or ``summary:(...)``: the child is evaluated on that field only."""

    field: FieldName
    child: Node
    pos: int = 0

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.child,)


Node = (
    Term | Phrase | Regex | ListRef | And | Or | Not | Near | Before | AtLeast | Chain | FieldScope
)
# The two proximity operators share their evaluation but for the order they allow.
Proximity = Near | Before


def list_names(node: Node) -> Iterator[str]:
    """Every ``@list`` the query refers to, in order (a list used twice, twice)."""
    match node:
        case ListRef():
            yield node.name
        case Term() | Phrase() | Regex():
            return
        case And() | Or() | AtLeast() | Chain() | Not() | FieldScope() | Near() | Before():
            for child in node.children:
                yield from list_names(child)
        case _:
            assert_never(node)
