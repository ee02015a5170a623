"""Polling: the only module that knows the order of a feed's steps.

    fetch (asyncio, monitor.reader.fetch) ─► parse + normalise (worker processes)
        ─► store new / changed items ─► match them against the rules ─► save matches

``Poller`` holds what lives across cycles (fetcher, worker pool, writer thread, rules);
``poll_feed`` is one feed through every step and ``poll`` is one cycle over many feeds.
``monitor poll --once`` and the ``monitor run`` daemon both go through ``poll_feed``.

Parsing runs in a process pool (monitor.pipeline.parse_worker) because feedparser costs tens
of milliseconds a feed and, inside the event loop, stalls every fetch in flight. Writes go
through one writer thread (monitor.store.writer), a feed's items and its new state in one
transaction (monitor.pipeline.write), so a crash never leaves a feed marked as read without
its items. One feed's failure, of any kind, is recorded on it and never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType

from monitor.errors import FailureKind, FetchError, ParseKind
from monitor.model import FeedSource, FetchResult
from monitor.pipeline.fulltext import Budget, poll_bodies
from monitor.pipeline.outcome import FeedOutcome, Mode, PollSummary, Progress
from monitor.pipeline.parse_worker import MatchPlan, Parsed, parse_body
from monitor.pipeline.rules import Rules
from monitor.pipeline.workers import ParserPool
from monitor.pipeline.write import write_items
from monitor.reader.fetch import Fetcher
from monitor.store.db import utcnow
from monitor.store.feeds import (
    RULES_ERROR_KEY,
    FeedState,
    load_state,
    load_states,
    record_failure,
    record_success,
    sync_feeds,
)
from monitor.store.feeds import set_state_value as store_state_value
from monitor.store.writer import MAX_BATCH, ArchiveWriter

log = logging.getLogger("monitor.pipeline")  # the name `monitor run` has always logged as

INLINE_UP_TO = 2  # a cycle of this many feeds parses in-process unless workers are asked for
MAX_IN_FLIGHT = 200  # feeds being fetched or holding a fetched body at once
# Feeds parsed or waiting for the writer at once, a writer transaction's worth: the writer
# is a cold cycle's slower end, and every fetched feed's items used to wait for it in
# memory (1,000 bench feeds: monitor process 118 -> 110 MB peak RSS).
MAX_PARSED = MAX_BATCH


# ── the orchestrator ─────────────────────────────────────────────────────────────────────


def _skip_reason(state: FeedState | None, mode: Mode, now: datetime, slack: float) -> str | None:
    """Why a feed is not fetched now, or None. ``forced`` (an explicit --feed) always runs."""
    if state is None or mode == "forced":
        return None
    if state.disabled_reason:
        return f"disabled: {state.disabled_reason}"
    if state.retry_after_until and state.retry_after_until > now:
        return f"the server asked us to wait until {state.retry_after_until:%Y-%m-%d %H:%M} UTC"
    if (
        mode == "scheduled"
        and state.consecutive_failures
        and state.next_poll_at
        and state.next_poll_at > now + timedelta(seconds=slack)
    ):
        return (
            f"backing off after {state.consecutive_failures} failures;"
            f" next attempt at {state.next_poll_at:%Y-%m-%d %H:%M} UTC"
        )
    return None


class Poller:
    """Polls feeds into one archive. Use as ``async with Poller(db_path) as poller``."""

    def __init__(
        self,
        db_path: str | Path,
        *,
        rules: Rules | None = None,
        workers: int | None = None,
        fetcher: Fetcher | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        self.rules = rules
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self._fetcher = fetcher
        self._own_fetcher = fetcher is None
        self.parsers = ParserPool(self.workers, rules)
        self._writer: ArchiveWriter | None = None
        self._in_flight: set[asyncio.Task[object]] = set()
        self._limit = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._parsed_limit = asyncio.Semaphore(MAX_PARSED)
        self._closing = False
        self.stopping = asyncio.Event()  # set by drain: full-text reading ends at once
        # item id → content hash of each feed's items at its last write: what a worker
        # need not match again (a stale entry only moves matching back to the writer)
        self._stored: dict[str, dict[str, str]] = {}
        self.body_budget: Budget | None = None  # article pages left in this poll() cycle

    async def __aenter__(self) -> Poller:
        self._writer = await asyncio.to_thread(ArchiveWriter, self.db_path)
        self.parsers.start()  # the parser processes start while the first fetches run
        if self._fetcher is None:
            self._fetcher = Fetcher()
        if self._own_fetcher:
            await self._fetcher.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.drain()
        if self._own_fetcher and self._fetcher is not None:
            await self._fetcher.__aexit__(exc_type, exc, tb)
        await self.parsers.close()
        if self._writer is not None:
            await asyncio.to_thread(self._writer.close)

    @property
    def writer(self) -> ArchiveWriter:
        assert self._writer is not None, "use Poller inside `async with`"
        return self._writer

    def _match_plan(self, feed: FeedSource) -> MatchPlan | None:
        """Matching in the worker, when the worker can load the very same rule set."""
        rules = self.rules
        if self.workers <= 0 or rules is None or not rules.from_files or rules.book is None:
            return None
        assert rules.book_files is not None
        return MatchPlan(str(rules.rules_dir), rules.book_files, self._stored.get(feed.id, {}))

    async def _parse(
        self, feed: FeedSource, result: FetchResult, now: datetime, plan: MatchPlan | None
    ) -> Parsed:
        body = result.body or b""
        if self.workers <= 0:  # in-process, for tiny lists (tests, a single --feed)
            return await asyncio.to_thread(parse_body, feed, body, result.headers, result.url, now)
        crashed = Parsed(error_kind=ParseKind.INTERNAL, error="the parser process crashed")
        return await self.parsers.run(
            parse_body, feed, body, result.headers, result.url, now, plan, crashed=crashed
        )

    async def sync(self, feeds: Iterable[FeedSource]) -> None:
        """Give every configured feed a row before polling it."""
        sources = list(feeds)
        await self.writer.run(lambda db: sync_feeds(db, sources))

    async def record_rules_error(self) -> None:
        """Store (or clear) the rules reload error so `monitor feeds status` can show it."""
        error = self.rules.error if self.rules is not None else None
        await self.writer.run(lambda db: store_state_value(db, RULES_ERROR_KEY, error, utcnow()))

    async def reload_rules(self, *, force: bool = False) -> None:
        """Scheduled every 30 s and on SIGHUP; does nothing when no rule file changed."""
        if self.rules is None:
            return
        before = self.rules.error
        self.rules.reload(force=force)
        if self.rules.error != before:
            await self.record_rules_error()

    async def poll(
        self,
        feeds: Sequence[FeedSource],
        *,
        mode: Mode = "once",
        progress: Progress | None = None,
    ) -> PollSummary:
        """One cycle over ``feeds``, concurrently. Never raises for a single feed's trouble."""
        summary = PollSummary(started=utcnow())
        await self.sync(feeds)
        states = await self.writer.run(load_states)

        async def one(feed: FeedSource) -> FeedOutcome:
            outcome = await self.poll_feed(feed, mode=mode, state=states.get(feed.id))
            if progress is not None:
                progress(outcome)
            return outcome

        # full text: one budget shared by the cycle's feeds
        self.body_budget = Budget(stop=self.stopping)
        try:
            summary.outcomes = list(await asyncio.gather(*(one(f) for f in feeds)))
        finally:
            self.body_budget = None
        summary.finished = utcnow()
        return summary

    async def poll_feed(
        self, feed: FeedSource, *, mode: Mode = "scheduled", state: FeedState | None = None
    ) -> FeedOutcome:
        """One feed through every step. The daemon's job for each feed calls this."""
        if self._closing:
            return FeedOutcome(feed.id, "skipped", error="shutting down")
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            async with self._limit:
                return await self._poll_feed(feed, mode, state)
        except Exception as exc:  # a bug in one feed's path must not stop the others
            log.exception("feed %s: unexpected error", feed.id)
            message = f"unexpected error: {str(exc) or type(exc).__name__}"[:300]
            try:  # recorded like any failure: last error, back-off, ops alert
                return await self._failed(feed, ParseKind.INTERNAL, message)
            except Exception:
                log.exception("feed %s: the failure could not be recorded", feed.id)
                return FeedOutcome(feed.id, "failed", error=message, error_kind=ParseKind.INTERNAL)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def _poll_feed(
        self, feed: FeedSource, mode: Mode, state: FeedState | None
    ) -> FeedOutcome:
        if state is None:
            state = await self.writer.run(lambda db: load_state(db, feed.id))
            if state is None:
                await self.sync([feed])
        now = utcnow()
        skip = _skip_reason(state, mode, now, slack=min(60.0, feed.interval * 0.1))
        if skip is not None:
            return FeedOutcome(feed.id, "skipped", error=skip)
        assert self._fetcher is not None
        try:
            result = await self._fetcher.fetch(
                feed,
                etag=state.etag if state else None,
                last_modified=state.last_modified if state else None,
                body_hash=state.body_hash if state else None,
            )
        except FetchError as exc:
            return await self._failed(feed, exc.kind, exc.message, exc.status, exc.retry_after)
        now = utcnow()
        if result.status != "ok":
            await self.writer.run(
                lambda db: record_success(db, feed.id, result, now=now, interval=feed.interval)
            )
            await poll_bodies(self, feed)  # pages that failed last time are tried again
            return FeedOutcome(feed.id, result.status)
        async with self._parsed_limit:
            outcome, written = await self._parse_and_write(feed, result, now)
        if not written:
            return outcome
        bodies = await poll_bodies(self, feed)  # after the items are stored and matched
        return replace(outcome, matches=outcome.matches + bodies.matches)

    async def _parse_and_write(
        self, feed: FeedSource, result: FetchResult, now: datetime
    ) -> tuple[FeedOutcome, bool]:
        """The feed's outcome, and whether its items were written (not a parse failure)."""
        plan = self._match_plan(feed)
        book = self.rules.book if self.rules is not None else None
        parsed = await self._parse(feed, result, now, plan)
        if parsed.error is not None:
            kind = parsed.error_kind or ParseKind.INTERNAL
            return await self._failed(feed, kind, parsed.error), False
        matcher = self.rules.matcher if self.rules is not None else None
        # the worker's matches hold only if the rule set in force is still the one it used
        same_rules = self.rules is not None and self.rules.book is book
        matched = parsed.matches if plan is not None and same_rules else None
        outcome = await self.writer.run(
            lambda db: write_items(db, feed, result, parsed, matcher, now, matched)
        )
        self._stored[feed.id] = {item.id: item.content_hash for item in parsed.items}
        return outcome, True

    async def _failed(
        self,
        feed: FeedSource,
        kind: FailureKind,
        message: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> FeedOutcome:
        now = utcnow()
        update = await self.writer.run(
            lambda db: record_failure(
                db,
                feed.id,
                kind=kind,
                message=message,
                status=status,
                retry_after=retry_after,
                now=now,
                interval=feed.interval,
            )
        )
        # debug: `monitor run` logs each outcome once itself; `poll --once` prints a table
        log.debug("feed %s: %s", feed.id, message)
        return FeedOutcome(
            feed.id,
            "failed",
            error=message,
            error_kind=kind,
            disabled=update.disabled_reason is not None,
        )

    async def drain(self) -> None:
        """Refuse new feeds and wait for those in flight to commit (clean shutdown)."""
        self._closing = True
        self.stopping.set()  # article pages still loading are left for the next run
        current = asyncio.current_task()
        pending = [t for t in self._in_flight if t is not current]
        if pending:
            await asyncio.wait(pending)


# ── entry points ─────────────────────────────────────────────────────────────────────────


async def poll_all(
    db_path: str | Path,
    feeds: Sequence[FeedSource],
    *,
    rules: Rules | None = None,
    mode: Mode = "once",
    progress: Progress | None = None,
    workers: int | None = None,
    fetcher: Fetcher | None = None,
    after_cycle: Callable[[PollSummary], object] | None = None,
) -> PollSummary:
    """One cycle over ``feeds`` with a fresh Poller: `monitor poll --once` and the demo.
    ``after_cycle`` is called with the summary once every item is stored, before the close
    (which indexes the cycle's items): work to start beside that."""
    if workers is None and len(feeds) <= INLINE_UP_TO:
        workers = 0  # starting worker processes costs more than parsing a feed or two
    async with Poller(db_path, rules=rules, workers=workers, fetcher=fetcher) as poller:
        if rules is not None:
            await poller.record_rules_error()
        summary = await poller.poll(feeds, mode=mode, progress=progress)
        if after_cycle is not None:
            after_cycle(summary)
        return summary


def poll_once(
    db_path: str | Path,
    feeds: Sequence[FeedSource],
    *,
    rules: Rules | None = None,
    mode: Mode = "once",
    progress: Progress | None = None,
    workers: int | None = None,
    after_cycle: Callable[[PollSummary], object] | None = None,
) -> PollSummary:
    """Blocking wrapper around ``poll_all``."""
    return asyncio.run(
        poll_all(
            db_path,
            feeds,
            rules=rules,
            mode=mode,
            progress=progress,
            workers=workers,
            after_cycle=after_cycle,
        )
    )
