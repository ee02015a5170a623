"""The archive commands end to end through click, on a real SQLite archive."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from monitor.cli import cli
from tests.test_archive_store import ITEMS, build_archive, item_id


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "monitor.db"
    build_archive(path)
    return path


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A rules folder with one list, so @list queries resolve without the shipped pack."""
    folder = tmp_path_factory.mktemp("rules")
    (folder / "lists").mkdir()
    (folder / "lists" / "metals.yaml").write_text(
        "terms:\n  - copper\n  - gold\n", encoding="utf-8"
    )
    return folder


def monitor(db: Path, *args: str, rules: Path | None = None) -> Result:
    opts = ["--db", str(db), "--rules", str(rules or db.parent / "no-rules")]
    return CliRunner().invoke(cli, [*opts, *args], catch_exceptions=False)


def test_search_json(db_path: Path) -> None:
    result = monitor(db_path, "search", "copper", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == [item_id(61), item_id(63)]
    assert set(rows[0]) >= {"id", "feed", "title", "url", "published", "summary", "rules"}
    assert rows[1]["rules"] == ["copper"]
    assert rows[1]["title"] == ITEMS[63]["title"]


def test_search_japanese_and_korean(db_path: Path) -> None:
    ja = json.loads(monitor(db_path, "search", "日本", "--format", "json").stdout)
    assert ja
    assert all("日本" in r["title"] + r["summary"] for r in ja)
    ko = monitor(db_path, "search", "미국", "--lang", "ko", "--format", "ndjson").stdout
    lines = [json.loads(x) for x in ko.splitlines()]
    assert lines
    assert all("미국" in r["title"] + r["summary"] for r in lines)


def test_search_table_shows_titles_and_count(db_path: Path) -> None:
    result = monitor(db_path, "search", "copper", "--sort", "relevance")
    assert result.exit_code == 0
    assert "Copper price holds" in result.stdout
    assert result.stdout.rstrip().endswith("2 items")


def test_search_nothing_found(db_path: Path) -> None:
    result = monitor(db_path, "search", "zirconium")
    assert (result.exit_code, result.stdout) == (0, "No items match zirconium.\n")


def test_search_csv(db_path: Path) -> None:
    out = monitor(db_path, "search", "copper", "--format", "csv").stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["id", "feed", "published", "title", "url", "rules"]
    assert [r[0] for r in rows[1:]] == [item_id(61), item_id(63)]


def test_search_with_list(db_path: Path, rules_dir: Path) -> None:
    result = monitor(db_path, "search", "@metals", "--format", "json", rules=rules_dir)
    assert result.exit_code == 0, result.output
    titles = [r["title"] for r in json.loads(result.stdout)]
    assert any("Gold" in t for t in titles)
    assert any("Copper" in t for t in titles)


def test_search_with_before(db_path: Path) -> None:
    """BEFORE/n in archive search: one word order found, the other not; CJK as well."""
    found = monitor(db_path, "search", "Trump BEFORE/6 Russia", "--format", "json")
    assert found.exit_code == 0, found.output
    titles = [r["title"] for r in json.loads(found.stdout)]
    assert titles
    assert all(t.index("Trump") < t.index("Russia") for t in titles)
    reverse = monitor(db_path, "search", "Russia BEFORE/6 Trump")
    assert (reverse.exit_code, reverse.stdout) == (0, "No items match Russia BEFORE/6 Trump.\n")
    cjk = monitor(db_path, "search", "カナダ BEFORE/6 関税", "--format", "json")
    assert [r for r in json.loads(cjk.stdout) if "カナダ" in r["title"]]


def test_bad_query_gets_the_rule_error(db_path: Path) -> None:
    result = monitor(db_path, "search", "(copper OR gold")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: unbalanced parenthesis (column 1)\n"
        "  (copper OR gold\n"
        "  ^\n"
        "Hint: this ( is never closed: add a )\n"
    )


def test_bad_since(db_path: Path) -> None:
    result = monitor(db_path, "search", "copper", "--since", "3x")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "Error: Invalid value for '--since': '3x' is neither a duration like 30d, 12h or 2w"
        " nor a date like 2026-06-01\n"
    )


def test_unknown_rule_and_feed(db_path: Path) -> None:
    rule = monitor(db_path, "export", "--rule", "coper")
    assert (rule.exit_code, rule.stderr) == (
        2,
        "Error: unknown rule 'coper'\nHint: did you mean 'copper'?\n",
    )
    feed = monitor(db_path, "search", "x", "--feed", "mining")
    assert (feed.exit_code, feed.stderr) == (
        2,
        "Error: unknown feed 'mining'\nHint: did you mean 'mining-com'?\n",
    )


def test_missing_archive(tmp_path: Path) -> None:
    result = monitor(tmp_path / "none.db", "search", "x")
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: no archive at {tmp_path / 'none.db'}\n"
        "Hint: run `monitor poll --once` (or `make demo`) first, or pass --db\n",
    )


