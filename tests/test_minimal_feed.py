"""A feed given by URL alone, end to end: real HTTP on 127.0.0.1, a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from monitor.config.feeds import load_feeds
from monitor.pipeline.poll import poll_once
from tests.feedserver import FeedServer

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Seoul Desk</title><link>https://e.example/</link>
<language>en-us</language>
<item><title>한국 정부, 핵심 광물 공급망 대책 발표</title><link>https://e.example/1</link>
<guid>1</guid><pubDate>Mon, 20 Jul 2026 10:00:00 +0900</pubDate></item>
<item><title>US tariffs on graphite</title><link>https://e.example/2</link>
<guid>2</guid><pubDate>Mon, 20 Jul 2026 11:00:00 +0900</pubDate></item>
</channel></rss>""".encode()
JSON_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Tokyo Notes",
    "items": [{"id": "a", "url": "https://j.example/a", "title": "経済産業省が発表した"}],
}


def test_url_only_feeds_poll_name_themselves_and_tell_languages(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.add_file("/seoul.xml", RSS)
    feed_server.add_file(
        "/tokyo.json",
        json.dumps(JSON_FEED).encode(),
        headers={"content-type": "application/feed+json"},
    )
    feeds_file = tmp_path / "feeds.yaml"
    feeds_file.write_text(
        f"feeds:\n  - url: {feed_server.url('/seoul.xml')}\n"
        f"  - url: {feed_server.url('/tokyo.json')}\n",
        encoding="utf-8",
    )
    feeds = load_feeds(feeds_file).feeds
    assert [f.id for f in feeds] == ["127-0-0-1-seoul-xml", "127-0-0-1-tokyo-json"]
    db = tmp_path / "a.db"
    first = poll_once(db, feeds, workers=0)
    assert (first.ok, first.failed, first.new_items) == (2, 0, 3)
    with sqlite3.connect(db) as conn:
        names = dict(conn.execute("SELECT id, name FROM feeds"))
        langs = dict(conn.execute("SELECT title, lang FROM items"))
    assert names == {"127-0-0-1-seoul-xml": "Seoul Desk", "127-0-0-1-tokyo-json": "Tokyo Notes"}
    assert langs == {
        "한국 정부, 핵심 광물 공급망 대책 발표": "ko",  # Hangul in an en-us feed
        "US tariffs on graphite": "en",
        "経済産業省が発表した": "ja",  # kana, no language declared anywhere
    }
    again = poll_once(db, feeds, workers=0)  # the config is synced again: names stay
    assert again.new_items == 0
    with sqlite3.connect(db) as conn:
        assert dict(conn.execute("SELECT id, name FROM feeds")) == names
