"""Matches per rule per day, for spike detection (monitor.digest.spikes) and `monitor stats`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlite_utils

from monitor.model import BASELINE_DAYS, MIN_HISTORY_DAYS, TopItem, Volume
from monitor.store.db import from_db_time, to_db_time

DAY = timedelta(days=1)


def volumes(db: sqlite_utils.Database, rule_ids: Sequence[str], now: datetime) -> dict[str, Volume]:
    """Each rule's matched items in the last 24 h and in each of the 14 days before, by
    when the item was first seen (a re-match after a rule edit does not count as news)."""
    start = now - DAY * (BASELINE_DAYS + 1)
    counts = {r: [0] * (BASELINE_DAYS + 1) for r in rule_ids}  # [0]: last 24 h, [k]: k days before
    rows = db.execute(
        """SELECT m.rule_id, i.first_seen FROM matches m JOIN items i ON i.id = m.item_id
           WHERE i.first_seen >= ? AND i.first_seen <= ?""",
        [to_db_time(start), to_db_time(now)],
    ).fetchall()
    for rule_id, first_seen in rows:
        if rule_id not in counts:
            continue
        age = now - from_db_time(first_seen)
        day = min(int(age / DAY), BASELINE_DAYS)
        counts[rule_id][day] += 1
    (oldest,) = db.execute("SELECT MIN(first_seen) FROM items").fetchone()
    history = oldest is not None and now - from_db_time(oldest) >= DAY * MIN_HISTORY_DAYS
    return {r: Volume(r, c[0], tuple(reversed(c[1:])), history) for r, c in counts.items()}


def top_items(
    db: sqlite_utils.Database, rule_id: str, now: datetime, limit: int = 3
) -> list[TopItem]:
    """The rule's best-scoring items of the last 24 h."""
    rows = db.execute(
        """SELECT i.title, i.url FROM matches m JOIN items i ON i.id = m.item_id
           WHERE m.rule_id = ? AND i.first_seen > ? AND i.first_seen <= ?
           ORDER BY m.score DESC, i.published DESC, i.id LIMIT ?""",
        [rule_id, to_db_time(now - DAY), to_db_time(now), limit],
    ).fetchall()
    return [TopItem(str(t), str(u)) for t, u in rows]


def spike_told(db: sqlite_utils.Database, name: str) -> bool:
    """Whether the ledger holds a spike message of this name (rule and local day)."""
    row = db.execute(
        "SELECT 1 FROM deliveries WHERE kind = 'spike' AND name = ? LIMIT 1", [name]
    ).fetchone()
    return row is not None
