"""Keeps the Socket Mode connection alive: connect, watch, reconnect with back-off.

slack_sdk's own auto-reconnect is off: reconnect bugs were reported in its adapters, and a
half-open connection (the network gone, no close ever seen) can look connected for a long
time. Instead one loop owns the connection: it reconnects when the connection closes, and
a watchdog reconnects when nothing at all (no envelope, no pong to our pings) has arrived
for ``watchdog`` seconds. Failed connects back off exponentially, with jitter, up to
``backoff_max``; a connection that lived longer than the watchdog resets the back-off.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import select
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slack_sdk.errors import SlackApiError

from monitor.errors import ConfigError, MonitorError, Problem
from monitor.slackapp.app import Guard, GuardedHandler, build_app
from monitor.slackapp.workbench import Paths, Workbench

log = logging.getLogger(__name__)

SETUP_ERRORS = {
    "invalid_auth": "check SLACK_APP_TOKEN: an app-level token starts with xapp- (docs/slack.md)",
    "not_authed": "set SLACK_APP_TOKEN (docs/slack.md)",
    "not_allowed_token_type": "SLACK_APP_TOKEN must be an app-level token (xapp-…) with connections:write",
    "missing_scope": "give the app-level token the connections:write scope",
}


BOT_ERRORS = {
    "invalid_auth": "check SLACK_BOT_TOKEN: a bot token starts with xoxb- (docs/slack.md)",
    "not_authed": "set SLACK_BOT_TOKEN (docs/slack.md)",
    "token_revoked": "the bot token was revoked: reinstall the app and update SLACK_BOT_TOKEN",
    "account_inactive": "the app is deactivated: reinstall it (docs/slack.md)",
}


@dataclass(frozen=True)
class Tuning:
    watchdog: float = 180.0  # seconds of silence before the connection is replaced
    backoff_min: float = 1.0
    backoff_max: float = 120.0

    @property
    def ping_interval(self) -> float:
        # Our pings draw pongs, so a healthy but idle connection is never silent that long.
        return max(0.05, min(30.0, self.watchdog / 4))


@dataclass(frozen=True)
class SlackAppConfig:
    bot_token: str
    app_token: str
    api_url: str | None = None
    app_id: str | None = None
    team_id: str | None = None

    def __repr__(self) -> str:  # never show a secret in logs or tracebacks
        return f"SlackAppConfig(api_url={self.api_url!r}, app_id={self.app_id!r}, team_id={self.team_id!r})"


def config_from_env(env: dict[str, str]) -> SlackAppConfig | None:
    """The app's settings from the environment; None unless both tokens are set."""
    bot = env.get("SLACK_BOT_TOKEN", "").strip()
    app = env.get("SLACK_APP_TOKEN", "").strip()
    if not bot or not app:
        return None
    return SlackAppConfig(
        bot_token=bot,
        app_token=app,
        api_url=env.get("SLACK_API_URL", "").strip() or None,
        app_id=env.get("SLACK_APP_ID", "").strip() or None,
        team_id=env.get("SLACK_TEAM_ID", "").strip() or None,
    )


