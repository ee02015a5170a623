"""Compile a query's syntax tree into an evaluator; evaluate it against a title and summary.

Literal terms (words, phrases, list entries) become keys of one Aho-Corasick automaton, each
found by its longest word or CJK run and placed on token boundaries (see monitor.rules.text,
and Vocabulary.scan). Scanning an item once gives every key's positions;
the evaluator tree then only looks them up. Rule matching (monitor.rules.matcher) and archive
search share this code, so a search and a rule with the same text find the same items.
"""

from __future__ import annotations

import re
import re._parser as re_parser
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from itertools import combinations, product
from math import comb, prod
from typing import Any, NamedTuple

import ahocorasick_rs

from monitor.errors import QueryError
from monitor.model import Field, Hit
from monitor.rules import ast
from monitor.rules.saferegex import RegexTimeout, SafeRegex
from monitor.rules.termlist import TermList, expand_terms
from monitor.rules.text import (
    GAP,
    TOKEN_RE,
    Analyzed,
    consumed_end,
    is_cjk,
    is_gap,
    key_of,
    token_char,
    tokenize,
    word_ends_at,
    word_starts_at,
    written_in_capitals,
)

FIELDS: tuple[Field, ...] = ("title", "summary", "body")
# A field's rank orders hits (title first) and weighs them (score_hits).
RANK: dict[str, int] = {"title": 0, "summary": 1, "body": 2}
Span = tuple[int, int]  # character offsets in the folded text, end exclusive
# (field rank: 0 title, 1 summary, 2 body; start; end; term; the Hit itself): a hit before
# deduplication, ordered so that plain tuple comparison sorts title hits first, then by
# position. The Hit rides along, built once per item however many rules report it.
RawHit = tuple[int, int, int, str, Hit]


# --- literals and the automaton -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pattern:
    """One literal: its key in the automaton and, per token, the exact case it needs."""

    display: str  # as written, for hits and explanations
    key: str
    ntok: int
    exact: tuple[str | None, ...]  # None: any case
    prefix: bool
    needs_case: bool  # some token must keep the case it is written in


def literal_pattern(text: str) -> Pattern:
    """A list term as written: a word or several (a phrase), optional trailing ``*``.

    Raises ValueError with a sentence when the term cannot match anything.
    """
    stripped = text.strip()
    prefix = stripped.endswith("*")
    body = stripped[:-1] if prefix else stripped
    if "*" in body:
        raise ValueError("a * wildcard only works at the end of a term, e.g. miner*")
    pattern = words_pattern(body.split(), prefix, stripped)
    if pattern is None:
        raise ValueError(f"{stripped!r} has no letters or digits to match")
    return pattern


