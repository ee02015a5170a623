"""`monitor feedback export`: readers' Slack feedback as labelled items for `rules eval`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from monitor.cli.common import app


@click.group("feedback")
def feedback_group() -> None:
    """Readers' feedback from the Slack buttons, as data for the rules.

    \b
    Example:
      monitor feedback export -o labelled.jsonl
    """


@feedback_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file instead of standard output.",
)
@click.pass_context
def export_command(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """Every item readers labelled, one JSON object a line, in the format `monitor rules
    eval` reads: id, title, summary, url, published, lang, "labels" (rules marked relevant)
    and "not_labels" (rules marked not relevant), plus "judged" (who said what, when).

    Each reader's latest click counts; when readers disagree, the majority wins and a tie
    goes to the most recent click.

    \b
    Example:
      monitor feedback export -o labelled.jsonl
      monitor rules eval labelled.jsonl --errors
    """
    from monitor.store.db import open_db
    from monitor.store.feedback import labelled_rows

    db = open_db(app(ctx).db_path, readonly=True)
    out = output.open("w", encoding="utf-8") if output else sys.stdout
    count = 0
    try:
        if "feedback" in db.table_names():
            for row in labelled_rows(db):
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
    finally:
        db.close()
        if output:
            out.close()
    if output:
        click.echo(f"{count} labelled items written to {output}", err=True)


commands: list[click.Command] = [feedback_group]