class Runner:
    def __init__(self, paths: Paths, config: SlackAppConfig, tuning: Tuning = Tuning()) -> None:
        from slack_sdk import WebClient

        self.tuning = tuning
        self.stop = threading.Event()
        self.connected = threading.Event()  # set while a connection is up (tests wait on it)
        self.connections = 0
        self._last = time.time()
        self.guard = Guard(config.app_id, config.team_id)
        # The bot token is checked in run(), with the same back-off as connecting: Slack
        # unreachable at start-up must not stop `monitor run` from polling.
        app = build_app(Workbench(paths), bot_token=config.bot_token, api_url=config.api_url)
        self.verified = False
        kwargs: dict[str, Any] = {"base_url": config.api_url} if config.api_url else {}
        app_client = WebClient(token=config.app_token, timeout=10, logger=log, **kwargs)
        self.handler = GuardedHandler(
            app, config.app_token, app_client, self.guard, ping_interval=tuning.ping_interval
        )
        self.handler.heard = self._touch

    def _touch(self) -> None:
        self._last = time.time()

    def silence(self) -> float:
        session = self.handler.client.current_session
        pong = getattr(session, "last_ping_pong_time", None) or 0.0
        return time.time() - max(self._last, pong)

    def run(self) -> None:
        """Until ``stop`` is set. A setup error on the first connect raises ConfigError."""
        delay = self.tuning.backoff_min
        first = True
        try:
            while not self.stop.is_set():
                which = "SLACK_BOT_TOKEN"
                try:
                    if not self.verified:
                        self.handler.app.client.auth_test()
                        self.verified = True
                    which = "SLACK_APP_TOKEN"
                    self.handler.connect_fresh()
                except SlackApiError as exc:
                    error = str(exc.response.get("error") or exc.response.status_code)
                    hints = SETUP_ERRORS if which == "SLACK_APP_TOKEN" else BOT_ERRORS
                    if first and error in hints:
                        raise ConfigError(
                            [Problem(which, 0, f"Slack refused it: {error}", hints[error])]
                        ) from None
                    log.warning(
                        "cannot open a Slack connection (%s); retrying in %.1fs", error, delay
                    )
                    delay = self._pause(delay)
                    continue
                except (OSError, ValueError) as exc:
                    log.warning(
                        "cannot reach Slack (%s); retrying in %.1fs", type(exc).__name__, delay
                    )
                    delay = self._pause(delay)
                    continue
                first = False
                self.connections += 1
                self._touch()
                started = time.time()
                self.connected.set()
                log.info("connected to Slack (Socket Mode, connection %d)", self.connections)
                reason = self._watch()
                self.connected.clear()
                if reason is None:
                    break
                if time.time() - started > self.tuning.watchdog:
                    delay = self.tuning.backoff_min  # it was a good connection
                log.warning("Slack connection %s; reconnecting in %.1fs", reason, delay)
                self._hang_up()
                self.handler.client.disconnect()
                delay = self._pause(delay)
        finally:
            self.connected.clear()
            self._hang_up()
            self.handler.close()  # type: ignore[no-untyped-call]  # untyped in slack_bolt

    def _hang_up(self) -> None:
        # The reader holds the socket's lock while it waits in recv (up to 3 s); shutting the
        # socket down first wakes it at once, so disconnect() does not wait for it.
        sock = getattr(self.handler.client.current_session, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _pause(self, delay: float) -> float:
        self.stop.wait(delay * (1 + random.random() / 4))
        return min(delay * 2, self.tuning.backoff_max)

    def _watch(self) -> str | None:
        """Why the connection must be replaced; None when asked to stop."""
        step = min(1.0, self.tuning.watchdog / 10)
        while not self.stop.wait(step):
            if not self.handler.client.is_connected():
                return "closed"
            if peer_closed(getattr(self.handler.client.current_session, "sock", None)):
                return "closed by the other end"
            quiet = self.silence()
            if quiet > self.tuning.watchdog:
                return f"silent for {quiet:.0f}s (watchdog)"
        return None


def peer_closed(sock: socket.socket | None) -> bool:
    """Whether the other end closed this connection. slack_sdk's built-in client does not
    notice an end of stream by itself (its reader spins on it until a ping fails), so we
    peek at the raw TCP stream (TLS or not) through a duplicate descriptor, never reading."""
    if sock is None:
        return True
    try:
        fd = sock.fileno()
        if fd < 0:
            return True
        readable, _, _ = select.select([fd], [], [], 0)
        if not readable:
            return False
        probe = socket.socket(fileno=os.dup(fd))
    except (OSError, ValueError):
        return True
    try:
        return probe.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        probe.close()  # closes only the duplicate


def start_in_thread(runner: Runner) -> threading.Thread:
    """For `monitor run`: the app beside the poller; errors are logged, never fatal there."""

    def target() -> None:
        try:
            runner.run()
        except MonitorError as exc:
            log.error("the Slack app stopped: %s (%s)", exc.message, exc.hint or "")

    thread = threading.Thread(target=target, name="slack-app", daemon=True)
    thread.start()
    return thread


def lock_path(db_path: Path) -> Path:
    return Path(str(db_path) + ".slack")
