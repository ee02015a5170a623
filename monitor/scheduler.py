"""APScheduler wiring and nothing else: jobs in, timers out, clean stop on a signal.

What a job does and which jobs exist is decided by the caller: monitor.pipeline.daemon
builds `monitor run`'s list (one poll job per feed, the rules reload check, the digest and
alert jobs). Everything runs on one asyncio loop in UTC; a cron job names its
own timezone so "08:00 in Tokyo" survives daylight-saving changes elsewhere.

Defaults worth knowing (APScheduler 3.11): ``misfire_grace_time`` must go in
``job_defaults`` (its default is 1 s, which silently drops a job the loop was late for),
and ``shutdown()`` cancels running jobs, so on SIGINT/SIGTERM we pause, let the caller's
``drain`` finish in-flight work, and only then shut down.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}


@dataclass(frozen=True)
class JobSpec:
    """One recurring job: ``every`` seconds, or a crontab line in ``timezone``."""

    id: str
    func: Callable[[], Awaitable[object]]
    every: float | None = None
    cron: str | None = None
    timezone: str = "UTC"
    jitter: float = 0.0
    first_run: datetime | None = None  # None: one interval from now, or the next cron time

    def trigger(self) -> BaseTrigger:
        if self.cron is not None:
            return CronTrigger.from_crontab(self.cron, timezone=self.timezone)
        if self.every is None:
            raise ValueError(f"job {self.id} needs `every` or `cron`")
        return IntervalTrigger(seconds=self.every, timezone=UTC, jitter=int(self.jitter) or None)


def build_scheduler(jobs: Iterable[JobSpec]) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=UTC, job_defaults=dict(JOB_DEFAULTS))
    for spec in jobs:
        options: dict[str, object] = {}
        if spec.first_run is not None:
            options["next_run_time"] = spec.first_run
        scheduler.add_job(spec.func, spec.trigger(), id=spec.id, name=spec.id, **options)
    return scheduler


async def serve(
    jobs: Iterable[JobSpec],
    *,
    drain: Callable[[], Awaitable[None]],
    on_reload: Callable[[], Coroutine[Any, Any, None]] | None = None,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
) -> None:
    """Run ``jobs`` until SIGINT/SIGTERM (or ``stop`` is set), then stop cleanly.

    SIGHUP calls ``on_reload``. On stop: no new job starts, ``drain`` lets in-flight
    work commit, then the scheduler shuts down.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    scheduler = build_scheduler(jobs)
    reloads: set[asyncio.Task[None]] = set()

    def hangup() -> None:
        if on_reload is not None:
            task = loop.create_task(on_reload())
            reloads.add(task)
            task.add_done_callback(reloads.discard)

    installed: list[signal.Signals] = []
    if handle_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        loop.add_signal_handler(signal.SIGHUP, hangup)
        installed.append(signal.SIGHUP)
    scheduler.start()
    # "Ctrl-C stops" only once it is true: a SIGTERM before the handlers kills the process.
    stops = "; Ctrl-C stops" if handle_signals else ""
    log.info("scheduler started with %d jobs%s", len(scheduler.get_jobs()), stops)
    try:
        await stop.wait()
        log.info("stopping: waiting for work in flight to finish")
        scheduler.pause()
        await drain()
        if reloads:
            await asyncio.wait(reloads)
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # the shutdown is scheduled on the loop: let it run
        for sig in installed:
            loop.remove_signal_handler(sig)
    log.info("stopped")
