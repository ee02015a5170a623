"""Threaded digests with the real slack_sdk client against the fake Slack: one parent, one
reply per rule in its thread, exactly once through 429, 500, timeouts and a SIGKILL between
the parent and its replies (the parent is reused, never posted twice)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import sqlite_utils
from click.testing import CliRunner

from monitor.config.settings import AlertSpec, DigestSpec, OpsSpec, Settings
from monitor.deliver.slack import SlackWebDeliverer, SlackWebhookDeliverer
from monitor.pipeline.outbox import send_alerts, send_digest
from monitor.store.db import open_db
from tests.digestdata import NOW, RULES, make_db, many, write_config
from tests.fakeslack import FakeSlack

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = Settings(
    timezone="Asia/Tokyo",
    digests=(DigestSpec(name="daily", channel="#watch", max_items=5),),
    alerts=AlertSpec(channel="#alerts"),
    ops=OpsSpec(enabled=False, channel="#ops", failing_hours=2),
)
THREAD_YAML = (
    "timezone: Asia/Tokyo\n"
    "digests:\n"
    "  - name: daily\n"
    '    schedule: "0 8 * * *"\n'
    '    channel: "#watch"\n'
    "    max_items: 5\n"
    "alerts:\n"
    '  channel: "#alerts"\n'
    "ops:\n"
    '  channel: "#ops"\n'
)


def _seeds() -> list:  # type: ignore[type-arg]
    return many(7, "jkus-trilateral") + many(3, "japan-korea", feed="kyodo")


def web(fake: FakeSlack, timeout: int = 1) -> SlackWebDeliverer:
    return SlackWebDeliverer(fake.token, base_url=fake.api_url, timeout=timeout, backoff=0.01)


def _check_thread(fake: FakeSlack, db: sqlite_utils.Database) -> None:
    """One parent, one reply per rule under it, every match delivered exactly once."""
    parents = [m for m in fake.messages if "thread_ts" not in m]
    replies = [m for m in fake.messages if "thread_ts" in m]
    assert len(parents) == 1, [m["text"] for m in parents]
    (parent,) = parents
    assert {r["thread_ts"] for r in replies} == {parent["ts"]}
    assert len(replies) == 2  # one per rule
    titles = [t for r in replies for t in _titles(r)]
    assert len(titles) == len(set(titles)) == 5 + 3  # max_items 5 shown, none twice
    undelivered = db.execute(
        """SELECT COUNT(*) FROM matches m WHERE NOT EXISTS (
               SELECT 1 FROM delivery_items di JOIN deliveries d ON d.id = di.delivery_id
               WHERE di.item_id = m.item_id AND di.rule_id = m.rule_id AND d.state = 'sent')"""
    ).fetchone()[0]
    assert undelivered == 0


def _titles(message: dict[str, object]) -> list[str]:
    out = []
    for block in message["blocks"]:  # type: ignore[attr-defined]
        text = (block.get("text") or {}).get("text", "") if block["type"] == "section" else ""
        if text.startswith("*<"):
            out.append(text.split("|", 1)[1].split(">", 1)[0])
    return out


def test_a_digest_is_a_parent_and_one_reply_per_rule(tmp_path: Path, fake_slack: FakeSlack) -> None:
    db = make_db(tmp_path, _seeds())
    report = send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW)
    assert (report.reserved, report.sent, report.pending) == (3, 3, 0)
    parent = fake_slack.messages[0]
    assert "thread_ts" not in parent
    texts = [b["text"]["text"] for b in parent["blocks"] if b["type"] == "section"]
    assert "*Japan–US–Korea trilateral* — 7 new" in texts[0]
    assert "*Japan–Korea relations* — 3 new" in texts[0]
    top = texts[1:]
    assert len(top) == 3  # the three best headlines, one section each
    assert top[0].startswith("1. *<")
    assert "Story 0 " in top[0]
    _check_thread(fake_slack, db)
    (ts,) = db.execute("SELECT ts FROM deliveries WHERE thread_of IS NULL").fetchone()
    assert ts == parent["ts"]
    # Alerts stay top-level messages.
    send_alerts(db, SETTINGS, RULES, web(fake_slack), now=NOW)
    alerts = [m for m in fake_slack.messages if m["channel"] == "#alerts"]
    assert alerts
    assert all("thread_ts" not in m for m in alerts)


def test_layout_single_and_webhooks_post_flat(tmp_path: Path, fake_slack: FakeSlack) -> None:
    from dataclasses import replace

    db = make_db(tmp_path, _seeds())
    single = replace(SETTINGS, digests=(replace(SETTINGS.digests[0], layout="single"),))
    send_digest(db, single, RULES, web(fake_slack), now=NOW)
    assert len(fake_slack.messages) == 1
    assert "thread_ts" not in fake_slack.messages[0]
    db2 = make_db(tmp_path / "b", _seeds())
    hook = SlackWebhookDeliverer(fake_slack.webhook_url, timeout=1, backoff=0.01)
    send_digest(db2, SETTINGS, RULES, hook, now=NOW)  # layout thread asked, a webhook cannot
    webhook_posts = [m for m in fake_slack.messages if m["endpoint"] == "webhook"]
    assert len(webhook_posts) == 1
    assert "thread_ts" not in webhook_posts[0]


def test_rate_limits_and_server_errors_on_a_reply(tmp_path: Path, fake_slack: FakeSlack) -> None:
    db = make_db(tmp_path, _seeds())
    fake_slack.fail("pass")  # the parent goes through
    fake_slack.fail("ratelimited")  # the first reply: 429, retried after Retry-After
    fake_slack.fail("server_error")  # its retry: 500, retried again
    report = send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW)
    assert (report.sent, report.pending) == (3, 0)
    _check_thread(fake_slack, db)


def test_a_timeout_on_a_reply_reuses_the_parent(tmp_path: Path, fake_slack: FakeSlack) -> None:
    db = make_db(tmp_path, _seeds())
    fake_slack.slow_seconds = 1.5
    fake_slack.fail("pass")
    fake_slack.fail("timeout")  # the first reply: no answer in time; Slack posted nothing
    first = send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW)
    assert (first.sent, first.pending) == (1, 2)
    assert len(fake_slack.messages) == 1  # only the parent
    again = send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW)
    assert (again.reserved, again.sent, again.pending) == (0, 2, 0)
    _check_thread(fake_slack, db)


def test_a_failed_parent_holds_its_replies_back(tmp_path: Path, fake_slack: FakeSlack) -> None:
    db = make_db(tmp_path, _seeds())
    fake_slack.fail("server_error", times=3)  # the parent: 500 through every retry
    first = send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW)
    assert (first.sent, first.pending) == (0, 3)
    assert fake_slack.messages == []  # no reply went out without its thread
    again = send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW)
    assert (again.sent, again.pending) == (3, 0)
    _check_thread(fake_slack, db)


def test_sigkill_between_parent_and_replies(tmp_path: Path, fake_slack: FakeSlack) -> None:
    env = {**write_config(tmp_path, THREAD_YAML), **fake_slack.env()}
    make_db(tmp_path, _seeds()).close()
    fake_slack.fail("pass")  # the parent is posted
    fake_slack.fail("hold")  # the first reply arrives and hangs, unanswered
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "digest"],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert fake_slack.received.wait(30), proc.stderr.read() if proc.stderr else ""
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    fake_slack.release()
    assert proc.returncode == -signal.SIGKILL
    assert len(fake_slack.messages) == 1  # the parent only

    db = open_db(Path(env["MONITOR_DB"]))
    states = db.execute("SELECT state, thread_of IS NULL FROM deliveries ORDER BY id").fetchall()
    assert states == [("sent", 1), ("pending", 0), ("pending", 0)]
    rerun = subprocess.run(
        [sys.executable, "-m", "monitor", "digest"],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rerun.returncode == 0, rerun.stderr
    _check_thread(fake_slack, db)
    assert fake_slack.requests["chat.postMessage"] == 4  # parent, the held reply, two replies


def test_preview_shows_the_thread_readably(tmp_path: Path) -> None:
    env = write_config(tmp_path, THREAD_YAML)
    make_db(tmp_path, _seeds()).close()
    out = CliRunner().invoke(cli_main(), ["digest", "preview"], env=env)
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0] == "# to #watch (a thread: its replies follow)"
    assert "# to #watch, a reply in the thread" in lines
    assert any(line.startswith("    ") and "Story 0 " in line for line in lines)  # indented
    data = json.loads(
        CliRunner().invoke(cli_main(), ["digest", "preview", "--json"], env=env).output
    )
    assert [m.get("thread") for m in data] == ["parent", "reply", "reply"]


def cli_main():  # type: ignore[no-untyped-def]
    from monitor.cli import cli

    return cli


def test_a_bad_layout_is_reported_with_its_line(tmp_path: Path) -> None:
    from monitor.config.settings import load_settings
    from monitor.errors import ConfigError

    path = tmp_path / "monitor.yaml"
    path.write_text(
        THREAD_YAML.replace("    max_items: 5\n", "    max_items: 5\n    layout: threads\n")
    )
    try:
        load_settings(path)
    except ConfigError as exc:
        text = exc.format()
    else:
        raise AssertionError("layout: threads was accepted")
    assert f"{path}:7:" in text
    assert "layout must be thread or single" in text
    path.write_text(
        THREAD_YAML.replace("    max_items: 5\n", "    max_items: 5\n    layout: single\n")
    )
    assert load_settings(path).digests[0].layout == "single"


def test_an_archive_from_before_threads_and_feedback_keeps_working(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """Made by the previous version (migrations up to 0300 not applied), with a message left
    pending and an alert already sent: the upgrade sends the pending one flat, once, and
    never alerts again."""
    from monitor.store.migrations import migrations

    path = tmp_path / "monitor.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="0300_feedback")
    from tests.digestdata import seed

    seed(old, _seeds())
    old.close()
    db = open_db(path)  # the new version: migrations 0300_* applied
    assert {"feedback", "feed_mutes"} <= set(db.table_names())
    first = send_alerts(db, SETTINGS, RULES, web(fake_slack), now=NOW)
    assert first.sent >= 1
    # A digest reserved by the old version (no thread role, no thread_of) still goes out.
    db.execute(
        """INSERT INTO deliveries (kind, name, channel, part, parts, message, items, state,
                                   created_at)
           VALUES ('digest', 'daily', '#watch', 1, 1, ?, 0, 'pending', '2026-08-22T21:00:00Z')""",
        [json.dumps({"channel": "#watch", "text": "old", "blocks": [{"type": "divider"}]})],
    )
    db.conn.commit()
    before = len(fake_slack.messages)
    send_alerts(db, SETTINGS, RULES, web(fake_slack), now=NOW)
    new = fake_slack.messages[before:]
    assert [m["text"] for m in new] == ["old"]
    assert "thread_ts" not in new[0]


def test_a_parent_for_many_long_rules_stays_within_slack_limits() -> None:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from monitor.digest.select import plan_digest
    from monitor.digest.thread import render_thread
    from monitor.model import Candidate, Rule
    from tests.fakeslack import payload_problems

    rules = [Rule(id=f"r{i:02d}", name="A very long rule name " * 6, query="x") for i in range(60)]
    cands = [
        Candidate(
            f"i{k}", f"r{k:02d}", 5.0, (), f"Story {k} " + " ".join(f"w{k}x{j}" for j in range(40)), "", f"https://example.com/{k}/" + "a" * 990,
            NOW - timedelta(hours=1), "f", "Feed " * 30,
        )
        for k in range(60)
    ]  # fmt: skip
    sections = plan_digest(cands, rules, channel="#c", max_items=5)
    messages = render_thread(
        sections, name="daily", channel="#c", start=NOW - timedelta(days=1), end=NOW,
        tz=ZoneInfo("UTC"), rules={r.id: r for r in rules},
    )  # fmt: skip
    from monitor.deliver.blocks import payload

    parent = messages[0]
    assert parent.thread == "parent"
    assert parent.problems() == []
    assert payload_problems(payload(parent)) == []
    assert "more rules" in parent.blocks[2].text  # type: ignore[union-attr]
    assert [m.thread for m in messages[1:]] == ["reply"] * (len(messages) - 1)
