"""`full_text:` in feeds.yaml (issue 15): values, defaults, and mistakes with FILE:LINE."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from monitor.config.feeds import load_feeds
from monitor.errors import ConfigError
from monitor.pipeline.poll import Poller
from tests.feedserver import FeedServer, add_article, article_page, feed_of
from tests.test_config_feeds import broken, line_of, problems_of

FEED = "    url: https://www.mining.com/feed/\n"


def test_default_auto_and_per_feed_and_defaults_block(tmp_path: Path) -> None:
    path, _ = broken(tmp_path, (FEED, FEED + "    full_text: always\n"))
    feeds = {f.id: f for f in load_feeds(path).feeds}
    assert feeds["mining-com"].full_text == "always"
    assert {f.full_text for i, f in feeds.items() if i != "mining-com"} == {"auto"}
    path, _ = broken(tmp_path, ("  enabled: true\n", "  enabled: true\n  full_text: never\n"))
    assert {f.full_text for f in load_feeds(path).feeds} == {"never"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("allways", "feed 'mining-com': unknown full_text 'allways' (did you mean 'always'?)"),
        (
            "yes",
            "feed 'mining-com': full_text must be auto, always or never, not true (a yes/no "
            "value) (write full_text: always (or never); auto fetches when summaries are short)",
        ),
    ],
)
def test_a_bad_value_is_named_with_its_line(tmp_path: Path, value: str, expected: str) -> None:
    path, text = broken(tmp_path, (FEED, FEED + f"    full_text: {value}\n"))
    assert problems_of(path) == [f"{path}:{line_of(text, f'full_text: {value}')}: {expected}"]
    with pytest.raises(ConfigError):
        load_feeds(path)


def test_the_daemon_path_reads_pages_too(feed_server: FeedServer, tmp_path: Path) -> None:
    """`monitor run` polls each feed with Poller.poll_feed, outside a poll() cycle."""
    from tests.test_fulltext_pipeline import JIS, feed, rows

    link = add_article(feed_server, "/news/aice", article_page(JIS))
    feed_server.add_file("/press.xml", feed_of([("AICE 2022", link, "")]))
    src = feed(feed_server, "/press.xml")

    async def run() -> None:
        async with Poller(tmp_path / "a.db", workers=0) as poller:
            await poller.sync([src])
            outcome = await poller.poll_feed(src, mode="scheduled")
            assert outcome.status == "ok"
            assert outcome.new == 1

    asyncio.run(run())
    assert rows(tmp_path / "a.db", "SELECT body_status FROM items") == [("ok",)]


def test_poll_once_from_feeds_yaml_reads_the_article_and_matches_it(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """`monitor poll --once` end to end: feeds.yaml with full_text, a rule, the archive."""
    import json
    import sqlite3

    from click.testing import CliRunner

    from monitor.cli import cli
    from tests.test_fulltext_pipeline import JIS

    link = add_article(feed_server, "/news/aice", article_page(JIS))
    feed_server.add_file("/press.xml", feed_of([("AICE 2022 opens", link, "")]))
    (tmp_path / "feeds.yaml").write_text(
        "defaults:\n  kind: government\n  lang: en\n  full_text: never\nfeeds:\n"
        f"  - id: jis\n    name: JIS\n    url: {feed_server.url('/press.xml')}\n"
        "    full_text: always\n",
        encoding="utf-8",
    )
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "montego.yaml").write_text(
        "id: montego\nname: M\nquery: " + json.dumps('"Montego Bay"') + "\n", encoding="utf-8"
    )
    base = ["--feeds", str(tmp_path / "feeds.yaml"), "--rules", str(tmp_path / "rules")]
    base += ["--settings", str(tmp_path / "monitor.yaml"), "--db", str(tmp_path / "a.db")]
    result = CliRunner().invoke(cli, [*base, "poll", "--once"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "1 new item, 0 updated, 1 match" in result.output
    with sqlite3.connect(tmp_path / "a.db") as conn:
        assert conn.execute("SELECT body_status FROM items").fetchall() == [("ok",)]
        assert conn.execute("SELECT rule_id FROM matches").fetchall() == [("montego",)]
