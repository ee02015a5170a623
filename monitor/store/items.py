"""Items: each stored once, changed ones updated in place with a new revision.

New rows go in with ``INSERT … ON CONFLICT(id) DO NOTHING RETURNING id`` so the database
itself says which are new; ``INSERT OR REPLACE`` is never used (see monitor/store/migrations:
REPLACE would bypass the FTS delete trigger).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlite_utils

from monitor.model import Enclosure, Item
from monitor.store.db import from_db_time, to_db_time
from monitor.store.trigramflag import needs_trigram

_COLUMNS = (
    "id",
    "feed_id",
    "guid",
    "url",
    "title",
    "summary",
    "published",
    "first_seen",
    "author",
    "categories",
    "lang",
    "content_hash",
    "enclosures",
    "date_raw",
    "cjk",
)
_CHUNK = (
    500  # rows per INSERT statement: 15 columns × 500 stays far below SQLite's 32,766 variables
)


@dataclass
class ItemsWritten:
    new: list[Item] = field(default_factory=list)
    updated: list[Item] = field(default_factory=list)


def _row(item: Item) -> tuple[object, ...]:
    return (
        item.id,
        item.feed_id,
        item.guid,
        item.url,
        item.title,
        item.summary,
        to_db_time(item.published),
        to_db_time(item.first_seen),
        item.author,
        _categories_json(item.categories),
        item.lang,
        item.content_hash,
        _enclosures_json(item.enclosures),
        item.date_raw,
        int(needs_trigram(item.title, item.summary)),
    )


def _categories_json(categories: tuple[str, ...]) -> str:
    return json.dumps(list(categories), ensure_ascii=False) if categories else "[]"


def _enclosures_json(enclosures: tuple[Enclosure, ...]) -> str:
    if not enclosures:
        return ""
    return json.dumps(
        [{"url": e.url, "type": e.type, "length": e.length} for e in enclosures],
        ensure_ascii=False,
    )


def _enclosures_from(raw: object) -> tuple[Enclosure, ...]:
    if not isinstance(raw, str) or not raw:
        return ()
    return tuple(
        Enclosure(url=str(e.get("url", "")), type=str(e.get("type") or ""), length=e.get("length"))
        for e in json.loads(raw)
    )


def _unique(items: Iterable[Item]) -> list[Item]:
    """First occurrence of each id wins; normalisation should already make ids unique."""
    seen: dict[str, Item] = {}
    for item in items:
        seen.setdefault(item.id, item)
    return list(seen.values())


_Story = tuple[str, str | None, str, str]


def _story(item: Item) -> _Story:
    # Without a guid, the date tells stories apart too: a daily notice with the same title
    # and no link or summary is a new story each day, not the same one.
    return (
        item.feed_id,
        item.guid,
        item.content_hash,
        "" if item.guid else to_db_time(item.published),
    )


def _stored_stories(db: sqlite_utils.Database, batch: list[Item]) -> set[_Story]:
    """(feed, guid, content) of the batch's stories already stored under any id.

    Items that share a guid in a feed get ids with a content hash while the guid is shared
    (monitor/reader/identity.py), so a story's id can change from one poll to the next; an
    archive made before that holds such a story under its plain guid id. Either way the
    same guid with the same title, summary and URL is the same story (without a guid: and
    the same date): not new, and not an edit of another row."""
    found: set[_Story] = set()
    by_feed: dict[str, list[str]] = {}
    for item in batch:
        by_feed.setdefault(item.feed_id, []).append(item.content_hash)
    for feed_id, hashes in by_feed.items():
        unique = sorted(set(hashes))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            rows = db.execute(
                f"SELECT guid, content_hash, published FROM items WHERE feed_id = ?"
                f" AND content_hash IN ({','.join('?' * len(chunk))})",
                [feed_id, *chunk],
            ).fetchall()
            found.update((feed_id, r[0], r[1], "" if r[0] else r[2]) for r in rows)
    return found


def store_items(db: sqlite_utils.Database, items: Iterable[Item], *, now: datetime) -> ItemsWritten:
    """Insert new items and update those whose content changed, in one transaction.

    An updated item keeps its first ``published`` and ``first_seen``; its revision goes up
    by one and ``updated_at`` is set, which flags it for readers of the archive.
    """
    batch = _unique(items)
    written = ItemsWritten()
    if not batch:
        return written
    with db.atomic():
        known: dict[str, str] = {}
        for start in range(0, len(batch), _CHUNK):
            ids = [i.id for i in batch[start : start + _CHUNK]]
            marks = ",".join("?" * len(ids))
            for row in db.execute(
                f"SELECT id, content_hash FROM items WHERE id IN ({marks})", ids
            ).fetchall():
                known[row[0]] = row[1]
        stored = _stored_stories(db, batch)
        fresh = [i for i in batch if i.id not in known and _story(i) not in stored]
        inserted: set[str] = set()
        row_marks = "(" + ",".join("?" * len(_COLUMNS)) + ")"
        for start in range(0, len(fresh), _CHUNK):
            chunk = fresh[start : start + _CHUNK]
            params = [value for item in chunk for value in _row(item)]
            cursor = db.execute(
                f"INSERT INTO items ({','.join(_COLUMNS)}) VALUES "
                f"{','.join([row_marks] * len(chunk))} ON CONFLICT(id) DO NOTHING RETURNING id",
                params,
            )
            inserted.update(r[0] for r in cursor.fetchall())
        written.new = [i for i in fresh if i.id in inserted]
        stamp = to_db_time(now)
        for item in batch:
            if (
                item.id in known
                and known[item.id] != item.content_hash
                and _story(item) not in stored  # kept under another id: not an edit of this
            ):
                db.execute(
                    """UPDATE items SET guid = ?, url = ?, title = ?, summary = ?, author = ?,
                         categories = ?, lang = ?, content_hash = ?, updated_at = ?,
                         enclosures = ?, cjk = ?, revision = revision + 1
                       WHERE id = ?""",
                    [
                        item.guid,
                        item.url,
                        item.title,
                        item.summary,
                        item.author,
                        _categories_json(item.categories),
                        item.lang,
                        item.content_hash,
                        stamp,
                        _enclosures_json(item.enclosures),
                        int(needs_trigram(item.title, item.summary)),
                        item.id,
                    ],
                )
                written.updated.append(item)
    return written


def item_from_row(row: dict[str, object]) -> Item:
    categories = row.get("categories")
    return Item(
        id=str(row["id"]),
        feed_id=str(row["feed_id"]),
        guid=None if row.get("guid") is None else str(row["guid"]),
        url=str(row.get("url") or ""),
        title=str(row.get("title") or ""),
        summary=str(row.get("summary") or ""),
        published=from_db_time(str(row["published"])),
        first_seen=from_db_time(str(row["first_seen"])),
        author=None if row.get("author") is None else str(row["author"]),
        categories=tuple(json.loads(categories)) if isinstance(categories, str) else (),
        lang=None if row.get("lang") is None else str(row["lang"]),
        content_hash=str(row.get("content_hash") or ""),
        enclosures=_enclosures_from(row.get("enclosures")),
        date_raw=None if row.get("date_raw") is None else str(row["date_raw"]),
        body=str(row.get("body") or ""),
    )


def count_by_feed(db: sqlite_utils.Database) -> dict[str, int]:
    return {
        str(r["feed_id"]): int(r["n"])
        for r in db.query("SELECT feed_id, count(*) AS n FROM items GROUP BY feed_id")
    }


def latest_items(
    db: sqlite_utils.Database, *, limit: int = 10, feed_ids: Sequence[str] | None = None
) -> list[Item]:
    """The most recently published items, newest first."""
    where, params = "", []
    if feed_ids:
        where = f"WHERE feed_id IN ({','.join('?' * len(feed_ids))})"
        params = list(feed_ids)
    rows = db.query(
        f"SELECT * FROM items {where} ORDER BY published DESC, id LIMIT ?", [*params, limit]
    )
    return [item_from_row(r) for r in rows]
