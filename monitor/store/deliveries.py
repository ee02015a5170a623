"""The delivery ledger: what was (or is about to be) posted where, and which matches it carried.

Claiming matches and reserving the message rows that carry them happen in one transaction
(``claiming``): after it commits, the matches are no longer selectable and the rows are
``pending`` until Slack says ok (``mark_sent``). A crash at any point leaves either nothing
or pending rows that the next run sends (``pending``). See docs/delivery.md.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from monitor.errors import StoreError
from monitor.message import Message
from monitor.model import Candidate, Claim, StoryKey
from monitor.store.db import from_db_time, to_db_time
from monitor.store.matches import hit_of


@dataclass(frozen=True)
class PendingDelivery:
    id: int
    kind: str
    name: str
    message: Message
    attempts: int


@contextmanager
def claiming(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction, taken up front (BEGIN IMMEDIATE) so selection and claim agree."""
    if db.conn.in_transaction:
        raise StoreError("a delivery claim cannot run inside another transaction")
    try:
        db.conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise StoreError(f"cannot start a delivery transaction: {exc}") from None
    try:
        yield db
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    else:
        db.conn.execute("COMMIT")


def candidates(
    db: sqlite_utils.Database,
    *,
    kind: str,
    name: str,
    rule_ids: Sequence[str],
    since: datetime | None = None,
) -> list[Candidate]:
    """Matches of ``rule_ids`` not yet claimed by (kind, name), items first seen after ``since``."""
    if not rule_ids:
        return []
    marks = ",".join("?" for _ in rule_ids)
    # feeds.weight came with migration 0501; a read-only archive from before has none
    weight = "f.weight" if "weight" in {c.name for c in db["feeds"].columns} else "NULL"
    sql = f"""
        SELECT m.item_id, m.rule_id, m.score, m.hits, i.title, i.summary, i.url, i.published,
               i.feed_id, COALESCE(NULLIF(f.name, ''), i.feed_id) AS feed_name,
               COALESCE(NULLIF(i.lang, ''), f.lang, '') AS lang, COALESCE(f.kind, ''), {weight}
        FROM matches m
        JOIN items i ON i.id = m.item_id
        LEFT JOIN feeds f ON f.id = i.feed_id
        WHERE m.rule_id IN ({marks})
          AND NOT EXISTS (
              SELECT 1 FROM delivery_items d
              WHERE d.kind = ? AND d.name = ? AND d.item_id = m.item_id AND d.rule_id = m.rule_id
          )
    """
    params: list[Any] = [*rule_ids, kind, name]
    if since is not None:
        sql += " AND i.first_seen >= ?"
        params.append(to_db_time(since))
    return [_candidate(row) for row in db.execute(sql, params).fetchall()]


def _candidate(row: tuple[Any, ...]) -> Candidate:
    (item_id, rule_id, score, hits, title, summary, url, published) = row[:8]
    feed_id, feed_name, lang, kind, weight = row[8:]
    try:
        raw_hits = json.loads(hits or "[]")
        parsed = tuple(hit_of(h) for h in raw_hits)
    except (ValueError, KeyError, TypeError):
        parsed = ()  # an explanation is a nicety; a malformed one must not block delivery
    return Candidate(
        item_id=item_id,
        rule_id=rule_id,
        score=float(score),
        hits=parsed,
        title=title,
        summary=summary,
        url=url,
        published=from_db_time(published),
        feed_id=feed_id,
        feed_name=feed_name,
        lang=lang or "",
        feed_kind=kind or "",
        feed_weight=None if weight is None else float(weight),
    )


