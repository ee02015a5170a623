"""Text from servers and feeds is printed as text: rich never reads it as markup.

Real feed server on 127.0.0.1 (hostile reason phrases and redirects), real poll into a
real SQLite file, real CLI through click.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli import cli
from tests.feedserver import FeedServer

LINK_REASON = "[link=https://evil.example/]click me[/link] [/bold]"
GOPHER = "gopher://x/[/bold]"

HOSTILE_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>[/bold] feed</title><link>http://127.0.0.1/</link>
<item><title>Copper [/bold] [link=x]talks[/link] [red]</title>
<link>http://127.0.0.1/news/1</link><guid>n-1</guid>
<description>copper [/] summary</description>
<pubDate>Fri, 21 Aug 2026 09:00:00 GMT</pubDate></item>
</channel></rss>
"""


@pytest.fixture
def workdir(tmp_path: Path, feed_server: FeedServer) -> Path:
    feed_server.add_scenario("/reason.xml", "reason_phrase", reason=LINK_REASON, status=599)
    feed_server.add_scenario("/gopher.xml", "redirect", to=GOPHER, status=302)
    feed_server.add_file("/hostile.xml", HOSTILE_FEED)
    (tmp_path / "feeds.yaml").write_text(
        f"""\
defaults:
  interval: 15m
  timeout: 2s
  kind: news
  lang: en
feeds:
  - id: reason
    name: "[bold]Reason[/bold"
    url: {feed_server.url("/reason.xml")}
  - id: gopher
    name: Gopher
    url: {feed_server.url("/gopher.xml")}
  - id: hostile
    name: Hostile
    url: {feed_server.url("/hostile.xml")}
""",
        encoding="utf-8",
    )
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "copper.yaml").write_text(
        "id: copper\nname: Copper\nquery: copper\n", encoding="utf-8"
    )
    return tmp_path


def monitor(workdir: Path, *args: str) -> Result:
    base = ["--feeds", str(workdir / "feeds.yaml"), "--rules", str(workdir / "rules")]
    base += ["--settings", str(workdir / "monitor.yaml"), "--db", str(workdir / "archive.db")]
    return CliRunner().invoke(cli, [*base, *args], catch_exceptions=False)


def test_poll_and_feeds_status_print_server_text_as_text(workdir: Path) -> None:
    poll = monitor(workdir, "poll", "--once")
    assert poll.exit_code in (0, 1), poll.output
    assert "click me" in poll.stdout
    assert "[link=" in poll.stdout
    status = monitor(workdir, "feeds", "status")
    assert status.exit_code == 0, status.output
    flat = " ".join(status.stdout.split())
    assert "[link=https://evil.example/]click" in flat
    assert "[/bold]" in flat
    again = monitor(workdir, "poll", "--once")  # the stored error does not stop the next poll
    assert again.exit_code in (0, 1), again.output


def test_search_and_stats_print_stored_text_as_text(workdir: Path) -> None:
    assert monitor(workdir, "poll", "--once").exit_code in (0, 1)
    found = monitor(workdir, "search", "copper")
    assert found.exit_code == 0, found.output
    assert "[link=x]talks[/link]" in found.stdout
    assert "[red]" in found.stdout
    nothing = monitor(workdir, "search", '"[/bold]"')
    assert nothing.exit_code in (0, 2), nothing.output
    stats = monitor(workdir, "stats")
    assert stats.exit_code == 0, stats.output