def test_show(db_path: Path) -> None:
    result = monitor(db_path, "show", item_id(63))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:3] == [
        ITEMS[63]["title"],
        f"  id         {item_id(63)}",
        f"  url        {ITEMS[63]['url']}",
    ]
    assert "  copper  score 3  version v1  at 2026-08-14T17:59:20Z" in result.stdout
    assert "    hits: copper (title 0-6)" in result.stdout
    assert result.stdout.endswith("Sent in: not delivered\n")
    data = json.loads(monitor(db_path, "show", item_id(63), "--json").stdout)
    assert data["matches"][0]["hits"][0]["term"] == "copper"


def test_show_unknown(db_path: Path) -> None:
    result = monitor(db_path, "show", "deadbeef")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: no item 'deadbeef' in the archive\n"
        "Hint: copy an id from `monitor search … --format json` or `monitor export`\n",
    )


def test_export_csv_to_file(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = monitor(db_path, "export", "--rule", "copper", "-o", str(out))
    assert result.exit_code == 0
    assert result.stderr == f"Exported 2 rows to {out}\n"
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [(r["item_id"], r["rule"], r["score"], r["terms"]) for r in rows] == [
        (item_id(61), "copper", "1.0", "copper"),
        (item_id(63), "copper", "3.0", "copper"),
    ]


def test_export_query_json_and_ndjson(db_path: Path) -> None:
    as_json = json.loads(monitor(db_path, "export", "미국", "--format", "json").stdout)
    assert as_json
    assert all(r["rule"] == "" for r in as_json)
    nd = monitor(db_path, "export", "미국", "--format", "ndjson").stdout.splitlines()
    assert [json.loads(x) for x in nd] == as_json
    empty = monitor(db_path, "export", "zirconium", "--format", "json")
    assert json.loads(empty.stdout) == []


def test_export_all_one_row_per_item_and_rule(db_path: Path) -> None:
    out = monitor(db_path, "export", "--format", "ndjson").stdout.splitlines()
    assert len(out) == len(ITEMS)  # each item matched at most one rule here
    assert not monitor(db_path, "export").stderr  # no progress when stderr is not a terminal


def test_stats(db_path: Path) -> None:
    result = monitor(db_path, "stats", "--json")
    data = json.loads(result.stdout)
    assert (data["items"], data["matches"]) == (len(ITEMS), 3)
    text = monitor(db_path, "stats").stdout
    assert text.startswith(f"{len(ITEMS)} items, 3 matches, ")
    assert "Items per feed" in text
    assert "Matches per rule" in text


def test_stats_per_day_names_its_calendar_days(db_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    today = datetime.now(UTC).date()
    first = today - timedelta(days=13)
    text = " ".join(monitor(db_path, "stats").stdout.split())  # rich wraps at 80 columns
    assert f"Per day, {first} to {today} (last 14 days, UTC)" in text
    assert str(today) in text
    assert str(first) in text
    newest = max(it["published"] for it in ITEMS)[:10]
    assert text.endswith(
        f"No items in those 14 days: the newest was published {newest}"
        " (monitor stats --days N looks further back)."
    )
    data = json.loads(monitor(db_path, "stats", "--json").stdout)
    assert len(data["per_day"]) == 14
    assert data["per_day"][0]["day"] == str(today)
    assert (data["first_day"], data["last_day"]) == (str(first), str(today))


def test_prune_dry_run_then_real(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    build_archive(path)
    dry = monitor(path, "prune", "--older-than", "3650d", "--dry-run")
    assert dry.exit_code == 0
    assert dry.stdout.startswith("Would delete 0 of 0 items published before ")
    real = monitor(path, "prune", "--older-than", "30d")
    assert real.exit_code == 0
    # every item is older than 30 days; the three matched ones stay
    assert f"Deleted {len(ITEMS) - 3} of {len(ITEMS)} items" in real.stdout
    assert "kept 3 matched or delivered." in real.stdout
    again = monitor(path, "search", "copper OR 日本 OR Trump", "--format", "json")
    assert {r["id"] for r in json.loads(again.stdout)} <= {item_id(0), item_id(61), item_id(63)}


def test_prune_bad_age(db_path: Path) -> None:
    result = monitor(db_path, "prune", "--older-than", "a year")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "Error: Invalid value for '--older-than': 'a year' is not an age like 365d, 12w or 48h\n"
    )


@pytest.mark.parametrize("command", ["search", "show", "export", "stats", "prune", "serve"])
def test_help_has_example(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "-h"])
    assert result.exit_code == 0
    assert "  Example:\n    monitor " + command in result.stdout


def test_search_and_export_share_filter_flags() -> None:
    def flags(name: str) -> set[str]:
        command = cli.get_command(click.Context(cli), name)
        assert command is not None
        return {opt for p in command.params for opt in p.opts}

    shared = {"--since", "--until", "--rule", "--feed", "--kind", "--country", "--lang"}
    assert shared <= flags("search")
    assert shared <= flags("export")


def test_show_lists_the_digest_an_item_went_out_in(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    db = build_archive(path, ITEMS[:64])
    with db.conn:
        db.execute(
            "INSERT INTO deliveries(id, kind, name, channel, message, state, created_at, sent_at)"
            " VALUES (7, 'digest', 'morning', '#minerals', '{}', 'sent', '2026-08-15T08:00:00Z',"
            " '2026-08-15T08:00:02Z')"
        )
        db.execute(
            "INSERT INTO delivery_items VALUES (7, 'digest', 'morning', ?, 'copper')",
            [item_id(63)],
        )
    out = monitor(path, "show", item_id(63)).stdout
    assert out.endswith(
        "Sent in:\n  digest morning → #minerals  sent  2026-08-15T08:00:02Z  (rule copper)\n"
    )


def test_since_and_until_dates(db_path: Path) -> None:
    out = monitor(
        db_path,
        "search",
        "미국 OR Trump",
        "--since",
        "2022-07-29",
        "--until",
        "2022-07-30",
        "--format",
        "json",
    ).stdout
    published = [r["published"] for r in json.loads(out)]
    assert published
    assert all("2022-07-29" <= p < "2022-07-30" for p in published)
    later = json.loads(
        monitor(
            db_path,
            "search",
            "미국 OR Trump",
            "--since",
            "2024-01-01T00:00:00Z",
            "--format",
            "json",
        ).stdout
    )
    assert later
    assert all(r["published"] >= "2024" for r in later)


def test_progress_passes_every_row_through() -> None:
    from monitor.cli.archive import _progress

    rows = [(n,) for n in range(2500)]
    assert list(_progress(iter(rows))) == rows


def test_search_says_how_many_matched_when_the_limit_cuts(db_path: Path) -> None:
    every = json.loads(
        monitor(db_path, "search", "日本", "--format", "json", "--limit", "500").stdout
    )
    assert len(every) > 3
    result = monitor(db_path, "search", "日本", "--limit", "3")
    assert result.exit_code == 0
    assert result.stdout.rstrip().endswith(
        f"3 of {len(every)} items; --limit {len(every)} for more"
    )

    as_json = monitor(db_path, "search", "日本", "--limit", "3", "--format", "json")
    assert len(json.loads(as_json.stdout)) == 3
    assert as_json.stderr == ""
    # exactly as many as the limit: no "of"
    exact = monitor(db_path, "search", "日本", "--limit", str(len(every)))
    assert exact.stdout.rstrip().endswith(f"{len(every)} items")


def test_search_hints_at_lower_case_operators_when_nothing_matches(db_path: Path) -> None:
    result = monitor(db_path, "search", "copper and zirconium")
    assert result.exit_code == 0
    assert result.stdout == "No items match copper and zirconium.\n"
    assert result.stderr == (
        "Hint: 'and' in lower case is searched as a word; write AND to combine terms\n"
    )
    quoted = monitor(db_path, "search", '"copper and zirconium"')
    assert quoted.stderr == ""  # inside quotes it is meant as a word
    found = monitor(db_path, "search", "japan and", "--format", "json")
    assert json.loads(found.stdout)
    assert found.stderr == ""  # it found something: no hint


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        ("Japan", "Hint: did you mean 'JP'? (countries in the archive: JP, KR, US)"),
        (
            "ZZ",
            "Hint: use an ISO 3166-1 alpha-2 code such as JP, KR, US or AU"
            " (countries in the archive: JP, KR, US)",
        ),
    ],
)
def test_search_rejects_a_country_that_is_not_a_code(db_path: Path, given: str, hint: str) -> None:
    result = CliRunner().invoke(cli, ["--db", str(db_path), "search", "copper", "--country", given])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: --country {given!r} is not an ISO 3166-1 country code\n{hint}\n"
    )
    lower = monitor(db_path, "search", "copper", "--country", "us", "--format", "json")
    assert lower.exit_code == 0


def test_search_count_stops_at_its_cap(db_path: Path) -> None:
    from monitor.cli.searchhints import describe_total
    from monitor.rules.compile import compile_query
    from monitor.rules.parser import parse_query
    from monitor.store.counting import COUNT_CAP, count_matches
    from monitor.store.db import open_db

    node = parse_query("日本")
    db = open_db(db_path, readonly=True)
    every = count_matches(db, node, compile_query(node))
    assert every > 3
    assert count_matches(db, node, compile_query(node), cap=3) == 3
    assert describe_total(20, COUNT_CAP) == "20 of 1,000+ items; --limit (up to 10000) for more"
    assert describe_total(20, 173) == "20 of 173 items; --limit 173 for more"
    assert describe_total(1, 1) == "1 item"