def reserve(
    db: sqlite_utils.Database,
    *,
    kind: str,
    name: str,
    messages: Sequence[Message],
    now: datetime,
    period: tuple[datetime, datetime] | None = None,
) -> list[int]:
    """Insert a pending row per message and claim its matches. Call inside ``claiming``."""
    ids = []
    start, end = (to_db_time(period[0]), to_db_time(period[1])) if period else (None, None)
    for part, message in enumerate(messages, start=1):
        cur = db.conn.execute(
            """INSERT INTO deliveries (kind, name, channel, part, parts, message, items, state,
                                       created_at, period_start, period_end)
               VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)""",
            (
                kind,
                name,
                message.channel,
                part,
                len(messages),
                message.to_json(),
                len({item for item, _ in message.claims}),
                to_db_time(now),
                start,
                end,
            ),
        )
        delivery_id = int(cur.lastrowid or 0)
        try:
            db.conn.executemany(
                "INSERT INTO delivery_items (delivery_id, kind, name, item_id, rule_id)"
                " VALUES (?, ?, ?, ?, ?)",
                [(delivery_id, kind, name, item, rule) for item, rule in message.claims],
            )
        except sqlite3.IntegrityError:
            raise StoreError(
                f"matches for {kind} {name!r} were claimed by another process at the same time",
                "run the command again: it picks up only what is still undelivered",
            ) from None
        ids.append(delivery_id)
    return ids


def told_stories(
    db: sqlite_utils.Database, *, kind: str, name: str, since: datetime
) -> list[tuple[StoryKey, int]]:
    """Items carried by (kind, name) messages created since ``since``, with their delivery id."""
    rows = db.execute(
        """SELECT DISTINCT i.id, i.url, i.title, i.published, di.delivery_id
           FROM delivery_items di
           JOIN deliveries d ON d.id = di.delivery_id
           JOIN items i ON i.id = di.item_id
           WHERE di.kind = ? AND di.name = ? AND d.created_at >= ?
           ORDER BY di.delivery_id, i.id""",
        [kind, name, to_db_time(since)],
    ).fetchall()
    return [(StoryKey(r[0], r[1], r[2], from_db_time(r[3])), r[4]) for r in rows]


