"""`monitor rules check|test|eval|explain|backtest` and `monitor match`, end to end."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config.rules import load_rules
from monitor.model import FeedSource, Item
from monitor.store.db import open_db
from monitor.store.feeds import sync_feeds
from monitor.store.items import store_items
from monitor.store.matches import save_matches
from tests.feedserver import FeedServer

RULE = """\
name: Japan and Korea
query: |
  @japan NEAR/5 @korea
exclude: baseball
examples:
  match:
    - Japan and South Korea agree on export controls
    - {title: Talks, summary: "日本と韓国が会談"}
  no_match:
    - Japan beat South Korea at baseball
    - Japan alone
"""
LISTS = {
    "lists/japan.yaml": "terms: [Japan, Tokyo, 日本]\n",
    "lists/korea.yaml": "terms: [South Korea, Seoul, 韓国, 한국]\n",
}
MIN_RULE = "query: lithium OR nickel\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    return write(tmp_path / "rules", {"jk.yaml": RULE, "minerals.yaml": MIN_RULE, **LISTS})


def run(rules_dir: Path, *args: str, db: Path | None = None) -> tuple[int, str]:
    opts = ["--rules", str(rules_dir)] + (["--db", str(db)] if db else [])
    result = CliRunner().invoke(cli, [*opts, *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_check_ok_and_every_problem(rules_dir: Path) -> None:
    assert run(rules_dir, "rules", "check") == (
        0,
        "2 rules, 2 term lists (7 terms), 4 examples: all valid\n",
    )
    write(rules_dir, {"bad.yaml": "query: '@korae lithium'\nnmae: x\n"})
    code, out = run(rules_dir, "rules", "check")
    bad = rules_dir / "bad.yaml"
    assert code == 2
    assert out == (
        f"{bad}:2: unknown key 'nmae' in a rule (did you mean 'name'?)\n"
        f"{bad}:1:9: query: unknown list @korae (did you mean @korea?)\n"
        "    query: '@korae lithium'\n"
        "            ^\n"
        "Error: 2 problems found\n"
    )


def test_test_passes_and_fails_with_explanations(rules_dir: Path) -> None:
    assert run(rules_dir, "rules", "test") == (
        0,
        "4 examples in 2 rules: 4 passed, 0 failed\n",
    )
    write(rules_dir, {"jk.yaml": RULE.replace("Japan alone", "Japan and Seoul")})
    code, out = run(rules_dir, "rules", "test", "jk")
    assert code == 1
    assert out == (
        f"FAIL {rules_dir / 'jk.yaml'}:11: jk should not match but did\n"
        "  title:   Japan and Seoul\n"
        "  matched (score 4.833)\n"
        "  query:\n"
        "    ✓ NEAR/5\n"
        "      ✓ @japan  found: Japan\n"
        "      ✓ @korea  found: Seoul\n"
        "  exclude:\n"
        "    ✗ baseball\n"
        "4 examples in 1 rule: 3 passed, 1 failed\n"
    )
    code, out = run(rules_dir, "rules", "test", "jj")
    assert code == 2
    assert out == "Error: unknown rule 'jj'\nHint: known rules: jk, minerals\n"


def test_eval_report_json_and_bad_input(rules_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "dev.jsonl"
    lines = [
        {"id": "a", "title": "Japan and South Korea meet", "labels": ["jk"]},
        {"id": "b", "title": "Japan and Korea baseball", "labels": []},
        {"id": "c", "title": "Lithium mine", "labels": ["minerals"]},
        {"id": "d", "title": "Nickel coin", "labels": []},
        {"id": "e", "title": "Tokyo and Seoul leaders", "summary": "", "labels": ["jk"]},
        {"id": "f", "title": "Graphite curbs", "labels": ["minerals"]},
    ]
    data.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    code, out = run(rules_dir, "rules", "eval", str(data), "--errors")
    assert code == 0
    assert out.splitlines() == [
        f"6 labelled items from {data}",
        "rule                           TP   FP   FN precision  recall    F1",
        "jk                              2    0    0      1.00    1.00  1.00",
        "minerals                        1    1    1      0.50    0.50  0.50",
        "minerals false positive: d [?] Nickel coin",
        "minerals false negative: f [?] Graphite curbs",
    ]
    code, out = run(rules_dir, "rules", "eval", str(data), "--json")
    report = json.loads(out)
    assert report["rules"]["minerals"] == {
        "tp": 1,
        "fp": 1,
        "fn": 1,
        "precision": 0.5,
        "recall": 0.5,
        "f1": 0.5,
        "known": True,
    }
    data.write_text('{"id": "a", "title": "x"}\nnot json\n{"title": 3, "labels": []}\n')
    code, out = run(rules_dir, "rules", "eval", str(data))
    assert code == 2
    assert out == (
        f'{data}:1: missing labels (add "labels": [] (a list of rule ids))\n'
        f"{data}:2:1: not JSON: Expecting value\n"
        f"{data}:3: field 'title' must be a string\n"
        "Error: 3 problems found\n"
    )


def test_match_jsonl_text_json_and_all(rules_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "items.jsonl"
    data.write_text(
        json.dumps({"id": "x1", "title": "Japan–South Korea talks", "url": "https://e/1"})
        + "\n"
        + json.dumps({"id": "x2", "title": "Weather", "summary": "sunny"})
        + "\n",
        encoding="utf-8",
    )
    code, out = run(rules_dir, "match", str(data), "--json")
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == [
        {
            "id": "x1",
            "title": "Japan–South Korea talks",
            "url": "https://e/1",
            "rules": [
                {
                    "id": "jk",
                    "score": 5.0,
                    "hits": [
                        {"term": "Japan", "field": "title", "start": 0, "end": 5},
                        {"term": "South Korea", "field": "title", "start": 6, "end": 17},
                    ],
                    "why": "Japan, South Korea",  # a new key: what matched, in words
                }
            ],
        }
    ]
    code, out = run(rules_dir, "match", str(data), "--json", "--all")
    assert [json.loads(line)["rules"] for line in out.splitlines()][1] == []
    code, out = run(rules_dir, "match", str(data))
    assert out == (
        "Japan–South Korea talks  [x1]\n  https://e/1\n  jk (5): Japan, South Korea\n"
        "1 item matched\n"
    )
    code, out = run(rules_dir, "match", str(tmp_path / "missing.xml"))
    assert code == 2
    assert "no such file" in out


MATCH_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>T</title><link>https://example.org/</link>
<item><title>Japan and South Korea hold talks</title><link>https://example.org/a</link>
<guid>a</guid><description>Leaders met in Tokyo.</description></item>
<item><title>Lithium prices</title><link>https://example.org/b</link><guid>b</guid></item>
<item><title>Weather</title><link>https://example.org/c</link><guid>c</guid></item>
</channel></rss>"""
MATCH_FEED_RULES = [
    ("Japan and South Korea hold talks", ["jk"]),
    ("Lithium prices", ["minerals"]),
    ("Weather", []),
]


