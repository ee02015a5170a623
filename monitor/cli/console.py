"""What poll, run, demo and feeds print on a terminal: consoles, the progress bar, the poll
summary as a table or JSON. A helper module: it defines no command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from monitor.pipeline.network import verdict
from monitor.pipeline.outcome import STATUS_WORDS

if TYPE_CHECKING:
    from monitor.pipeline.outcome import FeedOutcome, PollSummary
    from monitor.pipeline.outcome import Progress as ProgressFn


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
