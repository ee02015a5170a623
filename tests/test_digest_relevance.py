"""Ranking by relevance: score × feed weight (feeds.yaml `weight:`, else by kind) × coverage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.config.feeds import load_feeds
from monitor.digest.relevance import coverage, relevance
from monitor.digest.select import plan_digest
from monitor.errors import ConfigError
from monitor.model import KIND_WEIGHT, Candidate, FeedSource, Hit, Rule, feed_weight
from monitor.store.db import open_db
from monitor.store.feeds import sync_feeds

T = datetime(2026, 8, 22, 12, 0, tzinfo=UTC)
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
    assert feed_weight("search", None) == 0.8 and feed_weight("search", 1.5) == 1.5
    assert feed_weight("unknown", None) == 1.0
    assert coverage(1) == 1.0 and coverage(2) == pytest.approx(1.1)
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
    assert len(story.outlets) == 3 and story.relevance == pytest.approx(6.0 * coverage(3), abs=1e-3)


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
    assert feeds["reuters"].weight == 1.3 and feeds["gnews"].weight is None
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
    assert f"{path}:4:" in problem and "weight 9 is out of range" in problem
