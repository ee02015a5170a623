"""Parse real feeds (tests/data, see SOURCES.md) and odd ones: items or a typed error, never
a crash, never mojibake. Broken inputs are derived from good fixtures by string replacement."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import ParseError
from monitor.model import FeedSource, ParsedFeed
from monitor.reader.fetch import Fetcher
from monitor.reader.normalize import normalize_entries
from monitor.reader.parse import parse_feed
from tests.feedserver import LEGACY_CJK_TITLES, FeedServer, legacy_cjk_feed

DATA = Path(__file__).parent / "data"
FEEDS = DATA / "feeds"
ODD = DATA / "odd-feeds"
URL = "https://example.com/feed.xml"
XML = {"content-type": "application/rss+xml"}
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

# Entry counts from the corpus provenance (tests/data/SOURCES.md, feedparser 6.0.14).
EXPECTED_COUNTS = {
    "bbc-news-frontpage_2023-11-24.xml": 16,
    "bloomberg-politics_2026-08-22.xml": 20,
    "chosun-international-ko_2022-07-30.xml": 100,
    "cna-world_2026-08-22.xml": 9,
    "gnews-search-jp-wire-ja_2026-08-22.xml": 100,
    "gov-online-ministries-ja_2026-08-22.rss": 40,
    "guardian-us-front_2018-01-31.xml": 55,
    "heise-developer_2016-02-01.atom": 15,
    "japantimes-latest_2023-11-24.xml": 30,
    "mining-com_2026-08-20.xml": 4,
    "newsis-international-ko_2022-07-30.xml": 20,
    "nyt-homepage_2023-11-24.xml": 25,
    "wh-briefings-statements_2026-08-22.xml": 10,
    "wsj-world_2026-02-06.xml": 73,
    "yahoo-news-jp-reuters-ja_2026-08-22.xml": 50,
}

# Text that must come out of each CJK odd feed (title, summary or feed title).
CJK_EXPECTED = {
    "fp_euc-jp_undeclared.xml": "ゲーム三昧な正月",
    "fp_euc-kr_undeclared.xml": "한글닉네임",
    "fp_gb2312_undeclared.xml": "不归移民漫画",
    "fp_shift_jis_undeclared.xml": "記事投稿",
    "fp_euc-kr_declared.xml": "년",
    "fp_euc-kr_item.xml": "년",
    "lx_rss10_rdf_euc-jp.rdf": "９月２２日のニュース",
    "mf_invalid_encoding_name_korean.xml": "테스트 피드",
    "rp_gb2312_qq_news.xml": "世纪华通",
    "mf_utf8_bytes_cp1252_prolog.xml": "Euro €",
}
ODD_ERRORS = {
    "fp_empty_document.xml": "empty",
    "rp_html_instead_of_feed.rss": "not_a_feed",
}
# UTF-8 read as cp1252/latin-1: a lead byte rendered as Ã/Â/â/ã followed by a continuation.
MOJIBAKE = re.compile("[ÃÂâãìíë][\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]")
SOURCE = FeedSource(id="t", name="Test", url=URL, kind="news", country="", lang="en", interval=900)


def texts(parsed: ParsedFeed) -> list[str]:
    found = [parsed.title]
    for e in parsed.entries:
        found += [e.title, e.summary]
    return found


def test_every_copied_feed_has_an_expected_count() -> None:
    assert sorted(p.name for p in FEEDS.iterdir()) == sorted(EXPECTED_COUNTS)


@pytest.mark.parametrize("name", sorted(EXPECTED_COUNTS))
def test_real_feed_parses_into_its_known_item_count(name: str) -> None:
    parsed = parse_feed((FEEDS / name).read_bytes(), XML, URL)
    assert len(parsed.entries) == EXPECTED_COUNTS[name]
    assert parsed.warnings == ()
    assert all(e.title for e in parsed.entries)
    assert all(e.link and e.link.startswith("http") for e in parsed.entries)
    dates = [e.published or e.updated for e in parsed.entries]
    assert all(d is not None and d.tzinfo is not None for d in dates)
    assert not any(MOJIBAKE.search(t) for t in texts(parsed))
    items = normalize_entries(SOURCE, parsed, now=NOW)
    assert len(items) == EXPECTED_COUNTS[name]  # every entry keeps its own id


@pytest.mark.parametrize("name", sorted(p.name for p in ODD.iterdir()))
def test_odd_feed_gives_items_or_a_typed_error(name: str) -> None:
    body = (ODD / name).read_bytes()
    try:
        parsed = parse_feed(body, {}, URL)  # no headers: the bytes alone must do
    except ParseError as error:
        kind, message = error.kind, error.message
        assert ODD_ERRORS.get(name) == kind, f"{name}: unexpected {kind}: {message}"
        assert message
        assert "\n" not in message
        return
    assert name not in ODD_ERRORS
    found = texts(parsed)
    assert not any("\ufffd" in t or MOJIBAKE.search(t) for t in found), found
    if name in CJK_EXPECTED:
        assert any(CJK_EXPECTED[name] in t for t in found), found
    normalize_entries(SOURCE, parsed, now=NOW)  # and normalising never crashes either


def test_undeclared_legacy_encoding_is_detected_and_reported() -> None:
    parsed = parse_feed((ODD / "fp_shift_jis_undeclared.xml").read_bytes(), {}, URL)
    assert "DrecomRSSに記事投稿が反映されない" in parsed.entries[0].title
    assert parsed.warnings == ("the feed did not declare its encoding; detected shift_jis",)


def test_legacy_cjk_feed_served_over_http_keeps_its_korean_titles(
    feed_server: FeedServer,
) -> None:
    feed_server.add_scenario("/kr.xml", "legacy_cjk")
    src = FeedSource(
        id="kr",
        name="KR",
        url=feed_server.url("/kr.xml"),
        kind="news",
        country="KR",
        lang="ko",
        interval=900,
    )

    async def get() -> tuple[bytes, dict[str, str]]:
        async with Fetcher() as fetcher:
            result = await fetcher.fetch(src)
        assert result.body is not None
        return result.body, result.headers

    body, headers = asyncio.run(get())
    parsed = parse_feed(body, headers, src.url)
    assert tuple(e.title for e in parsed.entries) == LEGACY_CJK_TITLES
    assert parsed.title == "한국 뉴스"


def test_declared_http_charset_is_honoured() -> None:
    body = legacy_cjk_feed()
    parsed = parse_feed(body, {"content-type": "application/xml; charset=euc-kr"}, URL)
    assert tuple(e.title for e in parsed.entries) == LEGACY_CJK_TITLES
    assert parsed.warnings == ()


def test_html_page_is_not_a_feed() -> None:
    page = b"<!DOCTYPE html><html><head><title>Hi</title></head><body><p>x</p></body></html>"
    with pytest.raises(ParseError) as info:
        parse_feed(page, {"content-type": "text/html; charset=utf-8"}, URL)
    assert (info.value.kind, info.value.message) == (
        "not_a_feed",
        "the server sent an HTML page, not a feed",
    )


@pytest.mark.parametrize("body", [b"", b"   \n\t  "])
def test_empty_body(body: bytes) -> None:
    with pytest.raises(ParseError) as info:
        parse_feed(body, XML, URL)
    assert (info.value.kind, info.value.message) == ("empty", "the server sent an empty body")


def test_xml_without_feed_structure_is_not_a_feed() -> None:
    with pytest.raises(ParseError) as info:
        parse_feed(b'<?xml version="1.0"?><catalog><book>x</book></catalog>', XML, URL)
    assert info.value.kind == "not_a_feed"


def test_truncated_feed_keeps_its_entries_with_a_warning() -> None:
    good = (FEEDS / "nyt-homepage_2023-11-24.xml").read_bytes()
    cut = good[: good.rindex(b"</item>") + len(b"</item>")]  # channel and rss never closed
    parsed = parse_feed(cut, XML, URL)
    assert len(parsed.entries) == EXPECTED_COUNTS["nyt-homepage_2023-11-24.xml"]
    assert len(parsed.warnings) == 1
    assert parsed.warnings[0].startswith("not well-formed XML (")


def test_bare_ampersand_keeps_entries_with_a_warning() -> None:
    good = (FEEDS / "bbc-news-frontpage_2023-11-24.xml").read_bytes()
    broken = good.replace(b"<title><![CDATA[", b"<title>Tom & Jerry <![CDATA[", 3)
    assert broken != good
    parsed = parse_feed(broken, XML, URL)
    assert len(parsed.entries) == EXPECTED_COUNTS["bbc-news-frontpage_2023-11-24.xml"]
    assert parsed.warnings
    assert "not well-formed XML" in parsed.warnings[0]


def test_billion_laughs_is_not_expanded() -> None:
    lol = "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">{lol}]>'
        '<rss version="2.0"><channel><title>&lol9;</title>'
        "<item><title>Bomb &lol9;</title><link>http://x/1</link></item></channel></rss>"
    ).encode()
    parsed = parse_feed(doc, XML, URL)
    assert all(len(t) < 1000 for t in texts(parsed))
    assert [e.link for e in parsed.entries] == ["http://x/1"]
    assert parsed.warnings[0] == (
        "nested XML entity declarations (an expansion attack pattern) were ignored"
    )


def test_external_entities_are_never_fetched(feed_server: FeedServer) -> None:
    feed_server.add_file("/secret.txt", b"TOP-SECRET", headers={"content-type": "text/plain"})
    secret = feed_server.url("/secret.txt")
    good = (FEEDS / "bbc-news-frontpage_2023-11-24.xml").read_bytes()
    general = good.replace(
        b"<rss ", f'<!DOCTYPE rss [<!ENTITY ext SYSTEM "{secret}">]><rss '.encode(), 1
    ).replace(b"<title><![CDATA[", b"<title>&ext;<![CDATA[", 1)
    parameter = good.replace(
        b"<rss ", f'<!DOCTYPE rss [<!ENTITY % ext SYSTEM "{secret}"> %ext;]><rss '.encode(), 1
    )
    for doc in (general, parameter):
        assert doc != good
        try:
            parsed = parse_feed(doc, XML, URL)
        except ParseError:
            continue
        assert not any("TOP-SECRET" in t for t in texts(parsed))
    assert feed_server.count("/secret.txt") == 0


def test_dates_become_aware_utc() -> None:
    rfc = parse_feed((FEEDS / "gov-online-ministries-ja_2026-08-22.rss").read_bytes(), XML, URL)
    assert rfc.entries[0].published == datetime(2026, 8, 21, tzinfo=UTC)
    iso = parse_feed((FEEDS / "chosun-international-ko_2022-07-30.xml").read_bytes(), XML, URL)
    assert iso.entries[0].published == datetime(2022, 7, 29, 21, 33, 20, tzinfo=UTC)
    offset = (FEEDS / "bbc-news-frontpage_2023-11-24.xml").read_bytes()
    first = re.search(rb"<pubDate>([^<]*)</pubDate>", offset)
    assert first is not None
    shifted = offset.replace(first.group(0), b"<pubDate>Sun, 25 Mar 2018 20:52:46 +0900</pubDate>")
    parsed = parse_feed(shifted, XML, URL)
    assert parsed.entries[0].published == datetime(2018, 3, 25, 11, 52, 46, tzinfo=UTC)


def test_date_only_and_missing_dates() -> None:
    good = (FEEDS / "wh-briefings-statements_2026-08-22.xml").read_bytes()
    dates = re.findall(rb"<pubDate>[^<]*</pubDate>", good)
    dated = good.replace(dates[0], b"<pubDate>2026-08-20</pubDate>", 1)
    undated = good.replace(dates[0], b"", 1)
    assert parse_feed(dated, XML, URL).entries[0].published == datetime(2026, 8, 20, tzinfo=UTC)
    assert parse_feed(undated, XML, URL).entries[0].published is None


def test_relative_links_resolve_against_the_feed_url() -> None:
    doc = (
        b'<rss version="2.0"><channel><title>t</title>'
        b"<item><title>a</title><link>/news/1?x=1</link><guid>g1</guid></item>"
        b"</channel></rss>"
    )
    parsed = parse_feed(doc, XML, "https://example.org/feeds/rss.xml")
    assert parsed.entries[0].link == "https://example.org/news/1?x=1"


def test_fields_are_carried_over() -> None:
    parsed = parse_feed((FEEDS / "guardian-us-front_2018-01-31.xml").read_bytes(), XML, URL)
    first = parsed.entries[0]
    assert parsed.title
    assert parsed.link == "https://www.theguardian.com/us"
    assert parsed.lang == "en-gb"
    assert first.guid
    assert first.author
    assert first.categories
    assert "<" in first.summary  # HTML is kept here; normalize strips it
