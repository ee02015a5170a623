"""What a new user meets first: help examples name real files, the labelled example is
usable, `rules backtest` says why a window is empty, `monitor demo` writes beside the
archive (so it works where only /data is writable)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from monitor.cli import LAZY_COMMANDS, cli
from monitor.cli.window_hint import empty_window_hint, since_to_reach
from monitor.model import FeedSource, Item
from monitor.store.db import open_db
from monitor.store.feeds import sync_feeds
from monitor.store.items import store_items

ROOT = Path(__file__).resolve().parent.parent
REPO_PATH = re.compile(r"(?<![\w/.:-])((?:tests|examples|rules|docs|monitor)/[\w./*-]+)")
FEED = FeedSource("yna", "Yonhap", "https://e/rss", "news", "KR", "en", 900)


def helps() -> Iterator[tuple[str, str]]:
    """(command path, help text) for every command and subcommand."""
    runner = CliRunner()
    for name in LAZY_COMMANDS:
        command = cli.get_command(click.Context(cli), name)
        assert command is not None
        subs = list(command.commands) if isinstance(command, click.Group) else []
        for args in [[name], *([name, sub] for sub in subs)]:
            result = runner.invoke(cli, [*args, "-h"])
            assert result.exit_code == 0, (args, result.output)
            yield " ".join(args), result.output


def test_every_help_example_names_files_that_exist() -> None:
    checked = 0
    for where, text in helps():
        example = text.split("Example:", 1)[1].split("\n\n", 1)[0]
        for path in REPO_PATH.findall(example):
            checked += 1
            matches = list(ROOT.glob(path)) if "*" in path else [ROOT / path]
            assert matches, f"`monitor {where} -h`: {path}"
            assert all(p.exists() for p in matches), f"`monitor {where} -h`: {path}"
    assert checked >= 3  # rules eval, match: the examples that name shipped files


def test_the_shipped_labelled_example_evaluates_every_rule() -> None:
    result = CliRunner().invoke(cli, ["rules", "eval", "examples/labelled.jsonl", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    shipped = {p.stem for p in (ROOT / "rules").glob("*.yaml")}
    assert report["items"] >= 10
    assert set(report["rules"]) == shipped  # every rule labelled at least once, no stray ids
    assert all(r["known"] and r["tp"] > 0 for r in report["rules"].values())


def _archive(path: Path, published: datetime) -> None:
    db = open_db(path)
    sync_feeds(db, [FEED])
    item = Item("i1", "yna", None, "https://e/1", "Lithium mine opens", "", published, published)
    store_items(db, [item], now=published)
    db.close()


def test_backtest_says_when_the_archive_is_older_than_the_window(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    newest = datetime.now(UTC).replace(microsecond=0) - timedelta(days=120, hours=3)
    _archive(db, newest)
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(db), "rules", "backtest", "--since", "90d"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("0 archived items since ")
    assert lines[1] == (
        f"The archive's newest item is from {newest:%Y-%m-%d %H:%M} UTC: try --since 121d."
    )
    # The suggestion works as given, and then there is nothing to explain.
    result = runner.invoke(cli, ["--db", str(db), "rules", "backtest", "--since", "121d"])
    assert result.output.startswith("1 archived items since ")
    assert "newest item" not in result.output
    result = runner.invoke(cli, ["--db", str(db), "rules", "backtest", "--json"])
    assert "try --since 121d" in json.loads(result.output)["hint"]


def test_window_hint_for_an_empty_archive_and_day_boundaries() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert since_to_reach(now - timedelta(days=3), now) == "4d"  # exactly 3 days: one more
    assert since_to_reach(now - timedelta(days=2, hours=23), now) == "3d"
    assert since_to_reach(now + timedelta(hours=1), now) == "1d"  # dated in the future
    assert "no items yet" in str(empty_window_hint(None, now))
    assert empty_window_hint(now, now - timedelta(days=1)) is None


def test_demo_writes_beside_the_archive_not_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    data = tmp_path / "data"
    work.mkdir()
    data.mkdir()
    (work / "rules").mkdir()
    monkeypatch.chdir(work)  # before the fix the demo wrote work/data/demo.db
    result = CliRunner(env={"MONITOR_DB": str(data / "monitor.db")}).invoke(
        cli, ["--rules", str(work / "rules"), "demo"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert (data / "demo.db").is_file()
    assert not (data / "monitor.db").exists()  # the real archive is never the demo's
    assert f"The archive is in {data / 'demo.db'}" in result.output
    assert not (work / "data").exists()


def test_demo_where_it_cannot_write_says_so(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file, not a folder")
    result = CliRunner().invoke(cli, ["--db", str(blocked / "monitor.db"), "demo"])
    assert result.exit_code == 2
    assert result.output.startswith(
        f"Error: cannot create the folder of the demo archive {blocked / 'demo.db'}: "
    )
    assert "Hint: pass --db with a writable place" in result.output
