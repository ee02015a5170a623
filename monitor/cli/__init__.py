"""The ``monitor`` command. The only place an error becomes output and an exit code.

Each command group lives in its own module and exposes ``commands``: a list of click
commands added to the top-level group below (LAZY_COMMANDS), or to one of its groups
(SUBCOMMANDS). No command module imports another: what several share is in the helper
modules, which define no command: common (context, errors, exit codes), console (terminal
output of polling), options (click parameter types), digest_notes (what the digest commands
say about deliveries), jsonl (items from a JSON Lines file), searchhints and window_hint
(hints for an empty result).
"""

from __future__ import annotations

import importlib
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
    "match": "match",
    "poll": "poll",
    "prune": "stats",
    "rules": "rules",
    "run": "poll",
    "search": "archive",
    "serve": "serve",
    "show": "show",
    "slack": "slack",
    "stats": "stats",
}

# Group name → modules whose ``commands`` are sub-commands of that group, added when the
# group loads: the wiring is here, so a group's module need not import them.
SUBCOMMANDS = {
    "digest": ("digest_backlog",),
    "feeds": ("feeds_opml",),
    "rules": ("suggest",),
}

# Command name → its short help, so `monitor --help` lists the commands without importing
# any of them (importing them all cost ~0.4 s). tests/test_cli_commands.py holds each line
# equal to the command's own short help: change both together.
SHORT_HELP = {
    "config": "Check the configuration files.",
    "demo": "Run the whole pipeline offline on real feed snapshots shipped with the monitor.",
    "digest": "Send one digest now: to Slack with SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL, else print it.",
    "export": "Export items as rows, one per item and matched rule (streamed, constant memory).",
    "feedback": "Readers' feedback from the Slack buttons, as data for the rules.",
    "feeds": "Inspect the configured feeds.",
    "match": "Match feed files, URLs or JSON Lines items against the rules and print the results.",
    "poll": "Poll every enabled feed once: fetch, parse, store new items, match the rules.",
    "prune": "Delete items published longer ago than --older-than, then VACUUM.",
    "rules": "Validate, test, explain and measure the watch rules in rules/.",
    "run": "Poll every enabled feed on its schedule until stopped.",
    "search": "Search the archive with the rule language (docs/rules.md).",
    "serve": "Browse the archive in Datasette, read-only, with facets and saved queries.",
    "slack": "Run the Slack app: feedback buttons and the /monitor command (Socket Mode).",
    "show": "Show one stored item: its feed, every rule it matched (with hits), where it was sent.",
    "stats": "Archive figures: items per feed, matches per rule, items per day, size on disk.",
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
                for sub_module in SUBCOMMANDS.get(cmd_name, ()):
                    for sub in importlib.import_module(f"monitor.cli.{sub_module}").commands:
                        cast(click.Group, command).add_command(sub)
                return cast(click.Command, command)
        raise RuntimeError(f"monitor.cli.{module_name} does not define {cmd_name!r}")

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's own version calls get_command for every name (importing every module);
        # this one renders the same rows from SHORT_HELP, through a stand-in command so the
        # text is shortened exactly the way click shortens a command's help.
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            text = SHORT_HELP.get(name)
            # A command missing from the table (the test says so) is imported, not dropped.
            command = click.Command(name, help=text) if text else self.get_command(ctx, name)
            rows.append((name, command.get_short_help_str(limit) if command else ""))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


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
    import logging  # here, not at the top: `monitor --help` and `--version` never log

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