def words_pattern(words: Sequence[str], prefix: bool, display: str) -> Pattern | None:
    tokens: list[str] = []
    exact: list[str | None] = []
    for word in words:
        capitals = written_in_capitals(word)
        for tok in tokenize(word):
            tokens.append(tok)
            exact.append(tok if capitals else None)
    if not tokens:
        return None
    key = key_of(" ".join(words), prefix)
    folded_tokens = [t for t in key.split() if t != GAP]
    if len(folded_tokens) != len(tokens):  # folding split a token (rare scripts): case-blind
        tokens, exact = folded_tokens, [None] * len(folded_tokens)
    needs_case = any(e is not None for e in exact)
    return Pattern(display, key, len(tokens), tuple(exact), prefix, needs_case)


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of a literal that is contiguous in text: one word, or a run of CJK."""

    text: str
    cjk: bool
    gap: bool  # CJK after CJK with a space or punctuation between them (a GAP token)


def pieces_of(key: str) -> tuple[Piece, ...]:
    """The pieces of a literal, from its key (``" w1 w2 "``; CJK tokens are characters)."""
    out: list[Piece] = []
    gap = False
    for tok in key.split(" "):
        if not tok:
            continue
        if tok == GAP:
            gap = True
            continue
        cjk = is_cjk(tok)
        if cjk and out and out[-1].cjk and not gap:
            out[-1] = Piece(out[-1].text + tok, True, out[-1].gap)
        else:
            out.append(Piece(tok, cjk, gap))
        gap = False
    return tuple(out)


@dataclass(frozen=True, slots=True)
class _Entry:
    """One literal under its anchor, the piece the automaton looks for (its longest)."""

    kid: int
    pieces: tuple[Piece, ...]
    anchor: int  # index of the anchor piece
    prefix: bool  # the last piece is a word prefix (miner*)
    whole: bool  # the anchor is a word that must end where the automaton found it end
    single: bool  # one piece, not a prefix: found where the automaton found it
    word_prefix: bool  # one word piece, a prefix (miner*)
    after: str | None  # the piece right after the anchor, for a quick rejection
    before: str | None  # the piece right before it


def _entry(kid: int, key: str) -> tuple[str, bool, _Entry] | None:
    pieces = pieces_of(key)
    if not pieces:
        return None
    anchor = max(range(len(pieces)), key=lambda i: len(pieces[i].text))
    prefix = not key.endswith(" ") and not pieces[-1].cjk
    piece = pieces[anchor]
    whole = not piece.cjk and not (prefix and anchor == len(pieces) - 1)
    single = len(pieces) == 1 and not (prefix and not piece.cjk)
    after = pieces[anchor + 1].text if anchor + 1 < len(pieces) else None
    before = pieces[anchor - 1].text if anchor else None
    word_prefix = len(pieces) == 1 and prefix and not piece.cjk
    entry = _Entry(kid, pieces, anchor, prefix, whole, single, word_prefix, after, before)
    return piece.text, not piece.cjk, entry


class Vocabulary:
    """Every literal of a set of queries, with a lazily built automaton over anchors."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self._automaton: Any = None
        self._groups: list[tuple[bool, tuple[_Entry, ...]]] = []
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
            return _NO_KEYS  # no rule has a regex: nothing to look for, nothing allocated
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
            groups: dict[str, list[_Entry]] = {}
            words: dict[str, list[_Entry]] = {}
            latin: dict[str, bool] = {}
            for key, kid in self.ids.items():
                found = _entry(kid, key)
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
            return self._automaton.find_matches_as_indexes(an.folded, overlapping=True)
        if self._words is None:
            return []
        return self._words.find_matches_as_indexes(an.spaced, overlapping=True)

    def scan(self, an: Analyzed) -> dict[int, list[Span]]:
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
                placed = _place(folded, a, b, entry)
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
                span = (a, b) if entry.single else _phrase_span(folded, a, b, entry)
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
    dict[str, tuple["_Entry", ...]],
    dict[str, tuple["_Entry", ...]],
    tuple["_Entry", ...],
]


def _word_group(pattern: str, entries: list[_Entry]) -> _WordGroup:
    singles: list[int] = []
    prefixes: list[int] = []
    after: dict[str, list[_Entry]] = {}
    before: dict[str, list[_Entry]] = {}
    others: list[_Entry] = []
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


def _phrase_span(folded: str, a: int, b: int, entry: _Entry) -> Span | None:
    """``_place``, after a quick look at the tokens either side of the anchor: most phrases
    are rejected by the word right after (or before) it across one space."""
    nxt = entry.after
    size = len(folded)
    if (
        nxt is not None
        and b + 1 < size
        and folded[b] == " "
        and token_char(folded[b + 1])
        and not folded.startswith(nxt, b + 1)
    ):
        return None
    prv = entry.before
    if (
        prv is not None
        and a >= 2
        and folded[a - 1] == " "
        and token_char(folded[a - 2])
        and not (folded[a - 2] == "s" and folded[a - 3 : a - 2] == "'")
        and (a - 1 < len(prv) or not folded.startswith(prv, a - 1 - len(prv)))
    ):
        return None
    return _place(folded, a, b, entry)


