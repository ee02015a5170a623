"""Rules measured: precision, recall and F1 on labelled items (`monitor rules eval`), and
what an edit gains and loses over the archive (`monitor rules backtest`). Pure: the CLI
reads the files and the archive and hands the rows here.

Two kinds of labels: a hand-labelled file says, per item, *every* rule that should match
(``labels``), so any other match is a false positive. Readers' feedback from Slack judges only
the (item, rule) pairs they saw: ``labels`` are rules marked relevant, ``not_labels`` rules
marked not relevant, and a rule neither names is not scored on that item.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from monitor.errors import ConfigError, Problem
from monitor.model import FeedSource, Item, Rule
from monitor.rules.matcher import Matcher


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


def make_item(
    item_id: str,
    title: str,
    summary: str = "",
    *,
    url: str = "",
    lang: str | None = None,
    published: datetime | None = None,
    feed_id: str = "",
) -> Item:
    when = published or datetime.now(UTC).replace(microsecond=0)
    return Item(
        id=item_id,
        feed_id=feed_id,
        guid=None,
        url=url,
        title=title,
        summary=summary,
        published=when,
        first_seen=when,
        lang=lang,
    )


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


def evaluate_matcher(
    matcher: Matcher, rule_ids: Sequence[str], records: Sequence[Record]
) -> tuple[dict[str, Score], list[tuple[str, str, Record]]]:
    """``evaluate`` with what the matcher matches on each item."""
    return evaluate(rule_ids, lambda item: {m.rule_id for m in matcher.match(item)}, records)


def eval_json(
    items: int,
    scores: dict[str, Score],
    errors: list[tuple[str, str, Record]],
    known: set[str],
) -> dict[str, Any]:
    """What `monitor rules eval --json` prints: the counts per rule (``known``: the rule
    exists), then every error."""
    return {
        "items": items,
        "rules": {
            rule_id: {
                "tp": s.tp,
                "fp": s.fp,
                "fn": s.fn,
                "precision": s.precision,
                "recall": s.recall,
                "f1": s.f1,
                "known": rule_id in known,
            }
            for rule_id, s in sorted(scores.items())
        },
        "errors": [
            {"rule": r, "kind": k, "id": rec.item.id, "title": rec.item.title}
            for r, k, rec in errors
        ],
    }


def records_from_jsonl(text: str, name: str, *, need_labels: bool = False) -> list[Record]:
    """Items from the text of a JSON Lines file called ``name``; every bad line is reported
    (ConfigError, exit 2)."""
    problems: list[Problem] = []
    records: list[Record] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(name, number, f"not JSON: {exc.msg}", column=exc.colno))
            continue
        if not isinstance(data, dict):
            problems.append(Problem(name, number, "each line must be a JSON object"))
            continue
        record = record_of(data, name, number, need_labels, problems)
        if record:
            records.append(record)
    if problems:
        raise ConfigError(problems)
    return records


def record_of(
    data: dict[str, Any], name: str, number: int, need_labels: bool, problems: list[Problem]
) -> Record | None:
    """One labelled item from a JSON object (line ``number`` of ``name``), or None with the
    reason appended to ``problems``."""
    texts = {}
    for key in ("id", "title", "summary", "url", "lang"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(Problem(name, number, f"field {key!r} must be a string"))
            return None
        texts[key] = value or ""
    if not texts["title"] and not texts["summary"]:
        problems.append(Problem(name, number, "an item needs a title or a summary"))
        return None
    published = None
    if data.get("published"):
        try:
            published = datetime.fromisoformat(str(data["published"]))
            if published.tzinfo is None:
                published = published.replace(tzinfo=UTC)
        except ValueError:
            problems.append(
                Problem(
                    name, number, "published is not an ISO 8601 time", "e.g. 2025-01-31T09:00:00Z"
                )
            )
            return None
    labels = data.get("labels")
    if labels is not None and (
        not isinstance(labels, list) or not all(isinstance(x, str) for x in labels)
    ):
        problems.append(Problem(name, number, "labels must be a list of rule ids"))
        return None
    not_labels = data.get("not_labels")
    if not_labels is not None and (
        not isinstance(not_labels, list) or not all(isinstance(x, str) for x in not_labels)
    ):
        problems.append(Problem(name, number, "not_labels must be a list of rule ids"))
        return None
    if need_labels and labels is None:
        problems.append(
            Problem(name, number, "missing labels", 'add "labels": [] (a list of rule ids)')
        )
        return None
    item = make_item(
        texts["id"] or f"line-{number}",
        texts["title"],
        texts["summary"],
        url=texts["url"],
        lang=texts["lang"] or None,
        published=published,
    )
    return Record(
        item,
        tuple(labels) if labels is not None else None,
        number,
        tuple(not_labels) if not_labels is not None else None,
    )


# --- backtest -------------------------------------------------------------------------------


class Judged(Protocol):
    """The readers' latest labels for one (item, rule) (monitor.store.feedback.Verdict)."""

    @property
    def item_id(self) -> str: ...

    @property
    def rule_id(self) -> str: ...

    @property
    def relevant(self) -> tuple[tuple[str, str], ...]: ...  # (reader, time) of each

    @property
    def not_relevant(self) -> tuple[tuple[str, str], ...]: ...

    @property
    def label(self) -> str: ...


def judged_notes(verdicts: Iterable[Judged]) -> dict[str, dict[str, str]]:
    """rule id → item id → "marked relevant by @ana on 2026-12-01" (readers' latest labels)."""
    out: dict[str, dict[str, str]] = {}
    for v in verdicts:
        who = v.relevant if v.label == "relevant" else v.not_relevant
        names = ", ".join(f"@{name}" for name, _ in who[:3]) + (" …" if len(who) > 3 else "")
        when = max(t for _, t in who)[:10]
        label = "relevant" if v.label == "relevant" else "not relevant"
        out.setdefault(v.rule_id, {})[v.item_id] = f"marked {label} by {names} on {when}"
    return out


@dataclass
class Rematch:
    """The rules as they are now over archived items: item ids matched per rule."""

    now: dict[str, set[str]]
    titles: dict[str, str]  # item id → title, for the listing
    scanned: int


def rematch(
    matcher: Matcher, items: Iterable[tuple[Item, FeedSource | None]], wanted: set[str]
) -> Rematch:
    out = Rematch({r: set() for r in wanted}, {}, 0)
    for item, feed in items:
        out.scanned += 1
        out.titles[item.id] = item.title
        for m in matcher.match(item, feed):
            if m.rule_id in wanted:
                out.now[m.rule_id].add(item.id)
    return out


def backtest_report(
    rules: Sequence[Rule],
    stored: dict[str, set[str]],
    now: dict[str, set[str]],
    judged: dict[str, dict[str, str]],
) -> list[dict[str, Any]]:
    """Per rule: matches stored and now, items gained and lost, readers' labels of those."""
    report: list[dict[str, Any]] = []
    for rule in rules:
        before, after = stored.get(rule.id, set()), now[rule.id]
        notes = judged.get(rule.id, {})
        report.append(
            {
                "rule": rule.id,
                "version": rule.version,
                "stored": len(before),
                "now": len(after),
                # items readers labelled come first: an edit that loses one marked relevant,
                # or gains one marked not relevant, is what to look at
                "gained": _labelled_first(after - before, notes),
                "lost": _labelled_first(before - after, notes),
                "labelled": {i: notes[i] for i in sorted((after ^ before) & set(notes))},
            }
        )
    return report


def _labelled_first(ids: set[str], notes: dict[str, str]) -> list[str]:
    return sorted(ids, key=lambda i: (i not in notes, i))
