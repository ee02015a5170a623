"""Hits and the score of a match (docs/rules.md, "How matching works, and scoring")."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.model import Hit
from monitor.rules.context import FIELDS, RANK

# (field rank: 0 title, 1 summary, 2 body; start; end; term; the Hit itself): a hit before
# deduplication, ordered so that plain tuple comparison sorts title hits first, then by
# position. The Hit rides along, built once per item however many rules report it.
RawHit = tuple[int, int, int, str, Hit]

TITLE_WEIGHT = 2.0
SUMMARY_WEIGHT = 1.0
BODY_WEIGHT = 0.5  # the article text: a term there counts, but less than in the lead


def raw_hit(fname: str, term: str, start: int, end: int, group: str = "") -> RawHit:
    rank = RANK[fname]
    return rank, start, end, term, new_hit(Hit, (term, FIELDS[rank], start, end, group))


new_hit = tuple.__new__  # a Hit without the Python-level __new__ of a named tuple


def score_hits(hits: Sequence[RawHit], near_bonus: float) -> float:
    """Each distinct term: 2 if it is in the title, else 1 if in the summary, else 0.5 (only
    in the body); plus each NEAR's (and BEFORE's) proximity bonus."""
    terms = {t.casefold() for _, _, _, t, _ in hits}
    in_title = {t.casefold() for rank, _, _, t, _ in hits if not rank}
    in_lead = {t.casefold() for rank, _, _, t, _ in hits if rank < 2}
    weights = (
        TITLE_WEIGHT * len(in_title)
        + SUMMARY_WEIGHT * len(in_lead - in_title)
        + BODY_WEIGHT * len(terms - in_lead)
    )
    return round(weights + near_bonus, 3)
