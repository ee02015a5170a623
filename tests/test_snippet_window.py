"""The one snippet window (monitor.rules.explain.window) in both of its uses: `rules
explain` and the explanation snippets cut where the first hit is, and `monitor search`'s
table keeps a full-width window that never ends early (``full=True``)."""

from __future__ import annotations

from monitor.model import Hit
from monitor.rules.explain import snippet, window
from monitor.store.search import Span

TEXT = "alpha beta\ngamma " * 20  # 340 characters, newlines inside


def test_explain_window_starts_a_third_before_the_first_hit_and_goes_on_one_line() -> None:
    hits = [Hit("gamma", "body", 300, 305), Hit("alpha", "title", 0, 5)]
    text, inside = window(TEXT, hits, "body", 60)
    assert text == "…" + TEXT[280:340].replace("\n", " ")
    assert inside == (Hit("gamma", "body", 21, 26),)  # the title hit is another field's
    assert text[21:26] == "gamma"


def test_search_window_stays_full_width_near_the_end_and_keeps_newlines() -> None:
    spans = [Span("summary", 334, 339, "gamma")]
    text, inside = window(TEXT, spans, "summary", 60, full=True, one_line=False)
    assert text == "…" + TEXT[280:340]  # started earlier so the window is 60 long
    assert "\n" in text
    assert inside == (Span("summary", 55, 60, "gamma"),)
    assert text[55:60] == "gamma"


def test_a_text_that_fits_is_left_whole_with_its_spans() -> None:
    spans = [Span("body", 6, 10, "beta")]
    assert window("alpha beta\n", spans, "body", 60, full=True) == ("alpha beta ", tuple(spans))
    assert window("alpha beta\n", spans, "body", 60, full=True, one_line=False) == (
        "alpha beta\n",
        tuple(spans),
    )


def test_snippet_marks_the_hits_inside_the_window() -> None:
    assert snippet("Seoul and Tokyo", [Hit("Tokyo", "summary", 10, 15)], "summary") == (
        "Seoul and **Tokyo**"
    )
