"""The word and trigram indexes of items written by the poll, filled after the write.

Indexing an item as it is inserted (one trigger per row) was most of the store's cost in a
cold cycle, on the writer thread that every feed waits for. FTS5 indexes rows in bulk for
about two thirds of that, and the alerts do not need the index. So the writer defers: each
of its transactions opens with a row in ``index_deferral`` (and removes it before COMMIT, so
no other connection ever sees it; SQLite has one writer at a time), the insert trigger then
queues the new rowid in ``items_unindexed`` instead of indexing it, and ``fill`` indexes the
queue in chunks whenever the writer has nothing else to do, and at its close. Every other
writer (the CLI, tests, another program) indexes as it inserts, as before.

Deletes and updates read the queue: a queued row is not in the indexes, so it must not be
deleted from them (FTS5 would take the 'delete' on trust and corrupt its counts). Search
adds the queued rows to its candidates (monitor.store.candidates.UNINDEXED), so an item is
found in the seconds between its write and its fill, and after a crash until the next
writer starts, which fills what was left.
"""

from __future__ import annotations

import logging
import sqlite3

import sqlite_utils

from monitor.store.trigramflag import in_trigram_sql

FILL_CHUNK = 2000  # rows a fill transaction: a poll's feed waits at most one chunk's time
# Rows a fill transaction as the writer closes, when no feed waits: each transaction leaves
# FTS5 a segment to write and merge, so 45,000 queued rows filled 20,000 at a time took
# 1.6-2.1 s of CPU against 2.2-2.3 s in chunks of 2,000; bounded, so another writer of the
# archive waits a second or two at most.
CLOSE_CHUNK = 20_000
# Bytes of new postings FTS5 holds in memory in a transaction before writing them out as a
# segment, which it must later merge (FTS5's `hashsize`, 1 MB unless set). A closing chunk
# of 20,000 rows made several segments a table at 1 MB; at 16 MB it makes about one, and the
# fill takes a quarter to a third less CPU (docs/performance.md). Memory is bounded by it,
# per table, and freed at COMMIT.
INDEX_BUFFER = 16 * 1024 * 1024
BUFFERED = ("items_fts", "items_cjk")  # the body tables get one article a transaction

log = logging.getLogger(__name__)

_QUEUED = "EXISTS (SELECT 1 FROM items_unindexed WHERE item_rowid = {}.rowid)"
_DEFERRING = "EXISTS (SELECT 1 FROM index_deferral)"
_NEW_CJK = in_trigram_sql("new")
_OLD_CJK = in_trigram_sql("old")
_DELETE_OLD = f"""
        INSERT INTO items_fts(items_fts, rowid, title, summary)
        SELECT 'delete', old.rowid, old.title, old.summary WHERE NOT {_QUEUED.format("old")};
        INSERT INTO items_cjk(items_cjk, rowid, title, summary)
        SELECT 'delete', old.rowid, old.title, old.summary
        WHERE {_OLD_CJK} AND NOT {_QUEUED.format("old")};"""

# Migration 0503: the six index triggers of items_fts and items_cjk become three that know
# the queue (one body each, so a row's queue entry is read before it is removed).
DEFERRED_TRIGGERS = f"""
    CREATE TABLE items_unindexed (item_rowid INTEGER PRIMARY KEY);
    CREATE TABLE index_deferral (writer INTEGER);
    DROP TRIGGER items_fts_ai;
    DROP TRIGGER items_fts_ad;
    DROP TRIGGER items_fts_au;
    DROP TRIGGER items_cjk_ai;
    DROP TRIGGER items_cjk_ad;
    DROP TRIGGER items_cjk_au;
    CREATE TRIGGER items_index_ai AFTER INSERT ON items BEGIN
        INSERT INTO items_unindexed(item_rowid) SELECT new.rowid WHERE {_DEFERRING};
        INSERT INTO items_fts(rowid, title, summary)
        SELECT new.rowid, new.title, new.summary WHERE NOT {_DEFERRING};
        INSERT INTO items_cjk(rowid, title, summary)
        SELECT new.rowid, new.title, new.summary WHERE {_NEW_CJK} AND NOT {_DEFERRING};
    END;
    CREATE TRIGGER items_index_ad AFTER DELETE ON items BEGIN{_DELETE_OLD}
        DELETE FROM items_unindexed WHERE item_rowid = old.rowid;
    END;
    CREATE TRIGGER items_index_au AFTER UPDATE OF title, summary ON items BEGIN{_DELETE_OLD}
        INSERT INTO items_fts(rowid, title, summary)
        SELECT new.rowid, new.title, new.summary WHERE NOT {_QUEUED.format("new")};
        INSERT INTO items_cjk(rowid, title, summary)
        SELECT new.rowid, new.title, new.summary
        WHERE {_NEW_CJK} AND NOT {_QUEUED.format("new")};
    END;
"""


def size_buffers(db: sqlite_utils.Database, size: int = INDEX_BUFFER) -> None:
    """Migration 0504: set ``hashsize`` in each buffered table's ``_config``, so it holds
    for every connection. An SQLite without the option keeps its default, and the archive
    works as before, only its fills cost more."""
    for table in BUFFERED:
        try:
            db.execute(f"INSERT INTO {table}({table}, rank) VALUES ('hashsize', ?)", [size])
        except sqlite3.OperationalError as exc:
            log.warning("%s keeps FTS5's default hashsize (SQLite %s: %s)", table,
                        sqlite3.sqlite_version, exc)  # fmt: skip
            return


def has_queue(db: sqlite_utils.Database) -> bool:
    """The archive defers indexing (migration 0503); a read-only one may be older."""
    sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'items_unindexed'"
    return db.execute(sql).fetchone() is not None


def defer(db: sqlite_utils.Database) -> None:
    """Inside the writer's transaction: its inserts queue instead of indexing."""
    db.execute("INSERT INTO index_deferral(writer) VALUES (1)")


def undefer(db: sqlite_utils.Database) -> None:
    """Before that transaction commits: nobody else may see the deferral."""
    db.execute("DELETE FROM index_deferral")


def queued(db: sqlite_utils.Database) -> int:
    return int(db.execute("SELECT count(*) FROM items_unindexed").fetchone()[0])


def fill(db: sqlite_utils.Database, limit: int = FILL_CHUNK) -> int:
    """Index up to ``limit`` queued rows, oldest first, in the caller's transaction; how
    many. A queued rowid whose item is gone was removed by the delete trigger, so every
    entry has its row; the title and summary read are the current ones."""
    top = db.execute(
        "SELECT max(item_rowid) FROM"
        " (SELECT item_rowid FROM items_unindexed ORDER BY item_rowid LIMIT ?)",
        [limit],
    ).fetchone()[0]
    if top is None:
        return 0
    picked = "i.rowid IN (SELECT item_rowid FROM items_unindexed WHERE item_rowid <= ?)"
    db.execute(
        "INSERT INTO items_fts(rowid, title, summary)"
        f" SELECT i.rowid, i.title, i.summary FROM items i WHERE {picked}",
        [top],
    )
    cjk = in_trigram_sql("i")
    db.execute(
        "INSERT INTO items_cjk(rowid, title, summary)"
        f" SELECT i.rowid, i.title, i.summary FROM items i WHERE {picked} AND {cjk}",
        [top],
    )
    return db.execute("DELETE FROM items_unindexed WHERE item_rowid <= ?", [top]).rowcount
