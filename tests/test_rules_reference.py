"""The fast matcher against the reference evaluator (monitor.rules.reference).

First: queries generated from the grammar (every operator, lists, fields, Latin and CJK
terms, capitals, prefixes, regexes) over generated texts (English, Japanese, Korean, mixed,
punctuation, possessives) give the same match, hits and score from both. Second: the
Matcher's presearch never changes a result, for the shipped pack and the benchmark's 1,000
generated rules, over every feed file in the repository.
"""

from __future__ import annotations

import importlib.util
import json
import random
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from monitor.config.rules import load_rules
from monitor.errors import MonitorError, QueryError
from monitor.model import FeedSource, Item, Match, Rule
from monitor.reader.normalize import normalize_entries
from monitor.reader.parse import parse_feed
from monitor.rules.compile import compile_query
from monitor.rules.context import FIELDS
from monitor.rules.matcher import Matcher, source_allows
from monitor.rules.parser import parse_query
from monitor.rules.reference import Reference
from monitor.rules.termlist import TermList, TermOptions

ROOT = Path(__file__).resolve().parent.parent

LISTS = {
    "jp": TermList("jp", ("Japan", "Tokyo", "日本", "일본", "japan*")),
    "kr": TermList("kr", ("South Korea", "ROK", "Seoul", "한국", "韓国", "ROK"), ("us",)),
    "us": TermList("us", ("US", "us", "United States", "米国", "미국", "U.S.")),
    "mx": TermList("mx", ("rare earth*", "日 本", "a b", "Japan's", "lg한국", "ab*")),
    # entries written as mappings: words they are not read inside, case kept
    "ex": TermList(
        "ex",
        ("日韓", "한일", "Tokyo", "Korea", "a"),
        options=(
            ("日韓", TermOptions(("#日", "毎日", "日韓国"))),
            ("한일", TermOptions(("북한",))),
            ("Tokyo", TermOptions((), exact_case=True)),
            ("Korea", TermOptions(("South Korea",))),
            ("a", TermOptions(("b a",))),
        ),
    ),
}

WORDS = [
    "a", "ab", "b", "s", "US", "us", "Japan", "japan", "Korea", "ROK", "miner", "o'brien",
    "日本", "韓国", "한국", "일본", "日", "本", "국", "lg한국", "U.S.", "１２", "ＪＡＰＡＮ", "ß", "ss",
]  # fmt: skip
PREFIXES = ["a*", "ab*", "Jap*", "miner*", "日*", "한*", "US*"]
PHRASES = [
    '"a b"', '"South Korea"', '"rare earth*"', '"Japan-South Korea"', '"日 本"', '"日本 韓国"',
    '"a 日本"', '"한국 정부"', '"US a"', '"Japan\'s envoy"', '"b a*"',
]  # fmt: skip
REGEXES = [
    r"/a[- ]b/", r"/日韓|한일/", r"/\d+/", r"/(?-i:US)/", r"/s\b/", r"/-/", r"/japan'?s?/",
    r"/(?<![\d])日(?=[米韓])/", r"/a|b/", r"/ROK|\bus\b/",
]  # fmt: skip
LEAVES = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(PREFIXES),
    st.sampled_from(PHRASES),
    st.sampled_from(REGEXES),
    st.sampled_from([f"@{name}" for name in LISTS]),
)


