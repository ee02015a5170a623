"""Compile a query's syntax tree into an evaluator; evaluate it against a title and summary.

Literal terms (words, phrases, list entries) become keys of one Aho-Corasick automaton
(monitor.rules.scan); scanning an item once gives every key's positions, and the evaluator
tree (monitor.rules.evaluate and the modules beside it) then only looks them up. Rule
matching (monitor.rules.matcher) and archive search share this code, so a search and a rule
with the same text find the same items.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple, assert_never

from monitor.errors import QueryError
from monitor.model import Hit
from monitor.names import closest
from monitor.rules import ast
from monitor.rules.ast import list_names
from monitor.rules.chain import ChainE
from monitor.rules.context import FIELDS, Context
from monitor.rules.evaluate import AndE, AtLeastE, Evaluator, Explanation, FieldE, NotE, OrE
from monitor.rules.literals import Pattern, literal_pattern, words_pattern
from monitor.rules.proximity import BeforeE, NearE
from monitor.rules.regex import Rx
from monitor.rules.render import to_text
from monitor.rules.required import Clause, cnf_ids, cnf_terms, collect_literals, has_near
from monitor.rules.scan import Vocabulary
from monitor.rules.score import RawHit, score_hits
from monitor.rules.termlist import TermList, expand_terms, term_options
from monitor.rules.terms import Lit


class QueryResult(NamedTuple):  # a named tuple: one is built per candidate rule
    matched: bool
    hits: tuple[Hit, ...] = ()
    score: float = 0.0  # before the rule's weight; see docs/rules.md "Scoring"


class CompiledQuery:
    """A query ready to run. ``evaluate`` scans the text itself; the Matcher shares a scan."""

    def __init__(self, root: Evaluator, vocab: Vocabulary, node: ast.Node) -> None:
        self.root = root
        self.vocab = vocab
        self.node = node
        self.lists_used: frozenset[str] = frozenset(list_names(node))
        self.has_near = has_near(root)

    def evaluate(self, title: str, summary: str = "", body: str = "") -> QueryResult:
        return self.run(Context(self.vocab, title, summary, body))

    def run(self, ctx: Context) -> QueryResult:
        if not self.root.test(ctx, FIELDS):
            return QueryResult(False)
        raw: list[RawHit] = []
        self.root.hits(ctx, FIELDS, raw)
        raw = sorted(set(raw))
        hits = tuple([r[4] for r in raw])
        bonus = self.root.near_bonus(ctx, FIELDS) if self.has_near else 0.0
        return QueryResult(True, hits, score_hits(raw, bonus, ctx.lead()))

    def explain(self, title: str, summary: str = "", body: str = "") -> Explanation:
        return self.explain_ctx(Context(self.vocab, title, summary, body))

    def explain_ctx(self, ctx: Context) -> Explanation:
        return self.root.explain(ctx, FIELDS)

    def required_ids(self) -> tuple[Clause, ...]:
        """Necessary key sets, AND of ORs: each must meet the keys found for a match (in
        its field, for a clause under ``title:`` or ``summary:``)."""
        return tuple(cnf_ids(self.root))

    def literal_terms(self) -> tuple[str, ...]:
        """Every literal term outside NOT, as written (``miner*`` keeps its star)."""
        out: list[str] = []
        collect_literals(self.root, out)
        return tuple(dict.fromkeys(out))

    def required_terms(self) -> tuple[tuple[str, ...], ...] | None:
        """A necessary condition for a match as AND of ORs of literal terms, for prefilters
        such as archive search's FTS query; None when nothing is required (a regex, NOT)."""
        return cnf_terms(self.root)


class _Compiler:
    def __init__(self, lists: Mapping[str, TermList] | None, vocab: Vocabulary, query: str):
        self.lists = lists
        self.vocab = vocab
        self.query = query
        # Queries compiled into one vocabulary with the same lists share expanded lists.
        if vocab.lists_source is not lists:
            vocab.lists_source, vocab.list_cache, vocab.list_lits = lists, {}, {}
        self.list_cache = vocab.list_cache

    def pattern(self, p: Pattern) -> tuple[Pattern, int]:
        return p, self.vocab.add(p.key)

    def compile(self, node: ast.Node) -> Evaluator:
        match node:
            case ast.Term():
                p = words_pattern([node.text], node.prefix, to_text(node))
                return Lit(to_text(node), [self.pattern(p)] if p else [])
            case ast.Phrase():
                shown = " ".join(node.words) + ("*" if node.prefix else "")
                p = words_pattern(node.words, node.prefix, shown)
                return Lit(to_text(node), [self.pattern(p)] if p else [])
            case ast.Regex():
                return Rx(to_text(node), node.pattern, self.vocab)
            case ast.ListRef():
                # One evaluator per list, shared by every rule using it: what it finds in an
                # item is worked out once and cached on the item (see Lit._found).
                lit = self.vocab.list_lits.get(node.name)
                if lit is None:
                    lit = Lit(f"@{node.name}", self.list_patterns(node), self.group(node.name))
                    self.vocab.list_lits[node.name] = lit
                return lit
            case ast.And():
                return AndE([self.compile(c) for c in node.children])
            case ast.Or():
                return OrE([self.compile(c) for c in node.children])
            case ast.AtLeast():
                return AtLeastE(node.count, [self.compile(c) for c in node.children])
            case ast.Chain():
                return ChainE(node.joiner, [self.compile(c) for c in node.children])
            case ast.Not():
                return NotE(self.compile(node.child))
            case ast.FieldScope():
                return FieldE(node.field, self.compile(node.child))
            case ast.Near():
                return NearE(self.compile(node.left), self.compile(node.right), node.distance)
            case ast.Before():
                return BeforeE(self.compile(node.left), self.compile(node.right), node.distance)
            case _:
                assert_never(node)

    def group(self, name: str) -> str:
        """The reader's name of a list (its ``label:``), carried by its hits."""
        found = (self.lists or {}).get(name)
        return found.label if found else ""

    def list_patterns(self, node: ast.ListRef) -> list[tuple[Pattern, int]]:
        name = node.name
        if name in self.list_cache:
            return self.list_cache[name]
        if self.lists is None or name not in self.lists:
            known = sorted(self.lists or ())
            close = closest(name, known)
            if close:
                hint = f"did you mean @{close}?"
            elif known:
                hint = "known lists: " + ", ".join(f"@{k}" for k in known[:12])
            else:
                hint = "term lists live in rules/lists/<name>.yaml"
            raise QueryError(f"unknown list @{name}", self.query, node.pos, hint)
        patterns = []
        options = term_options(name, self.lists)
        for term in expand_terms(name, self.lists):
            try:
                patterns.append(self.pattern(literal_pattern(term, options.get(term))))
            except ValueError:
                continue  # the loader reports bad terms with their line
        self.list_cache[name] = patterns
        return patterns


def compile_query(
    node: ast.Node,
    lists: Mapping[str, TermList] | None = None,
    *,
    query: str = "",
    vocab: Vocabulary | None = None,
) -> CompiledQuery:
    """Compile a parsed query. ``lists`` resolves ``@name``; an unknown one is a QueryError
    (``query``, the source text, is quoted in it). Queries compiled into one ``vocab`` share
    an automaton, so an item is scanned once for all of them."""
    vocab = vocab if vocab is not None else Vocabulary()
    root = _Compiler(lists, vocab, query).compile(node)
    compiled = CompiledQuery(root, vocab, node)
    return compiled
