"""`monitor demo`: the whole pipeline, offline, on real feed snapshots shipped in the package."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table
from rich.text import Text

from monitor.cli.common import AppContext, app, workers_option
from monitor.cli.console import progress_bar, stdout_console, summary_table
from monitor.demo import ARTICLE_FEED, DEMO_FEEDS, demo_sources
from monitor.demo.server import SnapshotServer
from monitor.errors import ConfigError, MonitorError
from monitor.store.db import open_db
from monitor.store.items import count_by_feed, latest_items
from monitor.store.lock import ArchiveLock
from monitor.store.writer import Database

if TYPE_CHECKING:  # the pipeline pulls in httpx and feedparser: import on use
    from monitor.pipeline.outcome import PollSummary
    from monitor.pipeline.rules import Rules


def _fresh(db_path: Path) -> None:
    """Delete the demo archive and its WAL files: every demo starts from nothing."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def load_rules(rules_dir: Path) -> Rules | None:
    """The rule set, or None when there is no rules folder (polling still archives)."""
    from monitor.pipeline.rules import Rules

    if not rules_dir.is_dir():
        return None
    rules = Rules(rules_dir)
    try:
        rules.load()
    except ImportError:  # the rules engine is optional at this layer
        logging.getLogger("monitor.run").debug(
            "rules engine not installed; polling without matching"
        )
        return None
    return rules


def _rules(a: AppContext) -> tuple[Rules | None, str | None]:
    """The rules, or a sentence saying why the demo runs without them."""
    try:
        rules = load_rules(a.rules_path)
    except ConfigError as exc:
        return (
            None,
            f"rules in {a.rules_path} not loaded ({exc.message}; see `monitor rules check`)",
        )
    if rules is None:
        return None, f"no rules loaded from {a.rules_path}: items are stored but not matched"
    return rules, None


def print_stored(db: Database, summary: PollSummary) -> None:
    counts = count_by_feed(db)
    table = Table(title="Stored per feed", show_edge=False, pad_edge=False)
    table.add_column("Feed")
    table.add_column("Name")
    table.add_column("Items", justify="right")
    for f in (*DEMO_FEEDS, ARTICLE_FEED):
        table.add_row(Text(f.id), Text(f.name), str(counts.get(f.id, 0)))
    console = stdout_console()
    console.print(table)
    failed = [o for o in summary.outcomes if o.status == "failed"]
    if failed:
        console.print(summary_table(replace(summary, outcomes=failed)))
    console.print()
    latest = Table(title="Latest item of each feed", show_edge=False, pad_edge=False)
    latest.add_column("Published (UTC)", no_wrap=True)
    latest.add_column("Feed", no_wrap=True)
    latest.add_column("Title", overflow="ellipsis", no_wrap=True, max_width=100)
    for f in DEMO_FEEDS:
        for item in latest_items(db, limit=1, feed_ids=[f.id]):
            latest.add_row(f"{item.published:%Y-%m-%d %H:%M}", Text(item.feed_id), Text(item.title))
    console.print(latest)


def print_matches(db: Database, rules: Rules | None, note: str | None) -> None:
    console = stdout_console()
    console.print()
    if rules is None:
        click.echo(f"Matches: {note}")
        return
    rows = list(
        db.query(
            """SELECT m.rule_id, count(*) AS n,
                      (SELECT i.title FROM matches m2 JOIN items i ON i.id = m2.item_id
                       WHERE m2.rule_id = m.rule_id ORDER BY m2.score DESC, i.published DESC
                       LIMIT 1) AS top
               FROM matches m GROUP BY m.rule_id ORDER BY m.rule_id"""
        )
    )
    table = Table(title="Matches per rule", show_edge=False, pad_edge=False)
    table.add_column("Rule")
    table.add_column("Items", justify="right")
    table.add_column("Best match", overflow="ellipsis", no_wrap=True, max_width=100)
    for row in rows:
        table.add_row(Text(str(row["rule_id"])), str(row["n"]), Text(str(row["top"] or "")))
    if not rows:
        table.add_row("(none)", "0", "")
    console.print(table)
    print_body_matches(db, rules)


