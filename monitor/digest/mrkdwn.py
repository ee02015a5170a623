"""Slack mrkdwn from untrusted feed text.

Escaping ``&``, ``<`` and ``>`` is what stops a feed from posting ``<!channel>``, ``<!here>``,
``<@U…>`` or a disguised ``<https://evil|bank.com>`` link: Slack only parses those inside
angle brackets. Formatting characters (``*`` ``_`` ``~`` `````) are swapped for look-alikes so
a title cannot restyle the digest or break our own bold. Only http(s) URLs become links.

Bidirectional controls (embeddings, overrides, isolates, marks) and zero-width characters
are removed: U+202E can make "gpj.exe" read as "exe.jpg", and invisible characters hide
words from the reader while a rule still matched them. The zero-width joiner and non-joiner
stay, since emoji and some scripts need them. In URLs they are percent-encoded instead.

Every piece of feed text has a budget measured as it is sent (in JSON, where ``"`` and
a backslash take two characters): ``escape_fit`` shortens it, visibly, to fit. So no story, however
absurd its feed text, makes a block or a message that Slack would refuse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from monitor.message import json_len

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_FORMATTING = str.maketrans({"*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})
_URL_UNSAFE = {"|": "%7C", "<": "%3C", ">": "%3E", " ": "%20", '"': "%22"}
_SAFE_SCHEME = re.compile(r"^https?://[^\s/]", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_INVISIBLE = re.compile("[\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_SPACE = re.compile(r"\s+")
_ZWSP = "\u200b"


def strip_invisible(text: str) -> str:
    """Without C0 controls, bidi controls and zero-width characters (see the module doc)."""
    return _INVISIBLE.sub("", _CONTROL.sub("", text))


def plain(text: str) -> str:
    """Text for a plain_text object (headers): invisible characters removed, one line."""
    return _SPACE.sub(" ", strip_invisible(text)).strip()


def escape(text: str) -> str:
    """Feed text made inert for mrkdwn: entities escaped, formatting neutralised, one line."""
    text = _SPACE.sub(" ", strip_invisible(text)).strip()
    return text.translate(_ESCAPES).translate(_FORMATTING)


def fit(make: Callable[[int], str], budget: int, start: int | None = None) -> str:
    """``make(n)`` for the largest n tried (from ``start``, default ``budget``, downwards) whose
    JSON length is within ``budget``. ``make`` must shrink as n does."""
    n = start or budget
    out = make(n)
    while json_len(out) > budget and n > 1:
        n = max(1, min(n - 1, n * budget // max(json_len(out), 1) - 1))
        out = make(n)
    return out


def escape_fit(text: str, budget: int, limit: int | None = None) -> str:
    """escape(text), shortened with a visible "…" to at most ``limit`` characters of feed text
    and ``budget`` characters as sent (``&`` grows to ``&amp;``, ``"`` to ``\\"``)."""
    return fit(lambda n: escape(shorten(text, n)), budget, limit or budget)


def code(text: str, budget: int) -> str:
    """Text shown verbatim in a code span (an error code keeps its ``_``), within ``budget``.

    Slack does not format inside `…`, so only entities and the backtick itself need care."""

    def make(n: int) -> str:
        inner = _SPACE.sub(" ", strip_invisible(shorten(text, n))).strip()
        return "`" + inner.translate(_ESCAPES).replace("`", "ˋ") + "`"

    return fit(make, budget)


def safe_url(url: str) -> str | None:
    """The URL ready to sit inside ``<…|…>``, or None when it is not plain http(s)."""
    url = url.strip()
    if not _SAFE_SCHEME.match(url) or _CONTROL.search(url):
        return None
    for char, code in _URL_UNSAFE.items():
        url = url.replace(char, code)
    url = _INVISIBLE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), url)
    return url.replace("&", "&amp;")


MAX_URL = 1000  # a longer link would crowd out the message (section text ≤ 3,000 characters)
MAX_LABEL = 600  # characters as sent, for the label of a link


def link(url: str, label: str, budget: int = MAX_LABEL, limit: int | None = None) -> str:
    """A mrkdwn link with an escaped label (at most ``limit`` characters of it, ``budget`` as
    sent); just the label when the URL is unsafe or huge."""
    target = safe_url(url)
    if target and json_len(target) > MAX_URL:
        target = None
    text = escape_fit(label, budget, limit) or (target or "")
    return f"<{target}|{text}>" if target else text


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word where possible, with a visible ellipsis."""
    text = _SPACE.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + "…"


def highlight(text: str, spans: Iterable[tuple[int, int]], *, limit: int = 240) -> str:
    """A one-line snippet of ``text`` around the first span, spans in bold, all else escaped."""
    ordered = sorted({(s, e) for s, e in spans if 0 <= s < e <= len(text)})
    merged: list[tuple[int, int]] = []
    for s, e in ordered:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    start = 0
    if merged and merged[0][0] > limit // 3:
        start = merged[0][0] - limit // 4
        space = text.rfind(" ", 0, start)
        start = space + 1 if space >= 0 and start - space < 20 else start
    end = min(len(text), start + limit)
    out = ["…"] if start > 0 else []
    pos = start
    for s, e in merged:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(escape_inline(text[pos:s]))
        # Slack bolds *x* only at word edges; inside unspaced CJK text a zero-width space
        # gives it one.
        before = _ZWSP if s > 0 and text[s - 1].isalnum() else ""
        after = _ZWSP if e < len(text) and text[e].isalnum() else ""
        out.append(f"{before}*{escape_inline(text[s:e])}*{after}")
        pos = e
    out.append(escape_inline(text[pos:end]))
    if end < len(text):
        out.append("…")
    return "".join(out).strip()


def escape_inline(text: str) -> str:
    """Like escape() but keeps leading and trailing spaces (for pieces of one line)."""
    text = _SPACE.sub(" ", strip_invisible(text))
    return text.translate(_ESCAPES).translate(_FORMATTING)
