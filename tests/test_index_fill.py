"""Deferred indexing (monitor/store/indexfill.py, migration 0503): the poll's writer queues
the items it writes and indexes them when idle. Queued items are found by every search, a
queued item deleted or edited leaves the indexes whole, and the queue always empties."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from monitor.rules.compile import compile_query
from monitor.rules.parser import parse_query
from monitor.store import indexfill
from monitor.store.counting import count_matches
from monitor.store.db import open_db
from monitor.store.writer import ArchiveWriter
from tests.test_archive_store import ITEMS, QUERIES, brute_force, build_archive, item_id, run


def queued_archive(path: Path) -> sqlite_utils.Database:
    """The archive of test_archive_store with every item written as the poll's writer
    writes: deferred, so all are queued and none is indexed (as after a crash)."""
    with open_db(path).conn as conn:
        conn.execute("INSERT INTO index_deferral(writer) VALUES (1)")  # seen by the build
    db = build_archive(path)
    with db.conn:
        db.execute("DELETE FROM index_deferral")
    return db


def fts_count(db: sqlite_utils.Database, table: str, expr: str) -> int:
    sql = f"SELECT count(*) FROM {table} WHERE {table} MATCH ?"
    return int(db.execute(sql, [expr]).fetchone()[0])


def truth(db: sqlite_utils.Database, query: str) -> set[str]:
    """What the rule matcher says of every item as the archive holds it now."""
    compiled = compile_query(parse_query(query))
    rows = db.execute("SELECT id, title, summary FROM items")
    return {i for i, title, summary in rows if compiled.evaluate(title, summary).matched}


def check_indexes(db: sqlite_utils.Database) -> None:
    for table in ("items_fts", "items_cjk"):
        db.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")  # raises if not
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.fixture(scope="module")
def queued(tmp_path_factory: pytest.TempPathFactory) -> sqlite_utils.Database:
    return queued_archive(tmp_path_factory.mktemp("queued") / "monitor.db")


def test_deferred_items_are_queued_not_indexed(queued: sqlite_utils.Database) -> None:
    assert indexfill.queued(queued) == len(ITEMS)
    assert brute_force("copper")
    assert fts_count(queued, "items_fts", "copper") == 0
    assert brute_force("米国")
    assert fts_count(queued, "items_cjk", '"米国"') == 0


@pytest.mark.parametrize("query", QUERIES)
def test_search_and_count_find_queued_items(queued: sqlite_utils.Database, query: str) -> None:
    want = brute_force(query)
    for sort in ("newest", "relevance"):
        got = [f.id for f in run(queued, query, sort=sort)]
        assert len(got) == len(set(got)), "no item twice"
        assert set(got) == want, (query, sort)
    node = parse_query(query)
    assert count_matches(queued, node, compile_query(node), cap=10_000) == len(want)


def test_queued_items_deleted_or_edited_then_filled(tmp_path: Path) -> None:
    db = queued_archive(tmp_path / "monitor.db")
    with db.conn:
        # a Japanese item (in items_cjk once filled) and an English one leave the archive
        db.execute("DELETE FROM items WHERE id IN (?, ?)", [item_id(0), item_id(63)])
        db.execute(
            "UPDATE items SET title = 'Nickel talks' WHERE id = ?", [item_id(61)]
        )  # edited while queued: the fill reads the new title
        assert indexfill.queued(db) == len(ITEMS) - 2
    filled = 0
    while True:
        with db.conn:
            n = indexfill.fill(db, limit=7)  # several chunks
        if not n:
            break
        filled += n
    assert filled == len(ITEMS) - 2
    assert indexfill.queued(db) == 0
    check_indexes(db)
    assert fts_count(db, "items_fts", "nickel") == 1
    for query in QUERIES:
        assert {f.id for f in run(db, query)} == truth(db, query), query
    with db.conn:  # and once indexed, deletes and edits reach the indexes again
        db.execute("DELETE FROM items WHERE id = ?", [item_id(1)])
        db.execute("UPDATE items SET title = 'Cobalt' WHERE id = ?", [item_id(61)])
    check_indexes(db)
    assert fts_count(db, "items_fts", "cobalt") == 1
    assert fts_count(db, "items_fts", "nickel") == 0


def test_the_writer_defers_and_fills_before_it_closes(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    build_archive(path, ITEMS[:1]).close()  # the feeds row for the items below
    writer = ArchiveWriter(path)
    other = sqlite3.connect(path)
    try:
        row = ITEMS[0]

        def write(db: sqlite_utils.Database) -> int:
            db.execute(
                "INSERT INTO items(id, feed_id, url, title, summary, published, first_seen,"
                " content_hash) VALUES ('w1', ?, 'https://example.org/w1', 'Copper deal',"
                " '銅の取引', ?, ?, 'h')",
                [row["feed"], row["published"], row["published"]],
            )
            return indexfill.queued(db)  # inside the writer's transaction

        assert writer.call(write) == 1  # queued, not indexed, while it was written
        assert other.execute("SELECT count(*) FROM index_deferral").fetchone()[0] == 0
    finally:
        writer.close()
        other.close()
    db = open_db(path)
    assert indexfill.queued(db) == 0
    assert fts_count(db, "items_fts", "copper") == 1
    assert fts_count(db, "items_cjk", '"銅の取"') == 1
    check_indexes(db)


def test_a_new_writer_fills_what_a_crashed_one_left(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    queued_archive(path).close()
    ArchiveWriter(path).close()
    db = open_db(path)
    assert indexfill.queued(db) == 0
    check_indexes(db)
    assert {f.id for f in run(db, "copper")} == brute_force("copper")


def hashsize(db: sqlite_utils.Database, table: str) -> int | None:
    row = db.execute(f"SELECT v FROM {table}_config WHERE k = 'hashsize'").fetchone()
    return None if row is None else int(row[0])


def test_the_archive_buffers_its_fills(tmp_path: Path) -> None:
    """Migration 0504: stored in the tables, so every connection's fill uses it."""
    open_db(tmp_path / "monitor.db").close()
    db = open_db(tmp_path / "monitor.db", readonly=True)
    for table in indexfill.BUFFERED:
        assert hashsize(db, table) == indexfill.INDEX_BUFFER
    assert hashsize(db, "items_body_fts") is None  # one article a transaction: the default


@pytest.mark.parametrize("size", [256, indexfill.INDEX_BUFFER])
def test_a_fill_flushed_often_or_once_indexes_the_same(tmp_path: Path, size: int) -> None:
    """At 256 bytes FTS5 writes segments all through the fill; at the archive's buffer,
    once at its end. Either way every query finds what the matcher finds."""
    db = queued_archive(tmp_path / "monitor.db")
    with db.conn:
        indexfill.size_buffers(db, size)
    assert hashsize(db, "items_cjk") == size
    with db.conn:
        assert indexfill.fill(db, limit=indexfill.CLOSE_CHUNK) == len(ITEMS)
    check_indexes(db)
    for query in QUERIES:
        assert {f.id for f in run(db, query)} == truth(db, query), query


def test_an_sqlite_refusing_the_buffer_keeps_its_default(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = open_db(tmp_path / "monitor.db")
    with db.conn:
        indexfill.size_buffers(db, 0)  # refused as an older SQLite refuses the option
    assert "items_fts keeps FTS5's default hashsize (SQLite 3." in caplog.text
    assert hashsize(db, "items_fts") == indexfill.INDEX_BUFFER  # nothing changed
