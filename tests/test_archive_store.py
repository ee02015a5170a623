"""Archive store: search (FTS candidates confirmed by the rule matcher), show, stats, prune.

The archive is a real SQLite file built from real feed items (tests/data/archive_items.jsonl:
the first items of nine shipped feed snapshots in tests/data/feeds, in English, Japanese and
Korean, as plain text — see tests/data/archive_items.md).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from monitor.errors import MonitorError
from monitor.rules.compile import compile_query
from monitor.rules.parser import parse_query
from monitor.store import archive, candidates, export, ftsquery, search
from monitor.store.db import open_db

DATA = Path(__file__).parent / "data" / "archive_items.jsonl"
ITEMS: list[dict[str, Any]] = [json.loads(x) for x in DATA.read_text(encoding="utf-8").splitlines()]

# Stored matches: (item index in ITEMS, rule id, score, hits)
MATCHES = [
    (0, "us-defense", 2.0, [{"term": "米国防総省", "field": "title", "start": 0, "end": 5}]),
    (63, "copper", 3.0, [{"term": "copper", "field": "title", "start": 0, "end": 6}]),
    (61, "copper", 1.0, [{"term": "copper", "field": "summary", "start": 4, "end": 10}]),
]


def item_id(n: int) -> str:
    return f"item{n:03d}" + hashlib.sha1(str(n).encode()).hexdigest()[:9]


def build_archive(path: Path, items: list[dict[str, Any]] = ITEMS) -> sqlite_utils.Database:
    """A real archive: feeds, items (FTS kept by the schema's triggers), a few matches."""
    db = open_db(path)
    feeds = {it["feed"]: it for it in items}
    with db.conn:
        for feed_id, it in feeds.items():
            db.execute(
                "INSERT INTO feeds(id, name, url, kind, country, lang) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    feed_id,
                    feed_id.replace("-", " ").title(),
                    f"https://example.org/{feed_id}",
                    it["kind"],
                    it["country"],
                    it["lang"],
                ],
            )
        for n, it in enumerate(items):
            db.execute(
                "INSERT INTO items(id, feed_id, guid, url, title, summary, published, first_seen,"
                " lang, content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    item_id(n),
                    it["feed"],
                    it["guid"],
                    it["url"],
                    it["title"],
                    it["summary"],
                    it["published"],
                    it["published"],
                    it["lang"],
                    f"h{n}",
                ],
            )
        for n, rule, score, hits in MATCHES:
            if n < len(items):
                db.execute(
                    "INSERT INTO matches(item_id, rule_id, rule_version, score, hits, matched_at)"
                    " VALUES (?, ?, 'v1', ?, ?, ?)",
                    [
                        item_id(n),
                        rule,
                        score,
                        json.dumps(hits, ensure_ascii=False),
                        items[n]["published"],
                    ],
                )
    return db


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> sqlite_utils.Database:
    return build_archive(tmp_path_factory.mktemp("archive") / "monitor.db")


def brute_force(query: str) -> set[str]:
    """What the rule matcher alone says, item by item: the truth a search must equal."""
    compiled = compile_query(parse_query(query))
    return {
        item_id(n)
        for n, it in enumerate(ITEMS)
        if compiled.evaluate(it["title"], it["summary"]).matched
    }


def run(db: sqlite_utils.Database, query: str, **kw: Any) -> list[search.Found]:
    node = parse_query(query)
    return search.search(db, node, compile_query(node), limit=1000, **kw)


QUERIES = [
    "copper",
    "Trump",
    "US",
    "tariff* OR tariffs",
    '"White House"',
    "China NOT Taiwan",
    "日本",
    "米国",
    "ロイター",
    "ロイター AND 米",
    "미국",
    "중국 OR 대만",
    "백악관",
    "NOT copper",
    "/[Cc]opper/",
    "ATLEAST 2 (copper, price, record)",
    "title:(copper)",
    "Trump NEAR/5 Putin",
    "Trump BEFORE/6 Russia",
    "Russia BEFORE/6 Trump",
    "カナダ BEFORE/6 関税",
    "米軍 BEFORE/3 (台湾 OR 飛行)",
    "COMPOUND (Ukraine, Russia)",
    "COMPOUND (US, Canada)",
    "SERIES (Trump, Putin)",
]


