"""Why a rule did or did not match an item: a clause tree and highlighted snippets. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, Self, TypeVar

from monitor.model import FeedSource, Hit, Item
from monitor.rules.evaluate import Explanation
from monitor.rules.matcher import CompiledRule, Matcher, RuleOutcome, source_allows

YES = "✓"
NO = "✗"


@dataclass(frozen=True)
class RuleExplanation:
    outcome: RuleOutcome
    query: Explanation
    exclude: Explanation | None
    reasons: tuple[str, ...]  # why it failed, in words; empty when it matched


def explain_rule(
    matcher: Matcher, rule_id: str, item: Item, feed: FeedSource | None = None
) -> RuleExplanation:
    c: CompiledRule = matcher.by_id[rule_id]
    ctx = matcher.context(item.title, item.summary, item.body)
    outcome = matcher._outcome(c, ctx, item, feed, source_allows(c.rule, item, feed))
    query = c.query.explain_ctx(ctx)
    exclude = c.exclude.explain_ctx(ctx) if c.exclude else None
    reasons: list[str] = []
    if not outcome.result.matched:
        reasons.append("the query is false")
    if outcome.excluded:
        reasons.append("the exclude query is true")
    if not outcome.source_ok:
        reasons.append("the source filter does not allow this feed or language")
    if outcome.result.matched and outcome.score < c.rule.min_score:
        reasons.append(f"score {outcome.score:g} is below min_score {c.rule.min_score:g}")
    return RuleExplanation(outcome, query, exclude, tuple(reasons))


def tree_lines(expl: Explanation, indent: str = "") -> list[str]:
    """The clause tree as text: one line per clause, ✓ or ✗, terms found on leaves."""
    mark = YES if expl.value else NO
    line = f"{indent}{mark} {expl.label}"
    if expl.found:
        line += "  found: " + ", ".join(expl.found)
    out = [line]
    for child in expl.children:
        out.extend(tree_lines(child, indent + "  "))
    return out


def describe(result: RuleExplanation) -> list[str]:
    """The whole explanation as plain text lines (used by `rules test` and `rules explain`)."""
    o = result.outcome
    head = f"{'matched' if o.matched else 'no match'}"
    if o.result.matched:
        head += f" (score {o.score:g})"
    if result.reasons:
        head += ": " + "; ".join(result.reasons)
    lines = [head, "query:"]
    lines.extend(tree_lines(result.query, "  "))
    if result.exclude is not None:
        lines.append("exclude:")
        lines.extend(tree_lines(result.exclude, "  "))
    return lines


def segments(text: str, hits: Sequence[Hit], field: str) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, highlighted) for the hits in ``field``; overlaps merged."""
    spans = sorted((h.start, h.end) for h in hits if h.field == field and h.end > h.start)
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[tuple[str, bool]] = []
    pos = 0
    for start, end in merged:
        if start > pos:
            out.append((text[pos:start], False))
        out.append((text[start:end], True))
        pos = end
    if pos < len(text):
        out.append((text[pos:], False))
    return out


class Spanned(Protocol):
    """A found span: a Hit, or monitor.store.search.Span (named tuples both)."""

    def _replace(self, *, start: int, end: int) -> Self: ...

    @property
    def field(self) -> str: ...

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...


S = TypeVar("S", bound=Spanned)


def window(
    text: str,
    hits: Sequence[S],
    field: str,
    width: int = 240,
    *,
    full: bool = False,
    one_line: bool = True,
) -> tuple[str, tuple[S, ...]]:
    """A window of ``text`` around its first hit in ``field`` (… marks a cut), and the hits
    inside it shifted to the window's offsets.

    ``one_line`` turns newlines into spaces; ``full`` keeps the window ``width`` long near
    the end of the text too (it starts earlier) and leaves a text that fits untouched.
    """
    spans = [h for h in hits if h.field == field]
    if full and len(text) <= width:
        return text.replace("\n", " ") if one_line else text, tuple(spans)
    start = 0
    if spans and len(text) > width:
        first = min(h.start for h in spans)
        start = max(0, first - width // 3)
        if full:
            start = min(start, len(text) - width)
    end = min(len(text), start + width)
    prefix = "…" if start else ""
    shift = len(prefix) - start
    inside = tuple(
        h._replace(start=h.start + shift, end=h.end + shift)
        for h in spans
        if h.start >= start and h.end <= end
    )
    piece = text[start:end].replace("\n", " ") if one_line else text[start:end]
    return prefix + piece + ("…" if end < len(text) else ""), inside


def snippet(text: str, hits: Sequence[Hit], field: str, width: int = 240) -> str:
    """A window of ``text`` around its first hit, hits marked with **bold** markers."""
    shown, inside = window(text, hits, field, width)
    return "".join(f"**{p}**" if hl else p for p, hl in segments(shown, inside, field))
