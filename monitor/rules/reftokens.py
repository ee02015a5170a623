"""The reference evaluator's literals: a field as a token list and where a literal occurs in it.

Plain on purpose, like monitor.rules.reference which builds on it: a literal occurs where a run
of tokens equals its tokens, the last a prefix for ``term*``, in the case it is written in for
words in capitals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from monitor.model import Field
from monitor.rules.literals import NotInside, excepted, exceptions_of
from monitor.rules.termlist import TermOptions
from monitor.rules.text import (
    _GAP_RE,
    GAP,
    TOKEN_RE,
    Analyzed,
    key_of,
    tokenize,
    written_in_capitals,
)

Span = tuple[int, int]


@dataclass(frozen=True)
class Token:
    text: str  # folded; GAP for a break between CJK characters
    start: int  # in the folded text
    end: int


@dataclass(frozen=True)
class Tokens:
    """One field of an item as a token list, with what hits and exact case need."""

    name: Field
    analyzed: Analyzed  # folded text, case-kept text aligned with it, map to the original
    tokens: tuple[Token, ...]

    @classmethod
    def of(cls, name: Field, text: str) -> Tokens:
        an = Analyzed(text)
        # GAP runs become one GAP token, padded so that offsets stay those of the folded text.
        padded = _GAP_RE.sub(lambda m: GAP + " " * (len(m.group()) - 1), an.folded)
        toks = tuple(Token(m.group(1), m.start(1), m.end(1)) for m in TOKEN_RE.finditer(padded))
        return cls(name, an, toks)

    def words(self) -> list[Token]:
        """The tokens that count for distances (a GAP is not a word)."""
        return [t for t in self.tokens if t.text != GAP]


@dataclass(frozen=True)
class Literal:
    """A word, phrase or list term: its tokens (folded, GAP between spaced CJK) and, per
    non-GAP token, the case it must have (None: any)."""

    display: str
    tokens: tuple[str, ...]
    exact: tuple[str | None, ...]
    prefix: bool
    not_in: tuple[NotInside, ...] = ()  # longer words it is not read inside


def literal(
    words: Sequence[str], prefix: bool, display: str, exact_case: bool = False
) -> Literal | None:
    tokens = tuple(t for t in key_of(" ".join(words), prefix).split(" ") if t)
    exact: list[str | None] = []
    for word in words:
        capitals = exact_case or written_in_capitals(word)
        exact.extend(tok if capitals else None for tok in tokenize(word))
    if len([t for t in tokens if t != GAP]) != len(exact):
        exact = [None] * len([t for t in tokens if t != GAP])  # folding split a token
    if not tokens:
        return None
    return Literal(display, tokens, tuple(exact), prefix)


def list_literal(term: str, options: TermOptions | None = None) -> Literal | None:
    """A list term as written: words, an optional trailing ``*``; None if it cannot match.
    An entry written as a mapping may keep its case (``exact_case``) and name longer words
    it is not read inside (``not_in``)."""
    stripped = term.strip()
    prefix = stripped.endswith("*")
    body = stripped[:-1] if prefix else stripped
    if "*" in body:
        return None
    found = literal(body.split(), prefix, stripped, bool(options and options.exact_case))
    if found is not None and options and options.not_in:
        return replace(found, not_in=exceptions_of(stripped, options.not_in))
    return found


def occurrences(lit: Literal, doc: Tokens) -> list[Span]:
    """Where a literal occurs in a field: runs of tokens equal to its tokens."""
    toks = doc.tokens
    want = lit.tokens
    last = len(want) - 1
    out: list[Span] = []
    for i in range(len(toks) - last):
        run = toks[i : i + len(want)]
        if all(
            _token_matches(got, w, lit.prefix and j == last)
            for j, (got, w) in enumerate(zip(run, want, strict=True))
        ) and _case_ok(lit, run, doc):
            span = (run[0].start, run[-1].end)
            if not excepted(doc.analyzed.folded, span, lit.not_in):
                out.append(span)
    return out


def _token_matches(got: Token, want: str, prefix: bool) -> bool:
    if prefix and want != GAP and got.text != GAP:
        return got.text.startswith(want)
    return got.text == want


def _case_ok(lit: Literal, run: Sequence[Token], doc: Tokens) -> bool:
    cased = doc.analyzed.cased
    words = [t for t in run if t.text != GAP]
    for k, (tok, want) in enumerate(zip(words, lit.exact, strict=True)):
        if want is None:
            continue
        got = cased[tok.start : tok.end]
        if lit.prefix and k == len(words) - 1:
            if not got.startswith(want):
                return False
        elif got != want:
            return False
    return True


def words_between(doc: Tokens, end: int, start: int) -> int:
    """Tokens (not GAPs) that lie wholly after ``end`` and start before ``start``."""
    return sum(1 for t in doc.words() if t.start >= end and t.start < start)


def gap(doc: Tokens, x: Span, y: Span) -> int:
    """Tokens between two spans (0 when they overlap or touch)."""
    first, second = (x, y) if x <= y else (y, x)
    if first[1] > second[0]:
        return 0
    return words_between(doc, first[1], second[0])
