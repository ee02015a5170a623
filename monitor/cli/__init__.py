"""The ``monitor`` command. The only place an error becomes output and an exit code.

Each command group lives in its own module and exposes ``commands``: a list of click
commands added to the top-level group below.
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path
from typing import cast

import click

from monitor import __version__
from monitor.cli.common import AppContext, MonitorGroup

# Command name → module under monitor.cli. Modules load only when their command runs, so
# `monitor search` does not pay for slack_sdk, asyncio or the HTTP server at start-up.
LAZY_COMMANDS = {
    "config": "config_cmd",
    "demo": "demo",
    "digest": "digest",
    "export": "archive",
    "feedback": "feedback",
    "feeds": "feeds",
    "match": "rules",
    "poll": "poll",
    "prune": "stats",
    "rules": "rules",
    "run": "poll",
    "search": "archive",
    "serve": "serve",
    "show": "archive",
    "slack": "slack",
    "stats": "stats",
}

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class LazyMonitorGroup(MonitorGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(LAZY_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = LAZY_COMMANDS.get(cmd_name)
        if module_name is None:
            return None
        module = importlib.import_module(f"monitor.cli.{module_name}")
        for command in module.commands:
            if command.name == cmd_name:
                return cast(click.Command, command)
        raise RuntimeError(f"monitor.cli.{module_name} does not define {cmd_name!r}")


@click.group(cls=LazyMonitorGroup, context_settings=CONTEXT_SETTINGS)
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


def main() -> None:
    cli(prog_name="monitor")
