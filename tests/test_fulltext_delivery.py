"""A match found only in the article text reaches Slack once (issue 15): a real page from
127.0.0.1, real extraction, a real SQLite file, the real slack_sdk against the fake Slack."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from monitor.config.settings import AlertSpec, DigestSpec, OpsSpec, Settings
from monitor.deliver.slack import SlackWebDeliverer
from monitor.model import FeedSource
from monitor.pipeline.outbox import send_digest
from monitor.pipeline.poll import poll_once
from monitor.pipeline.rules import Rules
from monitor.store.db import open_db
from tests.fakeslack import FakeSlack
from tests.feedserver import FeedServer, add_article, article_page, feed_of

JIS = "trafilatura/jis.gov.jm-investment.html"  # a government press release (Jamaica)
SETTINGS = Settings(
    timezone="UTC",
    digests=(DigestSpec(name="daily", channel="#watch", max_items=5, layout="single"),),
    alerts=AlertSpec(channel="#alerts"),
    ops=OpsSpec(enabled=False, channel="#ops", failing_hours=2),
)


def test_a_match_found_only_in_the_article_text_is_delivered_once(
    feed_server: FeedServer, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    link = add_article(feed_server, "/news/aice", article_page(JIS))
    feed_server.add_file(
        "/press.xml", feed_of([("AICE 2022 opens in June", link, "Investment conference.")])
    )
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "montego.yaml").write_text(
        'id: montego\nname: Montego Bay\nquery: "\\"Montego Bay Convention Centre\\""\n', "utf-8"
    )
    rules = Rules(rules_dir)
    rules.load()
    source = FeedSource(
        id="press",
        name="JIS",
        url=feed_server.url("/press.xml"),
        kind="government",
        country="JM",
        lang="en",
        interval=900,
        timeout=5.0,
        full_text="always",
    )
    db_path = tmp_path / "monitor.db"
    assert poll_once(db_path, [source], rules=rules, workers=0).matches == 1
    book = list(rules.book.rules)  # type: ignore[union-attr]
    deliverer = SlackWebDeliverer(fake_slack.token, base_url=fake_slack.api_url, timeout=2)
    db = open_db(db_path)
    try:
        first = send_digest(db, SETTINGS, book, deliverer, since=timedelta(days=3650))
        assert not first.errors
        assert first.sent == 1
        posted = json.dumps(fake_slack.messages)
        assert "AICE 2022 opens in June" in posted
        assert posted.count("AICE 2022 opens in June") == 1  # one story, not one per hit
        # the next poll (page not fetched again) and the next digest send nothing new
        assert poll_once(db_path, [source], rules=rules, workers=0).matches == 0
        again = send_digest(db, SETTINGS, book, deliverer, since=timedelta(days=3650))
        assert again.sent == 0
        assert len(fake_slack.messages) == 1
    finally:
        db.close()
    assert feed_server.count("/news/aice") == 1
