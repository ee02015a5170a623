"""Placing a literal around its anchor: are the tokens either side of an automaton's find
the literal's other pieces? Only for text with CJK, or phrases the quick checks in
monitor.rules.scan leave open; the answer is the same as matching a token list.
"""

from __future__ import annotations

from monitor.rules.literals import Entry, Span
from monitor.rules.text import (
    TOKEN_RE,
    consumed_end,
    is_gap,
    token_char,
    word_ends_at,
    word_starts_at,
)


def phrase_span(folded: str, a: int, b: int, entry: Entry) -> Span | None:
    """``place``, after a quick look at the tokens either side of the anchor: most phrases
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
    return place(folded, a, b, entry)


def place(folded: str, a: int, b: int, entry: Entry) -> Span | None:
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