def _place(folded: str, a: int, b: int, entry: _Entry) -> Span | None:
    """The span of a literal whose anchor occurs at [a, b), or None where the tokens around
    it are not the literal's other pieces."""
    pieces = entry.pieces
    last = len(pieces) - 1
    start, end = a, b
    right = pieces[entry.anchor]
    for k in range(entry.anchor - 1, -1, -1):  # the pieces before, right to left
        piece = pieces[k]
        prev_end = _prev_token_end(folded, start)
        begin = prev_end - len(piece.text)
        if prev_end < 0 or begin < 0 or not folded.startswith(piece.text, begin):
            return None
        if piece.cjk:
            if right.cjk and not is_gap(folded, prev_end, start):
                return None
        elif not word_starts_at(folded, begin):
            return None
        start, right = begin, piece
    if entry.anchor == last:
        if entry.prefix and not right.cjk:  # the whole word: miner* covers "minerals"
            m = TOKEN_RE.match(folded, a)
            end = m.end(1) if m else b
        return start, end
    prev_cjk = pieces[entry.anchor].cjk
    size = len(folded)
    for k in range(entry.anchor + 1, last + 1):  # the pieces after, left to right
        piece = pieces[k]
        resume = consumed_end(folded, end)
        begin = resume
        while begin < size and not token_char(folded[begin]):
            begin += 1  # separators: whatever no token starts with
        if begin >= size or not folded.startswith(piece.text, begin):
            return None
        if piece.cjk:
            # A CJK gap: something between the two, and not a possessive 's.
            if prev_cjk and (begin > end and resume == end) != piece.gap:
                return None
            end = begin + len(piece.text)
        else:
            end = begin + len(piece.text)
            if k == last and entry.prefix:
                m = TOKEN_RE.match(folded, begin)  # the whole word the prefix begins
                end = m.end(1) if m else end
            elif not word_ends_at(folded, end):
                return None
        prev_cjk = piece.cjk
    return start, end


def _prev_token_end(folded: str, start: int) -> int:
    """The end of the token before the one starting at ``start``; -1 when there is none."""
    i = start
    while i > 0:
        ch = folded[i - 1]
        if token_char(ch):
            if (
                ch == "s"
                and i >= 3
                and folded[i - 2] == "'"
                and token_char(folded[i - 3])
                and (i >= len(folded) or not (folded[i].isalnum() or folded[i] == "_"))
            ):
                return i - 2  # a possessive 's belongs to no token
            return i
        i -= 1
    return -1


_NO_KEYS: frozenset[int] = frozenset()
_EMPTY = Analyzed("")


# --- per-item context -------------------------------------------------------------------------


class FieldDoc:
    """One field of one item: where each literal occurs (character spans in ``an.folded``),
    and which literals that regexes need occur in it (keys below zero)."""

    __slots__ = ("an", "occ", "keys", "rx", "cache")

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
            bd = FieldDoc(_EMPTY, {}, _NO_KEYS)
        self.fields: dict[str, FieldDoc] = {"title": td, "summary": sd, "body": bd}
        self.found = td.keys | sd.keys | bd.keys if body else td.keys | sd.keys

    def spans(self, fname: str, pattern: Pattern, kid: int) -> list[Span]:
        """Character spans of one pattern's occurrences in one field (exact case checked)."""
        doc = self.fields[fname]
        found = doc.occ.get(kid)
        if not found:
            return []
        if not pattern.needs_case:
            return found
        cached = doc.cache.get(pattern)
        if cached is None:
            cached = [(s, e) for s, e in found if _case_ok(doc.an, s, pattern)]
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


# --- evaluators -------------------------------------------------------------------------------


@dataclass
class Explanation:
    """One clause of a query and whether it held, for ``monitor rules explain``."""

    label: str
    value: bool
    children: list[Explanation] = field(default_factory=list)
    found: list[str] = field(default_factory=list)  # terms found, for leaves


class Evaluator:
    label = ""

    def test(self, ctx: Context, fields: Sequence[str]) -> bool:
        raise NotImplementedError

    def positions(self, ctx: Context, fname: str) -> list[Span]:
        """Token spans behind this clause in one field (empty when it does not hold there)."""
        raise NotImplementedError

    def children(self) -> Sequence[Evaluator]:
        return ()

    def hits(self, ctx: Context, fields: Sequence[str], out: list[RawHit]) -> None:
        for child in self.children():
            child.hits(ctx, fields, out)

    def near_bonus(self, ctx: Context, fields: Sequence[str]) -> float:
        return sum(child.near_bonus(ctx, fields) for child in self.children())

    def explain(self, ctx: Context, fields: Sequence[str]) -> Explanation:
        return Explanation(
            self.label,
            self.test(ctx, fields),
            [c.explain(ctx, fields) for c in self.children()],
        )


