"""`monitor run` (the daemon) and `monitor poll --once` (one cycle): the same code path.

Both validate every configuration file first (exit 2 before anything is written), take the
archive lock, then hand over to monitor.pipeline; `run` adds the scheduler.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.cli.common import AppContext, app, workers_option
from monitor.cli.console import (
    STATUS_WORDS,
    progress_bar,
    stdout_console,
    summary_json,
    summary_table,
)
from monitor.config.check import check_all
from monitor.config.feeds import FeedsConfig, load_feeds
from monitor.errors import MonitorError
from monitor.model import FeedSource
from monitor.network import NetworkWatch, all_failed, verdict, when
from monitor.store.db import utcnow
from monitor.store.lock import ArchiveLock

if TYPE_CHECKING:  # the pipeline pulls in httpx, feedparser and APScheduler: import on use
    from monitor import scheduler
    from monitor.pipeline import FeedOutcome, Poller, Rules

log = logging.getLogger("monitor.run")

RULES_RELOAD_EVERY = 30  # seconds between checks of rules/ for edited files


# ── shared by run, poll and demo ─────────────────────────────────────────────────────────


def checked_config(a: AppContext) -> tuple[FeedsConfig, Rules | None]:
    """Every configuration problem at once, as ConfigError (exit 2), before any write; then
    the feeds and the rule set as the check loaded them: the rules compiled once, not again
    for polling (None when there is no rules folder, as ``load_rules``)."""
    from monitor.parse_worker import rule_files
    from monitor.pipeline import Rules

    files = rule_files(a.rules_path)  # before loading: the identity the workers check
    report = check_all(a)
    feeds = report.feeds if report.feeds is not None else load_feeds(a.feeds_path)
    if not a.rules_path.is_dir() or report.book is None:
        return feeds, None
    rules = Rules(a.rules_path)
    rules.adopt(report.book, files)
    return feeds, rules


def _select(feeds: FeedsConfig, ids: Sequence[str]) -> list[FeedSource]:
    if not ids:
        return list(feeds.enabled())
    return [feeds.get(feed_id) for feed_id in dict.fromkeys(ids)]  # unknown id: exit 2 + hint


# ── monitor poll ─────────────────────────────────────────────────────────────────────────


@click.command("poll")
@click.option("--once", is_flag=True, help="Run exactly one cycle, then exit (required).")
@click.option(
    "--feed",
    "feed_ids",
    multiple=True,
    metavar="ID",
    help="Only this feed (repeatable). Polls it even if disabled or backing off.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@workers_option
@click.pass_context
def poll_command(
    ctx: click.Context, once: bool, feed_ids: tuple[str, ...], as_json: bool, workers: int | None
) -> None:
    """Poll every enabled feed once: fetch, parse, store new items, match the rules.

    The same code path as `monitor run`, for one cycle. Disabled feeds are skipped and
    a Retry-After from a server is honoured; `--feed` polls the named feeds regardless.
    Exit status is 0 when the cycle ran, even if some feeds failed: the table says which
    and why, and `monitor feeds status` keeps the history. It is 1 when every feed polled
    failed, with one line saying whether the network looks down.

    \b
    Example:
      monitor poll --once
      monitor poll --once --feed japan-times --feed yonhap-en
      monitor poll --once --json | jq .new_items
    """
    if not once:
        raise MonitorError(
            "monitor poll needs --once",
            "run `monitor poll --once` for one cycle, or `monitor run` to poll on a schedule",
        )

    from monitor.pipeline import poll_once

    a = app(ctx)
    feeds, rules = checked_config(a)
    selected = _select(feeds, feed_ids)
    with ArchiveLock(a.db_path), progress_bar(len(selected), "Polling") as progress:
        summary = poll_once(
            a.db_path,
            selected,
            rules=rules,
            mode="forced" if feed_ids else "once",
            progress=progress,
            workers=workers,
        )
    said = verdict(summary.outcomes)
    if summary.matches:
        # After the cycle, not inside it: the cycle's speed never waits for the encoder.
        from monitor.embed.vectors import backfill_archive

        backfill_archive(a.db_path, budget=max(summary.matches, 0) + 64)
    if as_json:
        click.echo(summary_json(summary))
    else:
        if summary.outcomes:
            stdout_console().print(summary_table(summary))
        click.echo(summary.line())
        if said:
            click.echo(f"Warning: {said}", err=True)
    if all_failed(summary.outcomes):
        ctx.exit(1)  # a check failed: not one feed got through


# ── monitor run ──────────────────────────────────────────────────────────────────────────


def daemon_jobs(
    poller: Poller, feeds: Sequence[FeedSource], first_runs: dict[str, datetime]
) -> list[scheduler.JobSpec]:
    """Every recurring job of `monitor run`. Digest and alert jobs are appended here."""
    from monitor import scheduler

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

    jobs = scheduler.feed_jobs(feeds, poll, first_runs=first_runs)
    jobs.append(
        scheduler.JobSpec(id="rules:reload", func=poller.reload_rules, every=RULES_RELOAD_EVERY)
    )
    return jobs


EMBED_EVERY = 300  # seconds between background embedding passes in `monitor run`


def embed_job(db_path: Path) -> scheduler.JobSpec:
    """Embeds items without a vector (matched first), a bounded batch in a worker thread."""
    from monitor import scheduler
    from monitor.embed.vectors import backfill_archive

    async def run() -> int:
        return await asyncio.to_thread(backfill_archive, db_path)

    return scheduler.JobSpec(id="embed:backfill", func=run, every=EMBED_EVERY)


async def _daemon(
    a: AppContext, feeds: Sequence[FeedSource], rules: Rules | None, workers: int | None
) -> None:
    from monitor import scheduler
    from monitor.cli.digest import delivery_jobs
    from monitor.pipeline import Poller
    from monitor.store.feeds import load_states

    async with Poller(a.db_path, rules=rules, workers=workers) as poller:
        await poller.sync(feeds)
        await poller.record_rules_error()
        states = await poller.writer.run(load_states)
        now = utcnow()
        # A restart keeps each feed's schedule (and backoff) instead of polling all at once.
        first_runs = {
            f.id: max(now, states[f.id].blocked_until() or now) if f.id in states else now
            for f in feeds
        }

        async def hangup() -> None:
            await poller.reload_rules(force=True)

        log.info("polling %d feeds into %s", len(feeds), a.db_path)
        disabled = sorted(f.id for f in feeds if f.id in states and states[f.id].disabled_reason)
        if disabled:
            log.warning(
                "%d disabled feeds are skipped (see `monitor feeds status`): %s",
                len(disabled),
                ", ".join(disabled),
            )
        _log_waiting(feeds, first_runs, now, set(disabled))
        jobs = daemon_jobs(poller, feeds, first_runs) + delivery_jobs(a, rules)
        jobs.append(embed_job(a.db_path))
        await scheduler.serve(jobs, drain=poller.drain, on_reload=hangup)


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


@click.command("run")
@workers_option
@click.pass_context
def run_command(ctx: click.Context, workers: int | None) -> None:
    """Poll every enabled feed on its schedule until stopped.

    One job per feed at its interval (with jitter); failing feeds back off, up to six
    hours. Edited rules are picked up within 30 seconds, or at once on SIGHUP, but only
    when the whole set is valid; otherwise the last good set stays and `monitor feeds
    status` shows the error. Ctrl-C or SIGTERM lets writes in flight commit, then exits.
    Only one `monitor run` may use an archive at a time.

    \b
    Example:
      monitor run
      MONITOR_DB=/data/monitor.db monitor -v run
    """
    a = app(ctx)
    feeds, rules = checked_config(a)
    if a.verbose == 0:
        logging.getLogger("monitor").setLevel(logging.INFO)
    from monitor.cli.slack import app_beside_poller

    with ArchiveLock(a.db_path), app_beside_poller(a):
        asyncio.run(_daemon(a, feeds.enabled(), rules, workers))


commands: list[click.Command] = [poll_command, run_command]
