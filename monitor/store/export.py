"""`monitor export`: one row per item and matched rule, streamed from one SQL cursor."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import sqlite_utils

from monitor.rules.ast import Node
from monitor.rules.why import in_words
from monitor.store.candidates import Confirmer, Filters, candidate_rows, has_body, plan_for
from monitor.store.ftsquery import Lists
from monitor.store.matches import hit_of

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
