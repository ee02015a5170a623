"""Steps from 0500 on: embeddings, feed weights, and what the poll's writer costs."""

from __future__ import annotations

import sqlite_utils

from monitor.store.indexfill import DEFERRED_TRIGGERS, size_buffers
from monitor.store.migrations.registry import migrations
from monitor.store.trigramflag import FLAGGED_TRIGGERS


@migrations(name="0500_embeddings")
def _embeddings(db: sqlite_utils.Database) -> None:
    """One sentence embedding per item (monitor.embed), for clustering across languages
    and `monitor rules suggest`. ``vector`` is int8 bytes (512 of them, about a quarter of
    float32); ``model`` names the encoder, so a new model recomputes instead of mixing
    spaces. Removing an item removes its vector."""
    db.executescript(
        """
        CREATE TABLE embeddings (
            item_id TEXT PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            vector BLOB NOT NULL,
            created_at TEXT NOT NULL
        );
        """
    )


@migrations(name="0501_feed_weight")
def _feed_weight(db: sqlite_utils.Database) -> None:
    # feeds.yaml's `weight:` for ranking (monitor.digest.relevance); NULL: the kind's default.
    db.execute("ALTER TABLE feeds ADD COLUMN weight REAL")


@migrations(name="0502_item_cjk_flag")
def _item_cjk_flag(db: sqlite_utils.Database) -> None:
    """``items.cjk``: 1 when the item is in items_cjk, as the writer worked it out.

    The GLOB in the triggers cost more than the trigram index itself (trigramflag.py).
    Rows from before have NULL and keep the GLOB, in both directions, so an existing
    archive is not rewritten and each row leaves items_cjk by the rule that put it there.
    """
    db.executescript(FLAGGED_TRIGGERS)


@migrations(name="0503_deferred_index")
def _deferred_index(db: sqlite_utils.Database) -> None:
    """The poll's writer indexes items after writing them (monitor/store/indexfill.py)."""
    db.executescript(DEFERRED_TRIGGERS)


@migrations(name="0504_index_buffer")
def _index_buffer(db: sqlite_utils.Database) -> None:
    size_buffers(db)  # FTS5 writes fewer segments as the poll's writer fills (indexfill.py)


@migrations(name="0505_no_url_index")
def _no_url_index(db: sqlite_utils.Database) -> None:
    """The first schema indexed ``items.url``, which no query of the monitor looks up; its
    keys land on random pages, so it cost the poll's writer about a third of each insert
    (bench/poll.py). A lookup by URL from outside (Datasette, sqlite3) scans instead."""
    db.execute("DROP INDEX IF EXISTS items_url")
