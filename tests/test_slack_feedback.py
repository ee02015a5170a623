"""Feedback buttons in real digests and alerts, clicked through the real Slack app, and what
the stored feedback does: mutes keep a feed out of digests, labels export for `rules eval`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config.settings import AlertSpec, DigestSpec, OpsSpec, Settings
from monitor.deliver.slack import SlackWebDeliverer
from monitor.pipeline.outbox import draft_digest, send_alerts, send_digest
from monitor.store import feedback as store
from monitor.store.db import open_db, utcnow
from tests.digestdata import NOW, RULES, Seed, make_db
from tests.fakeslack import APP_TOKEN, FakeSlack
from tests.test_slack_app import FEEDS_YAML, Running, _start

SETTINGS = Settings(
    timezone="Asia/Tokyo",
    digests=(DigestSpec(name="daily", channel="#watch", max_items=500, layout="single"),),
    alerts=AlertSpec(channel="#alerts", max_age=timedelta(days=3650)),
    ops=OpsSpec(enabled=False, channel="#ops", failing_hours=2),
)
SEEDS = [
    Seed("tri1", "Japan, US and Korea hold trilateral summit", rules={"jkus-trilateral": 6.0}),
    Seed("jk2", "Japan and Korea mend ties over history", rules={"japan-korea": 3.0}),
    Seed("gos3", "Seoul gossip column about Tokyo", feed="gossip", rules={"japan-korea": 1.0}),
]


@pytest.fixture
def buttons_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")


@pytest.fixture
def running(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Running]:
    from tests.digestdata import write_config

    write_config(tmp_path)
    (tmp_path / "feeds.yaml").write_text(FEEDS_YAML, encoding="utf-8")
    make_db(tmp_path, SEEDS).close()
    from monitor.slackapp.runner import Tuning

    r = _start(tmp_path, fake_slack, Tuning(watchdog=30, backoff_min=0.05))
    try:
        yield r
    finally:
        r.runner.stop.set()
        r.thread.join(10)


def _web(fake: FakeSlack) -> SlackWebDeliverer:
    return SlackWebDeliverer(fake.token, base_url=fake.api_url, timeout=2, backoff=0.01)


def _rows(message: dict[str, object]) -> list[dict[str, object]]:
    return [b for b in message["blocks"] if b["type"] == "actions"]  # type: ignore[index, union-attr]


def test_every_item_of_a_digest_and_an_alert_has_the_three_buttons(
    tmp_path: Path, fake_slack: FakeSlack, buttons_on: None
) -> None:
    db = make_db(tmp_path, SEEDS)
    send_digest(db, SETTINGS, RULES, _web(fake_slack), now=NOW)
    send_alerts(db, SETTINGS, RULES, _web(fake_slack), now=NOW)
    digest, alert = fake_slack.messages
    values = [json.loads(e["value"]) for row in _rows(digest) for e in row["elements"]]  # type: ignore[index, union-attr]
    assert {(v["item"], v["rule"]) for v in values} == {
        ("tri1", "jkus-trilateral"),
        ("jk2", "japan-korea"),
        ("gos3", "japan-korea"),
    }
    for row in _rows(digest) + _rows(alert):
        assert [e["action_id"] for e in row["elements"]] == [  # type: ignore[index, union-attr]
            "feedback:relevant",
            "feedback:not_relevant",
            "feedback:mute_source",
        ]
    (alert_row,) = _rows(alert)
    assert json.loads(alert_row["elements"][0]["value"]) == {
        "item": "tri1",
        "rule": "jkus-trilateral",
    }  # type: ignore[index]


def test_no_buttons_without_the_app_token(tmp_path: Path, fake_slack: FakeSlack) -> None:
    db = make_db(tmp_path, SEEDS)
    send_digest(db, SETTINGS, RULES, _web(fake_slack), now=NOW)
    assert _rows(fake_slack.messages[0]) == []


def test_a_click_on_a_real_digest_updates_it_and_mute_keeps_the_feed_out(
    running: Running, buttons_on: None
) -> None:
    fake = running.fake
    db = open_db(running.db_path)
    send_digest(db, SETTINGS, RULES, _web(fake), now=NOW)
    digest = fake.messages[-1]
    value = json.dumps({"item": "gos3", "rule": "japan-korea"}, separators=(",", ":"))
    payload = fake.action_payload("feedback:mute_source", value, message=digest)
    fake.socket.wait_ack(fake.socket.push("block_actions", payload))
    fake.wait_for(lambda: fake.updates)
    update = fake.updates[-1]
    assert update["ts"] == digest["ts"]
    texts = [e["text"]["text"] for row in _rows(update) for e in row["elements"]]  # type: ignore[index, union-attr]
    assert "🔇 source muted 7d · @analyst" in texts
    fake.wait_for(lambda: fake.responses)
    assert "Muted `gossip` for 7 days" in str(fake.responses[-1]["text"])
    assert texts.count("Relevant") == 3  # the other items' rows are untouched
    # A new item from the muted feed stays out of the next digest; others still go.
    from tests.digestdata import seed

    # (The app mutes from the real clock, so the new items are first seen by it too.)
    seed(
        db,
        [
            Seed(
                "gos4", "More Seoul gossip", feed="gossip", rules={"japan-korea": 2.0}, age_hours=0
            ),
            Seed("jk5", "Korea and Japan sign pact", rules={"japan-korea": 2.0}, age_hours=0),
        ],
        utcnow(),
    )
    draft = draft_digest(db, SETTINGS, RULES)
    shown = json.dumps([m.to_json() for m in draft.messages])
    assert "Korea and Japan sign pact" in shown
    assert "More Seoul gossip" not in shown
    # An unmute lets the feed's new items through again (not those seen while muted).
    later = utcnow() + timedelta(minutes=1)
    assert store.unmute_feed(db, "gossip", later)
    fresh = Seed("gos6", "Pyongyang rumours swirl", feed="gossip", rules={"japan-korea": 2.0})
    seed(db, [fresh], later + timedelta(hours=1, minutes=1))
    draft = draft_digest(db, SETTINGS, RULES, now=later + timedelta(minutes=2))
    shown = json.dumps([m.to_json() for m in draft.messages])
    assert "Pyongyang rumours swirl" in shown
    assert "More Seoul gossip" not in shown
    db.close()


def test_precision_from_feedback_in_slash_rules(running: Running) -> None:
    db = open_db(running.db_path)
    for n, (user, item, label) in enumerate(
        [("U1", "jk2", "relevant"), ("U2", "gos3", "not_relevant"), ("U1", "gos3", "relevant"),
         ("U1", "gos3", "not_relevant")]  # U1 changed their mind: the latest counts
    ):  # fmt: skip
        store.record_click(
            db, store.Click(item, "japan-korea", label, user, user, "T000", f"k{n}"), NOW
        )
    db.close()
    text = str(running.command("rules")["text"])
    line = next(x for x in text.splitlines() if "`japan-korea`" in x)
    assert "50% of 2 judged" in line


def test_button_rows_are_measured_as_sent_and_a_busy_digest_still_fits(
    fake_slack: FakeSlack,
) -> None:
    from zoneinfo import ZoneInfo

    from monitor.deliver.blocks import payload, to_block
    from monitor.digest.buttons import feedback_row
    from monitor.digest.select import plan_digest
    from monitor.message import slack_dict
    from monitor.model import Candidate, Hit, Rule
    from tests.fakeslack import payload_problems

    row = feedback_row("3f9a2c1d0b7e4a55", 'rule-"quoted"')
    assert slack_dict(row) == to_block(row).to_dict()
    rules = [
        Rule(id=f"r{i}", name=f"Rule number {i} with a long name", query="x") for i in range(4)
    ]
    cands = [
        Candidate(
            f"item{k:012d}",
            f"r{k % 4}",
            5.0,
            (Hit("Japan", "summary", 0, 5),),
            f"Story {k} " + " ".join(f"w{k}y{j}" for j in range(40)),
            "Japan said Korea talks 日本政府は " * 20,
            f"https://example.com/{'a' * 150}/{k}",
            NOW - timedelta(hours=k),
            "f",
            "Some Feed Name",
        )
        for k in range(40)
    ]
    from monitor.digest.render import render_digest

    sections = plan_digest(cands, rules, channel="#c", max_items=100)
    messages = render_digest(
        sections,
        name="daily",
        channel="#c",
        start=NOW - timedelta(days=1),
        end=NOW,
        tz=ZoneInfo("Asia/Tokyo"),
        rules={r.id: r for r in rules},
        feedback=True,
    )
    deliverer = _web(fake_slack)
    for m in messages:
        assert payload_problems(payload(m)) == []
        assert m.problems() == []
        deliverer.send(m)
    rows = [b for m in fake_slack.messages for b in m["blocks"] if b["type"] == "actions"]
    assert len(rows) == 40  # every story has its buttons
    shown = sorted(c for m in messages for c in m.claims)
    assert shown == sorted((c.item_id, c.rule_id) for c in cands)
