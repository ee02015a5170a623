"""A `monitor digest` killed with SIGKILL after claiming its matches, before Slack answered.

The rerun must post every claimed match exactly once: nothing lost, nothing repeated.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from monitor.store.db import open_db
from tests.digestdata import make_db, many, write_config
from tests.fakeslack import FakeSlack

ROOT = Path(__file__).resolve().parent.parent


def _digest(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "digest"],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkill_between_claim_and_send_loses_and_repeats_nothing(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    env = {**write_config(tmp_path), **fake_slack.env()}
    make_db(
        tmp_path, many(12, "jkus-trilateral") + many(3, "critical-minerals", feed="mining")
    ).close()
    fake_slack.fail("hold")  # the first request arrives and hangs, unanswered

    proc = _digest(env)
    try:
        assert fake_slack.received.wait(30), proc.stderr.read() if proc.stderr else ""
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    fake_slack.release()
    assert proc.returncode == -signal.SIGKILL

    db = open_db(Path(env["MONITOR_DB"]))
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    pending = db.execute(
        "SELECT COUNT(*), SUM(attempts) FROM deliveries WHERE state = 'pending'"
    ).fetchone()
    assert pending == (2, 1)  # both messages reserved, the first one's send under way
    claimed = db.execute("SELECT COUNT(*) FROM delivery_items").fetchone()[0]
    assert claimed == 15
    assert fake_slack.messages == []

    rerun = subprocess.run(
        [sys.executable, "-m", "monitor", "digest"],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stderr == "daily digest: 2 messages sent to Slack.\n"
    assert [m["channel"] for m in fake_slack.messages] == ["#watch", "#minerals"]
    shown = [t for t in fake_slack.texts() if t.startswith("*<")]
    assert len(shown) == 5 + 3  # max_items 5 shown for the big rule, the rest counted
    assert any("…and 7 more for this rule" in t for t in fake_slack.texts()), fake_slack.texts()
    rows = db.execute(
        """SELECT COUNT(*) FROM matches m WHERE NOT EXISTS (
               SELECT 1 FROM delivery_items di JOIN deliveries d ON d.id = di.delivery_id
               WHERE di.item_id = m.item_id AND di.rule_id = m.rule_id AND d.state = 'sent')"""
    ).fetchone()
    assert rows == (0,)  # every match confirmed delivered

    again = subprocess.run(
        [sys.executable, "-m", "monitor", "digest"],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.stderr == "daily digest: nothing new to send.\n"
    assert len(fake_slack.messages) == 2


def test_monitor_run_sends_what_an_outage_left_pending_as_soon_as_it_starts(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    env = {**write_config(tmp_path), **fake_slack.env()}
    (tmp_path / "feeds.yaml").write_text(
        "feeds:\n  - id: dead\n    name: Dead feed\n    url: http://127.0.0.1:9/feed.xml\n"
        "    kind: news\n    country: JP\n    lang: en\n    interval: 1h\n",
        encoding="utf-8",
    )
    make_db(tmp_path, many(3)).close()
    fake_slack.fail("server_error", times=3)  # Slack is down for the whole first attempt
    first = subprocess.run(
        [sys.executable, "-m", "monitor", "digest"],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert first.returncode == 1
    assert "Error: Slack answered HTTP 500 (retried)" in first.stderr
    assert fake_slack.messages == []

    daemon = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--workers", "0"],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(300):  # up to 30 s; the check runs at start-up
            if fake_slack.messages or daemon.poll() is not None:
                break
            time.sleep(0.1)
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=30)
    assert [m["channel"] for m in fake_slack.messages] == ["#watch"], err
    assert daemon.returncode == 0, err


def test_two_digest_commands_at_once_post_each_message_once(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    env = {**write_config(tmp_path), **fake_slack.env()}
    make_db(tmp_path, many(12) + many(3, "critical-minerals", feed="mining")).close()
    procs = [_digest(env) for _ in range(3)]
    for proc in procs:
        proc.wait(60)
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    assert sorted(m["channel"] for m in fake_slack.messages) == ["#minerals", "#watch"]
