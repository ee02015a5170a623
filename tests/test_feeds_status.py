"""`monitor feeds status` says why a feed is not polled: disabled (with the server's reason)
or off in feeds.yaml. Real feed server on 127.0.0.1, real archive, real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from tests.feedserver import FeedServer
from tests.test_poll_cli import feeds_yaml, monitor, workdir

__all__ = ["workdir"]  # the fixture, shared with test_poll_cli

OFF = """\
  - id: paused
    name: Paused feed
    url: http://127.0.0.1:9/paused.xml
    enabled: false
"""


def _row(stdout: str, feed: str) -> list[str]:
    line = next(x for x in stdout.splitlines() if x.startswith(feed + " "))
    return [cell.strip() for cell in line.split("│")]


def test_a_disabled_feed_shows_its_reason_and_is_not_due(
    workdir: Path, feed_server: FeedServer
) -> None:
    (workdir / "feeds.yaml").write_text(feeds_yaml(feed_server, OFF), encoding="utf-8")
    monitor(workdir, "poll", "--once", "--workers", "0")
    result = monitor(workdir, "feeds", "status")
    assert result.exit_code == 0, result.output
    gone = _row(result.stdout, "gone")
    assert gone[1] == "disabled"
    assert gone[-1] == "never (disabled)"
    paused = _row(result.stdout, "paused")
    assert paused[1] == "off"
    assert paused[-1] == "never (off)"
    assert "  gone: the server says the feed is gone (HTTP 410)\n" in result.stdout
    assert result.stdout.endswith(
        "\nOff (enabled: false in feeds.yaml; set it to true to poll again):\n"
        "  paused: Paused feed\n"
    )
    doc = json.loads(monitor(workdir, "feeds", "status", "--json").stdout)
    reasons = {f["id"]: f["reason"] for f in doc["feeds"]}
    assert reasons == {
        "japan-times": None,
        "small": None,
        "broken": None,
        "gone": "the server says the feed is gone (HTTP 410)",
        "paused": "enabled: false in feeds.yaml",
    }