def attach(
    db: sqlite_utils.Database, delivery_id: int, *, kind: str, name: str, claims: Sequence[Claim]
) -> None:
    """Record matches as carried by an earlier message (the same story, told already)."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO delivery_items (delivery_id, kind, name, item_id, rule_id)"
        " VALUES (?, ?, ?, ?, ?)",
        [(delivery_id, kind, name, item, rule) for item, rule in claims],
    )


def pending(db: sqlite_utils.Database) -> list[PendingDelivery]:
    """Every message reserved but not yet confirmed by Slack, oldest first."""
    rows = db.execute(
        "SELECT id, kind, name, message, attempts FROM deliveries WHERE state = 'pending' ORDER BY id"
    ).fetchall()
    return [PendingDelivery(r[0], r[1], r[2], Message.from_json(r[3]), r[4]) for r in rows]


LEASE = timedelta(minutes=10)  # a send still "under way" after this is taken as abandoned


def take(db: sqlite_utils.Database, delivery_id: int, now: datetime) -> bool:
    """Lease a pending row for sending, recording the attempt first; False if another live
    process is sending it. After a crash the ledger shows a send may have been under way."""
    with claiming(db):  # BEGIN IMMEDIATE: two processes cannot both read "free" and take it
        row = db.execute(
            "SELECT state, sender, attempted_at FROM deliveries WHERE id = ?", [delivery_id]
        ).fetchone()
        if row is None or row[0] != "pending":
            return False
        sender, attempted_at = row[1], row[2]
        if (
            sender
            and sender != os.getpid()
            and attempted_at
            and now - from_db_time(attempted_at) < LEASE
            and _alive(sender)
        ):
            return False
        db.execute(
            """UPDATE deliveries SET attempts = attempts + 1, attempted_at = ?, sender = ?
               WHERE id = ?""",
            [to_db_time(now), os.getpid(), delivery_id],
        )
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_sent(
    db: sqlite_utils.Database, delivery_id: int, *, ts: str | None, destination: str, now: datetime
) -> None:
    with db.atomic():
        db.execute(
            """UPDATE deliveries SET state = 'sent', ts = ?, destination = ?, sent_at = ?,
                                     last_error = NULL, sender = NULL
               WHERE id = ?""",
            [ts, destination, to_db_time(now), delivery_id],
        )


def mark_failed(db: sqlite_utils.Database, delivery_id: int, error: str) -> None:
    """Keep the row pending (it is retried on the next run) and remember why it failed."""
    with db.atomic():
        db.execute(
            "UPDATE deliveries SET last_error = ?, sender = NULL WHERE id = ?", [error, delivery_id]
        )


def last_period_end(db: sqlite_utils.Database, kind: str, name: str) -> datetime | None:
    row = db.execute(
        "SELECT MAX(COALESCE(period_end, created_at)) FROM deliveries WHERE kind = ? AND name = ?",
        [kind, name],
    ).fetchone()
    return from_db_time(row[0]) if row and row[0] else None


def deliveries_of_item(db: sqlite_utils.Database, item_id: str) -> list[dict[str, Any]]:
    """The digests and alerts an item went out in (for `monitor show`)."""
    rows = db.execute(
        """SELECT d.id, d.kind, d.name, d.channel, d.state, d.ts, d.sent_at, di.rule_id
           FROM delivery_items di JOIN deliveries d ON d.id = di.delivery_id
           WHERE di.item_id = ? ORDER BY d.id""",
        [item_id],
    ).fetchall()
    keys = ("id", "kind", "name", "channel", "state", "ts", "sent_at", "rule_id")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def ledger(db: sqlite_utils.Database, limit: int = 50) -> list[dict[str, Any]]:
    """The latest deliveries, newest first (for status output)."""
    rows = db.execute(
        """SELECT id, kind, name, channel, part, parts, items, state, ts, attempts, last_error,
                  created_at, sent_at
           FROM deliveries ORDER BY id DESC LIMIT ?""",
        [limit],
    ).fetchall()
    keys = [
        "id",
        "kind",
        "name",
        "channel",
        "part",
        "parts",
        "items",
        "state",
        "ts",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    ]
    return [dict(zip(keys, r, strict=True)) for r in rows]


# --- feed health for the ops channel --------------------------------------------------------


@dataclass(frozen=True)
class FeedHealth:
    id: str
    name: str
    failing_since: datetime | None  # None: healthy
    last_error: str
    failures: int
    alerted_since: datetime | None  # when ops was told it is failing; None if not told


def feed_health(db: sqlite_utils.Database) -> list[FeedHealth]:
    rows = db.execute(
        """SELECT f.id, COALESCE(NULLIF(f.name, ''), f.id), f.error_since, f.last_error,
                  f.consecutive_failures, o.since
           FROM feeds f LEFT JOIN ops_alerts o ON o.feed_id = f.id AND o.state = 'failing'
           ORDER BY f.id"""
    ).fetchall()
    return [
        FeedHealth(
            id=r[0],
            name=r[1],
            failing_since=from_db_time(r[2]) if r[2] and r[4] else None,
            last_error=r[3] or "",
            failures=int(r[4] or 0),
            alerted_since=from_db_time(r[5]) if r[5] else None,
        )
        for r in rows
    ]


def set_ops_state(
    db: sqlite_utils.Database, feed_id: str, state: str, since: datetime | None, now: datetime
) -> None:
    """Remember what ops was told about a feed. Call inside ``claiming`` with the reservation."""
    db.conn.execute(
        """INSERT INTO ops_alerts (feed_id, state, since, changed_at) VALUES (?, ?, ?, ?)
           ON CONFLICT(feed_id) DO UPDATE SET state = excluded.state, since = excluded.since,
                                              changed_at = excluded.changed_at""",
        (feed_id, state, to_db_time(since) if since else None, to_db_time(now)),
    )
