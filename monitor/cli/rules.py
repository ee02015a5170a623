"""`monitor rules check|test|explain|backtest|eval` (`rules suggest`: suggest.py)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.text import Text
from rich.tree import Tree

from monitor.cli.common import EXIT_CHECK_FAILED, app
from monitor.cli.jsonl import read_jsonl
from monitor.cli.options import TimeSpec
from monitor.config.rules import RuleBook, load_rules
from monitor.errors import MonitorError
from monitor.model import FeedSource, Hit, Item, feed_weight
from monitor.rules.evaluate import Explanation
from monitor.rules.evaluation import (
    Record,
    backtest_report,
    eval_json,
    evaluate_matcher,
    judged_notes,
    make_item,
    record_of,
    rematch,
)
from monitor.rules.explain import describe as describe_clause
from monitor.rules.explain import explain_rule, segments, window
from monitor.rules.termweights import describe, lead_end
from monitor.rules.why import why_text
from monitor.store.matches import feed_from_row


def _book(ctx: click.Context) -> RuleBook:
    return load_rules(app(ctx).rules_path)


# --- check / test -------------------------------------------------------------------------------


@click.group("rules")
def rules_group() -> None:
    """Validate, test, explain and measure the watch rules in rules/.

    \b
    Example:
      monitor rules check
      monitor rules test jkus-trilateral
      monitor rules eval examples/labelled.jsonl
    """


@rules_group.command("check")
@click.pass_context
def check_cmd(ctx: click.Context) -> None:
    """Validate every rule and term list; list every problem (exit 2 if any).

    \b
    Example:
      monitor rules check
      monitor --rules my-rules/ rules check
    """
    book = _book(ctx)
    terms = sum(len(t.terms) for t in book.lists.values())
    examples = sum(len(r.match_examples) + len(r.no_match_examples) for r in book.rules)
    click.echo(
        f"{len(book.rules)} rules, {len(book.lists)} term lists ({terms} terms), "
        f"{examples} examples: all valid"
    )


@rules_group.command("test")
@click.argument("rule_id", metavar="[RULE]", required=False)
@click.pass_context
def test_cmd(ctx: click.Context, rule_id: str | None) -> None:
    """Run the rules' examples; print each failure with its explanation (exit 1 on failure).

    \b
    Example:
      monitor rules test
      monitor rules test critical-minerals
    """
    book = _book(ctx)
    rules = [book.get(rule_id)] if rule_id else list(book.rules)
    total = failed = 0
    for rule in rules:
        for expected, examples in ((True, rule.match_examples), (False, rule.no_match_examples)):
            for example in examples:
                total += 1
                item = make_item("example", example.title, example.summary)
                result = explain_rule(book.matcher, rule.id, item)
                if result.outcome.matched == expected:
                    continue
                failed += 1
                want = "should match but did not" if expected else "should not match but did"
                click.echo(f"FAIL {rule.path}:{example.line}: {rule.id} {want}")
                click.echo(f"  title:   {example.title}")
                if example.summary:
                    click.echo(f"  summary: {example.summary}")
                for line in describe_clause(result):
                    click.echo(f"  {line}")
    click.echo(
        f"{total} examples in {len(rules)} rule{'s' if len(rules) != 1 else ''}: "
        f"{total - failed} passed, {failed} failed"
    )
    if failed:
        ctx.exit(EXIT_CHECK_FAILED)


# --- eval -----------------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


@rules_group.command("eval")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False), required=False)
@click.option(
    "--feedback", "use_feedback", is_flag=True, help="Score on the archive's Slack feedback."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--errors", "show_errors", is_flag=True, help="List false positives and negatives.")
@click.pass_context
def eval_cmd(
    ctx: click.Context, file: Path | None, use_feedback: bool, as_json: bool, show_errors: bool
) -> None:
    """Precision, recall and F1 per rule on a labelled JSON Lines file, or on readers'
    feedback from Slack (--feedback).

    Each line is an item (id, title, summary, lang) with "labels": the ids of the rules that
    should match it. A line with "not_labels" too (what `monitor feedback export` writes) is
    judged only for the rules it names. This is a report: it exits 0 whatever the figures
    (2 on bad input).

    \b
    Example:
      monitor rules eval examples/labelled.jsonl
      monitor rules eval examples/labelled.jsonl --errors
      monitor rules eval --feedback --json
    """
    book = _book(ctx)
    if use_feedback == (file is not None):
        raise MonitorError(
            "give a labelled file or --feedback (one of them)",
            "e.g. monitor rules eval labelled.jsonl, or monitor rules eval --feedback",
        )
    if file is None:
        file = app(ctx).db_path
        records = _feedback_records(file)
    else:
        records = read_jsonl(file, need_labels=True)
    scores, errors = evaluate_matcher(book.matcher, [r.id for r in book.rules], records)
    known = {r.id for r in book.rules}
    if as_json:
        out = eval_json(len(records), scores, errors, known)
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    click.echo(f"{len(records)} labelled items from {file}")
    click.echo(
        f"{'rule':<28} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>9} {'recall':>7} {'F1':>5}"
    )
    for rule_id, s in sorted(scores.items()):
        note = "" if rule_id in known else "  (no such rule)"
        click.echo(
            f"{rule_id:<28} {s.tp:>4} {s.fp:>4} {s.fn:>4} {_fmt(s.precision):>9} "
            f"{_fmt(s.recall):>7} {_fmt(s.f1):>5}{note}"
        )
    if show_errors:
        for rule_id, kind, rec in errors:
            what = "false positive" if kind == "fp" else "false negative"
            click.echo(f"{rule_id} {what}: {rec.item.id} [{rec.item.lang or '?'}] {rec.item.title}")


def _feedback_records(db_path: Path) -> list[Record]:
    """The archive's Slack feedback as labelled items (a malformed row is left out)."""
    from monitor.store.db import open_db
    from monitor.store.feedback import labelled_rows

    db = open_db(db_path, readonly=True)
    rows = enumerate(labelled_rows(db), 1)
    maybe = [record_of(row, str(db_path), n, True, []) for n, row in rows]
    db.close()
    return [r for r in maybe if r is not None]


