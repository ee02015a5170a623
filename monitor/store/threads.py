"""Threaded digests in the delivery ledger: which row a reply belongs under, and its ts.

A parent and its replies are reserved in one transaction like any digest, so after a crash
either all or none exist. A reply goes out only after its parent has a ts (the parent is
sent first: rows go oldest first), into that thread; a parent already sent is never sent
again, so a crash between parent and replies leaves replies that the next run posts under
the parent that is already there.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlite_utils

from monitor.message import Message

WAIT = "wait"  # the parent is not sent yet: keep the reply pending


def link(db: sqlite_utils.Database, ids: Sequence[int], messages: Sequence[Message]) -> None:
    """After ``reserve``, in the same transaction: point each reply at the parent before it."""
    parent: int | None = None
    for delivery_id, message in zip(ids, messages, strict=True):
        if message.thread == "parent":
            parent = delivery_id
        elif message.thread == "reply" and parent is not None:
            db.conn.execute(
                "UPDATE deliveries SET thread_of = ? WHERE id = ?", [parent, delivery_id]
            )


def parent_ts(db: sqlite_utils.Database, delivery_id: int) -> str | None:
    """The ts to reply under; None for a message of its own (or whose parent has no ts, e.g.
    it went to the terminal or was set aside: then the reply goes top-level, never lost);
    WAIT while the parent is still pending."""
    row = db.execute(
        """SELECT p.state, p.ts FROM deliveries d JOIN deliveries p ON p.id = d.thread_of
           WHERE d.id = ?""",
        [delivery_id],
    ).fetchone()
    if row is None:
        return None
    state, ts = row
    if state == "pending":
        return WAIT
    return str(ts) if ts else None
