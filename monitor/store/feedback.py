"""Readers' feedback from Slack (buttons) and feeds muted from Slack, in the archive.

Every click is kept; what counts is each reader's latest label for an (item, rule). A click
is identified by ``event_key`` so a redelivered envelope is stored once. Mutes keep their
history too; an unmute ends a mute rather than deleting it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from monitor.store.db import from_db_time, to_db_time

LABELS = ("relevant", "not_relevant", "mute_source")
MAX_IDS_PER_QUERY = 500  # SQLite's variable limit is far above; keeps each statement small


@dataclass(frozen=True)
class Click:
    item_id: str
    rule_id: str
    label: str
    user_id: str
    user_name: str
    team_id: str
    event_key: str
    channel: str | None = None
    message_ts: str | None = None


def record_click(db: sqlite_utils.Database, click: Click, now: datetime) -> bool:
    """Store one click; False when this very click (same event_key) was stored before."""
    if click.label not in LABELS:
        raise ValueError(f"unknown label {click.label!r}")
    cursor = db.execute(
        """INSERT INTO feedback (item_id, rule_id, label, user_id, user_name, team_id,
                                 created_at, event_key, channel, message_ts)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(event_key) DO NOTHING""",
        [
            click.item_id,
            click.rule_id,
            click.label,
            click.user_id,
            click.user_name,
            click.team_id,
            to_db_time(now),
            click.event_key,
            click.channel,
            click.message_ts,
        ],
    )
    db.conn.commit()
    return cursor.rowcount == 1


def match_exists(db: sqlite_utils.Database, item_id: str, rule_id: str) -> bool:
    """Whether the archive has this item matched by this rule (a button value must name one)."""
    row = db.execute(
        "SELECT 1 FROM matches WHERE item_id = ? AND rule_id = ? LIMIT 1", [item_id, rule_id]
    ).fetchone()
    return row is not None


def feed_of(db: sqlite_utils.Database, item_id: str) -> str | None:
    row = db.execute("SELECT feed_id FROM items WHERE id = ?", [item_id]).fetchone()
    return str(row[0]) if row else None


@dataclass(frozen=True)
class Verdict:
    """The readers' latest labels for one (item, rule)."""

    item_id: str
    rule_id: str
    relevant: tuple[tuple[str, str], ...]  # (user name or id, time) of each reader saying so
    not_relevant: tuple[tuple[str, str], ...]
    last_label: str  # the most recent relevant/not_relevant click decides a tie

    @property
    def label(self) -> str:
        if len(self.relevant) != len(self.not_relevant):
            return "relevant" if len(self.relevant) > len(self.not_relevant) else "not_relevant"
        return self.last_label


def verdicts(db: sqlite_utils.Database, rule_ids: Iterable[str] | None = None) -> list[Verdict]:
    """Each labelled (item, rule) with its readers' latest relevant / not relevant labels."""
    sql = """
        SELECT f.item_id, f.rule_id, f.label, COALESCE(NULLIF(f.user_name, ''), f.user_id),
               f.created_at
        FROM feedback f
        WHERE f.label IN ('relevant', 'not_relevant')
          AND f.id = (SELECT MAX(g.id) FROM feedback g
                      WHERE g.item_id = f.item_id AND g.rule_id = f.rule_id
                        AND g.user_id = f.user_id AND g.label IN ('relevant', 'not_relevant'))
    """
    params: list[Any] = []
    if rule_ids is not None:
        wanted = sorted(set(rule_ids))
        if not wanted:
            return []
        sql += f" AND f.rule_id IN ({','.join('?' for _ in wanted)})"
        params += wanted
    sql += " ORDER BY f.item_id, f.rule_id, f.id"
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for item_id, rule_id, label, who, when in db.execute(sql, params).fetchall():
        entry = grouped.setdefault((item_id, rule_id), {"relevant": [], "not_relevant": []})
        entry[label].append((who, when))
        entry["last"] = label
    return [
        Verdict(k[0], k[1], tuple(v["relevant"]), tuple(v["not_relevant"]), v["last"])
        for k, v in grouped.items()
    ]


def precision_by_rule(db: sqlite_utils.Database) -> dict[str, tuple[int, int]]:
    """rule id → (items readers judged relevant, items judged not relevant)."""
    out: dict[str, tuple[int, int]] = {}
    for v in verdicts(db):
        good, bad = out.get(v.rule_id, (0, 0))
        out[v.rule_id] = (good + 1, bad) if v.label == "relevant" else (good, bad + 1)
    return out


