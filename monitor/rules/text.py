"""Text normalisation and tokenising, applied the same way to queries and to items.

Both sides go through NFKC, dash and quote unification, case folding and the dropping of a
possessive 's. Text is then cut into tokens: a word (a run of letters and digits, inner
apostrophes kept) or a single CJK character. Making every Han, Kana and Hangul character its
own token lets a Japanese or Korean term match inside a run without spaces, and makes NEAR
count characters in CJK text and words elsewhere, with one mechanism.

A term's identity is its ``joined`` form: its folded tokens one space apart, a space at each
end (``" w1 w2 "``). Items are not turned into token lists, which costs more than the rest of
matching: text without CJK is scanned with its non-word characters made spaces
(``spaced_words``), where every find is a whole token; text with CJK is scanned as folded,
and the boundary checks at the end of this module keep only occurrences that line up with
tokens. Both give what a token list would.
"""

from __future__ import annotations

import re
import unicodedata

from monitor.rules.cjk import CJK_CLASS, has_cjk, is_cjk

# The same tokens for text without CJK, found faster without the CJK ranges.
_LATIN_TOKEN_RE = re.compile("(\x00|[^\\W_]+(?:'(?!s\\b)[^\\W_]+)*)(?:'s\\b)?")
_ASCII_TOKEN_RE = re.compile(_LATIN_TOKEN_RE.pattern, re.ASCII)
# Group 1 is the token; a trailing possessive 's is consumed but left out of it.
TOKEN_RE = re.compile(
    f"(\x00|[{CJK_CLASS}]|[^\\W_{CJK_CLASS}]+(?:'(?!s\\b)[^\\W_{CJK_CLASS}]+)*)(?:'s\\b)?"
)

# Dash and quote variants become ASCII; one character for one, so offsets do not move.
_PUNCT_PAIRS = tuple(
    {
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\uff07", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\uff02", '"'),
    }.items()
)


def _unify_punct(text: str) -> str:
    # str.replace per variant present: several times faster than str.translate on non-ASCII.
    for variant, plain in _PUNCT_PAIRS:
        if variant in text:
            text = text.replace(variant, plain)
    return text


def normalize(text: str) -> str:
    """NFKC plus dash and quote unification, case kept (queries, regexes, exact-case checks)."""
    if text.isascii():
        return text
    return _unify_punct(unicodedata.normalize("NFKC", text))


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


def fold_text(text: str) -> str:
    """The folded text matching runs on: NFKC, dash and quote unification, case folding.

    Offsets into it map back to the original through ``Analyzed.orig`` (computed only when a
    hit needs it: most items match nothing)."""
    return fold(_without_nul(text))


def _without_nul(text: str) -> str:
    # NUL never comes from a feed's text; keep the tokeniser's GAP marker free.
    return text.replace("\x00", " ") if "\x00" in text else text


def fold_with_map(text: str) -> tuple[str, list[int] | None, str]:
    """Folded text, a map from folded index to original index (None: identity), and the
    normalised case-kept text aligned with the folded text (for regexes and exact case).

    The folded text is always ``fold_text(text)``. The fast path covers text whose length NFKC
    and folding do not change (nearly all); otherwise each character cluster is normalised on
    its own to build the map. Where that disagrees with normalising the whole text (Hangul
    jamo or half-width kana that compose across clusters), offsets are found by folding
    prefixes, and case is not kept.
    """
    text = _without_nul(text)
    cased = normalize(text)
    folded = cased.casefold()
    if len(cased) == len(text) and len(folded) == len(text):
        return folded, None, cased
    folded_parts: list[str] = []
    cased_parts: list[str] = []
    fmap: list[int] = []
    for start, cluster in _clusters(text):
        c = normalize(cluster)
        f = c.casefold()
        cased_parts.append(f if len(c) != len(f) else c)  # keep cased and folded aligned
        folded_parts.append(f)
        fmap.extend([start] * len(f))
    if "".join(folded_parts) == folded:
        return folded, fmap, cased if len(cased) == len(folded) else "".join(cased_parts)
    return folded, _prefix_map(text, len(folded)), folded


def _prefix_map(text: str, size: int) -> list[int]:
    """folded index -> original index, by folding ever longer prefixes (rare texts only)."""
    fmap: list[int] = []
    done = 0
    for k in range(1, len(text) + 1):
        n = len(fold_text(text[:k]))
        while done < min(n, size):
            fmap.append(k - 1)
            done += 1
    while done < size:
        fmap.append(len(text) - 1)
        done += 1
    return fmap


