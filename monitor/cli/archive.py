"""Archive commands: search, show, export (stats and prune: stats.py; serve: serve.py)."""

from __future__ import annotations

import csv
import itertools
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from monitor.archive_search import compile_search, make_filters
from monitor.cli.common import AppContext, app, open_archive
from monitor.cli.options import TimeSpec
from monitor.cli.searchhints import check_country, describe_total, lowercase_operator_hint
from monitor.errors import MonitorError
from monitor.rules.ast import Node
from monitor.store import archive as store_archive
from monitor.store import search as store_search
from monitor.store.ftsquery import Lists

F = TypeVar("F", bound=Callable[..., Any])

KINDS = ("news", "government", "search")


def filter_options(f: F) -> F:
    """The filters shared, flag for flag, by search and export."""
    options = [
        click.option(
            "--since", type=TimeSpec(), help="Published at or after (30d, 12h, 2026-06-01)."
        ),
        click.option("--until", type=TimeSpec(), help="Published before (a date or 7d)."),
        click.option(
            "--rule", "rules", multiple=True, help="Only items this rule matched (repeatable)."
        ),
        click.option(
            "--feed", "feeds", multiple=True, help="Only items from this feed id (repeatable)."
        ),
        click.option(
            "--kind",
            "kinds",
            multiple=True,
            type=click.Choice(KINDS),
            help="Feed kind (repeatable).",
        ),
        click.option(
            "--country", "countries", multiple=True, help="Feed country code, e.g. KR (repeatable)."
        ),
        click.option("--lang", "langs", multiple=True, help="Item language, e.g. ja (repeatable)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _filters(db: Any, ctx: AppContext, opts: dict[str, Any]) -> store_search.Filters:
    for country in opts["countries"]:
        check_country(db, country)
    return make_filters(
        db,
        ctx.rules_path,
        since=opts["since"],
        until=opts["until"],
        rules=opts["rules"],
        feeds=opts["feeds"],
        kinds=opts["kinds"],
        countries=opts["countries"],
        langs=opts["langs"],
    )


# --- search -----------------------------------------------------------------------------


@click.command()
@click.argument("query")
@filter_options
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--sort", type=click.Choice(["newest", "relevance"]), default="newest", show_default=True
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "ndjson"]),
    default="table",
    show_default=True,
)
@click.pass_context
def search(ctx: click.Context, query: str, limit: int, sort: str, fmt: str, **opts: Any) -> None:
    """Search the archive with the rule language (docs/rules.md).

    The same query as a rule finds the same items: the full-text index proposes
    candidates and the rule matcher confirms each one.

    \b
    Example:
      monitor search '"critical minerals" AND (Japan OR Korea)' --since 30d
      monitor search 'gallium OR germanium' --country CN --sort relevance
      monitor search '日本 AND 韓国' --lang ja --format json
    """
    actx = app(ctx)
    db = open_archive(actx)
    node, confirm, lists = compile_search(query, actx.rules_path)
    filters = _filters(db, actx, opts)
    found = store_search.search(
        db,
        node,
        confirm,
        filters,
        limit=limit,
        sort="relevance" if sort == "relevance" else "newest",
        lists=lists,
    )
    total = len(found)
    if fmt == "table" and len(found) == limit:  # say how many more, so 20 is not taken for all
        from monitor.store.counting import count_matches

        total = count_matches(db, node, confirm, filters, lists=lists)
    out = sys.stdout
    if fmt == "json":
        json.dump([f.as_json() for f in found], out, ensure_ascii=False, indent=2)
        out.write("\n")
    elif fmt == "ndjson":
        for f in found:
            out.write(json.dumps(f.as_json(), ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(["id", "feed", "published", "title", "url", "rules"])
        for f in found:
            writer.writerow([f.id, f.feed_id, f.published, f.title, f.url, " ".join(f.rules)])
    else:
        _print_table(found, query, total, limit)
    if not found and (hint := lowercase_operator_hint(query)):
        sys.stdout.flush()
        click.echo(f"Hint: {hint}", err=True)


def _print_table(found: list[store_search.Found], query: str, total: int, limit: int) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    if not found:
        console.print(Text(f"No items match {query}."))
        return
    table = Table(show_lines=True)
    table.add_column("published", no_wrap=True)
    table.add_column("feed")
    table.add_column("item")
    table.add_column("rules")
    for f in found:
        cell = _highlighted(f.title, [s for s in f.hits if s.field == "title"], Text, "bold")
        summary_spans = [s for s in f.hits if s.field == "summary"]
        text, spans = store_search.snippet(f.summary, summary_spans, 200)
        if text:
            cell.append("\n")
            cell.append(_highlighted(text, spans, Text, "dim"))
        body_spans = [s for s in f.hits if s.field == "body"]
        if body_spans:  # found in the article text: show where
            text, spans = store_search.snippet(f.body, body_spans, 200)
            cell.append("\narticle: ", style="dim")
            cell.append(_highlighted(text.replace("\n", " "), spans, Text, "dim"))
        cell.append(f"\n{f.id}  {f.url}", style="cyan")
        table.add_row(
            f.published[:16].replace("T", " "), Text(f.feed_id), cell, Text("\n".join(f.rules))
        )
    console.print(table)
    console.print(describe_total(len(found), total))


def _highlighted(text: str, spans: list[store_search.Span], text_cls: Any, style: str) -> Any:
    t = text_cls(text, style=style)
    for s in spans:
        t.stylize("bold reverse yellow", s.start, s.end)
    return t


# --- show -------------------------------------------------------------------------------


@click.command()
@click.argument("item_id")
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
@click.pass_context
def show(ctx: click.Context, item_id: str, as_json: bool) -> None:
    """Show one stored item: its feed, every rule it matched (with hits), where it was sent.

    \b
    Example:
      monitor show 3f2a9c1e5b7d4a60
      monitor show 3f2a9c1e --json
    """
    db = open_archive(app(ctx))
    record = store_archive.find_item(db, item_id)
    if as_json:
        payload = {
            "item": {
                **record.item,
                "enclosures": _enclosures(record.item),
                "body_status_text": _body_words(record.item),
            },
            "feed": {
                k: record.feed.get(k) for k in ("id", "name", "url", "kind", "country", "lang")
            },
            "matches": record.matches,
            "deliveries": record.deliveries,
        }
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    item, feed = record.item, record.feed
    lines = [
        f"{item['title']}",
        f"  id         {item['id']}",
        f"  url        {item['url']}",
        f"  feed       {feed.get('name') or item['feed_id']} ({item['feed_id']},"
        f" {feed.get('kind', '')}, {feed.get('country') or '-'})",
        f"  published  {item['published']}   first seen {item['first_seen']}",
        f"  lang       {item.get('lang') or feed.get('lang') or '-'}"
        f"   revision {item.get('revision', 0)}",
    ]
    if item.get("date_raw"):
        lines.append(f"  date       {item['date_raw']!r} as the feed wrote it (unreadable)")
    for enc in _enclosures(item):
        size = f", {enc['length']} bytes" if enc.get("length") else ""
        lines.append(f"  enclosure  {enc['url']} ({enc.get('type') or 'type unknown'}{size})")
    lines.append(f"  article    {_body_words(item)}")
    if item.get("summary"):
        lines += ["", f"  {item['summary']}"]
    if item.get("body"):
        lines += [
            "",
            f"  Article text ({len(item['body']):,} characters):",
            f"  {_lead(item['body'])}",
        ]
    lines += ["", "Matched rules:" if record.matches else "Matched rules: none"]
    for m in record.matches:
        terms = ", ".join(
            f"{h.get('term')}{' in ' + str(h['list']) if h.get('list') else ''}"
            f" ({h.get('field')} {h.get('start')}-{h.get('end')})"
            for h in m["hits"]
        )
        lines.append(
            f"  {m['rule_id']}  score {m['score']:g}  version {m['rule_version']}"
            f"  at {m['matched_at']}"
        )
        if terms:
            lines.append(f"    hits: {terms}")
        body_hits = [h for h in m["hits"] if h.get("field") == "body"]
        if body_hits and item.get("body"):
            lines.append(f"    in the article: {_body_snippet(item['body'], body_hits)}")
    lines += ["", "Sent in:" if record.deliveries else "Sent in: not delivered"]
    for d in record.deliveries:
        when = d.get("sent_at") or d.get("created_at") or ""
        lines.append(
            f"  {d.get('kind', '')} {d.get('name', '')} → {d.get('channel', '')}"
            f"  {d.get('state', '')}  {when}  (rule {d.get('rule_id', '-')})"
        )
    click.echo("\n".join(lines))


def _enclosures(item: dict[str, Any]) -> list[dict[str, Any]]:
    raw = item.get("enclosures")
    return list(json.loads(raw)) if isinstance(raw, str) and raw else []


def _body_words(item: dict[str, Any]) -> str:
    from monitor.store.bodies import describe_status

    return describe_status(
        item.get("body_status"), int(item.get("body_attempts") or 0), item.get("body_error")
    )


def _lead(body: str, width: int = 300) -> str:
    text = " ".join(body.split())
    return text if len(text) <= width else text[:width].rstrip() + "…"


def _body_snippet(body: str, hits: list[dict[str, Any]]) -> str:
    from monitor.model import Hit
    from monitor.rules.explain import snippet

    spans = [Hit(str(h["term"]), "body", int(h["start"]), int(h["end"])) for h in hits]
    return " ".join(snippet(body, spans, "body", 200).split())


# --- export -----------------------------------------------------------------------------


@click.command()
@click.argument("query", required=False)
@filter_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "ndjson"]),
    default="csv",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to FILE instead of standard output.",
)
@click.option(
    "--with-body",
    is_flag=True,
    help="Add a body column: the article text of items of full-text feeds (up to 100 KB).",
)
@click.pass_context
def export(
    ctx: click.Context,
    query: str | None,
    fmt: str,
    output: Path | None,
    with_body: bool,
    **opts: Any,
) -> None:
    """Export items as rows, one per item and matched rule (streamed, constant memory).

    QUERY is optional: without it every item passing the filters is exported.
    Columns: item_id, feed, kind, country, lang, published, title, url, summary,
    rule, score, terms, rule_version, matched_at (and body with --with-body).

    \b
    Example:
      monitor export --rule critical-minerals --since 7d -o minerals.csv
      monitor export 'lithium OR nickel' --country AU --format ndjson
      monitor export 'body:(gallium)' --with-body --format json
    """
    actx = app(ctx)
    db = open_archive(actx)
    node: Node | None = None
    confirm: store_search.Confirmer | None = None
    lists: Lists | None = None
    if query:
        node, confirm, lists = compile_search(query, actx.rules_path)
    filters = _filters(db, actx, opts)
    rows = store_search.export_rows(db, node, confirm, filters, lists=lists, with_body=with_body)
    fields = store_search.EXPORT_FIELDS + (("body",) if with_body else ())
    try:
        stream: IO[str] = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    except OSError as exc:
        raise MonitorError(f"cannot write {output}: {exc.strerror}") from None
    try:
        count = _write_rows(_with_progress(rows), stream, fmt, fields)
    finally:
        if output:
            stream.close()
    if output:
        click.echo(f"Exported {count} row{'s' if count != 1 else ''} to {output}", err=True)


