"""``COMPOUND (a, b)`` and ``SERIES (a, b, c)``: one occurrence of each part, in any order,
written one after the other as a single phrase.

Words-only matching ignores punctuation, so "Japan, South Korea" and "Japan-South Korea" look
the same to a phrase or to BEFORE/0. These two operators look at what stands between the parts
in the folded text (dashes are already plain hyphens there, see monitor.rules.text):

- COMPOUND: only a hyphen (after an abbreviation's full stop: "U.S.-Japan"), and the chain
  neither starts nor ends with another hyphen, so "Japan-South Korea" is a compound of two
  while "US-Japan-South Korea" is one of three;
- SERIES: a comma, "and", ", and", "&" or a CJK list mark (、・·), each optionally followed
  by "the": "the US, Japan and South Korea".
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

from monitor.rules.context import Context
from monitor.rules.evaluate import Evaluator
from monitor.rules.literals import Span
from monitor.rules.score import RawHit

_COMPOUND_LINK = re.compile(r"\.?-")
_SERIES_LINK = re.compile(r"(?:\.(?=,))?\s*(?:,\s*(?:and\b|&)?|\band\b|&|[、・·])\s*(?:the\s+)?")


def linked(joiner: str, text: str, end: int, start: int) -> bool:
    """Whether the text between a part ending at ``end`` and the next one starting at
    ``start`` joins them the way ``joiner`` (COMPOUND or SERIES) says."""
    if start <= end:
        return False
    link = _COMPOUND_LINK if joiner == "COMPOUND" else _SERIES_LINK
    return link.fullmatch(text, end, start) is not None


def chain_open(joiner: str, text: str, first: Span, last: Span) -> bool:
    """A compound is the whole hyphenated chain: no hyphen right before its first part or
    right after its last. A series may be part of a longer list."""
    if joiner != "COMPOUND":
        return True
    a, b = first[0], last[1]
    before = text[a - 1] if a else ""
    after = text[b : b + 2]
    return before != "-" and not after.startswith("-") and not after.startswith(".-")


def find_chain(joiner: str, text: str, parts: Sequence[Sequence[Span]]) -> list[Span] | None:
    """One span per part, the parts in some order, each linked to the next: the first such
    chain (by where it starts), or None. Depth-first from each span; every part at most
    once, so the search is bounded by the (few, at most MAX_CHAIN) parts."""
    n = len(parts)
    by_start: dict[int, list[tuple[int, Span]]] = {}
    for i, spans in enumerate(parts):
        for span in set(spans):
            by_start.setdefault(span[0], []).append((i, span))
    starts = sorted(by_start)

    def extend(chain: list[Span], used: frozenset[int]) -> list[Span] | None:
        if len(chain) == n:
            return list(chain) if chain_open(joiner, text, chain[0], chain[-1]) else None
        end = chain[-1][1]
        for start in starts[bisect_right(starts, end) :]:
            if not linked(joiner, text, end, start):
                continue
            for i, span in by_start[start]:
                if i not in used:
                    found = extend([*chain, span], used | {i})
                    if found:
                        return found
        return None

    for start in starts:
        for i, span in by_start[start]:
            found = extend([span], frozenset({i}))
            if found:
                return found
    return None


class ChainE(Evaluator):
    """The evaluator of COMPOUND and SERIES: true in a field where ``find_chain`` finds the
    parts' spans linked; positions and hits are the parts' in that field (as for NEAR)."""

    def __init__(self, joiner: str, kids: list[Evaluator]) -> None:
        self.joiner = joiner
        self.kids = kids
        self.label = joiner

    def children(self) -> Sequence[Evaluator]:
        return self.kids

    def holds_in(self, ctx: Context, fname: str) -> bool:
        doc = ctx.fields[fname]
        key = ("chain", id(self))
        cached = doc.cache.get(key)
        if cached is None:
            parts = []
            for kid in self.kids:
                spans = kid.positions(ctx, fname)
                if not spans:
                    doc.cache[key] = False
                    return False
                parts.append(spans)
            cached = doc.cache[key] = find_chain(self.joiner, doc.an.folded, parts) is not None
        return bool(cached)

    def test(self, ctx: Context, fields: Sequence[str]) -> bool:
        for f in fields:  # noqa: SIM110 - no generator on the hot path
            if self.holds_in(ctx, f):
                return True
        return False

    def positions(self, ctx: Context, fname: str) -> list[Span]:
        if not self.holds_in(ctx, fname):
            return []
        return [s for kid in self.kids for s in kid.positions(ctx, fname)]

    def hits(self, ctx: Context, fields: Sequence[str], out: list[RawHit]) -> None:
        where = [f for f in fields if self.holds_in(ctx, f)]
        for kid in self.kids:
            kid.hits(ctx, where, out)

    def near_bonus(self, ctx: Context, fields: Sequence[str]) -> float:
        where = [f for f in fields if self.holds_in(ctx, f)]
        return sum(kid.near_bonus(ctx, where) for kid in self.kids) if where else 0.0
