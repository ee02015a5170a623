"""One writer thread per archive: every write of a poll cycle goes through it.

SQLite connections belong to the thread that made them and the archive has one writer, so
the event loop hands each feed's writes (a callable taking the database) to this thread.
Jobs that queue up while a transaction runs are committed together in the next one, which
batches many small feeds into few commits; each job runs in its own savepoint, so one
failing job rolls back alone and the others still commit.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from monitor.store import indexfill
from monitor.store.db import open_db

log = logging.getLogger(__name__)

T = TypeVar("T")
Database = sqlite_utils.Database  # for type hints outside monitor/store, which may not import it
_STOP = object()
MAX_BATCH = 64  # jobs per transaction: bounds how long readers wait on a big cold cycle


class ArchiveWriter:
    """Runs ``fn(db)`` jobs on a dedicated thread; ``close()`` commits what was queued."""

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = Path(db_path)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._ready: Future[None] = Future()
        self._thread = threading.Thread(target=self._run, name="archive-writer", daemon=True)
        self._thread.start()
        self._ready.result()  # re-raises StoreError from open_db in the caller

    def submit(self, fn: Callable[[Database], T]) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put((fn, future))
        return future

    async def run(self, fn: Callable[[Database], T]) -> T:
        """Submit from the event loop and await the committed result."""
        return await asyncio.wrap_future(self.submit(fn))

    def call(self, fn: Callable[[Database], T]) -> T:
        """Submit from any thread and wait for the committed result."""
        return self.submit(fn).result()

    def close(self) -> None:
        """Let every queued job commit, then close the connection."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

    def _run(self) -> None:
        try:
            db = open_db(self.db_path)
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that waits on it
            self._ready.set_exception(exc)
            return
        self._ready.set_result(None)
        backlog = True  # rows a writer before this one queued and did not index (a crash)
        try:
            stopping = False
            while not stopping:
                if backlog and self._queue.empty():
                    backlog = self._fill(db)  # idle: index what the jobs queued, a chunk
                    continue
                jobs = [self._queue.get()]
                while len(jobs) < MAX_BATCH:
                    try:
                        jobs.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                if any(job is _STOP for job in jobs):
                    stopping = True
                    jobs = [job for job in jobs if job is not _STOP]
                if jobs:
                    self._commit(db, jobs)
                    backlog = True
            while backlog:  # nothing waits for the lock now: bigger chunks cost less
                backlog = self._fill(db, indexfill.CLOSE_CHUNK)
        finally:
            db.close()

    def _fill(self, db: Database, limit: int = indexfill.FILL_CHUNK) -> bool:
        """Index one chunk of queued items; False when none is left (or filling failed:
        search still finds queued items, and the next writer tries again)."""
        try:
            with db.atomic():
                return indexfill.fill(db, limit) > 0
        except Exception as exc:  # noqa: BLE001 - the writes stand; only their index waits
            log.error("archive index fill failed (search still finds the items): %s", exc)
            return False

    def _commit(self, db: Database, jobs: list[Any]) -> None:
        results: list[tuple[Future[Any], bool, Any]] = []
        try:
            with db.atomic():
                indexfill.defer(db)  # items written here are indexed when the writer is idle
                for fn, future in jobs:
                    try:
                        with db.atomic():  # a savepoint: this job alone rolls back on error
                            results.append((future, True, fn(db)))
                    except Exception as exc:  # noqa: BLE001 - the job's caller gets it
                        results.append((future, False, exc))
                indexfill.undefer(db)
        except Exception as exc:  # noqa: BLE001 - the commit failed: every job in it is lost
            log.error("archive write failed: %s", exc)
            results = [(future, False, exc) for _, future in jobs]
        # resolve only after COMMIT, so awaiting a job means its rows are durable
        for future, ok, value in results:
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
