"""The shipped rule pack (rules/*.yaml, rules/lists/*.yaml) loads clean and keeps its promises.

The pack is measured against the labelled development set with ``monitor rules eval``; these
tests only check what must hold on any machine: every rule loads, carries enough examples in
more than one language, passes its own examples, and the traps named in the topic definitions
(docs/rules.md, "The shipped rule pack") stay out.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.config.rules import RuleBook, load_rules
from monitor.model import Item, RuleExample

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"
PACK = {
    "jkus-trilateral": "high",
    "japan-korea": "normal",
    "critical-minerals": "normal",
    "tech-competition": "normal",
    "australia-angle": "normal",
}
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def book() -> RuleBook:
    return load_rules(RULES_DIR)


def language(example: RuleExample) -> str:
    """en, ja or ko, by script: Hangul is Korean, kana or Han without Hangul is Japanese."""
    text = example.title + " " + example.summary
    names = [unicodedata.name(ch, "") for ch in text]
    if any(n.startswith("HANGUL") for n in names):
        return "ko"
    if any(n.startswith(("HIRAGANA", "KATAKANA", "CJK UNIFIED")) for n in names):
        return "ja"
    return "en"


def matched_rules(book: RuleBook, title: str, summary: str = "") -> set[str]:
    item = Item("t", "f", None, "", title, summary, NOW, NOW)
    return {m.rule_id for m in book.matcher.match(item)}


def test_pack_is_exactly_the_five_topics(book: RuleBook) -> None:
    assert {r.id: r.priority for r in book.rules} == PACK


@pytest.mark.parametrize("rule_id", sorted(PACK))
def test_every_rule_has_enough_examples_in_several_languages(book: RuleBook, rule_id: str) -> None:
    rule = book.get(rule_id)
    assert rule.description
    assert rule.name
    for examples in (rule.match_examples, rule.no_match_examples):
        assert len(examples) >= 8
        assert len({language(e) for e in examples}) >= 2


@pytest.mark.parametrize("rule_id", sorted(PACK))
def test_every_rule_passes_its_own_examples(book: RuleBook, rule_id: str) -> None:
    rule = book.get(rule_id)
    wrong = [
        (want, e.title)
        for want, examples in ((True, rule.match_examples), (False, rule.no_match_examples))
        for e in examples
        if book.matcher.outcome(
            rule_id, Item("t", "f", None, "", e.title, e.summary, NOW, NOW)
        ).matched
        != want
    ]
    assert wrong == []


def test_every_list_is_used_and_described(book: RuleBook) -> None:
    used: set[str] = set()
    pending = [
        name
        for rule in book.rules
        for text in (rule.query, rule.exclude or "")
        for name in re.findall(r"@([A-Za-z0-9_-]+)", text)
    ]
    while pending:
        name = pending.pop()
        if name not in used:
            used.add(name)
            pending.extend(book.lists[name].includes)
    assert sorted(set(book.lists) - used) == []
    assert all(tl.description for tl in book.lists.values())


# Traps from the topic definitions, written for this test: (title, summary, rules expected).
TRAPS = [
    ("Tell us what you think of the new US trade rules", "", set()),
    ("Let us explain: why Japan and South Korea both love baseball", "", set()),
    ("Japan, China and South Korea leaders agree to revive trilateral summits", "", set()),
    ("US, Japan and Philippines leaders hold trilateral summit", "", set()),
    ("Tokyo, Seoul and New York stocks rally on rate-cut hopes", "Nikkei and Kospi gain.", set()),
    ("Lithium remains the gold standard for treating bipolar disorder", "", set()),
    ("한국 야구, 일본 꺾고 결승 진출", "", set()),
    ("日韓アイドルが東京ドームで合同コンサート", "", set()),
    ("North Korea fires missile; South Korea's military tracks launch", "", set()),
    # Wire datelines name a capital without making the story about that country, and CJK
    # matching ignores the punctuation in "２０日、韓国" (which must not read as 日韓).
    (
        "Japan's ruling party picks new leader",
        "SEOUL, Nov. 28 (Yonhap) -- Japan's ruling party elected a leader; relations are a focus.",
        set(),
    ),
    (
        "SKハイニックス、賞与を自社株で支給",
        "［ソウル ２０日 ロイター］ - 韓国の半導体大手は合意した。",
        set(),
    ),
    ("북한, 미일 정상회담 비난", "북한 외무성은 미국과 일본의 군사 협력을 규탄했다.", set()),
    (
        "US, Japan and South Korea hold trilateral summit on chip export controls",
        "The three leaders agreed to coordinate curbs on China.",
        {"jkus-trilateral", "tech-competition"},
    ),
    (
        "日韓首脳会談、シャトル外交の継続で一致",
        "両首脳は日米韓の連携の重要性も確認した。",
        {"japan-korea", "jkus-trilateral"},
    ),
    (
        "Japanese trading house takes stake in Australian rare earths miner",
        "The deal secures supply for Japanese magnet makers.",
        {"critical-minerals", "australia-angle"},
    ),
]


@pytest.mark.parametrize(("title", "summary", "expected"), TRAPS)
def test_traps_and_overlaps(book: RuleBook, title: str, summary: str, expected: set[str]) -> None:
    assert matched_rules(book, title, summary) == expected


def _regexes(node: object) -> int:
    from monitor.rules import ast

    assert isinstance(
        node,
        ast.Term
        | ast.Phrase
        | ast.Regex
        | ast.ListRef
        | ast.And
        | ast.Or
        | ast.Not
        | ast.Near
        | ast.Before
        | ast.AtLeast
        | ast.Chain
        | ast.FieldScope,
    )
    return isinstance(node, ast.Regex) + sum(_regexes(c) for c in node.children)


def test_the_pack_reads_aloud_short_queries_and_no_regex_without_a_reason(book: RuleBook) -> None:
    """Issue 12: each query and exclude a few hundred characters, the vocabulary in lists, and a
    /regex/ only where the rule file's comments say why no operator can say it."""
    from monitor.rules.parser import parse_query

    for rule in book.rules:
        for text in (rule.query, rule.exclude or ""):
            assert len(text.strip()) <= 600, (rule.id, len(text.strip()))
        count = sum(_regexes(parse_query(t)) for t in (rule.query, rule.exclude) if t)
        comments = "\n".join(
            line
            for line in Path(rule.path).read_text(encoding="utf-8").splitlines()
            if line.lstrip().startswith("#")
        )
        if count:  # the comment says why no operator can say it
            assert "no operator can" in comments, rule.id
        assert count <= 1, rule.id
    for name, term_list in book.lists.items():
        assert not any(t.startswith("/") for t in term_list.terms), name