@pytest.mark.parametrize("query", QUERIES)
def test_search_finds_exactly_what_the_matcher_finds(db: sqlite_utils.Database, query: str) -> None:
    for sort in ("newest", "relevance"):
        got = [f.id for f in run(db, query, sort=sort)]
        assert len(got) == len(set(got)), "no item twice"
        assert set(got) == brute_force(query), (query, sort)


def test_queries_used_above_are_not_trivial() -> None:
    assert all(brute_force(q) for q in ("日本", "米国", "미국", "copper", "Trump", '"White House"'))
    # BEFORE keeps the order: found one way round, not the other.
    assert brute_force("Trump BEFORE/6 Russia")
    assert not brute_force("Russia BEFORE/6 Trump")
    assert brute_force("カナダ BEFORE/6 関税")
    assert not brute_force("関税 BEFORE/6 カナダ")
    # COMPOUND needs the hyphen: found as "US-Canada", not where both are merely named.
    assert brute_force("COMPOUND (US, Canada)")
    assert brute_force("COMPOUND (US, Canada)") < brute_force("US AND Canada")


@pytest.mark.parametrize(
    "query",
    [
        "copper AND price",
        "copper OR price",
        "copper NEAR/3 price",
        "copper BEFORE/3 price",
        "ATLEAST 2 (copper, price, record)",
        "title:(copper price)",
        '"copper price" BEFORE/2 (record OR high)',
        "COMPOUND (copper, price)",
        "SERIES (copper, price, record)",
    ],
)
def test_every_operator_narrows_the_archive_search(query: str) -> None:
    """An operator the index walkers did not know would silently narrow nothing (None)."""
    node = parse_query(query)
    assert ftsquery.fts_expression(node) is not None
    assert ftsquery.trigram_expression(node) is not None
    assert ftsquery.scan_predicate(node) is not None


def test_newest_first_and_limit(db: sqlite_utils.Database) -> None:
    node = parse_query("Trump")
    found = search.search(db, node, compile_query(node), limit=3)
    assert len(found) == 3
    everything = run(db, "Trump")
    assert [f.id for f in found] == [f.id for f in everything[:3]]
    published = [f.published for f in everything]
    assert published == sorted(published, reverse=True)


def test_hits_are_the_matchers_hits(db: sqlite_utils.Database) -> None:
    """Highlighting uses exactly the spans the rule matcher reports for the item."""
    query = "日本 OR copper"
    compiled = compile_query(parse_query(query))
    by_id = {item_id(n): it for n, it in enumerate(ITEMS)}
    found = run(db, query)
    assert found
    for f in found:
        it = by_id[f.id]
        expected = compiled.evaluate(it["title"], it["summary"]).hits
        assert [(h.field, h.start, h.end) for h in f.hits] == [
            (h.field, h.start, h.end) for h in expected
        ]


def test_filters(db: sqlite_utils.Database) -> None:
    since = datetime(2026, 1, 1, tzinfo=UTC)
    ko = run(db, "미국 OR 중국 OR Trump", filters=candidates.Filters(langs=("ko",)))
    assert ko
    assert {f.lang for f in ko} == {"ko"}
    gov = run(db, "Trump", filters=candidates.Filters(kinds=("government",)))
    assert gov
    assert {f.feed_id for f in gov} == {"wh-briefings"}
    kr = run(db, "미국", filters=candidates.Filters(countries=("kr",), since=since))
    assert kr == []  # the Korean items are from 2022
    rule = run(db, "copper OR price", filters=candidates.Filters(rules=("copper",)))
    assert {f.id for f in rule} == {item_id(63), item_id(61)}
    assert all(f.rules == ("copper",) for f in rule)


