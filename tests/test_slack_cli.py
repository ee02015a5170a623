"""`monitor slack` and `monitor run` as processes against the fake Slack: one app process per
archive, the app started by `monitor run` when both tokens are set, clean stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.digestdata import make_db, write_config
from tests.fakeslack import APP_TOKEN, TOKEN, FakeSlack
from tests.fakeslack import start as start_fake
from tests.test_slack_app import FEEDS_YAML, SEEDS


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    fake, server = start_fake()
    try:
        yield fake
    finally:
        fake.socket.close()
        server.shutdown()
        server.server_close()


def _env(tmp_path: Path, fake: FakeSlack, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(write_config(tmp_path))
    (tmp_path / "feeds.yaml").write_text(FEEDS_YAML, encoding="utf-8")
    env.update(fake.env(socket=True))
    env.update(extra)
    return env


def _ask(fake: FakeSlack, text: str, name: str) -> str:
    envelope = fake.socket.push("slash_commands", fake.slash_payload(text, name=name))
    fake.socket.wait_ack(envelope)
    fake.wait_for(lambda: any(r["name"] == name for r in fake.responses))
    return str(next(r for r in fake.responses if r["name"] == name)["text"])


def test_one_slack_app_per_archive_and_a_clean_stop(tmp_path: Path, fake: FakeSlack) -> None:
    make_db(tmp_path, SEEDS).close()
    env = _env(tmp_path, fake)
    command = [sys.executable, "-m", "monitor", "slack", "--watchdog", "30"]
    app = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        fake.socket.wait_connected(timeout=30)
        assert "gallium" in _ask(fake, "search gallium", "first")
        twin = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert twin.returncode == 2
        assert f"another monitor slack process (pid {app.pid}) is already using" in twin.stderr
        app.send_signal(signal.SIGTERM)
        assert app.wait(timeout=20) == 0
    finally:
        if app.poll() is None:
            app.kill()
        stderr = app.communicate()[1]
    assert "connected to Slack" in stderr
    assert TOKEN not in stderr
    assert APP_TOKEN not in stderr


def test_monitor_slack_needs_both_tokens(tmp_path: Path, fake: FakeSlack) -> None:
    env = _env(tmp_path, fake)
    del env["SLACK_APP_TOKEN"]
    out = subprocess.run(
        [sys.executable, "-m", "monitor", "slack"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "SLACK_APP_TOKEN not set" in out.stderr
    assert "docs/slack.md" in out.stderr


def test_a_refused_app_token_is_a_setup_error(tmp_path: Path, fake: FakeSlack) -> None:
    env = _env(tmp_path, fake, SLACK_APP_TOKEN="xapp-wrong")
    out = subprocess.run(
        [sys.executable, "-m", "monitor", "slack"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "invalid_auth" in out.stderr
    assert "xapp-" in out.stderr
    assert "xapp-wrong" not in out.stderr


def test_monitor_run_starts_the_app_when_both_tokens_are_set(
    tmp_path: Path, fake: FakeSlack
) -> None:
    make_db(tmp_path, SEEDS).close()
    env = _env(tmp_path, fake)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--workers", "0"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        fake.socket.wait_connected(timeout=30)
        assert "/monitor search" in _ask(fake, "help", "from-run")
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=60) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
        stderr = daemon.communicate()[1]
    assert "Slack app started" in stderr


def test_the_manifest_asks_for_what_the_app_uses() -> None:
    import yaml

    root = Path(__file__).resolve().parent.parent
    manifest = yaml.safe_load((root / "slack" / "manifest.yaml").read_text(encoding="utf-8"))
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == ["chat:write", "commands"]
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/monitor"
    assert "request_url" not in json.dumps(manifest)  # Socket Mode: no public URL


def test_a_refused_bot_token_is_a_setup_error(tmp_path: Path, fake: FakeSlack) -> None:
    env = _env(tmp_path, fake, SLACK_BOT_TOKEN="xoxb-wrong")
    out = subprocess.run(
        [sys.executable, "-m", "monitor", "slack"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "SLACK_BOT_TOKEN" in out.stderr
    assert "invalid_auth" in out.stderr
    assert "xoxb-wrong" not in out.stderr


def test_slack_unreachable_at_start_is_retried_not_fatal(tmp_path: Path) -> None:
    import logging
    import threading

    from monitor.slackapp.runner import Runner, SlackAppConfig, Tuning
    from monitor.slackapp.workbench import Paths

    class Count(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.n = 0
            self.enough = threading.Event()

        def emit(self, record: logging.LogRecord) -> None:
            if "cannot reach Slack" in record.getMessage():
                self.n += 1
                if self.n >= 3:
                    self.enough.set()

    counter = Count()
    logging.getLogger("monitor.slackapp.runner").addHandler(counter)
    try:
        paths = Paths(db=tmp_path / "m.db", rules=tmp_path / "rules", feeds=tmp_path / "f.yaml")
        config = SlackAppConfig("xoxb-x", "xapp-x", api_url="http://127.0.0.1:9/api/")
        runner = Runner(paths, config, Tuning(watchdog=5, backoff_min=0.01, backoff_max=0.05))
        thread = threading.Thread(target=runner.run, daemon=True)
        thread.start()
        assert counter.enough.wait(30)  # it keeps trying, with back-off
        runner.stop.set()
        thread.join(10)
        assert not thread.is_alive()
    finally:
        logging.getLogger("monitor.slackapp.runner").removeHandler(counter)
