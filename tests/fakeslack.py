"""A fake Slack on 127.0.0.1: the real slack_sdk WebClient and WebhookClient talk to it.

``fake_slack`` (pytest fixture) starts a threaded HTTP server on port 0 serving
``/api/chat.postMessage`` (Web API; point clients at ``fake_slack.api_url`` or set
``SLACK_API_URL``) and ``/services/T000/B000/hook`` (incoming webhook, ``webhook_url``).
It checks the bot token, validates each payload against Slack's limits (a bad one gets
``invalid_blocks``, like Slack), records accepted messages in ``messages`` (and in
``injected`` any mention or non-http link Slack would act on), counts requests
per endpoint in ``requests``, and on demand misbehaves for the next N requests:

    fake_slack.fail("ratelimited", times=2)   # 429 with Retry-After: 1
    fake_slack.fail("server_error")           # 500
    fake_slack.fail("invalid_auth")           # HTTP 200, ok: false
    fake_slack.fail("channel_not_found")
    fake_slack.fail("timeout")                # answer only after ``slow_seconds``
    fake_slack.fail("drop")                   # close the connection without an answer
    fake_slack.fail("accept_then_drop")       # post the message, then drop the connection
    fake_slack.fail("hold")                   # keep the request open until release()
    fake_slack.fail("refuse:msg_blocks_too_long")  # HTTP 200, ok: false, that error
    fake_slack.refuse("poison", "msg_blocks_too_long")  # refuse, every time, any message
                                              # whose text or blocks contain "poison"

A payload over Slack's size is refused with ``msg_blocks_too_long`` (blocks) or
``msg_too_long`` (text), as Slack does; other invalid payloads with ``invalid_blocks``.

Nothing here uses the network beyond 127.0.0.1.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.fakesocket import FakeSocket

TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-1-test-app-token"
APP_ID = "A000"
TEAM_ID = "T000"
BOT_USER = "U0BOT"
RESPONSE_PATH = "/response/"
WEBHOOK_PATH = "/services/T000/B000/hook"
MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_TOTAL = 13000  # Slack answers msg_blocks_too_long around here
MAX_TEXT = 40000  # Slack answers msg_too_long past this
MENTION = re.compile(r"<[!@#][^>]*>")


def payload_problems(body: dict[str, Any]) -> list[str]:
    """Why Slack would refuse this chat.postMessage payload (empty: it would accept it)."""
    problems = []
    blocks = body.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if not body.get("text") and not blocks:
        problems.append("no_text")
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks")
    for i, block in enumerate(blocks):
        kind = block.get("type")
        text = block.get("text") or {}
        if kind == "header" and (
            text.get("type") != "plain_text" or len(text["text"]) > MAX_HEADER
        ):
            problems.append(f"block {i}: bad header")
        if kind == "section" and len(text.get("text", "")) > MAX_SECTION:
            problems.append(f"block {i}: section too long")
        if kind == "context" and not 0 < len(block.get("elements", [])) <= MAX_CONTEXT_ELEMENTS:
            problems.append(f"block {i}: context elements")
        if kind == "actions" and not 0 < len(block.get("elements", [])) <= 25:
            problems.append(f"block {i}: actions elements")
        for element in block.get("elements", []) if kind == "actions" else []:
            if len(str(element.get("value", ""))) > 2000 or len(element.get("action_id", "")) > 255:
                problems.append(f"block {i}: button value or action_id too long")
        if kind not in {"header", "section", "context", "divider", "actions"}:
            problems.append(f"block {i}: unexpected type {kind}")
    if body.get("link_names") or body.get("parse") == "full":
        problems.append("link_names/parse=full must never be sent")
    if sum(len(json.dumps(b, ensure_ascii=False)) for b in blocks) > MAX_TOTAL:
        problems.append("msg_blocks_too_long")
    if len(str(body.get("text") or "")) > MAX_TEXT:
        problems.append("msg_too_long")
    return problems


def refusal(problems: list[str]) -> str:
    """The error code Slack gives for these problems."""
    for code in ("msg_too_long", "msg_blocks_too_long"):
        if code in problems:
            return code
    return "invalid_blocks"


def mentions(body: dict[str, Any]) -> list[str]:
    """Everything Slack would turn into a mention or a link we did not make: <!…>, <@…>, <#…>,
    and links to other than http(s)."""
    found = []
    for text in _texts(body):
        found += MENTION.findall(text)
        found += [
            t
            for t in re.findall(r"<([^<>|]+)\|", text)
            if not t.startswith(("http://", "https://"))
        ]
    return found


def _texts(body: dict[str, Any]) -> list[str]:
    out = [str(body.get("text") or "")]
    blocks = body.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    for block in blocks:
        if isinstance(block.get("text"), dict):
            out.append(block["text"].get("text", ""))
        for e in block.get("elements", []):
            text = e.get("text", "") if isinstance(e, dict) else ""
            out.append(text.get("text", "") if isinstance(text, dict) else str(text))
    return out


@dataclass
class FakeSlack:
    host: str = "127.0.0.1"
    port: int = 0
    token: str = TOKEN
    slow_seconds: float = 3.0
    messages: list[dict[str, Any]] = field(default_factory=list)
    injected: list[str] = field(default_factory=list)  # mentions/links found in accepted text
    requests: Counter[str] = field(default_factory=Counter)
    missing_channels: set[str] = field(default_factory=set)
    poison: dict[str, str] = field(default_factory=dict)  # text in a message -> error for it
    received: threading.Event = field(default_factory=threading.Event)  # a held request arrived
    _release: threading.Event = field(default_factory=threading.Event)
    _plan: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    # Socket Mode and interactivity
    app_token: str = APP_TOKEN
    socket: FakeSocket = field(default_factory=lambda: FakeSocket(app_id=APP_ID))
    updates: list[dict[str, Any]] = field(default_factory=list)  # chat.update calls accepted
    responses: list[dict[str, Any]] = field(default_factory=list)  # response_url posts
    changed: threading.Condition = field(default_factory=threading.Condition)
    _tickets: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api/"

    @property
    def webhook_url(self) -> str:
        return f"http://{self.host}:{self.port}{WEBHOOK_PATH}"

    def env(self, *, webhook: bool = False, socket: bool = False) -> dict[str, str]:
        """Environment for a subprocess (or monkeypatch) that should post here."""
        if webhook:
            return {"SLACK_WEBHOOK_URL": self.webhook_url}
        env = {"SLACK_BOT_TOKEN": self.token, "SLACK_API_URL": self.api_url}
        if socket:
            env["SLACK_APP_TOKEN"] = self.app_token
        return env

    def response_url(self, name: str) -> str:
        return f"http://{self.host}:{self.port}{RESPONSE_PATH}{name}"

    def wait_for(self, what: Any, timeout: float = 30.0) -> None:
        """Until ``what()`` is true (checked whenever a request was recorded)."""
        with self.changed:
            ok = self.changed.wait_for(what, timeout)
        assert ok, f"the fake Slack did not see what the test waits for within {timeout}s"

    def _note(self, where: list[dict[str, Any]], body: dict[str, Any]) -> None:
        with self.changed:
            where.append(body)
            self.changed.notify_all()

    def slash_payload(
        self,
        text: str,
        *,
        user: str = "U123",
        user_name: str = "analyst",
        team: str = TEAM_ID,
        app_id: str = APP_ID,
        name: str = "r1",
    ) -> dict[str, Any]:
        """What Slack pushes for ``/monitor TEXT``."""
        return {
            "token": "legacy-verification-token",
            "team_id": team,
            "team_domain": "example",
            "channel_id": "C123",
            "channel_name": "news",
            "user_id": user,
            "user_name": user_name,
            "command": "/monitor",
            "text": text,
            "api_app_id": app_id,
            "is_enterprise_install": "false",
            "response_url": self.response_url(name),
            "trigger_id": "1.2.3",
        }

    def action_payload(
        self,
        action_id: str,
        value: str,
        *,
        message: dict[str, Any] | None = None,
        user: str = "U123",
        user_name: str = "analyst",
        team: str = TEAM_ID,
        app_id: str = APP_ID,
        action_ts: str = "1700000100.000001",
        name: str = "a1",
    ) -> dict[str, Any]:
        """What Slack pushes when a button is clicked on ``message`` (a recorded post)."""
        message = message or (self.messages[-1] if self.messages else {"ts": "1.0"})
        blocks = message.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        block_id = next(
            (
                b.get("block_id", "")
                for b in blocks
                if b.get("type") == "actions"
                and any(e.get("value") == value for e in b.get("elements", []))
            ),
            "",
        )
        return {
            "type": "block_actions",
            "user": {"id": user, "username": user_name, "name": user_name, "team_id": team},
            "api_app_id": app_id,
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": message.get("ts"),
                "channel_id": message.get("channel", "C123"),
                "is_ephemeral": False,
            },
            "trigger_id": "1.2.3",
            "team": {"id": team, "domain": "example"},
            "channel": {"id": message.get("channel", "C123"), "name": "news"},
            "message": {
                "type": "message",
                "ts": message.get("ts"),
                "text": message.get("text", ""),
                "blocks": blocks,
            },
            "response_url": self.response_url(name),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": block_id,
                    "value": value,
                    "action_ts": action_ts,
                    "text": {"type": "plain_text", "text": action_id},
                }
            ],
        }

    def fail(self, scenario: str, times: int = 1) -> None:
        with self._lock:
            self._plan.extend([scenario] * times)

    def refuse(self, marker: str, error: str) -> None:
        """Refuse with ``error``, every time, any message that contains ``marker``."""
        with self._lock:
            self.poison[marker] = error

    def poisoned(self, body: dict[str, Any]) -> str | None:
        text = json.dumps(body, ensure_ascii=False)
        with self._lock:
            return next((e for m, e in self.poison.items() if m in text), None)

    def release(self) -> None:
        self._release.set()

    def next_scenario(self) -> str | None:
        with self._lock:
            return self._plan.pop(0) if self._plan else None

    def record(self, endpoint: str, body: dict[str, Any]) -> str:
        ts = f"1700000000.{next(self._ts):06d}"
        with self._lock:
            self.messages.append({"endpoint": endpoint, "ts": ts, **body})
            self.injected += mentions(body)
        with self.changed:
            self.changed.notify_all()
        return ts

    def texts(self) -> list[str]:
        """Every section and context text of every recorded message, in order."""
        out = []
        for m in self.messages:
            for block in m.get("blocks") or []:
                if block["type"] == "section":
                    out.append(block["text"]["text"])
                elif block["type"] == "context":
                    out += [e.get("text", "") for e in block["elements"]]
        return out


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    def _reply(
        self, status: int, body: str, ctype: str = "application/json", **headers: str
    ) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        self.wfile.write(data)

    def _json(self, obj: dict[str, Any], status: int = 200, **headers: str) -> None:
        self._reply(status, json.dumps(obj), **headers)

    def _body(self) -> dict[str, Any]:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if self.headers.get("Content-Type", "").startswith("application/json"):
            return json.loads(raw or "{}")
        return {k: v[0] for k, v in parse_qs(raw).items()}

    def _drop(self) -> None:
        self.close_connection = True
        self.connection.shutdown(2)

    def do_POST(self) -> None:
        fake = self.server.fake
        path = self.path.split("?")[0]
        endpoint = path.rsplit("/", 1)[-1] if path.startswith("/api/") else path
        if path == WEBHOOK_PATH:
            endpoint = "webhook"
        fake.requests[endpoint] += 1
        body = self._body()
        scenario = fake.next_scenario()
        if self._transport_fault(scenario):
            return None
        if endpoint == "webhook":
            return self._webhook(body, scenario)
        if path.startswith(RESPONSE_PATH):
            fake._note(fake.responses, {"name": path[len(RESPONSE_PATH) :], **body})
            return self._reply(200, "ok", "text/plain")
        if endpoint == "apps.connections.open":
            return self._connections_open()
        if endpoint == "auth.test":
            return self._auth_test()
        if endpoint == "chat.update":
            return self._chat_update(body)
        if endpoint != "chat.postMessage":
            return self._json({"ok": False, "error": "unknown_method"}, 404)
        if (
            scenario == "invalid_auth"
            or self.headers.get("Authorization") != f"Bearer {fake.token}"
        ):
            return self._json({"ok": False, "error": "invalid_auth"})
        if scenario == "channel_not_found" or body.get("channel") in fake.missing_channels:
            return self._json({"ok": False, "error": "channel_not_found"})
        refused = _refused(scenario) or fake.poisoned(body)
        if refused:
            return self._json({"ok": False, "error": refused})
        problems = payload_problems(body)
        if problems:
            return self._json({"ok": False, "error": refusal(problems), "errors": problems})
        ts = fake.record(endpoint, body)
        if scenario == "accept_then_drop":
            return self._drop()
        self._json({"ok": True, "channel": body.get("channel"), "ts": ts})

    def _transport_fault(self, scenario: str | None) -> bool:
        """Play a scenario that fails below the Web API (drops, 429, 500); True if one did."""
        fake = self.server.fake
        if scenario == "hold":
            fake.received.set()
            fake._release.wait(30)
            self._drop()
        elif scenario in ("drop", "timeout"):
            if scenario == "timeout":
                time.sleep(fake.slow_seconds)
            self._drop()
        elif scenario == "ratelimited":
            self._json({"ok": False, "error": "ratelimited"}, 429, Retry_After="1")
        elif scenario == "server_error":
            self._reply(500, "<html>Internal Server Error</html>", "text/html")
        else:
            return False
        return True

    def _authorized(self, token: str) -> bool:
        return self.headers.get("Authorization") == f"Bearer {token}"

    def _connections_open(self) -> None:
        fake = self.server.fake
        if not self._authorized(fake.app_token):
            return self._json({"ok": False, "error": "invalid_auth"})
        return self._json({"ok": True, "url": fake.socket.url(next(fake._tickets))})

    def _auth_test(self) -> None:
        fake = self.server.fake
        if not self._authorized(fake.token):
            return self._json({"ok": False, "error": "invalid_auth"})
        return self._json(
            {
                "ok": True,
                "url": "https://example.slack.com/",
                "team": "Example",
                "team_id": TEAM_ID,
                "user": "monitor",
                "user_id": BOT_USER,
                "bot_id": "B000",
                "is_enterprise_install": False,
            }
        )

    def _chat_update(self, body: dict[str, Any]) -> None:
        fake = self.server.fake
        if not self._authorized(fake.token):
            return self._json({"ok": False, "error": "invalid_auth"})
        posted = {(m.get("channel"), m["ts"]) for m in fake.messages}
        if (body.get("channel"), body.get("ts")) not in posted:
            return self._json({"ok": False, "error": "message_not_found"})
        problems = payload_problems(body)
        if problems:
            return self._json({"ok": False, "error": "invalid_blocks", "errors": problems})
        with fake._lock:
            fake.injected += mentions(body)
        fake._note(fake.updates, body)
        self._json({"ok": True, "channel": body["channel"], "ts": body["ts"]})

    def _webhook(self, body: dict[str, Any], scenario: str | None) -> None:
        if scenario in ("invalid_auth", "channel_not_found"):
            error = "invalid_token" if scenario == "invalid_auth" else "channel_not_found"
            return self._reply(403 if scenario == "invalid_auth" else 404, error, "text/plain")
        refused = _refused(scenario) or self.server.fake.poisoned(body)
        if refused:
            return self._reply(400, refused, "text/plain")
        problems = payload_problems(body)
        if problems:
            return self._reply(400, refusal(problems), "text/plain")
        self.server.fake.record("webhook", body)
        if scenario == "accept_then_drop":
            return self._drop()
        self._reply(200, "ok", "text/plain")


def _refused(scenario: str | None) -> str | None:
    return scenario.split(":", 1)[1] if scenario and scenario.startswith("refuse:") else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeSlack


def start(fake: FakeSlack | None = None) -> tuple[FakeSlack, _Server]:
    fake = fake or FakeSlack()
    fake.socket.start()
    server = _Server((fake.host, 0), _Handler)
    server.fake = fake
    fake.port = server.server_address[1]
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="fake-slack"
    ).start()
    return fake, server


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake, server = start()
    try:
        yield fake
    finally:
        fake.release()
        fake.socket.close()
        server.shutdown()
        server.server_close()