def test_matched_rules_listed_with_results(db: sqlite_utils.Database) -> None:
    found = run(db, "米国防総省")
    assert [(f.id, f.rules) for f in found] == [(item_id(0), ("us-defense",))]
    assert found[0].as_json()["rules"] == ["us-defense"]


def test_export_rows_one_per_item_and_rule(db: sqlite_utils.Database) -> None:
    rows = list(
        export.export_dicts(
            export.export_rows(db, None, None, candidates.Filters(rules=("copper",)))
        )
    )
    assert [(r["item_id"], r["rule"], r["terms"]) for r in rows] == [
        (item_id(61), "copper", "copper"),  # newest first
        (item_id(63), "copper", "copper"),
    ]
    everything = list(export.export_dicts(export.export_rows(db, None, None)))
    assert len(everything) == len(ITEMS)
    assert tuple(everything[0]) == export.EXPORT_FIELDS


def test_show_item_with_matches(db: sqlite_utils.Database) -> None:
    record = archive.find_item(db, "item063")
    assert record.item["id"] == item_id(63)
    assert record.feed["id"] == ITEMS[63]["feed"]
    assert [m["rule_id"] for m in record.matches] == ["copper"]
    assert record.matches[0]["hits"][0]["term"] == "copper"
    assert record.deliveries == []


def test_show_unknown_and_ambiguous_ids(db: sqlite_utils.Database) -> None:
    with pytest.raises(MonitorError, match="no item 'nope'"):
        archive.find_item(db, "nope")
    with pytest.raises(MonitorError, match="ambiguous"):
        archive.find_item(db, "item06")


def test_show_lists_deliveries(tmp_path: Path) -> None:
    db = build_archive(tmp_path / "d.db", ITEMS[:70])
    with db.conn:
        db.execute(
            "INSERT INTO deliveries(id, kind, name, channel, message, state, created_at, sent_at)"
            " VALUES (1, 'digest', 'morning', '#news', '{}', 'sent', '2026-08-22T08:00:00Z',"
            " '2026-08-22T08:00:02Z')"
        )
        db.execute(
            "INSERT INTO delivery_items(delivery_id, kind, name, item_id, rule_id)"
            " VALUES (1, 'digest', 'morning', ?, 'copper')",
            [item_id(63)],
        )
    [d] = archive.find_item(db, item_id(63)).deliveries
    assert (d["kind"], d["name"], d["channel"], d["state"], d["rule_id"]) == (
        "digest",
        "morning",
        "#news",
        "sent",
        "copper",
    )


def test_stats(db: sqlite_utils.Database, tmp_path: Path) -> None:
    s = archive.stats(db, tmp_path / "missing.db", days=3)
    assert s.items == len(ITEMS)
    assert s.matches == len(MATCHES)
    assert sum(f["items"] for f in s.per_feed) == len(ITEMS)
    assert [r["rule"] for r in s.per_rule] == ["copper", "us-defense"]
    assert s.per_day
    assert all(d["day"] >= "2026-08-20" for d in s.per_day)
    assert s.size_bytes == 0


