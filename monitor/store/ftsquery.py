"""Turn a parsed query (monitor.rules.ast) into candidate filters for the archive indexes.

Every filter built here is a *superset* of what the query matches: the compiled rule
matcher confirms each candidate afterwards, so search and rules agree exactly. User text
never reaches MATCH unquoted: every term is a quoted FTS5 string with ``"`` doubled.

Three forms, tried in order by monitor.store.search:

* ``fts_expression``: a MATCH string for ``items_fts`` (unicode61 words, every item);
* ``trigram_expression``: a MATCH string for ``items_cjk`` (trigram substrings, items
  with kana, ideographs or Hangul only); together they cover every item;
* ``scan_predicate``: an SQL condition on ``i.title``/``i.summary`` with ``instr``, used
  when either index cannot express the query (a 2-character 日本, a regex, a bare NOT).

``None`` means "cannot narrow" (every item is a candidate); ``NOTHING`` means no item of
that index can match (a CJK term on the unicode61 side).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Final, assert_never

from monitor.rules.ast import (
    And,
    AtLeast,
    Before,
    Chain,
    FieldScope,
    ListRef,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Regex,
    Term,
)
from monitor.rules.cjk import has_cjk
from monitor.rules.termlist import TermList, expand_terms


class _Nothing:
    def __repr__(self) -> str:
        return "NOTHING"


NOTHING: Final = _Nothing()
Expr = str | _Nothing | None
Lists = Mapping[str, TermList]

_WORD = re.compile(r"\w+")
_POSSESSIVE = re.compile(r"['\u2019]s$", re.IGNORECASE)
TRIGRAM_MIN = 3  # the trigram tokenizer matches nothing for shorter strings


def quote(text: str) -> str:
    """An FTS5 string literal: the only way user text enters a MATCH expression."""
    return '"' + text.replace('"', '""') + '"'


def expand(node: Node, lists: Lists | None) -> Node:
    """Replace ``@list`` references by an OR of their terms (unknown lists stay as they are)."""
    match node:
        case ListRef():
            if not lists or node.name not in lists:
                return node  # compile_query reports unknown lists; here it narrows nothing
            return Or(tuple(_entry_node(t) for t in expand_terms(node.name, lists)), node.pos)
        case Term() | Phrase() | Regex():
            return node
        case And() | Or():
            return type(node)(tuple(expand(c, lists) for c in node.children), node.pos)
        case AtLeast():
            return AtLeast(node.count, tuple(expand(c, lists) for c in node.children), node.pos)
        case Chain():
            return Chain(node.joiner, tuple(expand(c, lists) for c in node.children), node.pos)
        case Not():
            return Not(expand(node.child, lists), node.pos)
        case FieldScope():
            return FieldScope(node.field, expand(node.child, lists), node.pos)
        case Near() | Before():
            left, right = expand(node.left, lists), expand(node.right, lists)
            return type(node)(left, right, node.distance, node.pos)
        case _:
            assert_never(node)


def _entry_node(term: str) -> Node:
    """A list term: one word is a Term, several a Phrase."""
    words = term.split()
    if len(words) == 1:
        return Term(words[0])
    return Phrase(tuple(words))


def _and(parts: list[Expr]) -> Expr:
    if any(p is NOTHING for p in parts):
        return NOTHING
    kept = [p for p in parts if isinstance(p, str)]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else "(" + " AND ".join(kept) + ")"


def _or(parts: list[Expr]) -> Expr:
    if any(p is None for p in parts):
        return None
    kept = [p for p in parts if isinstance(p, str)]
    if not kept:
        return NOTHING
    return kept[0] if len(kept) == 1 else "(" + " OR ".join(kept) + ")"


def _structure(node: Node, leaf: Callable[[Term | Phrase], Expr]) -> Expr:
    """The boolean skeleton shared by both indexes; ``leaf`` handles Term and Phrase."""
    match node:
        case Term() | Phrase():
            return leaf(node)
        case And():
            return _and([_structure(c, leaf) for c in node.children])
        case Or():
            return _or([_structure(c, leaf) for c in node.children])
        case Near() | Before():  # both sides must occur; positions are the matcher's business
            return _and([_structure(node.left, leaf), _structure(node.right, leaf)])
        case Chain():  # every part must occur; how they are joined is the matcher's business
            return _and([_structure(c, leaf) for c in node.children])
        case AtLeast():
            parts = [_structure(c, leaf) for c in node.children]
            if node.count <= 0:
                return None
            return _and(parts) if node.count >= len(parts) else _or(parts)
        case FieldScope():
            return _structure(node.child, leaf)
        case Not() | Regex() | ListRef():  # a ListRef left by expand is unknown
            return None  # no narrowing is safe
        case _:
            assert_never(node)


def _words(node: Term | Phrase) -> list[str]:
    """The node's words without a possessive 's, which the matcher drops on both sides."""
    words = [node.text] if isinstance(node, Term) else list(node.words)
    return [_POSSESSIVE.sub("", w) for w in words]


def _fts_leaf(node: Term | Phrase) -> Expr:
    words = _words(node)
    if any(has_cjk(w) for w in words):
        return NOTHING  # an item without CJK text cannot contain it; items_cjk covers the rest
    words = [w for w in words if _WORD.search(w)]
    if not words:
        return None  # only punctuation: unicode61 would index nothing for it
    quoted = [quote(w) for w in words]
    if node.prefix:
        quoted[-1] += "*"
    if len(quoted) == 1:
        return quoted[0]
    # NEAR rather than an FTS phrase: unicode61 splits "Japan's" into two tokens where the
    # matcher sees one, so "Japan minister" must still find "Japan's minister".
    return "NEAR(" + " ".join(quoted) + f", {len(quoted)})"


def _trigram_leaf(node: Term | Phrase) -> Expr:
    words = _words(node)
    parts: list[Expr] = []
    for word in words:
        # Match each word-run separately: "Japan–Korea" must also find "Japan-Korea".
        for run in _WORD.findall(word):
            parts.append(quote(run) if len(run) >= TRIGRAM_MIN else None)
    return _and(parts) if parts else None


def fts_expression(node: Node, lists: Lists | None = None) -> Expr:
    """MATCH text for items_fts, or None (cannot narrow) or NOTHING."""
    return _structure(expand(node, lists), _fts_leaf)


def trigram_expression(node: Node, lists: Lists | None = None) -> Expr:
    """MATCH text for items_cjk (trigram), or None (cannot narrow) or NOTHING."""
    return _structure(expand(node, lists), _trigram_leaf)


def _leaves(node: Node, out: list[Term | Phrase]) -> bool:
    """Every Term and Phrase of the query, under NOT too; False when a regex or an
    unresolved list makes the body's terms unknowable."""
    match node:
        case Term() | Phrase():
            out.append(node)
            return True
        case And() | Or() | AtLeast() | Chain() | Near() | Before() | Not() | FieldScope():
            return all([_leaves(c, out) for c in node.children])
        case Regex() | ListRef():
            return False
        case _:
            assert_never(node)


