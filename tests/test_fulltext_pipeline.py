"""Full text end to end (issue 15): real article pages from 127.0.0.1, real extraction,
a real SQLite file. Pages: tests/data/articles (provenance in tests/data/SOURCES.md)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from monitor.model import FeedSource
from monitor.pipeline import fulltext
from monitor.pipeline.poll import poll_once
from monitor.pipeline.rules import Rules
from tests.feedserver import ARTICLES, FeedServer, add_article, article_page, feed_of

EXPECTED = json.loads((ARTICLES / "trafilatura" / "expected.json").read_text(encoding="utf-8"))
JIS = "trafilatura/jis.gov.jm-investment.html"  # a government press release (Jamaica)
NHK = "trafilatura/nhk.or.jp.k100.html"  # Japanese
KO = "benchmark/0ec95c7261d122f304728e90c983450ef1ce1e0b423546835c397d50aaf0d0f2"  # Korean


def feed(server: FeedServer, path: str, feed_id: str = "press", **changes: Any) -> FeedSource:
    base = FeedSource(
        id=feed_id,
        name=feed_id,
        url=server.url(path),
        kind="government",
        country="JM",
        lang="en",
        interval=900,
        timeout=5.0,
    )
    return dataclasses.replace(base, **changes)


def rows(db: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql, params))


def rules_with(tmp_path: Path, query: str) -> Rules:
    d = tmp_path / "rules"
    d.mkdir(exist_ok=True)
    (d / "montego.yaml").write_text(
        f"id: montego\nname: Montego Bay\nquery: {json.dumps(query)}\n", "utf-8"
    )
    rules = Rules(d)
    rules.load()
    return rules


def press_feed(server: FeedServer, links: list[str]) -> None:
    items = [("AICE 2022 opens in June", link, "Investment conference.") for link in links]
    server.add_file("/press.xml", feed_of(items))


@pytest.mark.parametrize("workers", [0, 2])
def test_a_match_found_only_in_the_article_text_is_stored_once(
    feed_server: FeedServer, tmp_path: Path, workers: int
) -> None:
    db = tmp_path / "a.db"
    link = add_article(feed_server, "/news/aice", article_page(JIS))
    press_feed(feed_server, [link])
    rules = rules_with(tmp_path, '"Montego Bay Convention Centre"')
    src = feed(feed_server, "/press.xml")
    summary = poll_once(db, [src], rules=rules, workers=workers)
    assert summary.new_items == 1
    assert summary.matches == 1
    [(status, body, attempts)] = rows(db, "SELECT body_status, body, body_attempts FROM items")
    assert status == "ok"
    assert attempts == 1
    for sentence in EXPECTED["jis.gov.jm-investment.html"]["with"][1:]:
        assert sentence in body
    for boiler in EXPECTED["jis.gov.jm-investment.html"]["without"]:
        assert boiler not in body
    [(hits,)] = rows(db, "SELECT hits FROM matches")
    assert {h["field"] for h in json.loads(hits)} == {"body"}
    # the next poll fetches neither the page again nor stores the match twice
    again = poll_once(db, [src], rules=rules, workers=workers)
    assert again.matches == 0
    assert feed_server.count("/news/aice") == 1
    assert rows(db, "SELECT count(*) FROM matches") == [(1,)]


def test_japanese_and_korean_pages_in_legacy_charsets(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    db = tmp_path / "a.db"
    nhk = (
        article_page(NHK).decode("utf-8-sig").encode("cp932", "xmlcharrefreplace")
    )  # Shift_JIS, said in the header
    ko_html = article_page(KO).decode("utf-8-sig")
    ko = ko_html.replace("<head>", '<head><meta charset="euc-kr">', 1).encode(
        "cp949", "xmlcharrefreplace"
    )
    assert b'charset="euc-kr"' in ko  # said only in the page
    links = [
        add_article(feed_server, "/ja", nhk, "text/html; charset=Shift_JIS"),
        add_article(feed_server, "/ko", ko, "text/html"),
    ]
    items = [("体罰禁止", links[0], ""), ("엔터미디어", links[1], "")]
    feed_server.add_file("/cjk.xml", feed_of(items))
    poll_once(db, [feed(feed_server, "/cjk.xml", lang="ja")], workers=0)
    bodies = dict(rows(db, "SELECT url, body FROM items"))
    for sentence in EXPECTED["nhk.or.jp.k100.html"]["with"]:
        assert sentence in bodies[links[0]]
    assert "Copyright NHK" not in bodies[links[0]]
    truth = json.loads((ARTICLES / "benchmark" / "ground-truth.json").read_text("utf-8"))
    first_sentence = truth[KO.split("/")[1]]["articleBody"].split("\n")[2][:40]
    assert first_sentence in bodies[links[1]]


def test_failures_keep_the_item_and_are_retried_a_few_times(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    db = tmp_path / "a.db"
    feed_server.add_scenario("/broken", "status_500")
    press_feed(feed_server, [feed_server.url("/broken")])
    rules = rules_with(tmp_path, "AICE")
    src = feed(feed_server, "/press.xml")
    first = poll_once(db, [src], rules=rules, workers=0)
    assert first.new_items == 1
    assert first.matches == 1
    [(status, error, attempts)] = rows(
        db, "SELECT body_status, body_error, body_attempts FROM items"
    )
    assert (status, attempts) == ("fetch_error", 1)
    assert "HTTP 500" in error
    for _ in range(4):  # the feed answers 304 now; the page is tried on each later poll
        poll_once(db, [src], rules=rules, workers=0)
    assert feed_server.count("/broken") == 3  # MAX_ATTEMPTS, then left alone
    assert rows(db, "SELECT body_status, body_attempts, title FROM items") == [
        ("fetch_error", 3, "AICE 2022 opens in June")
    ]


def test_a_link_that_is_not_a_web_page_is_not_retried(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    db = tmp_path / "a.db"
    link = add_article(feed_server, "/report.pdf", b"%PDF-1.7 ...", "application/pdf")
    press_feed(feed_server, [link])
    src = feed(feed_server, "/press.xml")
    poll_once(db, [src], workers=0)
    poll_once(db, [src], workers=0)
    assert rows(db, "SELECT body_status, body, body_error FROM items") == [
        ("not_html", None, "the page is application/pdf, not a web page")
    ]
    assert feed_server.count("/report.pdf") == 1


def test_the_cycle_budget_leaves_the_rest_for_the_next_poll(
    feed_server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fulltext, "PAGES_PER_FEED", 3)
    db = tmp_path / "a.db"
    page = article_page(JIS)
    links = [add_article(feed_server, f"/a/{n}", page) for n in range(5)]
    press_feed(feed_server, links)
    src = feed(feed_server, "/press.xml")
    poll_once(db, [src], workers=0)
    assert rows(db, "SELECT body_status, count(*) FROM items GROUP BY 1 ORDER BY 1") == [
        ("ok", 3),
        ("pending", 2),
    ]
    poll_once(db, [src], workers=0)
    assert rows(db, "SELECT body_status, count(*) FROM items GROUP BY 1") == [("ok", 5)]
    assert sum(feed_server.count(f"/a/{n}") for n in range(5)) == 5


def test_pages_still_loading_when_the_time_budget_ends_wait_for_the_next_poll(
    feed_server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fulltext, "SECONDS_PER_CYCLE", 0.3)
    db = tmp_path / "a.db"
    feed_server.add_scenario("/stalls", "timeout")
    press_feed(feed_server, [feed_server.url("/stalls")])
    summary = poll_once(db, [feed(feed_server, "/press.xml")], workers=0)
    assert summary.new_items == 1
    assert rows(db, "SELECT body_status, body_attempts FROM items") == [("pending", 0)]


def test_a_shutdown_does_not_wait_for_article_pages_still_loading(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """SIGTERM drains the poller: the feed's items are committed, and a page that stalls
    is left pending for the next run instead of holding the exit for the cycle's 60 s."""
    import asyncio

    from monitor.pipeline.poll import Poller

    db = tmp_path / "a.db"
    feed_server.add_scenario("/stalls", "timeout")
    press_feed(feed_server, [feed_server.url("/stalls")])
    src = feed(feed_server, "/press.xml", timeout=30.0)
    assert fulltext.SECONDS_PER_CYCLE >= 30  # the wait a shutdown must not sit out

    async def run() -> float:
        async with Poller(db, workers=0) as poller:
            cycle = asyncio.ensure_future(poller.poll([src]))
            while feed_server.count("/stalls") == 0:
                await asyncio.sleep(0.05)
            start = asyncio.get_running_loop().time()
            await asyncio.wait_for(poller.drain(), timeout=20)
            summary = await cycle
            assert summary.new_items == 1
            return asyncio.get_running_loop().time() - start

    assert asyncio.run(run()) < 20  # (wait_for raises first if the drain hangs)
    assert rows(db, "SELECT body_status, body_attempts FROM items") == [("pending", 0)]


