"""Stored rule matches: save new ones, read them back for backtests and explanations.

A match is stored once per (item, rule) with the rule version that produced it. Saving never
overwrites a stored match: editing a rule does not rewrite history (backtest shows the effect
of an edit without writing).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from monitor.model import FeedSource, Hit, Item, Match
from monitor.rules.why import hit_dict
from monitor.store.db import from_db_time, to_db_time
from monitor.store.items import item_from_row


def hit_of(h: dict[str, Any]) -> Hit:
    """A stored hit back (archives from before "list" was stored read as having none)."""
    group = h.get("list")
    return Hit(
        str(h.get("term", "")),
        h["field"],
        int(h["start"]),
        int(h["end"]),
        group if isinstance(group, str) else "",
    )


def hits_json(hits: Sequence[Hit]) -> str:
    return json.dumps([hit_dict(h) for h in hits], ensure_ascii=False)


def hits_from_json(text: str | None) -> tuple[Hit, ...]:
    try:
        raw = json.loads(text or "[]")
    except ValueError:
        return ()
    out = []
    for h in raw if isinstance(raw, list) else []:
        if isinstance(h, dict) and h.get("field") in ("title", "summary", "body"):
            out.append(hit_of(h))
    return tuple(out)


def save_matches(db: sqlite_utils.Database, matches: Iterable[Match], matched_at: datetime) -> int:
    """Insert matches not stored yet, in one transaction; returns how many were new.

    An (item, rule) pair already stored is left as it is, whatever the rule version now.
    """
    when = to_db_time(matched_at)
    rows = [
        (m.item_id, m.rule_id, m.rule_version, m.score, hits_json(m.hits), when) for m in matches
    ]
    if not rows:
        return 0
    saved = 0
    with db.atomic():
        for row in rows:
            cursor = db.execute(
                "INSERT INTO matches (item_id, rule_id, rule_version, score, hits, matched_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(item_id, rule_id) DO NOTHING",
                list(row),
            )
            saved += max(cursor.rowcount, 0)
    return saved


@dataclass(frozen=True)
class StoredMatch:
    item_id: str
    rule_id: str
    rule_version: str
    score: float
    hits: tuple[Hit, ...]
    matched_at: datetime


def _stored(row: dict[str, object]) -> StoredMatch:
    return StoredMatch(
        str(row["item_id"]),
        str(row["rule_id"]),
        str(row["rule_version"]),
        float(row["score"]),  # type: ignore[arg-type]
        hits_from_json(row["hits"]),  # type: ignore[arg-type]
        from_db_time(str(row["matched_at"])),
    )


def matches_for_item(db: sqlite_utils.Database, item_id: str) -> list[StoredMatch]:
    rows = db.query(
        "SELECT * FROM matches WHERE item_id = ? ORDER BY score DESC, rule_id", [item_id]
    )
    return [_stored(r) for r in rows]


def stored_pairs(
    db: sqlite_utils.Database, since: datetime, rule_ids: Sequence[str] | None = None
) -> dict[str, set[str]]:
    """rule id -> ids of items published since ``since`` that it matched, as stored."""
    where, params = "i.published >= ?", [to_db_time(since)]
    if rule_ids:
        where += f" AND m.rule_id IN ({','.join('?' * len(rule_ids))})"
        params.extend(rule_ids)
    out: dict[str, set[str]] = {}
    for rule_id, item_id in db.execute(
        f"SELECT m.rule_id, m.item_id FROM matches m JOIN items i ON i.id = m.item_id WHERE {where}",
        params,
    ):
        out.setdefault(rule_id, set()).add(item_id)
    return out


_ITEM_SQL = (
    "SELECT i.*, f.name AS feed_name, f.kind AS feed_kind, f.country AS feed_country,"
    " f.lang AS feed_lang, f.url AS feed_url FROM items i LEFT JOIN feeds f ON f.id = i.feed_id"
)


def items_since(
    db: sqlite_utils.Database, since: datetime, batch: int = 1000
) -> Iterator[tuple[Item, dict[str, object]]]:
    """Archived items published since ``since``, oldest first, with their feed's row
    (kind, country, lang) for source filters; streamed in batches."""
    sql = _ITEM_SQL + " WHERE i.published >= ? ORDER BY i.published, i.id"
    cursor = db.execute(sql, [to_db_time(since)])
    names = [d[0] for d in cursor.description]
    while True:
        rows = cursor.fetchmany(batch)
        if not rows:
            return
        for values in rows:
            row = dict(zip(names, values, strict=True))
            yield item_from_row(row), row


def item_with_feed(
    db: sqlite_utils.Database, item_id: str
) -> tuple[Item, dict[str, object]] | None:
    rows = list(db.query(_ITEM_SQL + " WHERE i.id = ?", [item_id]))
    if not rows:
        return None
    return item_from_row(rows[0]), rows[0]


def feed_from_row(row: dict[str, Any]) -> FeedSource | None:
    """The FeedSource a stored item came from (item_with_feed's row), enough for source filters."""
    if row.get("feed_kind") is None:
        return None
    return FeedSource(
        id=str(row["feed_id"]),
        name=str(row.get("feed_name") or row["feed_id"]),
        url=str(row.get("feed_url") or ""),
        kind=row["feed_kind"],
        country=str(row.get("feed_country") or ""),
        lang=str(row.get("feed_lang") or ""),
        interval=0,
    )


def match_counts(db: sqlite_utils.Database, since: datetime) -> dict[str, int]:
    """rule id → matches stored since ``since`` (when the match was made)."""
    rows = db.execute(
        "SELECT rule_id, COUNT(*) FROM matches WHERE matched_at >= ? GROUP BY rule_id",
        [to_db_time(since)],
    ).fetchall()
    return {r[0]: int(r[1]) for r in rows}
