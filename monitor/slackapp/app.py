"""The Bolt app: `/monitor` and the feedback buttons, wired to the workbench.

Every envelope passes ``Guard`` before Bolt sees it: only envelopes for our app (and, with
``SLACK_TEAM_ID``, our workspace) are handled, and an envelope seen before (Slack redelivers
one it thinks was not acknowledged) is acknowledged again but not handled twice.

Our app id: ``SLACK_APP_ID`` when set; otherwise what Slack's ``hello`` message names
(``connection_info.app_id``) or, failing that, the ``app_id`` of the connection URL that
``apps.connections.open`` gave us. Until one of these is known nothing is handled.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from monitor.deliver.slack import retry_handlers
from monitor.digest.buttons import marked
from monitor.slackapp.workbench import Workbench

log = logging.getLogger(__name__)

SEEN_ENVELOPES = 2000  # envelope ids remembered for de-duplication (bounded)
FEEDBACK = re.compile(r"^feedback:(relevant|not_relevant|mute_source)$")


def team_of(payload: dict[str, Any]) -> str:
    team = payload.get("team")
    if isinstance(team, dict):
        return str(team.get("id") or "")
    user = payload.get("user")
    if isinstance(user, dict) and user.get("team_id"):
        return str(user["team_id"])
    return str(payload.get("team_id") or "")


class Guard:
    """Decides which envelopes reach Bolt."""

    def __init__(self, app_id: str | None, team_id: str | None) -> None:
        self.app_id = app_id  # from SLACK_APP_ID; else learned from hello / the URL
        self.configured = app_id is not None
        self.team_id = team_id
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def learn(self, app_id: str | None, where: str) -> None:
        if not app_id:
            return
        if self.configured and app_id != self.app_id:
            log.warning("Slack says this connection is for app %s, not SLACK_APP_ID", app_id)
            return
        if self.app_id is None:
            log.info("Slack app id %s (from %s)", app_id, where)
            self.app_id = app_id

    def first_time(self, envelope_id: str) -> bool:
        with self._lock:
            if envelope_id in self._seen:
                return False
            self._seen[envelope_id] = None
            while len(self._seen) > SEEN_ENVELOPES:
                self._seen.popitem(last=False)
            return True

    def refusal(self, payload: dict[str, Any]) -> str | None:
        """Why an envelope is not ours to handle (None: handle it)."""
        if self.app_id is None:
            return "our app id is not known yet (set SLACK_APP_ID)"
        if payload.get("api_app_id") != self.app_id:
            return "it is for another app"
        if self.team_id and team_of(payload) != self.team_id:
            return "it is from another workspace than SLACK_TEAM_ID"
        return None


class GuardedHandler(SocketModeHandler):
    """Bolt's Socket Mode handler (slack_sdk's built-in client) with the guard in front and
    the time of the last sign of life, for the watchdog."""

    def __init__(
        self, app: App, app_token: str, web_client: WebClient, guard: Guard, *, ping_interval: float
    ) -> None:
        super().__init__(
            app,
            app_token,
            web_client=web_client,
            auto_reconnect_enabled=False,
            ping_interval=ping_interval,
        )
        self.guard = guard
        self.heard: Callable[[], None] = lambda: None
        self.client.on_message_listeners.append(self._on_text)

    def _on_text(self, raw: str) -> None:
        self.heard()
        if '"hello"' not in raw[:200]:
            return
        try:
            message = json.loads(raw)
        except ValueError:
            return
        if message.get("type") == "hello":
            info = message.get("connection_info") or {}
            self.guard.learn(info.get("app_id"), "Slack's hello")

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        if not self.guard.first_time(req.envelope_id):
            log.info("envelope %s came again: acknowledged, not handled twice", req.envelope_id)
            client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        payload = req.payload if isinstance(req.payload, dict) else {}
        why = self.guard.refusal(payload)
        if why:
            log.warning("ignored a %s envelope: %s", req.type, why)
            client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        from time import time

        start = time()
        send_response(client, req, run_bolt_app(self.app, req), start)

    def connect_fresh(self) -> None:
        """Ask for a new URL and connect to it (learning the app id from the URL)."""
        url = self.client.issue_new_wss_url()
        found = parse_qs(urlparse(url).query).get("app_id") or []
        self.guard.learn(found[0] if found else None, "the connection URL")
        self.client.wss_uri = url
        self.client.connect()


def build_app(
    workbench: Workbench, *, bot_token: str, api_url: str | None, timeout: int = 10
) -> App:
    kwargs: dict[str, Any] = {"base_url": api_url} if api_url else {}
    client = WebClient(
        token=bot_token, timeout=timeout, retry_handlers=retry_handlers(), logger=log, **kwargs
    )
    app = App(client=client, logger=log, token_verification_enabled=False)  # see Runner.run

    @app.command("/monitor")
    def on_command(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        ack()  # within Slack's 3 seconds; the answer follows through response_url
        text = workbench.answer(
            str(command.get("text") or ""),
            user_id=str(command.get("user_id") or ""),
            user_name=str(command.get("user_name") or ""),
        )
        respond(text=text, response_type="ephemeral", replace_original=False)

    @app.action(FEEDBACK)
    def on_feedback(
        ack: Any, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Any
    ) -> None:
        ack()
        on_click(workbench, body, action, client, respond)

    return app


def on_click(
    workbench: Workbench,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    respond: Any,
) -> None:
    user = body.get("user") or {}
    user_name = str(user.get("username") or user.get("name") or user.get("id") or "")
    container = body.get("container") or {}
    channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
    message_ts = str(container.get("message_ts") or "")
    outcome = workbench.click(
        action_id=str(action.get("action_id") or ""),
        value=str(action.get("value") or ""),
        user_id=str(user.get("id") or ""),
        user_name=user_name,
        team_id=team_of(body),
        action_ts=str(action.get("action_ts") or ""),
        channel=channel or None,
        message_ts=message_ts or None,
    )
    if outcome.problem:
        respond(
            text=f":warning: {outcome.problem}; nothing was stored.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    if not outcome.stored:
        return  # this very click was handled before
    if outcome.muted_feed:
        respond(
            text=(
                f"Muted `{outcome.muted_feed}` for 7 days: its items stay out of digests. "
                f"`/monitor unmute {outcome.muted_feed}` ends it."
            ),
            response_type="ephemeral",
            replace_original=False,
        )
    blocks = marked(
        list((body.get("message") or {}).get("blocks") or []),
        str(action.get("value") or ""),
        outcome.label,
        user_name,
    )
    if blocks is None or not channel or not message_ts:
        return
    try:
        client.chat_update(
            channel=channel,
            ts=message_ts,
            blocks=blocks,
            text=(body.get("message") or {}).get("text") or "",
        )
    except SlackApiError as exc:
        # The label is stored; only its display failed (message too old, deleted, …).
        log.warning("could not show the click on the message: %s", exc.response.get("error"))
    except OSError as exc:
        log.warning("could not show the click on the message: %s", type(exc).__name__)
