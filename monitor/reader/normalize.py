"""Normalise step (pure): parsed entries → Items with stable ids, canonical URLs, plain text.

No I/O here: this runs in worker processes and in tests without any server.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from monitor.model import Enclosure, Entry, FeedSource, Item, ParsedFeed
from monitor.reader.identity import Facts, identity_keys
from monitor.reader.script import script_lang

# Query parameters that only track the click; removing them makes one story one URL.
_TRACKING_EXACT = {
    "fbclid",
    "gclid",
    "gclsrc",
    "dclid",
    "msclkid",
    "yclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "ocid",
    "cmpid",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "at_medium",
    "at_campaign",
    "wt.mc_id",
}
_TRACKING_PREFIXES = ("utm_",)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_FUTURE_SLACK = timedelta(days=1)
_NO_LANGUAGE = {"mul", "und", "zxx", "mis"}

_BLOCK_TAGS = {
    "p",
    "br",
    "div",
    "li",
    "ul",
    "ol",
    "tr",
    "td",
    "th",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "section",
    "article",
    "hr",
    "img",
    "figure",
    "figcaption",
}
_SKIP_TAGS = {"script", "style", "template", "noscript"}
# Control characters (C0, DEL, C1) that str.split() does not treat as whitespace.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")
# Invisible characters that NFKC keeps but that break matching and display.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_ABSOLUTE = re.compile(r"^https?://", re.I)


def normalize_entries(source: FeedSource, parsed: ParsedFeed, *, now: datetime) -> list[Item]:
    """Turn one parsed feed into Items; entries with the same identity are kept once."""
    now = _utc(now)
    base = canonical_url(parsed.link, source.url) if parsed.link else source.url
    base = base or source.url
    urls = [canonical_url(entry.link or "", base) for entry in parsed.entries]
    texts = [(plain_text(e.title), plain_text(e.summary)) for e in parsed.entries]
    facts = [
        Facts(e.guid, url, title, summary, e.published or e.updated)
        for e, url, (title, summary) in zip(parsed.entries, urls, texts, strict=True)
    ]
    items: list[Item] = []
    seen: set[str] = set()
    for entry, fact, key in zip(parsed.entries, facts, identity_keys(facts), strict=True):
        item = _item(source, parsed, entry, fact, key=key, base=base, now=now)
        if item.id not in seen:
            seen.add(item.id)
            items.append(item)
    return items


def _item(
    source: FeedSource,
    parsed: ParsedFeed,
    entry: Entry,
    fact: Facts,
    *,
    key: str,
    base: str,
    now: datetime,
) -> Item:
    title, summary, url = fact.title, fact.summary, fact.url
    published = _clamp(fact.dated, now)
    author = plain_text(entry.author) if entry.author else ""
    declared = _primary_lang(entry.lang) or _primary_lang(parsed.lang) or source.lang or None
    return Item(
        id=make_item_id(source.id, key),
        feed_id=source.id,
        guid=entry.guid,
        url=url,
        title=title,
        summary=summary,
        published=published,
        first_seen=now,
        author=author or None,
        categories=_categories(entry.categories),
        lang=script_lang(f"{title} {summary}", declared),
        content_hash=_short_hash(f"{title}\x1f{summary}\x1f{url}"),
        enclosures=_enclosures(entry.enclosures, base),
        date_raw=entry.date_raw if fact.dated is None else None,
    )


def _enclosures(raw: tuple[Enclosure, ...], base: str) -> tuple[Enclosure, ...]:
    kept: dict[str, Enclosure] = {}
    for enc in raw:
        url = canonical_url(enc.url, base)
        if url and url not in kept:
            kept[url] = Enclosure(url=url, type=enc.type, length=enc.length)
    return tuple(kept.values())


def _clamp(dated: datetime | None, now: datetime) -> datetime:
    if dated is None:
        return now  # first seen
    dated = _utc(dated)
    return now if dated > now + _FUTURE_SLACK else dated


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _categories(raw: tuple[str, ...]) -> tuple[str, ...]:
    cleaned = (plain_text(c) for c in raw)
    return tuple(dict.fromkeys(c for c in cleaned if c))


def _primary_lang(tag: str | None) -> str | None:
    if not tag:
        return None
    primary = re.split(r"[-_]", tag.strip(), maxsplit=1)[0].lower()
    # "mul" (multiple), "und" (undetermined) and friends say nothing about the text.
    return primary if primary.isalpha() and primary not in _NO_LANGUAGE else None


def make_item_id(feed_id: str, identity: str) -> str:
    """16 hex chars, stable across runs and machines."""
    return _short_hash(f"{feed_id}\x1f{identity}")


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def canonical_url(url: str, base: str | None = None) -> str:
    """Absolute http(s) URL without fragment or tracking parameters; "" if there is none."""
    url = url.strip()
    if not url:
        return ""
    if base and not _ABSOLUTE.match(url):  # urljoin is the costliest step: skip when absolute
        url = urljoin(base.strip(), url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    # Other schemes (javascript:, data:, mailto:) are never a story link worth keeping.
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return ""
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    if parts.username is not None:
        auth = parts.username + (f":{parts.password}" if parts.password is not None else "")
        host = f"{auth}@{host}"
    return urlunsplit((scheme, host, parts.path or "/", _clean_query(parts.query), ""))


def _clean_query(query: str) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not _is_tracking(k)]
    if len(kept) == len(pairs):
        return query  # untouched: keep the publisher's exact encoding
    return urlencode(kept)


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key in _TRACKING_EXACT or key.startswith(_TRACKING_PREFIXES)


def plain_text(html_or_text: str) -> str:
    """HTML stripped, entities unescaped, Unicode NFKC, whitespace collapsed."""
    if not html_or_text:
        return ""
    text = html_or_text
    if "<" in text or "&" in text:
        text = _strip_html(text)
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    text = _CONTROLS.sub(" ", text)
    return " ".join(text.split())  # collapses every Unicode whitespace run; C-speed


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _strip_html(text: str) -> str:
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)
