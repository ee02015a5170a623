"""The query language's meaning, written as plainly as possible: the reference evaluator.

docs/rules.md, clause by clause, over token lists: no automata, no caches, no bit masks, no
presearch. It is slow on purpose and exists to be read and to check the fast matcher
(monitor.rules.evaluate, monitor.rules.matcher) against: tests/test_rules_reference.py
generates queries and texts and requires the same match, hits and score from both.

An item's field is cut into tokens (monitor.rules.text): words, single CJK characters, and a
GAP token where two CJK characters have a space or punctuation between them. A literal (word,
phrase, list term) occurs where a run of tokens equals its tokens, the last one a prefix for
``term*``, with the case it is written in for words in capitals. Every clause has a truth value
over a set of fields, *positions* (the token spans behind it, for NEAR and BEFORE) and *hits*
(the literal occurrences that make it true); the score counts the distinct terms hit and adds
a proximity bonus per NEAR or BEFORE that holds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise, permutations, product
from typing import assert_never

from monitor.errors import QueryError
from monitor.model import Field, Hit
from monitor.rules import ast
from monitor.rules.chain import chain_open, linked
from monitor.rules.reftokens import (
    Literal,
    Span,
    Tokens,
    gap,
    list_literal,
    literal,
    occurrences,
    words_between,
)
from monitor.rules.render import to_text
from monitor.rules.termlist import TermList, expand_terms, term_options
from monitor.rules.termweights import lead_end

FIELDS: tuple[Field, ...] = ("title", "summary", "body")  # the body: an article's text


@dataclass(frozen=True)
class Result:
    matched: bool
    hits: tuple[Hit, ...] = ()
    score: float = 0.0


class Reference:
    """One query, evaluated by definition. ``lists`` resolves ``@name``."""

    def __init__(self, node: ast.Node, lists: Mapping[str, TermList] | None = None) -> None:
        self.node = node
        self.lists = lists or {}
        self._check_lists(node)

    def _check_lists(self, node: ast.Node) -> None:
        for name in ast.list_names(node):
            if name not in self.lists:
                raise QueryError(f"unknown list @{name}", "", 1)

    def literals(self, node: ast.Term | ast.Phrase | ast.ListRef) -> list[Literal]:
        match node:
            case ast.Term():
                found = literal([node.text], node.prefix, to_text(node))
                return [found] if found else []
            case ast.Phrase():
                shown = " ".join(node.words) + ("*" if node.prefix else "")
                found = literal(node.words, node.prefix, shown)
                return [found] if found else []
            case ast.ListRef():
                options = term_options(node.name, self.lists)
                terms = expand_terms(node.name, self.lists)
                out = [list_literal(t, options.get(t)) for t in terms]
                return [x for x in out if x is not None]
            case _:
                assert_never(node)

    # --- truth -------------------------------------------------------------------------

    def holds(self, node: ast.Node, doc: Mapping[str, Tokens], fields: Sequence[str]) -> bool:
        """Whether a clause is true with its terms looked for in these fields."""
        match node:
            case ast.Term() | ast.Phrase() | ast.ListRef():
                return any(self.literal_spans(node, doc[f]) for f in fields)
            case ast.Regex():
                return any(self.regex_matches(node, doc[f]) for f in fields)
            case ast.And():
                return all(self.holds(c, doc, fields) for c in node.children)
            case ast.Or():
                return any(self.holds(c, doc, fields) for c in node.children)
            case ast.AtLeast():
                return sum(self.holds(c, doc, fields) for c in node.children) >= node.count
            case ast.Not():
                return not self.holds(node.child, doc, fields)
            case ast.FieldScope():
                return self.holds(node.child, doc, _within(node, fields))
            case ast.Near() | ast.Before():
                return any(self.distance(node, doc, f) is not None for f in fields)
            case ast.Chain():
                return any(self.chained(node, doc, f) for f in fields)
            case _:
                assert_never(node)

    def chained(self, node: ast.Chain, doc: Mapping[str, Tokens], fname: str) -> bool:
        """COMPOUND/SERIES in one field: some order of the parts and one span of each, every
        span linked to the next (only a hyphen for COMPOUND, a comma or "and" for SERIES),
        and for COMPOUND no hyphen before the first or after the last."""
        text = doc[fname].analyzed.folded
        spans = [sorted(set(self.positions(c, doc, fname))) for c in node.children]
        for order in permutations(range(len(spans))):
            for picked in product(*(spans[i] for i in order)):
                if all(
                    linked(node.joiner, text, x[1], y[0]) for x, y in pairwise(picked)
                ) and chain_open(node.joiner, text, picked[0], picked[-1]):
                    return True
        return False

    def literal_spans(self, node: ast.Term | ast.Phrase | ast.ListRef, doc: Tokens) -> list[Span]:
        return [s for lit in self.literals(node) for s in occurrences(lit, doc)]

    def regex_matches(self, node: ast.Regex, doc: Tokens) -> list[tuple[Span, Span]]:
        """Each non-empty match: the span of the tokens it touches in the folded text (the
        match itself when it touches none), and its span in the original text."""
        regex = re.compile(node.pattern, re.IGNORECASE)
        an = doc.analyzed
        out = []
        for m in regex.finditer(an.cased):
            a, b = m.span()
            if a == b:
                continue
            touched = [t for t in doc.words() if t.end > a and t.start < b]
            span = (touched[0].start, touched[-1].end) if touched else (a, b)
            out.append((span, (an.orig(a), an.orig_end(b))))
        return out

    def positions(self, node: ast.Node, doc: Mapping[str, Tokens], fname: str) -> list[Span]:
        """The spans behind a clause in one field: none when it is false there; for a group,
        those of all its parts; an absence (NOT) has none."""
        if not self.holds(node, doc, (fname,)):
            return []
        match node:
            case ast.Term() | ast.Phrase() | ast.ListRef():
                return self.literal_spans(node, doc[fname])
            case ast.Regex():
                return [span for span, _ in self.regex_matches(node, doc[fname])]
            case ast.And() | ast.Or() | ast.AtLeast():
                return [s for c in node.children for s in self.positions(c, doc, fname)]
            case ast.Not():
                return []
            case ast.FieldScope():
                return self.positions(node.child, doc, fname) if node.field == fname else []
            case ast.Near() | ast.Before():
                return self.positions(node.left, doc, fname) + self.positions(
                    node.right, doc, fname
                )
            case ast.Chain():
                return [s for c in node.children for s in self.positions(c, doc, fname)]
            case _:
                assert_never(node)

    def distance(
        self, node: ast.Near | ast.Before, doc: Mapping[str, Tokens], fname: str
    ) -> int | None:
        """The fewest tokens between a left and a right span in one field, when within
        ``node.distance`` (NEAR: either order; BEFORE: the right one starts after the left
        one ends). One occurrence is never near itself."""
        lefts = set(self.positions(node.left, doc, fname))
        rights = set(self.positions(node.right, doc, fname))
        gaps = []
        for x in lefts:
            for y in rights:
                if x == y:
                    continue
                match node:
                    case ast.Near():
                        gaps.append(gap(doc[fname], x, y))
                    case ast.Before():
                        if y[0] >= x[1]:  # the right one starts after the left one ends
                            gaps.append(words_between(doc[fname], x[1], y[0]))
                    case _:
                        assert_never(node)
        best = min(gaps, default=None)
        return best if best is not None and best <= node.distance else None

    # --- hits and score ----------------------------------------------------------------

    def hits(self, node: ast.Node, doc: Mapping[str, Tokens], fields: Sequence[str]) -> list[Hit]:
        """The occurrences behind a clause: every part of an AND, the true parts of an OR or
        ATLEAST, nothing under NOT, and for NEAR/BEFORE both sides in the fields where it
        holds."""
        match node:
            case ast.Term() | ast.Phrase() | ast.ListRef():
                group = ""
                if isinstance(node, ast.ListRef):
                    group = self.lists[node.name].label  # the list's reader name, if any
                return [
                    _hit(lit.display, doc[f], s, group)
                    for f in fields
                    for lit in self.literals(node)
                    for s in occurrences(lit, doc[f])
                ]
            case ast.Regex():
                label = to_text(node)
                return [
                    Hit(label, doc[f].name, a, b)
                    for f in fields
                    for _, (a, b) in self.regex_matches(node, doc[f])
                ]
            case ast.And():
                return [h for c in node.children for h in self.hits(c, doc, fields)]
            case ast.Or() | ast.AtLeast():
                return [
                    h
                    for c in node.children
                    if self.holds(c, doc, fields)
                    for h in self.hits(c, doc, fields)
                ]
            case ast.Not():
                return []
            case ast.FieldScope():
                return self.hits(node.child, doc, _within(node, fields))
            case ast.Near() | ast.Before():
                near = [f for f in fields if self.distance(node, doc, f) is not None]
                return self.hits(node.left, doc, near) + self.hits(node.right, doc, near)
            case ast.Chain():
                where = [f for f in fields if self.chained(node, doc, f)]
                return [h for c in node.children for h in self.hits(c, doc, where)]
            case _:
                assert_never(node)

    def bonus(self, node: ast.Node, doc: Mapping[str, Tokens], fields: Sequence[str]) -> float:
        """Each NEAR or BEFORE that holds: (n + 1 - gap) / (n + 1) for its smallest gap, plus
        the bonuses inside it. Summed over every clause outside NOT."""
        match node:
            case ast.Term() | ast.Phrase() | ast.ListRef() | ast.Regex() | ast.Not():
                return 0.0
            case ast.And() | ast.Or() | ast.AtLeast():
                return sum(self.bonus(c, doc, fields) for c in node.children)
            case ast.Chain():
                where = [f for f in fields if self.chained(node, doc, f)]
                return sum(self.bonus(c, doc, where) for c in node.children) if where else 0.0
            case ast.FieldScope():
                return self.bonus(node.child, doc, _within(node, fields))
            case ast.Near() | ast.Before():
                gaps = [d for f in fields if (d := self.distance(node, doc, f)) is not None]
                if not gaps:
                    return 0.0
                n = node.distance
                inner = sum(self.bonus(c, doc, fields) for c in (node.left, node.right))
                return (n + 1 - min(gaps)) / (n + 1) + inner
            case _:
                assert_never(node)

    def evaluate(self, title: str, summary: str = "", body: str = "") -> Result:
        doc: dict[str, Tokens] = {
            "title": Tokens.of("title", title),
            "summary": Tokens.of("summary", summary),
            "body": Tokens.of("body", body),
        }
        if not self.holds(self.node, doc, FIELDS):
            return Result(False)
        hits = sorted(set(self.hits(self.node, doc, FIELDS)), key=_hit_order)
        bonus = self.bonus(self.node, doc, FIELDS)
        return Result(True, tuple(hits), score(hits, bonus, lead_end(summary)))


def _within(node: ast.FieldScope, fields: Sequence[str]) -> tuple[str, ...]:
    return (node.field,) if node.field in fields else ()


def _hit(term: str, doc: Tokens, span: Span, group: str = "") -> Hit:
    an = doc.analyzed
    return Hit(term, doc.name, an.orig(span[0]), an.orig_end(span[1]), group)


def _hit_order(h: Hit) -> tuple[int, int, int, str, str]:
    return (FIELDS.index(h.field), h.start, h.end, h.term, h.group)


def score(hits: Sequence[Hit], bonus: float, lead: int = 0) -> float:
    """Each distinct term hit (case aside) at its best place: 2 in the title, 1 in the
    summary before ``lead`` (its first sentence), else 0.5; the 0.5s together saturate at
    2 (``2 × (1 − e^(−sum/2))``); plus the proximity bonuses; rounded to 3 decimals (the
    rule's weight is applied after). Written out here, apart from termweights.weigh, so the
    differential tests compare two ways of saying it."""
    best: dict[str, float] = {}
    for h in hits:
        if h.field == "title":
            w = 2.0
        elif h.field == "summary" and h.start < lead:
            w = 1.0
        else:
            w = 0.5
        key = h.term.casefold()
        best[key] = max(best.get(key, 0.0), w)
    strong = sum(w for w in best.values() if w >= 1.0)
    rest = 0.5 * sum(1 for w in best.values() if w < 1.0)
    return round(strong + 2.0 * (1.0 - math.exp(-rest / 2.0)) + bonus, 3)
