"""Archive search: the FTS5 indexes find candidates, the rule matcher confirms them.

A search and a rule written with the same text find the same items because every result
passes ``CompiledQuery.evaluate`` — the indexes only make that fast (monitor.store.ftsquery
builds their filters from the parsed query, never from user text).
"""

from __future__ import annotations

import heapq
import itertools
import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, Protocol

import sqlite_utils

from monitor.rules.ast import Node
from monitor.rules.why import in_words
from monitor.store.db import to_db_time
from monitor.store.ftsquery import (
    NOTHING,
    Lists,
    body_expressions,
    fts_expression,
    scan_predicate,
    trigram_expression,
)
from monitor.store.matches import hit_of

Sort = Literal["newest", "relevance"]
TITLE_WEIGHT = 4.0  # bm25 weight of a title hit against a summary hit
SCAN_RANK_CAP = 1000  # relevance without an index ranks this many newest matches


class QueryResultLike(Protocol):
    @property
    def matched(self) -> bool: ...

    @property
    def hits(self) -> Sequence[Any]: ...  # each with term, field, start, end


class Confirmer(Protocol):
    """What monitor.rules.matcher.compile_query returns."""

    def evaluate(self, title: str, summary: str, body: str) -> QueryResultLike: ...


@dataclass(frozen=True)
class Filters:
    """Restrictions shared by search and export (the CLI options map onto these)."""

    since: datetime | None = None
    until: datetime | None = None
    rules: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Span:
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
        }


@dataclass(frozen=True)
class Plan:
    """How candidates are found: MATCH expressions (title and summary; the article text),
    or one scan condition."""

    mode: Literal["index", "scan", "all"]
    fts: str | None = None
    cjk: str | None = None
    scan_sql: str = ""
    scan_params: list[str] = field(default_factory=list)
    body_fts: str | None = None
    body_cjk: str | None = None

    def indexes(self) -> list[tuple[str, str]]:
        """(table, MATCH expression) of every index that can hold a match."""
        pairs = (
            ("items_fts", self.fts),
            ("items_cjk", self.cjk),
            ("items_body_fts", self.body_fts),
            ("items_body_cjk", self.body_cjk),
        )
        return [(t, e) for t, e in pairs if e is not None]


def plan(
    node: Node | None, lists: Lists | None = None, *, trigram: bool = True, body: bool = True
) -> Plan:
    """``trigram``: the archive has items_cjk; ``body``: it has the article text and its
    indexes (an archive not yet migrated has not)."""
    if node is None:
        return Plan("all")
    fts = fts_expression(node, lists)
    cjk = trigram_expression(node, lists) if trigram else None
    body_fts, body_cjk = body_expressions(node, lists) if body else (NOTHING, NOTHING)
    if fts is None or cjk is None or body_fts is None or body_cjk is None:
        pred = scan_predicate(node, lists, body=body)
        if pred is None:
            return Plan("all")
        return Plan("scan", scan_sql=pred[0], scan_params=pred[1])
    return Plan(
        "index",
        fts=fts if isinstance(fts, str) else None,
        cjk=cjk if isinstance(cjk, str) else None,
        body_fts=body_fts if isinstance(body_fts, str) else None,
        body_cjk=body_cjk if isinstance(body_cjk, str) else None,
    )


def has_trigram(db: sqlite_utils.Database) -> bool:
    sql = "SELECT 1 FROM sqlite_master WHERE name = 'items_cjk'"
    return db.execute(sql).fetchone() is not None


def has_body(db: sqlite_utils.Database) -> bool:
    """The archive has items.body and its indexes (migration 0120_item_body)."""
    sql = "SELECT 1 FROM sqlite_master WHERE name = 'items_body_cjk'"
    return db.execute(sql).fetchone() is not None


def plan_for(db: sqlite_utils.Database, node: Node | None, lists: Lists | None) -> Plan:
    return plan(node, lists, trigram=has_trigram(db), body=has_body(db))


_BASE_COLUMNS = """i.rowid AS rowid, i.id, i.feed_id, f.name AS feed, f.kind, f.country,
    COALESCE(NULLIF(i.lang, ''), f.lang) AS lang, i.title, i.summary, i.url, i.published"""
_COLUMNS = _BASE_COLUMNS + ", i.body"
_OLD_COLUMNS = _BASE_COLUMNS + ", NULL AS body"  # an archive from before migration 0120
# bm25 column weights per index: a title hit above a summary hit above a body hit
_BM25 = {
    "items_fts": f"{TITLE_WEIGHT}, 1.0",
    "items_cjk": f"{TITLE_WEIGHT}, 1.0",
    "items_body_fts": "0.5",
    "items_body_cjk": "0.5",
}


def _columns(db: sqlite_utils.Database) -> str:
    return _COLUMNS if has_body(db) else _OLD_COLUMNS


