"""The fast parse path (fastfeedparser) gives exactly feedparser's items, or is refused.

Every feed file in the repository goes through both paths; wherever the gate lets a body
through, the normalised items (and the warnings) must be identical. Bodies derived from
good fixtures by string replacement probe the corners where the two parsers differ."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.model import FeedSource
from monitor.reader.fastparse import fast_parse
from monitor.reader.normalize import normalize_entries
from monitor.reader.parse import _absolute, parse_feed

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = (
    ROOT / "tests/data/feeds",
    ROOT / "tests/data/odd-feeds",
    ROOT / "monitor/demo/snapshots",
)
FILES = sorted(p for d in FOLDERS for p in d.iterdir() if p.suffix != ".md")
HEADERS: tuple[dict[str, str], ...] = (
    {},
    {"content-type": "application/rss+xml; charset=utf-8"},
    {"content-type": "application/xml"},
    {"content-type": "text/xml"},
    {"content-type": "text/html; charset=utf-8"},
    {"content-type": "application/rss+xml; charset=iso-8859-1"},
)
URL = "https://example.com/news/feed.xml"
SOURCE = FeedSource("f", "F", URL, "news", "", "en", 900)
NOW = datetime(2030, 1, 1, tzinfo=UTC)
GOOD = ROOT / "tests/data/feeds/wsj-world_2026-02-06.xml"


def _same_or_refused(body: bytes, headers: dict[str, str]) -> bool:
    """True when the fast path took the body (and agreed); False when it refused it."""
    quick = fast_parse(body, headers, URL, _absolute)
    if quick is None:
        return False
    slow = parse_feed(body, headers, URL, fast=False)
    assert normalize_entries(SOURCE, quick, now=NOW) == normalize_entries(SOURCE, slow, now=NOW)
    assert quick.warnings == slow.warnings
    assert parse_feed(body, headers, URL) == quick  # parse_feed takes the fast path
    return True


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_repository_feed_is_identical_or_refused(path: Path) -> None:
    body = path.read_bytes()
    for headers in HEADERS:
        _same_or_refused(body, headers)


def test_the_fast_path_is_taken_for_plain_rss() -> None:
    taken = {p.name for p in FILES if _same_or_refused(p.read_bytes(), {})}
    assert len(taken) >= 8, taken  # the real RSS 2.0 feeds of the corpus, not a vacuous pass
    assert "wsj-world_2026-02-06.xml" in taken


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("<guid", "<noguid"),  # fastfeedparser would invent a guid from the link
        ("<pubDate>", "<pubDate>Sometime "),  # a date the two parse differently
        ("<channel>", "<channel><language><![CDATA[ur]]></language>"),
        ("<item>", '<item xml:lang="fr">'),
        ("<item>", "<item><dc:date>2020-01-01</dc:date>"),
        ("<item>", "<item><media:title>other</media:title>"),
        ("<item>", "<item><author>a@example.com (A)</author>"),
        ("<item>", "<item><description/>"),
        ("<item>", "<item><title>first</title>"),
        ("<item>", "<item><dc:creator>Jane Doe</dc:creator>"),  # a second creator
        ("<title>", "<title>&#x1;"),  # not well-formed: feedparser warns
        ("<title>", "<title>AT&T "),
        ('encoding="utf-8"', 'encoding="iso-8859-1"'),
        ("<rss ", "<!DOCTYPE rss><rss "),
        ("<item>", "<!-- a comment --><item>"),
    ],
)
def test_derived_odd_bodies_are_refused(old: str, new: str) -> None:
    text = GOOD.read_text(encoding="utf-8")
    assert old in text
    body = text.replace(old, new, 1).encode("utf-8")
    assert not _same_or_refused(body, {}), f"{new!r} should send the body to feedparser"


def test_refused_for_other_formats_and_encodings() -> None:
    body = GOOD.read_bytes()
    assert _same_or_refused(body, {"content-type": "application/rss+xml"})
    assert not _same_or_refused(body, {"content-type": "text/xml"})
    assert not _same_or_refused(body.decode().encode("utf-16"), {})
    atom = (ROOT / "tests/data/feeds/heise-developer_2016-02-01.atom").read_bytes()
    assert not _same_or_refused(atom, {})


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("<title>", "<title>Markup &lt;b&gt;bold&lt;/b&gt; &amp;amp; entities &#233; "),
        ("<description>", "<description><![CDATA[<p>A <a href='/x'>link</a> &amp; more</p>]]>"),
        ("<item>", "<item><category>Politics</category><category>World</category>"),
        ("<dc:creator>", "<dc:creator>Jane Doe &amp; "),
        ('<guid isPermaLink="false">', "<guid>"),  # a permalink guid, beside a link
        ("<link>https://archive.is/newest/", "<link>/relative/"),  # resolved against the feed
        ("<pubDate>Fri, 06 Feb 2026 11:33:00 GMT", "<pubDate>Fri, 06 Feb 2026 20:33:00 +0900"),
    ],
)
def test_derived_plain_bodies_take_the_fast_path_with_the_same_items(old: str, new: str) -> None:
    text = GOOD.read_text(encoding="utf-8")
    assert old in text
    body = text.replace(old, new).encode("utf-8")  # every occurrence: every item changes
    assert _same_or_refused(body, {}), f"{new!r} should stay on the fast path"
