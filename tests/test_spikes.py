"""Spikes: a rule's last 24 h against its trailing 14 days, one alert a rule a day, in stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config.settings import load_settings
from monitor.deliver.slack import SlackWebDeliverer
from monitor.errors import ConfigError
from monitor.model import Rule, Volume
from monitor.pipeline.spikes import send_spikes
from monitor.store.db import open_db, to_db_time
from tests.digestdata import write_config
from tests.fakeslack import FakeSlack

NOW = datetime(2026, 8, 22, 12, 0, tzinfo=UTC)
RULES = [
    Rule(id="japan-korea", name="Japan–Korea", query="x"),
    Rule(id="quiet", name="Quiet", query="x"),
]
SETTINGS = (
    'timezone: Asia/Tokyo\nalerts:\n  channel: "#alerts"\nspikes:\n  factor: 3\n  minimum: 10\n'
)


def test_baseline_is_median_and_spread_and_a_spike_needs_all_three_conditions() -> None:
    usual = (2, 1, 3, 2, 2, 40, 2, 1, 2, 3, 2, 2, 1, 2)  # one very busy day does not move it
    v = Volume("r", 14, usual, history=True)
    assert v.usual == 2
    assert v.spread == 0
    assert v.ratio == 7
    assert v.is_spike(factor=3, minimum=10)
    assert not Volume("r", 9, usual, True).is_spike(factor=3, minimum=10)  # under the minimum
    assert not Volume("r", 14, usual, True).is_spike(factor=8, minimum=10)  # under the factor
    noisy = (0, 10, 0, 10, 0, 10, 0, 10, 0, 10, 0, 10, 5, 5)
    assert not Volume("r", 20, noisy, True).is_spike(factor=3, minimum=10)  # within 3 spreads
    assert not Volume("r", 14, usual, history=False).is_spike(factor=3, minimum=10)
    quiet = Volume("r", 12, (0,) * 14, True)
    assert quiet.ratio == 12
    assert quiet.is_spike(factor=3, minimum=10)


def _archive(tmp_path: Path, busy: int = 14, now: datetime = NOW) -> Path:
    db = open_db(tmp_path / "monitor.db")
    db.execute("INSERT INTO feeds (id, name) VALUES ('reuters', 'Reuters')")
    rows = []
    for day in range(1, 15):  # two items a day for two weeks
        rows += [(now - timedelta(days=day, hours=h), f"Routine story {day}-{h}") for h in (1, 5)]
    rows += [(now - timedelta(hours=1 + h), f"Seoul and Tokyo story {h}") for h in range(busy)]
    for n, (when, title) in enumerate(rows):
        stamp = to_db_time(when)
        db.execute(
            "INSERT INTO items (id, feed_id, url, title, published, first_seen)"
            " VALUES (?, 'reuters', ?, ?, ?, ?)",
            [f"i{n:03d}", f"https://example.com/{n}", title, stamp, stamp],
        )
        db.execute(
            "INSERT INTO matches (item_id, rule_id, rule_version, score, hits, matched_at)"
            " VALUES (?, 'japan-korea', 'v1', ?, '[]', ?)",
            [f"i{n:03d}", float(n), stamp],
        )
    db.execute(  # a quiet rule: two items in the last day and nothing before
        "INSERT INTO matches (item_id, rule_id, rule_version, score, hits, matched_at)"
        " SELECT id, 'quiet', 'v1', 1, '[]', first_seen FROM items WHERE title LIKE 'Seoul%' LIMIT 2"
    )
    db.conn.commit()
    db.close()
    return tmp_path / "monitor.db"


def test_one_spike_message_per_rule_per_day(tmp_path: Path, fake_slack: FakeSlack) -> None:
    (tmp_path / "monitor.yaml").write_text(SETTINGS, encoding="utf-8")
    settings = load_settings(tmp_path / "monitor.yaml")
    assert settings.spikes.enabled
    assert settings.spikes.channel == "#alerts"
    db = open_db(_archive(tmp_path))
    deliverer = SlackWebDeliverer(fake_slack.token, base_url=fake_slack.api_url, timeout=2)
    report = send_spikes(db, settings, RULES, deliverer, now=NOW)
    assert report.sent == 1
    assert report.reserved == 1
    (message,) = fake_slack.messages
    assert message["channel"] == "#alerts"
    assert message["text"].startswith("japan-korea: 14 items in 24 h, 7.0× usual · top: ")
    assert "top: Seoul and Tokyo story 13 · " in message["text"]  # the best-scoring first
    # later the same day: nothing new, even from a new process reading the ledger
    assert send_spikes(db, settings, RULES, deliverer, now=NOW + timedelta(hours=2)).sent == 0
    assert len(fake_slack.messages) == 1
    # the next day (in Asia/Tokyo) the rule may alert again if it still runs hot
    again = send_spikes(db, settings, RULES, deliverer, now=NOW + timedelta(hours=14))
    assert again.reserved in (0, 1)
    names = [r[0] for r in db.execute("SELECT name FROM deliveries WHERE kind = 'spike'")]
    assert names[0] == "japan-korea@2026-08-22"
    assert len(set(names)) == len(names)


def test_no_spike_without_a_spikes_section_or_below_the_threshold(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    deliverer = SlackWebDeliverer(fake_slack.token, base_url=fake_slack.api_url, timeout=2)
    db = open_db(_archive(tmp_path, busy=5))
    (tmp_path / "monitor.yaml").write_text(SETTINGS, encoding="utf-8")
    assert (
        send_spikes(db, load_settings(tmp_path / "monitor.yaml"), RULES, deliverer, now=NOW).sent
        == 0
    )
    (tmp_path / "monitor.yaml").write_text("timezone: UTC\n", encoding="utf-8")
    off = load_settings(tmp_path / "monitor.yaml")
    assert not off.spikes.enabled
    assert fake_slack.messages == []


def test_a_fresh_archive_has_no_baseline_and_never_spikes(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    db = open_db(_archive(tmp_path))
    db.execute(
        "DELETE FROM matches WHERE item_id IN (SELECT id FROM items WHERE title LIKE 'Routine%')"
    )
    db.execute("DELETE FROM items WHERE title LIKE 'Routine%'")  # everything is from today
    db.conn.commit()
    (tmp_path / "monitor.yaml").write_text(SETTINGS, encoding="utf-8")
    deliverer = SlackWebDeliverer(fake_slack.token, base_url=fake_slack.api_url, timeout=2)
    assert (
        send_spikes(db, load_settings(tmp_path / "monitor.yaml"), RULES, deliverer, now=NOW).sent
        == 0
    )


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("spikes:\n  factor: 0.5\n", "factor must be a number ≥ 1"),
        ("spikes:\n  minimum: x\n", "minimum must be a number ≥ 1"),
        ("spikes:\n  treshold: 3\n", "treshold"),
        ("spikes:\n  channel: 'my alerts'\n", "contains a space"),
    ],
)
def test_bad_spike_settings_name_file_and_line(tmp_path: Path, section: str, message: str) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text("timezone: UTC\n" + section, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert message in str(err.value.problems[0])
    assert err.value.problems[0].line >= 2


def test_stats_shows_each_rules_last_day_against_its_usual_day(tmp_path: Path) -> None:
    env = write_config(tmp_path, SETTINGS)
    _archive(tmp_path, now=datetime.now(UTC))  # stats judges "last 24 h" by the real clock
    result = CliRunner().invoke(cli, ["stats"], env=env, catch_exceptions=False)
    assert result.exit_code == 0
    assert "Last 24 h against the trailing 14 days" in result.stdout
    row = next(
        line for line in result.stdout.splitlines() if "japan-korea" in line and "yes" in line
    )
    assert "14" in row
    assert "7.0" in row
    as_json = CliRunner().invoke(cli, ["stats", "--json"], env=env, catch_exceptions=False)
    import json

    volumes = {v["rule"]: v for v in json.loads(as_json.stdout)["volumes"]}
    assert volumes["japan-korea"]["spike"] is True
    assert volumes["japan-korea"]["last_24h"] == 14
    assert volumes["quiet"]["spike"] is False