GAP = "\x00"  # stands between two CJK characters that a space or punctuation separates
_GAP_RE = re.compile(f"(?<=[{CJK_CLASS}])(?:[^\\w{CJK_CLASS}]|_)+(?=[{CJK_CLASS}])")


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
    return TOKEN_RE if has_cjk(folded) else _LATIN_TOKEN_RE


# Every ASCII character that is not a letter or digit, as a space (apostrophes aside).
_ASCII_SEPARATORS = str.maketrans(
    {chr(c): " " for c in range(128) if not chr(c).isalnum() and chr(c) != "'"}
)


class Analyzed:
    """One field of an item, prepared for matching.

    ``folded`` and ``spaced`` are built eagerly (the automata scan them). The map back to
    original offsets (when folding moved characters) and the token list are built when an
    evaluation needs them (a hit to report, a regex): most items match no rule.
    """

    __slots__ = ("_aligned", "_spans", "folded", "spaced", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        cased = normalize(_without_nul(text))
        self.folded = cased.casefold()  # fold_text(text), keeping the step before
        self.spaced = spaced_words(self.folded)  # None when the text has CJK
        self._aligned: tuple[list[int] | None, str] | None = None
        if len(cased) == len(text) == len(self.folded):  # nearly always: nothing moved
            self._aligned = (None, cased)
        self._spans: list[tuple[int, int]] | None = None

    def _align(self) -> tuple[list[int] | None, str]:
        if self._aligned is None:
            _, fmap, cased = fold_with_map(self.text)
            self._aligned = (fmap, cased)
        return self._aligned

    @property
    def fmap(self) -> list[int] | None:
        return self._align()[0]

    @property
    def cased(self) -> str:
        """The normalised text with its case, aligned with ``folded``."""
        return self._align()[1]

    @property
    def spans(self) -> list[tuple[int, int]]:
        """Each token's span in ``folded`` (only regexes need the whole list)."""
        if self._spans is None:
            regex = token_regex(self.folded)
            self._spans = [m.span(1) for m in regex.finditer(self.folded)]
        return self._spans

    def tokens_between(self, end: int, start: int, cap: int) -> int:
        """How many tokens lie between a token ending at ``end`` and one starting at
        ``start`` (a CJK gap is not a token). Counting may stop once it passes ``cap``: any
        count above ``cap`` means too far."""
        if self.spaced is not None:  # no CJK: the words of the spaced text are the tokens
            return len(self.spaced[end + 1 : start + 1].split())
        folded = self.folded
        pos = consumed_end(folded, end)
        # Plain ASCII: the tokens are the runs of letters and digits, counted in C. Far
        # apart, a first stretch with more than cap of them settles it.
        limit = pos + 8 * (cap + 1)
        between = folded[pos : min(start, limit)]
        if between.isascii() and "'" not in between:
            count = len(between.translate(_ASCII_SEPARATORS).split())
            if start <= limit or count > cap:
                return count
        count = 0
        for m in TOKEN_RE.finditer(folded, pos):
            if m.start(1) >= start or count > cap:
                break
            count += 1
        return count

    def orig(self, pos: int) -> int:
        """Map a folded offset (or end offset) to the original text."""
        fmap = self.fmap
        if fmap is None:
            return pos
        if pos >= len(fmap):
            return len(self.text)
        return fmap[pos]

    def orig_end(self, end: int) -> int:
        """Map an exclusive folded end offset to an exclusive original end offset."""
        fmap = self.fmap
        if fmap is None:
            return end
        if end <= 0:
            return 0
        last = fmap[end - 1]
        # The original character that produced folded[end-1] ends the span.
        nxt = last + 1
        while nxt < len(self.text) and unicodedata.combining(self.text[nxt]):
            nxt += 1
        return nxt


# --- words spaced out, for text without CJK --------------------------------------------------
# In text with no CJK, every token is a word. Turning each character that no word contains into
# a space (offsets kept) lets the automaton look for " word ": each find is then a whole token,
# with no check left to do in Python. Apostrophes decide last: a possessive 's is dropped, one
# inside a word (o'brien) stays, any other one separates.

_SEPARATOR_RE = re.compile(r"[^\w' ]|_")


def spaced_words(folded: str) -> str | None:
    """``" " + folded + " "`` with every character outside a word token made a space, or
    None when the text has CJK (CJK characters are tokens with nothing between them)."""
    ascii_only = folded.isascii()
    if not ascii_only and has_cjk(folded):
        return None
    if "'" in folded:
        folded = _settle_apostrophes(folded)
    if ascii_only:
        return " " + folded.translate(_ASCII_SEPARATORS) + " "
    return " " + _SEPARATOR_RE.sub(" ", folded) + " "


def _settle_apostrophes(folded: str) -> str:
    """Each apostrophe as the tokeniser reads it, left to right: a possessive 's becomes two
    spaces, one inside a word stays, any other becomes a space (text without CJK)."""
    parts: list[str] = []
    done = 0  # text before this is in parts
    consumed = 0  # a possessive's s ends no token: an apostrophe after it separates
    size = len(folded)
    i = folded.find("'")
    while i >= 0:
        word_before = i > consumed and folded[i - 1].isalnum()
        nxt = folded[i + 1] if i + 1 < size else ""
        if word_before and nxt == "s" and _re_boundary(folded, i + 2):
            parts.append(folded[done:i] + "  ")
            done = consumed = i + 2
        elif not (word_before and nxt.isalnum()):
            parts.append(folded[done:i] + " ")
            done = i + 1
        i = folded.find("'", i + 1)
    parts.append(folded[done:])
    return "".join(parts)


# --- token boundaries in folded text ---------------------------------------------------------
# Text with CJK is scanned as folded, not as a token list (building one costs more than
# everything else). These checks tell whether a raw occurrence lines up with the tokens
# TOKEN_RE would cut, so the result is the same as matching a token list.


def token_char(ch: str) -> bool:
    """Part of some token: a letter, a digit, or a CJK character."""
    return ch.isalnum() or (ch >= "\u1100" and is_cjk(ch))


def latin_word_char(ch: str) -> bool:
    """Part of a word token: a letter or digit that is not CJK (CJK characters are tokens)."""
    return ch.isalnum() and not (ch >= "\u1100" and is_cjk(ch))


def _re_boundary(text: str, i: int) -> bool:
    """A regex ``\\b`` after text[i-1] (which is a word character)."""
    return i >= len(text) or not (text[i].isalnum() or text[i] == "_")


def consumed_end(text: str, end: int) -> int:
    """Where the tokeniser resumes after a token ending at ``end``: past a possessive 's."""
    if text.startswith("'s", end) and _re_boundary(text, end + 2):
        return end + 2
    return end


def word_starts_at(text: str, a: int) -> bool:
    """Whether a word token starts at ``a`` (text[a] is a letter or digit)."""
    if a == 0:
        return True
    before = text[a - 1]
    if latin_word_char(before):
        return False
    if before == "'" and a >= 2:
        prev = text[a - 2]
        if prev == "s" and text[a - 3 : a - 2] == "'":  # x's'us: was that 's consumed?
            return _token_starts_at(text, a)
        if latin_word_char(prev):  # an inner apostrophe (o'brien) or a possessive 's
            return False
        if text[a] == "s" and _re_boundary(text, a + 1) and token_char(prev):
            return False  # 日本's: the 's is consumed
    return True


def _token_starts_at(text: str, a: int) -> bool:
    """Whether the tokeniser starts a token at ``a``, read from the start of the run of
    letters, digits and apostrophes around it (rare: only where apostrophes pile up)."""
    p = a
    while p > 0 and (text[p - 1].isalnum() or text[p - 1] == "'"):
        p -= 1
    for m in TOKEN_RE.finditer(text, p):
        if m.start(1) >= a:
            return m.start(1) == a
    return False


def word_ends_at(text: str, b: int) -> bool:
    """Whether the word token covering text[b-1] ends at ``b``."""
    if b >= len(text):
        return True
    after = text[b]
    if latin_word_char(after):
        return False
    if after == "'" and b + 1 < len(text) and latin_word_char(text[b + 1]):
        return text[b + 1] == "s" and _re_boundary(text, b + 2)  # possessive, or joined
    return True


def is_gap(text: str, end: int, start: int) -> bool:
    """Whether two CJK tokens at ``end`` and ``start`` have a GAP between them."""
    return start > end and _NON_WORD_RE.fullmatch(text, end, start) is not None


_NON_WORD_RE = re.compile(f"(?:[^\\w{CJK_CLASS}]|_)+")


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
