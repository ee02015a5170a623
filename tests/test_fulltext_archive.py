"""The article text in the archive (issue 15): migration of an existing archive, the body
indexes, `monitor search`, `show`, `export --with-body`, and `rules explain`."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner, Result

from monitor.cli import cli
from monitor.model import Item
from monitor.rules.compile import compile_query
from monitor.rules.parser import parse_query
from monitor.store.bodies import BodyResult, mark_pending, save_bodies
from monitor.store.candidates import Filters
from monitor.store.db import open_db
from monitor.store.feeds import sync_feeds
from monitor.store.items import store_items
from monitor.store.migrations import migrations
from monitor.store.search import search
from tests.feedserver import article_page

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
JA_BODY = "政府は、ガリウムとゲルマニウムの輸出管理を強化すると発表した。経済産業省によると、"
EN_BODY = (
    "The ministry said on Tuesday that licences would be needed.\n"
    "In the third paragraph: gallium and germanium exports fell by half."
)


def _item(n: int, title: str, summary: str = "") -> Item:
    when = NOW + timedelta(minutes=n)
    return Item(f"{n:016x}", "press", None, f"https://x.test/{n}", title, summary, when, when)


def old_archive(path: Path) -> None:
    """An archive as it was before migration 0120: items and a match, no body column."""
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="0120_item_body")
    from monitor.model import FeedSource

    sync_feeds(
        db, [FeedSource("press", "Press", "https://x.test/feed", "government", "JP", "en", 900)]
    )
    # Written as that version did, in its own columns (store_items writes today's).
    db.execute(
        "INSERT INTO items (id, feed_id, url, title, summary, published, first_seen)"
        " VALUES (?, 'press', 'https://x.test/1', 'Export controls tightened',"
        " 'Licences needed.', '2026-12-01T09:01:00Z', '2026-12-01T09:01:00Z')",
        [f"{1:016x}"],
    )
    db.execute(
        "INSERT INTO matches (item_id, rule_id, rule_version, score, hits, matched_at)"
        " VALUES (?, 'ctl', 'v1', 2, '[]', '2026-12-01T09:00:00Z')",
        [f"{1:016x}"],
    )
    db.conn.commit()
    db.close()


def cli_run(db: Path, *args: str) -> Result:
    opts = ["--db", str(db), "--rules", str(db.parent / "no-rules")]
    return CliRunner().invoke(cli, [*opts, *args], catch_exceptions=False)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "a.db"
    old_archive(path)
    db = open_db(path)  # applies 0120 to the old archive
    store_items(db, [_item(2, "METI statement", ""), _item(3, "Ministry briefing", "")], now=NOW)
    mark_pending(db, [f"{2:016x}", f"{3:016x}"])
    save_bodies(
        db,
        [BodyResult(f"{2:016x}", "ok", JA_BODY), BodyResult(f"{3:016x}", "ok", EN_BODY)],
        NOW,
    )
    db.close()
    return path


def test_migration_adds_the_column_without_touching_old_rows(archive: Path) -> None:
    with sqlite3.connect(archive) as conn:
        old = conn.execute(
            "SELECT title, body, body_status, revision FROM items WHERE id = ?", [f"{1:016x}"]
        ).fetchone()
        assert old == ("Export controls tightened", None, None, 0)
        assert conn.execute("SELECT rule_id FROM matches").fetchall() == [("ctl",)]
        # the old item is still found through the old index, the bodies through the new ones
        assert conn.execute("SELECT count(*) FROM items_body_fts_docsize").fetchone() == (2,)
        assert conn.execute(
            "SELECT rowid FROM items_body_cjk WHERE items_body_cjk MATCH '\"ゲルマニウム\"'"
        ).fetchall()


def test_search_finds_text_only_in_the_body(archive: Path) -> None:
    db = open_db(archive, readonly=True)
    for query, want in [
        ("germanium", [3]),
        ("ゲルマニウム", [2]),
        ("gallium AND ministry", [3]),  # one term in the title, one in the body
        ('body:("third paragraph")', [3]),
        ("title:(germanium)", []),
        ("export AND controls", [1]),
    ]:
        node = parse_query(query)
        found = search(db, node, compile_query(node), Filters(), limit=10)
        assert [int(f.id, 16) for f in found] == want, query
    node = parse_query("germanium")
    [hit] = search(db, node, compile_query(node), Filters(), sort="relevance")
    assert {s.field for s in hit.hits} == {"body"}


def test_search_cli_table_shows_the_article_snippet(archive: Path) -> None:
    opts = ["--db", str(archive), "--rules", str(archive.parent / "no-rules")]
    result = CliRunner(env={"COLUMNS": "250"}).invoke(cli, [*opts, "search", "germanium"])
    assert result.exit_code == 0, result.output
    assert "article:" in result.output
    assert "germanium exports" in result.output


def test_show_states_the_body_status_in_words_and_json_has_the_body(archive: Path) -> None:
    text = cli_run(archive, "show", f"{3:016x}").output
    assert "article    article text fetched" in text
    assert "In the third paragraph" in text
    old = cli_run(archive, "show", f"{1:016x}").output
    assert "article    not fetched (this feed does not use full text)" in old
    record = json.loads(cli_run(archive, "show", f"{3:016x}", "--json").output)
    assert record["item"]["body"] == EN_BODY
    assert record["item"]["body_status"] == "ok"
    assert record["item"]["body_status_text"] == "article text fetched"


def test_show_explains_a_failure_and_the_retries_left(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    old_archive(path)
    db = open_db(path)
    store_items(db, [_item(2, "A", "")], now=NOW)
    mark_pending(db, [f"{2:016x}"])
    save_bodies(
        db, [BodyResult(f"{2:016x}", "fetch_error", error="HTTP 503 Service Unavailable")], NOW
    )
    db.close()
    text = cli_run(path, "show", f"{2:016x}").output
    assert (
        "article    the article page could not be fetched: HTTP 503 Service Unavailable"
        " (attempt 1 of 3; tried again next poll)"
    ) in text


def test_export_with_body(archive: Path) -> None:
    plain = cli_run(archive, "export", "--format", "json").output
    assert "body" not in json.loads(plain)[0]
    rows = json.loads(
        cli_run(archive, "export", "germanium", "--with-body", "--format", "json").output
    )
    assert [r["item_id"] for r in rows] == [f"{3:016x}"]
    assert rows[0]["body"] == EN_BODY
    csv_out = cli_run(archive, "export", "--with-body").output
    assert csv_out.splitlines()[0].endswith(",matched_at,body")


def test_rules_explain_shows_the_body_hit(tmp_path: Path, archive: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "germanium.yaml").write_text("id: germanium\nname: G\nquery: germanium\n", "utf-8")
    result = CliRunner().invoke(
        cli,
        ["--db", str(archive), "--rules", str(rules), "rules", "explain", "germanium", f"{3:016x}"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "matches" in result.output
    assert "body:" in result.output
    assert "germanium exports fell" in result.output


def test_real_page_text_is_searchable_after_extraction(tmp_path: Path) -> None:
    from monitor.reader.article import extract_article

    article = extract_article(article_page("trafilatura/jis.gov.jm-investment.html"), {})
    path = tmp_path / "a.db"
    old_archive(path)
    db = open_db(path)
    store_items(db, [_item(2, "AICE 2022", "")], now=NOW)
    save_bodies(db, [BodyResult(f"{2:016x}", "ok", article.text)], NOW)
    node = parse_query('"Montego Bay Convention Centre"')
    assert [f.id for f in search(db, node, compile_query(node), Filters())] == [f"{2:016x}"]


def test_the_search_count_includes_body_matches(archive: Path) -> None:
    opts = ["--db", str(archive), "--rules", str(archive.parent / "no-rules")]
    result = CliRunner(env={"COLUMNS": "250"}).invoke(
        cli, [*opts, "search", "germanium OR tightened", "--limit", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "1 of 2 items" in result.output


def test_deleting_items_keeps_the_body_indexes_consistent(archive: Path) -> None:
    """prune deletes rows: the body indexes' delete triggers must take their entries out."""
    db = open_db(archive)
    db.execute("DELETE FROM items WHERE id IN (?, ?)", [f"{2:016x}", f"{3:016x}"])
    db.conn.commit()
    for table in ("items_body_fts", "items_body_cjk"):
        db.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
    assert db.execute("SELECT count(*) FROM items_body_fts_docsize").fetchone() == (0,)
    node = parse_query("germanium OR ゲルマニウム")
    assert search(db, node, compile_query(node), Filters()) == []


def test_the_web_page_hides_the_body_indexes(tmp_path: Path) -> None:
    metadata = json.loads((Path(__file__).parent.parent / "monitor/web/metadata.json").read_text())
    tables = next(iter(metadata["databases"].values()))["tables"]
    db = open_db(tmp_path / "a.db")
    virtual = [
        r[0]
        for r in db.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")
    ]
    assert {"items_body_fts", "items_body_cjk"} <= set(virtual)
    for name in virtual:
        assert tables.get(name, {}).get("hidden") is True, name
