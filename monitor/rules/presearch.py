"""What a compiled query needs for a match, for choosing candidates before evaluating.

``required_ids``: AND of ORs of key ids (the Matcher's bit masks, monitor.rules.matcher);
``required_terms``: the same as literal terms, for archive search's prefilters.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations, product
from math import comb, prod

from monitor.model import Field
from monitor.rules.evaluate import AtLeastE, Evaluator, FieldE, NotE, OrE
from monitor.rules.proximity import NearE
from monitor.rules.regex import Rx
from monitor.rules.terms import Lit


def has_near(ev: Evaluator) -> bool:
    return isinstance(ev, NearE) or any(has_near(c) for c in ev.children())


def collect_literals(ev: Evaluator, out: list[str]) -> None:
    if isinstance(ev, NotE):
        return
    if isinstance(ev, Lit):
        out.extend(p.display for p, _ in ev.patterns)
    for child in ev.children():
        collect_literals(child, out)


Clause = tuple[frozenset[int], Field | None]  # key ids, one of which must occur (in a field)


def cnf_ids(ev: Evaluator, scope: Field | None = None) -> list[Clause]:
    if isinstance(ev, Lit):
        return [(frozenset(kid for _, kid in ev.patterns), scope)]
    if isinstance(ev, Rx):  # one of the literals any match contains
        return [(ev.need_keys, scope)] if ev.need_keys else []
    if isinstance(ev, NotE):
        return []
    if isinstance(ev, FieldE):
        return cnf_ids(ev.kid, ev.fname)
    if isinstance(ev, OrE):  # OR, ATLEAST: clauses made of one clause of each child
        subs: list[list[Clause]] = []
        for kid in ev.kids:
            sub = cnf_ids(kid, scope)
            if not sub:
                return []
            subs.append(sub)
        if not isinstance(ev, AtLeastE) and prod(len(sub) for sub in subs) <= 16:
            # (A1 AND A2) OR (B1 AND B2) needs A1|B1, A1|B2, A2|B1 and A2|B2: every pair
            # filters, where one union alone lets common words through.
            return [_union(group) for group in product(*subs)]
        parts = [min(sub, key=lambda c: len(c[0])) for sub in subs]
        # ATLEAST n of k: every k - n + 1 children include one that holds (OR: n = 1).
        size = len(parts) - (ev.count if isinstance(ev, AtLeastE) else 1) + 1
        if size < len(parts) and comb(len(parts), size) <= 20:
            return [_union(group) for group in combinations(parts, size)]
        return [_union(parts)]
    return [clause for kid in ev.children() for clause in cnf_ids(kid, scope)]


def _union(clauses: Sequence[Clause]) -> Clause:
    """One of these holds: the union of their keys, in their field if they share one."""
    fields = {f for _, f in clauses}
    return frozenset().union(*(ids for ids, _ in clauses)), fields.pop() if len(
        fields
    ) == 1 else None


def cnf_terms(ev: Evaluator) -> tuple[tuple[str, ...], ...] | None:
    if isinstance(ev, Lit):
        return (tuple(dict.fromkeys(p.display for p, _ in ev.patterns)),)
    if isinstance(ev, (NotE, Rx)):
        return None
    if isinstance(ev, FieldE):
        return cnf_terms(ev.kid)
    if isinstance(ev, OrE):
        clauses: list[str] = []
        for kid in ev.kids:
            sub = cnf_terms(kid)
            if not sub:
                return None
            shortest: tuple[str, ...] = min(sub, key=len)
            clauses.extend(shortest)
        return (tuple(dict.fromkeys(clauses)),)
    out: list[tuple[str, ...]] = []
    for kid in ev.children():
        out.extend(cnf_terms(kid) or ())
    return tuple(out) or None
