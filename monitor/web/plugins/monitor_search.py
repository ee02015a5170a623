"""Datasette plugin: ``monitor_search(q)``, the archive search of `monitor search` as SQL.

Loaded by `monitor serve` (``--plugins-dir``). The canned "search" query selects the ids
this function returns, so the web page finds what the command line finds — two-character
Japanese and Korean words included, which an FTS5 trigram index alone cannot match.
It reads through its own read-only connection (the one Datasette hands a SQL function must
not be re-entered while its statement runs).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from datasette import hookimpl

from monitor.errors import MonitorError, QueryError
from monitor.rules.compile import compile_query
from monitor.rules.parser import parse_query
from monitor.store import search as store_search
from monitor.store.db import open_db

LIMIT = 200  # rows the page shows; `monitor search --limit` or export for more


def _problem(query: str) -> str | None:
    """Why a query cannot run, in the words `monitor search` uses; None when it can."""
    text = (query or "").strip()
    if not text:
        return None
    try:
        node = parse_query(text)
        compile_query(node, None, query=text)
    except QueryError as exc:
        return f"{exc.message} (column {exc.column})" + (f"; {exc.hint}" if exc.hint else "")
    except MonitorError as exc:
        return exc.message + (f"; {exc.hint}" if exc.hint else "")
    return None


def _search(path: str, query: str) -> str:
    text = (query or "").strip()
    if not text:
        return "[]"
    try:
        node = parse_query(text)
        confirm = compile_query(node, None, query=text)
        db = open_db(path, readonly=True)
    except MonitorError:
        return (
            "[]"  # a query that does not parse (or an @list, which needs the rules) finds nothing
        )
    try:
        found = store_search.search(db, node, confirm, limit=LIMIT)
    except (MonitorError, sqlite3.Error):
        return "[]"
    finally:
        db.close()
    return json.dumps([f.id for f in found])


@hookimpl  # type: ignore[untyped-decorator]  # datasette's pluggy marker has no types
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Any) -> None:
    db = datasette.databases.get(database)
    path = getattr(db, "path", None)
    if not path:
        return
    conn.create_function("monitor_search", 1, lambda q: _search(path, q))
    conn.create_function("monitor_search_problem", 1, _problem)
