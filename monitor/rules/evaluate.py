"""Evaluators: a compiled query's clauses, evaluated against a scanned item (Context).

Each clause answers whether it holds over some fields, the spans behind it in one field (for
NEAR and BEFORE), its hits and its proximity bonus, and explains itself. This module holds the base
class and the boolean operators; leaves are in monitor.rules.terms and monitor.rules.regex,
proximity in monitor.rules.proximity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from monitor.model import Field
from monitor.rules.context import Context
from monitor.rules.literals import Span
from monitor.rules.score import RawHit


@dataclass
class Explanation:
    """One clause of a query and whether it held, for ``monitor rules explain``."""

    label: str
    value: bool
    children: list[Explanation] = field(default_factory=list)
    found: list[str] = field(default_factory=list)  # terms found, for leaves


class Evaluator:
    """A clause. A new kind is also added to ``required.AnyEvaluator`` (docs/architecture.md,
    "Adding an operator"), so that mypy names the walkers that must decide about it."""

    label = ""

    def test(self, ctx: Context, fields: Sequence[str]) -> bool:
        raise NotImplementedError

    def positions(self, ctx: Context, fname: str) -> list[Span]:
        """Token spans behind this clause in one field (empty when it does not hold there)."""
        raise NotImplementedError

    def children(self) -> Sequence[Evaluator]:
        return ()

    def hits(self, ctx: Context, fields: Sequence[str], out: list[RawHit]) -> None:
        for child in self.children():
            child.hits(ctx, fields, out)

    def near_bonus(self, ctx: Context, fields: Sequence[str]) -> float:
        return sum(child.near_bonus(ctx, fields) for child in self.children())

    def explain(self, ctx: Context, fields: Sequence[str]) -> Explanation:
        return Explanation(
            self.label,
            self.test(ctx, fields),
            [c.explain(ctx, fields) for c in self.children()],
        )


class AndE(Evaluator):
    label = "AND"

    def __init__(self, kids: list[Evaluator]) -> None:
        self.kids = kids
        # Without NOT below, a clause has positions in a field exactly when it holds there,
        # so the positions alone decide (no separate test).
        self.faithful = not _has_not(self)

    def children(self) -> Sequence[Evaluator]:
        return self.kids

    def test(self, ctx: Context, fields: Sequence[str]) -> bool:
        for k in self.kids:  # noqa: SIM110 - no generator on the hot path
            if not k.test(ctx, fields):
                return False
        return True

    def positions(self, ctx: Context, fname: str) -> list[Span]:
        if self.faithful:
            out: list[Span] = []
            for k in self.kids:
                found = k.positions(ctx, fname)
                if not found:
                    return []
                out += found
            return out
        if not self.test(ctx, (fname,)):
            return []
        return [s for k in self.kids for s in k.positions(ctx, fname)]


class OrE(AndE):
    label = "OR"

    def test(self, ctx: Context, fields: Sequence[str]) -> bool:
        for k in self.kids:  # noqa: SIM110 - no generator on the hot path
            if k.test(ctx, fields):
                return True
        return False

    def positions(self, ctx: Context, fname: str) -> list[Span]:
        return [s for k in self.kids for s in k.positions(ctx, fname)]

    def hits(self, ctx: Context, fields: Sequence[str], out: list[RawHit]) -> None:
        for kid in self.kids:
            if kid.test(ctx, fields):
                kid.hits(ctx, fields, out)


class AtLeastE(OrE):
    def __init__(self, count: int, kids: list[Evaluator]) -> None:
        self.count = count
        super().__init__(kids)
        self.label = f"ATLEAST {count}"

    def test(self, ctx: Context, fields: Sequence[str]) -> bool:
        need = self.count
        if need <= 0:
            return True
        left = len(self.kids)
        for k in self.kids:
            if k.test(ctx, fields):
                need -= 1
                if need <= 0:
                    return True
            left -= 1
            if left < need:
                return False
        return False

    def positions(self, ctx: Context, fname: str) -> list[Span]:
        if not self.test(ctx, (fname,)):
            return []
        return super().positions(ctx, fname)


class NotE(Evaluator):
    label = "NOT"

    def __init__(self, kid: Evaluator) -> None:
        self.kid = kid

    def children(self) -> Sequence[Evaluator]:
        return (self.kid,)

    def test(self, ctx: Context, fields: Sequence[str]) -> bool:
        return not self.kid.test(ctx, fields)

    def positions(self, ctx: Context, fname: str) -> list[Span]:
        return []  # an absence has no position

    def hits(self, ctx: Context, fields: Sequence[str], out: list[RawHit]) -> None:
        return None  # terms under NOT are not reasons for a match

    def near_bonus(self, ctx: Context, fields: Sequence[str]) -> float:
        return 0.0


class FieldE(Evaluator):
    def __init__(self, fname: Field, kid: Evaluator) -> None:
        self.fname = fname
        self.kid = kid
        self.label = f"{fname}:"

    def children(self) -> Sequence[Evaluator]:
        return (self.kid,)

    def _fields(self, fields: Sequence[str]) -> tuple[str, ...]:
        return (self.fname,) if self.fname in fields else ()

    def test(self, ctx: Context, fields: Sequence[str]) -> bool:
        return self.kid.test(ctx, self._fields(fields))

    def positions(self, ctx: Context, fname: str) -> list[Span]:
        return self.kid.positions(ctx, fname) if fname == self.fname else []

    def hits(self, ctx: Context, fields: Sequence[str], out: list[RawHit]) -> None:
        self.kid.hits(ctx, self._fields(fields), out)

    def near_bonus(self, ctx: Context, fields: Sequence[str]) -> float:
        return self.kid.near_bonus(ctx, self._fields(fields))

    def explain(self, ctx: Context, fields: Sequence[str]) -> Explanation:
        inner = self._fields(fields)
        return Explanation(self.label, self.kid.test(ctx, inner), [self.kid.explain(ctx, inner)])


def _has_not(ev: Evaluator) -> bool:
    """Whether an absence is below (NOT, ATLEAST 0): then positions alone cannot decide.
    Generic over ``children``: a new operator is visited without being named here."""
    if isinstance(ev, NotE) or (isinstance(ev, AtLeastE) and ev.count <= 0):
        return True  # ATLEAST 0 holds with nothing found
    return any(_has_not(c) for c in ev.children())
