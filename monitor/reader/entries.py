"""feedparser's entry dicts → Entry: which link, which date, which enclosures.

Links: ``feedburner:origLink`` is the publisher's own URL (the link is a FeedBurner proxy),
so it wins; then the entry's link when it is http(s); then the first http(s) alternate
link (an ``at://`` or ``tag:`` href must not hide a web link beside it); then the first
enclosure's URL, for items that are only a file.
Dates: published, else Atom 0.3 ``created`` / ``dcterms:created``; ``dc:date`` arrives as
updated. A date string feedparser could not read is tried in the localised forms of
monitor.reader.dates, and kept raw (``Entry.date_raw``) when that fails too.
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from monitor.model import Enclosure, Entry
from monitor.reader.dates import parse_localized

_HTTP = re.compile(r"^https?://", re.I)
_LINK_WITH_TEXT = re.compile(
    rb"<link\b[^>]*?\b(?:uri|href)\s*=\s*[\"']([^\"'<>]{1,2000})[\"'][^>]*>\s*(https?://[^\s<]{1,2000})\s*</link>"
)
_MAX_ENCLOSURES = 20  # a podcast item has one; a bound keeps a hostile feed small
Absolute = Callable[[str | None, str], str | None]


def link_texts(body: bytes) -> dict[str, str]:
    """Non-http link attributes → the http URL written as the element's text.

    ``<link uri="at://…">https://bsky.app/…</link>``: feedparser keeps the attribute and
    drops the text, which is the only web link the item has."""
    if b"<link" not in body:
        return {}
    found: dict[str, str] = {}
    for attr, text in _LINK_WITH_TEXT.findall(body[:20_000_000]):
        if not attr.lower().startswith((b"http://", b"https://")):
            found.setdefault(attr.decode("utf-8", "replace"), text.decode("utf-8", "replace"))
    return found


def to_entry(e: Any, url: str, absolute: Absolute, texts: dict[str, str] | None = None) -> Entry:
    summary = e.get("summary") or ""
    if not summary and e.get("content"):
        summary = e["content"][0].get("value", "")
    lang = e.get("title_detail", {}).get("language") or None
    enclosures = _enclosures(e, url, absolute)
    published, updated, raw = _dates(e)
    return Entry(
        guid=(e.get("id") or "").strip() or None,
        link=_link(e, url, absolute, enclosures, texts or {}),
        title=str(e.get("title", "")),
        summary=str(summary),
        published=published,
        updated=updated,
        author=e.get("author") or None,
        categories=tuple(str(t["term"]) for t in e.get("tags", []) if t.get("term")),
        lang=lang,
        enclosures=enclosures,
        date_raw=raw,
    )


def _link(
    e: Any, url: str, absolute: Absolute, enclosures: tuple[Enclosure, ...], texts: dict[str, str]
) -> str | None:
    origin = absolute(e.get("feedburner_origlink"), url)
    if origin and _HTTP.match(origin):
        return origin
    link = absolute(e.get("link"), url)
    if link and _HTTP.match(link):
        return link
    hrefs = [
        (str(x.get("rel") or "alternate"), absolute(x.get("href"), url))
        for x in e.get("links") or ()
    ]
    for rel, href in hrefs:
        if rel == "alternate" and href and _HTTP.match(href):
            return href
    for rel, href in hrefs:
        if rel != "enclosure" and href and _HTTP.match(href):
            return href
    written = texts.get(str(e.get("link") or ""))
    if written:
        return written
    if enclosures:
        return enclosures[0].url
    return link


def _enclosures(e: Any, url: str, absolute: Absolute) -> tuple[Enclosure, ...]:
    found: list[Enclosure] = []
    for x in (e.get("enclosures") or ())[:_MAX_ENCLOSURES]:
        href = absolute(x.get("href"), url)
        if not href:
            continue
        length = str(x.get("length") or "").strip()
        found.append(
            Enclosure(
                url=href,
                type=str(x.get("type") or ""),
                length=int(length) if length.isdigit() and len(length) < 16 else None,
            )
        )
    return tuple(found)


def _dates(e: Any) -> tuple[datetime | None, datetime | None, str | None]:
    published = _date(e, "published") or _date(e, "created")
    updated = _date(e, "updated")
    raw = None
    if published is None and updated is None:
        for name in ("published", "updated", "created"):
            text = dict.get(e, name)
            if text and str(text).strip():
                raw = str(text).strip()[:200]
                break
    return published, updated, raw


def _date(e: Any, name: str) -> datetime | None:
    # dict.get, not FeedParserDict.get: the latter silently maps updated → published.
    parsed = dict.get(e, f"{name}_parsed")
    if parsed:
        return _from_struct(parsed)
    raw = dict.get(e, name)
    if not raw:
        return None
    return from_iso(str(raw)) or parse_localized(str(raw))


def _from_struct(value: time.struct_time) -> datetime | None:
    # feedparser gives UTC struct_time; timegm (not mktime) keeps it UTC.
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def from_iso(raw: str) -> datetime | None:
    """Fallback for ISO dates feedparser left unparsed; date-only means midnight UTC."""
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
