"""`monitor poll --once`, `monitor run` start-up guards and `monitor feeds status`, with exact text."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli import cli
from monitor.embed import model as embed_model
from monitor.store.lock import ArchiveLock
from tests.feedserver import SMALL_FEED, FeedServer

DATA = Path(__file__).parent / "data" / "feeds"
JT = "japantimes-latest_2023-11-24.xml"


def feeds_yaml(server: FeedServer, extra: str = "") -> str:
    return f"""\
defaults:
  interval: 15m
  timeout: 2s
  kind: news
  lang: en

feeds:
  - id: japan-times
    name: The Japan Times
    url: {server.url("/" + JT)}
    country: JP
  - id: small
    name: Small test feed
    url: {server.url("/small.xml")}
  - id: broken
    name: Broken feed
    url: {server.url("/broken.xml")}
  - id: gone
    name: Gone feed
    url: {server.url("/gone.xml")}
{extra}"""


@pytest.fixture
def workdir(tmp_path: Path, feed_server: FeedServer) -> Path:
    feed_server.add_file("/" + JT, (DATA / JT).read_bytes())
    feed_server.add_file("/small.xml", SMALL_FEED)
    feed_server.add_scenario("/broken.xml", "status_500")
    feed_server.add_scenario("/gone.xml", "gone_410")
    (tmp_path / "feeds.yaml").write_text(feeds_yaml(feed_server), encoding="utf-8")
    (tmp_path / "rules").mkdir()
    return tmp_path


def monitor(workdir: Path, *args: str) -> Result:
    base = [
        "--feeds",
        str(workdir / "feeds.yaml"),
        "--rules",
        str(workdir / "rules"),
        "--settings",
        str(workdir / "monitor.yaml"),
        "--db",
        str(workdir / "archive.db"),
    ]
    return CliRunner().invoke(cli, [*base, *args], catch_exceptions=False)


def test_poll_without_once_is_an_error_with_a_hint(workdir: Path) -> None:
    result = monitor(workdir, "poll")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: monitor poll needs --once\n"
        "Hint: run `monitor poll --once` for one cycle, or `monitor run` to poll on a schedule\n"
    )
    assert not (workdir / "archive.db").exists()


@pytest.mark.parametrize("command", ["poll --once", "run"])
def test_a_bad_feeds_file_stops_before_anything_is_written(workdir: Path, command: str) -> None:
    path = workdir / "feeds.yaml"
    path.write_text(path.read_text().replace("interval: 15m", "intervall: 15m"))
    result = monitor(workdir, *command.split())
    assert result.exit_code == 2
    assert result.stderr == (
        f"{path}:2: unknown key 'intervall' in defaults (did you mean 'interval'?)\n"
        "Error: 1 problem found\n"
    )
    assert not (workdir / "archive.db").exists()


def test_an_unknown_feed_id_gets_a_suggestion(workdir: Path) -> None:
    result = monitor(workdir, "poll", "--once", "--feed", "japan-tims")
    assert result.exit_code == 2
    assert result.stderr == "Error: unknown feed 'japan-tims'\nHint: did you mean 'japan-times'?\n"


def test_a_second_process_on_the_same_archive_is_refused(workdir: Path) -> None:
    db = workdir / "archive.db"
    with ArchiveLock(db):
        for command in (["poll", "--once"], ["run"]):
            result = monitor(workdir, *command)
            assert result.exit_code == 2
            assert result.stderr == (
                f"Error: another monitor (pid {os.getpid()}) is already using {db}\n"
                "Hint: stop it first, or point --db at a different archive\n"
            )


def test_poll_once_prints_a_table_and_a_summary(workdir: Path) -> None:
    result = monitor(workdir, "poll", "--once", "--workers", "0")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[-1] == (
        "4 feeds: 2 ok, 0 not modified, 2 failed; 31 new items, 0 updated, 0 matches"
    )
    table = "\n".join(lines[:-1])
    assert "HTTP 500 Internal Server Error" in table
    assert "failed (disabled)" in table
    assert result.stderr == ""  # no progress bar when stderr is not a terminal

    again = monitor(workdir, "poll", "--once", "--workers", "0")
    assert again.stdout.splitlines()[-1] == (
        "4 feeds: 0 ok, 2 not modified, 1 failed, 1 skipped; 0 new items, 0 updated, 0 matches"
    )


def test_poll_once_json_and_a_single_feed(workdir: Path) -> None:
    result = monitor(workdir, "poll", "--once", "--feed", "small", "--json", "--workers", "0")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert {k: doc[k] for k in ("feeds", "ok", "failed", "new_items", "matches")} == {
        "feeds": 1,
        "ok": 1,
        "failed": 0,
        "new_items": 1,
        "matches": 0,
    }
    assert doc["outcomes"][0]["feed"] == "small"


def test_feeds_status_json_reports_health_in_words(workdir: Path) -> None:
    monitor(workdir, "poll", "--once", "--workers", "0")
    result = monitor(workdir, "feeds", "status", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    feeds = {f["id"]: f for f in doc["feeds"]}
    assert {i: f["status"] for i, f in feeds.items()} == {
        "japan-times": "ok",
        "small": "ok",
        "broken": "failing",
        "gone": "disabled",
    }
    assert {i: f["items"] for i, f in feeds.items()} == {
        "japan-times": 30,
        "small": 1,
        "broken": 0,
        "gone": 0,
    }
    assert feeds["broken"]["last_error"] == "HTTP 500 Internal Server Error"
    assert feeds["broken"]["consecutive_failures"] == 1
    assert feeds["gone"]["disabled_reason"] == "the server says the feed is gone (HTTP 410)"
    assert feeds["japan-times"]["last_success"] is not None
    assert feeds["japan-times"]["next_poll"] is not None
    assert doc["rules_error"] is None


def test_feeds_status_table_lists_disabled_feeds_with_the_reason(workdir: Path) -> None:
    monitor(workdir, "poll", "--once", "--workers", "0")
    result = monitor(workdir, "feeds", "status")
    assert result.exit_code == 0
    assert result.stdout.endswith(
        "\nDisabled feeds (fix the URL in feeds.yaml to re-enable):\n"
        "  gone: the server says the feed is gone (HTTP 410)\n"
    )
    broken = next(line for line in result.stdout.splitlines() if line.startswith("broken "))
    assert [cell.strip() for cell in broken.split("│")[1:4]] == [
        "failing",
        "never",
        "HTTP 500 Internal Server Error",
    ]


def test_feeds_status_without_an_archive(workdir: Path) -> None:
    result = monitor(workdir, "feeds", "status")
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: no archive at {workdir / 'archive.db'}\n"
        "Hint: run `monitor poll --once` (or `make demo`) first, or pass --db\n"
    )


def test_feeds_status_shows_a_failed_rules_reload(workdir: Path) -> None:
    from monitor.store.db import open_db
    from monitor.store.feeds import RULES_ERROR_KEY, set_state_value

    monitor(workdir, "poll", "--once", "--feed", "small", "--workers", "0")
    db = open_db(workdir / "archive.db")
    from datetime import UTC, datetime

    set_state_value(
        db,
        RULES_ERROR_KEY,
        "rules/x.yaml:3:12: unbalanced parenthesis",
        datetime(2026, 8, 22, tzinfo=UTC),
    )
    db.close()
    result = monitor(workdir, "feeds", "status")
    assert result.stdout.endswith(
        "\nRules: the reload at 2026-08-22T00:00:00Z failed; the last good set stays in force:\n"
        "  rules/x.yaml:3:12: unbalanced parenthesis\n"
    )


@pytest.mark.parametrize("command", [["poll"], ["run"], ["feeds", "status"], ["feeds"], ["demo"]])
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "-h"])
    assert result.exit_code == 0
    assert "\n  Example:\n    monitor " in result.output


def test_poll_compiles_the_rules_once_and_matches_with_them(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The configuration check loads the rules; polling uses that set instead of loading
    (and compiling) it a second time. The real loader is wrapped to count its calls."""
    import monitor.config.check as config_check
    import monitor.config.rules as config_rules

    (workdir / "rules" / "jk.yaml").write_text(
        "id: jk\nname: Japan\nquery: Japan\n", encoding="utf-8"
    )
    real = config_rules.load_rules
    calls: list[Path] = []

    def counting(path: Path) -> object:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(config_rules, "load_rules", counting)
    monkeypatch.setattr(config_check, "load_rules", counting)
    result = monitor(workdir, "poll", "--once", "--json", "--workers", "0")
    assert result.exit_code == 0, result.output
    assert len(calls) == 1
    assert json.loads(result.stdout)["matches"] > 0  # the Japan Times items matched "Japan"


@pytest.mark.skipif(not embed_model.available(), reason="the embed extra is not installed")
def test_poll_once_stores_the_matches_vectors_before_it_exits(workdir: Path) -> None:
    """The embedding pass runs beside the Poller's close (which indexes the cycle's items)
    in parser-process mode; the command still returns only once both are done."""
    (workdir / "rules" / "jk.yaml").write_text(
        "id: jk\nname: Japan\nquery: Japan\n", encoding="utf-8"
    )
    result = monitor(workdir, "poll", "--once", "--json", "--workers", "2")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["matches"] > 0
    db = sqlite3.connect(workdir / "archive.db")
    matched = {r[0] for r in db.execute("SELECT DISTINCT item_id FROM matches")}
    vectors = {r[0] for r in db.execute("SELECT item_id FROM embeddings")}
    assert matched
    assert matched <= vectors
    assert db.execute("SELECT count(*) FROM items_unindexed").fetchone()[0] == 0
    found = db.execute("SELECT count(*) FROM items_fts WHERE items_fts MATCH 'japan'")
    assert found.fetchone()[0] >= len(matched)