def print_body_matches(db: Database, rules: Rules) -> None:
    """Matches that only the article text made (full text, issue 15): the rule does not
    match the item's headline and summary alone."""
    from monitor.store.items import item_from_row
    from monitor.store.matches import hits_from_json

    matcher = rules.matcher
    if matcher is None:
        return
    found = []
    for row in db.query(
        """SELECT m.rule_id, m.hits, i.* FROM matches m JOIN items i ON i.id = m.item_id
           WHERE i.body_status = 'ok' ORDER BY m.rule_id, i.published DESC"""
    ):
        hits = hits_from_json(str(row["hits"]))
        if not any(h.field == "body" for h in hits):
            continue
        item = replace(item_from_row(row), body="")
        if all(m.rule_id != row["rule_id"] for m in matcher.match(item, None)):
            terms = dict.fromkeys(h.term for h in hits if h.field == "body")
            found.append((str(row["rule_id"]), item.id, item.title, ", ".join(terms)))
    if not found:
        return
    table = Table(title="Found only in the article text", show_edge=False, pad_edge=False)
    table.add_column("Rule")
    table.add_column("Item")
    table.add_column("Title", overflow="ellipsis", no_wrap=True, max_width=60)
    table.add_column("Terms in the article", overflow="ellipsis", no_wrap=True, max_width=50)
    for values in found:
        table.add_row(*(Text(v) for v in values))  # as text, never as markup
    console = stdout_console()
    console.print()
    console.print(table)


def print_digest(a: AppContext, db_path: Path, rules: Rules | None) -> None:
    """The digest the demo archive would produce: a preview, nothing claimed or sent."""
    from monitor.cli.digest_notes import print_preview

    click.echo()
    book = rules.book if rules is not None else None
    print_preview(a.settings_path, db_path, list(getattr(book, "rules", ())))


@click.command("demo")
@click.option(
    "--port",
    type=click.IntRange(0, 65_535),
    default=0,
    show_default=True,
    help="Port for the snapshot server on 127.0.0.1 (0: any free port).",
)
@click.option(
    "--db",
    "demo_db",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Demo archive; deleted and rebuilt on every run. Default: demo.db beside the "
    "archive (--db / MONITOR_DB), so data/demo.db, or /data/demo.db in the Docker image.",
)
@click.option(
    "--keep-serving", is_flag=True, help="Keep serving the snapshots after the demo, until Ctrl-C."
)
@workers_option
@click.pass_context
def demo_command(
    ctx: click.Context, port: int, demo_db: Path | None, keep_serving: bool, workers: int | None
) -> None:
    """Run the whole pipeline offline on real feed snapshots shipped with the monitor.

    Serves the snapshots on 127.0.0.1, polls them once into a fresh archive (the file
    given by --db is deleted first) with the same code as `monitor run`, then prints
    what was stored and what the rules in --rules matched. No network access needed.

    \b
    Example:
      monitor demo
      monitor demo --keep-serving --port 8765
      monitor --db data/demo.db search gallium
    """
    from monitor.pipeline.poll import poll_once

    a = app(ctx)
    # Beside the real archive, not in the working directory: that is where the user (or the
    # container's non-root user, whose /app is read-only) can write.
    demo_db = demo_db or a.db_path.parent / "demo.db"
    try:
        demo_db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MonitorError(
            f"cannot create the folder of the demo archive {demo_db}: {exc.strerror}",
            "pass --db with a writable place, e.g. monitor demo --db /tmp/demo.db",
        ) from None
    rules, note = _rules(a)
    try:
        server = SnapshotServer(port)
    except OSError as exc:
        raise MonitorError(
            f"cannot serve the demo feeds on 127.0.0.1:{port}: {exc.strerror}",
            "pass --port 0 to let the system choose a free port",
        ) from None
    with ArchiveLock(demo_db), server:
        _fresh(demo_db)
        sources = demo_sources(server.url)
        click.echo(
            f"Serving {len(DEMO_FEEDS)} real feed snapshots on http://127.0.0.1:{server.port}/ "
            f"(and one real article page for full text) and polling them into {demo_db} …"
        )
        with progress_bar(len(sources), "Polling") as progress:
            summary = poll_once(demo_db, sources, rules=rules, progress=progress, workers=workers)
        click.echo(summary.line())
        click.echo()
        if summary.matches:  # as after `monitor poll --once`: matched items get their vectors
            from monitor.embed.vectors import backfill_archive

            backfill_archive(demo_db, budget=summary.matches + 64)
        db = open_db(demo_db, readonly=True)
        try:
            print_stored(db, summary)
            print_matches(db, rules, note)
        finally:
            db.close()
        print_digest(a, demo_db, rules)
        click.echo(
            f"\nThe archive is in {demo_db}: pass `--db {demo_db}` to search, show or export it."
        )
        if keep_serving:
            click.echo(f"Serving on http://127.0.0.1:{server.port}/ until Ctrl-C:")
            for source in sources:
                click.echo(f"  {source.url}")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass


commands: list[click.Command] = [demo_command]
