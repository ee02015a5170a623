"""The archive's feed state and item writes, on a real SQLite file."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from monitor.model import FeedSource, FetchResult, Item
from monitor.store.db import open_db
from monitor.store.feeds import (
    GONE_REASON,
    NOT_FOUND_REASON,
    backoff,
    get_state_value,
    load_state,
    load_states,
    record_failure,
    record_success,
    set_state_value,
    sync_feeds,
)
from monitor.store.items import count_by_feed, latest_items, store_items

NOW = datetime(2026, 8, 22, 9, 0, tzinfo=UTC)


def feed(feed_id: str = "jt", url: str = "https://www.japantimes.co.jp/feed/") -> FeedSource:
    return FeedSource(
        id=feed_id,
        name="The Japan Times",
        url=url,
        kind="news",
        country="JP",
        lang="en",
        interval=900,
    )


def item(n: int, *, title: str | None = None, feed_id: str = "jt") -> Item:
    text = title or f"Japan and South Korea hold talks {n}"
    return Item(
        id=f"{n:016x}",
        feed_id=feed_id,
        guid=f"guid-{n}",
        url=f"https://example.org/{n}",
        title=text,
        summary="Ministers met in Seoul.",
        published=NOW - timedelta(minutes=n),
        first_seen=NOW,
        categories=("politics",),
        lang="en",
        content_hash=f"hash-{text}",
    )


def ok_result(feed_id: str = "jt", etag: str | None = '"v1"') -> FetchResult:
    return FetchResult(
        feed_id=feed_id,
        status="ok",
        url="https://www.japantimes.co.jp/feed/",
        http_status=200,
        body=b"<rss/>",
        headers={},
        etag=etag,
        last_modified="Sat, 22 Aug 2026 08:00:00 GMT",
        body_hash="abc",
    )


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    database = open_db(tmp_path / "archive.db")
    sync_feeds(database, [feed(), feed("wsj", "https://feeds.a.dj.com/rss/RSSWorldNews.xml")])
    return database


def test_sync_creates_rows_and_keeps_removed_feeds(db: sqlite_utils.Database) -> None:
    sync_feeds(db, [feed()])
    assert set(load_states(db)) == {"jt", "wsj"}
    assert load_state(db, "jt") is not None
    assert load_state(db, "missing") is None


def test_changed_url_starts_the_feed_afresh(db: sqlite_utils.Database) -> None:
    record_success(db, "jt", ok_result(), now=NOW, interval=900)
    for _ in range(2):
        record_failure(db, "jt", kind="gone", message="gone", status=410, now=NOW, interval=900)
    sync_feeds(db, [feed(url="https://www.japantimes.co.jp/feed/topstories/")])
    state = load_state(db, "jt")
    assert state is not None
    assert state.url.endswith("/topstories/")
    assert (state.etag, state.disabled_reason, state.consecutive_failures) == (None, None, 0)
    assert state.last_success_at == NOW  # history of the feed itself is kept


def test_new_items_are_inserted_once(db: sqlite_utils.Database) -> None:
    first = store_items(db, [item(1), item(2), item(3)], now=NOW)
    assert [i.id for i in first.new] == [item(1).id, item(2).id, item(3).id]
    again = store_items(db, [item(1), item(2), item(3)], now=NOW)
    assert (again.new, again.updated) == ([], [])
    assert db.execute("SELECT count(*) FROM items").fetchone()[0] == 3


def test_changed_item_is_updated_and_flagged(db: sqlite_utils.Database) -> None:
    store_items(db, [item(1)], now=NOW)
    later = NOW + timedelta(hours=1)
    written = store_items(db, [item(1, title="Japan, South Korea sign accord")], now=later)
    assert written.new == []
    assert [i.id for i in written.updated] == [item(1).id]
    row = db.execute(
        "SELECT title, revision, updated_at, published FROM items WHERE id = ?", [item(1).id]
    ).fetchone()
    assert row == (
        "Japan, South Korea sign accord",
        1,
        "2026-08-22T10:00:00Z",
        "2026-08-22T08:59:00Z",
    )
    # the full-text index follows the update: old words gone, new ones found
    hits = [r[0] for r in db.execute("SELECT rowid FROM items_fts WHERE items_fts MATCH 'accord'")]
    assert len(hits) == 1
    assert (
        db.execute("SELECT count(*) FROM items_fts WHERE items_fts MATCH 'talks'").fetchone()[0]
        == 0
    )


def test_duplicate_ids_in_one_batch_store_the_first(db: sqlite_utils.Database) -> None:
    written = store_items(db, [item(1), item(1, title="A later copy")], now=NOW)
    assert len(written.new) == 1
    assert db.execute("SELECT title FROM items").fetchone()[0] == item(1).title


def test_large_batches_are_chunked(db: sqlite_utils.Database) -> None:
    items = [item(n) for n in range(1, 1_201)]
    assert len(store_items(db, items, now=NOW).new) == 1_200
    assert len(store_items(db, items, now=NOW).new) == 0
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_counts_and_latest(db: sqlite_utils.Database) -> None:
    store_items(db, [item(1), item(2), item(3, feed_id="wsj")], now=NOW)
    assert count_by_feed(db) == {"jt": 2, "wsj": 1}
    assert [i.id for i in latest_items(db, limit=2)] == [item(1).id, item(2).id]
    latest = latest_items(db, feed_ids=["wsj"])
    assert [i.id for i in latest] == [item(3).id]
    assert latest[0] == dataclasses.replace(item(3, feed_id="wsj"))


def test_success_stores_validators_and_schedules_next_poll(db: sqlite_utils.Database) -> None:
    record_failure(db, "jt", kind="timeout", message="timed out", now=NOW, interval=900)
    record_success(db, "jt", ok_result(), now=NOW, interval=900, warnings=["bad date"])
    state = load_state(db, "jt")
    assert state is not None
    assert (state.etag, state.body_hash, state.warnings) == ('"v1"', "abc", ("bad date",))
    assert (state.consecutive_failures, state.last_error, state.error_since) == (0, None, None)
    assert state.next_poll_at == NOW + timedelta(seconds=900)
    # a 304 without validators keeps the stored ones
    not_modified = dataclasses.replace(ok_result(etag=None), status="not_modified", body_hash=None)
    record_success(db, "jt", not_modified, now=NOW, interval=900)
    state = load_state(db, "jt")
    assert state is not None
    assert (state.etag, state.body_hash, state.warnings) == ('"v1"', "abc", ("bad date",))


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n, 900).total_seconds() for n in (1, 2, 3, 4)] == [900, 1800, 3600, 7200]
    assert backoff(30, 900) == timedelta(hours=6)
    assert backoff(3, 86_400) == timedelta(days=1)  # never sooner than the feed's own interval


def test_failures_back_off_and_keep_first_error_time(db: sqlite_utils.Database) -> None:
    record_failure(
        db, "jt", kind="http_status", message="HTTP 500", status=500, now=NOW, interval=900
    )
    later = NOW + timedelta(minutes=20)
    update = record_failure(
        db, "jt", kind="timeout", message="no answer within 20 s", now=later, interval=900
    )
    state = load_state(db, "jt")
    assert state is not None
    assert (state.consecutive_failures, state.last_error, state.last_error_kind) == (
        2,
        "no answer within 20 s",
        "timeout",
    )
    assert state.error_since == NOW
    assert state.next_poll_at == later + timedelta(seconds=1800) == update.next_poll_at
    assert state.disabled_reason is None


def test_retry_after_is_honoured(db: sqlite_utils.Database) -> None:
    record_failure(
        db,
        "jt",
        kind="http_status",
        message="HTTP 429",
        status=429,
        retry_after=7200,
        now=NOW,
        interval=900,
    )
    state = load_state(db, "jt")
    assert state is not None
    assert state.retry_after_until == NOW + timedelta(hours=2)
    assert state.next_poll_at == NOW + timedelta(hours=2)
    assert state.blocked_until() == NOW + timedelta(hours=2)


def test_gone_disables_at_once(db: sqlite_utils.Database) -> None:
    record_failure(
        db, "jt", kind="gone", message="HTTP 410 Gone", status=410, now=NOW, interval=900
    )
    state = load_state(db, "jt")
    assert state is not None
    assert state.disabled_reason == GONE_REASON


def test_not_found_disables_after_three_days(db: sqlite_utils.Database) -> None:
    for days in (0, 1, 2, 3):
        record_failure(
            db,
            "jt",
            kind="http_status",
            message="HTTP 404",
            status=404,
            now=NOW + timedelta(days=days),
            interval=900,
        )
    state = load_state(db, "jt")
    assert state is not None
    assert state.disabled_reason is None
    record_failure(
        db,
        "jt",
        kind="http_status",
        message="HTTP 404",
        status=404,
        now=NOW + timedelta(days=3, hours=1),
        interval=900,
    )
    state = load_state(db, "jt")
    assert state is not None
    assert state.disabled_reason == NOT_FOUND_REASON


def test_not_found_streak_is_broken_by_another_answer(db: sqlite_utils.Database) -> None:
    record_failure(
        db, "jt", kind="http_status", message="HTTP 404", status=404, now=NOW, interval=900
    )
    record_failure(
        db,
        "jt",
        kind="http_status",
        message="HTTP 500",
        status=500,
        now=NOW + timedelta(days=2),
        interval=900,
    )
    record_failure(
        db,
        "jt",
        kind="http_status",
        message="HTTP 404",
        status=404,
        now=NOW + timedelta(days=4),
        interval=900,
    )
    state = load_state(db, "jt")
    assert state is not None
    assert state.disabled_reason is None
    assert state.not_found_since == NOW + timedelta(days=4)


def test_state_values(db: sqlite_utils.Database) -> None:
    assert get_state_value(db, "rules_error") is None
    set_state_value(db, "rules_error", "rules/x.yaml:3: bad", NOW)
    set_state_value(db, "rules_error", "rules/x.yaml:4: worse", NOW)
    assert get_state_value(db, "rules_error") == ("rules/x.yaml:4: worse", NOW)
    set_state_value(db, "rules_error", None, NOW)
    assert get_state_value(db, "rules_error") is None


def test_writer_commits_good_jobs_beside_a_failing_one(tmp_path: Path) -> None:
    from concurrent.futures import Future

    from monitor.store.writer import ArchiveWriter

    writer = ArchiveWriter(tmp_path / "archive.db")
    writer.call(lambda db: sync_feeds(db, [feed()]))
    release: Future[None] = Future()
    # the first job holds the writer so the next three queue up and share one transaction
    blocker = writer.submit(lambda db: release.result())
    good = writer.submit(lambda db: store_items(db, [item(1)], now=NOW))
    bad = writer.submit(lambda db: store_items(db, [item(2, feed_id="no-such-feed")], now=NOW))
    also_good = writer.submit(lambda db: store_items(db, [item(3)], now=NOW))
    release.set_result(None)
    blocker.result()
    assert len(good.result().new) == 1
    with pytest.raises(sqlite3.IntegrityError):
        bad.result()  # its foreign key fails: only its own savepoint is rolled back
    assert len(also_good.result().new) == 1
    writer.close()
    ids = [r[0] for r in sqlite3.connect(tmp_path / "archive.db").execute("SELECT id FROM items")]
    assert sorted(ids) == [item(1).id, item(3).id]


def test_two_processes_creating_one_archive_at_once_both_succeed(tmp_path: Path) -> None:
    import subprocess
    import sys

    db_path = tmp_path / "new.db"
    code = "import sys; from monitor.store.db import open_db; open_db(sys.argv[1])"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(db_path)], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
    from monitor.store.db import open_db
    from monitor.store.migrations import migrations

    assert migrations.pending(open_db(db_path)) == []


def _items_indexes(db: sqlite_utils.Database) -> set[str]:
    sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items'"
    return {r[0] for r in db.execute(sql).fetchall() if not r[0].startswith("sqlite_")}


def test_an_archive_from_before_0505_drops_its_url_index_and_keeps_its_items(
    tmp_path: Path,
) -> None:
    from monitor.store.migrations import migrations

    path = tmp_path / "old.db"
    old = open_db(path)
    sync_feeds(old, [feed()])
    store_items(old, [item(1), item(2)], now=NOW)
    # the archive as a version before 0505 left it: the index, and no record of the step
    old.execute("CREATE INDEX items_url ON items(url)")
    old.execute("DELETE FROM _sqlite_migrations WHERE name = '0505_no_url_index'")
    old.conn.commit()
    old.close()
    db = open_db(path)
    assert "items_url" not in _items_indexes(db)
    assert migrations.pending(db) == []
    assert db.execute("SELECT count(*) FROM items").fetchone()[0] == 2
    assert store_items(db, [item(2), item(3)], now=NOW).new == [item(3)]


def test_every_index_on_items_is_one_a_query_uses(db: sqlite_utils.Database) -> None:
    # An index costs each insert of the poll's writer; one no query uses is only that cost.
    assert _items_indexes(db) == {
        "items_published",  # by date: search newest first, latest_items, items since a time
        "items_feed_published",  # a feed's items: counts per feed, --feed, the foreign key
        "items_feed_content",  # store_items: the same story under another id
        "items_body_todo",  # full text: the pages still to read
    }