class Lit(Evaluator):
    """A word, a phrase, or a whole term list: true when any of its patterns occurs."""

    def __init__(self, label: str, patterns: list[tuple[Pattern, int]]) -> None:
        self.label = label
        self.patterns = patterns
        self.ids = frozenset(kid for _, kid in patterns)
        self.plain_ids = frozenset(kid for p, kid in patterns if not p.needs_case)
        self.cased = [(p, kid) for p, kid in patterns if p.needs_case]
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
                    spans = ctx.spans(fname, p, kid) if p.needs_case else occ[kid]
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
        for fname in fields:
            doc = ctx.fields[fname]
            key = (self, fname)  # a list's hits in an item are the same for every rule
            found = doc.cache.get(key)
            if found is None:
                found = doc.cache[key] = self._hits(ctx, fname)
            out.extend(found)

    def _hits(self, ctx: Context, fname: str) -> list[RawHit]:
        present = self._found(ctx, fname)[0]
        if not present:
            return []
        an = ctx.fields[fname].an
        if an.fmap is None:  # offsets unchanged by folding: _raw_hit inlined, per occurrence
            rank = RANK[fname]
            return [
                (rank, s, e, p.display, _new_hit(Hit, (p.display, fname, s, e)))
                for p, spans in present
                for s, e in spans
            ]
        return [
            _raw_hit(fname, p.display, an.orig(s), an.orig_end(e))
            for p, spans in present
            for s, e in spans
        ]

    def explain(self, ctx: Context, fields: Sequence[str]) -> Explanation:
        terms = sorted({p.display for p, _, _ in self.found(ctx, fields)}, key=str.casefold)
        return Explanation(self.label, bool(terms), found=terms)


def necessary_literals(pattern: str) -> frozenset[str] | None:
    """Strings of which every match of ``pattern`` contains one (case-folded), or None when
    the regex has no such literal (it starts with a class, say). A text containing none of
    them cannot match, which spares running the regex on most items."""
    try:  # re's own parser (private): if it ever changes shape, the regex just always runs
        found = _necessary(list(re_parser.parse(pattern, re.IGNORECASE)))
    except Exception:  # noqa: BLE001
        return None
    return frozenset(t.casefold() for t in found) if found else None


def _necessary(items: list[Any]) -> set[str] | None:
    options: list[set[str]] = []  # each alone is necessary; the most selective is kept
    run: list[str] = []

    def flush() -> None:
        if run:
            options.append({"".join(run)})
            run.clear()

    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            run.append(chr(av))
            continue
        if name in ("ASSERT", "ASSERT_NOT", "AT"):
            continue  # zero width: the literals on either side stay adjacent
        flush()
        sub: set[str] | None = None
        if name == "SUBPATTERN":
            sub = _necessary(list(av[3]))
        elif name == "BRANCH":
            branches = [_necessary(list(b)) for b in av[1]]
            if all(branches):
                sub = set().union(*branches)  # type: ignore[arg-type]
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1:
            sub = _necessary(list(av[2]))
        if sub:
            options.append(sub)
    flush()
    if not options:
        return None
    return max(options, key=lambda o: min(len(t) for t in o))


class Rx(Evaluator):
    def __init__(self, label: str, pattern: str, vocab: Vocabulary) -> None:
        self.label = label
        self.regex = SafeRegex(pattern)  # time-limited: raises RegexTimeout (saferegex.py)
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
        cached = doc.cache.get(key)
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
        except RegexTimeout as exc:
            doc.cache[key] = [exc]
            raise

    def positions(self, ctx: Context, fname: str) -> list[Span]:
        return [(s, e) for s, e, _, _ in self._matches(ctx, fname)]

    def hits(self, ctx: Context, fields: Sequence[str], out: list[RawHit]) -> None:
        for fname in fields:
            for _, _, a, b in self._matches(ctx, fname):
                out.append(_raw_hit(fname, self.label, a, b))

    def explain(self, ctx: Context, fields: Sequence[str]) -> Explanation:
        text = ctx.fields
        found = sorted(
            {text[f].an.text[a:b] for f in fields for _, _, a, b in self._matches(ctx, f)}
        )
        return Explanation(self.label, bool(found), found=found)


class AndE(Evaluator):
    label = "AND"

    def __init__(self, kids: list[Evaluator]) -> None:
        self.kids = kids
        # Without NOT below, a clause has positions in a field exactly when it holds there,
        # so the positions alone decide (no separate test).
        self.faithful = not _has_not(self)

    def children(self) -> Sequence[Evaluator]:
        return self.kids

    def test(self, ctx: Context, fields: Sequence[str]) -> bool:
        for k in self.kids:  # noqa: SIM110 - no generator on the hot path
            if not k.test(ctx, fields):
                return False
        return True

    def positions(self, ctx: Context, fname: str) -> list[Span]:
        if self.faithful:
            out: list[Span] = []
            for k in self.kids:
                found = k.positions(ctx, fname)
                if not found:
                    return []
                out += found
            return out
        if not self.test(ctx, (fname,)):
            return []
        return [s for k in self.kids for s in k.positions(ctx, fname)]


