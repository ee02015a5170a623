"""The evaluators of ``a NEAR/n b`` (either order) and ``a BEFORE/n b`` (b after a): the two
sides within n tokens of each other in one field."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from monitor.rules.context import Context
from monitor.rules.evaluate import Evaluator
from monitor.rules.literals import Span
from monitor.rules.score import RawHit


class ProximityE(Evaluator):
    """What NEAR and BEFORE share: the smallest gap in a field (``_gap``) decides the truth,
    the positions and hits (both sides, where it holds) and the proximity bonus."""

    operator = ""

    def __init__(self, left: Evaluator, right: Evaluator, distance: int) -> None:
        self.left = left
        self.right = right
        self.distance = distance
        self.label = f"{self.operator}/{distance}"

    def children(self) -> Sequence[Evaluator]:
        return (self.left, self.right)

    def gap(self, ctx: Context, fname: str) -> int | None:
        """The fewest tokens between a left and a right span in one field, if within range."""
        cache = ctx.fields[fname].cache
        key = ("near", id(self))
        if key not in cache:
            cache[key] = [self._gap(ctx, fname)]
        gap: int | None = cache[key][0]
        return gap

    def _gap(self, ctx: Context, fname: str) -> int | None:
        raise NotImplementedError

    def test(self, ctx: Context, fields: Sequence[str]) -> bool:
        for f in fields:  # noqa: SIM110 - no generator on the hot path
            if self.gap(ctx, f) is not None:
                return True
        return False

    def positions(self, ctx: Context, fname: str) -> list[Span]:
        if self.gap(ctx, fname) is None:
            return []
        return self.left.positions(ctx, fname) + self.right.positions(ctx, fname)

    def hits(self, ctx: Context, fields: Sequence[str], out: list[RawHit]) -> None:
        near_fields = [f for f in fields if self.gap(ctx, f) is not None]
        self.left.hits(ctx, near_fields, out)
        self.right.hits(ctx, near_fields, out)

    def near_bonus(self, ctx: Context, fields: Sequence[str]) -> float:
        gaps = [g for f in fields if (g := self.gap(ctx, f)) is not None]
        if not gaps:
            return 0.0
        own = (self.distance + 1 - min(gaps)) / (self.distance + 1)
        return own + super().near_bonus(ctx, fields)


class NearE(ProximityE):
    """``a NEAR/n b``: a left and a right span, in either order, n tokens apart at most."""

    operator = "NEAR"

    def _gap(self, ctx: Context, fname: str) -> int | None:
        left = self.left.positions(ctx, fname)
        if not left:
            return None
        right = self.right.positions(ctx, fname)
        if not right:
            return None
        an = ctx.fields[fname].an
        distance = self.distance
        # Walk all spans in text order. A span is nearest to the span of the other side that
        # ends last before it (more text between means no fewer tokens), so one count per
        # span at most, and none when that end has not moved since this side last counted.
        spans = sorted({(a, b, 0) for a, b in left} | {(a, b, 1) for a, b in right})
        ends: tuple[list[tuple[int, Span]], list[tuple[int, Span]]] = ([], [])  # top two
        counted_from = [-1, -1]
        best: int | None = None
        for a, b, side in spans:
            here = (a, b)
            nearest = -1
            for end, span in ends[1 - side]:
                if span == here:
                    continue  # one occurrence cannot be near itself
                if end > a:
                    return 0  # they overlap
                nearest = max(nearest, end)
                break
            if nearest >= 0 and nearest != counted_from[side]:
                counted_from[side] = nearest
                g = an.tokens_between(nearest, a, distance)
                if g <= distance and (best is None or g < best):
                    best = g
            mine = ends[side]
            mine.append((b, here))
            mine.sort(reverse=True)
            del mine[2:]
        return best


class BeforeE(ProximityE):
    """``a BEFORE/n b``: a right span that starts after a left span ends, with n tokens
    between them at most."""

    operator = "BEFORE"

    def _gap(self, ctx: Context, fname: str) -> int | None:
        left = self.left.positions(ctx, fname)
        if not left:
            return None
        right = self.right.positions(ctx, fname)
        if not right:
            return None
        an = ctx.fields[fname].an
        distance = self.distance
        ends = sorted({b for _, b in left})
        # Each right span is nearest to the left span that ends last before it starts (more
        # text between means no fewer tokens); a later start with the same nearest end is
        # no closer, so it is not counted again. An occurrence never ends before it starts,
        # so it is never before itself.
        counted = -1
        best: int | None = None
        for a in sorted({a for a, _ in right}):
            i = bisect_right(ends, a)
            if not i or ends[i - 1] == counted:
                continue
            counted = ends[i - 1]
            g = an.tokens_between(counted, a, distance)
            if g <= distance and (best is None or g < best):
                best = g
        return best