def test_match_feed_file(rules_dir: Path, tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(MATCH_FEED, encoding="utf-8")
    code, out = run(rules_dir, "match", str(feed), "--json", "--all")
    assert code == 0, out
    got = [json.loads(line) for line in out.splitlines()]
    assert [(g["title"], [r["id"] for r in g["rules"]]) for g in got] == MATCH_FEED_RULES
    assert got[0]["url"] == "https://example.org/a"


def test_match_url_fetches_the_feed(rules_dir: Path, feed_server: FeedServer) -> None:
    feed_server.add_file("/feed.xml", MATCH_FEED.encode())
    code, out = run(rules_dir, "match", feed_server.url("/feed.xml"), "--json", "--all")
    assert code == 0, out
    got = [json.loads(line) for line in out.splitlines()]
    assert [(g["title"], [r["id"] for r in g["rules"]]) for g in got] == MATCH_FEED_RULES
    assert feed_server.count("/feed.xml") == 1

    code, out = run(rules_dir, "match", feed_server.url("/gone.xml"))
    assert code == 2, out
    assert f"Error: {feed_server.url('/gone.xml')}: HTTP 404 Not Found" in out


# --- archive commands ---------------------------------------------------------------------------

NOW = datetime.now(UTC).replace(microsecond=0)
FEED = FeedSource("yna", "Yonhap", "https://yna.example/rss", "news", "KR", "en", 900)


def _archive(rules_dir: Path, db_path: Path) -> dict[str, Item]:
    db = open_db(db_path)
    sync_feeds(db, [FEED])
    items = {
        "i1": Item("i1", "yna", None, "https://e/1", "Japan and South Korea agree", "", NOW, NOW),
        "i2": Item("i2", "yna", None, "https://e/2", "Lithium mine opens", "", NOW, NOW),
        "i3": Item(
            "i3",
            "yna",
            None,
            "https://e/3",
            "Japan wins at baseball against South Korea",
            "",
            NOW,
            NOW,
        ),
        "old": Item(
            "old", "yna", None, "", "Nickel and lithium", "", NOW - timedelta(days=400), NOW
        ),
    }
    store_items(db, items.values(), now=NOW)
    book = load_rules(rules_dir)
    matches = [m for it in items.values() for m in book.matcher.match(it, FEED)]
    # A stored match from an older rule version, which the current rules would not make.
    stale = book.matcher.match(items["i2"], FEED)[0]._replace(item_id="i3", rule_version="old")
    assert save_matches(db, [*matches, stale], NOW) == len(matches) + 1
    assert save_matches(db, matches, NOW) == 0  # stored once; history not rewritten
    db.close()
    return items


def test_explain_an_archived_item(rules_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    _archive(rules_dir, db)
    code, out = run(rules_dir, "rules", "explain", "jk", "i3", db=db)
    assert code == 0
    assert out.splitlines() == [
        "jk does not match item i3 (score 4.333)",
        "  score = title 4 (Japan, South Korea) + NEAR 0.333 = 4.333",
        "  in digests × feed weight 1 (news) × coverage (outlets)",
        "  because the exclude query is true",
        "found: Japan, South Korea",  # what the query found, in words
        "query",
        "└── ✓ NEAR/5",
        "    ├── ✓ @japan  found: Japan",
        "    └── ✓ @korea  found: South Korea",
        "exclude",
        "└── ✓ baseball  found: baseball",
        "feed: Yonhap (news, KR, en)  lang: -",
        "title:   Japan wins at baseball against South Korea",
        "stored match: none",
    ]
    code, out = run(rules_dir, "rules", "explain", "minerals", "i2", db=db)
    assert code == 0
    assert "minerals matches item i2 (score 2)" in out
    assert "✓ lithium  found: lithium" in out
    assert "stored match: score 2, rule version" in out
    assert "(same as now)" in out
    code, out = run(rules_dir, "rules", "explain", "minerals", "nope", db=db)
    assert code == 2
    assert "no item 'nope' in the archive" in out


def test_backtest_shows_gained_and_lost(rules_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    _archive(rules_dir, db)
    write(rules_dir, {"jk.yaml": RULE.replace("exclude: baseball\n", "")})
    code, out = run(rules_dir, "rules", "backtest", "--since", "30d", db=db)
    assert code == 0
    assert out.splitlines()[1:] == [
        "jk: stored 1, now 2, +1 gained, -0 lost",
        "  + i3 Japan wins at baseball against South Korea",
        "minerals: stored 2, now 1, +0 gained, -1 lost",
        "  - i3 Japan wins at baseball against South Korea",
    ]
    assert out.startswith("3 archived items since ")  # the 400-day-old item is outside
    code, out = run(rules_dir, "rules", "backtest", "minerals", "--json", db=db)
    report = json.loads(out)
    assert report["items"] == 3
    [entry] = report["rules"]
    assert (entry["stored"], entry["now"], entry["gained"], entry["lost"]) == (2, 1, [], ["i3"])
    code, out = run(rules_dir, "rules", "backtest", "--since", "500d", "--json", db=db)
    assert json.loads(out)["items"] == 4


def test_before_in_match_and_explain(rules_dir: Path, tmp_path: Path) -> None:
    """BEFORE/n end to end: a rule using it matches one word order only, and explains so."""
    write(rules_dir, {"jk.yaml": RULE.replace("NEAR/5", "BEFORE/5")})
    code, out = run(rules_dir, "rules", "test", "jk")
    assert code == 0, out
    data = tmp_path / "items.jsonl"
    rows = [
        {"id": "x1", "title": "Japan and South Korea talks"},
        {"id": "x2", "title": "South Korea and Japan talks"},
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    code, out = run(rules_dir, "match", str(data), "--json", "--all")
    assert code == 0
    got = {r["id"]: [m["id"] for m in r["rules"]] for r in map(json.loads, out.splitlines())}
    assert got == {"x1": ["jk"], "x2": []}
    db = tmp_path / "m.db"
    _archive(rules_dir, db)
    code, out = run(rules_dir, "rules", "explain", "jk", "i1", db=db)
    assert code == 0
    assert out.splitlines()[:9] == [
        "jk matches item i1 (score 4.833)",  # 2 + 2 + (6 - 1) / 6
        "  score = title 4 (Japan, South Korea) + NEAR 0.833 = 4.833",
        "  in digests × feed weight 1 (news) × coverage (outlets)",
        "found: Japan, South Korea",
        "query",
        "└── ✓ BEFORE/5",
        "    ├── ✓ @japan  found: Japan",
        "    └── ✓ @korea  found: South Korea",
        "exclude",
    ]