def _combine(sub: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    n = st.integers(0, 4)
    return st.one_of(
        st.tuples(sub, sub).map(lambda p: f"({p[0]} AND {p[1]})"),
        st.tuples(sub, sub).map(lambda p: f"({p[0]} {p[1]})"),
        st.tuples(sub, sub).map(lambda p: f"({p[0]} OR {p[1]})"),
        sub.map(lambda q: f"(NOT {q})"),
        st.tuples(sub, sub).map(lambda p: f"({p[0]} NOT {p[1]})"),
        st.tuples(sub, n, sub).map(lambda p: f"({p[0]} NEAR/{p[1]} {p[2]})"),
        st.tuples(sub, n, sub).map(lambda p: f"({p[0]} BEFORE/{p[1]} {p[2]})"),
        st.tuples(st.integers(1, 3), st.lists(sub, min_size=1, max_size=3)).map(
            lambda p: f"ATLEAST {min(p[0], len(p[1]))} ({', '.join(p[1])})"
        ),
        st.tuples(st.sampled_from(["title", "summary", "body"]), sub).map(
            lambda p: f"{p[0]}:({p[1]})"
        ),
        st.tuples(
            st.sampled_from(["COMPOUND", "SERIES"]), st.lists(sub, min_size=2, max_size=3)
        ).map(lambda p: f"{p[0]} ({', '.join(p[1])})"),
    )


QUERIES = st.recursive(LEAVES, _combine, max_leaves=6)

# Texts: fragments of English, Japanese and Korean with the separators that matter.
FRAGMENTS = [
    "a", "b", "ab", "abc", "s", "US", "us", "Us", "Japan", "JAPAN", "Japan's", "Japan’s", "japanese",
    "South", "Korea", "ROK", "rok", "Seoul", "Tokyo", "rare", "earths", "miner", "minerals",
    "o'brien", "U.S.", "United", "States", "envoy", "12", "ＪＡＰＡＮ", "ß", "ss", "ﬁ", "e\u0301",
    "日本", "韓国", "日韓", "米国", "日", "本", "と", "の", "首脳", "한국", "일본", "한일", "미국",
    "은", "정부", "국", "lg", "ｶﾞ", "・", "ー", "and", "the", "毎", "北", "북", "20", "韓", "-",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", "", "-", "–", ", ", "、", "。", "'", "’s ", ".", "_", "\u3000", "/"]
TEXTS = st.lists(
    st.tuples(st.sampled_from(FRAGMENTS), st.sampled_from(SEPARATORS)), max_size=12
).map(lambda parts: "".join(f + s for f, s in parts))


def _both(query: str, title: str, summary: str) -> None:
    try:
        node = parse_query(query)
    except QueryError:
        assume(False)
        return
    body = summary[::-1]  # the article text (issue 15's body field), some text of its own
    fast = compile_query(node, LISTS, query=query).evaluate(title, summary, body)
    ref = Reference(node, LISTS).evaluate(title, summary, body)
    assert (fast.matched, fast.hits, fast.score) == (ref.matched, ref.hits, ref.score), (
        query,
        title,
        summary,
    )


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(QUERIES, TEXTS, TEXTS)
def test_fast_matcher_agrees_with_the_reference(query: str, title: str, summary: str) -> None:
    _both(query, title, summary)


@pytest.mark.parametrize(
    ("query", "title", "summary"),
    [
        ("@jp NEAR/3 @kr", "Japan's foreign minister meets ROK counterpart", ""),
        ("seoul NEAR/3 @kr", "Seoul talks", "Seoul and ROK"),
        ("(a OR b) NEAR/1 (b NOT c)", "a b c", "b a"),
        ("x OR (a NEAR/2 b AND z)", "a b x", ""),  # a NEAR that is false above still scores
        ("summary:(title:(NOT a))", "a", "a"),
        ("日本 NEAR/2 韓国", "日本と韓国", "日本、韓国"),
        ('"日 本" OR 日本', "日本 日、本", ""),
        ("US* AND @us", "USA and us and U.S.", "US"),
        ("/a[- ]b/ NEAR/0 a", "a-b a", "A b"),
        ("ATLEAST 2 (a, b, title:c)", "c", "a b"),
        ("@jp BEFORE/1 @kr", "Japan and ROK", "ROK and Japan"),
        ("a BEFORE/0 a", "a a", "a"),  # one occurrence is never before itself
        ('"a b" BEFORE/1 (b OR 日本)', "a b b", "a b x 日本"),
        ("日本 BEFORE/1 한국", "日本と한국", "한국と日本"),
        ("(a BEFORE/2 b) NEAR/1 c", "c a b", "b a c"),
        ("COMPOUND (@jp, @kr)", "Japan-South Korea talks", "US-Japan-ROK"),
        ("COMPOUND (@jp, @kr, @us)", "U.S.-Japan-ROK drill", "Japan-ROK-US-"),
        ("SERIES (@jp, @kr, @us)", "the US, Japan and South Korea", "Japan, the U.S., and ROK"),
        ("SERIES (a, b) OR COMPOUND (b, a)", "b and a", "a-b-a"),
        ("COMPOUND (a NEAR/1 b, c)", "a b-c", "c-a x b"),
        ("@ex", "20日韓国 毎日韓国 日韓国交", "북한일부 한일 TOKYO Tokyo"),
        ("@ex AND a", "South Korea b a", "Korea a"),
    ],
)
def test_fast_matcher_agrees_with_the_reference_on_known_cases(
    query: str, title: str, summary: str
) -> None:
    _both(query, title, summary)


# --- presearch: the Matcher's candidates never hide a match ------------------------------


@cache
def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_match", ROOT / "bench" / "match.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def _items() -> list[Item]:
    """Every distinct item of every feed file in the repository, and of the archive fixture."""
    folders = (ROOT / "tests" / "data", ROOT / "monitor" / "demo" / "snapshots")
    now = datetime(2026, 11, 28, tzinfo=UTC)
    seen: dict[tuple[str, str, str | None], Item] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix not in (".xml", ".rss", ".atom", ".rdf"):
                continue
            source = FeedSource(path.stem, path.stem, path.as_uri(), "news", "", "", 900)
            try:
                entries = normalize_entries(source, parse_feed(path.read_bytes(), {}, ""), now=now)
            except MonitorError:
                continue  # the odd feeds that are not feeds at all
            for item in entries:
                seen.setdefault((item.title, item.summary, item.lang), item)
    for line in (ROOT / "tests" / "data" / "archive_items.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line)
        item = Item("", "f", None, "", row["title"], row.get("summary", ""), now, now)
        seen.setdefault((item.title, item.summary, None), replace(item, lang=row.get("lang")))
    return [replace(item, id=f"i{n}") for n, item in enumerate(seen.values())]


def _every_rule(matcher: Matcher, item: Item) -> list[Match]:
    """What Matcher.match must return, by evaluating every rule (no presearch)."""
    ctx = matcher.context(item.title, item.summary, item.body)
    out = []
    for c in matcher.compiled:
        result = c.query.run(ctx)
        if not result.matched or not source_allows(c.rule, item, None):
            continue
        if c.exclude is not None and c.exclude.root.test(ctx, FIELDS):
            continue
        score = round(result.score * c.rule.weight, 3)
        if score >= c.rule.min_score:
            out.append(Match(item.id, c.rule.id, score, result.hits, c.rule.version))
    out.sort(key=lambda m: (-m.score, m.rule_id))
    return out


def _pack() -> tuple[list[Rule], dict[str, TermList]]:
    book = load_rules(ROOT / "rules")
    return list(book.rules), dict(book.lists)


def _bench_rules() -> tuple[list[Rule], dict[str, TermList]]:
    bench = _bench()
    items, unique = bench.load_items(1)
    items, _ = bench.load_items(unique)  # the benchmark's own vocabulary, so its own rules
    vocab = bench.vocabulary(items)
    lists = bench.make_lists(vocab, 200, random.Random(1))
    return bench.make_rules(1000, lists, vocab), lists


@pytest.mark.parametrize("rules", [_pack, _bench_rules], ids=["shipped-pack", "bench-1000"])
def test_presearch_never_changes_what_matches(rules) -> None:  # type: ignore[no-untyped-def]
    chosen, lists = rules()
    matcher = Matcher(chosen, lists)
    items = _items()
    assert len(items) > 300
    matched = 0
    for item in items:
        got = matcher.match(item)
        assert got == _every_rule(matcher, item), item.title
        matched += len(got)
    assert matched > 0  # the comparison is not between two empty lists


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(QUERIES, st.none() | QUERIES), min_size=1, max_size=4), TEXTS, TEXTS)
# Where a key found settles nothing: the other side of ATLEAST or OR holds, the NOT's term is
# in another field than its own, or its case is not the one written.
@example([("ATLEAST 1 (a, (NOT b))", None)], "a b", "")
@example([("(a OR (NOT b))", None)], "a b", "")
@example([("(a NOT title:(b))", None)], "a", "b")
@example([("(a NOT US)", "(b AND ab)")], "a us", "b")
@example([("a", "(NOT b)"), ("(a NOT (b OR ab))", None)], "a", "")
def test_candidates_never_drop_a_match(
    queries: list[tuple[str, str | None]], title: str, summary: str
) -> None:
    """The candidate masks (clauses needed, and keys that rule a rule out: a NOT under AND
    or an exclude certain to hold) choose a superset of what evaluating every rule finds."""
    rules = []
    for i, (query, exclude) in enumerate(queries):
        try:
            parse_query(query)
            if exclude:
                parse_query(exclude)
        except QueryError:
            continue
        rules.append(replace(Rule(f"r{i}", f"r{i}", query, exclude=exclude), version="v"))
    assume(rules)
    matcher = Matcher(rules, LISTS)
    now = datetime(2026, 11, 28, tzinfo=UTC)
    item = Item("i", "f", None, "", title, summary, now, now, body=summary[::-1])
    assert matcher.match(item) == _every_rule(matcher, item)