def test_prune_keeps_matched_and_delivered(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    db = build_archive(path)
    with db.conn:
        db.execute(
            "INSERT INTO deliveries(id, kind, name, channel, message, created_at)"
            " VALUES (1, 'alert', 'x', '#a', '{}', '2026-08-22T08:00:00Z')"
        )
        db.execute(
            "INSERT INTO delivery_items VALUES (1, 'alert', 'x', ?, 'copper')", [item_id(63)]
        )
    cutoff = datetime(2026, 8, 22, tzinfo=UTC)
    old = sum(1 for it in ITEMS if it["published"] < "2026-08-22T00:00:00Z")
    dry = archive.prune(db, path, cutoff, dry_run=True)
    assert (dry.candidates, dry.deleted, dry.kept) == (old, old - 2, 2)  # items 61 and 63
    assert db.execute("SELECT count(*) FROM items").fetchone()[0] == len(ITEMS)
    done = archive.prune(db, path, cutoff, include_matched=True)
    assert (done.deleted, done.kept) == (old - 1, 1)  # the delivered item stays
    left = {r[0] for r in db.execute("SELECT id FROM items WHERE published < '2026-08-22'")}
    assert left == {item_id(63)}
    assert db.execute("SELECT count(*) FROM matches").fetchone()[0] == 2  # 63's and item 0's
    # the indexes follow the deletes: nothing pruned is still found
    assert run(db, "copper OR 미국")
    assert all(
        f.published >= "2026-08-22" or f.id == item_id(63)
        for f in run(db, "copper OR 미국 OR Trump")
    )
    db.execute("INSERT INTO items_fts(items_fts) VALUES ('integrity-check')")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_check_known_suggests() -> None:
    with pytest.raises(MonitorError) as err:
        archive.check_known("rule", ["coper"], {"copper", "japan-korea"})
    assert (err.value.message, err.value.hint) == ("unknown rule 'coper'", "did you mean 'copper'?")


@pytest.mark.parametrize("limit", [1, 2, 5, 9, 50])
def test_newest_is_exact_whatever_the_storage_order(tmp_path: Path, limit: int) -> None:
    """Phase 1 walks rowids; items stored in shuffled publication order must not fool it."""
    import random

    shuffled = ITEMS[:]
    random.Random(limit).shuffle(shuffled)
    db = build_archive(tmp_path / "s.db", shuffled)
    for query in ("Trump OR 미국 OR 日本", "ロイター", "copper OR gold"):
        node = parse_query(query)
        got = search.search(db, node, compile_query(node), limit=limit)
        compiled = compile_query(node)
        truth = sorted(
            (
                it["published"]
                for it in shuffled
                if compiled.evaluate(it["title"], it["summary"]).matched
            ),
            reverse=True,
        )[:limit]
        assert [f.published for f in got] == truth, query


def test_relevance_top_k_is_the_head_of_the_full_ranking(tmp_path: Path) -> None:
    """Small limits fetch few FTS5 candidates and widen; the result must not change."""
    many = [
        {**it, "guid": f"{it['guid']}#{k}", "published": f"{2020 + k}{it['published'][4:]}"}
        for k in range(4)
        for it in ITEMS
    ]
    db = build_archive(tmp_path / "r.db", many)
    for query, filters in (
        ("Trump OR the OR 미국 OR ロイター", candidates.Filters()),
        ("Trump OR the OR 미국 OR ロイター", candidates.Filters(langs=("ko",))),
        ("the", candidates.Filters(feeds=("mining-com",))),
    ):
        node = parse_query(query)
        full = search.search(db, node, compile_query(node), filters, limit=10_000, sort="relevance")
        assert len(full) >= 12, query
        for k in (1, 7, 30):
            head = search.search(db, node, compile_query(node), filters, limit=k, sort="relevance")
            assert [f.rank for f in head] == [f.rank for f in full[:k]], (query, k)


@pytest.mark.parametrize("query", ["gallium", "/gallium/"])  # an index, then a scan
def test_relevance_ranks_as_digests_do_not_as_bm25(tmp_path: Path, query: str) -> None:
    """Same text: the government source above the aggregator, though bm25 ties them and
    puts the newer (the aggregator's) first; a term in the title above one far down."""

    def item(n: int, feed: str, kind: str, title: str, summary: str) -> dict[str, Any]:
        return {
            "feed": feed,
            "kind": kind,
            "country": "US",
            "lang": "en",
            "guid": f"g{n}",
            "url": f"https://example.org/{n}",
            "title": title,
            "summary": summary,
            "published": f"2026-08-2{n}T00:00:00Z",
        }

    filler = "Markets moved on the week's data. " * 12
    items = [
        item(0, "us-usgs", "government", "Gallium output falls", "Smelters cut."),
        item(1, "gnews", "search", "Gallium output falls", "Smelters cut."),
        item(2, "wire", "news", "Markets", filler + "Gallium was flat."),
    ]
    db = build_archive(tmp_path / "r.db", items)
    node = parse_query(query)
    found = search.search(db, node, compile_query(node), limit=3, sort="relevance")
    assert [f.feed_id for f in found] == ["us-usgs", "gnews", "wire"]
    assert found[0].relevance > found[1].relevance > found[2].relevance
    assert found[0].as_json()["relevance"] == found[0].relevance


WORDS = [
    "Trump",
    "US",
    "us",
    "the",
    "copper",
    "price",
    "China",
    "日本",
    "米国",
    "ロイター",
    "미국",
    "중국",
    "Japan's",
    "White",
    "House",
    "miner*",
    "関税",
    "대통령",
    "AI",
]


def _queries() -> Any:
    from hypothesis import strategies as st

    word = st.sampled_from(WORDS)
    phrase = st.lists(
        st.sampled_from(["White", "House", "copper", "price", "the"]), min_size=2, max_size=3
    ).map(lambda ws: '"' + " ".join(ws) + '"')
    leaf = st.one_of(word, word, phrase)
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(inner, inner).map(lambda t: f"({t[0]} AND {t[1]})"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]} OR {t[1]})"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]} NOT {t[1]})"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]} NEAR/3 {t[1]})"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]} BEFORE/3 {t[1]})"),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: f"ATLEAST 2 ({', '.join(xs)})"),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: f"COMPOUND ({', '.join(xs)})"),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: f"SERIES ({', '.join(xs)})"),
        ),
        max_leaves=4,
    )


