"""`monitor rules check|test|explain|backtest|eval|suggest` and `monitor match`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.text import Text
from rich.tree import Tree

from monitor.cli.archive import TimeSpec
from monitor.cli.common import EXIT_CHECK_FAILED, app
from monitor.config.rules import RuleBook, load_rules
from monitor.errors import ConfigError, FetchError, MonitorError, Problem
from monitor.model import FeedSource, Hit, Item, Match, Rule, feed_weight
from monitor.rules import scoring
from monitor.rules.evaluate import Explanation
from monitor.rules.explain import describe as describe_clause
from monitor.rules.explain import explain_rule, segments, window
from monitor.rules.scoring import Record, Score
from monitor.rules.termweights import describe, lead_end
from monitor.rules.why import hit_dict, why_text
from monitor.store.matches import feed_from_row


def _book(ctx: click.Context) -> RuleBook:
    return load_rules(app(ctx).rules_path)


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


# --- JSON Lines input ---------------------------------------------------------------------------


def read_jsonl(path: Path, *, need_labels: bool = False) -> list[Record]:
    """Items from a JSON Lines file; every bad line is reported (ConfigError, exit 2)."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(name, 0, "file not found", "check the path")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(name, 0, f"cannot read: {exc}")]) from None
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
        record = _record(data, name, number, need_labels, problems)
        if record:
            records.append(record)
    if problems:
        raise ConfigError(problems)
    return records


def _record(
    data: dict[str, Any], name: str, number: int, need_labels: bool, problems: list[Problem]
) -> Record | None:
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


