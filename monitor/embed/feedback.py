"""Readers' feedback in the ranking: stories like ones marked relevant rise, like ones marked
not relevant fall (monitor.digest.relevance.feedback_factor). Needs item vectors: without the
encoder, feedback does not move the ranking."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from monitor.digest.relevance import feedback_factor
from monitor.embed.vectors import ensure
from monitor.model import Candidate
from monitor.store.writer import Database

MAX_LABELLED = 500  # the newest labelled items per rule compared against


def _has_feedback(db: Database) -> bool:
    row = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'feedback'"
    ).fetchone()
    return row is not None


def with_feedback(
    db: Database,
    candidates: Sequence[Candidate],
    vectors: Mapping[str, Any] | None,
    *,
    keep: bool = False,
) -> list[Candidate]:
    """``candidates`` with their ``feedback`` factor set (unchanged without vectors or clicks)."""
    if not vectors or not candidates or not _has_feedback(db):
        return list(candidates)
    from monitor.store.feedback import verdicts

    rules = sorted({c.rule_id for c in candidates})
    labelled = verdicts(db, rules)[-MAX_LABELLED * len(rules) :]
    if not labelled:
        return list(candidates)
    ids = sorted({v.item_id for v in labelled})
    marks = ",".join("?" for _ in ids)
    titles = db.execute(f"SELECT id, title FROM items WHERE id IN ({marks})", ids).fetchall()
    known = ensure(db, [(str(i), str(t)) for i, t in titles], keep=keep) or {}
    import numpy as np

    out = []
    for c in candidates:
        mine = vectors.get(c.item_id)
        if mine is None:
            out.append(c)
            continue
        best = {"relevant": 0.0, "not_relevant": 0.0}
        for v in labelled:
            other = known.get(v.item_id)
            if v.rule_id != c.rule_id or other is None or v.item_id == c.item_id:
                continue
            sim = float(np.dot(mine, other))
            best[v.label] = max(best[v.label], sim)
        factor = feedback_factor(best["relevant"], best["not_relevant"])
        out.append(replace(c, feedback=factor) if factor != 1.0 else c)
    return out
