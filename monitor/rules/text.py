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
from bisect import bisect_left
from itertools import accumulate

# Han (with extensions and compatibility ideographs), Hiragana, Katakana (with phonetic
# extensions and the prolonged sound mark), Hangul syllables and jamo, iteration marks.
CJK_CLASS = (
    "\u1100-\u11ff\u3005-\u3007\u3021-\u3029\u3031-\u3035\u3040-\u309f\u30a0-\u30ff"
    "\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7af"
    "\ud7b0-\ud7ff\uf900-\ufaff\U00020000-\U0003134f"
)
_CJK_RE = re.compile(f"[{CJK_CLASS}]")
# The same tokens for text without CJK, found faster without the CJK ranges.
_LATIN_TOKEN_RE = re.compile("(\x00|[^\\W_]+(?:'(?!s\\b)[^\\W_]+)*)(?:'s\\b)?")
_ASCII_TOKEN_RE = re.compile(_LATIN_TOKEN_RE.pattern, re.ASCII)
# Group 1 is the token; a trailing possessive 's is consumed but left out of it.
TOKEN_RE = re.compile(
    f"(\x00|[{CJK_CLASS}]|[^\\W_{CJK_CLASS}]+(?:'(?!s\\b)[^\\W_{CJK_CLASS}]+)*)(?:'s\\b)?"
)

# Dash and quote variants become ASCII; one character for one, so offsets do not move.
_PUNCT = str.maketrans(
    {
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\uff07", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\uff02", '"'),
    }
)


_PUNCT_RE = re.compile("[" + "".join(chr(c) for c in _PUNCT) + "]")


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
    if "\x00" in text:  # NUL marks CJK gaps in ``joined``: never take it from the text
        text = text.replace("\x00", " ")
    if text.isascii():
        return text.lower(), None, text
    cased = unicodedata.normalize("NFKC", text)
    if _PUNCT_RE.search(cased):
        cased = cased.translate(_PUNCT)
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


_PIECE_RE = re.compile("[^ ]+ ")
GAP = "\x00"  # stands between two CJK characters that a space or punctuation separates
_GAP_RE = re.compile(f"(?<=[{CJK_CLASS}])(?:[^\\w]|_)+(?=[{CJK_CLASS}])")


def joined_of(folded: str) -> str:
    """``" tok1 tok2 … "``: the tokens of folded text, one space apart, built in C.

    Two CJK characters that were not side by side in the text (a space or punctuation between
    them) get a GAP token between them: 日韓 matches "日韓" but not "20日、韓国", and 일본
    does not match "30일 본회의". Latin phrases ignore punctuation either way.
    """
    regex = token_regex(folded)
    if regex is TOKEN_RE:
        folded = _GAP_RE.sub(GAP, folded)
    tokens = regex.findall(folded)
    return " " + " ".join(tokens) + " " if tokens else " "


def token_regex(folded: str) -> re.Pattern[str]:
    """TOKEN_RE, or an equivalent faster one when the text has no CJK (or is ASCII)."""
    if folded.isascii():
        return _ASCII_TOKEN_RE
    return TOKEN_RE if _CJK_RE.search(folded) else _LATIN_TOKEN_RE


class Analyzed:
    """One field of an item, tokenised for matching.

    ``joined`` is built eagerly (the automaton scans it); token spans and positions only when
    an evaluation needs them (NEAR, exact case, hits), since most items match no rule.
    """

    __slots__ = ("text", "folded", "cased", "fmap", "joined", "_spans", "_starts")

    def __init__(self, text: str) -> None:
        self.text = text
        self.folded, self.fmap, self.cased = fold_with_map(text)
        self.joined = joined_of(self.folded)
        self._spans: list[tuple[int, int]] | None = None
        self._starts: list[int] | None = None

    @property
    def spans(self) -> list[tuple[int, int]]:
        """Each token's span in ``folded``."""
        if self._spans is None:
            regex = token_regex(self.folded)
            self._spans = [m.span(1) for m in regex.finditer(self.folded)]
        return self._spans

    @property
    def starts(self) -> list[int]:
        """Each token's start in ``joined`` (GAP markers are not tokens)."""
        if self._starts is None:
            # Token i starts after i + 1 spaces and the tokens before it (summed in C).
            pieces = _PIECE_RE.findall(self.joined, 1)  # "tok " each
            starts = list(accumulate(map(len, pieces), initial=1))[:-1]
            if GAP in self.joined:
                starts = [p for p, piece in zip(starts, pieces, strict=True) if piece[0] != GAP]
            self._starts = starts
        return self._starts

    def token_index(self, joined_pos: int) -> int:
        """The index of the token that starts at ``joined_pos``."""
        return bisect_left(self.starts, joined_pos)

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
        spans = self.spans
        return self.orig(spans[first][0]), self.orig_end(spans[last_excl - 1][1])

    def cased_token(self, index: int) -> str:
        a, b = self.spans[index]
        return self.cased[a:b]


def analyze(text: str) -> Analyzed:
    return Analyzed(text)


def tokenize(text: str) -> list[str]:
    """The tokens of a query word or phrase, case kept (exact-case checks compare these)."""
    norm = normalize(text)
    return [norm[a:b] for a, b in token_spans(norm)]


def token_spans(text: str) -> list[tuple[int, int]]:
    return [m.span(1) for m in TOKEN_RE.finditer(text)]


def written_in_capitals(word: str) -> bool:
    """US, ROK, METI, U.S.: two or more letters, all upper case. CJK has no case."""
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def key_of(text: str, prefix: bool = False) -> str:
    """The string searched for in ``joined`` for a literal written as ``text``."""
    joined = joined_of(fold(text))
    return joined[:-1] if prefix else joined