class OrE(AndE):
    label = "OR"

    def test(self, ctx: Context, fields: Sequence[str]) -> bool:
        for k in self.kids:  # noqa: SIM110 - no generator on the hot path
            if k.test(ctx, fields):
                return True
        return False

    def positions(self, ctx: Context, fname: str) -> list[Span]:
        return [s for k in self.kids for s in k.positions(ctx, fname)]

    def hits(self, ctx: Context, fields: Sequence[str], out: list[RawHit]) -> None:
        for kid in self.kids:
            if kid.test(ctx, fields):
                kid.hits(ctx, fields, out)


class AtLeastE(OrE):
    def __init__(self, count: int, kids: list[Evaluator]) -> None:
        self.count = count
        super().__init__(kids)
        self.label = f"ATLEAST {count}"

    def test(self, ctx: Context, fields: Sequence[str]) -> bool:
        need = self.count
        if need <= 0:
            return True
        left = len(self.kids)
        for k in self.kids:
            if k.test(ctx, fields):
                need -= 1
                if need <= 0:
                    return True
            left -= 1
            if left < need:
                return False
        return False

    def positions(self, ctx: Context, fname: str) -> list[Span]:
        if not self.test(ctx, (fname,)):
            return []
        return super().positions(ctx, fname)


class NotE(Evaluator):
    label = "NOT"

    def __init__(self, kid: Evaluator) -> None:
        self.kid = kid

    def children(self) -> Sequence[Evaluator]:
        return (self.kid,)

    def test(self, ctx: Context, fields: Sequence[str]) -> bool:
        return not self.kid.test(ctx, fields)

    def positions(self, ctx: Context, fname: str) -> list[Span]:
        return []  # an absence has no position

    def hits(self, ctx: Context, fields: Sequence[str], out: list[RawHit]) -> None:
        return None  # terms under NOT are not reasons for a match

    def near_bonus(self, ctx: Context, fields: Sequence[str]) -> float:
        return 0.0


class FieldE(Evaluator):
    def __init__(self, fname: Field, kid: Evaluator) -> None:
        self.fname = fname
        self.kid = kid
        self.label = f"{fname}:"

    def children(self) -> Sequence[Evaluator]:
        return (self.kid,)

    def _fields(self, fields: Sequence[str]) -> tuple[str, ...]:
        return (self.fname,) if self.fname in fields else ()

    def test(self, ctx: Context, fields: Sequence[str]) -> bool:
        return self.kid.test(ctx, self._fields(fields))

    def positions(self, ctx: Context, fname: str) -> list[Span]:
        return self.kid.positions(ctx, fname) if fname == self.fname else []

    def hits(self, ctx: Context, fields: Sequence[str], out: list[RawHit]) -> None:
        self.kid.hits(ctx, self._fields(fields), out)

    def near_bonus(self, ctx: Context, fields: Sequence[str]) -> float:
        return self.kid.near_bonus(ctx, self._fields(fields))

    def explain(self, ctx: Context, fields: Sequence[str]) -> Explanation:
        inner = self._fields(fields)
        return Explanation(self.label, self.kid.test(ctx, inner), [self.kid.explain(ctx, inner)])


