"""Article text of items (issue 15): what is waiting to be fetched, and the results.

An item of a full-text feed is stored with ``body_status = 'pending'``; the full-text
step (monitor.pipeline.fulltext) takes the oldest-first batch a feed's budget allows,
and stores the text or the reason there is none. A failure is retried on later cycles
until MAX_ATTEMPTS; the item itself (title, summary, matches) never waits for its body.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlite_utils

from monitor.model import Item
from monitor.store.db import to_db_time
from monitor.store.items import item_from_row

BodyStatus = Literal["pending", "ok", "fetch_error", "not_html", "empty"]
MAX_ATTEMPTS = 3  # a page that failed this often stays without a body
RETRIED: tuple[BodyStatus, ...] = ("fetch_error", "empty")  # not_html: it will not change

# What `monitor show` says for each status.
STATUS_WORDS: dict[str, str] = {
    "pending": "not fetched yet (waiting for the next poll)",
    "ok": "article text fetched",
    "fetch_error": "the article page could not be fetched",
    "not_html": "the link is not a web page (not HTML)",
    "empty": "the page had no article text to extract",
}


def describe_status(status: str | None, attempts: int = 0, error: str | None = None) -> str:
    """The body status in words, with the error and whether it will be tried again."""
    if status is None:
        return "not fetched (this feed does not use full text)"
    words = STATUS_WORDS.get(status, status)
    if error:
        words += f": {error}"
    if status in RETRIED:
        if attempts >= MAX_ATTEMPTS:
            words += f" (gave up after {attempts} attempts)"
        else:
            words += f" (attempt {attempts} of {MAX_ATTEMPTS}; tried again next poll)"
    return words


@dataclass(frozen=True)
class BodyTask:
    item: Item
    attempts: int


def mark_pending(db: sqlite_utils.Database, item_ids: Sequence[str]) -> None:
    """Items whose article page is to be fetched (new items of a full-text feed)."""
    for start in range(0, len(item_ids), 500):
        chunk = list(item_ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        db.execute(
            f"UPDATE items SET body_status = 'pending' WHERE id IN ({marks})"
            " AND body_status IS NULL AND url != ''",
            chunk,
        )


def pending(db: sqlite_utils.Database, feed_id: str, limit: int) -> list[BodyTask]:
    """Up to ``limit`` items of the feed to fetch now, newest first (the freshest news is
    what an analyst waits for). Called once per poll of the feed, so a failed page is
    tried again on the feed's next poll, not sooner."""
    if limit <= 0:
        return []
    rows = db.query(
        """SELECT * FROM items
           WHERE feed_id = ? AND body_status IN ('pending', 'fetch_error', 'empty')
             AND body_attempts < ?
           ORDER BY first_seen DESC, rowid DESC LIMIT ?""",
        [feed_id, MAX_ATTEMPTS, limit],
    )
    return [BodyTask(item_from_row(r), int(r["body_attempts"])) for r in rows]


def count_waiting(db: sqlite_utils.Database, feed_id: str) -> int:
    return int(
        db.execute(
            """SELECT count(*) FROM items WHERE feed_id = ?
               AND body_status IN ('pending', 'fetch_error', 'empty') AND body_attempts < ?""",
            [feed_id, MAX_ATTEMPTS],
        ).fetchone()[0]
    )


@dataclass(frozen=True)
class BodyResult:
    item_id: str
    status: BodyStatus
    text: str | None = None
    error: str | None = None


def save_bodies(db: sqlite_utils.Database, results: Iterable[BodyResult], now: datetime) -> None:
    """Store each result; a failure keeps any body stored before (there is none today)."""
    stamp = to_db_time(now)
    with db.atomic():
        for r in results:
            if r.status == "ok":
                db.execute(
                    """UPDATE items SET body = ?, body_status = 'ok', body_error = NULL,
                         body_attempts = body_attempts + 1, body_at = ? WHERE id = ?""",
                    [r.text, stamp, r.item_id],
                )
            else:
                db.execute(
                    """UPDATE items SET body_status = ?, body_error = ?,
                         body_attempts = body_attempts + 1, body_at = ? WHERE id = ?""",
                    [r.status, r.error, stamp, r.item_id],
                )


def items_with_bodies(db: sqlite_utils.Database, item_ids: Sequence[str]) -> list[Item]:
    """The stored items (monitor.model.Item, body included) of these ids."""
    out: list[Item] = []
    for start in range(0, len(item_ids), 500):
        chunk = list(item_ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        for row in db.query(f"SELECT * FROM items WHERE id IN ({marks})", chunk):
            out.append(item_from_row(row))
    return out
