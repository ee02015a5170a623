"""`monitor digest`: send a digest now, or preview exactly what Slack would receive."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click

from monitor.cli.common import AppContext, app
from monitor.cli.digest_notes import backlog_notes, destination, finish
from monitor.cli.options import Duration
from monitor.config.rules import load_rules
from monitor.config.settings import Settings, load_settings, slack_credentials_from_env
from monitor.deliver import deliverer_for
from monitor.deliver.console import print_message
from monitor.model import Rule
from monitor.pipeline.outbox import draft_digest, send_digest
from monitor.store import backlog
from monitor.store.db import open_db
from monitor.store.writer import Database

NAME = click.option(
    "--name", metavar="NAME", help="Digest name from monitor.yaml (default: the first)."
)
SINCE = click.option(
    "--since",
    type=Duration(),
    help="Only items first seen within this long, e.g. 24h or 7d (default: all undelivered).",
)


def _load(a: AppContext) -> tuple[Settings, list[Rule]]:
    settings = load_settings(a.settings_path)
    return settings, list(load_rules(a.rules_path).rules)


def _open_existing(path: Path) -> Database:
    # A preview must not create an empty archive; open_db(readonly) explains what to do.
    return open_db(path, readonly=not path.exists())


@click.group("digest", invoke_without_command=True)
@NAME
@click.option("--dry-run", is_flag=True, help="Show what would be posted; claim and send nothing.")
@SINCE
@click.pass_context
def digest_group(
    ctx: click.Context, name: str | None, dry_run: bool, since: timedelta | None
) -> None:
    """Send one digest now: to Slack with SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL, else print it.

    Every match goes out once: what earlier digests delivered is skipped, and messages left
    pending by an outage or a crash are sent first. Exit code 1 when Slack could not be
    reached (the messages stay pending and are retried) or refused a message for good (it
    is set aside, the others go out: see `monitor digest status`), 2 for a setup problem.

    \b
    Example:
      monitor digest                      # the first digest in monitor.yaml, now
      monitor digest --name daily --dry-run
      monitor digest --since 24h
      monitor digest preview --json
      monitor digest status
    """
    if ctx.invoked_subcommand is not None:
        return
    a = app(ctx)
    settings, rules = _load(a)
    if dry_run:
        _print_text(a, settings, rules, name, since)
        click.echo("Dry run: nothing was claimed or sent.", err=True)
        return
    credentials = slack_credentials_from_env()
    deliverer = deliverer_for(credentials)
    spec = settings.digest(name)
    db = open_db(a.db_path)
    earlier = [w.id for w in backlog.waiting(db, ("failed",))]
    report = send_digest(db, settings, rules, deliverer, name=spec.name, since=since)
    for note in backlog_notes(db, only_failed=earlier):
        click.echo(note, err=True)
    finish(report, f"{spec.name} digest", deliverer.name)


def _print_text(
    a: AppContext, settings: Settings, rules: list[Rule], name: str | None, since: timedelta | None
) -> None:
    db = _open_existing(a.db_path)
    draft = draft_digest(db, settings, rules, name=name, since=since, destination=destination())
    notes = backlog_notes(db)
    if not draft.messages:
        click.echo(f"{draft.spec.name} digest: nothing new to send.")
    for message in draft.messages:
        print_message(message)
    for note in notes:
        click.echo(note)


@digest_group.command("preview")
@NAME
@click.option(
    "--json", "as_json", is_flag=True, help="Print the chat.postMessage payloads (Block Kit)."
)
@SINCE
@click.pass_context
def preview(ctx: click.Context, name: str | None, as_json: bool, since: timedelta | None) -> None:
    """Render the next digest as Slack would receive it; send and claim nothing.

    Shown for the terminal, or with --json as the exact chat.postMessage payloads. Below
    it: messages still waiting from earlier runs (pending, or set aside and why).

    \b
    Example:
      monitor digest preview
      monitor digest preview --name daily --json > payload.json
    """
    a = app(ctx)
    settings, rules = _load(a)
    if not as_json:
        _print_text(a, settings, rules, name, since)
        return
    from monitor.deliver.blocks import payload  # slack_sdk: imported only when needed

    db = _open_existing(a.db_path)
    draft = draft_digest(db, settings, rules, name=name, since=since, destination=destination())
    # "thread" (parent / reply) says how a threaded digest hangs together; "stories" what
    # each message tells, for scripts. Slack never sees either.
    out = [
        {**payload(m), **({"thread": m.thread} if m.thread else {}), "stories": draft.stories_of(m)}
        for m in draft.messages
    ]
    click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    for note in backlog_notes(db):
        click.echo(note, err=True)


commands: list[click.Command] = [digest_group]
