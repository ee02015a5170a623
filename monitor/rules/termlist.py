"""Term lists (rules/lists/<name>.yaml), referenced from queries as ``@name``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class TermOptions:
    """What a list entry written as a mapping says besides its term (docs/rules.md "Term
    lists"): ``not_in``, longer words it is not read inside (日韓 not in 訪韓日程; ``#`` stands
    for a number, #日韓 is "20日韓国"); ``exact_case``, the case as written (Tokyo, not TOKYO)."""

    not_in: tuple[str, ...] = ()
    exact_case: bool = False


@dataclass(frozen=True)
class TermList:
    """A named list of literal terms. ``terms`` are its own; ``includes`` name other lists;
    ``options`` the entries written as mappings, by term."""

    name: str
    terms: tuple[str, ...]
    includes: tuple[str, ...] = ()
    description: str = ""
    path: str = ""
    options: tuple[tuple[str, TermOptions], ...] = ()
    label: str = ""  # the reader's name for what the list stands for ("Japan"), if any


def term_options(name: str, lists: Mapping[str, TermList]) -> dict[str, TermOptions]:
    """The options of every entry that ``expand_terms(name)`` yields, by term (the first list
    that has the term decides, as for the term itself)."""
    out: dict[str, TermOptions] = {}
    own: set[str] = set()
    for current in lists_reached(name, lists):
        for term, options in lists[current].options:
            if term not in own:
                out[term] = options
        own.update(lists[current].terms)
    return out


def expand_terms(name: str, lists: Mapping[str, TermList]) -> tuple[str, ...]:
    """Every term of a list and of the lists it includes, once each, in order.

    Cycle-safe (a list already visited is skipped); the loader reports cycles as errors.
    """
    seen_lists: set[str] = set()
    seen_terms: set[str] = set()
    out: list[str] = []

    def visit(current: str) -> None:
        if current in seen_lists or current not in lists:
            return
        seen_lists.add(current)
        term_list = lists[current]
        for term in term_list.terms:
            if term not in seen_terms:
                seen_terms.add(term)
                out.append(term)
        for included in term_list.includes:
            visit(included)

    visit(name)
    return tuple(out)


def lists_reached(name: str, lists: Mapping[str, TermList]) -> list[str]:
    """``name`` and every list it includes, directly or not, in visiting order."""
    order: list[str] = []

    def visit(current: str) -> None:
        if current in order or current not in lists:
            return
        order.append(current)
        for included in lists[current].includes:
            visit(included)

    visit(name)
    return order
