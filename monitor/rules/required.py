"""What a compiled query needs for a match, for choosing candidates before evaluating.

``required_ids``: AND of ORs of key ids (the Matcher's bit masks, monitor.rules.matcher);
``required_terms``: the same as literal terms, for archive search's prefilters;
``blocking_ids`` and ``sufficient_ids``: keys whose mere presence settles a clause, so that a
rule whose NOT (or exclude) is certain to hold is not evaluated at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations, product
from math import comb, prod
from typing import assert_never

from monitor.model import Field
from monitor.rules.chain import ChainE
from monitor.rules.evaluate import AndE, AtLeastE, Evaluator, FieldE, NotE, OrE
from monitor.rules.proximity import BeforeE, NearE
from monitor.rules.regex import Rx
from monitor.rules.terms import Lit

# Every evaluator class, so that each walker below is a ``match`` that mypy checks for
# exhaustiveness: a new operator's evaluator is added here, and mypy names what to decide.
AnyEvaluator = Lit | Rx | AndE | OrE | AtLeastE | NotE | FieldE | NearE | BeforeE | ChainE


def _kind(ev: Evaluator) -> AnyEvaluator:
    assert isinstance(ev, AnyEvaluator), f"add {type(ev).__name__} to AnyEvaluator"
    return ev


def has_near(ev: Evaluator) -> bool:
    """Whether a proximity clause (NEAR, BEFORE) is anywhere in the tree (it scores)."""
    match _kind(ev):
        case NearE() | BeforeE():
            return True
        case Lit() | Rx():
            return False
        case AndE() | NotE() | FieldE() | ChainE():  # AndE covers OR and ATLEAST too
            return any(has_near(c) for c in ev.children())
        case other:
            assert_never(other)


def collect_literals(ev: Evaluator, out: list[str]) -> None:
    """Every literal term outside NOT, as written."""
    match _kind(ev):
        case NotE():
            return
        case Lit() as lit:
            out.extend(p.display for p, _ in lit.patterns)
        case Rx():
            return
        case AndE() | FieldE() | NearE() | BeforeE() | ChainE():
            for child in ev.children():
                collect_literals(child, out)
        case other:
            assert_never(other)


Clause = tuple[frozenset[int], Field | None]  # key ids, one of which must occur (in a field)


def cnf_ids(ev: Evaluator, scope: Field | None = None) -> list[Clause]:
    """Necessary key sets of a clause, AND of ORs (empty: nothing is necessary)."""
    match _kind(ev):
        case Lit() as lit:
            return [(frozenset(kid for _, kid in lit.patterns), scope)]
        case Rx() as rx:  # one of the literals any match contains
            return [(rx.need_keys, scope)] if rx.need_keys else []
        case NotE():
            return []
        case FieldE() as fe:
            return cnf_ids(fe.kid, fe.fname)
        case OrE() as alt:  # OR, ATLEAST: clauses made of one clause of each child
            return _alternatives(alt, scope)
        case AndE() | NearE() | BeforeE() | ChainE():  # every side (part) is needed
            return [clause for kid in ev.children() for clause in cnf_ids(kid, scope)]
        case other:
            assert_never(other)


def _alternatives(ev: OrE, scope: Field | None) -> list[Clause]:
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


def _union(clauses: Sequence[Clause]) -> Clause:
    """One of these holds: the union of their keys, in their field if they share one."""
    fields = {f for _, f in clauses}
    return frozenset().union(*(ids for ids, _ in clauses)), fields.pop() if len(
        fields
    ) == 1 else None


def blocking_ids(ev: Evaluator) -> frozenset[int]:
    """Keys any one of which, found in any field, makes the clause false (tested over every
    field, as a rule's query is): the sure keys of a NOT directly under AND."""
    match _kind(ev):
        case NotE() as neg:
            return sufficient_ids(neg.kid)
        case AtLeastE():  # ATLEAST holds with some children false: nothing settles it
            return frozenset()
        case OrE() as alt:  # false only when every alternative is
            return frozenset.intersection(*(blocking_ids(k) for k in alt.kids))
        case AndE() as conj:  # false when any part is
            return frozenset().union(*(blocking_ids(k) for k in conj.kids))
        case Lit() | Rx() | FieldE() | NearE() | BeforeE() | ChainE():
            # FieldE: found in some field is not found in its own; NEAR: the distance decides
            return frozenset()
        case other:
            assert_never(other)


def sufficient_ids(ev: Evaluator) -> frozenset[int]:
    """Keys any one of which, found in any field, makes the clause true over every field:
    a term found needs no check of its case (``Lit.plain_ids``), or one alternative's."""
    match _kind(ev):
        case Lit() as lit:
            return lit.plain_ids
        case AtLeastE():  # ATLEAST n needs n of them; ATLEAST 1, rare, is left unsettled too
            return frozenset()
        case OrE() as alt:
            return frozenset().union(*(sufficient_ids(k) for k in alt.kids))
        case Rx() | AndE() | NotE() | FieldE() | NearE() | BeforeE() | ChainE():
            return frozenset()
        case other:
            assert_never(other)


def cnf_terms(ev: Evaluator) -> tuple[tuple[str, ...], ...] | None:
    """A necessary condition as AND of ORs of literal terms; None when nothing is needed."""
    match _kind(ev):
        case Lit() as lit:
            return (tuple(dict.fromkeys(p.display for p, _ in lit.patterns)),)
        case NotE() | Rx():
            return None
        case FieldE() as fe:
            return cnf_terms(fe.kid)
        case OrE() as alt:  # OR, ATLEAST: one term of the shortest clause of each child
            clauses: list[str] = []
            for kid in alt.kids:
                sub = cnf_terms(kid)
                if not sub:
                    return None
                shortest: tuple[str, ...] = min(sub, key=len)
                clauses.extend(shortest)
            return (tuple(dict.fromkeys(clauses)),)
        case AndE() | NearE() | BeforeE() | ChainE():
            out: list[tuple[str, ...]] = []
            for kid in ev.children():
                out.extend(cnf_terms(kid) or ())
            return tuple(out) or None
        case other:
            assert_never(other)
