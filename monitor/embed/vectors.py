"""Vectors for items: stored ones read back, missing ones computed (within a budget) and kept.

Every item is embedded once: at digest or suggest time for what they need, and by
``backfill`` (after each poll cycle and every few minutes in `monitor run`) for the rest,
matched items first. The poll cycle itself never waits for the encoder.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.embed import model as encoder
from monitor.store import embeddings as stored
from monitor.store.db import open_db, utcnow
from monitor.store.writer import Database

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

ON_DEMAND_LIMIT = 2000  # items a digest or suggest embeds itself before using what is stored
BACKFILL_BUDGET = 256  # items per background pass: ~6 s of one core on a loaded machine
BATCH = 32  # items encoded between two looks at ``stopping``: a stop waits ~1 s, not a pass
UNMATCHED_HORIZON = timedelta(days=30)  # `rules suggest` looks back this far by default


def ensure(
    db: Database,
    items: Sequence[tuple[str, str]],
    *,
    limit: int = ON_DEMAND_LIMIT,
    keep: bool = True,
) -> dict[str, np.ndarray] | None:
    """Unit vectors for ``items`` ((id, title) pairs), or None without the encoder.

    Missing vectors are computed, at most ``limit`` of them (the rest are left out, with a
    log line); ``keep`` stores them unless the archive is read-only."""
    if not items or not encoder.available():
        return None
    blobs = stored.vectors(db, (i for i, _ in items), encoder.MODEL)
    todo = [(i, t) for i, t in dict(items).items() if i not in blobs]
    if len(todo) > limit:
        log.info(
            "embedding %d of %d items now; the rest wait for the background pass", limit, len(todo)
        )
        todo = todo[:limit]
    if todo:
        try:
            fresh = encoder.encode([encoder.text_of(t) for _, t in todo])
        except ImportError:
            return None
        new = list(zip((i for i, _ in todo), fresh, strict=True))
        blobs.update(new)
        if keep:
            _keep(db, new)
    ids = list(blobs)
    matrix = encoder.decode([blobs[i] for i in ids])
    return dict(zip(ids, matrix, strict=True))


def _keep(db: Database, rows: list[tuple[str, bytes]]) -> None:
    try:
        stored.save(db, rows, encoder.MODEL, utcnow())
    except sqlite3.OperationalError as exc:  # a read-only archive: use them, keep nothing
        log.debug("vectors not stored: %s", exc)


def backfill(
    db: Database,
    *,
    budget: int = BACKFILL_BUDGET,
    now: datetime | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> int:
    """Embed up to ``budget`` items that have no vector: matched ones first, then the rest
    of the last ``UNMATCHED_HORIZON``, ``BATCH`` at a time, each batch stored before the
    next; ``stopping()`` true ends it between batches (`monitor run` shutting down must not
    wait for a whole pass). Returns how many were stored (0 without the encoder)."""
    if budget <= 0 or not encoder.available() or not stored.has_table(db):
        return 0
    now = now or utcnow()
    todo = stored.missing(db, encoder.MODEL, matched=True, limit=budget)
    if len(todo) < budget:
        todo += stored.missing(
            db,
            encoder.MODEL,
            matched=False,
            limit=budget - len(todo),
            since=now - UNMATCHED_HORIZON,
        )
    done = 0
    for start in range(0, len(todo), BATCH):
        if stopping():
            break
        batch = todo[start : start + BATCH]
        try:
            fresh = encoder.encode([encoder.text_of(t) for _, t in batch])
        except ImportError:
            break
        done += stored.save(
            db, list(zip((i for i, _ in batch), fresh, strict=True)), encoder.MODEL, now
        )
    return done


def backfill_archive(
    db_path: str | Path,
    *,
    budget: int = BACKFILL_BUDGET,
    stopping: Callable[[], bool] = lambda: False,
) -> int:
    """``backfill`` on its own connection: for `monitor run`'s background job (a worker
    thread) and the end of `monitor poll --once`. Never raises: vectors are a nicety."""
    if not encoder.available():
        return 0
    try:
        db = open_db(db_path)
    except Exception as exc:  # noqa: BLE001 - a background pass never stops the daemon
        log.warning("embedding pass skipped: %s", exc)
        return 0
    try:
        done = backfill(db, budget=budget, stopping=stopping)
    except Exception:
        log.exception("embedding pass failed")
        return 0
    finally:
        db.close()
    if done:
        log.info("embedded %d items", done)
    return done
