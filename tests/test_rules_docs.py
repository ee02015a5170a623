"""docs/rules.md stays true: its worked examples give the stated result, its queries parse."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.errors import QueryError
from monitor.rules.compile import compile_query
from monitor.rules.parser import parse_query
from monitor.rules.render import to_text
from monitor.rules.termlist import TermList

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


@pytest.mark.parametrize("query,title,expected", WORKED)
def test_worked_example(query: str, title: str, expected: bool) -> None:
    compiled = compile_query(parse_query(query), LISTS, query=query)
    assert compiled.evaluate(title, "").matched is expected


def test_precedence_examples_mean_what_they_say() -> None:
    block = TEXT.split("```query")[1].split("```")[0]
    pairs = [line.split("means") for line in block.strip().splitlines()]
    assert len(pairs) == 4
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
