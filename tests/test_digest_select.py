"""Selection, ranking and routing: best first, one entry per story, rule channels honoured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.digest.select import alert_rules, plan_digest
from monitor.model import Candidate, Hit, Rule

T = datetime(2026, 8, 22, 12, 0, tzinfo=UTC)
RULES = [
    Rule(id="tri", name="Trilateral", query="x", priority="high"),
    Rule(id="jk", name="Japan–Korea", query="x", min_score=2.0),
    Rule(id="min", name="Minerals", query="x", channel="#minerals"),
]


def cand(
    item: str,
    rule: str,
    score: float,
    *,
    hours_ago: float = 1,
    title: str = "",
    feed: str = "Reuters",
    url: str = "",
) -> Candidate:
    return Candidate(
        item_id=item,
        rule_id=rule,
        score=score,
        hits=(Hit("Japan", "title", 0, 5),),
        title=title or f"Headline {item} " + " ".join(f"{item}{k}" for k in "xyz"),
        summary="",
        url=url or f"https://example.com/{item}",
        published=T - timedelta(hours=hours_ago),
        feed_id=feed.lower(),
        feed_name=feed,
    )


def test_ranked_by_score_then_recency_then_id() -> None:
    cands = [
        cand("a", "tri", 3.0, hours_ago=5),
        cand("b", "tri", 5.0, hours_ago=9),
        cand("c", "tri", 3.0, hours_ago=1),
        cand("d", "tri", 3.0, hours_ago=1),
    ]
    (section,) = plan_digest(cands, RULES, channel="#watch", max_items=10)
    assert [e.lead.item_id for e in section.entries] == ["b", "c", "d", "a"]


def test_item_in_two_rules_appears_once_under_its_best_rule_naming_the_other() -> None:
    cands = [cand("a", "tri", 4.0), cand("a", "jk", 6.0), cand("b", "tri", 1.0)]
    sections = plan_digest(cands, RULES, channel="#watch", max_items=10)
    by_rule = {s.rule.id: s for s in sections}
    assert [e.lead.item_id for e in by_rule["jk"].entries] == ["a"]
    assert by_rule["jk"].entries[0].also_rules == ("tri",)
    assert [e.lead.item_id for e in by_rule["tri"].entries] == ["b"]
    # both (item, rule) pairs are delivered with the one entry: "a" never comes back under tri
    assert set(by_rule["jk"].entries[0].claims) == {("a", "jk"), ("a", "tri")}


def test_rule_channel_overrides_digest_channel() -> None:
    sections = plan_digest(
        [cand("a", "min", 2.0), cand("b", "tri", 2.0)], RULES, channel="#watch", max_items=5
    )
    assert {s.rule.id: s.channel for s in sections} == {"tri": "#watch", "min": "#minerals"}


def test_min_score_of_digest_and_rule_both_apply() -> None:
    cands = [
        cand("a", "jk", 1.5),
        cand("b", "jk", 2.5),
        cand("c", "tri", 0.5),
        cand("d", "tri", 1.5),
    ]
    sections = plan_digest(cands, RULES, channel="#w", max_items=5, min_score=1.0)
    shown = {e.lead.item_id for s in sections for e in s.entries}
    assert shown == {"b", "d"}


def test_entries_past_max_items_are_counted_and_claimed_not_dropped() -> None:
    cands = [
        cand(f"i{n}", "tri", 10 - n, title=f"Distinct story {n} w{n}a w{n}b w{n}c")
        for n in range(7)
    ]
    (section,) = plan_digest(cands, RULES, channel="#w", max_items=3)
    assert len(section.entries) == 3
    assert len(section.more) == 4
    assert {item for item, _ in section.claims} == {f"i{n}" for n in range(7)}


def test_same_story_from_several_feeds_is_one_entry_listing_the_others() -> None:
    title = "Japan, South Korea and US agree on critical minerals supply pact"
    cands = [
        cand("a", "tri", 5.0, title=title, feed="Reuters"),
        cand("b", "tri", 4.0, title=title + " - Yonhap", feed="Yonhap"),
        cand(
            "c",
            "tri",
            4.5,
            title="Japan, South Korea, US agree on critical minerals supply pact",
            feed="Korea Herald",
        ),
        cand("d", "tri", 1.0, title="Completely different news about fisheries quotas", feed="NHK"),
    ]
    (section,) = plan_digest(cands, RULES, channel="#w", max_items=10)
    first = section.entries[0]
    assert first.lead.item_id == "a"
    assert first.also_sources == ("Korea Herald", "Yonhap")
    assert len(section.entries) == 2


def test_alert_rules_default_to_priority_high() -> None:
    assert [r.id for r in alert_rules(RULES, None)] == ["tri"]
    assert [r.id for r in alert_rules(RULES, ["min"])] == ["min"]
