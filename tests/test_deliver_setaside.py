"""A message Slack refuses for good is set aside with its reason; the rest flows.

Issue 10 point 3: an error outside the known set-up list (msg_blocks_too_long) was retried on
every run and held back every later digest (0 of 3 delivered over 3 runs). Real slack_sdk
client, the fake Slack, a real SQLite archive.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from monitor.cli import cli
from monitor.deliver.slack import SlackWebDeliverer, SlackWebhookDeliverer
from monitor.deliver.slack_errors import classify
from monitor.pipeline.outbox import flush_pending, send_alerts, send_digest
from monitor.store import backlog
from tests.digestdata import NOW, RULES, Seed, make_db, seed, write_config
from tests.fakeslack import FakeSlack
from tests.test_deliver_slack import SETTINGS, all_matches, delivered


def web(fake: FakeSlack) -> SlackWebDeliverer:
    return SlackWebDeliverer(fake.token, base_url=fake.api_url, timeout=15, backoff=0.01)


TOPICS = ["Seoul summit on chip exports", "Tokyo lithium refinery deal", "Guam naval drills"]


def story(i: int, marker: str = "") -> Seed:
    """Stories that do not cluster with one another."""
    return Seed(f"s{i}", f"{TOPICS[i]} {marker}".strip(), rules={"jkus-trilateral": 2.0})


def states(db: sqlite_utils.Database) -> list[tuple[int, str, str, str | None]]:
    return db.execute("SELECT id, kind, state, last_error FROM deliveries ORDER BY id").fetchall()


def test_a_poison_message_is_set_aside_and_later_digests_flow(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    db = make_db(tmp_path, [story(0, "poison")])
    fake_slack.refuse("poison", "msg_blocks_too_long")  # every time, as Slack would
    reports = []
    for run in range(3):  # three scheduled digests; new stories arrive between them
        if run:
            seed(db, [story(run)], now=NOW + timedelta(hours=run))
        reports.append(
            send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW + timedelta(hours=run))
        )
    # The first digest is set aside, the next two are delivered.
    assert [(r.sent, r.failed) for r in reports] == [(1, 1), (1, 0), (1, 0)]
    digests = [m for m in fake_slack.messages if m["channel"] == "#watch"]
    assert len(digests) == 2
    assert TOPICS[1] in str(digests[0]["blocks"])
    # The reason is kept, and ops heard once (run 1's sent message is the ops report).
    rows = states(db)
    assert rows[0][1:] == ("digest", "failed", "Slack refused the message: msg_blocks_too_long")
    ops = [m for m in fake_slack.messages if m["channel"] == "#ops"]
    assert len(ops) == 1
    assert "set aside" in ops[0]["text"]
    assert "msg_blocks_too_long" in str(ops[0]["blocks"])
    assert "monitor digest retry 1" in str(ops[0]["blocks"])
    # Refused once, never re-sent by later runs.
    assert fake_slack.requests["chat.postMessage"] == 4  # poison, ops report, digest 2, digest 3
    report = reports[0].errors[0]
    assert report.kind == "rejected"
    assert not report.retryable
    # Exactly-once: the set-aside message keeps its matches; nothing else was claimed twice.
    assert sorted(delivered(db)) == [("s1", "jkus-trilateral"), ("s2", "jkus-trilateral")]
    fake_slack.poison.clear()
    assert backlog.retry(db, 1).state == "failed"
    again = flush_pending(db, web(fake_slack), SETTINGS)
    assert again.sent == 1
    assert not again.errors
    assert delivered(db) == all_matches(db)
    assert send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW + timedelta(hours=4)).sent == 0


def test_dropping_a_set_aside_message_hands_its_stories_to_the_next_digest(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    db = make_db(tmp_path, [story(0)])
    fake_slack.fail("refuse:invalid_blocks")
    assert send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW).failed == 1
    assert backlog.drop(db, 1, discard=False) == 1
    report = send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW + timedelta(hours=1))
    assert report.sent == 1
    assert delivered(db) == all_matches(db)
    assert [r[2] for r in states(db)] == ["dropped", "sent", "sent"]  # poison, ops report, new


def test_dropping_with_discard_gives_the_stories_up(tmp_path: Path, fake_slack: FakeSlack) -> None:
    db = make_db(tmp_path, [story(0)])
    fake_slack.fail("refuse:msg_too_long")
    send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW)
    assert backlog.drop(db, 1, discard=True) == 0
    assert (
        send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW + timedelta(hours=1)).reserved
        == 0
    )
    assert delivered(db) == []


def test_a_bad_token_stops_the_flush_and_keeps_every_message_pending(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    db = make_db(
        tmp_path,
        [story(0), Seed("m1", "Lithium deal", rules={"critical-minerals": 2.0})],  # two channels
    )
    fake_slack.fail("invalid_auth", times=5)
    report = send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW)
    assert fake_slack.requests["chat.postMessage"] == 1  # the token is wrong everywhere
    assert (report.sent, report.pending, report.failed) == (0, 2, 0)
    assert report.errors[0].kind == "setup"
    assert report.errors[0].everywhere
    assert [r[2] for r in states(db)] == ["pending", "pending"]


def test_an_alert_refused_for_good_does_not_hold_back_the_next(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    db = make_db(tmp_path, [story(0, "poison"), story(1)])
    fake_slack.refuse("poison", "some_error_nobody_documented")
    report = send_alerts(db, SETTINGS, RULES, web(fake_slack), now=NOW)
    assert (report.sent, report.failed) == (2, 1)  # story 1, and the ops report
    assert [m["channel"] for m in fake_slack.messages] == ["#alerts", "#ops"]


def test_the_webhook_sets_a_refused_message_aside_too(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    db = make_db(tmp_path, [story(0, "poison")])
    hook = SlackWebhookDeliverer(fake_slack.webhook_url, timeout=15, backoff=0.01)
    fake_slack.refuse("poison", "invalid_payload")
    report = send_digest(db, SETTINGS, RULES, hook, now=NOW)
    assert report.failed == 1
    assert report.errors[0].kind == "rejected"
    assert states(db)[0][2:] == ("failed", "the Slack webhook refused the message: invalid_payload")


@pytest.mark.parametrize(
    ("error", "status", "kind", "everywhere"),
    [
        ("ratelimited", 429, "transient", False),
        ("internal_error", 200, "transient", False),
        ("HTTP 503", 503, "transient", False),
        ("invalid_auth", 200, "setup", True),
        ("token_revoked", 200, "setup", True),
        ("missing_scope", 200, "setup", True),
        ("channel_not_found", 200, "setup", False),
        ("not_in_channel", 200, "setup", False),
        ("is_archived", 200, "setup", False),
        ("msg_blocks_too_long", 200, "rejected", False),
        ("invalid_blocks", 200, "rejected", False),
        ("something_new", 200, "rejected", False),
        ("HTTP 400", 400, "rejected", False),
        ("HTTP 403", 403, "setup", True),
    ],
)
def test_slack_errors_are_classified(error: str, status: int, kind: str, everywhere: bool) -> None:
    found = classify(error, "Slack", status=status)
    assert (found.kind, found.everywhere, found.retryable) == (
        kind,
        everywhere,
        kind == "transient",
    )
    if kind != "transient":
        assert found.hint


# --- the commands ---------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack) -> dict[str, str]:
    for var in ("SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL", "SLACK_API_URL"):
        monkeypatch.delenv(var, raising=False)
    values = write_config(tmp_path)
    make_db(tmp_path, [story(0, "poison"), story(1)], now=NOW.replace(year=2030)).close()
    return {**values, **fake_slack.env()}


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_status_retry_and_drop_from_the_command_line(
    env: dict[str, str], fake_slack: FakeSlack
) -> None:
    code, out, _ = run(env, "digest", "status")
    assert (code, out) == (0, "Nothing waiting: every message was sent.\nLast sent: nothing yet.\n")
    fake_slack.refuse("poison", "msg_blocks_too_long")
    # Two stories, one message: it is refused. The command says so and exits 1.
    code, _, err = run(env, "digest")
    assert code == 1
    assert err.startswith("daily digest: 1 message sent to Slack, 1 set aside.\n")  # ops report
    assert "Error: Slack refused the message: msg_blocks_too_long (set aside" in err
    code, out, _ = run(env, "digest", "status")
    assert code == 0
    assert "Set aside (1): Slack refused these for good." in out
    assert "#1     daily digest → #watch · 2 items" in out
    assert "reason: Slack refused the message: msg_blocks_too_long" in out
    assert "ops messages" in out  # the ops report went out: "Last sent"
    # preview no longer says only "nothing new": it names the message set aside and why
    code, out, _ = run(env, "digest", "preview")
    assert out.startswith("daily digest: nothing new to send.\n")
    assert "Set aside: message 1 (daily digest → #watch): Slack refused the message:" in out
    assert "`monitor digest retry 1`" in out
    # Retry while Slack still refuses: set aside again, ops not told twice.
    code, _, err = run(env, "digest", "retry", "1")
    assert code == 1
    assert "Message 1 (daily digest → #watch) is pending again." in err
    assert sum(m["channel"] == "#ops" for m in fake_slack.messages) == 1
    fake_slack.poison.clear()
    code, _, err = run(env, "digest", "retry", "1")
    assert code == 0
    assert "retry: 1 message sent to Slack." in err
    code, out, _ = run(env, "digest", "status")
    assert "Nothing waiting" in out
    assert "daily digest" in out
    # ids that are not set aside
    code, _, err = run(env, "digest", "retry", "1")
    assert code == 2
    assert err == "Error: message 1 is not set aside: it was sent\n"
    code, _, err = run(env, "digest", "drop", "99")
    assert code == 2
    assert err.startswith("Error: there is no message 99 in the delivery ledger\n")


def test_drop_from_the_command_line_says_where_the_stories_go(
    env: dict[str, str], fake_slack: FakeSlack
) -> None:
    fake_slack.refuse("poison", "msg_blocks_too_long")
    run(env, "digest")
    fake_slack.poison.clear()
    code, out, _ = run(env, "digest", "drop", "1")
    assert (code, out) == (
        0,
        "Dropped message 1 (daily digest → #watch); its 2 matches go into the next digest.\n",
    )
    code, _, err = run(env, "digest")
    assert code == 0
    assert "1 message sent" in err


def test_status_json_lists_what_waits(env: dict[str, str], fake_slack: FakeSlack) -> None:
    import json

    fake_slack.refuse("poison", "msg_blocks_too_long")
    run(env, "digest")
    _code, out, _ = run(env, "digest", "status", "--json")
    doc = json.loads(out)
    (row,) = doc["waiting"]
    assert (row["id"], row["state"], row["kind"]) == (1, "failed", "digest")
    assert row["last_error"] == "Slack refused the message: msg_blocks_too_long"
    assert [s["kind"] for s in doc["last_sent"]] == ["ops"]


def test_preview_says_what_is_pending_and_why(env: dict[str, str], fake_slack: FakeSlack) -> None:
    fake_slack.missing_channels.add("#watch")
    code, _, err = run(env, "digest")
    assert code == 2
    assert "channel_not_found" in err
    code, out, _ = run(env, "digest", "preview")
    assert code == 0
    assert out == (
        "daily digest: nothing new to send.\n"
        "1 earlier message pending, sent first on the next run"
        " (last error: Slack refused the message: channel_not_found).\n"
    )
    code, out, _ = run(env, "digest", "status")
    assert "Pending (1), sent first on the next run:" in out
    assert "last error: Slack refused the message: channel_not_found" in out