def evaluate(
    book: RuleBook, records: list[Record]
) -> tuple[dict[str, Score], list[tuple[str, str, Record]]]:
    """Per-rule counts and the errors as (rule id, "fp" | "fn", record)."""
    return scoring.evaluate(
        [r.id for r in book.rules],
        lambda item: {m.rule_id for m in book.matcher.match(item)},
        records,
    )


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
        from monitor.store.db import open_db
        from monitor.store.feedback import labelled_rows

        file = app(ctx).db_path
        db = open_db(file, readonly=True)
        maybe = [_record(row, str(file), n, True, []) for n, row in enumerate(labelled_rows(db), 1)]
        db.close()
        records = [r for r in maybe if r is not None]
    else:
        records = read_jsonl(file, need_labels=True)
    scores, errors = evaluate(book, records)
    known = {r.id for r in book.rules}
    if as_json:
        out = {
            "items": len(records),
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
    source = (
        f"{feed.name} ({feed.kind}, {feed.country or '-'}, {feed.lang or '-'})" if feed else "?"
    )
    console.print(f"[dim]feed:[/] {escape(source)}  [dim]lang:[/] {escape(item.lang or '-')}")
    hits = o.result.hits
    console.print(Text("title:   ", style="dim") + _highlighted(item.title, hits, "title"))
    if item.summary:
        console.print(Text("summary: ", style="dim") + _highlighted(item.summary, hits, "summary"))
    if any(h.field == "body" for h in hits):  # found in the article text: where
        text, inside = window(item.body, hits, "body")
        console.print(Text("body:    ", style="dim") + _highlighted(text, inside, "body"))
    elif item.body:
        console.print(f"[dim]body:[/]    {len(item.body):,} characters of article text, no hit")
    stored = [m for m in matches_for_item(db, item.id) if m.rule_id == rule.id]
    if stored:
        m = stored[0]
        same = "same as now" if m.rule_version == rule.version else f"now {rule.version}"
        console.print(
            f"[dim]stored match:[/] score {m.score:g}, rule version {m.rule_version} ({same})"
        )
    else:
        console.print("[dim]stored match: none[/]")


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
    now: dict[str, set[str]] = {r: set() for r in wanted}
    titles: dict[str, str] = {}
    scanned = 0
    for item, row in items_since(db, since):
        scanned += 1
        titles[item.id] = item.title
        for m in book.matcher.match(item, feed_from_row(row)):
            if m.rule_id in wanted:
                now[m.rule_id].add(item.id)
    judged = judged_notes(db, wanted)
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


def _labelled_first(ids: set[str], notes: dict[str, str]) -> list[str]:
    return sorted(ids, key=lambda i: (i not in notes, i))


def judged_notes(db: Any, rule_ids: set[str]) -> dict[str, dict[str, str]]:
    """rule id → item id → "marked relevant by @ana on 2026-12-01" (readers' latest labels)."""
    from monitor.store.feedback import verdicts

    if "feedback" not in db.table_names():  # an archive from before feedback existed
        return {}
    out: dict[str, dict[str, str]] = {}
    for v in verdicts(db, rule_ids):
        who = v.relevant if v.label == "relevant" else v.not_relevant
        names = ", ".join(f"@{name}" for name, _ in who[:3]) + (" …" if len(who) > 3 else "")
        when = max(t for _, t in who)[:10]
        label = "relevant" if v.label == "relevant" else "not relevant"
        out.setdefault(v.rule_id, {})[v.item_id] = f"marked {label} by {names} on {when}"
    return out


# --- match ----------------------------------------------------------------------------------------


def _items_from(source: str) -> Iterator[tuple[Item, FeedSource | None]]:
    if source.startswith(("http://", "https://")):
        yield from _items_from_url(source)
        return
    path = Path(source)
    if not path.is_file():
        raise MonitorError(
            f"{source}: no such file", "give a feed file, a .jsonl file of items, or an http(s) URL"
        )
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        for record in read_jsonl(path):
            yield record.item, None
        return
    yield from _items_from_feed(path.read_bytes(), {}, path.resolve().as_uri(), path.stem)


def _synthetic_feed(feed_id: str, url: str, lang: str | None) -> FeedSource:
    return FeedSource(
        id=feed_id, name=feed_id, url=url, kind="news", country="", lang=lang or "", interval=900
    )


def _items_from_feed(
    body: bytes, headers: dict[str, str], url: str, feed_id: str
) -> Iterator[tuple[Item, FeedSource | None]]:
    from monitor.reader.normalize import normalize_entries
    from monitor.reader.parse import parse_feed

    parsed = parse_feed(body, headers, url)
    feed = _synthetic_feed(feed_id, url, parsed.lang)
    now = datetime.now(UTC).replace(microsecond=0)
    for item in normalize_entries(feed, parsed, now=now):
        yield item, feed


def _items_from_url(url: str) -> Iterator[tuple[Item, FeedSource | None]]:
    import asyncio

    from monitor.reader.fetch import Fetcher

    feed = _synthetic_feed("url", url, None)

    async def fetch() -> Any:
        async with Fetcher() as fetcher:
            return await fetcher.fetch(feed)

    try:
        result = asyncio.run(fetch())
    except FetchError as exc:  # say which URL: several INPUTs may be given
        raise MonitorError(f"{url}: {exc.message}", "check the URL in a browser") from exc
    yield from _items_from_feed(result.body or b"", result.headers, result.url, "url")


def _match_json(item: Item, matches: list[Match]) -> str:
    return json.dumps(
        {
            "id": item.id,
            "title": item.title,
            "url": item.url,
            "rules": [
                {
                    "id": m.rule_id,
                    "score": m.score,
                    "hits": [hit_dict(h) for h in m.hits],
                    "why": why_text(m.hits, item.title, item.summary or "", most=50),
                }
                for m in matches
            ],
        },
        ensure_ascii=False,
    )


@click.command("match")
@click.argument("inputs", metavar="INPUT...", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines, one item per line.")
@click.option("--all", "show_all", is_flag=True, help="Include items that matched no rule.")
@click.pass_context
def match_cmd(ctx: click.Context, inputs: tuple[str, ...], as_json: bool, show_all: bool) -> None:
    """Match feed files, URLs or JSON Lines items against the rules and print the results.

    INPUT is an RSS/Atom/RDF file, an http(s) URL of a feed, or a .jsonl file of items
    (fields id, title, summary, url, published, lang).

    \b
    Example:
      monitor match tests/data/feeds/mining-com_2026-08-20.xml
      monitor match examples/labelled.jsonl --json --all
      monitor match https://www.mofa.go.jp/rss/press.xml
    """
    book = _book(ctx)
    rules = {r.id: r for r in book.rules}
    shown = matched = 0
    for source in inputs:
        for item, feed in _items_from(source):
            matches = book.matcher.match(item, feed)
            matched += bool(matches)
            if not matches and not show_all:
                continue
            shown += 1
            if as_json:
                click.echo(_match_json(item, matches))
            else:
                _print_match(item, matches, rules)
    if not as_json:
        click.echo(f"{matched} item{'s' if matched != 1 else ''} matched")


def _print_match(item: Item, matches: list[Match], rules: dict[str, Rule]) -> None:
    click.echo(click.style(item.title or "(no title)", bold=True) + f"  [{item.id}]")
    if item.url:
        click.echo(f"  {item.url}")
    if not matches:
        click.echo("  no rule matched")
    for m in matches:
        terms = why_text(m.hits, item.title, item.summary or "", most=50)
        flag = " !" if rules[m.rule_id].priority == "high" else ""
        click.echo(f"  {m.rule_id}{flag} ({m.score:g}): {terms}")


def _add_suggest() -> None:
    from monitor.cli.suggest import suggest_cmd  # its own module: this one is long enough

    rules_group.add_command(suggest_cmd)


_add_suggest()

commands: list[click.Command] = [rules_group, match_cmd]
