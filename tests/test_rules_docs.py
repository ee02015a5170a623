"""docs/rules.md stays true: its worked examples give the stated result, its queries parse."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.config.rules import load_rules
from monitor.errors import QueryError
from monitor.model import Item
from monitor.rules.compile import compile_query
from monitor.rules.parser import parse_query
from monitor.rules.render import to_text
from monitor.rules.termlist import TermList

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DOC = Path(__file__).resolve().parent.parent / "docs" / "rules.md"
TEXT = DOC.read_text(encoding="utf-8")
LISTS = {
    "japan": TermList("japan", ("Japan", "Tokyo", "日本")),
    "korea": TermList("korea", ("South Korea", "ROK", "Seoul", "한국")),
}


def _worked() -> list[tuple[str, str, bool]]:
    block = TEXT.split("<!-- worked-examples -->")[1].split("<!-- /worked-examples -->")[0]
    rows = []
    for line in block.splitlines():
        m = re.match(r"\| `(.+)` \| (.+) \| (yes|no) \|$", line.strip())
        if m:
            rows.append((m.group(1), m.group(2), m.group(3) == "yes"))
    return rows


WORKED = _worked()


def test_the_docs_have_worked_examples() -> None:
    assert len(WORKED) >= 10


@pytest.mark.parametrize(("query", "title", "expected"), WORKED)
def test_worked_example(query: str, title: str, expected: bool) -> None:
    compiled = compile_query(parse_query(query), LISTS, query=query)
    assert compiled.evaluate(title, "").matched is expected


def test_precedence_examples_mean_what_they_say() -> None:
    block = TEXT.split("```query")[1].split("```")[0]
    pairs = [line.split("means") for line in block.strip().splitlines()]
    assert len(pairs) == 5
    for left, right in pairs:
        # Positions differ between the two spellings: compare the canonical text.
        assert to_text(parse_query(left.strip())) == to_text(parse_query(right.strip()))


def test_error_table_matches_the_parser() -> None:
    table = TEXT.split("### Errors")[1].split("## Worked examples")[0]
    rows = re.findall(r"^\| `(.*)` \| (.+) \|$", table, re.M)
    assert len(rows) >= 6
    for query, message in rows:
        query = query.strip()
        try:
            compile_query(parse_query(query), LISTS, query=query)
        except QueryError as exc:
            text = exc.message + (f" ({exc.hint})" if exc.hint else "")
            assert text.startswith(message.strip()), (query, text)
        else:  # pragma: no cover - the table only lists errors
            pytest.fail(f"{query!r} should not parse")


def test_the_before_rule_example_passes_its_own_examples(tmp_path: Path) -> None:
    """The rule file shown under "BEFORE" loads as written and its examples hold."""
    block = TEXT.split("<!-- before-rule -->")[1].split("<!-- /before-rule -->")[0]
    body = block.split("```yaml\n")[1].split("```")[0]
    (tmp_path / "lists").mkdir()
    for name, term_list in LISTS.items():
        terms = "".join(f"  - {t}\n" for t in term_list.terms)
        (tmp_path / "lists" / f"{name}.yaml").write_text(f"terms:\n{terms}", encoding="utf-8")
    (tmp_path / "japan-first.yaml").write_text(body, encoding="utf-8")
    book = load_rules(tmp_path)
    (rule,) = book.rules
    assert "BEFORE/3" in rule.query
    assert rule.match_examples
    assert rule.no_match_examples
    for expected, examples in ((True, rule.match_examples), (False, rule.no_match_examples)):
        for example in examples:
            item = Item("x", "f", None, "", example.title, example.summary, NOW, NOW)
            assert bool(book.matcher.match(item)) is expected, example.title


def test_the_before_worked_example_scores_what_it_says() -> None:
    compiled = compile_query(parse_query("@japan BEFORE/1 @korea"), LISTS)
    assert compiled.evaluate("Japan and South Korea agree").score == 4.5
    assert not compiled.evaluate("South Korea and Japan agree").matched
    assert compiled.evaluate("Japan's South Korea policy").score == 5.0
    assert compiled.evaluate("日本と한국 외교").matched
    assert not compiled.evaluate("한국と日本").matched
    assert "(1 + 1 − 1) / (1 + 1) = 0.5, so 4.5" in TEXT


def test_the_compound_and_series_rule_example_passes_its_own_examples(tmp_path: Path) -> None:
    """The rule file shown under "COMPOUND and SERIES" loads with the shipped lists and its
    examples hold."""
    import shutil

    block = TEXT.split("<!-- chain-rule -->")[1].split("<!-- /chain-rule -->")[0]
    body = block.split("```yaml\n")[1].split("```")[0]
    shutil.copytree(DOC.parent.parent / "rules" / "lists", tmp_path / "lists")
    (tmp_path / "one-phrase.yaml").write_text(body, encoding="utf-8")
    book = load_rules(tmp_path)
    (rule,) = book.rules
    assert "COMPOUND (" in rule.query
    assert "SERIES (" in rule.query
    assert len(rule.match_examples) >= 3
    assert len(rule.no_match_examples) >= 3
    for expected, examples in ((True, rule.match_examples), (False, rule.no_match_examples)):
        for example in examples:
            item = Item("x", "f", None, "", example.title, example.summary, NOW, NOW)
            assert bool(book.matcher.match(item)) is expected, example.title