class NearE(Evaluator):
    def __init__(self, left: Evaluator, right: Evaluator, distance: int) -> None:
        self.left = left
        self.right = right
        self.distance = distance
        self.label = f"NEAR/{distance}"

    def children(self) -> Sequence[Evaluator]:
        return (self.left, self.right)

    def gap(self, ctx: Context, fname: str) -> int | None:
        """The fewest tokens between a left and a right span in one field, if within range."""
        cache = ctx.fields[fname].cache
        key = ("near", id(self))
        if key not in cache:
            cache[key] = [self._gap(ctx, fname)]
        return cache[key][0]

    def _gap(self, ctx: Context, fname: str) -> int | None:
        left = self.left.positions(ctx, fname)
        if not left:
            return None
        right = self.right.positions(ctx, fname)
        if not right:
            return None
        an = ctx.fields[fname].an
        distance = self.distance
        # Walk all spans in text order. A span is nearest to the span of the other side that
        # ends last before it (more text between means no fewer tokens), so one count per
        # span at most, and none when that end has not moved since this side last counted.
        spans = sorted({(a, b, 0) for a, b in left} | {(a, b, 1) for a, b in right})
        ends: tuple[list[tuple[int, Span]], list[tuple[int, Span]]] = ([], [])  # top two
        counted_from = [-1, -1]
        best: int | None = None
        for a, b, side in spans:
            here = (a, b)
            nearest = -1
            for end, span in ends[1 - side]:
                if span == here:
                    continue  # one occurrence cannot be near itself
                if end > a:
                    return 0  # they overlap
                nearest = max(nearest, end)
                break
            if nearest >= 0 and nearest != counted_from[side]:
                counted_from[side] = nearest
                g = an.tokens_between(nearest, a, distance)
                if g <= distance and (best is None or g < best):
                    best = g
            mine = ends[side]
            mine.append((b, here))
            mine.sort(reverse=True)
            del mine[2:]
        return best

    def test(self, ctx: Context, fields: Sequence[str]) -> bool:
        for f in fields:  # noqa: SIM110 - no generator on the hot path
            if self.gap(ctx, f) is not None:
                return True
        return False

    def positions(self, ctx: Context, fname: str) -> list[Span]:
        if self.gap(ctx, fname) is None:
            return []
        return self.left.positions(ctx, fname) + self.right.positions(ctx, fname)

    def hits(self, ctx: Context, fields: Sequence[str], out: list[RawHit]) -> None:
        near_fields = [f for f in fields if self.gap(ctx, f) is not None]
        self.left.hits(ctx, near_fields, out)
        self.right.hits(ctx, near_fields, out)

    def near_bonus(self, ctx: Context, fields: Sequence[str]) -> float:
        gaps = [g for f in fields if (g := self.gap(ctx, f)) is not None]
        if not gaps:
            return 0.0
        own = (self.distance + 1 - min(gaps)) / (self.distance + 1)
        return own + super().near_bonus(ctx, fields)


# --- results and the compiled query -----------------------------------------------------------


class QueryResult(NamedTuple):  # a named tuple: one is built per candidate rule
    matched: bool
    hits: tuple[Hit, ...] = ()
    score: float = 0.0  # before the rule's weight; see docs/rules.md "Scoring"


TITLE_WEIGHT = 2.0
SUMMARY_WEIGHT = 1.0
BODY_WEIGHT = 0.5  # the article text: a term there counts, but less than in the lead


def _raw_hit(fname: str, term: str, start: int, end: int) -> RawHit:
    rank = RANK[fname]
    return rank, start, end, term, _new_hit(Hit, (term, FIELDS[rank], start, end))


_new_hit = tuple.__new__  # a Hit without the Python-level __new__ of a named tuple


def score_hits(hits: Sequence[RawHit], near_bonus: float) -> float:
    """Each distinct term: 2 if it is in the title, else 1 if in the summary, else 0.5 (only
    in the body); plus each NEAR's proximity bonus."""
    terms = {t.casefold() for _, _, _, t, _ in hits}
    in_title = {t.casefold() for rank, _, _, t, _ in hits if not rank}
    in_lead = {t.casefold() for rank, _, _, t, _ in hits if rank < 2}
    weights = (
        TITLE_WEIGHT * len(in_title)
        + SUMMARY_WEIGHT * len(in_lead - in_title)
        + BODY_WEIGHT * len(terms - in_lead)
    )
    return round(weights + near_bonus, 3)


