"""What the digest commands (and `monitor demo`) say about deliveries: the outcome of a
send and its exit code, the messages that wait, a preview of the next digest. A helper
module: it defines no command."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

import click

from monitor.config.settings import load_settings, slack_credentials_from_env
from monitor.deliver.console import print_message
from monitor.errors import DeliveryError
from monitor.model import Rule
from monitor.pipeline.outbox import DeliveryReport, draft_digest
from monitor.store import backlog
from monitor.store.db import open_db
from monitor.store.writer import Database

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")  # Slack's text, on a terminal


def clean(text: str) -> str:
    return _CONTROL.sub(" ", text).strip()


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def finish(report: DeliveryReport, what: str, destination: str) -> None:
    """Say what was sent; raise the error that decides the exit code: 2 for a setup problem,
    1 when Slack could not be reached or refused a message (it was set aside)."""
    where = {"slack": "Slack", "webhook": "the Slack webhook", "console": "the terminal"}
    if report.reserved == 0 and report.sent == 0 and not report.errors:
        click.echo(f"{what}: nothing new to send.", err=True)
        return
    click.echo(
        f"{what}: {report.sent} message{'s' if report.sent != 1 else ''} sent to "
        f"{where.get(destination, destination)}"
        + (f", {report.pending} pending" if report.pending else "")
        + (f", {report.failed} set aside" if report.failed else "")
        + ".",
        err=True,
    )
    if not report.errors:
        return
    # The error a user must act on first: the setup, then an outage, then a refusal.
    rank = {"setup": 0, "transient": 1, "rejected": 2}
    error = min(reversed(report.errors), key=lambda e: rank[e.kind])
    failed = DeliveryError(error.message, kind=error.kind, hint=error.hint)
    failed.exit_code = 2 if error.kind == "setup" else 1
    if error.kind == "transient" and not error.hint:
        failed.hint = "the messages stay pending and are retried on the next run"
    if error.kind == "rejected":
        failed.message += " (set aside; the other messages went on)"
        failed.hint = "`monitor digest status` shows it; `monitor digest retry ID` resends it"
    raise failed


def destination() -> str:
    """Where `monitor digest` would post now, which decides a digest's layout."""
    credentials = slack_credentials_from_env()
    if credentials is None:
        return "console"
    return "slack" if credentials.kind == "web" else "webhook"


def backlog_notes(db: Database, *, only_failed: Collection[int] | None = None) -> list[str]:
    """Sentences about messages that wait, for `digest preview` and `--dry-run`; for
    `digest`, which reports its own run, only the messages set aside before (``only_failed``)."""
    rows = backlog.waiting(db)
    pending = [w for w in rows if w.state == "pending" and only_failed is None]
    failed = [
        w for w in rows if w.state == "failed" and (only_failed is None or w.id in only_failed)
    ]
    notes = []
    if pending:
        why = next((w.last_error for w in reversed(pending) if w.last_error), "")
        notes.append(
            f"{plural(len(pending), 'earlier message')} pending, sent first on the next run"
            + (f" (last error: {clean(why)})" if why else " (not tried yet)")
            + "."
        )
    for w in failed:
        notes.append(
            f"Set aside: message {w.id} ({w.what} → {clean(w.channel)}): {clean(w.last_error)}."
            f" `monitor digest retry {w.id}` resends it, `monitor digest drop {w.id}` gives it up."
        )
    return notes


def print_preview(settings_path: Path, db_path: Path, rules: list[Rule]) -> None:
    """What the first digest would post from this archive (for `monitor demo`)."""
    settings = load_settings(settings_path)
    db = open_db(db_path, readonly=True)
    try:
        draft = draft_digest(db, settings, rules, destination=destination())
    finally:
        db.close()
    where = "Slack" if slack_credentials_from_env() else "the terminal"
    click.echo(
        f"The {draft.spec.name} digest `monitor digest` would post to {where} now"
        " (preview: nothing sent):"
    )
    click.echo()
    if not draft.messages:
        click.echo("  (no matches to deliver)")
    for message in draft.messages:
        print_message(message)
