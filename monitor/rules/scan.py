"""Scanning an item's fields for every literal of a set of queries at once.

Every literal goes into one Aho-Corasick automaton under its anchor (monitor.rules.literals);
a find is kept where the literal lines up with tokens (monitor.rules.place for the pieces
around the anchor). Text without CJK is scanned with its non-word characters made spaces, so
a word is found only where it is a whole token; text with CJK is scanned as folded, each find
checked against token boundaries. A third automaton finds the literals regexes need.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Set
from typing import TYPE_CHECKING, Any

import ahocorasick_rs

from monitor.rules.literals import Entry, Pattern, Span, anchor_entry
from monitor.rules.place import phrase_span, place
from monitor.rules.termlist import TermList
from monitor.rules.text import Analyzed, word_ends_at, word_starts_at

if TYPE_CHECKING:
    from monitor.rules.terms import Lit


class Vocabulary:
    """Every literal of a set of queries, with a lazily built automaton over anchors."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self._automaton: Any = None
        self._groups: list[tuple[bool, tuple[Entry, ...]]] = []
        self._words: Any = None
        self._word_groups: list[_WordGroup] = []
        self.rx_literals: dict[str, int] = {}  # what regexes need (see necessary_literals)
        self._rx_automaton: Any = None
        self.lists_source: Mapping[str, TermList] | None = None
        self.list_cache: dict[str, list[tuple[Pattern, int]]] = {}
        self.list_lits: dict[str, Lit] = {}

    def add(self, key: str) -> int:
        kid = self.ids.get(key)
        if kid is None:
            kid = self.ids[key] = len(self.ids)
            self._automaton = None
        return kid

    def add_rx_literal(self, text: str) -> int:
        """The key of a literal some regex needs: negative, apart from the literal terms'."""
        lid = self.rx_literals.get(text)
        if lid is None:
            lid = self.rx_literals[text] = len(self.rx_literals)
            self._automaton = None
        return -1 - lid

    def rx_literals_in(self, folded: str) -> Set[int]:
        """Keys of the regex literals that occur anywhere in a folded field."""
        if not self.rx_literals:
            return NO_KEYS  # no rule has a regex: nothing to look for, nothing allocated
        self.prepare()
        found = self._rx_automaton.find_matches_as_indexes(folded, overlapping=True)
        return {-1 - i for i, _, _ in found}

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (the pipeline ships a compiled rule set to its worker processes): the
        automata do not pickle, and ``prepare`` rebuilds them from the keys in ~40 ms."""
        state = self.__dict__.copy()
        state.update(_automaton=None, _rx_automaton=None, _words=None)
        return state

    def prepare(self) -> Any:
        """The automata. Each literal is found by its anchor, then checked in place: one
        automaton runs over text with CJK as folded; another, over text without CJK, looks
        for words spaced out (see ``spaced_words``), where a find is a whole token already.
        A third finds the literals regexes need (``rx_literals_in``)."""
        if self._automaton is None:
            groups: dict[str, list[Entry]] = {}
            words: dict[str, list[Entry]] = {}
            latin: dict[str, bool] = {}
            for key, kid in self.ids.items():
                found = anchor_entry(kid, key)
                if found is not None:
                    text, is_latin, entry = found
                    groups.setdefault(text, []).append(entry)
                    latin[text] = is_latin
                    if is_latin:  # " miner " for the word, " miner" for miner*
                        words.setdefault(f" {text} " if entry.whole else f" {text}", []).append(
                            entry
                        )
            anchors = list(groups)
            self._groups = [(latin[a], tuple(groups[a])) for a in anchors]
            self._automaton = (
                ahocorasick_rs.AhoCorasick(anchors, matchkind=ahocorasick_rs.MatchKind.Standard)
                if anchors
                else False
            )
            self._rx_automaton = (
                ahocorasick_rs.AhoCorasick(list(self.rx_literals)) if self.rx_literals else None
            )
            # A find of " text " in the spaced text ends two characters after the word does
            # in the folded text (the leading space shifts offsets by one); " text", one.
            self._word_groups = [_word_group(p, words[p]) for p in words]
            self._words = (
                ahocorasick_rs.AhoCorasick(list(words), matchkind=ahocorasick_rs.MatchKind.Standard)
                if words
                else None
            )
        return self._automaton

    def finds(self, an: Analyzed) -> list[tuple[int, int, int]]:
        """The automaton's raw finds (pattern, start, end) in one field, before any check:
        over the spaced words when the text has no CJK, else over the folded text."""
        if not self.prepare() or not an.folded:
            return []
        if an.spaced is None:
            found: list[tuple[int, int, int]] = self._automaton.find_matches_as_indexes(
                an.folded, overlapping=True
            )
            return found
        if self._words is None:
            return []
        spaced: list[tuple[int, int, int]] = self._words.find_matches_as_indexes(
            an.spaced, overlapping=True
        )
        return spaced

    # One function on purpose (complexity 20 > 15): this loop runs once per automaton find,
    # the hottest code in matching, and keeps its state in locals; split into helpers it
    # pays a call per find (bench/match.py).
    def scan(self, an: Analyzed) -> dict[int, list[Span]]:  # noqa: C901
        """key id -> character span in ``an.folded`` of each occurrence that lines up with
        tokens (case not checked yet: see Context.spans)."""
        finds = self.finds(an)
        if not finds:
            return {}
        folded = an.folded
        spaced = an.spaced
        if spaced is None:
            return self._scan_folded(folded, finds)
        occ: dict[int, list[Span]] = {}
        groups = self._word_groups
        backward: str | None = None  # the spaced text reversed, to read the word before
        last = len(spaced) - 1
        for pid, a, b in finds:
            trim, singles, prefixes, after, before, others = groups[pid]
            b -= trim  # now the anchor's span in folded text is [a, b)
            for kid in singles:
                spans = occ.get(kid)
                if spans is None:
                    occ[kid] = [(a, b)]
                else:
                    spans.append((a, b))
            if prefixes:  # miner*: to the end of the word it begins
                span = (a, spaced.index(" ", b + 1) - 1)
                for kid in prefixes:
                    occ.setdefault(kid, []).append(span)
            # A phrase is looked at further only when the word next to its anchor is its own;
            # a phrase of two words is then found (in text without CJK, the words of the
            # spaced text are the tokens).
            if after:
                m = _NEXT_WORD.match(spaced, b + 1)
                if m and (found := after.get(m.group(1))):
                    end = m.end(1) - 1
                    for entry in found:
                        if len(entry.pieces) == 2:
                            occ.setdefault(entry.kid, []).append((a, end))
                        else:
                            others = (*others, entry)
            if before:
                if backward is None:
                    backward = spaced[::-1]
                m = _NEXT_WORD.match(backward, last - a)
                if m and (found := before.get(m.group(1))):
                    start = last - m.end(1)
                    for entry in found:
                        if len(entry.pieces) != 2:
                            others = (*others, entry)
                        elif entry.prefix:
                            end = spaced.index(" ", b + 1) - 1
                            occ.setdefault(entry.kid, []).append((start, end))
                        else:
                            occ.setdefault(entry.kid, []).append((start, b))
            for entry in others:
                placed = place(folded, a, b, entry)
                if placed is not None:
                    occ.setdefault(entry.kid, []).append(placed)
        return occ

    def _scan_folded(self, folded: str, finds: list[tuple[int, int, int]]) -> dict[int, list[Span]]:
        """``scan`` for text with CJK: every find is checked against token boundaries."""
        groups = self._groups
        occ: dict[int, list[Span]] = {}
        size = len(folded)
        for aid, a, b in finds:
            latin, entries = groups[aid]
            if latin and a:
                before = folded[a - 1]
                # Inside a word (the usual false find) is rejected here, without a call.
                if before.isalnum() and before < "\u1100":
                    continue
                if (before == "'" or before.isalnum()) and not word_starts_at(folded, a):
                    continue
            whole: bool | None = None  # the anchor ends a word (checked when first needed)
            for entry in entries:
                if entry.whole:
                    if whole is None:
                        after = folded[b] if b < size else " "
                        whole = (
                            not after.isalnum()
                            if after < "\u1100" and after != "'"
                            else word_ends_at(folded, b)
                        )
                    if not whole:
                        continue
                span = (a, b) if entry.single else phrase_span(folded, a, b, entry)
                if span is not None:
                    spans = occ.get(entry.kid)
                    if spans is None:
                        occ[entry.kid] = [span]
                    else:
                        spans.append(span)
        return occ


_NEXT_WORD = re.compile(" +([^ ]+)")


# The literals found by one pattern of the spaced-words automaton, by what is left to check:
# (trim: from the find's end to the anchor's end in folded text; key ids found as they are;
# key ids of prefixes, found to the end of the word; phrases by the word right after the
# anchor; phrases by the word right before it, reversed; the others, placed in full).
_WordGroup = tuple[
    int,
    tuple[int, ...],
    tuple[int, ...],
    dict[str, tuple["Entry", ...]],
    dict[str, tuple["Entry", ...]],
    tuple["Entry", ...],
]


def _word_group(pattern: str, entries: list[Entry]) -> _WordGroup:
    singles: list[int] = []
    prefixes: list[int] = []
    after: dict[str, list[Entry]] = {}
    before: dict[str, list[Entry]] = {}
    others: list[Entry] = []
    for e in entries:
        if any(p.cjk for p in e.pieces):
            continue  # cannot occur in text without CJK, the only text searched this way
        last = len(e.pieces) - 1
        if e.single:
            singles.append(e.kid)
        elif e.word_prefix:
            prefixes.append(e.kid)
        elif e.after is not None and not (e.prefix and e.anchor + 1 == last):
            after.setdefault(e.after, []).append(e)
        elif e.before is not None:
            before.setdefault(e.before[::-1], []).append(e)
        else:
            others.append(e)
    return (
        2 if pattern.endswith(" ") else 1,
        tuple(singles),
        tuple(prefixes),
        {k: tuple(v) for k, v in after.items()},
        {k: tuple(v) for k, v in before.items()},
        tuple(others),
    )


NO_KEYS: frozenset[int] = frozenset()