class CompiledQuery:
    """A query ready to run. ``evaluate`` scans the text itself; the Matcher shares a scan."""

    def __init__(self, root: Evaluator, vocab: Vocabulary, node: ast.Node) -> None:
        self.root = root
        self.vocab = vocab
        self.node = node
        self.lists_used: frozenset[str] = frozenset(_list_names(node))
        self.has_near = _has_near(root)

    def evaluate(self, title: str, summary: str = "", body: str = "") -> QueryResult:
        return self.run(Context(self.vocab, title, summary, body))

    def run(self, ctx: Context) -> QueryResult:
        if not self.root.test(ctx, FIELDS):
            return QueryResult(False)
        raw: list[RawHit] = []
        self.root.hits(ctx, FIELDS, raw)
        raw = sorted(set(raw))
        hits = tuple([r[4] for r in raw])
        bonus = self.root.near_bonus(ctx, FIELDS) if self.has_near else 0.0
        return QueryResult(True, hits, score_hits(raw, bonus))

    def explain(self, title: str, summary: str = "", body: str = "") -> Explanation:
        return self.explain_ctx(Context(self.vocab, title, summary, body))

    def explain_ctx(self, ctx: Context) -> Explanation:
        return self.root.explain(ctx, FIELDS)

    def required_ids(self) -> tuple[Clause, ...]:
        """Necessary key sets, AND of ORs: each must meet the keys found for a match (in
        its field, for a clause under ``title:`` or ``summary:``)."""
        return tuple(_cnf_ids(self.root))

    def literal_terms(self) -> tuple[str, ...]:
        """Every literal term outside NOT, as written (``miner*`` keeps its star)."""
        out: list[str] = []
        _literals(self.root, out)
        return tuple(dict.fromkeys(out))

    def required_terms(self) -> tuple[tuple[str, ...], ...] | None:
        """A necessary condition for a match as AND of ORs of literal terms, for prefilters
        such as archive search's FTS query; None when nothing is required (a regex, NOT)."""
        return _cnf(self.root)


def _has_not(ev: Evaluator) -> bool:
    if isinstance(ev, NotE) or (isinstance(ev, AtLeastE) and ev.count <= 0):
        return True  # ATLEAST 0 holds with nothing found
    return any(_has_not(c) for c in ev.children())


def _has_near(ev: Evaluator) -> bool:
    return isinstance(ev, NearE) or any(_has_near(c) for c in ev.children())


def _literals(ev: Evaluator, out: list[str]) -> None:
    if isinstance(ev, NotE):
        return
    if isinstance(ev, Lit):
        out.extend(p.display for p, _ in ev.patterns)
    for child in ev.children():
        _literals(child, out)


Clause = tuple[frozenset[int], Field | None]  # key ids, one of which must occur (in a field)


def _cnf_ids(ev: Evaluator, scope: Field | None = None) -> list[Clause]:
    if isinstance(ev, Lit):
        return [(frozenset(kid for _, kid in ev.patterns), scope)]
    if isinstance(ev, Rx):  # one of the literals any match contains
        return [(ev.need_keys, scope)] if ev.need_keys else []
    if isinstance(ev, NotE):
        return []
    if isinstance(ev, FieldE):
        return _cnf_ids(ev.kid, ev.fname)
    if isinstance(ev, OrE):  # OR, ATLEAST: clauses made of one clause of each child
        subs: list[list[Clause]] = []
        for kid in ev.kids:
            sub = _cnf_ids(kid, scope)
            if not sub:
                return []
            subs.append(sub)
        if not isinstance(ev, AtLeastE) and prod(len(sub) for sub in subs) <= 16:
            # (A1 AND A2) OR (B1 AND B2) needs A1|B1, A1|B2, A2|B1 and A2|B2: every pair
            # filters, where one union alone lets common words through.
            return [_union(group) for group in product(*subs)]
        parts = [min(sub, key=lambda c: len(c[0])) for sub in subs]
        # ATLEAST n of k: every k - n + 1 children include one that holds (OR: n = 1).
        size = len(parts) - (ev.count if isinstance(ev, AtLeastE) else 1) + 1
        if size < len(parts) and comb(len(parts), size) <= 20:
            return [_union(group) for group in combinations(parts, size)]
        return [_union(parts)]
    return [clause for kid in ev.children() for clause in _cnf_ids(kid, scope)]


def _union(clauses: Sequence[Clause]) -> Clause:
    """One of these holds: the union of their keys, in their field if they share one."""
    fields = {f for _, f in clauses}
    return frozenset().union(*(ids for ids, _ in clauses)), fields.pop() if len(
        fields
    ) == 1 else None


def _cnf(ev: Evaluator) -> tuple[tuple[str, ...], ...] | None:
    if isinstance(ev, Lit):
        return (tuple(dict.fromkeys(p.display for p, _ in ev.patterns)),)
    if isinstance(ev, (NotE, Rx)):
        return None
    if isinstance(ev, FieldE):
        return _cnf(ev.kid)
    if isinstance(ev, OrE):
        clauses: list[str] = []
        for kid in ev.kids:
            sub = _cnf(kid)
            if not sub:
                return None
            shortest: tuple[str, ...] = min(sub, key=len)
            clauses.extend(shortest)
        return (tuple(dict.fromkeys(clauses)),)
    out: list[tuple[str, ...]] = []
    for kid in ev.children():
        out.extend(_cnf(kid) or ())
    return tuple(out) or None


