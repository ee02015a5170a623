"""`monitor run` (the daemon) and `monitor poll --once` (one cycle): the same code path.

Both validate every configuration file first (exit 2 before anything is written), take the
archive lock, then hand over to monitor.pipeline (poll for one cycle, daemon for `run`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from monitor.cli.common import AppContext, app, workers_option
from monitor.cli.console import progress_bar, stdout_console, summary_json, summary_table
from monitor.config.check import check_all
from monitor.config.feeds import FeedsConfig, load_feeds
from monitor.errors import MonitorError
from monitor.model import FeedSource
from monitor.pipeline.network import all_failed, verdict
from monitor.store.lock import ArchiveLock

if TYPE_CHECKING:  # the pipeline pulls in httpx, feedparser and APScheduler: import on use
    from pathlib import Path

    from monitor.pipeline.outcome import PollSummary
    from monitor.pipeline.rules import Rules


# ── shared by run, poll and demo ─────────────────────────────────────────────────────────


def checked_config(a: AppContext) -> tuple[FeedsConfig, Rules | None]:
    """Every configuration problem at once, as ConfigError (exit 2), before any write; then
    the feeds and the rule set as the check loaded them: the rules compiled once, not again
    for polling (None when there is no rules folder, as ``load_rules``)."""
    from monitor.pipeline.rules import Rules, rule_files

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

    # Parser processes will likely be wanted (unless the check fails or at most INLINE_UP_TO
    # feeds are selected, known only after it): their forkserver starts meanwhile, on the
    # idle CPU; unused, it exits with this process.
    if workers != 0:
        from monitor.pipeline.forkserver import start_early

        start_early()
    from monitor.pipeline.poll import poll_once

    a = app(ctx)
    feeds, rules = checked_config(a)
    selected = _select(feeds, feed_ids)
    # After the cycle, not inside it: the cycle's speed never waits for the encoder.
    embedding = _EmbedBeside(a.db_path)
    with ArchiveLock(a.db_path), progress_bar(len(selected), "Polling") as progress:
        summary = poll_once(
            a.db_path,
            selected,
            rules=rules,
            mode="forced" if feed_ids else "once",
            progress=progress,
            workers=workers,
            after_cycle=embedding.start,
        )
        embedding.wait()
    said = verdict(summary.outcomes)
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


class _EmbedBeside:
    """The embedding pass of a one-shot cycle, started as the Poller closes: the close indexes
    the cycle's items inside SQLite, which leaves a CPU free, and the pass (loading the
    encoder, then encoding the matched titles) has its own connection and waits for the
    writer's lock as `monitor run`'s background job does. The command waits for it at the
    end, so what it prints and its exit still come after every vector is stored."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.thread: threading.Thread | None = None

    def start(self, summary: PollSummary) -> None:
        if not summary.matches:
            return
        from monitor.embed.vectors import backfill_archive

        budget = summary.matches + 64
        self.thread = threading.Thread(
            target=backfill_archive, args=(self.db_path,), kwargs={"budget": budget},
            name="embedding-pass", daemon=True,
        )  # fmt: skip
        self.thread.start()

    def wait(self) -> None:
        if self.thread is not None:
            self.thread.join()


# ── monitor run ──────────────────────────────────────────────────────────────────────────


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
    from monitor.pipeline import daemon
    from monitor.slackapp.beside import app_beside_poller
    from monitor.slackapp.workbench import Paths

    paths = Paths(db=a.db_path, rules=a.rules_path, feeds=a.feeds_path)
    with ArchiveLock(a.db_path), app_beside_poller(paths):
        asyncio.run(daemon.run(a.db_path, a.settings_path, feeds.enabled(), rules, workers))


commands: list[click.Command] = [poll_command, run_command]
