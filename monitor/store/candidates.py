"""Candidates for a search or an export: how the FTS5 indexes (or one scan condition) are
used for a parsed query, and the filters shared by search and export. The rule matcher
confirms each candidate (monitor.store.search); ftsquery builds the index expressions
from the parsed query, never from user text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

import sqlite_utils

from monitor.rules.ast import Node
from monitor.store.db import to_db_time
from monitor.store.ftsquery import (
    NOTHING,
    Lists,
    body_expressions,
    fts_expression,
    scan_predicate,
    trigram_expression,
)
from monitor.store.indexfill import has_queue

UNINDEXED = "items_unindexed"  # items the poll's writer has not indexed yet (indexfill.py)


class QueryResultLike(Protocol):
    @property
    def matched(self) -> bool: ...

    @property
    def hits(self) -> Sequence[Any]: ...  # each with term, field, start, end

    @property
    def score(self) -> float: ...  # the rule language's score (docs/rules.md)


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
    queued: bool = False  # the archive has items_unindexed: add its rows (indexfill.py)

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
    node: Node | None,
    lists: Lists | None = None,
    *,
    trigram: bool = True,
    body: bool = True,
    queued: bool = False,
) -> Plan:
    """``trigram``: the archive has items_cjk; ``body``: it has the article text and its
    indexes (an archive not yet migrated has not); ``queued``: it has items_unindexed,
    whose items are candidates of every indexed search."""
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
        queued=queued,
    )


def has_trigram(db: sqlite_utils.Database) -> bool:
    sql = "SELECT 1 FROM sqlite_master WHERE name = 'items_cjk'"
    return db.execute(sql).fetchone() is not None


def has_body(db: sqlite_utils.Database) -> bool:
    """The archive has items.body and its indexes (migration 0120_item_body)."""
    sql = "SELECT 1 FROM sqlite_master WHERE name = 'items_body_cjk'"
    return db.execute(sql).fetchone() is not None


def plan_for(db: sqlite_utils.Database, node: Node | None, lists: Lists | None) -> Plan:
    return plan(node, lists, trigram=has_trigram(db), body=has_body(db), queued=has_queue(db))


_BASE_COLUMNS = """i.rowid AS rowid, i.id, i.feed_id, f.name AS feed, f.kind, f.country,
    COALESCE(NULLIF(i.lang, ''), f.lang) AS lang, i.title, i.summary, i.url, i.published"""


def has_feed_weight(db: sqlite_utils.Database) -> bool:
    """The archive stores feeds.yaml's ``weight:`` (migration 0501_feed_weight)."""
    return any(r[1] == "weight" for r in db.execute("PRAGMA table_info(feeds)"))


def row_columns(db: sqlite_utils.Database) -> str:
    """The columns of a result row; ``body`` and ``weight`` NULL in an archive from before
    migrations 0120 and 0501 (a read-only one is never migrated)."""
    body = ", i.body" if has_body(db) else ", NULL AS body"
    weight = ", f.weight" if has_feed_weight(db) else ", NULL AS weight"
    return _BASE_COLUMNS + body + weight


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
    if p.queued:  # written but not yet indexed: confirmed like the others
        parts.append(f"SELECT item_rowid FROM {UNINDEXED}")
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
    columns = columns if columns is not None else row_columns(db)
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
