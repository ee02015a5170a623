"""`monitor serve`: Datasette over the archive, read-only (monitor.web builds its command)."""

from __future__ import annotations

import sys

import click

from monitor.cli.common import EXIT_CHECK_FAILED, app
from monitor.errors import MonitorError
from monitor.store.db import open_db


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535))
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Browse the archive in Datasette, read-only, with facets and saved queries.

    Needs the web extra: pip install '.[web]'. Binds to localhost unless --host says
    otherwise.

    \b
    Example:
      monitor serve
      monitor serve --port 8080
    """
    from monitor.web import datasette_command, remove_metadata, run_datasette, write_metadata

    actx = app(ctx)
    if not actx.db_path.exists():
        raise MonitorError(
            f"no archive at {actx.db_path}",
            "run `monitor poll --once` (or `make demo`) first, or pass --db",
        )
    open_db(actx.db_path, readonly=True).close()  # not an archive: one sentence, exit 2
    meta_path = write_metadata(actx.db_path)
    try:
        args = datasette_command(actx.db_path, host, port, meta_path)
        click.echo(
            f"Serving {actx.db_path} read-only at http://{host}:{port}/ (Ctrl-C stops)",
            err=True,
        )
        code = run_datasette(args)
    finally:
        remove_metadata(meta_path)
    if code not in (0, -2, -15):  # stopped by Ctrl-C or SIGTERM is a normal end
        sys.exit(code if code > 0 else EXIT_CHECK_FAILED)


commands: list[click.Command] = [serve]
