"""`monitor digest status | retry ID | drop ID`: the messages that wait, and what to do with
those Slack refused for good (set aside; see monitor/store/backlog.py)."""

from __future__ import annotations

import json
from datetime import datetime

import click

from monitor.cli.common import app
from monitor.cli.digest_notes import clean, finish, plural
from monitor.config.settings import load_settings, slack_credentials_from_env
from monitor.deliver import deliverer_for
from monitor.store import backlog
from monitor.store.db import open_db


def _time(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M UTC") if dt else "never"


def _line(w: backlog.Waiting) -> str:
    items = f" · {plural(w.items, 'item')}" if w.items else ""
    tries = f" · {plural(w.attempts, 'attempt')}" if w.attempts else ""
    return f"  #{w.id:<5} {w.what} → {clean(w.channel)}{items} · since {_time(w.created_at)}{tries}"


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Messages that wait (pending, or set aside because Slack refused them) and when each
    digest, alerts and ops messages last went out.

    Pending messages go out on the next run, before anything new. A message Slack refused
    for good (too long, malformed, an unknown error) is set aside with its reason, so the
    others still flow: resend it with `monitor digest retry ID` or give it up with
    `monitor digest drop ID`.

    \b
    Example:
      monitor digest status
      monitor digest status --json | jq '.waiting[] | select(.state == "failed")'
    """
    db = open_db(app(ctx).db_path, readonly=True)
    try:
        rows, sent = backlog.waiting(db), backlog.last_sent(db)
    finally:
        db.close()
    if as_json:
        doc = {
            "waiting": [w.as_json() for w in rows],
            "last_sent": [
                {"kind": s.kind, "name": s.name or None, "channel": s.channel,
                 "sent_at": s.sent_at.isoformat(), "messages": s.sent}
                for s in sent
            ],
        }  # fmt: skip
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    pending = [w for w in rows if w.state == "pending"]
    failed = [w for w in rows if w.state == "failed"]
    if not rows:
        click.echo("Nothing waiting: every message was sent.")
    if pending:
        click.echo(f"Pending ({len(pending)}), sent first on the next run:")
        for w in pending:
            click.echo(_line(w))
            if w.last_error:
                click.echo(f"          last error: {clean(w.last_error)}")
    if failed:
        click.echo(f"Set aside ({len(failed)}): Slack refused these for good.")
        for w in failed:
            click.echo(_line(w))
            click.echo(f"          reason: {clean(w.last_error)}")
        click.echo("  `monitor digest retry ID` resends one; `monitor digest drop ID` gives it up.")
    click.echo("Last sent:" if sent else "Last sent: nothing yet.")
    for s in sent:
        what = {"digest": f"{s.name} digest", "alert": "alerts", "ops": "ops messages"}
        label = what.get(s.kind, s.kind)
        click.echo(
            f"  {label:<20} {_time(s.sent_at)} → {clean(s.channel)}"
            f" ({plural(s.sent, 'message')} in all)"
        )


def _describe(w: backlog.Waiting) -> str:
    return f"message {w.id} ({w.what} → {clean(w.channel)})"


@click.command("retry")
@click.argument("delivery_id", metavar="ID", type=int)
@click.pass_context
def retry(ctx: click.Context, delivery_id: int) -> None:
    """Resend a message that was set aside (Slack refused it); ID from `monitor digest status`.

    It becomes pending again and goes out now, with anything else pending, in order. If
    Slack refuses it again it is set aside again (the ops channel is not told twice).

    \b
    Example:
      monitor digest status
      monitor digest retry 12
    """
    from monitor.pipeline.outbox import flush_pending

    a = app(ctx)
    settings = load_settings(a.settings_path)
    deliverer = deliverer_for(slack_credentials_from_env())
    db = open_db(a.db_path)
    found = backlog.retry(db, delivery_id)
    click.echo(f"{_describe(found).capitalize()} is pending again.", err=True)
    report = flush_pending(db, deliverer, settings)
    finish(report, "retry", deliverer.name)


@click.command("drop")
@click.argument("delivery_id", metavar="ID", type=int)
@click.option(
    "--discard",
    is_flag=True,
    help="Give up its stories too: they count as handled and are never delivered.",
)
@click.pass_context
def drop(ctx: click.Context, delivery_id: int, discard: bool) -> None:
    """Give up a message that was set aside; ID from `monitor digest status`.

    Its stories are not lost: they go into the next digest (or alert check), rendered
    afresh. With --discard they count as handled and are never delivered.

    \b
    Example:
      monitor digest drop 12
      monitor digest drop 12 --discard
    """
    db = open_db(app(ctx).db_path)
    found = backlog.get(db, delivery_id)
    released = backlog.drop(db, delivery_id, discard=discard)
    assert found is not None  # drop() raised otherwise
    if discard:
        click.echo(f"Dropped {_describe(found)}; its stories will not be delivered.")
    else:
        later = "next digest" if found.kind == "digest" else "next check"
        click.echo(
            f"Dropped {_describe(found)}; its {released} match{'es' if released != 1 else ''}"
            f" go into the {later}."
        )


# sub-commands of `monitor digest`: monitor.cli adds them to that group
commands: list[click.Command] = [status, retry, drop]