def filter_sql(filters: Filters) -> tuple[list[str], list[Any]]:
    """WHERE clauses (on items ``i`` and feeds ``f``) and their parameters."""
    where: list[str] = []
    params: list[Any] = []

    def one_of(column: str, values: tuple[str, ...]) -> None:
        if values:
            where.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)

    if filters.since:
        where.append("i.published >= ?")
        params.append(to_db_time(filters.since))
    if filters.until:
        where.append("i.published < ?")
        params.append(to_db_time(filters.until))
    one_of("i.feed_id", filters.feeds)
    one_of("f.kind", filters.kinds)
    one_of("f.country", tuple(c.upper() for c in filters.countries))
    one_of("COALESCE(NULLIF(i.lang, ''), f.lang)", tuple(x.lower() for x in filters.langs))
    if filters.rules:
        marks = ", ".join("?" * len(filters.rules))
        where.append(f"i.id IN (SELECT item_id FROM matches WHERE rule_id IN ({marks}))")
        params.extend(filters.rules)
    return where, params


def _index_union(p: Plan) -> tuple[str, list[str]]:
    parts: list[str] = []
    params: list[str] = []
    for table, expr in p.indexes():
        parts.append(f"SELECT rowid FROM {table} WHERE {table} MATCH ?")
        params.append(expr)
    if not parts:
        parts.append("SELECT NULL AS rowid LIMIT 0")
    return " UNION ".join(parts), params


def candidate_rows(
    db: sqlite_utils.Database,
    p: Plan,
    filters: Filters,
    *,
    columns: str | None = None,
    extra_join: str = "",
    extra_params: Sequence[Any] = (),
    ordered: bool = True,
) -> sqlite3.Cursor:
    """A cursor over every item the plan admits, filtered, newest first (tuples of
    ``columns``). Used for scans and exports; indexed searches have their own paths."""
    columns = columns if columns is not None else _columns(db)
    where, params = filter_sql(filters)
    head_params: list[Any] = []
    if p.mode == "index":
        union, head_params = _index_union(p)
        where.insert(0, f"i.rowid IN ({union})")
    elif p.mode == "scan":
        where.insert(0, p.scan_sql)
        head_params = list(p.scan_params)
    sql = (
        f"SELECT {columns} FROM items i JOIN feeds f ON f.id = i.feed_id {extra_join}"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + (" ORDER BY i.published DESC, i.rowid DESC" if ordered else "")  # a count needs none
    )
    return db.execute(sql, [*extra_params, *head_params, *params])


def _dicts(cursor: sqlite3.Cursor) -> Iterator[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row, strict=True))


def _spans(hits: Sequence[Any]) -> tuple[Span, ...]:
    return tuple(
        Span(str(h.field), int(h.start), int(h.end), str(getattr(h, "term", ""))) for h in hits
    )


