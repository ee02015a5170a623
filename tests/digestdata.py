"""Archive contents for digest and delivery tests: feeds, items and matches in a real SQLite file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from monitor.model import Hit, Rule
from monitor.store.db import open_db, to_db_time

NOW = datetime(2026, 8, 22, 22, 0, tzinfo=UTC)

RULES = (
    Rule(id="jkus-trilateral", name="Japan–US–Korea trilateral", query="x", priority="high"),
    Rule(id="japan-korea", name="Japan–Korea relations", query="x"),
    Rule(id="critical-minerals", name="Critical minerals", query="x", channel="#minerals"),
)


@dataclass
class Seed:
    id: str
    title: str
    feed: str = "reuters"
    url: str = ""
    summary: str = ""
    age_hours: float = 1.0
    rules: dict[str, float] = field(default_factory=dict)  # rule id -> score
    hits: tuple[Hit, ...] = ()


def seed(db: sqlite_utils.Database, seeds: list[Seed], now: datetime = NOW) -> None:
    feeds = {s.feed for s in seeds}
    for f in sorted(feeds):
        db.execute(
            "INSERT OR IGNORE INTO feeds (id, name) VALUES (?, ?)", [f, f.replace("-", " ").title()]
        )
    for s in seeds:
        when = to_db_time(now - timedelta(hours=s.age_hours))
        db.execute(
            "INSERT INTO items (id, feed_id, url, title, summary, published, first_seen)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [s.id, s.feed, s.url or f"https://example.com/{s.id}", s.title, s.summary, when, when],
        )
        hits = json.dumps(
            [{"term": h.term, "field": h.field, "start": h.start, "end": h.end} for h in s.hits]
        )
        for rule_id, score in s.rules.items():
            db.execute(
                "INSERT INTO matches (item_id, rule_id, rule_version, score, hits, matched_at)"
                " VALUES (?, ?, 'v1', ?, ?, ?)",
                [s.id, rule_id, score, hits, when],
            )
    db.conn.commit()


def make_db(tmp_path: Path, seeds: list[Seed], now: datetime = NOW) -> sqlite_utils.Database:
    db = open_db(tmp_path / "monitor.db")
    seed(db, seeds, now)
    return db


def many(n: int, rule: str = "jkus-trilateral", feed: str = "reuters") -> list[Seed]:
    """n distinct stories (titles share no words) with falling scores."""
    return [
        Seed(
            id=f"{rule[:4]}{i:04d}",
            title=f"Story {i} " + " ".join(f"{rule[:3]}{i}x{j}" for j in range(6)),
            feed=feed,
            summary=f"Summary {i} about Japan and Korea " + "lorem ipsum " * 10,
            age_hours=1 + i / 100,
            rules={rule: 10.0 - i / 1000},
        )
        for i in range(n)
    ]


def write_config(tmp_path: Path, settings: str | None = None) -> dict[str, str]:
    """Rule files for RULES and a monitor.yaml; returns the env that points the CLI at them."""
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir(exist_ok=True)
    for rule in RULES:
        text = f"id: {rule.id}\nname: {rule.name}\nquery: Japan\npriority: {rule.priority}\n"
        if rule.channel:
            text += f'channel: "{rule.channel}"\n'
        (rules_dir / f"{rule.id}.yaml").write_text(text, encoding="utf-8")
    settings_path = tmp_path / "monitor.yaml"
    settings_path.write_text(
        settings
        or (
            "timezone: Asia/Tokyo\n"
            "digests:\n"
            "  - name: daily\n"
            '    schedule: "0 8 * * *"\n'
            '    channel: "#watch"\n'
            "    max_items: 5\n"
            "    layout: single\n"  # threaded digests are tested in test_slack_thread.py
            "alerts:\n"
            '  channel: "#alerts"\n'
            "ops:\n"
            '  channel: "#ops"\n'
            "  failing_hours: 2\n"
        ),
        encoding="utf-8",
    )
    return {
        "MONITOR_DB": str(tmp_path / "monitor.db"),
        "MONITOR_RULES": str(rules_dir),
        "MONITOR_SETTINGS": str(settings_path),
        "MONITOR_FEEDS": str(tmp_path / "feeds.yaml"),
    }
