"""Slack mrkdwn from untrusted feed text.

Escaping ``&``, ``<`` and ``>`` is what stops a feed from posting ``<!channel>``, ``<!here>``,
``<@U…>`` or a disguised ``<https://evil|bank.com>`` link: Slack only parses those inside
angle brackets. Formatting characters (``*`` ``_`` ``~`` `````) are swapped for look-alikes so
a title cannot restyle the digest or break our own bold. Only http(s) URLs become links.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_FORMATTING = str.maketrans({"*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})
_URL_UNSAFE = {"|": "%7C", "<": "%3C", ">": "%3E", " ": "%20", '"': "%22"}
_SAFE_SCHEME = re.compile(r"^https?://[^\s/]", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACE = re.compile(r"\s+")
_ZWSP = "\u200b"


def escape(text: str) -> str:
    """Feed text made inert for mrkdwn: entities escaped, formatting neutralised, one line."""
    text = _SPACE.sub(" ", _CONTROL.sub("", text)).strip()
    return text.translate(_ESCAPES).translate(_FORMATTING)


def safe_url(url: str) -> str | None:
    """The URL ready to sit inside ``<…|…>``, or None when it is not plain http(s)."""
    url = url.strip()
    if not _SAFE_SCHEME.match(url) or _CONTROL.search(url):
        return None
    for char, code in _URL_UNSAFE.items():
        url = url.replace(char, code)
    return url.replace("&", "&amp;")


MAX_URL = 1000  # a longer link would crowd out the message (section text ≤ 3,000 characters)


def link(url: str, label: str) -> str:
    """A mrkdwn link with an escaped label; just the label when the URL is unsafe or huge."""
    target = safe_url(url)
    if target and len(target) > MAX_URL:
        target = None
    text = escape(label) or (target or "")
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
    text = _SPACE.sub(" ", _CONTROL.sub("", text))
    return text.translate(_ESCAPES).translate(_FORMATTING)
