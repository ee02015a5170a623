"""Text normalisation and tokenising, applied the same way to queries and to items.

Both sides go through NFKC, dash and quote unification, case folding and the dropping of a
possessive 's. Text is then cut into tokens: a word (a run of letters and digits, inner
apostrophes kept) or a single CJK character. Making every Han, Kana and Hangul character its
own token lets a Japanese or Korean term match inside a run without spaces, and makes NEAR
count characters in CJK text and words elsewhere, with one mechanism.

Matching runs over ``joined``: the folded tokens separated by single spaces, with a space at
each end, so a literal term is the string ``" w1 w2 "`` and word boundaries come for free.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass

# Han (with extensions and compatibility ideographs), Hiragana, Katakana (with phonetic
# extensions and the prolonged sound mark), Hangul syllables and jamo, iteration marks.
CJK_CLASS = (
    "\u1100-\u11ff\u3005-\u3007\u3021-\u3029\u3031-\u3035\u3040-\u309f\u30a0-\u30ff"
    "\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7af"
    "\ud7b0-\ud7ff\uf900-\ufaff\U00020000-\U0003134f"
)
_CJK_RE = re.compile(f"[{CJK_CLASS}]")
# Group 1 is the token; a trailing possessive 's is consumed but left out of it.
TOKEN_RE = re.compile(
    f"[{CJK_CLASS}]|([^\\W_{CJK_CLASS}]+(?:'(?!s\\b)[^\\W_{CJK_CLASS}]+)*)(?:'s\\b)?"
)

# Dash and quote variants become ASCII; one character for one, so offsets do not move.
_PUNCT = str.maketrans(
    {
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\uff07", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\uff02", '"'),
    }
)


def is_cjk(char: str) -> bool:
    return bool(_CJK_RE.match(char))


def has_cjk(text: str) -> bool:
    return bool(_CJK_RE.search(text))


def normalize(text: str) -> str:
    """NFKC plus dash and quote unification, case kept (queries, regexes, exact-case checks)."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text).translate(_PUNCT)


def fold(text: str) -> str:
    """``normalize`` plus case folding."""
    return normalize(text).casefold()


def _clusters(text: str) -> list[tuple[int, str]]:
    """(start, cluster) for each base character with its combining marks."""
    out: list[tuple[int, str]] = []
    for i, ch in enumerate(text):
        if out and unicodedata.combining(ch):
            start, prev = out[-1]
            out[-1] = (start, prev + ch)
        else:
            out.append((i, ch))
    return out


def fold_with_map(text: str) -> tuple[str, list[int] | None, str]:
    """Folded text, a map from folded index to original index (None: identity), and the
    normalised case-kept text with the same map (used for regexes).

    The fast path covers text whose length NFKC and folding do not change (nearly all);
    otherwise each character cluster is normalised on its own to keep the map.
    """
    if text.isascii():
        return text.lower(), None, text
    cased = unicodedata.normalize("NFKC", text).translate(_PUNCT)
    folded = cased.casefold()
    if len(cased) == len(text) and len(folded) == len(text):
        return folded, None, cased
    folded_parts: list[str] = []
    cased_parts: list[str] = []
    fmap: list[int] = []
    for start, cluster in _clusters(text):
        c = unicodedata.normalize("NFKC", cluster).translate(_PUNCT)
        f = c.casefold()
        cased_parts.append(f if len(c) != len(f) else c)  # keep cased and folded aligned
        folded_parts.append(f)
        fmap.extend([start] * len(f))
    return "".join(folded_parts), fmap, "".join(cased_parts)


@dataclass
class Analyzed:
    """One field of an item, tokenised for matching."""

    text: str  # the original
    folded: str
    cased: str  # normalised, case kept, aligned with folded
    fmap: list[int] | None  # folded index -> original index; None when identical
    spans: list[tuple[int, int]]  # each token's span in folded
    joined: str  # " tok1 tok2 ... "
    starts: list[int]  # each token's start in joined

    def token_at(self, joined_pos: int) -> int:
        """The index of the token starting at or before ``joined_pos``."""
        return bisect_right(self.starts, joined_pos) - 1

    def orig(self, pos: int) -> int:
        """Map a folded offset (or end offset) to the original text."""
        if self.fmap is None:
            return pos
        if pos >= len(self.fmap):
            return len(self.text)
        return self.fmap[pos]

    def orig_end(self, end: int) -> int:
        """Map an exclusive folded end offset to an exclusive original end offset."""
        if self.fmap is None:
            return end
        if end <= 0:
            return 0
        last = self.fmap[end - 1]
        # The original character that produced folded[end-1] ends the span.
        nxt = last + 1
        while nxt < len(self.text) and unicodedata.combining(self.text[nxt]):
            nxt += 1
        return nxt

    def token_span(self, first: int, last_excl: int) -> tuple[int, int]:
        """Original character span covering tokens [first, last_excl)."""
        return self.orig(self.spans[first][0]), self.orig_end(self.spans[last_excl - 1][1])

    def cased_token(self, index: int) -> str:
        a, b = self.spans[index]
        return self.cased[a:b]


def join_tokens(
    tokens: list[str], spans: list[tuple[int, int]], cjk: bool
) -> tuple[str, list[int]]:
    """``" tok1 tok2 … "`` and each token's start in it.

    Tokens are separated by one space, except two CJK characters that were not side by side
    in the text (a space or punctuation between them): two spaces. So 日韓 matches "日韓"
    but not "20日、韓国", and 일본 does not match "30일 본회의". Latin phrases ignore
    punctuation either way.
    """
    if not tokens:
        return " ", []
    if not cjk:
        starts = []
        pos = 1
        for tok in tokens:
            starts.append(pos)
            pos += len(tok) + 1
        return " " + " ".join(tokens) + " ", starts
    parts = [" "]
    starts = []
    pos = 1
    prev_cjk = False
    prev_end = -1
    for tok, (a, b) in zip(tokens, spans, strict=True):
        this_cjk = len(tok) == 1 and bool(_CJK_RE.match(tok))
        if starts:
            gap = "  " if prev_cjk and this_cjk and a != prev_end else " "
            parts.append(gap)
            pos += len(gap)
        starts.append(pos)
        parts.append(tok)
        pos += len(tok)
        prev_cjk, prev_end = this_cjk, b
    parts.append(" ")
    return "".join(parts), starts


def analyze(text: str) -> Analyzed:
    folded, fmap, cased = fold_with_map(text)
    spans = [m.span(1) if m.lastindex else m.span() for m in TOKEN_RE.finditer(folded)]
    tokens = [folded[a:b] for a, b in spans]
    cjk = not text.isascii() and has_cjk(folded)
    joined, starts = join_tokens(tokens, spans, cjk)
    return Analyzed(text, folded, cased, fmap, spans, joined, starts)


def tokenize(text: str) -> list[str]:
    """The tokens of a query word or phrase, case kept (exact-case checks compare these)."""
    norm = normalize(text)
    return [norm[a:b] for a, b in token_spans(norm)]


def token_spans(text: str) -> list[tuple[int, int]]:
    return [m.span(1) if m.lastindex else m.span() for m in TOKEN_RE.finditer(text)]


def written_in_capitals(word: str) -> bool:
    """US, ROK, METI, U.S.: two or more letters, all upper case. CJK has no case."""
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def key_of(text: str, prefix: bool = False) -> str:
    """The string searched for in ``joined`` for a literal written as ``text``."""
    norm = fold(text)
    spans = token_spans(norm)
    joined, _ = join_tokens([norm[a:b] for a, b in spans], spans, has_cjk(norm))
    return joined[:-1] if prefix else joined
