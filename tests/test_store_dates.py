"""Dates before year 1000: stored fixed-width, read back tolerantly, never block delivery.

Real feed over HTTP on 127.0.0.1, the real pipeline and shipped rules, a real SQLite file,
the real slack_sdk talking to the fake Slack Web API.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.config.settings import load_settings
from monitor.deliver.slack import SlackWebDeliverer
from monitor.pipeline.outbox import send_alerts, send_digest
from monitor.pipeline.poll import poll_once
from monitor.pipeline.rules import Rules
from monitor.store.db import from_db_time, open_db, to_db_time
from monitor.store.items import latest_items
from tests.fakeslack import FakeSlack
from tests.feedserver import FeedServer
from tests.test_pipeline import source

ROOT = Path(__file__).resolve().parent.parent

ANCIENT_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Test feed</title><link>http://127.0.0.1/</link>
<item><title>Japan, Korea and the US agree on a trilateral critical minerals pact</title>
<link>http://127.0.0.1/news/old</link><guid>old-1</guid>
<pubDate>Fri, 01 Jan 0999 00:00:00 GMT</pubDate></item>
<item><title>Japan, South Korea and the United States hold trilateral summit on minerals</title>
<link>http://127.0.0.1/news/new</link><guid>new-1</guid>
<pubDate>Fri, 21 Aug 2026 09:00:00 GMT</pubDate></item>
</channel></rss>
"""


def test_years_before_1000_are_written_with_four_digits() -> None:
    assert to_db_time(datetime(999, 1, 1, tzinfo=UTC)) == "0999-01-01T00:00:00Z"
    assert to_db_time(datetime(1, 2, 3, 4, 5, 6, tzinfo=UTC)) == "0001-02-03T04:05:06Z"
    assert from_db_time("0999-01-01T00:00:00Z") == datetime(999, 1, 1, tzinfo=UTC)
    # rows written by earlier versions (unpadded) read back too
    assert from_db_time("999-01-01T00:00:00Z") == datetime(999, 1, 1, tzinfo=UTC)
    assert from_db_time("5-06-07T08:09:10Z") == datetime(5, 6, 7, 8, 9, 10, tzinfo=UTC)
    assert to_db_time(datetime(999, 1, 1, tzinfo=UTC)) < to_db_time(datetime(2026, 1, 1))


def _deliver(db_path: Path, fake_slack: FakeSlack, now: datetime) -> tuple[int, int]:
    rules = Rules(ROOT / "rules")
    rules.load()
    settings = load_settings(ROOT / "monitor.yaml")
    book = list(rules.book.rules)  # type: ignore[union-attr]
    deliverer = SlackWebDeliverer(fake_slack.token, base_url=fake_slack.api_url, timeout=2)
    db = open_db(db_path)
    digest = send_digest(db, settings, book, deliverer, now=now)
    alerts = send_alerts(db, settings, book, deliverer, now=now)
    assert not digest.errors
    assert not alerts.errors
    return digest.sent, alerts.sent


def _as_first_written(dt: datetime) -> str:
    """to_db_time as it was before its fast path: astimezone, then strftime."""
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt
    try:
        dt = dt.astimezone(UTC)
    except OverflowError:
        dt = dt.replace(tzinfo=UTC)
    return f"{dt.year:04d}-" + dt.strftime("%m-%dT%H:%M:%SZ")


def test_stored_times_are_what_strftime_wrote() -> None:
    rng = random.Random(3)
    zones = [UTC, None, timezone(timedelta(hours=9)), timezone(timedelta(hours=-5, minutes=-30))]
    zones.append(ZoneInfo("Asia/Seoul"))
    edges = [datetime(1, 1, 1, 3, tzinfo=timezone(timedelta(hours=9)))]
    edges.append(datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-9))))
    stamps = [*edges]
    for _ in range(5000):
        moment = datetime(1, 1, 1) + timedelta(seconds=rng.randrange(0, 315_537_897_600))
        stamps.append(moment.replace(tzinfo=rng.choice(zones), microsecond=rng.randrange(10**6)))
    assert [to_db_time(s) for s in stamps] == [_as_first_written(s) for s in stamps]


def test_an_item_dated_year_999_is_stored_and_delivered(
    feed_server: FeedServer, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    rules = Rules(ROOT / "rules")
    rules.load()
    feed_server.add_file("/old.xml", ANCIENT_FEED)
    db_path = tmp_path / "monitor.db"
    summary = poll_once(db_path, [source(feed_server, "/old.xml", "old")], rules=rules, workers=0)
    assert summary.matches >= 2
    with sqlite3.connect(db_path) as conn:
        published = sorted(r[0] for r in conn.execute("SELECT published FROM items"))
    assert published[0] == "0999-01-01T00:00:00Z"
    now = datetime.now(UTC)
    digest_sent, _ = _deliver(db_path, fake_slack, now)
    assert digest_sent >= 1
    text = str(fake_slack.messages)
    assert "trilateral critical minerals pact" in text
    assert "trilateral summit" in text


def test_a_row_stored_unpadded_by_an_old_version_does_not_block_delivery(
    feed_server: FeedServer, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    rules = Rules(ROOT / "rules")
    rules.load()
    feed_server.add_file("/old.xml", ANCIENT_FEED)
    db_path = tmp_path / "monitor.db"
    poll_once(db_path, [source(feed_server, "/old.xml", "old")], rules=rules, workers=0)
    # Make the archive look as an old version left it: unpadded year, pad migration not run.
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE items SET published = '999-01-01T00:00:00Z' WHERE guid = 'old-1'")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = '0400_pad_years'")
    # A read-only reader tolerates the old text as it is...
    items = latest_items(open_db(db_path, readonly=True), limit=5)
    assert sorted(i.published.year for i in items) == [999, 2026]  # unpadded sorts first
    # ...and the next writer pads it, so it sorts where it belongs.
    digest_sent, _ = _deliver(db_path, fake_slack, datetime.now(UTC))
    assert digest_sent >= 1
    assert "trilateral critical minerals pact" in str(fake_slack.messages)
    with sqlite3.connect(db_path) as conn:
        (published,) = conn.execute("SELECT published FROM items WHERE guid = 'old-1'").fetchone()
    assert published == "0999-01-01T00:00:00Z"
