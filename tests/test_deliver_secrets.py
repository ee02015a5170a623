"""Slack secrets never reach the output, even at -vv where slack_sdk logs every request.

Issue 10 point 9: slack_sdk's debug log prints the webhook URL, and a webhook URL is a
secret (anyone who has it can post). `monitor -vv digest` runs as a user would run it, in a
subprocess, against the fake Slack.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.deliver.redact import SECRETS, add_webhook, protect
from tests.digestdata import NOW, Seed, make_db, write_config
from tests.fakeslack import WEBHOOK_PATH, FakeSlack

SECRET_PART = WEBHOOK_PATH.removeprefix("/services/")  # T000/B000/hook


def monitor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MONITOR_"))}
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        env={**full, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = write_config(tmp_path)
    seeds = [
        Seed("a1", "Seoul summit on chip exports", rules={"jkus-trilateral": 2.0}),
        Seed("b1", "Tokyo lithium refinery deal poison", rules={"japan-korea": 2.0}),
    ]
    make_db(tmp_path, seeds, now=NOW.replace(year=2030)).close()
    return values


@pytest.mark.parametrize("webhook", [True, False], ids=["webhook", "bot-token"])
def test_minus_vv_never_prints_the_webhook_url_or_the_token(
    env: dict[str, str], fake_slack: FakeSlack, webhook: bool
) -> None:
    fake_slack.fail("server_error")  # a retry: slack_sdk logs the URL again
    result = monitor({**env, **fake_slack.env(webhook=webhook)}, "-vv", "digest")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Sending a request" in output  # slack_sdk's debug log did run
    assert len(fake_slack.messages) == 1
    assert SECRET_PART not in output
    assert fake_slack.token not in output
    if webhook:
        assert f"{fake_slack.host}:{fake_slack.port}/services/…(redacted)" in output


def test_a_refusal_logged_with_a_traceback_is_redacted_too(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = "https://hooks.slack.com/services/T999/B999/s3cr3tw3bh00k"
    assert add_webhook(url) == "https://hooks.slack.com/services/…(redacted)"
    log = protect(logging.getLogger("monitor.deliver.slack.test"))
    with caplog.at_level(logging.DEBUG, logger=log.name):
        try:
            raise ValueError(f"bad answer from {url}")
        except ValueError:
            log.exception("posting to %s failed", url)
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert "s3cr3tw3bh00k" not in text
    assert "(redacted)" in text
    assert SECRETS.redact("/services/T999/B999/s3cr3tw3bh00k") == "/services/…(redacted)"
