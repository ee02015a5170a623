"""Precision, recall and F1 of rules on labelled items (`monitor rules eval`). Pure.

Two kinds of labels: a hand-labelled file says, per item, *every* rule that should match
(``labels``), so any other match is a false positive. Readers' feedback from Slack judges only
the (item, rule) pairs they saw: ``labels`` are rules marked relevant, ``not_labels`` rules
marked not relevant, and a rule neither names is not scored on that item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from monitor.model import Item


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None if p is None or r is None else 0.0
        return 2 * p * r / (p + r)


@dataclass(frozen=True)
class Record:
    item: Item
    labels: tuple[str, ...] | None  # None when the line has no labels field
    line: int
    not_labels: tuple[str, ...] | None = None  # set: only the named pairs are judged


def evaluate(
    rule_ids: Sequence[str], matched: Callable[[Item], Iterable[str]], records: Sequence[Record]
) -> tuple[dict[str, Score], list[tuple[str, str, Record]]]:
    """Per-rule counts and the errors as (rule id, "fp" | "fn", record)."""
    scores = {r: Score() for r in rule_ids}
    errors: list[tuple[str, str, Record]] = []
    for record in records:
        got = set(matched(record.item))
        want = set(record.labels or ())
        if record.not_labels is not None:  # judged pairs only
            got &= want | set(record.not_labels)
        for rule_id in sorted(got | want):
            score = scores.setdefault(rule_id, Score())
            if rule_id in got and rule_id in want:
                score.tp += 1
            elif rule_id in got:
                score.fp += 1
                errors.append((rule_id, "fp", record))
            else:
                score.fn += 1
                errors.append((rule_id, "fn", record))
    return scores, errors
