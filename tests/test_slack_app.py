"""The Slack app (monitor/slackapp) with the real slack_bolt and slack_sdk clients against the
fake Slack: Socket Mode envelopes in, acks, response_url answers and chat.update out."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor.digest import buttons
from monitor.slackapp.runner import Runner, SlackAppConfig, Tuning
from monitor.slackapp.workbench import Paths
from monitor.store.db import open_db
from tests.digestdata import Seed, make_db, write_config
from tests.fakeslack import APP_TOKEN, TOKEN, FakeSlack
from tests.fakeslack import start as start_fake

FEEDS_YAML = """\
defaults:
  interval: 15m
  kind: news
  lang: en
feeds:
  - id: reuters
    name: Reuters
    url: http://127.0.0.1:9/reuters.xml
  - id: gossip
    name: Gossip Daily
    url: http://127.0.0.1:9/gossip.xml
"""

SEEDS = [
    Seed(
        "gal1",
        "China tightens gallium export controls",
        summary="Japan and Korea look for new gallium suppliers.",
        rules={"critical-minerals": 5.0},
    ),
    Seed(
        "ger2",
        "Germanium prices jump after China's curbs",
        rules={"critical-minerals": 4.0},
        age_hours=2,
    ),
    Seed(
        "tri3",
        "Japan, US and Korea hold trilateral summit",
        rules={"jkus-trilateral": 6.0},
        feed="gossip",
    ),
]


@dataclass
class Running:
    fake: FakeSlack
    runner: Runner
    db_path: Path
    thread: threading.Thread

    def command(self, text: str, **kw: object) -> dict[str, object]:
        """Push `/monitor TEXT`; wait for its ack and its ephemeral answer."""
        name = f"r{len(self.fake.socket.pushed)}"
        before = len(self.fake.responses)
        env = self.fake.socket.push(
            "slash_commands", self.fake.slash_payload(text, name=name, **kw)
        )  # type: ignore[arg-type]
        self.fake.socket.wait_ack(env)
        self.fake.wait_for(lambda: len(self.fake.responses) > before)
        return next(r for r in self.fake.responses if r["name"] == name)


def _start(tmp_path: Path, fake: FakeSlack, tuning: Tuning, **config: str) -> Running:
    paths = Paths(
        db=tmp_path / "monitor.db", rules=tmp_path / "rules", feeds=tmp_path / "feeds.yaml"
    )
    runner = Runner(
        paths,
        SlackAppConfig(bot_token=TOKEN, app_token=APP_TOKEN, api_url=fake.api_url, **config),
        tuning,
    )
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    fake.socket.wait_connected()
    return Running(fake, runner, paths.db, thread)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    write_config(tmp_path)
    (tmp_path / "feeds.yaml").write_text(FEEDS_YAML, encoding="utf-8")
    make_db(tmp_path, SEEDS).close()
    return tmp_path


@pytest.fixture
def running(archive: Path) -> Iterator[Running]:
    fake, server = start_fake()
    r = _start(archive, fake, Tuning(watchdog=30, backoff_min=0.05, backoff_max=0.2))
    try:
        yield r
    finally:
        r.runner.stop.set()
        r.thread.join(10)
        fake.socket.close()
        server.shutdown()
        server.server_close()


def _post_item_message(fake: FakeSlack, item: str, rule: str) -> dict[str, object]:
    """A digest-like message with the feedback row, as if the monitor had posted it."""
    from slack_sdk import WebClient

    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*China tightens gallium*"}},
        {
            "type": "actions",
            "block_id": buttons.block_id(item, rule),
            "elements": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "text": {"type": "plain_text", "text": text},
                    "value": buttons.value(item, rule),
                }
                for action_id, text in buttons.BUTTONS
            ],
        },
    ]
    WebClient(token=TOKEN, base_url=fake.api_url).chat_postMessage(
        channel="C123", text="digest", blocks=blocks
    )
    return fake.messages[-1]


def _labels(db_path: Path) -> list[tuple[str, ...]]:
    db = open_db(db_path)
    rows = db.execute(
        "SELECT item_id, rule_id, label, user_id, team_id FROM feedback ORDER BY id"
    ).fetchall()
    db.close()
    return [tuple(r) for r in rows]


# --- /monitor --------------------------------------------------------------------------------


def test_search_answers_ephemerally_with_archive_items(running: Running) -> None:
    answer = running.command("search gallium OR germanium")
    assert answer["response_type"] == "ephemeral"
    text = str(answer["text"])
    assert "China tightens gallium export controls" in text
    assert "Germanium prices jump" in text
    assert "trilateral" not in text
    assert "<https://example.com/gal1|" in text  # linked


def test_search_gives_the_same_items_as_the_cli(running: Running, archive: Path) -> None:
    from click.testing import CliRunner

    from monitor.cli import cli

    env = write_config(archive)
    out = CliRunner().invoke(cli, ["search", "gallium OR germanium", "--format", "json"], env=env)
    assert out.exit_code == 0, out.output
    cli_ids = {f["id"] for f in json.loads(out.output)}
    text = str(running.command("search gallium OR germanium")["text"])
    slack_ids = {i for i in ("gal1", "ger2", "tri3") if f"id `{i}`" in text}
    assert slack_ids == cli_ids == {"gal1", "ger2"}


def test_search_options_rule_and_since(running: Running) -> None:
    text = str(
        running.command("search Japan OR China --rule jkus-trilateral --since 3650d")["text"]
    )
    assert "trilateral summit" in text
    assert "gallium" not in text
    # The seeded items are months old: a week finds none of them.
    assert "No archived item" in str(running.command("search Japan OR China --since 7d")["text"])


def test_a_malformed_query_answers_with_the_caret_message(running: Running) -> None:
    text = str(running.command("search gallium AND (Japan")["text"])
    assert "does not parse" in text
    assert "^" in text
    assert "column" in text
    assert "Hint" in text or "expected" in text.lower() or ")" in text


def test_explain_rules_status_and_help(running: Running) -> None:
    text = str(running.command("explain gal1 critical-minerals")["text"])
    assert "critical-minerals" in text
    assert "query" in text
    assert "✓" in text
    text = str(running.command("rules")["text"])
    assert "critical-minerals" in text
    assert "no feedback yet" in text
    text = str(running.command("status")["text"])
    assert "Feeds" in text
    assert "2 in all" in text
    text = str(running.command("help")["text"])
    assert "/monitor search QUERY" in text
    text = str(running.command("explain gal1 no-such-rule")["text"])
    assert "unknown rule" in text
    assert "Hint" in text
    text = str(running.command("frobnicate")["text"])
    assert "unknown command" in text
    assert "/monitor help" in text


def test_mute_and_unmute_from_slack_show_in_status(running: Running) -> None:
    text = str(running.command("mute gossip 3d")["text"])
    assert "Muted `gossip`" in text
    assert "`gossip` until" in str(running.command("status")["text"])
    assert "Unmuted" in str(running.command("unmute gossip")["text"])
    assert "not muted" in str(running.command("unmute gossip")["text"])
    assert "unknown feed" in str(running.command("mute gosip")["text"])


def test_slash_text_is_capped_and_never_becomes_a_mention(running: Running) -> None:
    text = str(running.command("search " + "a " * 600)["text"])
    assert "at most 1000" in text
    text = str(running.command("search <!channel> &lt;@U1&gt;")["text"])
    assert "<!channel>" not in text
    assert "<@U1>" not in text


def test_slash_text_is_data_never_sql(running: Running) -> None:
    """Quotes, semicolons and SQL in slash text reach SQLite only as bound values or as a
    parsed query: every answer is a sentence and the archive is unchanged."""

    def counts() -> tuple[int, ...]:
        db = open_db(running.db_path)
        try:
            return tuple(
                db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("items", "matches", "feeds", "feedback")
            )
        finally:
            db.close()

    before = counts()
    for text, want in [
        ("search gallium'; DROP TABLE items;", "No archived item"),
        ('search gallium OR "x\'); DROP TABLE items; --"', "China tightens gallium"),
        ("search gallium OR x'); DROP TABLE items;", "does not parse"),
        ("search x' OR '1'='1", "No archived item"),
        ("explain gal1';DELETE(matches) critical-minerals", "is not a valid id"),
        ("explain gal1 critical-minerals';DROP", "is not a valid id"),
        ("mute gossip';DELETE(feeds) 3d", "is not a valid id"),
        ("unmute x'OR'1'='1", "is not a valid id"),
    ]:
        answer = str(running.command(text)["text"])
        assert want in answer, (text, answer)
        assert "Traceback" not in answer
        assert "sqlite" not in answer.lower(), (text, answer)
    assert counts() == before
    assert "China tightens gallium" in str(running.command("search gallium")["text"])


# --- buttons ---------------------------------------------------------------------------------


def test_a_click_is_stored_and_the_message_updated(running: Running) -> None:
    fake = running.fake
    message = _post_item_message(fake, "gal1", "critical-minerals")
    value = buttons.value("gal1", "critical-minerals")
    env = fake.socket.push(
        "block_actions", fake.action_payload("feedback:relevant", value, message=message)
    )
    fake.socket.wait_ack(env)
    fake.wait_for(lambda: fake.updates)
    update = fake.updates[-1]
    assert update["ts"] == message["ts"]
    assert update["channel"] == "C123"
    row = next(b for b in update["blocks"] if b["type"] == "actions")
    shown = [e["text"]["text"] for e in row["elements"]]
    assert shown[0] == "✓ relevant · @analyst"
    assert shown[1:] == ["Not relevant", "Mute source"]
    assert _labels(running.db_path) == [("gal1", "critical-minerals", "relevant", "U123", "T000")]


def test_the_same_envelope_twice_counts_once(running: Running) -> None:
    fake = running.fake
    message = _post_item_message(fake, "gal1", "critical-minerals")
    payload = fake.action_payload(
        "feedback:not_relevant", buttons.value("gal1", "critical-minerals"), message=message
    )
    first = fake.socket.push("block_actions", payload, envelope_id="same-envelope")
    fake.socket.wait_ack(first)
    fake.wait_for(lambda: fake.updates)
    fake.socket.acks.pop("same-envelope")
    again = fake.socket.push("block_actions", payload, envelope_id="same-envelope")
    fake.socket.wait_ack(again)  # acknowledged again, so Slack stops redelivering
    # Redelivered under a new envelope id (as after a reconnect): the click's identity dedupes.
    third = fake.socket.push("block_actions", payload)
    fake.socket.wait_ack(third)
    # A later, different click by the same reader is kept as history.
    later = fake.action_payload(
        "feedback:relevant",
        buttons.value("gal1", "critical-minerals"),
        message=message,
        action_ts="1700000200.000001",
    )
    fake.socket.wait_ack(fake.socket.push("block_actions", later))
    fake.wait_for(lambda: len(fake.updates) >= 2)
    labels = [r[2] for r in _labels(running.db_path)]
    assert labels == ["not_relevant", "relevant"]
    assert len(fake.updates) == 2


def test_a_button_naming_nothing_in_the_archive_stores_nothing(running: Running) -> None:
    fake = running.fake
    message = _post_item_message(fake, "gal1", "critical-minerals")
    for n, value in enumerate(
        [
            buttons.value("nosuchitem", "critical-minerals"),
            buttons.value("gal1", "jkus-trilateral"),  # exists, but that rule never matched it
            "not json",
            json.dumps({"item": 1, "rule": ["x"]}),
        ]
    ):
        before = len(fake.responses)
        payload = fake.action_payload("feedback:relevant", value, message=message, name=f"bad{n}")
        fake.socket.wait_ack(fake.socket.push("block_actions", payload))
        fake.wait_for(lambda before=before: len(fake.responses) > before)
        assert "nothing was stored" in str(fake.responses[-1]["text"])
    assert _labels(running.db_path) == []
    assert fake.updates == []


def test_mute_source_button_mutes_the_feed_for_seven_days(running: Running) -> None:
    fake = running.fake
    message = _post_item_message(fake, "tri3", "jkus-trilateral")
    payload = fake.action_payload(
        "feedback:mute_source", buttons.value("tri3", "jkus-trilateral"), message=message
    )
    fake.socket.wait_ack(fake.socket.push("block_actions", payload))
    fake.wait_for(lambda: fake.updates)
    text = str(running.command("status")["text"])
    assert "`gossip` until" in text
    assert "analyst" in text


# --- security --------------------------------------------------------------------------------


def test_an_envelope_for_another_app_or_team_is_ignored(archive: Path) -> None:
    fake, server = start_fake()
    r = _start(archive, fake, Tuning(watchdog=30, backoff_min=0.05), team_id="T000")
    try:
        message = _post_item_message(fake, "gal1", "critical-minerals")
        value = buttons.value("gal1", "critical-minerals")
        other_app = fake.socket.push(
            "block_actions",
            fake.action_payload("feedback:relevant", value, message=message, app_id="A999"),
        )
        other_team = fake.socket.push(
            "slash_commands", fake.slash_payload("help", team="T999", name="other-team")
        )
        fake.socket.wait_ack(other_app)  # acknowledged so Slack does not redeliver, not handled
        fake.socket.wait_ack(other_team)
        # An envelope for us after them is handled: the two before were seen and dropped.
        assert "/monitor search" in str(r.command("help")["text"])
        assert _labels(archive / "monitor.db") == []
        assert fake.updates == []
        assert all(resp["name"] != "other-team" for resp in fake.responses)
    finally:
        r.runner.stop.set()
        r.thread.join(10)
        fake.socket.close()
        server.shutdown()


def test_tokens_never_reach_the_log(running: Running, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    running.command("search gallium")
    running.fake.socket.drop()
    running.fake.socket.wait_connected(2)
    running.command("help")
    assert caplog.records  # debug logging was on
    assert TOKEN not in caplog.text
    assert APP_TOKEN not in caplog.text
    assert TOKEN not in repr(running.runner.__dict__)


# --- the connection --------------------------------------------------------------------------


def test_a_dropped_connection_then_the_next_envelope_is_handled(archive: Path) -> None:
    fake, server = start_fake()
    r = _start(archive, fake, Tuning(watchdog=1.0, backoff_min=0.05, backoff_max=0.2))
    try:
        assert "/monitor search" in str(r.command("help")["text"])
        fake.socket.drop()
        fake.socket.wait_connected(2)
        assert "gallium" in str(r.command("search gallium")["text"])
    finally:
        r.runner.stop.set()
        r.thread.join(10)
        fake.socket.close()
        server.shutdown()


def test_the_watchdog_replaces_a_silent_connection(archive: Path) -> None:
    fake, server = start_fake()
    r = _start(archive, fake, Tuning(watchdog=1.0, backoff_min=0.05, backoff_max=0.2))
    try:
        fake.socket.stall()  # open, but nothing comes back: no pongs, no envelopes
        fake.socket.wait_connected(2)
        assert "/monitor search" in str(r.command("help")["text"])
    finally:
        r.runner.stop.set()
        r.thread.join(10)
        fake.socket.close()
        server.shutdown()


def test_a_healthy_idle_connection_is_kept(archive: Path) -> None:
    fake, server = start_fake()
    r = _start(archive, fake, Tuning(watchdog=0.8, backoff_min=0.05, backoff_max=0.2))
    try:
        # Wait until several watchdog periods' worth of pings were answered, then check
        # that the first connection is still the only one.
        with fake.socket._changed:
            assert fake.socket._changed.wait_for(lambda: fake.socket.pings >= 8, 20)
        assert fake.socket.connections_made == 1
    finally:
        r.runner.stop.set()
        r.thread.join(10)
        fake.socket.close()
        server.shutdown()


def test_failed_connects_back_off_then_connect(archive: Path) -> None:
    fake, server = start_fake()
    # auth.test (at start) passes; apps.connections.open then fails twice: 500, then 429
    fake.fail("pass")
    fake.fail("server_error")
    fake.fail("ratelimited")
    paths = Paths(db=archive / "monitor.db", rules=archive / "rules", feeds=archive / "feeds.yaml")
    runner = Runner(
        paths,
        SlackAppConfig(bot_token=TOKEN, app_token=APP_TOKEN, api_url=fake.api_url),
        Tuning(watchdog=30, backoff_min=0.05, backoff_max=0.2),
    )
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    try:
        fake.socket.wait_connected()
        assert runner.connected.wait(10)
        assert fake.requests["apps.connections.open"] >= 3
        assert runner.connections == 1
        r = Running(fake, runner, paths.db, thread)
        assert "/monitor search" in str(r.command("help")["text"])
    finally:
        runner.stop.set()
        thread.join(10)
        fake.socket.close()
        server.shutdown()