# --- explain / backtest --------------------------------------------------------------------------


def _tree(expl: Explanation, label: str) -> Tree:
    tree = Tree(label)

    def add(node: Explanation, parent: Tree) -> None:
        mark = "[green]✓[/]" if node.value else "[red]✗[/]"
        text = f"{mark} {escape(node.label)}"
        if node.found:
            text += "  [dim]found:[/] " + escape(", ".join(node.found))
        branch = parent.add(text)
        for child in node.children:
            add(child, branch)

    add(expl, tree)
    return tree


def _highlighted(text: str, hits: tuple[Hit, ...], field: str) -> Text:
    out = Text()
    for piece, lit in segments(text, hits, field):
        out.append(piece, style="bold yellow" if lit else "")
    return out


@rules_group.command("explain")
@click.argument("rule_id", metavar="RULE")
@click.argument("item_id")
@click.pass_context
def explain_cmd(ctx: click.Context, rule_id: str, item_id: str) -> None:
    """Why an archived item did or did not match a rule: each clause, terms found, snippet.

    \b
    Example:
      monitor rules explain jkus-trilateral 3f9a2c1d0b7e4a55
    """
    from monitor.store.archive import find_item
    from monitor.store.db import open_db
    from monitor.store.matches import item_with_feed, matches_for_item

    book = _book(ctx)
    rule = book.get(rule_id)
    db = open_db(app(ctx).db_path, readonly=True)
    found = item_with_feed(db, str(find_item(db, item_id).item["id"]))
    assert found is not None  # find_item raised otherwise
    item, row = found
    feed = feed_from_row(row)
    result = explain_rule(book.matcher, rule.id, item, feed)
    console = Console(highlight=False)
    o = result.outcome
    verdict = "[green]matches[/]" if o.matched else "[red]does not match[/]"
    console.print(f"[bold]{escape(rule.id)}[/] {verdict} item {escape(item.id)}", end="")
    console.print(f" (score {o.score:g})" if o.result.matched else "")
    if o.result.matched:
        console.print(
            Text("  score = " + _score_parts(o.result, item.summary, rule.weight, o.score))
        )
        if feed is not None:
            w = feed_weight(feed.kind, feed.weight)
            console.print(
                Text(f"  in digests × feed weight {w:g} ({feed.kind}) × coverage (outlets)")
            )
    for reason in result.reasons:
        console.print(f"  because {escape(reason)}")
    if o.result.matched:
        words = why_text(o.result.hits, item.title, item.summary or "", most=50)
        console.print(f"[dim]found:[/] {escape(words)}")
    console.print(_tree(result.query, "[bold]query[/]"))
    if result.exclude is not None:
        console.print(_tree(result.exclude, "[bold]exclude[/]"))
    _print_item(console, item, feed, o.result.hits)
    stored = [m for m in matches_for_item(db, item.id) if m.rule_id == rule.id]
    if stored:
        m = stored[0]
        same = "same as now" if m.rule_version == rule.version else f"now {rule.version}"
        console.print(
            f"[dim]stored match:[/] score {m.score:g}, rule version {m.rule_version} ({same})"
        )
    else:
        console.print("[dim]stored match: none[/]")


