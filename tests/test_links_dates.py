"""Links, enclosures and dates: what feedparser gives, made into the URL and date a user needs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli
from monitor.model import FeedSource
from monitor.reader.dates import parse_localized
from monitor.reader.normalize import normalize_entries
from monitor.reader.parse import parse_feed
from monitor.store.db import open_db
from monitor.store.items import latest_items, store_items

NOW = datetime(2026, 8, 22, 12, 0, tzinfo=UTC)
URL = "https://example.com/feed.xml"
SOURCE = FeedSource(
    id="t", name="T", url=URL, kind="news", country="", lang="en", interval=900
)  # fmt: skip
RSS = "application/rss+xml"

FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"
     xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>T</title><link>https://example.com/</link>
<item xml:base="https://other.example/dir/"><title>Based</title><link>a.html</link>
  <guid isPermaLink="false">1</guid><dcterms:created>2020-01-02T03:04:05Z</dcterms:created></item>
<item><title>Next</title><link>b.html</link><guid isPermaLink="false">2</guid>
  <pubDate>Seg, 24 Set 2018 10:00:00 +0000</pubDate>
  <feedburner:origLink>https://publisher.example/story</feedburner:origLink></item>
<item><title>Episode</title><guid isPermaLink="false">3</guid><dc:date>2021-05-06T07:08:09Z</dc:date>
  <enclosure url="https://cdn.example/ep.mp3" type="audio/mpeg" length="12345"/></item>
<item><title>Odd date</title><guid isPermaLink="false">4</guid><link>https://example.com/d</link>
  <pubDate>sometime next week</pubDate></item>
</channel></rss>"""


def items() -> list:  # type: ignore[type-arg]
    parsed = parse_feed(FEED, {"content-type": RSS}, URL)
    return normalize_entries(SOURCE, parsed, now=NOW)


def test_xml_base_is_per_item_and_origlink_wins() -> None:
    based, after, *_ = items()
    assert based.url == "https://other.example/dir/a.html"
    assert after.url == "https://publisher.example/story"  # not the FeedBurner proxy


def test_enclosure_only_item_takes_its_url_and_keeps_the_enclosure() -> None:
    episode = items()[2]
    assert episode.url == "https://cdn.example/ep.mp3"
    (enc,) = episode.enclosures
    assert (enc.url, enc.type, enc.length) == ("https://cdn.example/ep.mp3", "audio/mpeg", 12345)


def test_dates_created_localised_dc_date_and_unreadable() -> None:
    based, after, episode, odd = items()
    assert based.published == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert after.published == datetime(2018, 9, 24, 10, 0, tzinfo=UTC)
    assert episode.published == datetime(2021, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert odd.published == NOW
    assert odd.date_raw == "sometime next week"
    assert based.date_raw is None


def test_an_http_link_is_preferred_over_a_non_http_one() -> None:
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
    <entry><title>X</title><id>tag:x,2020:1</id><updated>2020-01-01T00:00:00Z</updated>
    <link rel="alternate" href="at://did:plc:abc/post/1"/>
    <link rel="alternate" type="text/html" href="https://bsky.example/post/1"/></entry></feed>"""
    parsed = parse_feed(atom, {"content-type": "application/atom+xml"}, URL)
    (item,) = normalize_entries(SOURCE, parsed, now=NOW)
    assert item.url == "https://bsky.example/post/1"


def test_atom_03_created() -> None:
    atom = b"""<?xml version="1.0"?><feed version="0.3" xmlns="http://purl.org/atom/ns#">
    <title>A</title><entry><title>X</title><id>tag:x</id>
    <link rel="alternate" type="text/html" href="https://e.example/x"/>
    <created>2004-01-02T03:04:05Z</created></entry></feed>"""
    (entry,) = parse_feed(atom, {}, URL).entries
    assert entry.published == datetime(2004, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_localised_forms() -> None:
    jst = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)
    assert parse_localized("2026年12月2日 10時30分") == jst
    assert parse_localized("2026年12月2日(水) 10:30 JST") == jst
    assert parse_localized("2026.12.02 10:30") == jst
    assert parse_localized("2026년 12월 2일") == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    assert parse_localized("2026년 12월 2일 오후 3시 5분") == datetime(
        2026, 12, 2, 6, 5, tzinfo=UTC
    )
    assert parse_localized("mer, 16 nov 2022 08:00:00 +0100") == datetime(
        2022, 11, 16, 7, tzinfo=UTC
    )
    assert parse_localized("Mo, 12 Okt 2020 10:00:00 GMT") == datetime(2020, 10, 12, 10, tzinfo=UTC)
    assert parse_localized("sáb, 03 dic 2022 12:00:00 -0300") == datetime(
        2022, 12, 3, 15, tzinfo=UTC
    )
    assert parse_localized("lun, 05 févr. 2024 09:15:00 +0100") == datetime(
        2024, 2, 5, 8, 15, tzinfo=UTC
    )
    assert parse_localized("gio, 07 set 2023 10:00:00 +0200") == datetime(2023, 9, 7, 8, tzinfo=UTC)
    assert parse_localized("sometime next week") is None
    assert parse_localized("2026年13月40日") is None  # no such day: None, not a crash


def test_enclosures_and_raw_date_are_stored_and_shown(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    db = open_db(path)
    db.execute("INSERT INTO feeds(id, name, url) VALUES ('t', 'T', ?)", [URL])
    written = store_items(db, items(), now=NOW)
    assert len(written.new) == 4
    stored = {i.title: i for i in latest_items(db, limit=10)}
    assert stored["Episode"].enclosures == items()[2].enclosures
    assert stored["Odd date"].date_raw == "sometime next week"
    db.close()
    runner = CliRunner()
    ep, odd = items()[2], items()[3]
    out = runner.invoke(cli, ["--db", str(path), "show", ep.id], catch_exceptions=False).stdout
    assert "enclosure  https://cdn.example/ep.mp3 (audio/mpeg, 12345 bytes)" in out
    out = runner.invoke(cli, ["--db", str(path), "show", odd.id], catch_exceptions=False).stdout
    assert "'sometime next week' as the feed wrote it" in out
    got = runner.invoke(cli, ["--db", str(path), "show", ep.id, "--json"]).stdout
    assert '"type": "audio/mpeg"' in got


def test_a_non_http_link_attribute_gives_way_to_the_element_text() -> None:
    # Bluesky-style RSS: feedparser keeps uri="at://…" and drops the web link in the text.
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>B</title>
    <item><title>Post</title><guid isPermaLink="false">at://did:plc:x/post/1</guid>
    <link uri="at://did:plc:x/post/1">https://bsky.example/profile/x/post/1</link></item>
    </channel></rss>"""
    (item,) = normalize_entries(SOURCE, parse_feed(body, {"content-type": RSS}, URL), now=NOW)
    assert item.url == "https://bsky.example/profile/x/post/1"
