"""`monitor run` (the daemon) and `monitor poll --once` (one cycle): the same code path.

Both validate every configuration file first (exit 2 before anything is written), take the
archive lock, then hand over to monitor.pipeline (poll for one cycle, daemon for `run`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from monitor.cli.common import AppContext, app, workers_option
from monitor.cli.config_cmd import check_all
from monitor.config.feeds import FeedsConfig, load_feeds
from monitor.errors import MonitorError
from monitor.model import FeedSource
from monitor.pipeline.network import all_failed, verdict
from monitor.pipeline.outcome import STATUS_WORDS
from monitor.store.lock import ArchiveLock

if TYPE_CHECKING:  # the pipeline pulls in httpx, feedparser and APScheduler: import on use
    from monitor.pipeline.outcome import FeedOutcome, PollSummary
    from monitor.pipeline.outcome import Progress as ProgressFn
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


def load_rules(rules_dir: Path) -> Rules | None:
    """The rule set, or None when there is no rules folder (polling still archives)."""
    from monitor.pipeline.rules import Rules

    if not rules_dir.is_dir():
        return None
    rules = Rules(rules_dir)
    rules.load()
    return rules


def stderr_console() -> Console:
    return Console(stderr=True)


def stdout_console() -> Console:
    """Tables to stdout; wide when redirected, so a log or a pipe gets whole lines."""
    console = Console()
    return console if console.is_terminal else Console(width=200, soft_wrap=False)


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[ProgressFn | None]:
    """A rich progress bar on a terminal; nothing when stderr is a file or a pipe."""
    console = stderr_console()
    if not console.is_terminal or total == 0:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)

        def advance(outcome: FeedOutcome) -> None:
            bar.advance(task)

        yield advance


def summary_table(summary: PollSummary, names: dict[str, str] | None = None) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("Feed", no_wrap=True)
    table.add_column("Result")
    table.add_column("New", justify="right")
    table.add_column("Updated", justify="right")
    table.add_column("Matches", justify="right")
    table.add_column("Note", overflow="fold")
    for o in summary.outcomes:
        table.add_row(
            Text(o.feed_id),
            STATUS_WORDS[o.status] + (" (disabled)" if o.disabled else ""),
            str(o.new),
            str(o.updated),
            str(o.matches),
            Text(o.error or ""),  # server text: never read as rich markup
        )
    return table


def summary_json(summary: PollSummary) -> str:
    return json.dumps(
        {
            "feeds": len(summary.outcomes),
            "ok": summary.ok,
            "not_modified": summary.not_modified,
            "failed": summary.failed,
            "skipped": summary.skipped,
            "new_items": summary.new_items,
            "updated_items": summary.updated_items,
            "matches": summary.matches,
            "verdict": verdict(summary.outcomes),  # a sentence when every feed failed
            "outcomes": [
                {
                    "feed": o.feed_id,
                    "status": o.status,
                    "new": o.new,
                    "updated": o.updated,
                    "matches": o.matches,
                    "error": o.error,
                    "error_kind": o.error_kind,
                    "disabled": o.disabled,
                }
                for o in summary.outcomes
            ],
        },
        ensure_ascii=False,
        indent=2,
    )


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

    from monitor.pipeline.poll import poll_once

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
    from monitor.pipeline import daemon

    with ArchiveLock(a.db_path), app_beside_poller(a):
        asyncio.run(daemon.run(a.db_path, a.settings_path, feeds.enabled(), rules, workers))


commands: list[click.Command] = [poll_command, run_command]