def _hit_score(spans: tuple[Span, ...]) -> float:
    weight = {"title": TITLE_WEIGHT, "summary": 1.0}
    return sum(weight.get(s.field, 0.5) for s in spans)


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
    """The first ``limit`` items the query matches, newest first or by relevance."""
    p = plan_for(db, node, lists)
    if p.mode == "index":
        if sort == "newest":
            found = _newest_indexed(db, p, filters, confirm, limit)
        else:
            found = _best_indexed(db, p, filters, confirm, limit)
        rules = matched_rules(db, [f.id for f in found])
        return [_with_rules(f, rules.get(f.id, ())) for f in found]
    rows = _dicts(candidate_rows(db, p, filters))
    found = []
    if sort == "relevance" and p.mode != "index":
        # No bm25 without an index: rank by hits (title hits weigh more), newest on ties,
        # among the newest SCAN_RANK_CAP matches (confirming every item of a large archive
        # would take seconds).
        newest = itertools.islice(_confirmed(rows, confirm), SCAN_RANK_CAP)
        scored = heapq.nsmallest(limit, ((-_hit_score(f.hits), n, f) for n, f in enumerate(newest)))
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
        f"SELECT {_columns(db)} FROM items i JOIN feeds f ON f.id = i.feed_id"
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
    where, filter_params = filter_sql(filters)
    sql = (
        f"SELECT {_columns(db)} FROM items i JOIN feeds f ON f.id = i.feed_id"
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


def _best_indexed(
    db: sqlite_utils.Database, p: Plan, filters: Filters, confirm: Confirmer, limit: int
) -> list[Found]:
    """Exact bm25 top ``limit``: each index's best ``n`` candidates (FTS5 ranks them), then
    filtered and confirmed in rank order; n grows until ``limit`` are confirmed that rank
    no worse than any candidate not yet fetched."""
    verdicts: dict[int, Found | None] = {}
    n = max(4 * limit, 64)
    while True:
        ranks: dict[int, float] = {}
        cutoff = float("inf")  # no unfetched candidate ranks better than this
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
    return _found(row, _spans(result.hits)) if result.matched else None


def _with_rules(f: Found, rules: tuple[str, ...]) -> Found:
    return Found(**{**f.__dict__, "rules": rules})


def _confirmed(rows: Iterator[dict[str, Any]], confirm: Confirmer) -> Iterator[Found]:
    for row in rows:
        result = confirm.evaluate(row["title"], row["summary"], row["body"] or "")
        if result.matched:
            yield _found(row, _spans(result.hits))


def _found(row: dict[str, Any], spans: tuple[Span, ...]) -> Found:
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


EXPORT_FIELDS = (
    "item_id",
    "feed",
    "kind",
    "country",
    "lang",
    "published",
    "title",
    "url",
    "summary",
    "rule",
    "score",
    "terms",
    "rule_version",
    "matched_at",
)


# The export columns, in EXPORT_FIELDS order; ``terms`` holds the hits JSON until
# export_rows turns it into terms (only for rows with a match, so most rows pass untouched).
_EXPORT_SQL = """i.id, i.feed_id, f.kind, f.country, COALESCE(NULLIF(i.lang, ''), f.lang, ''),
    i.published, i.title, i.url, i.summary, COALESCE(m.rule_id, ''), m.score,
    COALESCE(m.hits, ''), COALESCE(m.rule_version, ''), COALESCE(m.matched_at, '')"""


def export_rows(
    db: sqlite_utils.Database,
    node: Node | None,
    confirm: Confirmer | None,
    filters: Filters = Filters(),
    *,
    lists: Lists | None = None,
    with_body: bool = False,
) -> Iterator[tuple[Any, ...]]:
    """One tuple (EXPORT_FIELDS, then ``body`` with ``with_body``) per item and matched
    rule; an unmatched item gives one row with an empty rule. Streams from one SQL
    cursor: memory stays flat however large.
    """
    body = has_body(db)
    columns = _EXPORT_SQL + (", COALESCE(i.body, '')" if body else ", ''")
    if confirm is None and not with_body:
        columns = _EXPORT_SQL  # the article text is neither needed nor read
    join = "LEFT JOIN matches m ON m.item_id = i.id"
    join_params: list[Any] = []
    if filters.rules:
        join += f" AND m.rule_id IN ({', '.join('?' * len(filters.rules))})"
        join_params = list(filters.rules)
    cursor = candidate_rows(
        db,
        plan_for(db, node, lists),
        filters,
        columns=columns,
        extra_join=join,
        extra_params=join_params,
    )
    if confirm is None:
        return map(_export_row, cursor)  # no Python loop of our own: export speed is here
    return _confirmed_export(cursor, confirm, with_body)


def _export_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return (*row[:11], _terms(row[11], row[6], row[8]), *row[12:]) if row[11] else row


def _confirmed_export(
    cursor: sqlite3.Cursor, confirm: Confirmer, with_body: bool
) -> Iterator[tuple[Any, ...]]:
    last_id: str | None = None
    keep = True
    end = None if with_body else -1  # the body column was read to confirm, not to export
    for row in cursor:
        if row[0] != last_id:
            last_id = row[0]
            keep = confirm.evaluate(row[6], row[8], row[14]).matched
        if keep:
            yield _export_row(row[:end])


def export_dicts(
    rows: Iterator[tuple[Any, ...]], fields: tuple[str, ...] = EXPORT_FIELDS
) -> Iterator[dict[str, Any]]:
    for row in rows:
        yield dict(zip(fields, row, strict=True))


def _terms(hits_json: str | None, title: str | None = "", summary: str | None = "") -> str:
    """What matched in words (monitor.rules.why: "Japan (日韓); South Korea; summit"), in
    order of first appearance, joined for a spreadsheet cell."""
    if not hits_json:
        return ""
    try:
        raw = json.loads(hits_json)
    except ValueError:
        return ""
    hits = []
    for hit in raw if isinstance(raw, list) else []:
        if isinstance(hit, dict) and hit.get("term") and hit.get("field") in ("title", "summary"):
            try:
                hits.append(hit_of(hit))
            except (KeyError, TypeError, ValueError):
                continue  # a malformed stored hit is left out of the cell, not fatal
    return "; ".join(in_words(hits, title or "", summary or ""))


def snippet(text: str, spans: Sequence[Span], width: int = 200) -> tuple[str, list[Span]]:
    """A window of ``text`` around its first span, with spans shifted into the window."""
    if len(text) <= width:
        return text, list(spans)
    first = min((s.start for s in spans), default=0)
    start = max(0, min(first - width // 3, len(text) - width))
    end = start + width
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    shift = len(prefix) - start
    inside = [
        Span(s.field, s.start + shift, s.end + shift, s.term)
        for s in spans
        if s.start >= start and s.end <= end
    ]
    return prefix + text[start:end] + suffix, inside
