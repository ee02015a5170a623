"""`monitor demo` shows a match found only in an article's text (issue 15)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli
from monitor.demo import ARTICLES, articles

RULES = Path(__file__).resolve().parent.parent / "rules"  # the shipped rule pack


def test_demo_finds_a_match_only_in_the_article_text(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        cli, ["--rules", str(RULES), "demo", "--db", str(db)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Found only in the article text" in out
    row = next(
        line for line in out.splitlines() if "Lithium aus dem Schredder" in line and "│" in line
    )
    assert row.startswith("critical-minerals")
    with sqlite3.connect(db) as conn:
        status = dict(
            conn.execute("SELECT feed_id, body_status FROM items WHERE body_status IS NOT NULL")
        )
        # only the demo's local article is read: the snapshots' links go to the internet
        assert status == {"heise-article": "ok"}
        [(body,)] = conn.execute("SELECT body FROM items WHERE feed_id = 'heise-article'")
    assert "Duesenfeld" in body


def test_demo_articles_have_provenance() -> None:
    sources = (articles() / "SOURCES.md").read_text(encoding="utf-8")
    for name, _, _ in ARTICLES:
        assert f"| `{name}` |" in sources
        assert (articles() / name).is_file()
