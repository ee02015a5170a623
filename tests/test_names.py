"""The one "did you mean" helper: nearest by edit distance among similar-enough names."""

from __future__ import annotations

from monitor.names import closest, edit_distance


def test_edit_distance_counts_insertions_deletions_and_substitutions() -> None:
    assert edit_distance("", "abc") == 3
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("minerls", "minerals") == 1
    assert edit_distance("same", "same") == 0


def test_the_nearest_name_wins_not_the_first_alphabetically() -> None:
    assert closest("minerls", ["mineral-signals", "minerals"]) == "minerals"
    assert closest("minerls", ["minerals", "mineral-signals"]) == "minerals"


def test_ties_go_to_the_higher_ratio_then_the_first_name() -> None:
    assert closest("cat", ["cut", "cot"]) == "cot"  # same distance and ratio: alphabetical
    assert closest("tilte", ["title", "tilt"]) == "tilt"  # one deletion beats a swap (two)


def test_nothing_similar_gives_no_hint() -> None:
    assert closest("zzz", ["title", "summary", "body"]) is None
    assert closest("word", []) is None
