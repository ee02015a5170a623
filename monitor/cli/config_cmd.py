"""`monitor config check`: validate feeds.yaml, the rules folder and monitor.yaml together.

The checks are library code (monitor.config.check); this command prints their report and
turns problems into exit 2. `monitor run` and `monitor poll` run the same check first.
"""

from __future__ import annotations

import click

from monitor.cli.common import app
from monitor.config.check import collect_checks
from monitor.errors import ConfigError


@click.group("config")
def config_group() -> None:
    """Check the configuration files.

    \b
    Example:
      monitor config check
      monitor --feeds my-feeds.yaml config check
    """


@config_group.command("check")
@click.pass_context
def check(ctx: click.Context) -> None:
    """Validate feeds.yaml, rules and monitor.yaml.

    Every problem in the three is listed, not just the first. Each problem is printed as FILE:LINE: message (hint). Exit code 0 when all files are
    valid, 2 when any problem is found. `monitor run` and `monitor poll` run the same check
    before they start.

    \b
    Example:
      monitor config check
      MONITOR_FEEDS=test-feeds.yaml monitor config check
      monitor --rules ./rules --settings ./monitor.yaml config check
    """
    report = collect_checks(app(ctx))
    if report.problems:
        raise ConfigError(report.problems)
    for line in report.summaries:
        click.echo(line)


commands: list[click.Command] = [config_group]
