"""Archive figures and retention: `monitor stats`, `monitor prune`."""

from __future__ import annotations

import json
from datetime import timedelta

import click

from monitor.cli.common import AppContext, app, open_archive
from monitor.cli.options import Duration
from monitor.config.settings import SpikeSpec, load_settings
from monitor.errors import ConfigError, MonitorError
from monitor.model import Volume
from monitor.store import archive as store_archive
from monitor.store.db import open_db, utcnow
from monitor.store.volumes import volumes
from monitor.store.writer import Database

# --- stats ------------------------------------------------------------------------------


@click.command()
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 3660))
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_context
def stats(ctx: click.Context, days: int, as_json: bool) -> None:
    """Archive figures: items per feed, matches per rule, items per day, size on disk.

    \b
    Example:
      monitor stats
      monitor stats --days 30 --json
    """
    actx = app(ctx)
    db = open_archive(actx)
    s = store_archive.stats(db, actx.db_path, days=days)
    hot = _volumes(actx, db)
    if as_json:
        out = {**s.__dict__, "volumes": [_volume_json(v, spec) for v, spec in hot]}
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    console.print(
        f"{s.items:,} items, {s.matches:,} matches, {_size(s.size_bytes)} on disk"
        + (f"; published {s.oldest[:10]} to {s.newest[:10]}" if s.oldest and s.newest else "")
    )
    day_title = f"Per day, {s.first_day} to {s.last_day} (last {days} days, UTC)"
    for title, rows, cols in (
        ("Items per feed", s.per_feed, ("feed", "kind", "country", "items", "latest")),
        ("Matches per rule", s.per_rule, ("rule", "matches", "latest")),
        (day_title, s.per_day, ("day", "items", "matches")),
    ):
        console.print(Text(title, style="italic"))  # above, not Table(title=): never wrapped
        table = Table()
        for col in cols:
            table.add_column(col, justify="right" if col in ("items", "matches") else "left")
        for row in rows:
            # Text: feed and rule ids are user text, never rich markup
            table.add_row(*(Text(str(row.get(c) if row.get(c) is not None else "-")) for c in cols))
        console.print(table)
    if hot:
        console.print(Text("Last 24 h against the trailing 14 days (spikes)", style="italic"))
        table = Table()
        for col in ("rule", "last 24 h", "usual day", "spread", "×", "spike"):
            table.add_column(col, justify="left" if col in ("rule", "spike") else "right")
        for v, spec in hot:
            flag = "yes" if v.is_spike(factor=spec.factor, minimum=spec.minimum) else ""
            if not v.history:
                flag = "no baseline yet"
            table.add_row(
                Text(v.rule_id),
                str(v.last_24h),
                f"{v.usual:g}",
                f"{v.spread:g}",
                f"{v.ratio:.1f}",
                flag,
            )
        console.print(table)
    if s.newest and s.newest[:10] < s.first_day:
        console.print(
            Text(
                f"No items in those {days} days: the newest was published {s.newest[:10]}"
                f" (monitor stats --days N looks further back)."
            )
        )


def _volumes(actx: AppContext, db: Database) -> list[tuple[Volume, SpikeSpec]]:
    """Each rule with matches: its last 24 h against its usual day, and the spike settings."""
    try:
        spec = load_settings(actx.settings_path).spikes
    except ConfigError:
        spec = SpikeSpec()  # stats must work with a broken monitor.yaml; `config check` says why
    rule_ids = [r for (r,) in db.execute("SELECT DISTINCT rule_id FROM matches ORDER BY rule_id")]
    found = volumes(db, rule_ids, utcnow())
    return [(found[r], spec) for r in rule_ids]


def _volume_json(v: Volume, spec: SpikeSpec) -> dict[str, object]:
    return {
        "rule": v.rule_id,
        "last_24h": v.last_24h,
        "usual": v.usual,
        "spread": v.spread,
        "ratio": round(v.ratio, 2),
        "spike": v.is_spike(factor=spec.factor, minimum=spec.minimum),
        "baseline": v.history,
    }


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


# --- prune ------------------------------------------------------------------------------


@click.command()
@click.option(
    "--older-than",
    "older_than",
    required=True,
    type=Duration("age", "an age like 365d, 12w or 48h"),
    help="Age, e.g. 365d.",
)
@click.option("--dry-run", is_flag=True, help="Count what would go; change nothing.")
@click.option(
    "--include-matched",
    is_flag=True,
    help="Also delete items that matched a rule (not delivered ones).",
)
@click.pass_context
def prune(ctx: click.Context, older_than: timedelta, dry_run: bool, include_matched: bool) -> None:
    """Delete items published longer ago than --older-than, then VACUUM.

    Items that matched a rule are kept unless --include-matched; items that went
    out in a digest or alert are always kept.

    \b
    Example:
      monitor prune --older-than 365d --dry-run
      monitor prune --older-than 180d --include-matched
    """
    actx = app(ctx)
    if not actx.db_path.exists():
        raise MonitorError(f"no archive at {actx.db_path}", "pass --db or set MONITOR_DB")
    db = open_db(actx.db_path)
    report = store_archive.prune(
        db,
        actx.db_path,
        utcnow() - older_than,
        dry_run=dry_run,
        include_matched=include_matched,
    )
    verb = "Would delete" if dry_run else "Deleted"
    click.echo(
        f"{verb} {report.deleted:,} of {report.candidates:,} items published before"
        f" {report.cutoff}; kept {report.kept:,} matched or delivered."
    )
    if not dry_run and report.deleted:
        click.echo(f"Archive {_size(report.size_before)} → {_size(report.size_after)}.")


commands: list[click.Command] = [stats, prune]
