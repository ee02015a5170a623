"""What every command shares: the app context, error rendering, exit codes."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from monitor.errors import ConfigError, MonitorError, QueryError

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2


@dataclass
class AppContext:
    """Paths chosen by global options; commands load what they need from them."""

    feeds_path: Path
    rules_path: Path
    settings_path: Path
    db_path: Path
    verbose: int = 0


def render_error(exc: MonitorError) -> str:
    """The exact text a user sees for an error (tests assert on it)."""
    if isinstance(exc, ConfigError):
        lines = [p.format() for p in exc.problems]
        lines.append(f"Error: {exc.message}")
        return "\n".join(lines)
    if isinstance(exc, QueryError):
        lines = [f"Error: {exc.message} (column {exc.column})", f"  {exc.query}"]
        lines.append("  " + " " * max(exc.column - 1, 0) + "^")
        if exc.hint:
            lines.append(f"Hint: {exc.hint}")
        return "\n".join(lines)
    text = f"Error: {exc.message}"
    if exc.hint:
        text += f"\nHint: {exc.hint}"
    return text


class MonitorGroup(click.Group):
    """Turns MonitorError raised anywhere below into its message and exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MonitorError as exc:
            click.echo(render_error(exc), err=True)
            sys.exit(exc.exit_code)
        except Exception as exc:
            # sqlite3 is imported only here, once an error is on its way: `monitor --help`
            # and `--version` do not pay for it.
            import sqlite3

            if not isinstance(exc, sqlite3.DatabaseError):
                raise
            # open_db answers the usual cases; this is the net for the rest (a read-only
            # archive a writing command meets, a file damaged after it was opened).
            obj = ctx.find_object(AppContext)
            where = f"the archive {obj.db_path}" if obj else "the archive"
            hint = (
                "the archive is read-only: run this command as its owner, or use a reading"
                " command (search, show, stats, export)"
                if "readonly" in str(exc)
                else "check --db names the archive `monitor poll` writes"
            )
            click.echo(render_error(MonitorError(f"cannot use {where}: {exc}", hint)), err=True)
            sys.exit(EXIT_BAD_INPUT)


def app(ctx: click.Context) -> AppContext:
    obj = ctx.find_object(AppContext)
    assert obj is not None, "the top-level group sets AppContext"
    return obj


def open_archive(ctx: AppContext) -> Any:
    """The archive, read-only: for the commands that only read it (search, show, stats)."""
    from monitor.store.db import open_db  # here: `monitor --help` loads no store module

    return open_db(ctx.db_path, readonly=True)


# Shared by poll, run and demo so the flag reads the same everywhere (sqlite-utils style).
workers_option = click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help="Parser processes (default: one per CPU; 0 parses in this process).",
)
