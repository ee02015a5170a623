"""The offline demo: real feed snapshots shipped as package data, served on 127.0.0.1.

``DEMO_FEEDS`` says which snapshot stands for which feed; ``demo_sources`` turns them into
FeedSource objects pointing at a running SnapshotServer (monitor.demo.server).
SOURCES.md beside the snapshots records where each file came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

from monitor.model import FeedKind, FeedSource


@dataclass(frozen=True)
class DemoFeed:
    id: str
    name: str
    file: str
    kind: FeedKind
    country: str
    lang: str


DEMO_FEEDS: tuple[DemoFeed, ...] = (
    DemoFeed("japan-times", "The Japan Times", "japantimes-latest_2023-11-24.xml", "news", "JP", "en"),
    DemoFeed("chosun-intl", "Chosun Ilbo (international)", "chosun-international-ko_2022-07-30.xml", "news", "KR", "ko"),
    DemoFeed("joongang-intl", "JoongAng Ilbo (international)", "joongang-international-ko_2022-07-30.xml", "news", "KR", "ko"),
    DemoFeed("donga-politics", "Dong-A Ilbo (politics)", "donga-politics-ko_2022-07-30.xml", "news", "KR", "ko"),
    DemoFeed("reuters", "Reuters", "reuters-msn-outbound_2026-08-22.xml", "news", "", "en"),
    DemoFeed("wsj-world", "WSJ World News", "wsj-world_2026-02-06.xml", "news", "US", "en"),
    DemoFeed("bloomberg-politics", "Bloomberg Politics", "bloomberg-politics_2026-08-22.xml", "news", "US", "en"),
    DemoFeed("gnews-ja-wires", "Google News JA: Reuters/Bloomberg", "gnews-search-jp-wire-ja_2026-08-21.xml", "search", "JP", "ja"),
    DemoFeed("gnews-reuters-en", "Google News: Reuters", "gnews-search-reuters-en_2026-08-20.xml", "search", "", "en"),
    DemoFeed("mining-com", "Mining.com", "mining-com_2026-08-20.xml", "news", "", "en"),
    DemoFeed("whitehouse", "The White House: briefings and statements", "wh-briefings-statements_2026-06-14.xml", "government", "US", "en"),
    DemoFeed("gov-online-ja", "Government of Japan: ministries' news", "gov-online-ministries-ja_2026-08-22.rss", "government", "JP", "ja"),
)  # fmt: skip


# Full text (issue 15): one real article page (articles/SOURCES.md) behind a one-item feed
# made for the demo, its headline and link only, as press feeds often have. Its rule match
# comes from the article text alone.
ARTICLE_FEED = DemoFeed(
    "heise-article",
    "heise online (one article, full text)",
    "articles-feed.xml",
    "news",
    "DE",
    "de",
)
ARTICLES: tuple[tuple[str, str, str], ...] = (
    ("heise.de.lithium.html", "Lithium aus dem Schredder", "Tue, 02 Jul 2019 06:30:00 GMT"),
)


def snapshots() -> Traversable:
    """The folder of shipped snapshots (works from a wheel as well as a checkout)."""
    return files("monitor.demo") / "snapshots"


def articles() -> Traversable:
    """The folder of shipped article pages."""
    return files("monitor.demo") / "articles"


def article_feed(base_url: str) -> bytes:
    """The demo's full-text feed: each article's headline and a link to its local page."""
    from xml.sax.saxutils import escape

    items = "".join(
        f"<item><title>{escape(title)}</title><link>{base_url}/articles/{name}</link>"
        f"<guid>{base_url}/articles/{name}</guid><pubDate>{date}</pubDate></item>"
        for name, title, date in ARTICLES
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(ARTICLE_FEED.name)}</title><link>{base_url}/</link>{items}"
        "</channel></rss>"
    ).encode()


def demo_sources(url_of: Callable[[str], str], *, interval: int = 900) -> list[FeedSource]:
    """FeedSource objects for every demo feed; ``url_of(file)`` gives its served address.
    The snapshots' links point to the publishers' sites, so their pages are never read
    (the demo stays offline); the article feed's pages are served locally."""
    return [
        FeedSource(
            id=f.id,
            name=f.name,
            url=url_of(f.file),
            kind=f.kind,
            country=f.country,
            lang=f.lang,
            interval=interval,
            tags=("demo",),
            timeout=10.0,
            full_text="auto" if f is ARTICLE_FEED else "never",
        )
        for f in (*DEMO_FEEDS, ARTICLE_FEED)
    ]