def labelled_rows(db: sqlite_utils.Database) -> Iterator[dict[str, Any]]:
    """One record per labelled item, in the format `monitor rules eval` reads, plus
    ``not_labels`` (rules readers marked not relevant) and ``judged`` (who said what)."""
    by_item: dict[str, list[Verdict]] = {}
    for v in verdicts(db):
        by_item.setdefault(v.item_id, []).append(v)
    ids = sorted(by_item)
    for start in range(0, len(ids), MAX_IDS_PER_QUERY):
        chunk = ids[start : start + MAX_IDS_PER_QUERY]
        rows = db.execute(
            f"""SELECT i.id, i.title, i.summary, i.url, i.published,
                       COALESCE(NULLIF(i.lang, ''), f.lang, '')
                FROM items i LEFT JOIN feeds f ON f.id = i.feed_id
                WHERE i.id IN ({",".join("?" for _ in chunk)}) ORDER BY i.id""",
            chunk,
        ).fetchall()
        for item_id, title, summary, url, published, lang in rows:
            vs = by_item[item_id]
            yield {
                "id": item_id,
                "title": title,
                "summary": summary,
                "url": url,
                "published": published,
                "lang": lang,
                "labels": sorted(v.rule_id for v in vs if v.label == "relevant"),
                "not_labels": sorted(v.rule_id for v in vs if v.label == "not_relevant"),
                "judged": {
                    v.rule_id: {
                        "relevant": [list(x) for x in v.relevant],
                        "not_relevant": [list(x) for x in v.not_relevant],
                    }
                    for v in vs
                },
            }


# --- mutes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mute:
    feed_id: str
    since: datetime
    until: datetime
    by: str


def mute_feed(
    db: sqlite_utils.Database,
    feed_id: str,
    *,
    since: datetime,
    until: datetime,
    user_id: str = "",
    user_name: str = "",
    reason: str = "",
) -> None:
    """Mute a feed from ``since`` to ``until``; a mute in force is ended first, so one counts."""
    with db.conn:
        _end(db, feed_id, since)
        db.execute(
            """INSERT INTO feed_mutes (feed_id, since, until, user_id, user_name, reason)
               VALUES (?, ?, ?, ?, ?, ?)""",
            [feed_id, to_db_time(since), to_db_time(until), user_id, user_name, reason],
        )


def unmute_feed(db: sqlite_utils.Database, feed_id: str, now: datetime) -> bool:
    """End the feed's mute in force; False when it was not muted."""
    with db.conn:
        return _end(db, feed_id, now) > 0


def _end(db: sqlite_utils.Database, feed_id: str, now: datetime) -> int:
    cursor = db.execute(
        """UPDATE feed_mutes SET ended_at = ?, until = ?
           WHERE feed_id = ? AND ended_at IS NULL AND until > ?""",
        [to_db_time(now), to_db_time(now), feed_id, to_db_time(now)],
    )
    return cursor.rowcount


def active_mutes(db: sqlite_utils.Database, now: datetime) -> dict[str, Mute]:
    """Feed id → the mute in force now."""
    if "feed_mutes" not in db.table_names():  # a read-only archive from before 0300
        return {}
    rows = db.execute(
        """SELECT feed_id, since, until, COALESCE(NULLIF(user_name, ''), user_id)
           FROM feed_mutes WHERE ended_at IS NULL AND since <= ? AND until > ?
           ORDER BY id""",
        [to_db_time(now), to_db_time(now)],
    ).fetchall()
    return {r[0]: Mute(r[0], from_db_time(r[1]), from_db_time(r[2]), r[3]) for r in rows}


def hidden_items(db: sqlite_utils.Database, item_ids: Iterable[str], now: datetime) -> set[str]:
    """Of ``item_ids``, those a mute keeps out of digests: the feed is muted now, or the item
    was first seen while a mute was in force (so a mute's backlog never floods in later)."""
    ids = sorted(set(item_ids))
    if not ids or "feed_mutes" not in db.table_names():
        return set()
    hidden: set[str] = set()
    for start in range(0, len(ids), MAX_IDS_PER_QUERY):
        chunk = ids[start : start + MAX_IDS_PER_QUERY]
        rows = db.execute(
            f"""SELECT DISTINCT i.id FROM items i JOIN feed_mutes m ON m.feed_id = i.feed_id
                WHERE i.id IN ({",".join("?" for _ in chunk)})
                  AND ((m.since <= ? AND m.until > ?)
                       OR (i.first_seen >= m.since AND i.first_seen < m.until))""",
            [*chunk, to_db_time(now), to_db_time(now)],
        ).fetchall()
        hidden.update(r[0] for r in rows)
    return hidden
