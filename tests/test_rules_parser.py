"""The query parser: every operator, precedence, and error messages to the exact text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.cli.common import render_error
from monitor.errors import QueryError
from monitor.rules.ast import (
    And,
    AtLeast,
    Before,
    Chain,
    FieldScope,
    ListRef,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Regex,
    Term,
)
from monitor.rules.compile import compile_query
from monitor.rules.parser import parse_query
from monitor.rules.render import to_text
from monitor.rules.termlist import TermList


def test_words_side_by_side_mean_and() -> None:
    assert parse_query("lithium nickel") == And((Term("lithium", 1), Term("nickel", 9)), 1)
    assert to_text(parse_query("lithium AND nickel")) == "lithium AND nickel"


def test_or_not_and_groups() -> None:
    node = parse_query("(lithium OR nickel) NOT battery")
    assert node == And(
        (
            Or((Term("lithium", 2), Term("nickel", 13)), 2),
            Not(Term("battery", 25), 21),
        ),
        1,
    )


def test_capitals_mean_exact_case_and_star_means_prefix() -> None:
    assert parse_query("US") == Term("US", 1, exact_case=True)
    assert parse_query("Us") == Term("Us", 1)
    assert parse_query("U.S.") == Term("U.S.", 1, exact_case=True)
    assert parse_query("miner*") == Term("miner", 1, prefix=True)


def test_phrases() -> None:
    assert parse_query('"rare earth"') == Phrase(("rare", "earth"), 1)
    assert parse_query("\u201crare earth\u201d") == Phrase(("rare", "earth"), 1)
    assert parse_query('"rare earth*"') == Phrase(("rare", "earth"), 1, prefix=True)
    assert parse_query('"US envoy"') == Phrase(("US", "envoy"), 1, exact_case=True)


def test_near_atleast_fields_lists_regex() -> None:
    assert parse_query('"a b" NEAR/5 (c OR d)') == Near(
        Phrase(("a", "b"), 1), Or((Term("c", 15), Term("d", 20)), 15), 5, 1
    )
    assert parse_query("ATLEAST 2 (a, b c, @x)") == AtLeast(
        2, (Term("a", 12), And((Term("b", 15), Term("c", 17)), 15), ListRef("x", 20)), 1
    )
    assert parse_query("title:(a OR b)") == FieldScope(
        "title", Or((Term("a", 8), Term("b", 13)), 8), 1
    )
    assert parse_query("summary:a") == FieldScope("summary", Term("a", 9), 1)
    assert parse_query("title:@korea") == FieldScope("title", ListRef("korea", 7), 1)
    assert parse_query(r"/U\.S\./") == Regex(r"U\.S\.", 1)
    assert parse_query(r"/a\/b/") == Regex(r"a\/b", 1)


def test_before_takes_phrases_groups_and_lists_on_either_side() -> None:
    assert parse_query('"a b" BEFORE/2 (c OR d)') == Before(
        Phrase(("a", "b"), 1), Or((Term("c", 17), Term("d", 22)), 17), 2, 1
    )
    assert parse_query("@japan BEFORE/1 @south-korea") == Before(
        ListRef("japan", 1), ListRef("south-korea", 17), 1, 1
    )
    assert to_text(parse_query("(a b) BEFORE/0 title:c")) == "(a AND b) BEFORE/0 (title:c)"
    # in lower case, before is an ordinary word
    assert parse_query("before a") == And((Term("before", 1), Term("a", 8)), 1)


def test_compound_and_series_take_two_parts_or_more() -> None:
    assert parse_query("COMPOUND (@japan-name, @korea-name)") == Chain(
        "COMPOUND", (ListRef("japan-name", 11), ListRef("korea-name", 24)), 1
    )
    assert parse_query('SERIES (a OR b, "c d", @x)') == Chain(
        "SERIES",
        (Or((Term("a", 9), Term("b", 14)), 9), Phrase(("c", "d"), 17), ListRef("x", 24)),
        1,
    )
    assert to_text(parse_query("x COMPOUND (a b, c)")) == "x AND COMPOUND (a AND b, c)"
    # in lower case, compound and series are ordinary words
    assert parse_query("compound series") == And((Term("compound", 1), Term("series", 10)), 1)


@pytest.mark.parametrize(
    ("query", "meaning"),
    [
        ("COMPOUND (a, b) OR c", "(COMPOUND (a, b)) OR c"),
        ("NOT SERIES (a, b) c", "(NOT (SERIES (a, b))) AND c"),
        ("SERIES (a, b) NEAR/2 c", "(SERIES (a, b)) NEAR/2 c"),
        ("a b OR c", "(a AND b) OR c"),
        ("a OR b c", "a OR (b AND c)"),
        ("NOT a b", "(NOT a) AND b"),
        ("a NEAR/5 b c", "(a NEAR/5 b) AND c"),
        ("a OR b NEAR/3 c", "a OR (b NEAR/3 c)"),
        ("NOT a NEAR/2 b", "(NOT a) NEAR/2 b"),
        ("a NEAR/1 b NEAR/2 c", "(a NEAR/1 b) NEAR/2 c"),
        ("a BEFORE/5 b c", "(a BEFORE/5 b) AND c"),
        ("a OR b BEFORE/3 c", "a OR (b BEFORE/3 c)"),
        ("NOT a BEFORE/2 b", "(NOT a) BEFORE/2 b"),
        ("a NEAR/1 b BEFORE/2 c", "(a NEAR/1 b) BEFORE/2 c"),
        ("a BEFORE/1 b NEAR/2 c", "(a BEFORE/1 b) NEAR/2 c"),
    ],
)
def test_precedence_not_near_and_or(query: str, meaning: str) -> None:
    assert to_text(parse_query(query)) == to_text(parse_query(meaning))


def test_lower_case_keywords_are_words() -> None:
    assert parse_query("rock and roll") == And(
        (Term("rock", 1), Term("and", 6), Term("roll", 10)), 1
    )


def _error(query: str, lists: dict[str, TermList] | None = None) -> str:
    with pytest.raises(QueryError) as info:
        compile_query(parse_query(query), lists, query=query)
    return render_error(info.value)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "",
            "Error: empty query (column 1)\n  \n  ^\nHint: write at least one word, e.g. lithium",
        ),
        (
            "(lithium OR nickel",
            "Error: unbalanced parenthesis (column 1)\n  (lithium OR nickel\n  ^\n"
            "Hint: this ( is never closed: add a )",
        ),
        (
            "lithium OR nickel)",
            "Error: unbalanced parenthesis (column 18)\n  lithium OR nickel)\n"
            "                   ^\nHint: this ) has no matching (: remove it or add (",
        ),
        (
            "japan NEAR korea",
            "Error: NEAR has no distance (column 7)\n  japan NEAR korea\n        ^\n"
            "Hint: NEAR needs a number, e.g. NEAR/5",
        ),
        (
            "japan NEAR/x korea",
            "Error: NEAR/x has no distance (column 7)\n  japan NEAR/x korea\n        ^\n"
            "Hint: NEAR needs a number, e.g. NEAR/5",
        ),
        (
            "lithium AND",
            "Error: AND needs a term after it (column 9)\n  lithium AND\n          ^\n"
            "Hint: add a term after AND",
        ),
        (
            "OR lithium",
            "Error: OR needs a term before it (column 1)\n  OR lithium\n  ^\n"
            "Hint: remove it or add a term",
        ),
        (
            '"rare earth',
            'Error: unclosed quote (column 1)\n  "rare earth\n  ^\n'
            'Hint: add a closing " after the phrase',
        ),
        (
            "/a(/",
            "Error: invalid regular expression: missing ), unterminated subpattern (column 3)\n"
            "  /a(/\n    ^\nHint: escape special characters with a backslash, e.g. \\. for a dot",
        ),
        (
            "titel:(a)",
            "Error: unknown field titel: (column 1)\n  titel:(a)\n  ^\nHint: did you mean title:?",
        ),
        (
            "japan BEFORE korea",
            "Error: BEFORE has no distance (column 7)\n  japan BEFORE korea\n        ^\n"
            "Hint: BEFORE needs a number, e.g. BEFORE/5",
        ),
        (
            "japan BEFORE/x korea",
            "Error: BEFORE/x has no distance (column 7)\n  japan BEFORE/x korea\n        ^\n"
            "Hint: BEFORE needs a number, e.g. BEFORE/5",
        ),
        (
            "BEFORE/3 korea",
            "Error: BEFORE needs a term before it (column 1)\n  BEFORE/3 korea\n  ^\n"
            "Hint: e.g. japan BEFORE/5 korea",
        ),
        (
            "japan BEFORE/3",
            "Error: BEFORE needs a term after it (column 7)\n  japan BEFORE/3\n        ^\n"
            "Hint: add a term after BEFORE",
        ),
        (
            "japan AND BEFORE/3 korea",
            "Error: AND needs a term after it (column 7)\n  japan AND BEFORE/3 korea\n"
            "        ^\nHint: add a term, not BEFORE after AND",
        ),
        (
            "ATLEAST 3 (a, b)",
            "Error: ATLEAST 3 can never be met by 2 terms (column 1)\n  ATLEAST 3 (a, b)\n  ^\n"
            "Hint: use a number from 1 to 2",
        ),
        (
            "ATLEAST (a, b)",
            "Error: ATLEAST needs a number (column 1)\n  ATLEAST (a, b)\n  ^\n"
            "Hint: write it as ATLEAST 2 (a, b, c)",
        ),
        (
            "a, b",
            "Error: unexpected comma (column 2)\n  a, b\n   ^\n"
            "Hint: commas only separate the terms of ATLEAST n (a, b), COMPOUND (a, b), SERIES (a, b)",
        ),
        (
            "COMPOUND japan",
            "Error: COMPOUND needs its parts in parentheses (column 1)\n  COMPOUND japan\n  ^\n"
            "Hint: write it as COMPOUND (@japan-name, @korea-name)",
        ),
        (
            "x SERIES (a)",
            "Error: SERIES needs two parts or more (column 3)\n  x SERIES (a)\n    ^\n"
            "Hint: write it as SERIES (@japan-name, @korea-name, @us-name)",
        ),
        (
            "COMPOUND ()",
            "Error: COMPOUND () has no parts (column 10)\n  COMPOUND ()\n           ^\n"
            "Hint: write it as COMPOUND (@japan-name, @korea-name)",
        ),
        (
            "SERIES (a, b",
            "Error: unbalanced parenthesis (column 8)\n  SERIES (a, b\n         ^\n"
            "Hint: this ( is never closed: add a )",
        ),
        (
            "SERIES (a, b, c, d, e, f, g)",
            "Error: SERIES has 7 parts; at most 6 are allowed (column 1)\n"
            "  SERIES (a, b, c, d, e, f, g)\n  ^\n"
            "Hint: split it, or put alternatives in one part with OR",
        ),
        (
            "mi*ner",
            "Error: a * wildcard only works at the end of a word (column 3)\n  mi*ner\n    ^\n"
            "Hint: e.g. miner* matches miner, miners, mineral",
        ),
        (
            "()",
            "Error: empty parentheses (column 1)\n  ()\n  ^\nHint: put a term inside, or remove ()",
        ),
    ],
)
def test_error_messages_exact_text(query: str, expected: str) -> None:
    assert _error(query) == expected


def test_unknown_list_suggests_the_closest() -> None:
    lists = {"korea": TermList("korea", ("Seoul",)), "japan": TermList("japan", ("Tokyo",))}
    assert _error("@japan AND @korae", lists) == (
        "Error: unknown list @korae (column 12)\n  @japan AND @korae\n"
        "             ^\nHint: did you mean @korea?"
    )
    assert "Hint: known lists: @japan, @korea" in _error("@zzz", lists)


def test_unknown_list_suggests_the_nearest_not_the_first_alphabetically() -> None:
    lists = {
        "mineral-signals": TermList("mineral-signals", ("lithium",)),
        "minerals": TermList("minerals", ("cobalt",)),
    }
    assert _error("@minerls", lists).endswith("Hint: did you mean @minerals?")


def _nodes(node: Node) -> int:
    return 1 + sum(_nodes(c) for c in node.children)


ALPHABET = st.sampled_from(
    [
        *list("ab ()\"*/@,:-'’"),
        "AND ",
        "OR ",
        "NOT ",
        "NEAR/",
        "NEAR/3 ",
        "BEFORE/",
        "BEFORE/1 ",
        "ATLEAST ",
        "2 ",
        "title:",
        "summary:",
        "日本",
        "한국",
        "US",
        "\\",
        "[",
        "\n",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(ALPHABET, max_size=14).map("".join))
def test_parser_returns_a_node_or_a_query_error(text: str) -> None:
    try:
        node = parse_query(text)
    except QueryError as exc:
        column, message = exc.column, exc.message
        assert 1 <= column <= len(text) + 1
        assert message
        return
    assert _nodes(node) >= 1
    try:  # compiling (and evaluating) never fails otherwise either
        compiled = compile_query(node, {"a": TermList("a", ("x",))}, query=text)
    except QueryError as exc:
        message = exc.message
        assert message.startswith("unknown list @")
        return
    assert compiled.evaluate(text, text).matched in (True, False)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_parser_on_any_text(text: str) -> None:
    try:
        parse_query(text)
    except QueryError as exc:
        column = exc.column
        assert column >= 1
