"""Near-duplicate clustering on real headline pairs from the corpus (tests/data/cluster_pairs.json)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.digest.cluster import THRESHOLD, cluster, similarity, title_tokens
from monitor.model import StoryKey

PAIRS = json.loads((Path(__file__).parent / "data" / "cluster_pairs.json").read_text("utf-8"))


def _key(i: int, row: dict[str, str]) -> StoryKey:
    published = datetime.strptime(row["published"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return StoryKey(f"{i}", row["url"], row["title"], published)


@pytest.mark.parametrize("pair", PAIRS["same_story"], ids=lambda p: p[1]["title"][:40])
def test_same_story_from_two_feeds_clusters(pair: list[dict[str, str]]) -> None:
    keys = [_key(i, row) for i, row in enumerate(pair)]
    assert len(cluster(keys)) == 1, similarity(
        title_tokens(pair[0]["title"]), title_tokens(pair[1]["title"])
    )


@pytest.mark.parametrize("pair", PAIRS["different_story"], ids=lambda p: p[1]["title"][:40])
def test_different_stories_stay_apart(pair: list[dict[str, str]]) -> None:
    keys = [_key(i, row) for i, row in enumerate(pair)]
    assert len(cluster(keys)) == 2
    assert similarity(title_tokens(pair[0]["title"]), title_tokens(pair[1]["title"])) < THRESHOLD


def test_publisher_suffix_is_ignored() -> None:
    assert title_tokens("Japan and Korea agree on supply chain - Reuters") == title_tokens(
        "Japan and Korea agree on supply chain"
    )


def test_equal_canonical_url_clusters_even_with_other_titles() -> None:
    t = datetime(2026, 8, 1, tzinfo=UTC)
    a = StoryKey("a", "https://x.example/story", "Completely different words here", t)
    b = StoryKey(
        "b", "https://x.example/story", "Nothing alike at all today", t + timedelta(days=9)
    )
    assert cluster([a, b]) == [["a", "b"]]


def test_similar_titles_far_apart_in_time_do_not_cluster() -> None:
    t = datetime(2026, 8, 1, tzinfo=UTC)
    a = StoryKey("a", "", "Japan South Korea US hold trilateral summit at Camp David", t)
    b = StoryKey(
        "b",
        "",
        "Japan South Korea US hold trilateral summit at Camp David",
        t + timedelta(hours=73),
    )
    c = StoryKey(
        "c",
        "",
        "Japan South Korea US hold trilateral summit at Camp David",
        t + timedelta(hours=71),
    )
    assert cluster([a, b]) == [["a"], ["b"]]
    assert cluster([a, c]) == [["a", "c"]]


def test_result_does_not_depend_on_input_order() -> None:
    keys = [
        _key(10 * n + i, row)
        for n, pair in enumerate(PAIRS["same_story"] + PAIRS["different_story"])
        for i, row in enumerate(pair)
    ]
    expected = cluster(keys)
    rng = random.Random(7)
    for _ in range(5):
        shuffled = keys[:]
        rng.shuffle(shuffled)
        assert cluster(shuffled) == expected
