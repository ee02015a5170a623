"""`monitor feeds status`: the health of every feed, from the archive's feed state."""

from __future__ import annotations

import json
from datetime import datetime

import click
from rich.table import Table
from rich.text import Text

from monitor.cli.common import app
from monitor.cli.console import stdout_console
from monitor.config.feeds import load_feeds
from monitor.feed_health import FeedHealth, feed_health
from monitor.store.db import open_db, to_db_time, utcnow
from monitor.store.feeds import FeedState


def ago(when: datetime | None, now: datetime) -> str:
    """A short relative time: "just now", "5m ago", "in 2h", "3d ago"."""
    if when is None:
        return "never"
    seconds = int((when - now).total_seconds())
    future, seconds = seconds > 0, abs(seconds)
    if seconds < 60:
        return "now" if future else "just now"
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            amount = f"{seconds // size}{unit}"
            return f"in {amount}" if future else f"{amount} ago"
    raise AssertionError("unreachable")


OFF_REASON = "enabled: false in feeds.yaml"
NOT_LISTED_REASON = "no longer in feeds.yaml"


def reason(h: FeedHealth) -> str | None:
    """Why a feed is not being polled, in words; None when it is."""
    if h.status == "disabled" and h.state is not None:
        return h.state.disabled_reason
    if h.status == "off":
        return OFF_REASON
    if h.status == "not listed":
        return NOT_LISTED_REASON
    return None


def _next_poll(h: FeedHealth, now: datetime) -> str:
    if h.status == "disabled":
        return "never (disabled)"
    if h.status in ("off", "not listed") or h.state is None:
        return "never (off)" if h.status == "off" else ""
    return ago(h.state.blocked_until(), now)


def _time(value: datetime | None) -> str | None:
    return to_db_time(value) if value is not None else None


def _as_json(h: FeedHealth) -> dict[str, object]:
    s = h.state or FeedState(id=h.id)
    return {
        "id": h.id,
        "name": h.name,
        "status": h.status,
        "enabled": h.enabled,
        "items": h.items,
        "last_success": _time(s.last_success_at),
        "last_polled": _time(s.last_polled_at),
        "last_error": s.last_error,
        "last_error_kind": s.last_error_kind,
        "error_since": _time(s.error_since),
        "consecutive_failures": s.consecutive_failures,
        "next_poll": _time(s.next_poll_at),
        "retry_after_until": _time(s.retry_after_until),
        "disabled_reason": s.disabled_reason,
        "reason": reason(h),
        "warnings": list(s.warnings),
        "muted_until": _time(h.muted_until),
        "muted_by": h.muted_by or None,
    }


@click.group("feeds")
def feeds_group() -> None:
    """Inspect the configured feeds.

    \b
    Example:
      monitor feeds status
    """


@feeds_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def status_command(ctx: click.Context, as_json: bool) -> None:
    """Health of every feed: last success, last error, failures, items stored, next poll.

    Reads the archive written by `monitor run` or `monitor poll --once`. Status is one of:
    ok; failing (backing off, up to six hours between tries); disabled (HTTP 410, or 404
    for more than three days: next poll "never (disabled)", the reason listed below the
    table); never polled; off (`enabled: false` in feeds.yaml, listed below); not listed (in the archive, no longer in
    feeds.yaml). Feeds muted from Slack (kept out of digests for a while) are listed
    below the table. A rules reload that failed while `monitor run` was running is shown
    at the end.

    \b
    Example:
      monitor feeds status
      monitor feeds status --json | jq '.feeds[] | select(.status != "ok")'
    """
    a = app(ctx)
    config = load_feeds(a.feeds_path)
    db = open_db(a.db_path, readonly=True)
    now = utcnow()
    health, rules_error = feed_health(db, config, now)
    db.close()

    if as_json:
        doc = {
            "feeds": [_as_json(h) for h in health],
            "rules_error": (
                {"message": rules_error[0], "since": to_db_time(rules_error[1])}
                if rules_error
                else None
            ),
        }
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return

    stdout_console().print(_status_table(health, now))
    _print_notes(health, rules_error)


def _status_table(health: list[FeedHealth], now: datetime) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for column in ("Feed", "Status", "Last success", "Last error", "Failures", "Items"):
        table.add_column(column, justify="right" if column in ("Failures", "Items") else "left")
    table.add_column("Next poll")
    for h in health:
        s = h.state
        # Text, not str: rich would read "[link=…]" in a server's reason phrase as markup.
        table.add_row(
            Text(h.id),
            h.status,
            ago(s.last_success_at if s else None, now),
            Text((s.last_error or "") if s else ""),
            str(s.consecutive_failures if s else 0),
            str(h.items),
            _next_poll(h, now),
        )
    return table


def _print_notes(health: list[FeedHealth], rules_error: tuple[str, datetime] | None) -> None:
    """Below the table: disabled, off and muted feeds, and a failed rules reload."""
    disabled = [h for h in health if h.state and h.state.disabled_reason]
    if disabled:
        click.echo("\nDisabled feeds (fix the URL in feeds.yaml to re-enable):")
        for h in disabled:
            assert h.state is not None
            click.echo(f"  {h.id}: {h.state.disabled_reason}")
    off = [h for h in health if h.status == "off"]
    if off:
        click.echo("\nOff (enabled: false in feeds.yaml; set it to true to poll again):")
        for h in off:
            click.echo(f"  {h.id}: {h.name}")
    muted = [h for h in health if h.muted_until]
    if muted:
        click.echo("\nMuted from Slack (kept out of digests; `/monitor unmute FEED` ends it):")
        for h in muted:
            assert h.muted_until is not None
            by = f" by {h.muted_by}" if h.muted_by else ""
            click.echo(f"  {h.id}: until {to_db_time(h.muted_until)}{by}")
    if rules_error:
        click.echo(
            f"\nRules: the reload at {to_db_time(rules_error[1])} failed; "
            "the last good set stays in force:"
        )
        for line in rules_error[0].splitlines():
            click.echo(f"  {line}")


# `feeds import` and `feeds export` (OPML) are in feeds_opml.py; monitor.cli adds them here.
commands: list[click.Command] = [feeds_group]
