"""Archive search: the FTS5 indexes find candidates, the rule matcher confirms them.

A search and a rule written with the same text find the same items because every result
passes ``CompiledQuery.evaluate`` — the indexes only make that fast (monitor.store.candidates
plans their use; monitor.store.ftsquery builds their filters from the parsed query, never
from user text). Export: monitor.store.export.
"""

from __future__ import annotations

import heapq
import itertools
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, NamedTuple

import sqlite_utils

from monitor.model import feed_weight
from monitor.rules.ast import Node
from monitor.store.candidates import (
    UNINDEXED,
    Confirmer,
    Filters,
    Plan,
    candidate_rows,
    filter_sql,
    plan_for,
    row_columns,
)
from monitor.store.ftsquery import Lists

Sort = Literal["newest", "relevance"]
TITLE_WEIGHT = 4.0  # bm25 weight of a title hit against a summary hit
SCAN_RANK_CAP = 1000  # relevance without an index ranks this many newest matches
RERANK_POOL = 200  # relevance with an index reranks the bm25-best this many (1,000: 10x the time)


class Span(NamedTuple):
    """Where a search result's query matched (a named tuple, as model.Hit: the snippet
    window shifts either)."""

    field: str
    start: int
    end: int
    term: str = ""


@dataclass(frozen=True)
class Found:
    """One search result."""

    id: str
    feed_id: str
    feed: str
    kind: str
    country: str
    lang: str
    title: str
    url: str
    published: str
    summary: str
    rules: tuple[str, ...] = ()
    hits: tuple[Span, ...] = ()
    rank: float | None = None  # bm25 (lower is better) when sorted by relevance
    body: str = ""  # the article text, when the item's feed uses full text
    relevance: float = 0.0  # the query's score × the feed's weight, as digests rank

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "feed": self.feed_id,
            "feed_name": self.feed,
            "title": self.title,
            "url": self.url,
            "published": self.published,
            "summary": self.summary,
            "lang": self.lang,
            "rules": list(self.rules),
            "relevance": self.relevance,
        }


# bm25 column weights per index: a title hit above a summary hit above a body hit
_BM25 = {
    "items_fts": f"{TITLE_WEIGHT}, 1.0",
    "items_cjk": f"{TITLE_WEIGHT}, 1.0",
    "items_body_fts": "0.5",
    "items_body_cjk": "0.5",
}


def _dicts(cursor: sqlite3.Cursor) -> Iterator[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row, strict=True))


def _spans(hits: Sequence[Any]) -> tuple[Span, ...]:
    return tuple(
        Span(str(h.field), int(h.start), int(h.end), str(getattr(h, "term", ""))) for h in hits
    )


def search(
    db: sqlite_utils.Database,
    node: Node,
    confirm: Confirmer,
    filters: Filters = Filters(),
    *,
    limit: int = 20,
    sort: Sort = "newest",
    lists: Lists | None = None,
) -> list[Found]:
    """The first ``limit`` items the query matches, newest first or by relevance: the
    query's score (title, lead and the rest, saturating: docs/rules.md) times the feed's
    weight, as digests rank, among the bm25-best ``RERANK_POOL`` matches (with an index)
    or the newest ``SCAN_RANK_CAP`` (without)."""
    p = plan_for(db, node, lists)
    if p.mode == "index":
        if sort == "newest":
            found = _newest_indexed(db, p, filters, confirm, limit)
        else:
            pool = _best_indexed(db, p, filters, confirm, max(RERANK_POOL, limit))
            found = sorted(pool, key=lambda f: (-f.relevance, f.rank))[:limit]
        rules = matched_rules(db, [f.id for f in found])
        return [_with_rules(f, rules.get(f.id, ())) for f in found]
    rows = _dicts(candidate_rows(db, p, filters))
    found = []
    if sort == "relevance":
        # Among the newest SCAN_RANK_CAP matches (confirming every item of a large archive
        # would take seconds), newest on ties.
        newest = itertools.islice(_confirmed(rows, confirm), SCAN_RANK_CAP)
        scored = heapq.nsmallest(limit, ((-f.relevance, n, f) for n, f in enumerate(newest)))
        found = [f for _, _, f in scored]
    else:
        seen: set[str] = set()
        for f in _confirmed(rows, confirm):
            if f.id in seen:  # an item found by both indexes
                continue
            seen.add(f.id)
            found.append(f)
            if len(found) >= limit:
                break
    rules = matched_rules(db, [f.id for f in found])
    return [_with_rules(f, rules.get(f.id, ())) for f in found]


