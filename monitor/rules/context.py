"""One item scanned against a vocabulary: where each literal occurs, per field."""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from monitor.model import Field
from monitor.rules.literals import Pattern, Span, excepted
from monitor.rules.scan import NO_KEYS, Vocabulary
from monitor.rules.termweights import lead_end
from monitor.rules.text import TOKEN_RE, Analyzed

FIELDS: tuple[Field, ...] = ("title", "summary", "body")
# A field's rank orders hits (title first) and weighs them (score_hits).
RANK: dict[str, int] = {"title": 0, "summary": 1, "body": 2}


_EMPTY = Analyzed("")


class FieldDoc:
    """One field of one item: where each literal occurs (character spans in ``an.folded``),
    and which literals that regexes need occur in it (keys below zero)."""

    __slots__ = ("an", "cache", "keys", "occ", "rx")

    def __init__(self, an: Analyzed, occ: dict[int, list[Span]], rx: Set[int]) -> None:
        self.an = an
        self.occ = occ
        self.keys = set(occ)
        self.rx = rx
        self.cache: dict[Any, Any] = {}


class Context:
    """An item scanned once against a vocabulary; evaluators look positions up here."""

    def __init__(self, vocab: Vocabulary, title: str, summary: str, body: str = "") -> None:
        t = Analyzed(title)
        s = Analyzed(summary)
        td = FieldDoc(t, vocab.scan(t), vocab.rx_literals_in(t.folded))
        sd = FieldDoc(s, vocab.scan(s), vocab.rx_literals_in(s.folded))
        if body:  # the article text (full_text feeds), once it has been fetched
            b = Analyzed(body)
            bd = FieldDoc(b, vocab.scan(b), vocab.rx_literals_in(b.folded))
        else:  # most items: no scan, and nothing found
            bd = FieldDoc(_EMPTY, {}, NO_KEYS)
        self.fields: dict[str, FieldDoc] = {"title": td, "summary": sd, "body": bd}
        self.found = td.keys | sd.keys | bd.keys if body else td.keys | sd.keys
        self._lead = -1
        self.lit_hits: dict[Any, Any] = {}  # a term list's hits over every field (Lit.hits)

    def lead(self) -> int:
        """Where the summary's first sentence ends (termweights.lead_end), worked out once
        per item: every rule that matches it scores with it."""
        if self._lead < 0:
            self._lead = lead_end(self.fields["summary"].an.text)
        return self._lead

    def spans(self, fname: str, pattern: Pattern, kid: int) -> list[Span]:
        """Character spans of one pattern's occurrences in one field (exact case and the
        words it is not read inside checked)."""
        doc = self.fields[fname]
        found = doc.occ.get(kid)
        if not found:
            return []
        if not pattern.needs_check:
            return found
        cached = doc.cache.get(pattern)
        if cached is None:
            an = doc.an
            cached = [
                (s, e)
                for s, e in found
                if (not pattern.needs_case or _case_ok(an, s, pattern))
                and not (pattern.not_in and excepted(an.folded, (s, e), pattern.not_in))
            ]
            doc.cache[pattern] = cached
        return cached


def _case_ok(an: Analyzed, start: int, pattern: Pattern) -> bool:
    last = pattern.ntok - 1
    cased = an.cased
    for i, m in enumerate(TOKEN_RE.finditer(an.folded, start)):
        if i > last:
            break
        want = pattern.exact[i]
        if want is None:
            continue
        got = cased[m.start(1) : m.end(1)]
        if pattern.prefix and i == last:
            if not got.startswith(want):
                return False
        elif got != want:
            return False
    return True
