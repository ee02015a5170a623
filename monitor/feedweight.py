"""How much a feed's items weigh in ranking: feeds.yaml's ``weight:``, else its kind's.

Government sources and wires above aggregators (docs/rules.md, "Ranking"). Pure and
importing nothing of the project: the digest, the archive search and `rules explain` share it.
"""

from __future__ import annotations

KIND_WEIGHT = {"government": 1.2, "news": 1.0, "search": 0.8}


def feed_weight(kind: str, weight: float | None) -> float:
    """feeds.yaml's weight, else the kind's default (1.0 for an unknown kind)."""
    if weight is not None:
        return weight
    return KIND_WEIGHT.get(kind, 1.0)
