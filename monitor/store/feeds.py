"""Feed rows and their polling state: what to send next time, and how healthy each feed is.

The failure policy lives here because it is a rule about stored state: consecutive failures
back off exponentially (capped at six hours), a server's Retry-After is honoured, HTTP 410
disables a feed at once and a 404 that persists for more than three days disables it too.
A feed whose URL changes in feeds.yaml starts afresh (state cleared, re-enabled).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils

from monitor.errors import FailureKind, FetchKind
from monitor.model import FeedSource, FetchResult
from monitor.store.db import from_db_time, to_db_time

MAX_BACKOFF = timedelta(hours=6)
MAX_RETRY_AFTER = timedelta(hours=24)  # a server asking for longer is ignored beyond this
NOT_FOUND_GRACE = timedelta(days=3)

GONE_REASON = "the server says the feed is gone (HTTP 410)"
NOT_FOUND_REASON = "not found (HTTP 404) for more than 3 days"
RULES_ERROR_KEY = "rules_error"  # state key: the last failed rules reload, for `feeds status`


@dataclass(frozen=True)
class FeedState:
    """One row of the feeds table, times as aware datetimes."""

    id: str
    name: str = ""
    url: str = ""
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_kind: str | None = None
    error_since: datetime | None = None
    consecutive_failures: int = 0
    retry_after_until: datetime | None = None
    next_poll_at: datetime | None = None
    disabled_reason: str | None = None
    warnings: tuple[str, ...] = ()
    not_found_since: datetime | None = None

    def blocked_until(self) -> datetime | None:
        """The earliest time a scheduled poll may run (backoff or Retry-After), if later."""
        times = [t for t in (self.next_poll_at, self.retry_after_until) if t is not None]
        return max(times) if times else None


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def _time(value: object) -> datetime | None:
    return from_db_time(str(value)) if value else None


def _text(value: datetime | None) -> str | None:
    return to_db_time(value) if value is not None else None


def _state(row: dict[str, object]) -> FeedState:
    warnings = row.get("warnings")
    failures = row.get("consecutive_failures")
    return FeedState(
        id=str(row["id"]),
        name=str(row.get("name") or ""),
        url=str(row.get("url") or ""),
        etag=_str(row.get("etag")),
        last_modified=_str(row.get("last_modified")),
        body_hash=_str(row.get("body_hash")),
        last_polled_at=_time(row.get("last_polled_at")),
        last_success_at=_time(row.get("last_success_at")),
        last_error=_str(row.get("last_error")),
        last_error_kind=_str(row.get("last_error_kind")),
        error_since=_time(row.get("error_since")),
        consecutive_failures=int(failures) if isinstance(failures, int) else 0,
        retry_after_until=_time(row.get("retry_after_until")),
        next_poll_at=_time(row.get("next_poll_at")),
        disabled_reason=_str(row.get("disabled_reason")),
        warnings=tuple(json.loads(warnings)) if isinstance(warnings, str) and warnings else (),
        not_found_since=_time(row.get("not_found_since")),
    )


def sync_feeds(db: sqlite_utils.Database, sources: Iterable[FeedSource]) -> None:
    """Make a row for every configured feed and copy its descriptive fields.

    Rows of feeds no longer configured are kept: their items still point at them.
    A changed URL clears the conditional-GET state and any disabled reason.
    """
    sources = list(sources)
    existing = {
        r[0]: list(r[1:])
        for r in db.execute("SELECT id, name, url, kind, country, lang FROM feeds").fetchall()
    }
    with db.atomic():
        for s in sources:
            # A feed configured without a name keeps the one learned from its title.
            name = s.name or (existing[s.id][0] if s.id in existing else "")
            fields = [name, s.url, s.kind, s.country, s.lang]
            if s.id not in existing:
                db.execute(
                    "INSERT INTO feeds (id, name, url, kind, country, lang) VALUES (?,?,?,?,?,?)",
                    [s.id, *fields],
                )
            elif existing[s.id] == fields:
                continue  # nothing to write: a steady cycle should not rewrite every row
            elif existing[s.id][1] != s.url:
                db.execute(
                    """UPDATE feeds SET name=?, url=?, kind=?, country=?, lang=?,
                       etag=NULL, last_modified=NULL, body_hash=NULL, last_error=NULL,
                       last_error_kind=NULL, error_since=NULL, consecutive_failures=0,
                       retry_after_until=NULL, next_poll_at=NULL, disabled_reason=NULL,
                       not_found_since=NULL WHERE id=?""",
                    [*fields, s.id],
                )
            else:
                db.execute(
                    "UPDATE feeds SET name=?, url=?, kind=?, country=?, lang=? WHERE id=?",
                    [*fields, s.id],
                )
    _sync_weights(db, sources)


def _sync_weights(db: sqlite_utils.Database, sources: Iterable[FeedSource]) -> None:
    """feeds.yaml's ``weight:`` (for ranking; migration 0501). Written apart from the other
    fields so that an archive older than the column (a test's partial schema) still syncs."""
    if "weight" not in {c.name for c in db["feeds"].columns}:
        return
    stored = dict(db.execute("SELECT id, weight FROM feeds").fetchall())
    changes = [(s.weight, s.id) for s in sources if s.id in stored and stored[s.id] != s.weight]
    if changes:
        with db.atomic():
            db.conn.executemany("UPDATE feeds SET weight = ? WHERE id = ?", changes)


def load_states(db: sqlite_utils.Database) -> dict[str, FeedState]:
    return {str(r["id"]): _state(r) for r in db.query("SELECT * FROM feeds")}


def load_state(db: sqlite_utils.Database, feed_id: str) -> FeedState | None:
    rows = list(db.query("SELECT * FROM feeds WHERE id = ?", [feed_id]))
    return _state(rows[0]) if rows else None


def record_success(
    db: sqlite_utils.Database,
    feed_id: str,
    result: FetchResult,
    *,
    now: datetime,
    interval: int,
    warnings: Iterable[str] = (),
) -> None:
    """A fetch that returned a feed (or 304, or the same body): the feed is healthy again.

    On 304 the server may omit validators; the stored ones are kept then.
    """
    db.execute(
        """UPDATE feeds SET
             etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified),
             body_hash = COALESCE(?, body_hash),
             last_polled_at = ?, last_success_at = ?, last_error = NULL, last_error_kind = NULL,
             error_since = NULL, consecutive_failures = 0, retry_after_until = NULL,
             next_poll_at = ?, disabled_reason = NULL, not_found_since = NULL,
             warnings = COALESCE(?, warnings)
           WHERE id = ?""",
        [
            result.etag,
            result.last_modified,
            result.body_hash,
            to_db_time(now),
            to_db_time(now),
            to_db_time(now + timedelta(seconds=interval)),
            json.dumps(list(warnings), ensure_ascii=False) if result.status == "ok" else None,
            feed_id,
        ],
    )


@dataclass(frozen=True)
class FailureUpdate:
    """The state after one more failure: computed purely, then written."""

    consecutive_failures: int
    error_since: datetime
    retry_after_until: datetime | None
    next_poll_at: datetime
    disabled_reason: str | None
    not_found_since: datetime | None


def backoff(failures: int, interval: int) -> timedelta:
    """Delay before the next try after ``failures`` consecutive failures (1, 2, …).

    The first failure waits one normal interval, each further one doubles it, up to six
    hours (or the feed's own interval when that is longer).
    """
    base = timedelta(seconds=max(interval, 60))
    delay = base * (1 << min(max(failures - 1, 0), 20))
    return max(min(delay, MAX_BACKOFF), timedelta(seconds=interval))


def after_failure(
    state: FeedState,
    *,
    kind: FailureKind,
    status: int | None,
    retry_after: float | None,
    now: datetime,
    interval: int,
) -> FailureUpdate:
    failures = state.consecutive_failures + 1
    next_poll = now + backoff(failures, interval)
    retry_until = None
    if retry_after is not None and retry_after > 0:
        retry_until = now + min(timedelta(seconds=retry_after), MAX_RETRY_AFTER)
        next_poll = max(next_poll, retry_until)
    not_found_since = (state.not_found_since or now) if status == 404 else None
    disabled = state.disabled_reason
    if kind == FetchKind.GONE or status == 410:
        disabled = GONE_REASON
    elif not_found_since is not None and now - not_found_since > NOT_FOUND_GRACE:
        disabled = NOT_FOUND_REASON
    return FailureUpdate(
        consecutive_failures=failures,
        error_since=state.error_since or now,
        retry_after_until=retry_until,
        next_poll_at=next_poll,
        disabled_reason=disabled,
        not_found_since=not_found_since,
    )


def record_failure(
    db: sqlite_utils.Database,
    feed_id: str,
    *,
    kind: FailureKind,
    message: str,
    status: int | None = None,
    retry_after: float | None = None,
    now: datetime,
    interval: int,
) -> FailureUpdate:
    """Store a failed poll in words and schedule the next try. Returns the new state."""
    state = load_state(db, feed_id) or FeedState(id=feed_id)
    update = after_failure(
        state, kind=kind, status=status, retry_after=retry_after, now=now, interval=interval
    )
    db.execute(
        """UPDATE feeds SET last_polled_at = ?, last_error = ?, last_error_kind = ?,
             error_since = ?, consecutive_failures = ?, retry_after_until = ?,
             next_poll_at = ?, disabled_reason = ?, not_found_since = ?
           WHERE id = ?""",
        [
            to_db_time(now),
            message,
            kind,
            to_db_time(update.error_since),
            update.consecutive_failures,
            _text(update.retry_after_until),
            to_db_time(update.next_poll_at),
            update.disabled_reason,
            _text(update.not_found_since),
            feed_id,
        ],
    )
    return update


def set_state_value(db: sqlite_utils.Database, key: str, value: str | None, now: datetime) -> None:
    """Record (or, with None, clear) a daemon fact such as the last rule reload error."""
    if value is None:
        db.execute("DELETE FROM state WHERE key = ?", [key])
    else:
        db.execute(
            """INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?)
               ON CONFLICT(key) DO UPDATE SET value = excluded.value,
                                              updated_at = excluded.updated_at""",
            [key, value, to_db_time(now)],
        )


def get_state_value(db: sqlite_utils.Database, key: str) -> tuple[str, datetime] | None:
    if "state" not in db.table_names():
        return None
    rows = list(db.query("SELECT value, updated_at FROM state WHERE key = ?", [key]))
    if not rows:
        return None
    return str(rows[0]["value"]), from_db_time(str(rows[0]["updated_at"]))


def learn_name(db: sqlite_utils.Database, feed_id: str, title: str) -> None:
    """Name a feed configured without one after its own title (first fetch that has one)."""
    title = " ".join(title.split())[:200]
    if title:
        db.execute("UPDATE feeds SET name = ? WHERE id = ? AND name = ''", [title, feed_id])