def test_random_queries_agree_with_the_matcher(db: sqlite_utils.Database) -> None:
    """Whatever the query's shape, the index narrowing never loses an item the matcher finds."""
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_queries())
    def check(query: str) -> None:
        got = {f.id for f in run(db, query)}
        assert got == brute_force(query), query

    check()


def test_archive_without_the_trigram_index_still_finds_cjk(tmp_path: Path) -> None:
    """An archive opened read-only before its migration ran: CJK search falls back to a scan."""
    db = build_archive(tmp_path / "old.db")
    db.execute("DROP TABLE items_cjk")
    assert not candidates.has_trigram(db)
    for query in ("ロイター", "미국 OR copper", "日本経済"):
        assert {f.id for f in run(db, query)} == brute_force(query) != set()


def test_prune_reports_a_busy_archive(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    db = build_archive(path)
    other = open_db(path)
    other.conn.execute("BEGIN EXCLUSIVE")
    db.execute("PRAGMA busy_timeout=50")
    try:
        with pytest.raises(MonitorError) as err:
            archive.prune(db, path, datetime(2030, 1, 1, tzinfo=UTC))
    finally:
        other.conn.rollback()
    assert err.value.message == "prune stopped after deleting 0 items: database is locked"


def test_stats_per_day_lists_every_calendar_day(db: sqlite_utils.Database, tmp_path: Path) -> None:
    from collections import Counter
    from datetime import date

    s = archive.stats(db, tmp_path / "missing.db", days=14, today=date(2026, 8, 22))
    assert (s.first_day, s.last_day) == ("2026-08-09", "2026-08-22")
    assert [d["day"] for d in s.per_day] == [f"2026-08-{n:02d}" for n in range(22, 8, -1)]
    per_day = Counter(it["published"][:10] for it in ITEMS)
    assert {d["day"]: d["items"] for d in s.per_day} == {
        d["day"]: per_day.get(d["day"], 0) for d in s.per_day
    }
    empty = {d["day"] for d in s.per_day if d["items"] == 0}
    assert {"2026-08-15", "2026-08-13", "2026-08-09"} <= empty  # days without items are shown
    matched = Counter(ITEMS[n]["published"][:10] for n, *_ in MATCHES)
    assert {d["day"]: d["matches"] for d in s.per_day if d["matches"]} == {
        day: n for day, n in matched.items() if day >= "2026-08-09"
    }
