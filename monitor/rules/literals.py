"""Literal terms (words, phrases, list entries) as the scanner looks for them.

A literal's identity is its key (``" w1 w2 "``, see monitor.rules.text). For the automata it
is cut into pieces, stretches contiguous in text (a word, a run of CJK), and found by its
longest piece, the anchor (``Entry``); monitor.rules.scan then checks the other pieces in
place.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace

from monitor.rules.cjk import is_cjk
from monitor.rules.termlist import TermOptions
from monitor.rules.text import GAP, fold, key_of, tokenize, written_in_capitals

Span = tuple[int, int]  # character offsets in the folded text, end exclusive


@dataclass(frozen=True, slots=True)
class Pattern:
    """One literal: its key in the automaton and, per token, the exact case it needs."""

    display: str  # as written, for hits and explanations
    key: str
    ntok: int
    exact: tuple[str | None, ...]  # None: any case
    prefix: bool
    needs_case: bool  # some token must keep the case it is written in
    not_in: tuple[NotInside, ...] = ()  # longer words it is not read inside
    needs_check: bool = False  # needs_case, or not_in: each occurrence is looked at


@dataclass(frozen=True, slots=True)
class NotInside:
    """A word a term is not read inside: where the folded text has ``word`` starting
    ``offset`` characters from the term's start (negative: before it), the occurrence
    belongs to that word. ``number``: a number right before the word (``#日`` is a date)."""

    word: str
    offset: int
    number: bool


def exceptions_of(term: str, not_in: Sequence[str]) -> tuple[NotInside, ...]:
    """Each ``not_in`` word at every place it can share characters with the term: 訪韓日程
    around 韓日, 毎日 ending on the 日 of 日米, 북한 ending on the 한 of 한일. ValueError (with a
    sentence) for a word that shares none, or is the term itself."""
    body = fold(term.strip().rstrip("*"))
    out = []
    for word in not_in:
        number = word.startswith("#")
        folded = fold(word[1:] if number else word)
        places = []
        for k in range(-len(folded) + 1, len(body)):
            lo, hi = max(0, k), min(len(body), k + len(folded))
            if lo >= hi or body[lo:hi] != folded[lo - k : hi - k]:
                continue
            inside = k >= 0 and k + len(folded) <= len(body)
            if inside and not number:
                continue  # a part of the term itself would cancel every occurrence
            places.append(NotInside(folded, k, number))
        if not places:
            raise ValueError(
                f"not_in: {word!r} shares no characters with {term!r} at its start or end; "
                "write the longer word the term must not be read in, e.g. 訪韓日程 for 韓日"
            )
        out.extend(places)
    return tuple(out)


def excepted(folded: str, span: Span, not_in: Sequence[NotInside]) -> bool:
    """Whether the occurrence at ``span`` of the folded text shares characters with one of
    the words its term is not read in."""
    a = span[0]
    for ex in not_in:
        start = a + ex.offset
        if start < 0 or not folded.startswith(ex.word, start):
            continue
        if ex.number and not (start and folded[start - 1].isdigit()):
            continue
        return True
    return False


# A rule file's queries are compiled twice as it loads (checked alone for precise errors,
# then into the shared matcher), and a list's terms once for each query that uses it:
# the same (term, options) every time, and a Pattern is immutable.
@functools.lru_cache(maxsize=1 << 16)
def literal_pattern(text: str, options: TermOptions | None = None) -> Pattern:
    """A list term as written: a word or several (a phrase), optional trailing ``*``; with
    the options of an entry written as a mapping (``not_in``, ``exact_case``).

    Raises ValueError with a sentence when the term cannot match anything.
    """
    stripped = text.strip()
    prefix = stripped.endswith("*")
    body = stripped[:-1] if prefix else stripped
    if "*" in body:
        raise ValueError("a * wildcard only works at the end of a term, e.g. miner*")
    exact_case = options.exact_case if options else False
    pattern = words_pattern(body.split(), prefix, stripped, exact_case)
    if pattern is None:
        raise ValueError(f"{stripped!r} has no letters or digits to match")
    if options and options.not_in:
        not_in = exceptions_of(stripped, options.not_in)
        pattern = replace(pattern, not_in=not_in, needs_check=True)
    return pattern


def words_pattern(
    words: Sequence[str], prefix: bool, display: str, exact_case: bool = False
) -> Pattern | None:
    tokens: list[str] = []
    exact: list[str | None] = []
    for word in words:
        capitals = exact_case or written_in_capitals(word)
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
    return Pattern(display, key, len(tokens), tuple(exact), prefix, needs_case, (), needs_case)


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
class Entry:
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


def anchor_entry(kid: int, key: str) -> tuple[str, bool, Entry] | None:
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
    entry = Entry(kid, pieces, anchor, prefix, whole, single, word_prefix, after, before)
    return piece.text, not piece.cjk, entry
