"""Match items against every rule at once, without evaluating every rule for every item.

All literal terms of all rules (and their excludes) go into one Aho-Corasick automaton. Each
rule is indexed under the key set of which at least one must occur for it to match (an AND
is indexed by its rarest child, the presearcher of Lucene Monitor). Scanning an item once
tells which keys occur; only the rules indexed under them, plus the few rules with no literal
requirement (a bare regex, NOT-only), are evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from monitor.model import FeedSource, Item, Match, Rule
from monitor.rules.compile import (
    Clause,
    CompiledQuery,
    Context,
    QueryResult,
    Vocabulary,
    compile_query,
    lookup_keys,
)
from monitor.rules.parser import parse_query
from monitor.rules.termlist import TermList


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    query: CompiledQuery
    exclude: CompiledQuery | None


@dataclass(frozen=True)
class RuleOutcome:
    """Everything about one rule on one item, for explanations and tests."""

    rule: Rule
    result: QueryResult  # the query alone
    excluded: bool
    source_ok: bool
    score: float  # after weight
    matched: bool


def source_allows(rule: Rule, item: Item, feed: FeedSource | None) -> bool:
    """The rule's source filter. Without a feed only ``langs`` applies; an item whose
    language is unknown passes a language filter (nothing says it is another language)."""
    f = rule.sources
    if feed is not None:
        if f.kinds and feed.kind not in f.kinds:
            return False
        if f.countries and feed.country.upper() not in f.countries:
            return False
        if f.feeds and feed.id not in f.feeds:
            return False
    if f.langs:
        lang = item.lang or (feed.lang if feed is not None else None)
        if lang and lang.split("-")[0].lower() not in f.langs:
            return False
    return True


_SCOPES = {None: 0, "title": 1, "summary": 2}


def _minimal(clauses: tuple[Clause, ...]) -> tuple[Clause, ...]:
    """The clauses without duplicates and without those implied by a smaller one."""
    out: list[Clause] = []
    for ids, scope in sorted(set(clauses), key=lambda c: len(c[0])):
        # (kept, s) implies (ids, scope) when its keys are among them and its field fits.
        if not any(kept <= ids and (scope is None or s == scope) for kept, s in out):
            out.append((ids, scope))
    return tuple(out)


def _mask(ids: Iterable[int]) -> int:
    return sum(1 << kid for kid in set(ids))


class Matcher:
    """All rules compiled once. ``match`` returns the matches of one item, best first."""

    def __init__(self, rules: Iterable[Rule], lists: Mapping[str, TermList] | None = None):
        self.vocab = Vocabulary()
        compiled: list[CompiledRule] = []
        for rule in rules:
            query = compile_query(
                parse_query(rule.query), lists, query=rule.query, vocab=self.vocab
            )
            exclude = None
            if rule.exclude and rule.exclude.strip():
                exclude = compile_query(
                    parse_query(rule.exclude), lists, query=rule.exclude, vocab=self.vocab
                )
            compiled.append(CompiledRule(rule, query, exclude))
        self.compiled = tuple(compiled)
        self.by_id = {c.rule.id: c for c in compiled}
        keys = lookup_keys(self.vocab)
        self.index: dict[int, list[int]] = {}
        self.always: list[int] = []
        # Every other necessary key set (in its field), checked before evaluating: the
        # smallest few, since each check costs and the full evaluation follows anyway. As
        # bit masks, testing one against the keys found is a single AND.
        self.required: list[tuple[tuple[int, int], ...]] = []
        for i, c in enumerate(compiled):
            need = c.query.requirement(keys)
            if need is None:
                self.always.append(i)
            else:
                for kid in need:
                    self.index.setdefault(kid, []).append(i)
            self.required.append(
                tuple(
                    (_mask(ids), _SCOPES[scope])
                    for ids, scope in _minimal(c.query.required_ids())[:6]
                    if not (ids == need and scope is None)  # met by being a candidate
                )
            )
        self.vocab.prepare()  # build now, not on the first item

    def context(self, title: str, summary: str) -> Context:
        return Context(self.vocab, title, summary)

    def candidates(self, ctx: Context) -> list[int]:
        """Rules that could match: indexed under a key found, and every key set they need
        meets the keys found."""
        seen = set(self.always)
        index = self.index
        present = ctx.found
        for kid in present:
            rules = index.get(kid)
            if rules:
                seen.update(rules)
        required = self.required
        title = _mask(ctx.fields["title"].keys)
        summary = _mask(ctx.fields["summary"].keys)
        found = (title | summary, title, summary)  # by scope: either field, title, summary
        out = []
        for i in seen:
            for mask, scope in required[i]:
                if not mask & found[scope]:
                    break
            else:
                out.append(i)
        out.sort()
        return out

    def match(self, item: Item, feed: FeedSource | None = None) -> list[Match]:
        ctx = self.context(item.title, item.summary)
        out: list[Match] = []
        for i in self.candidates(ctx):
            c = self.compiled[i]
            rule = c.rule
            if not source_allows(rule, item, feed):
                continue
            # _outcome, without the record of why not (this runs for every candidate).
            result = c.query.run(ctx)
            if not result.matched or (c.exclude and c.exclude.run(ctx).matched):
                continue
            score = round(result.score * rule.weight, 3)
            if score >= rule.min_score:
                out.append(Match(item.id, rule.id, score, result.hits, rule.version))
        out.sort(key=lambda m: (-m.score, m.rule_id))
        return out

    def outcome(self, rule_id: str, item: Item, feed: FeedSource | None = None) -> RuleOutcome:
        """One rule on one item, with the parts of the decision (for explain and tests)."""
        c = self.by_id[rule_id]
        ctx = self.context(item.title, item.summary)
        return self._outcome(c, ctx, item, feed, source_allows(c.rule, item, feed))

    def _outcome(
        self,
        c: CompiledRule,
        ctx: Context,
        item: Item,
        feed: FeedSource | None,
        source_ok: bool,
    ) -> RuleOutcome:
        result = c.query.run(ctx)
        excluded = bool(result.matched and c.exclude and c.exclude.run(ctx).matched)
        score = round(result.score * c.rule.weight, 3)
        matched = result.matched and not excluded and source_ok and score >= c.rule.min_score
        return RuleOutcome(c.rule, result, excluded, source_ok, score, matched)