def _print_item(
    console: Console, item: Item, feed: FeedSource | None, hits: tuple[Hit, ...]
) -> None:
    """The item's feed and language, then its texts with the hits highlighted."""
    source = (
        f"{feed.name} ({feed.kind}, {feed.country or '-'}, {feed.lang or '-'})" if feed else "?"
    )
    console.print(f"[dim]feed:[/] {escape(source)}  [dim]lang:[/] {escape(item.lang or '-')}")
    console.print(Text("title:   ", style="dim") + _highlighted(item.title, hits, "title"))
    if item.summary:
        console.print(Text("summary: ", style="dim") + _highlighted(item.summary, hits, "summary"))
    if any(h.field == "body" for h in hits):  # found in the article text: where
        text, inside = window(item.body, hits, "body")
        console.print(Text("body:    ", style="dim") + _highlighted(text, inside, "body"))
    elif item.body:
        console.print(f"[dim]body:[/]    {len(item.body):,} characters of article text, no hit")


def _score_parts(result: Any, summary: str, weight: float, total: float) -> str:
    """The score's parts (rules/termweights.py): title, lead, saturated rest, NEAR, weight."""
    rank = {"title": 0, "summary": 1, "body": 2}
    hits = [(rank.get(h.field, 2), h.start, h.term) for h in result.hits]
    parts = describe(hits, lead_end(summary), result.score, 1.0)
    return parts + (f", × rule weight {weight:g}" if weight != 1 else "") + f" = {total:g}"


@rules_group.command("backtest")
@click.argument("rule_id", metavar="[RULE]", required=False)
@click.option(
    "--since",
    type=TimeSpec(),
    default="90d",
    show_default=True,
    help="Items published at or after (90d, 12h, 2026-06-01).",
)
@click.option("--show", "show", default=5, show_default=True, help="Items listed per change.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def backtest_cmd(
    ctx: click.Context, rule_id: str | None, since: datetime, show: int, as_json: bool
) -> None:
    """Run the rules as they are now over the archive: items gained and lost per rule.

    Compares with the stored matches; writes nothing. Use it before committing an edit.

    \b
    Example:
      monitor rules backtest
      monitor rules backtest critical-minerals --since 30d --show 20
    """
    from monitor.cli.window_hint import empty_window_hint
    from monitor.store.db import open_db
    from monitor.store.items import latest_items
    from monitor.store.matches import items_since, stored_pairs

    book = _book(ctx)
    rules = [book.get(rule_id)] if rule_id else list(book.rules)
    wanted = {r.id for r in rules}
    db = open_db(app(ctx).db_path, readonly=True)
    stored = stored_pairs(db, since, sorted(wanted))
    pairs = ((item, feed_from_row(row)) for item, row in items_since(db, since))
    found = rematch(book.matcher, pairs, wanted)
    scanned, titles = found.scanned, found.titles
    report = backtest_report(rules, stored, found.now, _judged(db, wanted))
    newest = [i.published for i in latest_items(db, limit=1)] if scanned == 0 else []
    hint = empty_window_hint(newest[0] if newest else None, since) if scanned == 0 else None
    if as_json:
        out = {"items": scanned, "since": since.isoformat(), "rules": report}
        click.echo(json.dumps(out | ({"hint": hint} if hint else {})))
        return
    click.echo(f"{scanned} archived items since {since:%Y-%m-%d %H:%M} UTC")
    if hint:
        click.echo(hint)
    for entry in report:
        click.echo(
            f"{entry['rule']}: stored {entry['stored']}, now {entry['now']}, "
            f"+{len(entry['gained'])} gained, -{len(entry['lost'])} lost"
        )
        for sign, key in (("+", "gained"), ("-", "lost")):
            ids = entry[key]
            for item_id in ids[:show]:
                note = entry["labelled"].get(item_id)
                tail = f"  ({note})" if note else ""
                click.echo(f"  {sign} {item_id} {titles.get(item_id, '')}{tail}")
            if len(ids) > show:
                click.echo(f"  {sign} … and {len(ids) - show} more (--show {len(ids)})")


def _judged(db: Any, rule_ids: set[str]) -> dict[str, dict[str, str]]:
    """Readers' latest labels of these rules' items, in words (none before feedback existed)."""
    from monitor.store.feedback import verdicts

    if "feedback" not in db.table_names():  # an archive from before feedback existed
        return {}
    return judged_notes(verdicts(db, rule_ids))


# `rules suggest` is in suggest.py; monitor.cli adds it to rules_group.
commands: list[click.Command] = [rules_group]
