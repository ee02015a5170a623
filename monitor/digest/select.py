"""Selection, routing and ranking: which matches a digest or alert shows, where, in what order.

Input is every undelivered match (one Candidate per item and rule). Items telling the same
story are clustered (cluster.py); each story appears once, under the rule that scored it
highest, naming the other rules. Within a rule, entries rank by relevance (score × feed
weight × coverage, relevance.py), then recency, then id, so the order is deterministic. Entries past ``max_items`` are not dropped: they are counted
in the digest ("and 4 more") and accounted for like the shown ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.digest.cluster import cluster
from monitor.digest.relevance import relevance
from monitor.model import Candidate, Claim, Rule, StoryKey


@dataclass(frozen=True)
class Entry:
    """One story under one rule: the lead item, its other sources and the other rules."""

    rule_id: str
    lead: Candidate
    others: tuple[Candidate, ...]  # the same story from other items (other feeds, reposts)
    also_rules: tuple[str, ...]  # other rules (ids) of this digest that matched the story
    claims: tuple[Claim, ...]  # every (item, rule) pair this entry delivers

    @property
    def score(self) -> float:
        return self.lead.score

    @property
    def relevance(self) -> float:
        """What ranks the story: score × feed weight × coverage (monitor.digest.relevance)."""
        return relevance(self.lead.score, self.lead.weight, len(self.outlets), self.lead.feedback)

    @property
    def also_sources(self) -> tuple[str, ...]:
        """Other outlets, with their language when it is not the lead's: "Nikkei (ja)"."""
        names = set()
        for c in self.others:
            if c.feed_name == self.lead.feed_name:
                continue
            other_lang = c.lang and c.lang.split("-")[0].lower()
            lead_lang = self.lead.lang and self.lead.lang.split("-")[0].lower()
            names.add(
                c.feed_name + (f" ({other_lang})" if other_lang and other_lang != lead_lang else "")
            )
        return tuple(sorted(names))

    @property
    def outlets(self) -> tuple[str, ...]:
        """Feed ids carrying the story, the lead's first."""
        return tuple(dict.fromkeys(c.feed_id for c in (self.lead, *self.others)))

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(c.item_id for c in (self.lead, *self.others))


@dataclass(frozen=True)
class RuleSection:
    rule: Rule
    channel: str
    entries: tuple[Entry, ...]  # shown, best first
    more: tuple[Entry, ...]  # beyond max_items: counted in the message, delivered with it

    @property
    def claims(self) -> tuple[Claim, ...]:
        return tuple(c for e in self.entries + self.more for c in e.claims)


def _rank_key(c: Candidate) -> tuple[float, float, str]:
    return (-c.weighted, -c.published.timestamp(), c.item_id)


def by_relevance(e: Entry) -> tuple[float, float, str]:
    """The order of stories everywhere a digest lists them: most relevant, then newest."""
    return (-e.relevance, -e.lead.published.timestamp(), e.lead.item_id)


def eligible(
    candidates: Iterable[Candidate], rules: Sequence[Rule], *, min_score: float = 0.0
) -> list[Candidate]:
    """Candidates of the given rules scoring at least the digest's and the rule's minimum."""
    by_id = {r.id: r for r in rules}
    return [
        c
        for c in candidates
        if c.rule_id in by_id and c.score >= max(min_score, by_id[c.rule_id].min_score)
    ]


def stories(
    candidates: Sequence[Candidate],
    rules: Sequence[Rule],
    vectors: Mapping[str, Any] | None = None,
) -> list[Entry]:
    """One Entry per story, under its best rule; ranked best first. ``vectors``: item
    embeddings, which also join one story told in several languages."""
    rule_order = {r.id: i for i, r in enumerate(rules)}
    by_item: dict[str, list[Candidate]] = {}
    for c in candidates:
        by_item.setdefault(c.item_id, []).append(c)
    keys = [cs[0].key() for cs in by_item.values()]
    entries = []
    for group in cluster(keys, vectors):
        members = [c for item_id in group for c in by_item[item_id]]
        best = min(members, key=lambda c: (-c.score, rule_order[c.rule_id], c.item_id))
        lead = min((c for c in members if c.rule_id == best.rule_id), key=_rank_key)
        others: dict[str, Candidate] = {}
        for c in sorted(members, key=_rank_key):
            if c.item_id != lead.item_id:
                others.setdefault(c.item_id, c)
        also = sorted({c.rule_id for c in members} - {lead.rule_id}, key=rule_order.__getitem__)
        claims = tuple(sorted({(c.item_id, c.rule_id) for c in members}))
        entries.append(Entry(lead.rule_id, lead, tuple(others.values()), tuple(also), claims))
    entries.sort(key=by_relevance)
    return entries


def plan_digest(
    candidates: Iterable[Candidate],
    rules: Sequence[Rule],
    *,
    channel: str,
    max_items: int,
    min_score: float = 0.0,
) -> list[RuleSection]:
    """The digest's sections in rule order; only rules with entries. ``rules``: the digest's."""
    entries = stories(eligible(candidates, rules, min_score=min_score), rules)
    return sections_of(entries, rules, channel=channel, max_items=max_items)


def sections_of(
    entries: Sequence[Entry], rules: Sequence[Rule], *, channel: str, max_items: int
) -> list[RuleSection]:
    """Ranked entries grouped under their rules, in rule order, routed to their channels."""
    sections = []
    for rule in rules:
        mine = tuple(e for e in entries if e.rule_id == rule.id)
        if mine:
            sections.append(
                RuleSection(rule, rule.channel or channel, mine[:max_items], mine[max_items:])
            )
    return sections


def alert_rules(rules: Sequence[Rule], chosen: Sequence[str] | None) -> list[Rule]:
    """The rules that alert: those named in settings, else every priority-high rule."""
    if chosen is None:
        return [r for r in rules if r.priority == "high"]
    wanted = set(chosen)
    return [r for r in rules if r.id in wanted]


def split_covered(
    entries: Sequence[Entry],
    previous: Sequence[tuple[StoryKey, int]],
    vectors: Mapping[str, Any] | None = None,
) -> tuple[list[Entry], list[tuple[Entry, int]]]:
    """Separate stories already told by an earlier message (``previous``: the items it
    carried, with its delivery id) from new ones, so a later copy of a story from another
    feed is recorded against that message instead of being posted again."""
    if not previous:
        return list(entries), []
    owner = {key.id: delivery for key, delivery in previous}
    keys = [k for k, _ in previous]
    for e in entries:
        keys += [c.key() for c in (e.lead, *e.others)]
    told: dict[str, int] = {}
    for group in cluster(keys, vectors):
        delivery = next((owner[i] for i in group if i in owner), None)
        if delivery is not None:
            told.update(dict.fromkeys(group, delivery))
    fresh, covered = [], []
    for e in entries:
        delivery = told.get(e.lead.item_id)
        if delivery is None:
            fresh.append(e)
        else:
            covered.append((e, delivery))
    return fresh, covered