def _rowids_desc(db: sqlite_utils.Database, p: Plan) -> Iterator[int]:
    """Candidate rowids, highest first, merged from both indexes (FTS5 streams these lazily)."""
    streams = [
        (
            r[0]
            for r in db.execute(f"SELECT rowid FROM {t} WHERE {t} MATCH ? ORDER BY rowid DESC", [e])
        )
        for t, e in p.indexes()
    ]
    if p.queued:
        sql = f"SELECT item_rowid FROM {UNINDEXED} ORDER BY item_rowid DESC"
        streams.append(r[0] for r in db.execute(sql))
    last = None
    for rowid in heapq.merge(*streams, reverse=True):
        if rowid != last:
            yield rowid
            last = rowid


def _rows_by_rowid(
    db: sqlite_utils.Database, rowids: list[int], filters: Filters
) -> list[dict[str, Any]]:
    where, params = filter_sql(filters)
    marks = ", ".join("?" * len(rowids))
    sql = (
        f"SELECT {row_columns(db)} FROM items i JOIN feeds f ON f.id = i.feed_id"
        f" WHERE i.rowid IN ({marks})" + "".join(f" AND {w}" for w in where)
    )
    cursor = db.execute(sql, [*rowids, *params])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def _newest_indexed(
    db: sqlite_utils.Database, p: Plan, filters: Filters, confirm: Confirmer, limit: int
) -> list[Found]:
    """Exact newest-first results without sorting every candidate.

    Phase 1 walks candidates from the newest rowid down (items are stored roughly in
    publication order) until ``limit`` are confirmed; the oldest of those bounds the answer.
    Phase 2 takes every candidate published at or after that bound — the FTS5 query limited
    to the rowid range of those items — and returns them in publication order. Exact whatever
    the storage order; fast when it follows publication, as it does when feeds are polled.
    """
    verdicts: dict[int, Found | None] = {}
    confirmed: list[tuple[str, int, Found]] = []
    stream = _rowids_desc(db, p)
    size = limit
    exhausted = True
    while exhausted and (batch := list(itertools.islice(stream, size))):
        rows = sorted(_rows_by_rowid(db, batch, filters), key=lambda r: r["rowid"], reverse=True)
        for row in rows:
            f = _confirm_row(row, confirm)  # the costly step: stop as soon as enough
            verdicts[row["rowid"]] = f
            if f is not None:
                confirmed.append((f.published, row["rowid"], f))
                if len(confirmed) >= limit:
                    exhausted = False
                    break
        size = min(size * 2, 4096)
    confirmed.sort(key=lambda c: (c[0], c[1]), reverse=True)
    if exhausted:
        return [f for _, _, f in confirmed[:limit]]
    bound = confirmed[limit - 1][0]
    lo, hi = db.execute(
        "SELECT min(rowid), max(rowid) FROM items WHERE published >= ?", [bound]
    ).fetchone()
    union: list[str] = []
    params: list[Any] = []
    for table, expr in p.indexes():
        union.append(f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid BETWEEN ? AND ?")
        params += [expr, lo, hi]
    if p.queued:
        union.append(f"SELECT item_rowid FROM {UNINDEXED} WHERE item_rowid BETWEEN ? AND ?")
        params += [lo, hi]
    where, filter_params = filter_sql(filters)
    sql = (
        f"SELECT {row_columns(db)} FROM items i JOIN feeds f ON f.id = i.feed_id"
        f" WHERE i.rowid IN ({' UNION '.join(union)}) AND i.published >= ?"
        + "".join(f" AND {w}" for w in where)
        + " ORDER BY i.published DESC, i.rowid DESC"
    )
    cursor = db.execute(sql, [*params, bound, *filter_params])
    names = [d[0] for d in cursor.description]
    found: list[Found] = []
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        rowid = row["rowid"]
        f = verdicts[rowid] if rowid in verdicts else _confirm_row(row, confirm)
        if f is not None:
            found.append(f)
            if len(found) >= limit:
                break
    return found


def _ranks(db: sqlite_utils.Database, p: Plan, n: int) -> tuple[dict[int, float], float]:
    """The best ``n`` candidates of each index by bm25 (the best of a row's ranks), and the
    rank no unfetched candidate beats (infinite when every index gave all it had)."""
    ranks: dict[int, float] = {}
    cutoff = float("inf")
    for table, expr in p.indexes():
        top = db.execute(
            f"SELECT rowid, bm25({table}, {_BM25[table]}) AS r FROM {table}"
            f" WHERE {table} MATCH ? ORDER BY r LIMIT ?",
            [expr, n],
        ).fetchall()
        for rowid, rank in top:
            ranks[rowid] = min(rank, ranks.get(rowid, rank))
        if len(top) >= n:
            cutoff = min(cutoff, top[-1][1])
    if p.queued:  # not indexed yet, so no bm25: after the ranked ones (bm25 is negative)
        for (rowid,) in db.execute(f"SELECT item_rowid FROM {UNINDEXED}"):
            ranks.setdefault(rowid, 0.0)
    return ranks, cutoff


def _best_indexed(
    db: sqlite_utils.Database, p: Plan, filters: Filters, confirm: Confirmer, limit: int
) -> list[Found]:
    """Exact bm25 top ``limit``: each index's best ``n`` candidates (FTS5 ranks them), then
    filtered and confirmed in rank order; n grows until ``limit`` are confirmed that rank
    no worse than any candidate not yet fetched."""
    verdicts: dict[int, Found | None] = {}
    n = max(4 * limit, 64)
    while True:
        ranks, cutoff = _ranks(db, p, n)
        order = sorted(ranks, key=lambda r: (ranks[r], -r))
        found: list[Found] = []
        for start in range(0, len(order), 256):
            chunk = order[start : start + 256]
            todo = [r for r in chunk if r not in verdicts]
            passed = (
                {row["rowid"]: row for row in _rows_by_rowid(db, todo, filters)} if todo else {}
            )
            for rowid in chunk:
                if rowid not in verdicts:
                    row = passed.get(rowid)
                    verdicts[rowid] = _confirm_row(row, confirm) if row else None
                f = verdicts[rowid]
                if f is not None:
                    found.append(replace(f, rank=ranks[rowid]))
                    if len(found) >= limit:
                        break
            if len(found) >= limit:
                break
        if len(found) >= limit:
            if (found[-1].rank or 0.0) <= cutoff:
                return found
        elif cutoff == float("inf"):
            return found
        n *= 4


def _confirm_row(row: dict[str, Any], confirm: Confirmer) -> Found | None:
    result = confirm.evaluate(row["title"], row["summary"], row["body"] or "")
    return _found(row, _spans(result.hits), result.score) if result.matched else None


def _with_rules(f: Found, rules: tuple[str, ...]) -> Found:
    return Found(**{**f.__dict__, "rules": rules})


def _confirmed(rows: Iterator[dict[str, Any]], confirm: Confirmer) -> Iterator[Found]:
    for row in rows:
        result = confirm.evaluate(row["title"], row["summary"], row["body"] or "")
        if result.matched:
            yield _found(row, _spans(result.hits), result.score)


def _found(row: dict[str, Any], spans: tuple[Span, ...], score: float) -> Found:
    return Found(
        id=row["id"],
        feed_id=row["feed_id"],
        feed=row["feed"],
        kind=row["kind"],
        country=row["country"],
        lang=row["lang"] or "",
        title=row["title"],
        url=row["url"],
        published=row["published"],
        summary=row["summary"],
        hits=spans,
        rank=row.get("rank"),
        body=row.get("body") or "",
        relevance=round(score * feed_weight(row["kind"], row.get("weight")), 3),
    )


def matched_rules(db: sqlite_utils.Database, item_ids: list[str]) -> dict[str, tuple[str, ...]]:
    """Stored rule matches per item, best score first."""
    out: dict[str, list[str]] = {}
    for start in range(0, len(item_ids), 500):
        chunk = item_ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        for item_id, rule_id in db.execute(
            f"SELECT item_id, rule_id FROM matches WHERE item_id IN ({marks})"
            " ORDER BY score DESC, rule_id",
            chunk,
        ):
            out.setdefault(item_id, []).append(rule_id)
    return {k: tuple(v) for k, v in out.items()}
