"""How many items a search matches in all, for "20 of 173" (search.py finds the first few).

Every candidate the indexes propose is confirmed by the rule matcher, as a search does, so
the count is the number of items `monitor export QUERY` would list. Counting stops at
``cap``: past it the exact figure costs time (about 0.1 ms an item to confirm) and says
nothing an analyst needs. Only the table format counts; machine formats stay as fast as before.
"""

from __future__ import annotations

import sqlite_utils

from monitor.rules.ast import Node
from monitor.store.candidates import Confirmer, Filters, candidate_rows, has_body, plan_for
from monitor.store.ftsquery import Lists

COUNT_CAP = 1_000

_TEXT = "i.title, i.summary, COALESCE(i.body, '')"
_OLD_TEXT = "i.title, i.summary, ''"  # an archive from before migration 0120 (no body)


def count_matches(
    db: sqlite_utils.Database,
    node: Node,
    confirm: Confirmer,
    filters: Filters = Filters(),
    *,
    lists: Lists | None = None,
    cap: int = COUNT_CAP,
) -> int:
    """Items the query matches, up to ``cap`` (a return of ``cap`` means "at least")."""
    p = plan_for(db, node, lists)
    columns = _TEXT if has_body(db) else _OLD_TEXT
    cursor = candidate_rows(db, p, filters, columns=columns, ordered=False)
    total = 0
    for title, summary, body in cursor:
        if confirm.evaluate(title, summary, body).matched:
            total += 1
            if total >= cap:
                break
    return total
