"""Ranking a story at digest and alert time: the rule's score, the outlet, the coverage.

    relevance = score × feed weight × coverage × feedback

- ``score`` is the match's own (monitor.rules; it is what ``min_score`` compares against,
  so a rule's threshold keeps meaning what it meant).
- The feed weight (``model.feed_weight``) is feeds.yaml's ``weight:``, else its kind's: a
  government source or a wire's own feed states the news; a search feed (Google News)
  aggregates it.
- Coverage: how many outlets carry the story in this digest, found by clustering. Each
  doubling adds 10 %, up to 8 outlets (+30 %): a story three outlets ran matters more,
  but coverage cannot lift a weak match over a strong one on its own.
- Feedback (with the embed extra and readers' Slack clicks): ×1.2 when the story is close
  to an item readers marked relevant for the rule, ×0.8 when close to one marked not
  relevant (whichever is closer), else ×1.
"""

from __future__ import annotations

import math

COVERAGE_STEP = 0.1  # per doubling of outlets
COVERAGE_CAP = 8  # outlets beyond this add nothing


def coverage(outlets: int) -> float:
    return 1.0 + COVERAGE_STEP * math.log2(min(max(outlets, 1), COVERAGE_CAP))


def relevance(score: float, weight: float, outlets: int, feedback: float = 1.0) -> float:
    return round(score * weight * coverage(outlets) * feedback, 3)


FEEDBACK_STEP = 0.2  # a story close to one readers marked relevant: ×1.2; not relevant: ×0.8
FEEDBACK_SIMILARITY = 0.6  # how close (cosine of title embeddings) counts as "like it"


def feedback_factor(like_relevant: float, like_not_relevant: float) -> float:
    """From the story's closest item readers marked relevant / not relevant for the rule."""
    if like_relevant >= FEEDBACK_SIMILARITY and like_relevant > like_not_relevant:
        return 1.0 + FEEDBACK_STEP
    if like_not_relevant >= FEEDBACK_SIMILARITY and like_not_relevant > like_relevant:
        return 1.0 - FEEDBACK_STEP
    return 1.0
