"""The ``monitor`` command. The only place an error becomes output and an exit code.

Each command group lives in its own module and exposes ``commands``: a list of click
commands added to the top-level group below.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from monitor import __version__
from monitor.cli import archive, config_cmd, demo, digest, feeds, poll, rules
from monitor.cli.common import AppContext, MonitorGroup

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=MonitorGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="monitor")
@click.option(
    "--feeds",
    "feeds_path",
    envvar="MONITOR_FEEDS",
    default="feeds.yaml",
    show_default=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Feed list (env MONITOR_FEEDS).",
)
@click.option(
    "--rules",
    "rules_path",
    envvar="MONITOR_RULES",
    default="rules",
    show_default=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder of watch rules (env MONITOR_RULES).",
)
@click.option(
    "--settings",
    "settings_path",
    envvar="MONITOR_SETTINGS",
    default="monitor.yaml",
    show_default=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Digest, alert and Slack settings (env MONITOR_SETTINGS).",
)
@click.option(
    "--db",
    "db_path",
    envvar="MONITOR_DB",
    default="data/monitor.db",
    show_default=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="SQLite archive (env MONITOR_DB).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(
    ctx: click.Context,
    feeds_path: Path,
    rules_path: Path,
    settings_path: Path,
    db_path: Path,
    verbose: int,
) -> None:
    """Watch news and government feeds, match them against rules, archive, and post to Slack.

    \b
    Example:
      monitor config check
      monitor poll --once
      monitor search '"critical minerals" AND (Japan OR Korea)' --since 30d
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    ctx.obj = AppContext(
        feeds_path=feeds_path,
        rules_path=rules_path,
        settings_path=settings_path,
        db_path=db_path,
        verbose=verbose,
    )


for _module in (poll, feeds, config_cmd, rules, digest, archive, demo):
    for _command in _module.commands:
        cli.add_command(_command)


def main() -> None:
    cli(prog_name="monitor")
