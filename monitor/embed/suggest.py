"""What a rule misses: archive items no rule matched that resemble the rule's matches.

Each unmatched item is compared with the rule's references: the items it matched and the
items readers marked relevant for it in Slack, less the matches readers marked not relevant
(the rule's own mistakes, whose neighbours are not what it misses). A marked item counts
however old it is; matches count from the newest. Comparison is with sentence embeddings
(cosine; across languages too) when the encoder is installed, else by shared title words
(the overlap of title tokens, as clustering uses). The closest reference is named, so an
analyst sees why it was suggested and can turn it into a rule example or a term.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.digest.cluster import title_tokens
from monitor.embed import vectors
from monitor.store.db import to_db_time
from monitor.store.feedback import verdicts
from monitor.store.writer import Database

MAX_MATCHED = 1000  # the rule's newest matches compared against
MAX_MARKED = 500  # items readers marked relevant, newest first, compared whatever their age
MAX_UNMATCHED = 5000  # newest unmatched items considered; beyond it a note says so
MIN_SIMILARITY = {"embeddings": 0.45, "words": 0.3}  # below: not worth an analyst's look


@dataclass(frozen=True)
class Ref:
    id: str
    title: str
    url: str


@dataclass(frozen=True)
class Suggestion:
    item: Ref
    similarity: float
    nearest: Ref  # the rule's matched or readers' marked item it is closest to


@dataclass(frozen=True)
class Suggestions:
    rule_id: str
    method: str  # "embeddings" or "words"
    matched: int  # how many references (matched or marked items) were compared against
    considered: int  # unmatched items looked at
    items: list[Suggestion]
    notes: list[str]


def _refs(db: Database, sql: str, params: Sequence[object]) -> list[Ref]:
    return [Ref(str(a), str(b), str(c)) for a, b, c in db.execute(sql, list(params)).fetchall()]


def suggest(
    db: Database, rule_id: str, *, since: datetime, limit: int, keep: bool = True
) -> Suggestions:
    """Up to ``limit`` unmatched items first seen since ``since``, most similar first."""
    matched = _references(db, rule_id)
    unmatched = _refs(
        db,
        """SELECT i.id, i.title, i.url FROM items i
           WHERE i.first_seen >= ?
             AND NOT EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id)
           ORDER BY i.first_seen DESC, i.id LIMIT ?""",
        [to_db_time(since), MAX_UNMATCHED + 1],
    )
    notes = []
    if len(unmatched) > MAX_UNMATCHED:
        unmatched = unmatched[:MAX_UNMATCHED]
        notes.append(
            f"only the newest {MAX_UNMATCHED} unmatched items were compared; use a shorter --since"
        )
    if not matched or not unmatched:
        return Suggestions(rule_id, "words", len(matched), len(unmatched), [], notes)
    found = vectors.ensure(db, [(r.id, r.title) for r in matched + unmatched], keep=keep)
    if found is not None:
        scored = _by_embeddings(matched, unmatched, found)
        method = "embeddings"
        left = sum(1 for r in unmatched if r.id not in found)
        if left:
            notes.append(
                f"{left} items have no vector yet (`monitor run` embeds them in the background)"
            )
    else:
        scored = _by_words(matched, unmatched)
        method = "words"
    floor = MIN_SIMILARITY[method]
    best = sorted(
        (s for s in scored if s.similarity >= floor), key=lambda s: (-s.similarity, s.item.id)
    )
    return Suggestions(rule_id, method, len(matched), len(unmatched), best[:limit], notes)


def _references(db: Database, rule_id: str) -> list[Ref]:
    """What the rule is about: the items readers marked relevant for it, then its newest
    matches, less those readers marked not relevant."""
    marked: list[str] = []
    rejected: set[str] = set()
    if "feedback" in db.table_names():  # a read-only archive from before feedback has none
        for v in verdicts(db, [rule_id]):
            if v.label == "relevant":
                marked.append(v.item_id)
            else:
                rejected.add(v.item_id)
    refs = []
    if marked:
        refs = _refs(
            db,
            f"""SELECT id, title, url FROM items WHERE id IN ({",".join("?" * len(marked))})
                ORDER BY first_seen DESC, id LIMIT ?""",
            [*marked, MAX_MARKED],
        )
    matched = _refs(
        db,
        """SELECT i.id, i.title, i.url FROM matches m JOIN items i ON i.id = m.item_id
           WHERE m.rule_id = ? ORDER BY i.first_seen DESC, i.id LIMIT ?""",
        [rule_id, MAX_MATCHED],
    )
    skip = rejected | set(marked)
    return refs + [r for r in matched if r.id not in skip]


def _by_embeddings(
    matched: list[Ref], unmatched: list[Ref], found: Mapping[str, object]
) -> list[Suggestion]:
    import numpy as np

    known = [r for r in matched if r.id in found]
    fresh = [r for r in unmatched if r.id in found]
    if not known or not fresh:
        return []
    a = np.stack([np.asarray(found[r.id]) for r in fresh])
    b = np.stack([np.asarray(found[r.id]) for r in known])
    sims = a @ b.T
    top = np.argmax(sims, axis=1)
    return [
        Suggestion(r, round(float(sims[i, top[i]]), 3), known[int(top[i])])
        for i, r in enumerate(fresh)
    ]


def _by_words(matched: list[Ref], unmatched: list[Ref]) -> list[Suggestion]:
    known = [(r, title_tokens(r.title)) for r in matched]
    out = []
    for r in unmatched:
        mine = title_tokens(r.title)
        if len(mine) < 2:
            continue
        best: tuple[float, Ref] | None = None
        for other, tokens in known:
            if not tokens:
                continue
            overlap = len(mine & tokens) / min(len(mine), len(tokens))
            if best is None or overlap > best[0]:
                best = (overlap, other)
        if best is not None:
            out.append(Suggestion(r, round(best[0], 3), best[1]))
    return out
