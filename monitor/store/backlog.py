"""Messages that wait: pending ones, and ones set aside because Slack refused them for good.

A row of the delivery ledger (deliveries.py) is ``pending`` until Slack says ok (``sent``).
When Slack refuses *that message* for good (too long, malformed, an unknown error), it is set
aside as ``failed`` with its reason, so the rows behind it still go out. It keeps the matches
it carries (they are not delivered twice, nor lost): `monitor digest retry ID` makes it
pending again, `monitor digest drop ID` gives it up (``dropped``) and, unless told to discard
them, hands its matches back so the next digest or alert check renders them afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from monitor.errors import StoreError
from monitor.store.db import from_db_time, to_db_time
from monitor.store.deliveries import claiming

SET_ASIDE_REPORT = "set-aside-{id}"  # the ops ledger name of the report about a row


@dataclass(frozen=True)
class Waiting:
    """One pending or set-aside message, as `monitor digest status` shows it."""

    id: int
    kind: str
    name: str
    channel: str
    part: int
    parts: int
    items: int
    state: str
    attempts: int
    last_error: str
    created_at: datetime
    attempted_at: datetime | None

    @property
    def what(self) -> str:
        """ "daily digest (part 2/3)", "alert", "ops message"."""
        label = {"digest": f"{self.name} digest", "alert": "alert", "ops": "ops message"}
        text = label.get(self.kind, f"{self.kind} {self.name}")
        return text + (f" (part {self.part}/{self.parts})" if self.parts > 1 else "")

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "channel": self.channel,
            "part": self.part,
            "parts": self.parts,
            "items": self.items,
            "state": self.state,
            "attempts": self.attempts,
            "last_error": self.last_error or None,
            "created_at": to_db_time(self.created_at),
            "attempted_at": to_db_time(self.attempted_at) if self.attempted_at else None,
        }


_COLUMNS = """id, kind, name, channel, part, parts, items, state, attempts, last_error,
              created_at, attempted_at"""


def _waiting(row: tuple[Any, ...]) -> Waiting:
    return Waiting(
        id=row[0],
        kind=row[1],
        name=row[2],
        channel=row[3],
        part=row[4],
        parts=row[5],
        items=row[6],
        state=row[7],
        attempts=row[8],
        last_error=row[9] or "",
        created_at=from_db_time(row[10]),
        attempted_at=from_db_time(row[11]) if row[11] else None,
    )


def waiting(
    db: sqlite_utils.Database, states: tuple[str, ...] = ("pending", "failed")
) -> list[Waiting]:
    """Messages in ``states``, oldest first."""
    if not db["deliveries"].exists():  # a read-only archive from before delivery existed
        return []
    marks = ",".join("?" for _ in states)
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM deliveries WHERE state IN ({marks}) ORDER BY id", list(states)
    ).fetchall()
    return [_waiting(r) for r in rows]


def get(db: sqlite_utils.Database, delivery_id: int) -> Waiting | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM deliveries WHERE id = ?", [delivery_id]).fetchone()
    return _waiting(row) if row else None


@dataclass(frozen=True)
class LastSent:
    kind: str
    name: str  # the digest's name; "" for alerts and ops, which share one line each
    sent_at: datetime
    channel: str
    sent: int  # messages of this kind (and digest) confirmed so far


def last_sent(db: sqlite_utils.Database) -> list[LastSent]:
    """When each digest, and alerts and ops messages, last went out."""
    if not db["deliveries"].exists():
        return []
    rows = db.execute(
        """SELECT kind, CASE WHEN kind = 'digest' THEN name ELSE '' END AS what,
                  MAX(sent_at), COUNT(*),
                  (SELECT channel FROM deliveries d2 WHERE d2.state = 'sent' AND d2.kind = d.kind
                     AND (d.kind != 'digest' OR d2.name = d.name) ORDER BY d2.sent_at DESC LIMIT 1)
           FROM deliveries d WHERE state = 'sent'
           GROUP BY kind, what ORDER BY kind, what"""
    ).fetchall()
    return [LastSent(r[0], r[1], from_db_time(r[2]), r[4] or "", r[3]) for r in rows]


def set_aside(db: sqlite_utils.Database, delivery_id: int, reason: str) -> None:
    """Mark a row ``failed`` with its reason. Call inside ``claiming`` with the ops report."""
    db.conn.execute(
        "UPDATE deliveries SET state = 'failed', last_error = ?, sender = NULL WHERE id = ?",
        (reason, delivery_id),
    )


def reported(db: sqlite_utils.Database, delivery_id: int) -> bool:
    """Whether the ops channel was already given a report about this row."""
    row = db.execute(
        "SELECT 1 FROM deliveries WHERE kind = 'ops' AND name = ? LIMIT 1",
        [SET_ASIDE_REPORT.format(id=delivery_id)],
    ).fetchone()
    return row is not None


def _set_aside_row(db: sqlite_utils.Database, delivery_id: int) -> Waiting:
    found = get(db, delivery_id)
    if found is None:
        raise StoreError(
            f"there is no message {delivery_id} in the delivery ledger",
            "`monitor digest status` lists the messages that wait, with their ids",
        )
    if found.state != "failed":
        hint = {
            "pending": "it is pending and goes out on the next run (`monitor digest status` says"
            " what holds it back)",
            "sent": "it was sent",
            "dropped": "it was dropped",
        }.get(found.state, f"its state is {found.state}")
        raise StoreError(f"message {delivery_id} is not set aside: {hint}")
    return found


def retry(db: sqlite_utils.Database, delivery_id: int) -> Waiting:
    """Make a set-aside message pending again; it is sent on the next flush, in order."""
    with claiming(db):
        found = _set_aside_row(db, delivery_id)
        db.conn.execute(
            "UPDATE deliveries SET state = 'pending', sender = NULL WHERE id = ?", (delivery_id,)
        )
    return found


def drop(db: sqlite_utils.Database, delivery_id: int, *, discard: bool) -> int:
    """Give up a set-aside message. Its matches go back to be rendered afresh by the next
    digest or alert check, or with ``discard`` stay claimed, never delivered. Returns how
    many matches were handed back."""
    with claiming(db):
        _set_aside_row(db, delivery_id)
        released = 0
        if not discard:
            cur = db.conn.execute(
                "DELETE FROM delivery_items WHERE delivery_id = ?", (delivery_id,)
            )
            released = cur.rowcount
        db.conn.execute(
            "UPDATE deliveries SET state = 'dropped', sender = NULL WHERE id = ?", (delivery_id,)
        )
    return released
