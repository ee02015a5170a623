"""Archive inspection and retention: show one item, statistics, prune, known ids."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from monitor.errors import MonitorError, StoreError
from monitor.names import closest
from monitor.store.db import to_db_time


def _did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    close = closest(word, choices)
    return f"did you mean {close!r}?" if close else None


def _tables(db: sqlite_utils.Database) -> set[str]:
    return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def feed_ids(db: sqlite_utils.Database) -> set[str]:
    return {r[0] for r in db.execute("SELECT id FROM feeds")}


def stored_rule_ids(db: sqlite_utils.Database) -> set[str]:
    return {r[0] for r in db.execute("SELECT DISTINCT rule_id FROM matches")}


def check_known(kind: str, given: Iterable[str], known: set[str]) -> None:
    """Raise for the first id not in ``known``, with the closest one as a hint."""
    for value in given:
        if value not in known:
            hint = _did_you_mean(value, known)
            if hint is None:
                listed = ", ".join(sorted(known)[:8]) or "none yet"
                hint = f"known {kind}s: {listed}"
            raise MonitorError(f"unknown {kind} {value!r}", hint)


# --- show -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemRecord:
    item: dict[str, Any]
    feed: dict[str, Any]
    matches: list[dict[str, Any]]
    deliveries: list[dict[str, Any]] = field(default_factory=list)


def find_item(db: sqlite_utils.Database, item_id: str) -> ItemRecord:
    """One stored item by id (or an unambiguous id prefix) with its feed, matches, deliveries."""
    rows = list(db.query("SELECT * FROM items WHERE id = ?", [item_id]))
    if not rows and len(item_id) >= 4:
        escaped = item_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = list(
            db.query(
                "SELECT * FROM items WHERE id LIKE ? ESCAPE '\\' LIMIT 2",
                [escaped + "%"],
            )
        )
        if len(rows) > 1:
            raise MonitorError(
                f"item id {item_id!r} is ambiguous", "give more characters of the id"
            )
    if not rows:
        raise MonitorError(
            f"no item {item_id!r} in the archive",
            "copy an id from `monitor search … --format json` or `monitor export`",
        )
    item = rows[0]
    item.pop("rowid", None)
    feed = next(iter(db.query("SELECT * FROM feeds WHERE id = ?", [item["feed_id"]])), {})
    matches = []
    for m in db.query(
        "SELECT rule_id, rule_version, score, hits, matched_at FROM matches"
        " WHERE item_id = ? ORDER BY score DESC, rule_id",
        [item["id"]],
    ):
        try:
            m["hits"] = json.loads(m["hits"] or "[]")
        except ValueError:
            m["hits"] = []
        matches.append(m)
    return ItemRecord(item, feed, matches, deliveries_of(db, item["id"]))


def deliveries_of(db: sqlite_utils.Database, item_id: str) -> list[dict[str, Any]]:
    """Rows of any delivery ledger table that names this item (empty until those exist).

    The ledger belongs to the Slack issue; look for it by shape (a table whose name
    mentions deliver with an ``item_id`` column) and join its parent row when there is one.
    """
    out: list[dict[str, Any]] = []
    tables = _tables(db)
    for table in sorted(t for t in tables if "deliver" in t):
        columns = {c.name for c in db.table(table).columns}
        if "item_id" not in columns:
            continue
        parent = next(
            (
                (fk.column, fk.other_table, fk.other_column)
                for fk in db.table(table).foreign_keys
                if fk.other_table != "items" and fk.other_table in tables
            ),
            None,
        )
        if parent:
            col, other, other_col = parent
            sql = (
                f"SELECT p.*, t.* FROM [{table}] t JOIN [{other}] p ON p.[{other_col}] = t.[{col}]"
                " WHERE t.item_id = ?"
            )
        else:
            sql = f"SELECT * FROM [{table}] WHERE item_id = ?"
        for row in db.query(sql, [item_id]):
            row.pop("item_id", None)
            out.append({"table": table, **row})
    return out


# --- stats ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    items: int
    matches: int
    oldest: str | None
    newest: str | None
    size_bytes: int
    per_feed: list[dict[str, Any]]
    per_rule: list[dict[str, Any]]
    per_day: list[dict[str, Any]]  # every calendar day from first_day to last_day, newest first
    first_day: str = ""
    last_day: str = ""


def archive_size(path: str | Path) -> int:
    """Bytes on disk: the database and its write-ahead log."""
    total = 0
    for suffix in ("", "-wal"):
        p = Path(str(path) + suffix)
        if p.exists():
            total += p.stat().st_size
    return total


def stats(
    db: sqlite_utils.Database, path: str | Path, *, days: int = 14, today: date | None = None
) -> Stats:
    items, oldest, newest = db.execute(
        "SELECT count(*), min(published), max(published) FROM items"
    ).fetchone()
    matches = db.execute("SELECT count(*) FROM matches").fetchone()[0]
    per_feed = list(
        db.query(
            "SELECT f.id AS feed, f.name, f.kind, f.country, count(i.id) AS items,"
            " max(i.published) AS latest FROM feeds f LEFT JOIN items i ON i.feed_id = f.id"
            " GROUP BY f.id ORDER BY items DESC, f.id"
        )
    )
    per_rule = list(
        db.query(
            "SELECT rule_id AS rule, count(*) AS matches, max(matched_at) AS latest"
            " FROM matches GROUP BY rule_id ORDER BY matches DESC, rule_id"
        )
    )
    first, last = _day_window(days, today)
    counted = {
        str(r[0]): (int(r[1]), int(r[2]))
        for r in db.execute(
            "SELECT substr(i.published, 1, 10) AS day, count(DISTINCT i.id),"
            " count(m.item_id) FROM items i LEFT JOIN matches m ON m.item_id = i.id"
            " WHERE i.published >= ? AND i.published < ? GROUP BY day",
            [first.isoformat(), (last + timedelta(days=1)).isoformat()],
        )
    }
    per_day = []
    for n in range(days):
        day = (last - timedelta(days=n)).isoformat()
        n_items, n_matches = counted.get(day, (0, 0))
        per_day.append({"day": day, "items": n_items, "matches": n_matches})
    return Stats(
        items,
        matches,
        oldest,
        newest,
        archive_size(path),
        per_feed,
        per_rule,
        per_day,
        first.isoformat(),
        last.isoformat(),
    )


def _day_window(days: int, today: date | None) -> tuple[date, date]:
    """The last ``days`` calendar days (UTC) up to and including today: real days, empty
    ones too, so "last 14 days" means the fortnight before now, not 14 days with items."""
    last = today or datetime.now(UTC).date()
    return last - timedelta(days=days - 1), last


# --- prune ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PruneReport:
    cutoff: str
    candidates: int  # items older than the cutoff
    kept: int  # of those, kept because matched or delivered
    deleted: int
    size_before: int
    size_after: int


def _delivered_item_sql(db: sqlite_utils.Database) -> list[str]:
    tables = _tables(db)
    return [
        f"SELECT item_id FROM [{t}]"
        for t in sorted(tables)
        if "deliver" in t and "item_id" in {c.name for c in db.table(t).columns}
    ]


def prune(
    db: sqlite_utils.Database,
    path: str | Path,
    older_than: datetime,
    *,
    dry_run: bool = False,
    include_matched: bool = False,
    batch: int = 5000,
) -> PruneReport:
    """Delete items published before ``older_than``, then VACUUM.

    Matched items are kept unless ``include_matched``; delivered items are always kept, so
    the delivery ledger never points at nothing.
    """
    cutoff = to_db_time(older_than)
    protect = _delivered_item_sql(db)
    if not include_matched:
        protect.append("SELECT item_id FROM matches")
    keep_sql = " UNION ".join(protect)
    old = db.execute("SELECT count(*) FROM items WHERE published < ?", [cutoff]).fetchone()[0]
    condition = "published < ?" + (f" AND id NOT IN ({keep_sql})" if keep_sql else "")
    doomed = db.execute(f"SELECT count(*) FROM items WHERE {condition}", [cutoff]).fetchone()[0]
    before = archive_size(path)
    if dry_run or not doomed:
        return PruneReport(cutoff, old, old - doomed, doomed, before, before)
    deleted = 0
    try:
        while True:
            # Small transactions: a running poller only waits for one batch at a time.
            with db.conn:
                cur = db.execute(
                    f"DELETE FROM items WHERE rowid IN"
                    f" (SELECT rowid FROM items WHERE {condition} LIMIT ?)",
                    [cutoff, batch],
                )
            deleted += cur.rowcount
            if cur.rowcount < batch:
                break
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError as exc:
        raise StoreError(
            f"prune stopped after deleting {deleted} items: {exc}",
            "another process is using the archive; run prune again later,"
            " or stop `monitor run` first",
        ) from None
    return PruneReport(cutoff, old, old - deleted, deleted, before, archive_size(path))
