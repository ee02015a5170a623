"""JSON Feed 1.0 / 1.1: detected by content type or body, read into the same Items as RSS."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from monitor.errors import ParseError
from monitor.model import FeedSource
from monitor.reader.normalize import normalize_entries
from monitor.reader.parse import parse_feed

URL = "https://example.org/feed.json"
NOW = datetime(2026, 8, 22, 12, 0, tzinfo=UTC)
SOURCE = FeedSource(id="j", name="J", url=URL, kind="news", country="", lang="", interval=900)
FEED_11 = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Example",
    "home_page_url": "https://example.org/",
    "language": "en-US",
    "authors": [{"name": "Desk"}],
    "items": [
        {
            "id": "1",
            "url": "https://short.example/1",
            "external_url": "https://publisher.example/story-1",
            "title": "Copper export curbs",
            "content_html": "<p>Text <b>one</b></p>",
            "date_published": "2026-08-21T09:00:00+09:00",
            "tags": ["minerals", "trade"],
        },
        {
            "id": 2,
            "content_text": "A note with no title",
            "date_modified": "2026-08-20T00:00:00Z",
            "authors": [{"name": "Kim"}],
            "language": "ko",
        },
        {
            "id": "3",
            "title": "Podcast",
            "attachments": [
                {
                    "url": "https://cdn.example/ep.mp3",
                    "mime_type": "audio/mpeg",
                    "size_in_bytes": 99,
                }
            ],
            "date_published": "someday",
        },
    ],
}


def test_json_feed_11_items() -> None:
    body = json.dumps(FEED_11).encode()
    parsed = parse_feed(body, {"content-type": "application/feed+json"}, URL)
    assert (parsed.title, parsed.link, parsed.lang) == ("Example", "https://example.org/", "en-US")
    one, two, three = normalize_entries(SOURCE, parsed, now=NOW)
    assert one.url == "https://publisher.example/story-1"  # external_url is canonical
    assert one.summary == "Text one"
    assert one.categories == ("minerals", "trade")
    assert one.published == datetime(2026, 8, 21, 0, 0, tzinfo=UTC)
    assert one.author == "Desk"
    assert one.lang == "en"
    assert two.title == ""
    assert two.summary == "A note with no title"
    assert two.guid == "2"
    assert two.published == datetime(2026, 8, 20, tzinfo=UTC)
    assert two.author == "Kim"
    assert two.lang == "ko"
    assert three.url == "https://cdn.example/ep.mp3"
    assert three.enclosures[0].length == 99
    assert three.date_raw == "someday"
    assert three.published == NOW


def test_json_feed_10_author_and_body_detection() -> None:
    feed = {
        "version": "https://jsonfeed.org/version/1",
        "title": "Old",
        "author": {"name": "Solo"},
        "items": [{"id": "a", "url": "https://e.example/a", "summary": "S", "title": "A"}],
    }
    # served as text/plain: the body itself says JSON
    parsed = parse_feed(b"\n " + json.dumps(feed).encode(), {"content-type": "text/plain"}, URL)
    (entry,) = parsed.entries
    assert entry.author == "Solo"
    assert entry.summary == "S"


def test_json_that_is_not_a_json_feed_says_so() -> None:
    with pytest.raises(ParseError) as err:
        parse_feed(b'{"data": []}', {"content-type": "application/json"}, URL)
    assert err.value.kind == "not_a_feed"
    assert "JSON but not a JSON Feed" in err.value.message
    with pytest.raises(ParseError) as bad:
        parse_feed(b'{"version": ', {}, URL)
    assert bad.value.kind == "malformed"
    assert "not valid JSON" in bad.value.message
    assert "well-formed" not in bad.value.message


def test_a_body_neither_xml_nor_json_says_what_it_is() -> None:
    with pytest.raises(ParseError) as err:
        parse_feed(b"Service temporarily unavailable", {}, URL)
    assert "neither XML nor JSON Feed" in err.value.message


def test_deep_json_is_refused_not_a_crash() -> None:
    with pytest.raises(ParseError):
        parse_feed(b"[" * 100_000 + b"]" * 100_000, {"content-type": "application/json"}, URL)


def test_content_language_header_gives_the_feed_language() -> None:
    feed = {"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "x", "title": "t"}]}
    parsed = parse_feed(json.dumps(feed).encode(), {"Content-Language": "ja"}, URL)
    assert parsed.lang == "ja"
