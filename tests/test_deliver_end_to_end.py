"""Real feeds → real pipeline → shipped rules → digest and alerts → the real slack_sdk → fake Slack.

The demo snapshots (real feed files, shipped with the package) are polled over HTTP on
127.0.0.1 into a fresh archive; every message built from that real text must be valid Block
Kit, mention nobody, and deliver every match exactly once.
"""

from __future__ import annotations

from pathlib import Path

from monitor.config.settings import load_settings
from monitor.deliver.slack import SlackWebDeliverer
from monitor.demo import demo_sources
from monitor.demo.server import SnapshotServer
from monitor.pipeline.outbox import send_alerts, send_digest
from monitor.pipeline.poll import poll_once
from monitor.pipeline.rules import Rules
from monitor.store.db import from_db_time, open_db
from tests.fakeslack import FakeSlack

ROOT = Path(__file__).resolve().parent.parent


def test_demo_archive_is_delivered_once_as_valid_block_kit(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    rules = Rules(ROOT / "rules")
    rules.load()
    db_path = tmp_path / "monitor.db"
    with SnapshotServer() as server:
        summary = poll_once(db_path, demo_sources(server.url), rules=rules, workers=0)
    assert summary.matches > 0

    settings = load_settings(ROOT / "monitor.yaml")
    book = list(rules.book.rules)  # type: ignore[union-attr]
    db = open_db(db_path)
    # the snapshots are old: judge "recent" from the newest item, as if polled back then
    (newest,) = db.execute("SELECT MAX(first_seen) FROM items").fetchone()
    now = from_db_time(newest)
    deliverer = SlackWebDeliverer(fake_slack.token, base_url=fake_slack.api_url, timeout=2)

    digest = send_digest(db, settings, book, deliverer, now=now)
    alerts = send_alerts(db, settings, book, deliverer, now=now)
    assert not digest.errors
    assert not alerts.errors
    assert digest.sent >= 1
    assert fake_slack.injected == []
    wanted = {r.id for r in book if r.id in settings.digest("daily").rules}
    undelivered = db.execute(
        f"""SELECT COUNT(*) FROM matches m WHERE m.rule_id IN ({",".join("?" * len(wanted))})
            AND NOT EXISTS (SELECT 1 FROM delivery_items di JOIN deliveries d
                            ON d.id = di.delivery_id AND d.state = 'sent'
                            WHERE di.kind = 'digest' AND di.item_id = m.item_id
                              AND di.rule_id = m.rule_id)""",
        sorted(wanted),
    ).fetchone()
    assert undelivered == (0,)
    count = len(fake_slack.messages)
    assert send_digest(db, settings, book, deliverer, now=now).sent == 0
    assert send_alerts(db, settings, book, deliverer, now=now).sent == 0
    assert len(fake_slack.messages) == count
