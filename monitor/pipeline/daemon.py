"""`monitor run`: which jobs the daemon schedules, and its schedule kept across a restart.

    one poll job per feed (at its interval, jittered) ─► Poller.poll_feed
    rules:reload every 30 s (and SIGHUP)           ─► Poller.reload_rules
    one cron job per digest, alerts:check           ─► Dispatcher (delivery)
    embed:backfill every 5 minutes                  ─► monitor.embed.vectors

monitor.scheduler turns these ``JobSpec``s into timers; this module decides what they are.
A restart keeps each feed's schedule and back-off (``first_runs``) instead of polling every
feed at once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from monitor.config.settings import load_settings, slack_credentials_from_env
from monitor.deliver import deliverer_for
from monitor.model import FeedSource
from monitor.pipeline.dispatch import Dispatcher
from monitor.pipeline.network import NetworkWatch, when
from monitor.pipeline.outcome import STATUS_WORDS, FeedOutcome
from monitor.pipeline.poll import Poller
from monitor.pipeline.rules import Rules
from monitor.scheduler import JobSpec, serve
from monitor.store.db import utcnow
from monitor.store.feeds import FeedState, load_states

log = logging.getLogger("monitor.run")

RULES_RELOAD_EVERY = 30  # seconds between checks of rules/ for edited files
EMBED_EVERY = 300  # seconds between background embedding passes in `monitor run`
MAX_JITTER = 60.0  # seconds; spreads feeds that share an interval


# ── job specs ────────────────────────────────────────────────────────────────────────────


def feed_jobs(
    feeds: Iterable[FeedSource],
    poll: Callable[[FeedSource], Awaitable[object]],
    *,
    first_runs: Mapping[str, datetime] | None = None,
) -> list[JobSpec]:
    """One job per feed at its interval, jittered by a tenth of it (at most a minute)."""
    first_runs = first_runs or {}

    def job(feed: FeedSource) -> JobSpec:
        async def run() -> object:
            return await poll(feed)

        return JobSpec(
            id=f"poll:{feed.id}",
            func=run,
            every=feed.interval,
            jitter=min(MAX_JITTER, feed.interval / 10),
            first_run=first_runs.get(feed.id),
        )

    return [job(feed) for feed in feeds]


def digest_jobs(
    digests: Iterable[tuple[str, str]],
    timezone: str,
    send: Callable[[str], Awaitable[object]],
) -> list[JobSpec]:
    """One cron job per digest, ``(name, crontab)``, firing in ``timezone`` (DST-aware)."""

    def job(name: str, cron: str) -> JobSpec:
        async def run() -> object:
            return await send(name)

        return JobSpec(id=f"digest:{name}", func=run, cron=cron, timezone=timezone)

    return [job(name, cron) for name, cron in digests]


def alert_job(
    every: float, check: Callable[[], Awaitable[object]], *, first_run: datetime | None = None
) -> JobSpec:
    """The alert and feed-health check: every ``every`` seconds, so within one poll cycle.

    It also sends messages left pending by a crash or an outage, so start it at once
    (``first_run``) after a restart.
    """
    return JobSpec(id="alerts:check", func=check, every=every, first_run=first_run)


# ── the daemon's jobs ────────────────────────────────────────────────────────────────────


def poll_jobs(
    poller: Poller, feeds: Sequence[FeedSource], first_runs: dict[str, datetime]
) -> list[JobSpec]:
    """A poll job per feed, logging each outcome and the network's state, and the rules
    reload check."""
    watch = NetworkWatch(f.id for f in feeds)

    async def poll(feed: FeedSource) -> FeedOutcome:
        outcome = await poller.poll_feed(feed, mode="scheduled")
        change = watch.observe(feed.id, outcome.status, outcome.error_kind)
        if outcome.status != "skipped":
            log.log(
                logging.WARNING if outcome.status == "failed" else logging.INFO,
                "feed %s: %s, %d new, %d updated, %d matches%s",
                feed.id,
                STATUS_WORDS[outcome.status],
                outcome.new,
                outcome.updated,
                outcome.matches,
                f" ({outcome.error})" if outcome.error else "",
            )
        if change:
            log.warning("%s", change)
        return outcome

    jobs = feed_jobs(feeds, poll, first_runs=first_runs)
    jobs.append(JobSpec(id="rules:reload", func=poller.reload_rules, every=RULES_RELOAD_EVERY))
    return jobs


def delivery_jobs(settings_path: Path, db_path: Path, rules: Rules | None) -> list[JobSpec]:
    """The digest cron jobs and the alert/feed-health check for `monitor run`."""
    settings = load_settings(settings_path)
    credentials = slack_credentials_from_env()
    dispatcher = Dispatcher(db_path, settings, rules, deliverer_for(credentials))
    jobs = digest_jobs(
        [(d.name, d.schedule) for d in settings.digests], settings.timezone, dispatcher.digest
    )
    # Always scheduled, and at once: besides alerts and feed health it flushes messages a
    # crash or an outage left pending.
    jobs.append(alert_job(settings.alerts.check_every, dispatcher.alerts, first_run=utcnow()))
    return jobs


def embed_job(db_path: Path, stopping: threading.Event) -> JobSpec:
    """Embeds items without a vector (matched first), a bounded batch in a worker thread
    that gives up between batches once ``stopping`` is set: asyncio.run waits for its
    threads, so a pass still running would hold up the exit after SIGTERM."""
    from monitor.embed.vectors import backfill_archive

    async def run() -> int:
        return await asyncio.to_thread(backfill_archive, db_path, stopping=stopping.is_set)

    return JobSpec(id="embed:backfill", func=run, every=EMBED_EVERY)


# ── the daemon ───────────────────────────────────────────────────────────────────────────


def restored_schedule(
    feeds: Sequence[FeedSource], states: Mapping[str, FeedState], now: datetime
) -> dict[str, datetime]:
    """Each feed's first run after a (re)start: now, or when its back-off or a server's
    Retry-After ends."""
    return {
        f.id: max(now, states[f.id].blocked_until() or now) if f.id in states else now
        for f in feeds
    }


async def run(
    db_path: Path,
    settings_path: Path,
    feeds: Sequence[FeedSource],
    rules: Rules | None,
    workers: int | None,
) -> None:
    """Poll ``feeds`` and deliver on schedule until SIGINT/SIGTERM; SIGHUP reloads the rules."""
    async with Poller(db_path, rules=rules, workers=workers) as poller:
        await poller.sync(feeds)
        await poller.record_rules_error()
        states = await poller.writer.run(load_states)
        now = utcnow()
        first_runs = restored_schedule(feeds, states, now)

        async def hangup() -> None:
            await poller.reload_rules(force=True)

        log.info("polling %d feeds into %s", len(feeds), db_path)
        disabled = sorted(f.id for f in feeds if f.id in states and states[f.id].disabled_reason)
        if disabled:
            log.warning(
                "%d disabled feeds are skipped (see `monitor feeds status`): %s",
                len(disabled),
                ", ".join(disabled),
            )
        _log_waiting(feeds, first_runs, now, set(disabled))
        jobs = poll_jobs(poller, feeds, first_runs) + delivery_jobs(settings_path, db_path, rules)
        stopping = threading.Event()
        jobs.append(embed_job(db_path, stopping))

        async def drain() -> None:
            stopping.set()  # first, so an embedding pass ends while the poller drains
            await poller.drain()

        await serve(jobs, drain=drain, on_reload=hangup)


def _log_waiting(
    feeds: Sequence[FeedSource], first_runs: dict[str, datetime], now: datetime, disabled: set[str]
) -> None:
    """After a restart during back-off, say when each waiting feed is next tried."""
    waiting = sorted(
        (first_runs[f.id], f.id)
        for f in feeds
        if f.id not in disabled and first_runs.get(f.id, now) > now
    )
    if not waiting:
        return
    shown = ", ".join(f"{fid} at {when(at, now)}" for at, fid in waiting[:10])
    more = f", and {len(waiting) - 10} more" if len(waiting) > 10 else ""
    log.info(
        "%d feed%s backing off or asked to wait; next attempts: %s%s",
        len(waiting),
        "s are" if len(waiting) != 1 else " is",
        shown,
        more,
    )
