"""The real slack_sdk clients against the fake Slack: retries, outages, no duplicates, no losses."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlite_utils

from monitor.config.settings import AlertSpec, DigestSpec, OpsSpec, Settings
from monitor.deliver.slack import SlackWebDeliverer, SlackWebhookDeliverer
from monitor.pipeline.outbox import (
    draft_digest,
    flush_pending,
    send_alerts,
    send_digest,
    send_ops_alerts,
)
from monitor.store.db import to_db_time
from tests.digestdata import NOW, RULES, Seed, make_db, many, seed
from tests.fakeslack import FakeSlack

SETTINGS = Settings(
    timezone="Asia/Tokyo",
    # flat messages: these tests are about the ledger, threads have their own (test_slack_thread)
    digests=(DigestSpec(name="daily", channel="#watch", max_items=500, layout="single"),),
    alerts=AlertSpec(channel="#alerts"),
    ops=OpsSpec(enabled=True, channel="#ops", failing_hours=2),
)


def web(fake: FakeSlack, timeout: int = 1) -> SlackWebDeliverer:
    return SlackWebDeliverer(fake.token, base_url=fake.api_url, timeout=timeout, backoff=0.01)


def delivered(db: sqlite_utils.Database) -> list[tuple[str, str]]:
    """(item, rule) pairs whose message Slack confirmed."""
    return db.execute(
        """SELECT di.item_id, di.rule_id FROM delivery_items di
           JOIN deliveries d ON d.id = di.delivery_id WHERE d.state = 'sent'
           ORDER BY 1, 2"""
    ).fetchall()


def all_matches(db: sqlite_utils.Database) -> list[tuple[str, str]]:
    return db.execute("SELECT item_id, rule_id FROM matches ORDER BY 1, 2").fetchall()


def posted_titles(fake: FakeSlack) -> list[str]:
    return [t.split("|", 1)[1].split(">", 1)[0] for t in fake.texts() if t.startswith("*<")]


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    return make_db(tmp_path, many(10))


def test_digest_posts_once_with_ts_recorded(
    db: sqlite_utils.Database, fake_slack: FakeSlack
) -> None:
    report = send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW)
    assert (report.reserved, report.sent, report.pending) == (1, 1, 0)
    assert delivered(db) == all_matches(db)
    (ts,) = db.execute("SELECT ts FROM deliveries").fetchone()
    assert ts == fake_slack.messages[0]["ts"]
    again = send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW)
    assert (again.reserved, again.sent) == (0, 0)
    assert fake_slack.requests["chat.postMessage"] == 1


@pytest.mark.parametrize("scenario", ["ratelimited", "server_error"])
def test_rate_limits_and_server_errors_are_retried_by_slack_sdk(
    db: sqlite_utils.Database, fake_slack: FakeSlack, scenario: str
) -> None:
    fake_slack.fail(scenario)
    report = send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW)
    assert report.sent == 1
    assert not report.errors
    assert fake_slack.requests["chat.postMessage"] == 2
    assert len(fake_slack.messages) == 1


def test_an_outage_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    db = make_db(tmp_path, many(120))  # big enough to need several messages
    fake_slack.fail("server_error", times=50)
    report = send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW)
    assert report.sent == 0
    assert report.pending == report.reserved > 1
    assert report.errors
    assert report.errors[0].retryable
    assert fake_slack.messages == []
    assert delivered(db) == []
    # more news arrives while Slack is down; a second digest run is still refused
    seed(
        db,
        [Seed("late1", "Late news on Japan and Korea unrelated words", rules={"japan-korea": 3.0})],
    )
    send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW + timedelta(hours=1))
    fake_slack._plan.clear()  # Slack is back
    report = flush_pending(db, web(fake_slack))
    assert report.pending == 0
    assert not report.errors
    titles = posted_titles(fake_slack)
    assert len(titles) == len(set(titles)) == 121
    assert delivered(db) == all_matches(db)
    parts = [m["blocks"][0]["text"]["text"] for m in fake_slack.messages]
    assert "(1/" in parts[0]
    assert all("digest" in p for p in parts)


def test_dropped_connection_and_timeout_leave_the_message_pending(
    db: sqlite_utils.Database, fake_slack: FakeSlack
) -> None:
    fake_slack.slow_seconds = 2.0
    for scenario in ("drop", "timeout"):
        fake_slack.fail(scenario)
        report = send_digest(db, SETTINGS, RULES, web(fake_slack, timeout=1), now=NOW)
        assert report.sent == 0
        assert report.pending == 1
        assert report.errors[0].retryable
    assert fake_slack.messages == []
    report = flush_pending(db, web(fake_slack))
    assert report.sent == 1
    assert len(fake_slack.messages) == 1
    (attempts,) = db.execute("SELECT attempts FROM deliveries").fetchone()
    assert attempts == 3


def test_lost_answer_is_the_one_duplicate_window(
    db: sqlite_utils.Database, fake_slack: FakeSlack
) -> None:
    # Slack posts the message but the answer never arrives: we cannot know, so it is resent.
    fake_slack.fail("accept_then_drop")
    report = send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW)
    assert report.pending == 1
    flush_pending(db, web(fake_slack))
    assert len(fake_slack.messages) == 2  # documented in docs/delivery.md
    assert flush_pending(db, web(fake_slack)).sent == 0


def test_setup_errors_hold_back_only_their_channel(tmp_path: Path, fake_slack: FakeSlack) -> None:
    db = make_db(
        tmp_path,
        [
            Seed(
                "m1", "Lithium deal between Japan and Australia", rules={"critical-minerals": 2.0}
            ),
            Seed("t1", "Trilateral summit in Seoul planned", rules={"jkus-trilateral": 2.0}),
        ],
    )
    fake_slack.missing_channels.add("#minerals")
    report = send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW)
    assert report.sent == 1
    assert report.pending == 1
    err = report.errors[0]
    assert not err.retryable
    assert err.message == "Slack refused the message: channel_not_found"
    assert err.hint == "check the channel in monitor.yaml and invite the bot: /invite @your-bot"
    assert [m["channel"] for m in fake_slack.messages] == ["#watch"]
    fake_slack.missing_channels.clear()
    assert flush_pending(db, web(fake_slack)).sent == 1
    assert delivered(db) == all_matches(db)


def test_webhook_posts_and_retries(db: sqlite_utils.Database, fake_slack: FakeSlack) -> None:
    hook = SlackWebhookDeliverer(fake_slack.webhook_url, timeout=1, backoff=0.01)
    fake_slack.fail("server_error")
    report = send_digest(db, SETTINGS, RULES, hook, now=NOW)
    assert report.sent == 1
    assert fake_slack.requests["webhook"] == 2
    (destination, ts) = db.execute("SELECT destination, ts FROM deliveries").fetchone()
    assert (destination, ts) == ("webhook", None)
    assert "channel" not in fake_slack.messages[0]


def test_webhook_invalid_token_is_a_setup_error(
    db: sqlite_utils.Database, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("invalid_auth")
    hook = SlackWebhookDeliverer(fake_slack.webhook_url, timeout=1, backoff=0.01)
    report = send_digest(db, SETTINGS, RULES, hook, now=NOW)
    assert report.errors[0].message == "the Slack webhook refused the message: invalid_token"
    assert not report.errors[0].retryable


def test_alerts_go_out_once_per_story_for_high_priority_rules(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    db = make_db(
        tmp_path,
        [
            Seed(
                "a1",
                "Japan, South Korea and US agree trilateral chip pact",
                feed="reuters",
                rules={"jkus-trilateral": 6.0, "japan-korea": 4.0},
            ),
            Seed(
                "a2",
                "Japan, South Korea and US agree trilateral chip pact - Yonhap",
                feed="yonhap",
                rules={"jkus-trilateral": 5.0},
            ),
            Seed(
                "old",
                "Old trilateral news from last week",
                rules={"jkus-trilateral": 9.0},
                age_hours=100,
            ),
            Seed("n1", "Japan Korea fisheries talks", rules={"japan-korea": 9.0}),
        ],
    )
    report = send_alerts(db, SETTINGS, RULES, web(fake_slack), now=NOW)
    assert report.sent == 1
    (message,) = fake_slack.messages
    assert message["channel"] == "#alerts"
    assert message["blocks"][0]["text"]["text"] == "Alert: Japan–US–Korea trilateral"
    assert "also: Yonhap" in fake_slack.texts()[0]
    assert (
        send_alerts(db, SETTINGS, RULES, web(fake_slack), now=NOW + timedelta(minutes=1)).reserved
        == 0
    )
    # the digest still carries everything: alerts and digests keep separate ledgers
    send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW)
    assert delivered(db)  # sanity
    digest_items = {
        i
        for i, _ in db.execute(
            "SELECT item_id, rule_id FROM delivery_items WHERE kind='digest'"
        ).fetchall()
    }
    assert digest_items == {"a1", "a2", "old", "n1"}


def test_ops_hears_once_when_a_feed_fails_and_once_when_it_recovers(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    db = make_db(tmp_path, [])
    db.execute(
        "INSERT INTO feeds (id, name, last_error, consecutive_failures, error_since) VALUES (?, ?, ?, ?, ?)",
        [
            "meti",
            "METI news <!here>",
            "HTTP 503 Service Unavailable",
            4,
            to_db_time(NOW - timedelta(hours=3)),
        ],
    )
    db.execute(
        "INSERT INTO feeds (id, name, last_error, consecutive_failures, error_since) VALUES (?, ?, ?, ?, ?)",
        ["fresh", "Fresh failure", "timeout", 1, to_db_time(NOW - timedelta(minutes=30))],
    )
    db.conn.commit()
    deliverer = web(fake_slack)
    assert send_ops_alerts(db, SETTINGS, deliverer, now=NOW).sent == 1
    assert send_ops_alerts(db, SETTINGS, deliverer, now=NOW + timedelta(minutes=5)).sent == 0
    text = fake_slack.messages[0]["text"]
    assert text.startswith("Feed METI news &lt;!here&gt; has been failing since")
    db.execute(
        "UPDATE feeds SET consecutive_failures = 0, error_since = NULL, last_error = NULL WHERE id = 'meti'"
    )
    db.conn.commit()
    assert send_ops_alerts(db, SETTINGS, deliverer, now=NOW + timedelta(hours=1)).sent == 1
    assert "has recovered" in fake_slack.messages[1]["text"]
    assert send_ops_alerts(db, SETTINGS, deliverer, now=NOW + timedelta(minutes=70)).sent == 0
    assert [m["channel"] for m in fake_slack.messages] == ["#ops", "#ops"]
    assert fake_slack.injected == []


def test_the_fake_slack_notices_a_raw_mention(fake_slack: FakeSlack) -> None:
    # proves the `injected == []` checks above can fail
    web(fake_slack).client.chat_postMessage(channel="#x", text="hi <!channel> <javascript:x|y>")
    assert fake_slack.injected == ["<!channel>", "javascript:x"]


def test_a_later_copy_of_a_told_story_is_not_posted_again(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    title = "Japan, South Korea and US agree trilateral chip pact"
    db = make_db(tmp_path, [Seed("first", title, feed="reuters", rules={"jkus-trilateral": 6.0})])
    assert send_alerts(db, SETTINGS, RULES, web(fake_slack), now=NOW).sent == 1
    assert send_digest(db, SETTINGS, RULES, web(fake_slack), now=NOW).sent == 1
    # an hour later Yonhap carries the same story, and another outlet a different one
    seed(
        db,
        [
            Seed(
                "copy",
                title + " - Yonhap",
                feed="yonhap",
                rules={"jkus-trilateral": 5.0},
                age_hours=0,
            ),
            Seed(
                "other",
                "Seoul and Tokyo sign fisheries accord quietly",
                rules={"jkus-trilateral": 2.0},
                age_hours=0,
            ),
        ],
        now=NOW + timedelta(hours=1),
    )
    later = NOW + timedelta(hours=1, minutes=1)
    assert send_alerts(db, SETTINGS, RULES, web(fake_slack), now=later).sent == 1
    assert send_digest(db, SETTINGS, RULES, web(fake_slack), now=later).sent == 1
    titles = posted_titles(fake_slack)
    assert titles.count(title) == 2  # once as an alert, once in the first digest
    assert not any("Yonhap" in t for t in titles)
    assert titles.count("Seoul and Tokyo sign fisheries accord quietly") == 2
    # the copy is recorded as carried by the messages that told the story
    rows = db.execute(
        "SELECT di.kind, d.id FROM delivery_items di JOIN deliveries d ON d.id = di.delivery_id"
        " WHERE di.item_id = 'copy' ORDER BY di.kind"
    ).fetchall()
    firsts = db.execute(
        "SELECT di.kind, di.delivery_id FROM delivery_items di WHERE di.item_id = 'first' ORDER BY di.kind"
    ).fetchall()
    assert rows == firsts


def test_since_limits_the_digest_to_recently_seen_items(tmp_path: Path) -> None:
    db = make_db(
        tmp_path,
        [
            Seed(
                "new",
                "Fresh trilateral statement from Seoul",
                rules={"jkus-trilateral": 1.0},
                age_hours=2,
            ),
            Seed(
                "old",
                "Older trilateral statement from Tokyo",
                rules={"jkus-trilateral": 9.0},
                age_hours=30,
            ),
        ],
    )
    draft = draft_digest(db, SETTINGS, RULES, since=timedelta(hours=24), now=NOW)
    claims = {c for m in draft.messages for c in m.claims}
    assert claims == {("new", "jkus-trilateral")}
    assert draft.start == NOW - timedelta(hours=24)
    everything = draft_digest(db, SETTINGS, RULES, now=NOW)
    assert {c for m in everything.messages for c in m.claims} == {
        ("new", "jkus-trilateral"),
        ("old", "jkus-trilateral"),
    }
