"""Matching on the article text (issue 15): body:(…), unscoped terms in the body, scoring."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.errors import QueryError
from monitor.model import Item, Rule
from monitor.rules.compile import compile_query
from monitor.rules.explain import explain_rule, snippet
from monitor.rules.matcher import Matcher
from monitor.rules.parser import parse_query

NOW = datetime(2026, 12, 1, tzinfo=UTC)
BODY = (
    "Tokyo said on Tuesday that it would review supply chains. In the third paragraph the "
    "ministry noted that gallium and germanium exports had fallen since the new licensing rules."
)


def _item(title: str, summary: str = "", body: str = "") -> Item:
    return Item("a" * 16, "f", None, "https://x.test/a", title, summary, NOW, NOW, body=body)


def _q(text: str):  # type: ignore[no-untyped-def]
    return compile_query(parse_query(text))


def test_body_scope_looks_only_in_the_body() -> None:
    q = _q("body:(gallium)")
    assert not q.evaluate("gallium prices", "gallium").matched
    result = q.evaluate("Japan reviews supply chains", "", BODY)
    assert result.matched
    assert [h.field for h in result.hits] == ["body"]


def test_unscoped_terms_combine_title_and_body() -> None:
    q = _q('gallium AND "supply chains"')
    assert not q.evaluate("Japan reviews supply chains").matched
    result = q.evaluate("Japan reviews supply chains", "", BODY)
    assert result.matched
    assert {h.field for h in result.hits} == {"title", "body"}


def test_title_and_lead_score_above_body() -> None:
    q = _q("gallium")
    title = q.evaluate("gallium curbs").score
    lead = q.evaluate("curbs", "gallium").score
    body = q.evaluate("curbs", "", BODY).score
    assert title > lead > body > 0
    # a term in the lead and the body counts once, at the lead's weight
    assert q.evaluate("curbs", "gallium", BODY).score == lead


def test_title_and_summary_scopes_do_not_reach_the_body() -> None:
    assert not _q("title:gallium OR summary:gallium").evaluate("x", "y", BODY).matched


def test_unknown_field_hint_names_body() -> None:
    with pytest.raises(QueryError) as err:
        parse_query("bdy:(gallium)")
    assert "body:" in str(err.value.hint)


def test_matcher_finds_a_body_only_match_and_explains_it() -> None:
    rules = [
        Rule(id="gallium", name="Gallium", query="gallium AND germanium"),
        Rule(id="title-only", name="T", query="title:(gallium)"),
    ]
    matcher = Matcher(rules)
    before = _item("Japan reviews supply chains")
    assert matcher.match(before) == []
    after = _item("Japan reviews supply chains", body=BODY)
    found = matcher.match(after)
    assert [m.rule_id for m in found] == ["gallium"]
    assert {h.field for h in found[0].hits} == {"body"}
    expl = explain_rule(matcher, "gallium", after)
    assert expl.outcome.matched
    text = snippet(after.body, found[0].hits, "body")
    assert "**gallium**" in text
    assert "**germanium**" in text


def test_body_scoped_rule_is_a_candidate_only_through_the_body() -> None:
    matcher = Matcher([Rule(id="b", name="B", query="body:(germanium)")])
    assert matcher.match(_item("germanium", "germanium")) == []
    assert [m.rule_id for m in matcher.match(_item("x", body=BODY))] == ["b"]
