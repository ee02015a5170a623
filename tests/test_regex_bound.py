"""Rule regexes are time-limited (issue 10, point 4): a catastrophic pattern on a
39-character title neither hangs `poll --once` nor keeps `monitor run` from stopping on
SIGTERM; the rule is reported once, the item is skipped for that rule only."""

from __future__ import annotations

import logging
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.rules.saferegex import GIVE_UP_AFTER, SafeRegex
from tests.feedserver import FeedServer

TITLE = "a" * 38 + "!"  # 39 characters: ``re`` needs about 2**38 steps for (a|a)+$ on it
BOMB = "(a|a)+$"  # passes the nested-repeat check; only the time limit stops it


def bomb_feed(titles: list[str]) -> bytes:
    items = "".join(
        f"<item><title>{t}</title><link>http://127.0.0.1/n/{i}</link><guid>n-{i}</guid></item>"
        for i, t in enumerate(titles)
    )
    return f'<rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode()


def setup(tmp_path: Path, server: FeedServer, titles: list[str]) -> list[str]:
    server.add_file("/bomb.xml", bomb_feed(titles))
    (tmp_path / "feeds.yaml").write_text(
        "defaults:\n  interval: 1m\n  kind: news\n  lang: en\nfeeds:\n"
        f"  - id: bomb\n    name: Bomb\n    url: {server.url('/bomb.xml')}\n",
        encoding="utf-8",
    )
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bomb.yaml").write_text(f"name: Bomb\nquery: '/{BOMB}/'\n", encoding="utf-8")
    (rules / "plain.yaml").write_text(f"name: Plain\nquery: {'a' * 38}\n", encoding="utf-8")
    return [
        "--feeds", str(tmp_path / "feeds.yaml"),
        "--rules", str(rules),
        "--settings", str(tmp_path / "monitor.yaml"),
        "--db", str(tmp_path / "archive.db"),
    ]  # fmt: skip


def test_the_regex_is_catastrophic_for_re_but_bounded_here() -> None:
    rx = SafeRegex(BOMB)
    assert rx.search("aaaa") is not None  # same meaning as re on ordinary text
    assert [m.span() for m in rx.finditer("xa aa")] == [(3, 5)]
    for _ in range(GIVE_UP_AFTER):
        with pytest.raises(Exception, match=r"timed out \(limit"):
            rx.search(TITLE)
    with pytest.raises(Exception, match="given up on after repeated time-outs"):
        rx.search("aaaa")  # given up on: no more time spent on it in this process


def test_poll_once_finishes_and_reports_the_rule_once(
    tmp_path: Path, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    opts = setup(tmp_path, feed_server, [TITLE, "a" * 37 + "!!", "a" * 36 + "!!!"])
    with caplog.at_level(logging.WARNING, logger="monitor.rules.matcher"):
        result = CliRunner().invoke(cli, [*opts, "poll", "--once"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "3 new items, 0 updated, 1 match" in result.output  # the plain rule still matched
    warnings = [r.getMessage() for r in caplog.records if r.name == "monitor.rules.matcher"]
    timed_out = [w for w in warnings if "timed out" in w]
    assert len(timed_out) == 1, warnings
    assert timed_out[0].startswith(f"rule bomb ({tmp_path / 'rules' / 'bomb.yaml'}): ")
    assert f"/{BOMB}/ timed out" in timed_out[0]
    assert "skipped for this rule" in timed_out[0]
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        assert conn.execute("SELECT rule_id FROM matches").fetchall() == [("plain",)]


@pytest.mark.parametrize("workers", ["0", "1"])
def test_monitor_run_stops_on_sigterm_while_a_regex_is_slow(
    tmp_path: Path, feed_server: FeedServer, workers: str
) -> None:
    opts = setup(
        tmp_path, feed_server, [TITLE] * 1 + [("a" * (38 - i)) + "!" * (i + 1) for i in range(5)]
    )
    daemon = subprocess.Popen(
        [sys.executable, "-m", "monitor", *opts, "run", "--workers", workers],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while feed_server.count("/bomb.xml") == 0 and daemon.poll() is None:
            time.sleep(0.02)
        daemon.send_signal(signal.SIGTERM)  # the feed is being parsed and matched
        code = daemon.wait(timeout=60)  # a guard, not a speed test: before, it never stopped
    finally:
        if daemon.poll() is None:
            daemon.kill()
        stderr = daemon.communicate()[1]
    assert code == 0, stderr
    assert f"rule bomb ({tmp_path / 'rules' / 'bomb.yaml'}): the regular expression" in stderr
    assert "stopped" in stderr
