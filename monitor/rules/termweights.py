"""A match's score from its hits: where each distinct term stands, saturating (issue 16).

Each distinct term (case-folded; repeats count once) weighs by where it first stands:

- in the title: ``TITLE_WEIGHT`` (2);
- in the summary's lead, its first sentence (at most ``LEAD_CHARS`` characters): 1;
- anywhere further down the summary, or only in the article body: 0.5 each, and all of
  these together saturate at ``REST_CAP``: ``REST_CAP × (1 − e^(−raw / REST_CAP))``.

So a short item with its subject in the title and lead scores as before (2 a title term, 1
a lead term), while a long text that brushes many terms somewhere in its boilerplate adds at
most 2 however long it is (length normalisation by saturation). Each NEAR that holds adds
its proximity bonus on top, as before. The fast path (compile.py) and the reference
evaluator both call ``weigh``, so they cannot disagree on it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

TITLE_WEIGHT = 2.0
LEAD_WEIGHT = 1.0
REST_WEIGHT = 0.5
REST_CAP = 2.0
LEAD_CHARS = 240

# A sentence ends at . ! ? followed by a space, or at a CJK full stop (。！？), or at the
# Korean declarative ending "다." — whichever comes first. A period after an initial
# ("U.S.", "J. Smith") or a title ("Mr.", "Gov.") does not end one.
# The stop is matched first and the look-behinds (which include it) only then: put before
# it, all eleven ran at every character (17.6 µs a lead against 1.4; the same ends on the
# snapshot summaries and 200,000 random strings of these letters and stops).
_ABBREVIATIONS = "".join(
    rf"(?<!\b{a}[.!?])"
    for a in ("[A-Z]", "Mr", "Mrs", "Ms", "Dr", "St", "Gov", "Sen", "Rep", "Gen", "No")
)
_SENTENCE_END = re.compile(rf"[.!?]{_ABBREVIATIONS}(?=\s)|[。！？]|다\.")


def lead_end(summary: str) -> int:
    """Where the lead (first sentence) of ``summary`` ends, as a character offset."""
    head = summary[:LEAD_CHARS]
    found = _SENTENCE_END.search(head)
    return found.end() if found else len(head)


def weigh(hits: Iterable[tuple[int, int, str]], lead: int) -> float:
    """``hits``: (field rank: 0 title, 1 summary, 2 body; start offset; term) of every hit.
    ``lead``: ``lead_end`` of the summary. Returns the score before NEAR bonuses."""
    best: dict[str, float] = {}
    for rank, start, term in hits:
        if rank == 0:
            weight = TITLE_WEIGHT
        elif rank == 1 and start < lead:
            weight = LEAD_WEIGHT
        else:
            weight = REST_WEIGHT
        key = term.casefold()
        if weight > best.get(key, 0.0):
            best[key] = weight
    strong = sum(w for w in best.values() if w > REST_WEIGHT)
    rest = sum(w for w in best.values() if w <= REST_WEIGHT)
    return strong + REST_CAP * (1.0 - math.exp(-rest / REST_CAP))


def describe(hits: Iterable[tuple[int, int, str]], lead: int, score: float, weight: float) -> str:
    """The score part by part, for `monitor rules explain`: which terms counted where, what
    the rest saturated to, the NEAR bonus and the rule's weight."""
    best: dict[str, tuple[float, str]] = {}
    for rank, start, term in hits:
        w = (
            TITLE_WEIGHT
            if rank == 0
            else LEAD_WEIGHT
            if rank == 1 and start < lead
            else REST_WEIGHT
        )
        key = term.casefold()
        if w > best.get(key, (0.0, ""))[0]:
            best[key] = (w, term)
    title = [t for w, t in best.values() if w == TITLE_WEIGHT]
    in_lead = [t for w, t in best.values() if w == LEAD_WEIGHT]
    rest = [t for w, t in best.values() if w == REST_WEIGHT]
    raw = weigh(hits_of(best), lead)
    parts = []
    if title:
        parts.append(f"title {TITLE_WEIGHT * len(title):g} ({', '.join(title)})")
    if in_lead:
        parts.append(f"lead {LEAD_WEIGHT * len(in_lead):g} ({', '.join(in_lead)})")
    if rest:
        saturated = raw - TITLE_WEIGHT * len(title) - LEAD_WEIGHT * len(in_lead)
        parts.append(
            f"rest {saturated:.3g} of at most {REST_CAP:g} ({len(rest)} term"
            f"{'s' if len(rest) != 1 else ''} further down: {', '.join(rest)})"
        )
    near = score / weight - raw if weight else 0.0
    if near > 0.0005:
        parts.append(f"NEAR {near:.3g}")
    text = " + ".join(parts) or "0"
    return text + (f", × rule weight {weight:g}" if weight != 1 else "")


def hits_of(best: dict[str, tuple[float, str]]) -> list[tuple[int, int, str]]:
    """Synthetic hits that weigh like ``best`` (for ``describe``): one per term."""
    rank = {TITLE_WEIGHT: (0, 0), LEAD_WEIGHT: (1, -1), REST_WEIGHT: (2, 0)}
    return [(*rank[w], t) for w, t in best.values()]
