"""What matched, in words (monitor.rules.why), and where it is shown: the digest's Why line,
`monitor match`, stored hits (old archives too) and exports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli
from monitor.config.rules import load_rules
from monitor.model import Hit, Item
from monitor.rules.why import in_words, why_text
from monitor.store.export import _terms
from monitor.store.matches import hits_from_json, hits_json

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_terms_are_named_by_their_list_then_the_words_found() -> None:
    title = "日韓首脳、South Korea summit"
    hits = [
        Hit("日韓", "title", 0, 2, "Japan"),
        Hit("South Korea", "title", 5, 16, "South Korea"),
        Hit("summit", "title", 17, 23),
        Hit("日韓", "summary", 0, 2, "Japan"),  # the same word again: shown once
    ]
    assert in_words(hits, title, "日韓") == ["Japan (日韓)", "South Korea", "summit"]
    assert why_text(hits, title, "日韓") == "Japan (日韓), South Korea, summit"


def test_a_regex_or_prefix_is_named_by_the_text_it_found_never_its_pattern() -> None:
    title = "A$500 million for miners"
    hits = [Hit(r"/\bA\$ ?\d/", "title", 0, 3), Hit("miner*", "title", 18, 24)]
    assert in_words(hits, title) == ["A$5", "miners"]
    # the field's text not at hand (a stored hit of a field not shown): still no pattern
    assert in_words([Hit("/x+/", "summary", 0, 2), Hit("miner*", "summary", 0, 6)]) == [
        "a pattern",
        "miner",
    ]


def test_a_word_found_through_a_list_is_not_repeated_on_its_own() -> None:
    hits = [Hit("Yasukuni", "title", 0, 8, "Japan"), Hit("Yasukuni", "title", 0, 8)]
    assert in_words(hits, "Yasukuni offering") == ["Japan (Yasukuni)"]
    many = [Hit(f"w{i}", "title", i, i + 1) for i in range(10)]
    assert why_text(many, "x" * 10, most=3) == "w0, w1, w2 …"


def test_stored_hits_keep_their_list_and_old_archives_read_as_before() -> None:
    hits = (Hit("日韓", "title", 0, 2, "Japan"), Hit("summit", "title", 3, 9))
    stored = hits_json(hits)
    assert json.loads(stored)[0] == {
        "term": "日韓", "field": "title", "start": 0, "end": 2, "list": "Japan"
    }  # fmt: skip
    assert "list" not in json.loads(stored)[1]  # no key for a word of the query itself
    assert hits_from_json(stored) == hits
    old = '[{"term": "/日韓/", "field": "title", "start": 0, "end": 2}]'  # before this change
    assert hits_from_json(old) == (Hit("/日韓/", "title", 0, 2, ""),)
    assert _terms(old, "日韓首脳") == "日韓"  # the export cell: the text found, not the regex
    assert _terms(stored, "日韓 summit") == "Japan (日韓); summit"


def test_the_shipped_pack_names_what_matched_in_words(tmp_path: Path) -> None:
    rows = [
        {"id": "a", "title": "日韓首脳、シャトル外交で安保協力の強化を確認"},
        {"id": "b", "title": "Rubio, Iwaya and Cho condemn North Korea's missile launch"},
    ]
    data = tmp_path / "items.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    result = CliRunner().invoke(cli, ["--rules", str(ROOT / "rules"), "match", str(data), "--json"])
    assert result.exit_code == 0, result.output
    out = {r["id"]: r for r in map(json.loads, result.output.splitlines())}
    (jk,) = out["a"]["rules"]
    assert {"Japan–South Korea (日韓)", "Japan (日韓)", "シャトル外交"} <= set(
        jk["why"].split(", ")
    )
    assert {
        "term": "日韓",
        "field": "title",
        "start": 0,
        "end": 2,
        "list": "Japan–South Korea",
    } in jk["hits"]
    trio = next(r for r in out["b"]["rules"] if r["id"] == "jkus-trilateral")
    assert trio["why"].startswith("US (Rubio), Japan (Iwaya), Cho, condemn")
    assert "/" not in trio["why"]
    assert "/" not in jk["why"]


def test_no_regex_text_reaches_a_why_line_for_the_shipped_pack() -> None:
    """Every rule's own match examples: the words shown never hold a regex or a * pattern."""
    book = load_rules(ROOT / "rules")
    shown = 0
    for rule in book.rules:
        for n, ex in enumerate(rule.match_examples):
            item = Item(f"{rule.id}-{n}", "f", None, "", ex.title, ex.summary, NOW, NOW)
            for m in book.matcher.match(item):
                words = in_words(m.hits, ex.title, ex.summary)
                assert words
                assert not any(w.startswith("/") or w.endswith("*") for w in words)
                shown += 1
    assert shown >= 50
