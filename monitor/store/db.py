"""Open the archive: WAL, foreign keys, busy timeout, migrations applied."""

from __future__ import annotations

import fcntl
import os
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from monitor.errors import StoreError
from monitor.store.migrations import migrations

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


# Stored times are fixed-width text so they sort as they compare. strftime('%Y') does not
# pad years before 1000 ("999-01-01T…"), which both sorts after 2026 and fails to parse
# back, so the year is formatted by hand.
_DB_TIME = re.compile(r"(\d{1,4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z")


def to_db_time(dt: datetime) -> str:
    """A timezone-aware datetime as stored text; naive datetimes are taken as UTC."""
    if dt.tzinfo is not UTC:  # the reader's times are UTC already: nothing to convert
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        try:
            dt = dt.astimezone(UTC)
        except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
            dt = dt.replace(tzinfo=UTC)
    # %-formatting: 1.2 us against 2.7 for strftime and 2.1 for an f-string with format
    # specs, twice an item on the writer thread.
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (  # noqa: UP031
        dt.year,
        dt.month,
        dt.day,
        dt.hour,
        dt.minute,
        dt.second,
    )


def from_db_time(text: str) -> datetime:
    """Stored text back to a datetime; also reads rows written before years were padded."""
    found = _DB_TIME.fullmatch(text.strip())
    if found is None:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)  # raises ValueError
    year, month, day, hour, minute, second = (int(g) for g in found.groups())
    return datetime(max(year, 1), month, day, hour, minute, second, tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _apply_migrations(db: sqlite_utils.Database, path: Path) -> None:
    """Apply pending migrations while holding a lock, so two processes opening a brand-new
    archive at once do not both run the same step (the loser would fail half-way)."""
    lock_path = path.with_name(path.name + "-migrate.lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            migrations.apply(db)  # re-reads what is applied, now that we hold the lock
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


NOT_AN_ARCHIVE_HINT = (
    "--db (or MONITOR_DB) must name the archive `monitor poll` writes, e.g. data/monitor.db"
)


def _readonly_uri(path: Path) -> str:
    """``mode=ro``; also ``immutable=1`` where the folder is not writable, because a reader
    of a WAL archive must otherwise create its -shm file next to it (and fails). Nobody can
    change a file in a folder no one may write, so immutable costs nothing there."""
    uri = path.absolute().as_uri() + "?mode=ro"
    if not os.access(path.absolute().parent, os.W_OK):
        uri += "&immutable=1"
    return uri


def open_db(path: str | Path, *, readonly: bool = False) -> sqlite_utils.Database:
    """Open (creating if needed) the archive at ``path`` and bring its schema up to date.

    ``readonly`` opens an existing file without writing anything to it, for search, show,
    stats, export and the other reading commands; it works on a read-only file or folder.
    A file that is not an archive raises StoreError (one sentence, exit 2) here, not at the
    first query.
    """
    path = Path(path)
    try:
        if readonly:
            if not path.exists():
                raise StoreError(
                    f"no archive at {path}",
                    "run `monitor poll --once` (or `make demo`) first, or pass --db",
                )
            if path.is_dir():
                raise StoreError(f"{path} is a folder, not an archive", NOT_AN_ARCHIVE_HINT)
            conn = sqlite3.connect(_readonly_uri(path), uri=True, check_same_thread=False)
            db = sqlite_utils.Database(conn)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite_utils.Database(path)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=10000")
        if not readonly and migrations.pending(db):
            _apply_migrations(db, path)
        # Reading the schema is what tells a text file (or another program's database) apart.
        has_items = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'items'"
        ).fetchone()
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc):
            raise StoreError(
                f"{path} is not a monitor archive (SQLite says: {exc})", NOT_AN_ARCHIVE_HINT
            ) from None
        raise StoreError(
            f"cannot open archive {path}: {exc}",
            "check the file is a monitor database and not in use by another program",
        ) from None
    except OSError as exc:
        raise StoreError(f"cannot open archive {path}: {exc.strerror}") from None
    if not has_items:
        db.close()
        raise StoreError(
            f"{path} is an SQLite file but not a monitor archive (it has no items table)",
            NOT_AN_ARCHIVE_HINT,
        )
    return db
