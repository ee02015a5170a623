"""Ranking by relevance: score × feed weight (feeds.yaml `weight:`, else by kind) × coverage."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.config.feeds import load_feeds
from monitor.config.settings import AlertSpec, Settings
from monitor.deliver.slack import SlackWebDeliverer
from monitor.digest.relevance import coverage, relevance
from monitor.digest.select import plan_digest
from monitor.digest.thread import render_thread
from monitor.errors import ConfigError
from monitor.message import Section
from monitor.model import KIND_WEIGHT, Candidate, FeedSource, Hit, Rule, feed_weight
from monitor.pipeline.outbox import send_alerts
from monitor.store.db import open_db
from monitor.store.feeds import sync_feeds
from tests import digestdata
from tests.fakeslack import FakeSlack

T = datetime(2026, 8, 22, 12, 0, tzinfo=UTC)
NUMBERS = ("1.", "2.", "3.")
RULES = [Rule(id="min", name="Minerals", query="x", min_score=4.0)]


def cand(item: str, score: float, *, feed: str, kind: str = "news", **kw: object) -> Candidate:
    return Candidate(
        item_id=item,
        rule_id="min",
        score=score,
        hits=(Hit("gallium", "title", 0, 7),),
        title=str(kw.get("title", f"Headline {item} " + " ".join(f"{item}{k}" for k in "xyz"))),
        summary="",
        url=f"https://example.com/{item}",
        published=T - timedelta(hours=float(kw.get("hours", 1))),  # type: ignore[arg-type]
        feed_id=feed,
        feed_name=feed.title(),
        feed_kind=kind,
        feed_weight=kw.get("weight"),  # type: ignore[arg-type]
    )


def test_the_parts() -> None:
    assert feed_weight("government", None) == 1.2 > feed_weight("news", None) == 1.0
    assert feed_weight("search", None) == 0.8
    assert feed_weight("search", 1.5) == 1.5
    assert feed_weight("unknown", None) == 1.0
    assert coverage(1) == 1.0
    assert coverage(2) == pytest.approx(1.1)
    assert coverage(8) == coverage(50) == pytest.approx(1.3)  # capped
    assert relevance(10, 1.2, 2) == pytest.approx(13.2)
    assert set(KIND_WEIGHT) == {"government", "news", "search"}


def test_a_government_source_outranks_an_aggregator_with_the_same_score() -> None:
    cands = [
        cand("agg", 6.0, feed="gnews", kind="search", hours=0),  # newer, but aggregated
        cand("gov", 6.0, feed="whitehouse", kind="government", hours=5),
        cand("wire", 6.0, feed="reuters", hours=3),
    ]
    (section,) = plan_digest(cands, RULES, channel="#c", max_items=10)
    assert [e.lead.item_id for e in section.entries] == ["gov", "wire", "agg"]
    assert [e.relevance for e in section.entries] == [7.2, 6.0, 4.8]


def test_a_story_more_outlets_carry_ranks_higher_but_not_over_a_much_stronger_one() -> None:
    shared = "Gallium export controls tightened by Beijing again"
    cands = [
        cand("solo", 6.0, feed="reuters", title="Germanium prices hit record as supply tightens"),
        cand("c1", 6.0, feed="reuters", title=shared, hours=2),
        cand("c2", 5.0, feed="kyodo", title=shared + " - Kyodo", hours=3),
        cand("c3", 5.0, feed="yonhap", title=shared + " - Yonhap", hours=4),
        cand("strong", 9.0, feed="bloomberg", title="Japan and US sign critical minerals pact"),
    ]
    (section,) = plan_digest(cands, RULES, channel="#c", max_items=10)
    leads = [e.lead.item_id for e in section.entries]
    assert leads == ["strong", "c1", "solo"]
    story = section.entries[1]
    assert len(story.outlets) == 3
    assert story.relevance == pytest.approx(6.0 * coverage(3), abs=1e-3)


def test_min_score_still_compares_the_rules_own_score() -> None:
    # weight 2 would lift 3.0 to 6.0, but min_score 4 is about the match, not the outlet
    cands = [cand("low", 3.0, feed="gov", kind="government", weight=2.0)]
    assert plan_digest(cands, RULES, channel="#c", max_items=10) == []


def test_feeds_yaml_weight_is_read_checked_and_stored(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "feeds:\n"
        "  - id: reuters\n    url: https://example.com/a\n    weight: 1.3\n"
        "  - id: gnews\n    url: https://example.com/b\n    kind: search\n",
        encoding="utf-8",
    )
    feeds = {f.id: f for f in load_feeds(path).feeds}
    assert feeds["reuters"].weight == 1.3
    assert feeds["gnews"].weight is None
    db = open_db(tmp_path / "monitor.db")
    sync_feeds(db, feeds.values())
    rows = dict(db.execute("SELECT id, weight FROM feeds").fetchall())
    assert rows == {"reuters": 1.3, "gnews": None}
    changed = FeedSource(**{**feeds["gnews"].__dict__, "weight": 0.5})
    sync_feeds(db, [changed])
    assert db.execute("SELECT weight FROM feeds WHERE id = 'gnews'").fetchone()[0] == 0.5

    path.write_text(
        "feeds:\n  - id: reuters\n    url: https://example.com/a\n    weight: 9\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as err:
        load_feeds(path)
    problem = err.value.problems[0].format()
    assert f"{path}:4:" in problem
    assert "weight 9 is out of range" in problem


def test_the_parents_top_stories_follow_relevance_like_the_replies() -> None:
    # the demo's case: an aggregator's score 10 (ranked 8.0) under a wire's score 9 (9.0)
    rules = [*RULES, Rule(id="other", name="Other", query="x")]
    cands = [
        cand("agg", 10.0, feed="gnews", kind="search", title="Coal India plans Singapore hub"),
        cand("wire", 9.0, feed="wsj", title="America's critical minerals strategy"),
        replace(
            cand("gov", 7.0, feed="mofa", kind="government", title="Ministry statement"),
            rule_id="other",
        ),
        replace(cand("weak", 5.0, feed="kyodo", title="Fisheries talks resume"), rule_id="other"),
    ]
    sections = plan_digest(cands, rules, channel="#c", max_items=10)
    assert [[e.lead.item_id for e in s.entries] for s in sections] == [
        ["wire", "agg"],
        ["gov", "weak"],
    ]
    parent, *_ = render_thread(
        sections,
        name="daily",
        channel="#c",
        start=T - timedelta(days=1),
        end=T,
        tz=UTC,
        rules={r.id: r for r in rules},
    )
    top = [b.text for b in parent.blocks if isinstance(b, Section) and b.text[:2] in NUMBERS]
    # relevance 9.0, 8.4, 8.0; by raw score it would be agg (10), wire (9), gov (7)
    assert top == [
        "1. *<https://example.com/wire|America's critical minerals strategy>* — Wsj",
        "2. *<https://example.com/gov|Ministry statement>* — Mofa",
        "3. *<https://example.com/agg|Coal India plans Singapore hub>* — Gnews",
    ]


def test_alerts_due_at_once_are_posted_most_relevant_first(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    seeds = [
        digestdata.Seed(
            "agg", "Trilateral summit date set", feed="gnews", rules={"jkus-trilateral": 8.0}
        ),
        digestdata.Seed("wire", "Seoul Tokyo Washington drills", rules={"jkus-trilateral": 7.0}),
        digestdata.Seed(
            "gov", "Joint leaders statement issued", feed="mofa", rules={"jkus-trilateral": 6.0}
        ),
    ]
    db = digestdata.make_db(tmp_path, seeds)
    db.execute("UPDATE feeds SET kind = 'search' WHERE id = 'gnews'")
    db.execute("UPDATE feeds SET kind = 'government' WHERE id = 'mofa'")
    db.conn.commit()
    settings = Settings(timezone="UTC", alerts=AlertSpec(channel="#alerts"))
    deliverer = SlackWebDeliverer(fake_slack.token, base_url=fake_slack.api_url, timeout=2)
    report = send_alerts(db, settings, list(digestdata.RULES), deliverer, now=digestdata.NOW)
    assert report.sent == 3
    headlines = [m["text"].split(": ", 1)[1] for m in fake_slack.messages]
    # relevance gov 7.2 > wire 7.0 > agg 6.4; by raw score it would be agg, wire, gov
    assert headlines == [
        "Joint leaders statement issued",
        "Seoul Tokyo Washington drills",
        "Trilateral summit date set",
    ]
