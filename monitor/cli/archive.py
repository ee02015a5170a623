"""Archive commands: search, export (show: show.py; stats and prune: stats.py; serve: serve.py)."""

from __future__ import annotations

import csv
import itertools
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from monitor.cli.common import AppContext, app, open_archive
from monitor.cli.options import TimeSpec
from monitor.cli.searchhints import check_country, describe_total, lowercase_operator_hint
from monitor.errors import MonitorError
from monitor.model import FEED_KINDS

if TYPE_CHECKING:  # the search stack (rules compiler, store) is imported by the commands
    # themselves, so `monitor search --help` and `monitor export --help` print at once
    from monitor.rules.ast import Node
    from monitor.store.candidates import Confirmer, Filters
    from monitor.store.ftsquery import Lists
    from monitor.store.search import Found, Span

F = TypeVar("F", bound=Callable[..., Any])


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
            type=click.Choice(FEED_KINDS),
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


def _filters(db: Any, ctx: AppContext, opts: dict[str, Any]) -> Filters:
    from monitor.archive_search import make_filters

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
def search(ctx: click.Context, /, query: str, limit: int, sort: str, fmt: str, **opts: Any) -> None:
    """Search the archive with the rule language (docs/rules.md).

    The same query as a rule finds the same items: the full-text index proposes
    candidates and the rule matcher confirms each one.

    \b
    Example:
      monitor search '"critical minerals" AND (Japan OR Korea)' --since 30d
      monitor search 'gallium OR germanium' --country CN --sort relevance
      monitor search '日本 AND 韓国' --lang ja --format json
    """
    from monitor.archive_search import compile_search
    from monitor.store import search as store_search

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


def _print_table(found: list[Found], query: str, total: int, limit: int) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from monitor.rules.explain import window

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
        text, spans = window(f.summary, summary_spans, "summary", 200, full=True, one_line=False)
        if text:
            cell.append("\n")
            cell.append(_highlighted(text, spans, Text, "dim"))
        body_spans = [s for s in f.hits if s.field == "body"]
        if body_spans:  # found in the article text: show where
            text, spans = window(f.body, body_spans, "body", 200, full=True)
            cell.append("\narticle: ", style="dim")
            cell.append(_highlighted(text, spans, Text, "dim"))
        cell.append(f"\n{f.id}  {f.url}", style="cyan")
        table.add_row(
            f.published[:16].replace("T", " "), Text(f.feed_id), cell, Text("\n".join(f.rules))
        )
    console.print(table)
    console.print(describe_total(len(found), total))


def _highlighted(text: str, spans: Sequence[Span], text_cls: Any, style: str) -> Any:
    t = text_cls(text, style=style)
    for s in spans:
        t.stylize("bold reverse yellow", s.start, s.end)
    return t


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
    /,
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
    from monitor.archive_search import compile_search
    from monitor.store import export as store_export

    actx = app(ctx)
    db = open_archive(actx)
    node: Node | None = None
    confirm: Confirmer | None = None
    lists: Lists | None = None
    if query:
        node, confirm, lists = compile_search(query, actx.rules_path)
    filters = _filters(db, actx, opts)
    rows = store_export.export_rows(db, node, confirm, filters, lists=lists, with_body=with_body)
    fields = store_export.EXPORT_FIELDS + (("body",) if with_body else ())
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
    from monitor.store import export as store_export

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
        for count, record in enumerate(store_export.export_dicts(rows, fields), 1):  # noqa: B007
            out.write(dumps(record, ensure_ascii=False) + "\n")
        return count
    out.write("[")
    for count, record in enumerate(store_export.export_dicts(rows, fields), 1):
        out.write(("\n" if count == 1 else ",\n") + dumps(record, ensure_ascii=False))
    out.write("\n]\n" if count else "]\n")
    return count


commands: list[click.Command] = [search, export]
