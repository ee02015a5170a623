"""Hits and the score of a match (docs/rules.md, "How matching works, and scoring")."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.model import Hit
from monitor.rules.context import FIELDS, RANK
from monitor.rules.termweights import weigh

# (field rank: 0 title, 1 summary, 2 body; start; end; term; the Hit itself): a hit before
# deduplication, ordered so that plain tuple comparison sorts title hits first, then by
# position. The Hit rides along, built once per item however many rules report it.
RawHit = tuple[int, int, int, str, Hit]


def raw_hit(fname: str, term: str, start: int, end: int, group: str = "") -> RawHit:
    rank = RANK[fname]
    return rank, start, end, term, new_hit(Hit, (term, FIELDS[rank], start, end, group))


new_hit = tuple.__new__  # a Hit without the Python-level __new__ of a named tuple


def score_hits(hits: Sequence[RawHit], near_bonus: float, lead: int = 0) -> float:
    """Each distinct term by where it stands (title 2, the summary's lead 1, the rest 0.5
    each and saturating at 2: termweights.py), plus each NEAR's (and BEFORE's) proximity
    bonus. ``lead``: where the summary's first sentence ends (termweights.lead_end)."""
    return round(weigh(((r[0], r[1], r[3]) for r in hits), lead) + near_bonus, 3)
