"""The evaluator of a ``/regex/`` clause."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from typing import Any

from monitor.rules.context import Context, FieldDoc
from monitor.rules.evaluate import Evaluator, Explanation
from monitor.rules.literals import Span
from monitor.rules.regexlit import necessary_literals
from monitor.rules.saferegex import RegexTimeoutError, SafeRegex
from monitor.rules.scan import Vocabulary
from monitor.rules.score import RawHit, raw_hit


class Rx(Evaluator):
    def __init__(self, label: str, pattern: str, vocab: Vocabulary) -> None:
        self.label = label
        self.regex = SafeRegex(pattern)  # time-limited: raises RegexTimeoutError (saferegex.py)
        needs = necessary_literals(pattern)
        # Found with every other regex's literals in one pass over a field (FieldDoc.rx).
        self.need_keys = None if needs is None else frozenset(map(vocab.add_rx_literal, needs))

    def _possible(self, ctx: Context, fname: str) -> bool:
        return self.need_keys is None or not self.need_keys.isdisjoint(ctx.fields[fname].rx)

    def _matches(self, ctx: Context, fname: str) -> list[tuple[int, int, int, int]]:
        """(start, end) of the tokens each match touches in the folded text, then (start,
        end) of the match in the original."""
        doc = ctx.fields[fname]
        key = ("rx", self.regex.pattern)  # one scan per pattern, however often it is written
        cached: list[tuple[int, int, int, int]] | None = doc.cache.get(key)
        if cached is not None:
            return cached
        an = doc.an
        found: list[tuple[int, int, int, int]] = []
        if not self._possible(ctx, fname):
            doc.cache[key] = found
            return found
        for m in self._timed(doc, self.regex.finditer, an.cased):
            a, b = m.span()
            if a == b:
                continue
            if not found:
                ends = [e for _, e in an.spans]
                begins = [s for s, _ in an.spans]
            first = bisect_right(ends, a)  # the first token ending after the match starts
            last = bisect_left(begins, b)  # the first token starting at or after its end
            # The tokens it touches, whole; inside punctuation, the characters themselves.
            span = (begins[first], ends[last - 1]) if first < last else (a, b)
            found.append((span[0], span[1], an.orig(a), an.orig_end(b)))
        doc.cache[key] = found
        return found

    def test(self, ctx: Context, fields: Sequence[str]) -> bool:
        for f in fields:  # noqa: SIM110 - no generator on the hot path
            if self._search(ctx, f):
                return True
        return False

    def _search(self, ctx: Context, fname: str) -> bool:
        """Whether the pattern occurs at all: stops at the first match (most tests fail)."""
        doc = ctx.fields[fname]
        key = ("rx?", self.regex.pattern)
        cached = doc.cache.get(key)
        if cached is None:
            if not self._possible(ctx, fname):
                cached = [False]
            elif ("rx", self.regex.pattern) in doc.cache:
                cached = [bool(self._matches(ctx, fname))]
            else:
                cased = doc.an.cased
                m = self._timed(doc, self.regex.search, cased)  # an empty match does not count
                cached = [
                    m is not None
                    and (
                        m.end() > m.start()
                        or any(
                            x.end() > x.start()
                            for x in self._timed(doc, self.regex.finditer, cased)
                        )
                    )
                ]
            doc.cache[key] = cached
        return bool(cached[0])

    def _timed(self, doc: FieldDoc, call: Callable[[str], Any], text: str) -> Any:
        """``call(text)``; a time-out is remembered on the field, so every later use of this
        pattern on this item raises at once instead of spending the time limit again."""
        key = ("rx!", self.regex.pattern)
        failed = doc.cache.get(key)
        if failed is not None:
            raise failed[0]
        try:
            return call(text)
        except RegexTimeoutError as exc:
            doc.cache[key] = [exc]
            raise

    def positions(self, ctx: Context, fname: str) -> list[Span]:
        return [(s, e) for s, e, _, _ in self._matches(ctx, fname)]

    def hits(self, ctx: Context, fields: Sequence[str], out: list[RawHit]) -> None:
        for fname in fields:
            for _, _, a, b in self._matches(ctx, fname):
                out.append(raw_hit(fname, self.label, a, b))

    def explain(self, ctx: Context, fields: Sequence[str]) -> Explanation:
        text = ctx.fields
        found = sorted(
            {text[f].an.text[a:b] for f in fields for _, _, a, b in self._matches(ctx, f)}
        )
        return Explanation(self.label, bool(found), found=found)
