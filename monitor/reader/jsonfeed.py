"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) → ParsedFeed.

Taken when the server says JSON (``application/feed+json``, ``application/json``) or the
body starts with ``{``. JSON that is not a JSON Feed gets a ParseError that says so.
``external_url`` is the story's own page (the item's ``url`` may be a comment page or a
short link), so it is the link when present, like ``feedburner:origLink`` in RSS.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from monitor.errors import ParseError, ParseKind
from monitor.model import Enclosure, Entry, ParsedFeed
from monitor.reader.dates import parse_localized
from monitor.reader.entries import from_iso

_VERSION_PREFIX = "https://jsonfeed.org/version/"
# The spec's URL; some publishers (and gofeed's fixtures) write the bare number.
_VERSION = re.compile(r"^\s*(https?://jsonfeed\.org/version/)?1(\.\d+)?/?\s*$", re.I)
_MAX_ITEMS = 10_000  # far beyond any real feed; bounds the work a hostile body can cause
_MAX_ATTACHMENTS = 20
Absolute = Callable[[str | None, str], str | None]


def looks_like_json(body: bytes, headers: Mapping[str, str]) -> bool:
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype.endswith("json"):
        return True
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def parse_json_feed(body: bytes, url: str, absolute: Absolute) -> ParsedFeed:
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ParseError(ParseKind.MALFORMED, f"JSON Feed is not UTF-8 ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise ParseError(
            ParseKind.MALFORMED,
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from None
    except RecursionError:
        raise ParseError(ParseKind.MALFORMED, "JSON nested too deeply to be a feed") from None
    if not isinstance(data, dict) or not _VERSION.match(str(data.get("version", ""))):
        raise ParseError(
            ParseKind.NOT_A_FEED,
            "the body is JSON but not a JSON Feed (no version "
            f"{_VERSION_PREFIX}1 or 1.1); ask the publisher for the feed's own URL",
        )
    items = data.get("items")
    if not isinstance(items, list):
        raise ParseError(ParseKind.MALFORMED, "JSON Feed has no 'items' list")
    lang = _text(data.get("language")) or None
    warnings: tuple[str, ...] = ()
    if len(items) > _MAX_ITEMS:
        warnings = (f"JSON Feed has {len(items)} items; only the first {_MAX_ITEMS} were read",)
    entries = tuple(
        _entry(it, url, absolute, _authors(data))
        for it in items[:_MAX_ITEMS]
        if isinstance(it, dict)
    )
    return ParsedFeed(
        title=_text(data.get("title")),
        link=absolute(_text(data.get("home_page_url")) or None, url),
        lang=lang,
        entries=entries,
        warnings=warnings,
    )


def _entry(it: dict[str, Any], url: str, absolute: Absolute, feed_authors: str | None) -> Entry:
    link = absolute(_text(it.get("external_url")) or _text(it.get("url")) or None, url)
    enclosures = _attachments(it, url, absolute)
    if not link and enclosures:
        link = enclosures[0].url
    summary = _text(it.get("content_html")) or _text(it.get("content_text"))
    summary = summary or _text(it.get("summary"))
    published, raw_pub = _date(it.get("date_published"))
    updated, raw_upd = _date(it.get("date_modified"))
    raw_tags = it.get("tags")
    tags: list[Any] = raw_tags if isinstance(raw_tags, list) else []
    guid = it.get("id")
    return Entry(
        guid=str(guid).strip() or None if isinstance(guid, (str, int)) else None,
        link=link,
        title=_text(it.get("title")),
        summary=summary,
        published=published,
        updated=updated,
        author=_authors(it) or feed_authors,
        categories=tuple(str(t) for t in tags if isinstance(t, str) and t.strip()),
        lang=_text(it.get("language")) or None,
        enclosures=enclosures,
        date_raw=None if published or updated else (raw_pub or raw_upd),
    )


def _attachments(it: dict[str, Any], url: str, absolute: Absolute) -> tuple[Enclosure, ...]:
    found = []
    raw = it.get("attachments")
    for att in (raw if isinstance(raw, list) else [])[:_MAX_ATTACHMENTS]:
        if not isinstance(att, dict):
            continue
        href = absolute(_text(att.get("url")) or None, url)
        if not href:
            continue
        size = att.get("size_in_bytes")
        length = size if isinstance(size, int) and not isinstance(size, bool) else None
        found.append(Enclosure(url=href, type=_text(att.get("mime_type")), length=length))
    return tuple(found)


def _authors(obj: dict[str, Any]) -> str | None:
    # 1.1 has "authors" (a list); 1.0 had "author" (one object).
    raw = obj.get("authors")
    people = raw if isinstance(raw, list) else [obj.get("author")]
    names = [_text(p.get("name")) for p in people if isinstance(p, dict)]
    return ", ".join(n for n in names if n) or None


def _date(value: Any) -> tuple[Any, str | None]:
    text = _text(value)
    if not text:
        return None, None
    parsed = from_iso(text) or parse_localized(text)
    return parsed, None if parsed else text[:200]


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
