"""Match items against every rule at once, without evaluating every rule for every item.

All literal terms of all rules (and their excludes) go into one Aho-Corasick automaton, so an
item is scanned once. Each rule needs some key sets met (an AND of ORs of its literal terms,
the presearcher idea of Lucene Monitor); bit masks over all rules tell, from the keys found,
which rules have all of theirs met. Only those are evaluated.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from monitor.model import FeedSource, Item, Match, Rule
from monitor.rules.compile import CompiledQuery, QueryResult, compile_query
from monitor.rules.context import FIELDS, Context
from monitor.rules.parser import parse_query
from monitor.rules.required import Clause, blocking_ids, sufficient_ids
from monitor.rules.saferegex import RegexTimeoutError
from monitor.rules.scan import Vocabulary
from monitor.rules.termlist import TermList

log = logging.getLogger(__name__)


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


# Necessary key sets kept per rule for choosing candidates. candidates() folds a rule's bits
# with two shifts, which fits 4. The bench's rules pick the same candidates with 4 as with 8,
# and the masks are half as long.
CLAUSES = 4


def _minimal(clauses: tuple[Clause, ...]) -> tuple[Clause, ...]:
    """The clauses without duplicates and without those implied by a smaller one."""
    out: list[Clause] = []
    for ids, scope in sorted(set(clauses), key=lambda c: len(c[0])):
        # (kept, s) implies (ids, scope) when its keys are among them and its field fits.
        if not any(kept <= ids and (scope is None or s == scope) for kept, s in out):
            out.append((ids, scope))
    return tuple(out)


def _blocks(c: CompiledRule) -> frozenset[int]:
    """Keys whose presence in any field means the rule cannot match: its query is false
    (a NOT under AND holds) or its exclude true."""
    out = blocking_ids(c.query.root)
    if c.exclude is not None:
        out |= sufficient_ids(c.exclude.root)
    return out


def _bits(positions: Iterable[int], size: int) -> int:
    """An int with these bits set, built in one go (setting them one by one is quadratic)."""
    buf = bytearray((size + 7) // 8)
    for bit in positions:
        buf[bit >> 3] |= 1 << (bit & 7)
    return int.from_bytes(buf, "little")


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
        self._index_clauses([_minimal(c.query.required_ids()) for c in compiled])
        self._index_blocks([_blocks(c) for c in compiled])
        self.vocab.prepare()  # build now, not on the first item
        self._timed_out: set[tuple[str, str, bool]] = set()  # (rule, pattern, given up): logged

    def _index_clauses(self, clauses: list[tuple[Clause, ...]]) -> None:
        """Bit masks over (rule, clause) pairs: rule r's clause j is bit r * CLAUSES + j.
        A key found sets the bits of the clauses it meets (per field, since a clause under
        ``title:`` must be met in the title); a rule is a candidate when all its bits are
        set. Unused bits (a rule with fewer clauses, or none) are set from the start."""
        title: dict[int, list[int]] = {}
        summary: dict[int, list[int]] = {}
        body: dict[int, list[int]] = {}
        free: list[int] = []
        for r, rule_clauses in enumerate(clauses):
            # The smallest clauses filter best; a rule with more is checked in full anyway.
            kept = rule_clauses[:CLAUSES]
            free.extend(r * CLAUSES + j for j in range(len(kept), CLAUSES))
            for j, (ids, scope) in enumerate(kept):
                bit = r * CLAUSES + j
                for kid in ids:
                    if scope is None or scope == "title":
                        title.setdefault(kid, []).append(bit)
                    if scope is None or scope == "summary":
                        summary.setdefault(kid, []).append(bit)
                    if scope is None or scope == "body":
                        body.setdefault(kid, []).append(bit)
        size = len(clauses) * CLAUSES
        self._title_bits = {kid: _bits(b, size) for kid, b in title.items()}
        self._summary_bits = {kid: _bits(b, size) for kid, b in summary.items()}
        self._body_bits = {kid: _bits(b, size) for kid, b in body.items()}
        self._free_bits = _bits(free, size)
        self._first_bits = _bits(range(0, size, CLAUSES), size)

    def _index_blocks(self, blocks: list[frozenset[int]]) -> None:
        """Per key, the first bits of the rules it rules out when found in any field (a
        NOT under AND, or an exclude, certain to hold): those are not evaluated."""
        ruled_out: dict[int, list[int]] = {}
        for r, kids in enumerate(blocks):
            for kid in kids:
                ruled_out.setdefault(kid, []).append(r * CLAUSES)
        size = len(blocks) * CLAUSES
        self._block_bits = {kid: _bits(b, size) for kid, b in ruled_out.items()}
        self._block_keys = frozenset(ruled_out)

    def context(self, title: str, summary: str, body: str = "") -> Context:
        return Context(self.vocab, title, summary, body)

    def candidates(self, ctx: Context) -> list[int]:
        """Rules that could match: every key set they need meets the keys found (in its
        field), worked out for all rules at once on bit masks."""
        met = self._free_bits
        title, summary = ctx.fields["title"], ctx.fields["summary"]
        bits = self._title_bits
        for kid in title.keys:
            m = bits.get(kid)
            if m:
                met |= m
        for kid in title.rx:  # literals that regexes need (none without regexes)
            met |= bits.get(kid, 0)
        bits = self._summary_bits
        for kid in summary.keys:
            m = bits.get(kid)
            if m:
                met |= m
        for kid in summary.rx:
            met |= bits.get(kid, 0)
        doc = ctx.fields["body"]
        if doc.keys or doc.rx:  # an item with its article text fetched
            bits = self._body_bits
            for kid in doc.keys:
                met |= bits.get(kid, 0)
            for kid in doc.rx:
                met |= bits.get(kid, 0)
        # Fold each rule's CLAUSES bits onto its first: set when all of them are.
        met &= met >> 1
        met &= met >> 2
        met &= self._first_bits
        if met and self._block_keys:
            for kid in self._block_keys & ctx.found:
                met &= ~self._block_bits[kid]
        out = []
        while met:
            low = met & -met
            out.append((low.bit_length() - 1) // CLAUSES)
            met ^= low
        return out

    def match(self, item: Item, feed: FeedSource | None = None) -> list[Match]:
        ctx = self.context(item.title, item.summary, item.body)
        out: list[Match] = []
        for i in self.candidates(ctx):
            c = self.compiled[i]
            rule = c.rule
            if not source_allows(rule, item, feed):
                continue
            # _outcome, without the record of why not (this runs for every candidate).
            try:
                result = c.query.run(ctx)
                if not result.matched or (c.exclude and c.exclude.root.test(ctx, FIELDS)):
                    continue
            except RegexTimeoutError as exc:  # this rule skips this item; the others go on
                self._log_timeout(rule, item, exc)
                continue
            score = round(result.score * rule.weight, 3)
            if score >= rule.min_score:
                out.append(Match(item.id, rule.id, score, result.hits, rule.version))
        out.sort(key=lambda m: (-m.score, m.rule_id))
        return out

    def _log_timeout(self, rule: Rule, item: Item, exc: RegexTimeoutError) -> None:
        key = (rule.id, exc.pattern, exc.given_up)
        if key in self._timed_out:
            return  # once per rule and pattern (and once more when it is given up on)
        self._timed_out.add(key)
        where = f" ({rule.path})" if rule.path else ""
        log.warning(
            "rule %s%s: %s; item %s skipped for this rule (%s)",
            rule.id,
            where,
            exc.message,
            item.id,
            exc.hint,
        )

    def outcome(self, rule_id: str, item: Item, feed: FeedSource | None = None) -> RuleOutcome:
        """One rule on one item, with the parts of the decision (for explain and tests)."""
        c = self.by_id[rule_id]
        ctx = self.context(item.title, item.summary, item.body)
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
        excluded = bool(result.matched and c.exclude and c.exclude.root.test(ctx, FIELDS))
        score = round(result.score * c.rule.weight, 3)
        matched = result.matched and not excluded and source_ok and score >= c.rule.min_score
        return RuleOutcome(c.rule, result, excluded, source_ok, score, matched)