def _list_names(node: ast.Node) -> Iterator[str]:
    if isinstance(node, ast.ListRef):
        yield node.name
    elif isinstance(node, (ast.And, ast.Or, ast.AtLeast)):
        for child in node.children:
            yield from _list_names(child)
    elif isinstance(node, (ast.Not, ast.FieldScope)):
        yield from _list_names(node.child)
    elif isinstance(node, ast.Near):
        yield from _list_names(node.left)
        yield from _list_names(node.right)


# --- compiling --------------------------------------------------------------------------------


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


class _Compiler:
    def __init__(self, lists: Mapping[str, TermList] | None, vocab: Vocabulary, query: str):
        self.lists = lists
        self.vocab = vocab
        self.query = query
        # Queries compiled into one vocabulary with the same lists share expanded lists.
        if vocab.lists_source is not lists:
            vocab.lists_source, vocab.list_cache, vocab.list_lits = lists, {}, {}
        self.list_cache = vocab.list_cache

    def pattern(self, p: Pattern) -> tuple[Pattern, int]:
        return p, self.vocab.add(p.key)

    def compile(self, node: ast.Node) -> Evaluator:
        if isinstance(node, ast.Term):
            p = words_pattern([node.text], node.prefix, to_text(node))
            return Lit(to_text(node), [self.pattern(p)] if p else [])
        if isinstance(node, ast.Phrase):
            shown = " ".join(node.words) + ("*" if node.prefix else "")
            p = words_pattern(node.words, node.prefix, shown)
            return Lit(to_text(node), [self.pattern(p)] if p else [])
        if isinstance(node, ast.Regex):
            return Rx(to_text(node), node.pattern, self.vocab)
        if isinstance(node, ast.ListRef):
            # One evaluator per list, shared by every rule using it: what it finds in an
            # item is worked out once and cached on the item (see Lit._found).
            lit = self.vocab.list_lits.get(node.name)
            if lit is None:
                lit = Lit(f"@{node.name}", self.list_patterns(node))
                self.vocab.list_lits[node.name] = lit
            return lit
        if isinstance(node, ast.And):
            return AndE([self.compile(c) for c in node.children])
        if isinstance(node, ast.Or):
            return OrE([self.compile(c) for c in node.children])
        if isinstance(node, ast.AtLeast):
            return AtLeastE(node.count, [self.compile(c) for c in node.children])
        if isinstance(node, ast.Not):
            return NotE(self.compile(node.child))
        if isinstance(node, ast.FieldScope):
            return FieldE(node.field, self.compile(node.child))
        if isinstance(node, ast.Near):
            return NearE(self.compile(node.left), self.compile(node.right), node.distance)
        raise TypeError(f"not a query node: {node!r}")  # pragma: no cover

    def list_patterns(self, node: ast.ListRef) -> list[tuple[Pattern, int]]:
        name = node.name
        if name in self.list_cache:
            return self.list_cache[name]
        if self.lists is None or name not in self.lists:
            known = sorted(self.lists or ())
            close = [k for k in known if _close(name, k)]
            if close:
                hint = f"did you mean @{close[0]}?"
            elif known:
                hint = "known lists: " + ", ".join(f"@{k}" for k in known[:12])
            else:
                hint = "term lists live in rules/lists/<name>.yaml"
            raise QueryError(f"unknown list @{name}", self.query, node.pos, hint)
        patterns = []
        for term in expand_terms(name, self.lists):
            try:
                patterns.append(self.pattern(literal_pattern(term)))
            except ValueError:
                continue  # the loader reports bad terms with their line
        self.list_cache[name] = patterns
        return patterns


def _close(a: str, b: str) -> bool:
    import difflib

    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.6


def compile_query(
    node: ast.Node,
    lists: Mapping[str, TermList] | None = None,
    *,
    query: str = "",
    vocab: Vocabulary | None = None,
) -> CompiledQuery:
    """Compile a parsed query. ``lists`` resolves ``@name``; an unknown one is a QueryError
    (``query``, the source text, is quoted in it). Queries compiled into one ``vocab`` share
    an automaton, so an item is scanned once for all of them."""
    vocab = vocab if vocab is not None else Vocabulary()
    root = _Compiler(lists, vocab, query).compile(node)
    compiled = CompiledQuery(root, vocab, node)
    return compiled
