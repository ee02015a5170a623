"""Stored item embeddings: read, find what is missing, write (table from migration 0500)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlite_utils

from monitor.store.db import to_db_time

_CHUNK = 500  # ids per IN (...) query, well below SQLite's variable limit


def has_table(db: sqlite_utils.Database) -> bool:
    """False on an archive opened read-only before migration 0500 ran."""
    row = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'embeddings'"
    ).fetchone()
    return row is not None


def vectors(db: sqlite_utils.Database, item_ids: Iterable[str], model: str) -> dict[str, bytes]:
    """The stored vectors of these items made by ``model``."""
    ids = list(dict.fromkeys(item_ids))
    if not ids or not has_table(db):
        return {}
    found: dict[str, bytes] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ",".join("?" for _ in chunk)
        rows = db.execute(
            f"SELECT item_id, vector FROM embeddings WHERE model = ? AND item_id IN ({marks})",
            [model, *chunk],
        ).fetchall()
        found.update((item_id, bytes(vector)) for item_id, vector in rows)
    return found


def missing(
    db: sqlite_utils.Database,
    model: str,
    *,
    matched: bool,
    limit: int,
    since: datetime | None = None,
) -> list[tuple[str, str]]:
    """(item id, title) of items without a vector, newest first: matched items
    (``matched``) or the others. What a background pass embeds next."""
    if not has_table(db):
        return []
    test = "EXISTS" if matched else "NOT EXISTS"
    sql = f"""
        SELECT i.id, i.title FROM items i
        WHERE {test} (SELECT 1 FROM matches m WHERE m.item_id = i.id)
          AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.item_id = i.id AND e.model = ?)
    """
    params: list[Any] = [model]
    if since is not None:
        sql += " AND i.first_seen >= ?"
        params.append(to_db_time(since))
    sql += " ORDER BY i.first_seen DESC, i.id LIMIT ?"
    params.append(limit)
    return [(str(a), str(b)) for a, b in db.execute(sql, params).fetchall()]


def save(
    db: sqlite_utils.Database, rows: Sequence[tuple[str, bytes]], model: str, now: datetime
) -> int:
    """Store vectors (replacing another model's); returns how many were written. Items
    removed meanwhile (prune) are skipped, not an error. Inside a caller's transaction the
    rows join it; otherwise they are committed here."""
    inside = db.conn.in_transaction
    stamp = to_db_time(now)
    written = 0
    for item_id, vector in rows:
        try:
            cur = db.conn.execute(
                """INSERT INTO embeddings (item_id, model, vector, created_at)
                   SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM items WHERE id = ?)
                   ON CONFLICT(item_id) DO UPDATE SET model = excluded.model,
                       vector = excluded.vector, created_at = excluded.created_at""",
                (item_id, model, vector, stamp, item_id),
            )
        except sqlite3.IntegrityError:
            continue
        written += max(cur.rowcount, 0)
    if not db.conn.in_transaction or not inside:
        db.conn.commit()
    return written
