"""COMPOUND and SERIES (one phrase of several parts), and list entries written as mappings
(words a term is not read inside, case kept): semantics, hits, explanations, the loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config.rules import load_rules
from monitor.errors import ConfigError
from monitor.rules.compile import compile_query
from monitor.rules.parser import parse_query
from monitor.rules.termlist import TermList, TermOptions

LISTS = {
    "japan-name": TermList("japan-name", ("Japan", "Japanese", "Tokyo")),
    "korea-name": TermList("korea-name", ("South Korea", "Korea", "ROK", "Seoul", "Korean")),
    "us-name": TermList("us-name", ("US", "U.S.", "United States", "Washington")),
    "pair": TermList(
        "pair",
        ("日韓", "韓日", "한일", "Tokyo", "日米"),
        options=(
            ("日韓", TermOptions(("#日", "毎日", "訪日"))),
            ("韓日", TermOptions(("訪韓日程",))),
            ("한일", TermOptions(("북한",))),
            ("Tokyo", TermOptions((), exact_case=True)),
            ("日米", TermOptions(("#日", "先日"))),
        ),
    ),
}


def matches(query: str, title: str, summary: str = "") -> bool:
    return compile_query(parse_query(query), LISTS, query=query).evaluate(title, summary).matched


PAIR = "COMPOUND (@japan-name, @korea-name)"
TRIO = "COMPOUND (@japan-name, @korea-name, @us-name)"
LISTED = "SERIES (@japan-name, @korea-name, @us-name)"


@pytest.mark.parametrize(
    ("query", "title", "expected"),
    [
        (PAIR, "Japan-South Korea summit", True),
        (PAIR, "Tokyo–Seoul ties thaw", True),  # an en dash is a hyphen
        (PAIR, "Korean-Japanese joint research", True),  # either order
        (PAIR, "Japan, South Korea and China", False),  # a comma is no hyphen
        (PAIR, "Japan South Korea", False),
        (PAIR, "US-Japan-ROK drill", False),  # one link of a longer chain is no pair
        (PAIR, "Japan-ROK-", False),
        (PAIR, "Japan-Japan", False),  # each part once
        (TRIO, "US-Japan-ROK drill", True),
        (TRIO, "U.S.-Japan-South Korea envoys", True),  # the abbreviation's full stop
        (TRIO, "South Korea-Japan-China", False),
        (TRIO, "Japan-South Korea", False),
        (LISTED, "the US, Japan and South Korea agree", True),
        (LISTED, "Japan, the U.S., and South Korea pledge", True),
        (LISTED, "Tokyo, Seoul & Washington", True),
        (LISTED, "US urges Japan and South Korea to mend ties", False),
        (LISTED, "Japan, South Korea and China", False),
        (LISTED, "Japan and South Korea; the US later", False),
        ("SERIES (a, b)", "a and b", True),
        ("SERIES (a, b)", "b, a", True),
        ("SERIES (a, b)", "a or b", False),
        ("SERIES (a, b)", "a-b", False),
    ],
)
def test_compound_and_series(query: str, title: str, expected: bool) -> None:
    assert matches(query, title) is expected


def test_a_chain_holds_in_one_field_and_its_hits_are_its_parts() -> None:
    c = compile_query(parse_query(PAIR), LISTS)
    assert not c.evaluate("Japan", "South Korea").matched  # the parts are in different fields
    result = c.evaluate("x", "Japan-South Korea talks")
    assert [(h.term, h.field) for h in result.hits] == [
        ("Japan", "summary"),
        ("South Korea", "summary"),
        ("Korea", "summary"),
    ]
    expl = c.explain("x", "Japan-South Korea talks")
    assert (expl.label, expl.value) == ("COMPOUND", True)
    assert [(k.label, k.found) for k in expl.children] == [
        ("@japan-name", ["Japan"]),
        ("@korea-name", ["Korea", "South Korea"]),
    ]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("日韓首脳会談", True),
        ("大統領は20日韓国を出発", False),  # a date: 日 is the day
        ("２０日韓国", False),  # full-width digits are digits after NFKC
        ("毎日韓国ドラマ", False),
        ("訪日韓国人", False),
        ("韓日関係", True),
        ("3日間の訪韓日程を終え", False),
        ("한일 정상회담", True),
        ("북한일부 지역", False),
        ("TOKYO (Reuters) -", False),  # case kept: a dateline in capitals is not Tokyo
        ("Tokyo talks", True),
        ("先日米国で", False),
        ("日米首脳", True),
    ],
)
def test_list_entries_with_words_they_are_not_read_inside(title: str, expected: bool) -> None:
    assert matches("@pair", title) is expected


def test_a_phrase_in_the_query_is_not_affected_by_a_lists_exceptions() -> None:
    assert matches("日韓", "20日韓国")  # written in the query, 日韓 is just the characters
    assert matches("@pair OR tokyo", "TOKYO (Reuters)")


def test_compound_and_series_count_towards_the_nesting_limit() -> None:
    from monitor.errors import QueryError
    from monitor.rules.limits import MAX_DEPTH

    deep = "a"
    for _ in range(MAX_DEPTH + 1):
        deep = f"COMPOUND ({deep}, b)"
    with pytest.raises(QueryError) as info:
        parse_query(deep)
    assert "nests more than" in info.value.message


def _write(tmp_path: Path, list_text: str, query: str = "@jk") -> Path:
    rules = tmp_path / "rules"
    (rules / "lists").mkdir(parents=True)
    (rules / "lists" / "jk.yaml").write_text(list_text, encoding="utf-8")
    (rules / "r.yaml").write_text(f"id: r\nname: R\nquery: '{query}'\n", encoding="utf-8")
    return rules


def test_the_loader_reads_entries_written_as_mappings(tmp_path: Path) -> None:
    rules = _write(
        tmp_path,
        "terms:\n  - 한일\n  - term: 日韓\n    not_in: [訪日, '#日']\n  - {term: Seoul, case: exact}\n",
    )
    book = load_rules(rules)
    jk = book.lists["jk"]
    assert jk.terms == ("한일", "日韓", "Seoul")
    assert dict(jk.options) == {
        "日韓": TermOptions(("訪日", "#日")),
        "Seoul": TermOptions((), exact_case=True),
    }
    c = compile_query(parse_query("@jk"), book.lists)
    assert c.evaluate("日韓関係").matched
    assert not c.evaluate("訪日韓国人 SEOUL").matched


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{not_in: [訪日]}", "a term entry needs `term:`"),
        ("{term: 日韓, not_in: [日本]}", "not_in: '日本' shares no characters with '日韓'"),
        ("{term: 日韓, not_in: [韓]}", "not_in: '韓' shares no characters"),  # inside the term
        ("{term: Seoul, case: upper}", "case: 'upper' is not known"),
        ("{term: Seoul, kase: exact}", "kase"),
        ("{term: 日韓, not_in: [" + ", ".join(f"{n}日" for n in range(101)) + "]}", "the limit"),
    ],
)
def test_a_bad_mapping_entry_is_reported_with_file_and_line(
    tmp_path: Path, entry: str, message: str
) -> None:
    rules = _write(tmp_path, f"terms:\n  - 한일\n  - {entry}\n")
    with pytest.raises(ConfigError) as info:
        load_rules(rules)
    text = info.value.format()
    assert message in text, text
    assert "jk.yaml:3" in text, text