def body_expressions(node: Node, lists: Lists | None = None) -> tuple[Expr, Expr]:
    """MATCH text for items_body_fts and items_body_cjk: any of the query's terms.

    The article text has its own indexes (migration 0120), so a query whose terms are
    split between the title and the body matches neither row on its own. But when the
    body is needed for a match at all, one of the query's terms occurs in it: items with
    any term in the body, together with the title/summary candidates, are a superset.
    """
    leaves: list[Term | Phrase] = []
    if not _leaves(expand(node, lists), leaves) or not leaves:
        return None, None
    return _or([_fts_leaf(x) for x in leaves]), _or([_trigram_leaf(x) for x in leaves])


Predicate = tuple[str, list[str]] | None


def _scan_leaf(node: Term | Phrase, columns: tuple[str, ...]) -> Predicate:
    words = _words(node)
    clauses: list[str] = []
    params: list[str] = []
    for word in words:
        for run in _WORD.findall(word):
            if run.isascii():
                needle, column = run.lower(), "lower(COALESCE(i.{}, ''))"
            elif run.lower() == run.upper():
                needle, column = run, "COALESCE(i.{}, '')"  # CJK: no case to fold
            else:
                continue  # non-ASCII letters with case: SQLite lower() cannot fold them
            clauses.append(
                "(" + " OR ".join(f"instr({column.format(c)}, ?) > 0" for c in columns) + ")"
            )
            params += [needle] * len(columns)
    if not clauses:
        return None
    return " AND ".join(clauses), params


# SQLite parses ``a OR b OR c`` as a chain one level deeper per operand and refuses more
# than 1,000 levels ("Expression tree is too large"): long ANDs and ORs (a big @list) are
# joined in groups of _CHUNK, nested, so depth grows with the logarithm of their length.
_CHUNK = 32
# Beyond this many parameters (SQLite allows 32,766) the scan cannot narrow: every item is
# a candidate and the matcher decides, which is slower but right.
_MAX_PARAMS = 10_000


def _joined(op: str, kept: list[tuple[str, list[str]]]) -> tuple[str, list[str]]:
    while len(kept) > _CHUNK:
        kept = [_joined(op, kept[i : i + _CHUNK]) for i in range(0, len(kept), _CHUNK)]
    return "(" + f" {op} ".join(p[0] for p in kept) + ")", [x for p in kept for x in p[1]]


def _pred_and(parts: list[Predicate]) -> Predicate:
    kept = [p for p in parts if p is not None]
    if not kept:
        return None
    return _joined("AND", kept)


def _pred_or(parts: list[Predicate]) -> Predicate:
    if not parts or any(p is None for p in parts):
        return None
    kept = [p for p in parts if p is not None]
    return _joined("OR", kept)


def _scan(node: Node, cols: tuple[str, ...]) -> Predicate:
    match node:
        case Term() | Phrase():
            return _scan_leaf(node, cols)
        case And():
            return _pred_and([_scan(c, cols) for c in node.children])
        case Or():
            return _pred_or([_scan(c, cols) for c in node.children])
        case Near() | Before():
            return _pred_and([_scan(node.left, cols), _scan(node.right, cols)])
        case Chain():
            return _pred_and([_scan(c, cols) for c in node.children])
        case AtLeast():
            parts = [_scan(c, cols) for c in node.children]
            if node.count <= 0:
                return None
            return _pred_and(parts) if node.count >= len(parts) else _pred_or(parts)
        case FieldScope():
            return _scan(node.child, cols)
        case Not() | Regex() | ListRef():
            return None
        case _:
            assert_never(node)


def scan_predicate(node: Node, lists: Lists | None = None, *, body: bool = True) -> Predicate:
    """An SQL condition (with parameters) on items ``i`` that every match satisfies.
    ``body``: the archive has the article text column (migration 0120)."""
    cols = ("title", "summary", "body") if body else ("title", "summary")
    found = _scan(expand(node, lists), cols)
    return None if found is not None and len(found[1]) > _MAX_PARAMS else found