def test_never_and_auto_with_long_summaries_fetch_no_page(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    link = add_article(feed_server, "/news/aice", article_page(JIS))
    press_feed(feed_server, [link])
    long = feed_of([("AICE", link, "Investment. " * 50)])
    feed_server.add_file("/long.xml", long)
    poll_once(tmp_path / "a.db", [feed(feed_server, "/press.xml", full_text="never")], workers=0)
    poll_once(tmp_path / "b.db", [feed(feed_server, "/long.xml", "long")], workers=0)
    assert feed_server.count("/news/aice") == 0
    assert rows(tmp_path / "a.db", "SELECT body_status FROM items") == [(None,)]
    poll_once(
        tmp_path / "c.db", [feed(feed_server, "/long.xml", "l2", full_text="always")], workers=0
    )
    assert feed_server.count("/news/aice") == 1


def test_feeds_with_nothing_waiting_do_not_hold_the_cycle_budget(
    feed_server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many feeds polled at once, few with pages waiting: every waiting page is read."""
    monkeypatch.setattr(fulltext, "PAGES_PER_CYCLE", 4)
    db = tmp_path / "a.db"
    page = article_page(JIS)
    feeds = []
    for n in range(8):  # feeds 0-5 have nothing to fetch, 6 and 7 two pages each
        links = [add_article(feed_server, f"/p/{n}/{i}", page) for i in range(2)] if n >= 6 else []
        items = [(f"Release {n}-{i}", link, "") for i, link in enumerate(links)]
        feed_server.add_file(f"/f{n}.xml", feed_of(items or [("x", "", "")]))
        feeds.append(feed(feed_server, f"/f{n}.xml", f"f{n}"))
    poll_once(db, feeds, workers=0)
    assert rows(db, "SELECT body_status, count(*) FROM items WHERE url != '' GROUP BY 1") == [
        ("ok", 4)
    ]


def test_a_feed_holds_no_share_of_the_budget_while_it_looks_for_waiting_pages(
    tmp_path: Path,
) -> None:
    """The share is taken once the feed knows how many pages wait (none here): a feed
    polled meanwhile must still find the whole budget."""
    import asyncio

    from monitor.reader.fetch import Fetcher
    from monitor.store.db import open_db
    from monitor.store.writer import ArchiveWriter

    open_db(tmp_path / "a.db").close()
    src = FeedSource("f", "f", "http://127.0.0.1:9/feed", "news", "JP", "en", 900)

    async def run() -> tuple[int, int]:
        budget = fulltext.Budget(pages=4, seconds=30)
        writer = ArchiveWriter(tmp_path / "a.db")
        try:
            async with Fetcher() as fetcher:
                task = asyncio.ensure_future(
                    fulltext.read_bodies(
                        src,
                        writer=writer,
                        fetcher=fetcher,
                        extract=None,  # type: ignore[arg-type]
                        matcher=None,
                        budget=budget,
                    )
                )
                await asyncio.sleep(0)  # the feed is now waiting for the writer thread
                during = budget.pages
                await task
                return during, budget.pages
        finally:
            writer.close()

    assert asyncio.run(run()) == (4, 4)


def test_a_link_that_is_not_http_is_never_fetched(feed_server: FeedServer, tmp_path: Path) -> None:
    """Normalisation keeps only http(s) links, so such an item is never queued; the step
    refuses one anyway (an item stored by an older version)."""
    import asyncio

    from monitor.model import Item
    from monitor.reader.fetch import Fetcher
    from monitor.store.bodies import mark_pending
    from monitor.store.db import open_db, utcnow
    from monitor.store.feeds import sync_feeds
    from monitor.store.items import store_items
    from monitor.store.writer import ArchiveWriter

    db_path = tmp_path / "a.db"
    feed_server.add_file("/press.xml", feed_of([("Notice", "ftp://127.0.0.1/notice.txt", "")]))
    poll_once(db_path, [feed(feed_server, "/press.xml")], workers=0)
    assert rows(db_path, "SELECT url, body_status FROM items") == [("", None)]
    src = feed(feed_server, "/press.xml", "old")
    db = open_db(db_path)
    sync_feeds(db, [src])
    now = utcnow()
    store_items(db, [Item("b" * 16, "old", None, "ftp://x.test/n", "N", "", now, now)], now=now)
    mark_pending(db, ["b" * 16])
    db.conn.commit()
    db.close()

    async def run() -> None:
        writer = ArchiveWriter(db_path)
        try:
            async with Fetcher() as fetcher:
                await fulltext.read_bodies(
                    src,
                    writer=writer,
                    fetcher=fetcher,
                    extract=None,  # type: ignore[arg-type]
                    matcher=None,
                    budget=fulltext.Budget(),
                )
        finally:
            writer.close()

    asyncio.run(run())
    assert rows(db_path, "SELECT body_status, body_error FROM items WHERE feed_id = 'old'") == [
        ("not_html", "the link is not a web address (ftp://x.test/n)")
    ]
