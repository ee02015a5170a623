"""The orchestrator end to end: real HTTP on 127.0.0.1, real parsing, a real SQLite file."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import sqlite3
import threading
import time
import unicodedata
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.model import FeedSource
from monitor.pipeline import poll
from monitor.pipeline.outcome import PollSummary
from monitor.pipeline.poll import poll_once
from monitor.pipeline.rules import Rules
from monitor.store.db import open_db, utcnow
from monitor.store.feeds import GONE_REASON, RULES_ERROR_KEY, get_state_value, load_state
from tests.feedserver import LEGACY_CJK_TITLES, SMALL_FEED, FeedServer

DATA = Path(__file__).parent / "data" / "feeds"
# (file, entries) from tests/data/SOURCES.md; every entry has its own id in these feeds
REAL = {
    "japantimes-latest_2023-11-24.xml": 30,
    "chosun-international-ko_2022-07-30.xml": 100,
    "gov-online-ministries-ja_2026-08-22.rss": 40,
    "wsj-world_2026-02-06.xml": 73,
}


def source(server: FeedServer, path: str, feed_id: str, **changes: object) -> FeedSource:
    feed = FeedSource(
        id=feed_id,
        name=feed_id,
        url=server.url(path),
        kind="news",
        country="JP",
        lang="en",
        interval=900,
        timeout=2.0,
    )
    return dataclasses.replace(feed, **changes)  # type: ignore[arg-type]


def rows(db_path: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db_path) as conn:
        return list(conn.execute(sql, params))


def serve_real(server: FeedServer) -> list[FeedSource]:
    feeds = []
    for n, name in enumerate(REAL):
        server.add_file(f"/{name}", (DATA / name).read_bytes())
        feeds.append(source(server, f"/{name}", f"real-{n}"))
    return feeds


def test_a_cycle_stores_every_item_once_and_a_second_stores_nothing(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    db = tmp_path / "archive.db"
    feeds = serve_real(feed_server)
    first = poll_once(db, feeds, workers=2)  # the process-pool path
    assert (first.ok, first.not_modified, first.failed) == (4, 0, 0)
    assert first.new_items == sum(REAL.values())
    stored = dict(rows(db, "SELECT feed_id, count(*) FROM items GROUP BY feed_id"))
    assert stored == {f"real-{n}": count for n, count in enumerate(REAL.values())}

    second = poll_once(db, feeds, workers=0)
    assert (second.ok, second.not_modified, second.new_items, second.updated_items) == (0, 4, 0, 0)
    assert rows(db, "SELECT count(*) FROM items") == [(sum(REAL.values()),)]
    # the second request of each feed was conditional
    conditional = [h for _, p, h in feed_server.requests if "if-none-match" in h]
    assert len(conditional) == 4


def test_same_body_without_validators_is_not_parsed_again(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    db = tmp_path / "archive.db"
    feeds = serve_real(feed_server)[:1]
    poll_once(db, feeds, workers=0)
    rows(db, "UPDATE feeds SET etag = NULL, last_modified = NULL")
    summary = poll_once(db, feeds, workers=0)
    assert [o.status for o in summary.outcomes] == ["unchanged"]
    assert summary.new_items == 0


def test_a_changed_item_is_updated_with_a_new_revision(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    db = tmp_path / "archive.db"
    feed_server.add_file("/small.xml", SMALL_FEED)
    feeds = [source(feed_server, "/small.xml", "small")]
    assert poll_once(db, feeds, workers=0).new_items == 1
    edited = SMALL_FEED.replace(b"agree on critical minerals", b"sign critical minerals pact")
    feed_server.add_file("/small.xml", edited)
    summary = poll_once(db, feeds, workers=0)
    assert (summary.new_items, summary.updated_items) == (0, 1)
    assert rows(db, "SELECT title, revision FROM items") == [
        ("Japan and Korea sign critical minerals pact", 1)
    ]


FAILURES = {
    # scenario: (error kind stored on the feed, words the message contains)
    "status_500": ("http_status", "500"),
    "retry_after_429": ("http_status", "429"),
    "status_503": ("http_status", "503"),
    "timeout": ("timeout", ""),
    "trickle": ("timeout", ""),
    "too_large": ("too_large", ""),
    "gzip_bomb": ("too_large", ""),
    "redirect_loop": ("redirects", ""),
    "html_page": (None, "HTML"),
    "empty": (None, "empty"),
    "gone_410": ("gone", "410"),
    "not_found_404": ("http_status", "404"),
}


def test_one_bad_feed_never_stops_the_others(feed_server: FeedServer, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    feeds = serve_real(feed_server)[:2]
    feed_server.add_scenario("/legacy.xml", "legacy_cjk")
    feeds.append(source(feed_server, "/legacy.xml", "legacy", lang="ko"))
    for name in FAILURES:
        feed_server.add_scenario(f"/{name}.xml", name)
        feeds.append(
            source(
                feed_server, f"/{name}.xml", name.replace("_", "-"), timeout=1.0, max_bytes=50_000
            )
        )
    summary = poll_once(db, feeds, workers=0)

    by_id = {o.feed_id: o for o in summary.outcomes}
    assert (summary.ok, summary.failed) == (3, len(FAILURES))
    assert by_id["legacy"].new == len(LEGACY_CJK_TITLES)
    titles = {t for (t,) in rows(db, "SELECT title FROM items WHERE feed_id = 'legacy'")}
    assert titles == {unicodedata.normalize("NFKC", t) for t in LEGACY_CJK_TITLES}

    archive = open_db(db)
    for name, (kind, words) in FAILURES.items():
        state = load_state(archive, name.replace("_", "-"))
        assert state is not None
        assert state.consecutive_failures == 1, name
        assert state.last_error, name
        assert words in state.last_error, (name, state.last_error)
        assert "\n" not in state.last_error, name  # one line, in words
        if kind is not None:
            assert state.last_error_kind == kind, (name, state.last_error_kind)
    gone = load_state(archive, "gone-410")
    assert gone is not None
    assert gone.disabled_reason == GONE_REASON
    assert by_id["gone-410"].disabled
    throttled = load_state(archive, "retry-after-429")
    assert throttled is not None
    assert throttled.retry_after_until is not None
    assert throttled.retry_after_until >= utcnow() + timedelta(seconds=100)


def test_disabled_and_throttled_feeds_wait_unless_named(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    db = tmp_path / "archive.db"
    feed_server.add_scenario("/gone.xml", "gone_410")
    feed_server.add_scenario("/busy.xml", "retry_after_429")
    feeds = [source(feed_server, "/gone.xml", "gone"), source(feed_server, "/busy.xml", "busy")]
    poll_once(db, feeds, workers=0)

    again = poll_once(db, feeds, workers=0)
    assert [(o.status, o.error) for o in again.outcomes] == [
        ("skipped", f"disabled: {GONE_REASON}"),
        (
            "skipped",
            again.outcomes[1].error,
        ),
    ]
    assert (again.outcomes[1].error or "").startswith("the server asked us to wait until ")
    assert feed_server.count("/gone.xml") == feed_server.count("/busy.xml") == 1

    forced = poll_once(db, feeds, mode="forced", workers=0)
    assert [o.status for o in forced.outcomes] == ["failed", "failed"]
    assert feed_server.count("/gone.xml") == feed_server.count("/busy.xml") == 2


def test_scheduled_polls_back_off_after_failures(feed_server: FeedServer, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    feed_server.add_scenario("/broken.xml", "status_500")
    feeds = [source(feed_server, "/broken.xml", "broken")]
    poll_once(db, feeds, workers=0)
    scheduled = poll_once(db, feeds, mode="scheduled", workers=0)
    [skipped] = scheduled.outcomes
    assert skipped.status == "skipped"
    assert re.fullmatch(  # says when: a restart during back-off need not guess
        r"backing off after 1 failures; next attempt at \d{4}-\d\d-\d\d \d\d:\d\d UTC",
        skipped.error or "",
    )
    # a manual cycle does not wait for the backoff
    assert [o.status for o in poll_once(db, feeds, workers=0).outcomes] == ["failed"]
    assert feed_server.count("/broken.xml") == 2


def test_summary_line() -> None:
    summary = PollSummary()
    assert (
        summary.line()
        == "0 feeds: 0 ok, 0 not modified, 0 failed; 0 new items, 0 updated, 0 matches"
    )


RULE = """\
id: jk-test
name: Japan and Korea
query: Japan AND Korea
"""


def write_rule(rules_dir: Path, text: str = RULE) -> None:
    rules_dir.mkdir(exist_ok=True)
    (rules_dir / "jk-test.yaml").write_text(text, encoding="utf-8")


def test_new_items_are_matched_and_saved(feed_server: FeedServer, tmp_path: Path) -> None:
    pytest.importorskip("monitor.store.matches")
    db = tmp_path / "archive.db"
    write_rule(tmp_path / "rules")
    rules = Rules(tmp_path / "rules")
    rules.load()
    feed_server.add_file("/small.xml", SMALL_FEED)
    summary = poll_once(db, [source(feed_server, "/small.xml", "small")], rules=rules, workers=0)
    assert summary.matches == 1
    assert rows(db, "SELECT rule_id FROM matches") == [("jk-test",)]


def test_rules_reload_only_when_the_whole_set_is_valid(tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    write_rule(rules_dir)
    rules = Rules(rules_dir)
    rules.load()
    first = rules.book
    assert rules.reload() is False  # nothing changed
    assert rules.book is first

    write_rule(rules_dir, RULE.replace("Japan AND Korea", "Japan AND (Korea"))
    assert rules.reload(force=True) is False
    assert rules.book is first  # the last good set stays in force
    assert rules.error is not None
    assert "jk-test.yaml:3" in rules.error

    write_rule(rules_dir, RULE.replace("Japan AND Korea", "Japan AND Seoul"))
    assert rules.reload(force=True) is True
    assert rules.book is not first
    assert rules.error is None


def test_a_rules_error_is_recorded_for_feeds_status(tmp_path: Path) -> None:
    from monitor.pipeline.poll import Poller

    db = tmp_path / "archive.db"
    rules_dir = tmp_path / "rules"
    write_rule(rules_dir)
    rules = Rules(rules_dir)
    rules.load()

    async def scenario() -> None:
        async with Poller(db, rules=rules, workers=0) as poller:
            write_rule(rules_dir, "id: jk-test\nname: x\nquery: Japan AND (Korea\n")
            await poller.reload_rules(force=True)

    asyncio.run(scenario())
    recorded = get_state_value(open_db(db), RULES_ERROR_KEY)
    assert recorded is not None
    assert "jk-test.yaml:3" in recorded[0]


def test_parser_processes_start_when_the_poller_opens(tmp_path: Path) -> None:
    """Before any feed is fetched (they used to wait for the first fetched body), and the
    same processes serve every cycle."""
    from monitor.pipeline.poll import Poller

    async def scenario() -> tuple[set[int], set[int]]:
        async with Poller(tmp_path / "archive.db", workers=2) as poller:
            pool = poller.parsers.executor
            assert pool is not None
            for _ in range(200):  # started on a thread: wait until both are up
                if len(pool._processes) == 2:
                    break
                await asyncio.sleep(0.05)
            started = set(pool._processes)
            await poller.poll([])
            return started, set(pool._processes)

    started, after = asyncio.run(scenario())
    assert len(started) == 2
    assert after == started


def test_a_killed_parser_process_is_replaced(feed_server: FeedServer, tmp_path: Path) -> None:
    import os
    import signal

    from monitor.pipeline.poll import Poller

    feeds = serve_real(feed_server)[:2]

    async def scenario() -> tuple[PollSummary, PollSummary]:
        async with Poller(tmp_path / "archive.db", workers=1) as poller:
            first = await poller.poll(feeds[:1])
            pool = poller.parsers.executor
            assert pool is not None
            for pid in list(pool._processes):  # the worker this test's poller started
                os.kill(pid, signal.SIGKILL)
            second = await poller.poll(feeds[1:])
            return first, second

    first, second = asyncio.run(scenario())
    assert [o.status for o in first.outcomes + second.outcomes] == ["ok", "ok"]
    assert second.new_items == REAL["chosun-international-ko_2022-07-30.xml"]


def test_matching_in_worker_processes_saves_what_the_writer_would(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """Workers match the items they parse (with the same rule files); the stored matches
    are exactly those of matching on the writer thread."""
    pytest.importorskip("monitor.store.matches")
    rules = Rules(Path(__file__).resolve().parent.parent / "rules")
    rules.load()
    feeds = serve_real(feed_server)
    sql = "SELECT item_id, rule_id, rule_version, score, hits FROM matches ORDER BY 1, 2"
    in_writer, in_workers = tmp_path / "writer.db", tmp_path / "workers.db"
    poll_once(in_writer, feeds, rules=rules, workers=0)
    poll_once(in_workers, feeds, rules=rules, workers=1)
    expected = rows(in_writer, sql)
    assert expected, "the shipped rules should match something in the real feeds"
    assert rows(in_workers, sql) == expected


def test_a_worker_matches_only_unknown_items_with_the_plans_rule_files(tmp_path: Path) -> None:
    from monitor.pipeline.parse_worker import MatchPlan, parse_body
    from monitor.pipeline.rules import rule_files

    rules_dir = tmp_path / "rules"
    write_rule(rules_dir)
    feed = FeedSource("small", "small", "http://127.0.0.1/small.xml", "news", "JP", "en", 900)
    now = utcnow()

    def parse(plan: MatchPlan) -> dict[str, Any] | None:
        return parse_body(feed, SMALL_FEED, {}, feed.url, now, plan).matches

    plan = MatchPlan(str(rules_dir), rule_files(rules_dir))
    found = parse(plan)
    assert found is not None
    assert any(found.values())
    items = parse_body(feed, SMALL_FEED, {}, feed.url, now).items
    known = {i.id: i.content_hash for i in items}
    assert parse(MatchPlan(plan.rules_dir, plan.files, known)) == {}  # all stored: none matched
    stale = MatchPlan(plan.rules_dir, (("elsewhere.yaml", 1.0),))
    assert parse(stale) == {}  # not the pipeline's rule files: the writer matches instead


def test_a_worker_matches_with_the_compiled_set_it_was_started_with(tmp_path: Path) -> None:
    """The pipeline ships its compiled matcher to each worker at start (no YAML read, no
    compile there); a worker then matches with it even when the files are gone, and a plan
    naming other files is not answered by it."""
    import pickle
    import shutil

    from monitor.pipeline import parse_worker
    from monitor.pipeline.parse_worker import MatchPlan, install_rules, parse_body

    rules_dir = tmp_path / "rules"
    write_rule(rules_dir)
    rules = Rules(rules_dir)
    rules.load()
    assert rules.book is not None
    assert rules.book_files
    feed = FeedSource("small", "small", "http://127.0.0.1/small.xml", "news", "JP", "en", 900)
    now = utcnow()
    try:
        install_rules(rules.book_files, pickle.dumps(rules.book.matcher))
        shutil.rmtree(rules_dir)  # nothing left to load: only the installed set can match
        plan = MatchPlan(str(rules_dir), rules.book_files)
        found = parse_body(feed, SMALL_FEED, {}, feed.url, now, plan).matches
        assert found is not None
        assert any(found.values())
        expected = {
            item.id: tuple(rules.book.matcher.match(item, feed))
            for item in parse_body(feed, SMALL_FEED, {}, feed.url, now).items
        }
        assert found == expected
        other = MatchPlan(str(rules_dir), (("elsewhere.yaml", 1.0),))
        assert parse_body(feed, SMALL_FEED, {}, feed.url, now, other).matches == {}
    finally:
        parse_worker._rules = None  # this process is the test runner, not a worker


def test_parsed_feeds_waiting_for_the_writer_are_bounded(
    feed_server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer is a cold cycle's slower end: fetched feeds wait for it unparsed, so at
    most MAX_PARSED feeds' items are held in memory at once, and every feed is still
    written."""
    monkeypatch.setattr(poll, "MAX_PARSED", 2)
    held = {"now": 0, "peak": 0}
    lock = threading.Lock()
    parse, write = poll.parse_body, poll.write_items

    def parsing(*args: Any) -> Any:
        parsed = parse(*args)
        with lock:
            held["now"] += 1
            held["peak"] = max(held["peak"], held["now"])
        return parsed

    def writing(*args: Any) -> Any:
        time.sleep(0.05)  # a writer slower than the parser
        try:
            return write(*args)
        finally:
            with lock:
                held["now"] -= 1

    monkeypatch.setattr(poll, "parse_body", parsing)
    monkeypatch.setattr(poll, "write_items", writing)
    feed_server.add_file("/small.xml", SMALL_FEED)
    feeds = [source(feed_server, "/small.xml", f"small-{n}") for n in range(8)]
    summary = poll_once(tmp_path / "archive.db", feeds, workers=0)
    assert summary.ok == 8
    assert held["now"] == 0
    assert held["peak"] == 2
