"""`monitor slack`: the Slack app (Socket Mode) — feedback buttons and `/monitor`."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any

import click

from monitor.cli.common import AppContext, app
from monitor.errors import ConfigError, Problem
from monitor.store.lock import ArchiveLock

log = logging.getLogger(__name__)


def _paths(a: AppContext) -> Any:
    from monitor.slackapp.workbench import Paths

    return Paths(db=a.db_path, rules=a.rules_path, feeds=a.feeds_path)


@click.command("slack")
@click.option(
    "--watchdog",
    default=180.0,
    show_default=True,
    type=click.FloatRange(min=0.5, max=3600),
    help="Seconds without any sign of life (not even a pong) before reconnecting.",
)
@click.option(
    "--backoff-max",
    default=120.0,
    show_default=True,
    type=click.FloatRange(min=0.1, max=3600),
    help="Longest wait between reconnection attempts, in seconds.",
)
@click.pass_context
def slack_command(ctx: click.Context, watchdog: float, backoff_max: float) -> None:
    """Run the Slack app: feedback buttons and the /monitor command (Socket Mode).

    Needs SLACK_BOT_TOKEN (xoxb-…) and SLACK_APP_TOKEN (xapp-…, connections:write); no
    public URL is needed. `monitor run` starts the same app by itself when both are set, so
    run this only when polling happens elsewhere. One Slack app process per archive.
    Ctrl-C or SIGTERM stops it. Set-up: docs/slack.md.

    \b
    Example:
      SLACK_BOT_TOKEN=xoxb-… SLACK_APP_TOKEN=xapp-… monitor slack
    """
    from monitor.slackapp.runner import Runner, Tuning, config_from_env

    a = app(ctx)
    config = config_from_env(dict(os.environ))
    if config is None:
        missing = [
            k for k in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN") if not os.environ.get(k, "").strip()
        ]
        raise ConfigError(
            [
                Problem(
                    "environment",
                    0,
                    f"{' and '.join(missing)} not set: the Slack app needs both tokens",
                    "see docs/slack.md",
                )
            ]
        )
    if a.verbose == 0:
        logging.getLogger("monitor").setLevel(logging.INFO)
    tuning = Tuning(watchdog=watchdog, backoff_min=min(1.0, backoff_max), backoff_max=backoff_max)
    with ArchiveLock(a.db_path, role="slack"):
        from monitor.store.db import open_db

        open_db(a.db_path).close()  # create the archive or bring its schema up to date first
        runner = Runner(_paths(a), config, tuning)

        def stop(signum: int, frame: Any) -> None:
            runner.stop.set()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        log.info("Slack app for %s; Ctrl-C stops", Path(a.db_path))
        runner.run()


commands: list[click.Command] = [slack_command]
