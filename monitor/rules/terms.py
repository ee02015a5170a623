"""The evaluator of a word, a phrase or a whole term list."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from monitor.model import Hit
from monitor.rules.context import FIELDS, RANK, Context
from monitor.rules.evaluate import Evaluator, Explanation
from monitor.rules.literals import Pattern, Span
from monitor.rules.score import RawHit, new_hit, raw_hit


class Lit(Evaluator):
    """A word, a phrase, or a whole term list: true when any of its patterns occurs."""

    def __init__(self, label: str, patterns: list[tuple[Pattern, int]], group: str = "") -> None:
        self.label = label
        self.group = group  # a list's reader name, carried by its hits (Hit.group)
        self.patterns = patterns
        self.ids = frozenset(kid for _, kid in patterns)
        self.plain_ids = frozenset(kid for p, kid in patterns if not p.needs_check)
        self.cased = [(p, kid) for p, kid in patterns if p.needs_check]
        self.by_id: dict[int, list[Pattern]] = {}
        for p, kid in patterns:
            self.by_id.setdefault(kid, []).append(p)

    def test(self, ctx: Context, fields: Sequence[str]) -> bool:
        if fields is FIELDS:  # the usual case: either field will do
            if not self.plain_ids.isdisjoint(ctx.found):
                return True
            if not self.cased or self.ids.isdisjoint(ctx.found):
                return False
        for fname in fields:
            doc = ctx.fields[fname]
            if not self.plain_ids.isdisjoint(doc.keys):
                return True
            for p, kid in self.cased:
                if kid in doc.keys and ctx.spans(fname, p, kid):
                    return True
        return False

    def _found(
        self, ctx: Context, fname: str
    ) -> tuple[list[tuple[Pattern, list[Span]]], list[Span]]:
        """The patterns that occur in one field with their spans (exact case checked), and
        all those spans: worked out once per item, since a list is shared by many rules."""
        doc = ctx.fields[fname]
        cached = doc.cache.get(self)
        if cached is None:
            found: list[tuple[Pattern, list[Span]]] = []
            positions: list[Span] = []
            by_id = self.by_id
            occ = doc.occ
            for kid in self.ids & doc.keys:
                for p in by_id[kid]:
                    spans = ctx.spans(fname, p, kid) if p.needs_check else occ[kid]
                    if spans:
                        found.append((p, spans))
                        positions.extend(spans)
            cached = doc.cache[self] = (found, positions)
        return cached

    def positions(self, ctx: Context, fname: str) -> list[Span]:
        return self._found(ctx, fname)[1]

    def found(self, ctx: Context, fields: Sequence[str]) -> Iterator[tuple[Pattern, str, Span]]:
        for fname in fields:
            for p, spans in self._found(ctx, fname)[0]:
                for span in spans:
                    yield p, fname, span

    def hits(self, ctx: Context, fields: Sequence[str], out: list[RawHit]) -> None:
        if fields is FIELDS:  # the usual case: one look-up for all three fields
            every = ctx.lit_hits.get(self)
            if every is None:
                every = ctx.lit_hits[self] = []
                for every_field in FIELDS:
                    if not self.ids.isdisjoint(ctx.fields[every_field].keys):
                        every.extend(self._field_hits(ctx, every_field))
            out.extend(every)
            return
        for fname in fields:
            out.extend(self._field_hits(ctx, fname))

    def _field_hits(self, ctx: Context, fname: str) -> list[RawHit]:
        """``_hits`` of one field, kept for the item: a list's hits there are the same for
        every rule."""
        doc = ctx.fields[fname]
        key = (self, fname)
        found: list[RawHit] | None = doc.cache.get(key)
        if found is None:
            found = doc.cache[key] = self._hits(ctx, fname)
        return found

    def _hits(self, ctx: Context, fname: str) -> list[RawHit]:
        present = self._found(ctx, fname)[0]
        if not present:
            return []
        an = ctx.fields[fname].an
        group = self.group
        if an.fmap is None:  # offsets unchanged by folding: raw_hit inlined, per occurrence
            rank = RANK[fname]
            return [
                (rank, s, e, p.display, new_hit(Hit, (p.display, fname, s, e, group)))
                for p, spans in present
                for s, e in spans
            ]
        return [
            raw_hit(fname, p.display, an.orig(s), an.orig_end(e), group)
            for p, spans in present
            for s, e in spans
        ]

    def explain(self, ctx: Context, fields: Sequence[str]) -> Explanation:
        terms = sorted({p.display for p, _, _ in self.found(ctx, fields)}, key=str.casefold)
        return Explanation(self.label, bool(terms), found=terms)