def _with_progress(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """Count rows on stderr when it is a terminal; otherwise hand the rows on untouched."""
    if not sys.stderr.isatty():
        return rows
    return _progress(rows)


def _progress(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("exporting {task.completed:,} rows"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task("export", total=None)
        for n, row in enumerate(rows, 1):
            if n % 1000 == 0:
                progress.update(task, completed=n)
            yield row


def _write_rows(
    rows: Iterator[tuple[Any, ...]], out: IO[str], fmt: str, fields: tuple[str, ...]
) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(fields)
        # writerows in batches: the loop runs in C, and the batch length gives the count.
        while batch := list(itertools.islice(rows, 2000)):
            writer.writerows(batch)
            count += len(batch)
        return count
    dumps = json.dumps
    if fmt == "ndjson":
        for count, record in enumerate(store_search.export_dicts(rows, fields), 1):  # noqa: B007
            out.write(dumps(record, ensure_ascii=False) + "\n")
        return count
    out.write("[")
    for count, record in enumerate(store_search.export_dicts(rows, fields), 1):  # noqa: B007
        out.write(("\n" if count == 1 else ",\n") + dumps(record, ensure_ascii=False))
    out.write("\n]\n" if count else "]\n")
    return count


commands: list[click.Command] = [search, show, export]
