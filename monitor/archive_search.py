"""The archive search behind `monitor search` and `/monitor search` in Slack: one query
language, one set of filters, so both give the same items for the same query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal

from monitor.rules.ast import Node, list_names
from monitor.rules.compile import compile_query
from monitor.rules.parser import parse_query
from monitor.store import archive as store_archive
from monitor.store import search as store_search
from monitor.store.candidates import Confirmer, Filters
from monitor.store.ftsquery import Lists
from monitor.store.writer import Database


def rule_file_ids(rules_path: Path) -> set[str]:
    return {p.stem for p in rules_path.glob("*.yaml")} if rules_path.is_dir() else set()


def has_list_ref(node: Node) -> bool:
    return next(list_names(node), None) is not None


def compile_search(text: str, rules_path: Path) -> tuple[Node, Confirmer, Lists | None]:
    """Parse and compile a query exactly as a rule's query is (same errors, same matching).
    A malformed query raises QueryError with the column of the problem."""
    node = parse_query(text)
    lists: Lists | None = None
    if has_list_ref(node):
        from monitor.config.rules import load_rules  # only a query naming a list pays for it

        lists = dict(load_rules(rules_path).lists)
    return node, compile_query(node, lists, query=text), lists


def make_filters(
    db: Database,
    rules_path: Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    rules: Sequence[str] = (),
    feeds: Sequence[str] = (),
    kinds: Sequence[str] = (),
    countries: Sequence[str] = (),
    langs: Sequence[str] = (),
) -> Filters:
    """Filters, after checking that named rules and feeds exist (with a did-you-mean)."""
    if rules:
        known = store_archive.stored_rule_ids(db) | rule_file_ids(rules_path)
        store_archive.check_known("rule", rules, known)
    if feeds:
        store_archive.check_known("feed", feeds, store_archive.feed_ids(db))
    return Filters(
        since=since,
        until=until,
        rules=tuple(rules),
        feeds=tuple(feeds),
        kinds=tuple(kinds),
        countries=tuple(countries),
        langs=tuple(langs),
    )


def run_search(
    db: Database,
    text: str,
    rules_path: Path,
    filters: Filters,
    *,
    limit: int = 20,
    sort: Literal["newest", "relevance"] = "newest",
) -> list[store_search.Found]:
    node, confirm, lists = compile_search(text, rules_path)
    return store_search.search(db, node, confirm, filters, limit=limit, sort=sort, lists=lists)
