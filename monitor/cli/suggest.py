"""`monitor rules suggest`: archive items no rule matched but close to a rule's matches."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from monitor.cli.common import app
from monitor.cli.options import Duration
from monitor.config.rules import load_rules
from monitor.config.yamlsrc import did_you_mean
from monitor.errors import MonitorError
from monitor.store.db import open_db, utcnow

MAX_LIMIT = 1000


@click.command("suggest")
@click.argument("rule_id", metavar="RULE")
@click.option(
    "--since",
    type=Duration(),
    default="30d",
    show_default=True,
    help="Unmatched items first seen within this long.",
)
@click.option("--limit", type=click.IntRange(1, MAX_LIMIT), default=20, show_default=True)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='JSON Lines: {"id","title","url","similarity","nearest"}.',
)
@click.pass_context
def suggest_cmd(
    ctx: click.Context, rule_id: str, since: timedelta, limit: int, as_json: bool
) -> None:
    """Items no rule matched that are close to what RULE matched or readers marked
    relevant: what the rule may miss.

    Similarity is the cosine of multilingual sentence embeddings when the embed extra is
    installed (so a Japanese story close to the rule's English matches is found), else the
    share of title words in common. Each suggestion names the closest item the rule matched
    (or readers marked relevant); turn a good one into an example in the rule file or a
    new term.

    \b
    Example:
      monitor rules suggest tech-competition
      monitor rules suggest japan-korea --since 7d --limit 50
      monitor rules suggest critical-minerals --json | jq -r .title
    """
    from monitor.embed.suggest import suggest

    a = app(ctx)
    book = load_rules(a.rules_path)
    known = {r.id for r in book.rules}
    if rule_id not in known:
        raise MonitorError(
            f"no rule {rule_id!r} in {a.rules_path}",
            did_you_mean(rule_id, known) or "`monitor rules check` lists the rules",
        )
    path = a.db_path
    writable = path.exists() and os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    db = open_db(path, readonly=not writable)  # writable: vectors computed now are kept
    try:
        found = suggest(db, rule_id, since=utcnow() - since, limit=limit, keep=writable)
    finally:
        db.close()
    err = Console(stderr=True, highlight=False)
    for note in found.notes:
        err.print(Text(f"Note: {note}."))
    if as_json:
        for s in found.items:
            record = {
                "id": s.item.id,
                "title": s.item.title,
                "url": s.item.url,
                "similarity": s.similarity,
                "nearest": {"id": s.nearest.id, "title": s.nearest.title, "url": s.nearest.url},
            }
            click.echo(json.dumps(record, ensure_ascii=False))
        return
    if not found.matched:
        err.print(
            Text(f"{rule_id} has matched nothing in this archive yet: nothing to compare with.")
        )
        return
    if not found.items:
        err.print(
            Text(
                f"No unmatched item of the last {found.considered} is close to {rule_id}'s"
                f" {found.matched} matches (by {found.method})."
            )
        )
        return
    table = Table(title=f"Close to {rule_id} but matched by no rule (by {found.method})")
    table.add_column("similarity", justify="right")
    table.add_column("item")
    table.add_column("closest item of the rule")
    for s in found.items:
        table.add_row(
            f"{s.similarity:.2f}",
            Text(f"{s.item.title}\n{s.item.id}"),
            Text(s.nearest.title),
        )
    Console(highlight=False).print(table)


# a sub-command of `monitor rules`: monitor.cli adds it to that group
commands: list[click.Command] = [suggest_cmd]
