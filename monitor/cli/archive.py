"""Archive commands: search, show, export, stats, prune, serve."""

from __future__ import annotations

import csv
import itertools
import json
import re
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from monitor.cli.common import EXIT_CHECK_FAILED, AppContext, app
from monitor.durations import parse_duration
from monitor.errors import MonitorError
from monitor.rules.ast import Node
from monitor.store import archive as store_archive
from monitor.store import search as store_search
from monitor.store.db import open_db, utcnow
from monitor.store.ftsquery import Lists

F = TypeVar("F", bound=Callable[..., Any])

KINDS = ("news", "government", "search")


class TimeSpec(click.ParamType):
    """``30d``, ``12h``, ``2w``, ``90m`` (before now) or a date/time (``2026-06-01``, UTC)."""

    name = "when"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        if text[:1].isdigit() and not text[-1:].isdigit():
            try:
                return utcnow() - parse_duration(text)
            except ValueError:
                pass  # not a duration: maybe a date such as 2026-06-01T00:00Z
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.fail(
                f"{text!r} is neither a duration like 30d, 12h or 2w nor a date like 2026-06-01",
                param,
                ctx,
            )
        return when if when.tzinfo else when.replace(tzinfo=UTC)


class Duration(click.ParamType):
    """``365d``, ``12w``: an age."""

    name = "age"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(str(value))
        except ValueError:
            self.fail(f"{value!r} is not an age like 365d, 12w or 48h", param, ctx)


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
    if opts["rules"]:
        known = store_archive.stored_rule_ids(db) | _rule_file_ids(ctx.rules_path)
        store_archive.check_known("rule", opts["rules"], known)
    if opts["feeds"]:
        store_archive.check_known("feed", opts["feeds"], store_archive.feed_ids(db))
    for country in opts["countries"]:
        _check_country(db, country)
    return store_search.Filters(
        since=opts["since"],
        until=opts["until"],
        rules=tuple(opts["rules"]),
        feeds=tuple(opts["feeds"]),
        kinds=tuple(opts["kinds"]),
        countries=tuple(opts["countries"]),
        langs=tuple(opts["langs"]),
    )


# Names analysts type for the project's countries; anything else gets the list of codes.
_COUNTRY_NAMES = {
    "JAPAN": "JP",
    "KOREA": "KR",
    "SOUTH KOREA": "KR",
    "NORTH KOREA": "KP",
    "CHINA": "CN",
    "TAIWAN": "TW",
    "AUSTRALIA": "AU",
    "USA": "US",
    "AMERICA": "US",
    "UNITED STATES": "US",
    "UK": "GB",
    "BRITAIN": "GB",
    "INDIA": "IN",
}


def _check_country(db: Any, value: str) -> None:
    """--country takes ISO 3166-1 alpha-2 codes (any case); a name or a typo is an error,
    not a filter that silently finds nothing."""
    from monitor.config.feeds import COUNTRIES, COUNTRY_ALIASES

    upper = value.strip().upper()
    if upper in COUNTRIES:
        return
    code = _COUNTRY_NAMES.get(upper) or COUNTRY_ALIASES.get(upper)
    stored = sorted({str(r[0]) for r in db.execute("SELECT DISTINCT country FROM feeds") if r[0]})
    if code:
        hint = f"did you mean {code!r}?"
    else:
        hint = "use an ISO 3166-1 alpha-2 code such as JP, KR, US or AU"
    if stored:
        hint += f" (countries in the archive: {', '.join(stored)})"
    raise MonitorError(f"--country {value!r} is not an ISO 3166-1 country code", hint)


def _rule_file_ids(rules_path: Path) -> set[str]:
    return {p.stem for p in rules_path.glob("*.yaml")} if rules_path.is_dir() else set()


def _has_list_ref(node: Node) -> bool:
    from monitor.rules.ast import ListRef

    if isinstance(node, ListRef):
        return True
    return any(
        _has_list_ref(getattr(node, name))
        for name in ("child", "left", "right")
        if hasattr(node, name)
    ) or any(_has_list_ref(c) for c in getattr(node, "children", ()))


def _compile(text: str, rules_path: Path) -> tuple[Node, store_search.Confirmer, Lists | None]:
    """Parse and compile a query exactly as a rule's query is (same errors, same matching)."""
    from monitor.rules.compile import compile_query
    from monitor.rules.parser import parse_query

    node = parse_query(text)
    lists: Lists | None = None
    if _has_list_ref(node):
        lists = _load_lists(rules_path)
    return node, compile_query(node, lists, query=text), lists


def _load_lists(rules_path: Path) -> Lists:
    from monitor.config.rules import load_rules  # type: ignore[import-not-found, unused-ignore]

    book = load_rules(rules_path)
    return dict(book.lists)


def _open(ctx: AppContext) -> Any:
    return open_db(ctx.db_path, readonly=True)


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
    db = _open(actx)
    node, confirm, lists = _compile(query, actx.rules_path)
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
    if len(found) == limit:  # there may be more: say how many, so nobody takes 20 for all
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
    if fmt != "table" and total > len(found):
        click.echo(f"{len(found)} of {_total(total)} items; --limit for more", err=True)
    if not found and (hint := _lowercase_operator_hint(query)):
        sys.stdout.flush()
        click.echo(f"Hint: {hint}", err=True)


def _total(total: int) -> str:
    from monitor.store.counting import COUNT_CAP

    return f"more than {COUNT_CAP - 1:,}" if total >= COUNT_CAP else f"{total:,}"


_OPERATOR_WORD = re.compile(r"(?<![\w@])(and|or|not)(?!\w)")


def _lowercase_operator_hint(query: str) -> str | None:
    """Lower-case and/or/not are words to find, not operators; say so when nothing matched."""
    unquoted = re.sub(r'"[^"]*"', " ", query)
    words = sorted({m.group(1) for m in _OPERATOR_WORD.finditer(unquoted)})
    if not words:
        return None
    listed = ", ".join(repr(w) for w in words)
    upper = " / ".join(w.upper() for w in words)
    return (
        f"{listed} in lower case {'is' if len(words) == 1 else 'are'} searched as"
        f" {'a word' if len(words) == 1 else 'words'}; write {upper} to combine terms"
    )


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
        cell.append(f"\n{f.id}  {f.url}", style="cyan")
        table.add_row(
            f.published[:16].replace("T", " "), Text(f.feed_id), cell, Text("\n".join(f.rules))
        )
    console.print(table)
    if total > len(found):
        console.print(
            f"{len(found)} of {_total(total)} items; --limit {min(total, 10_000)} for more"
        )
    else:
        console.print(f"{len(found)} item{'s' if len(found) != 1 else ''}")


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
    db = _open(app(ctx))
    record = store_archive.find_item(db, item_id)
    if as_json:
        payload = {
            "item": record.item,
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
    if item.get("summary"):
        lines += ["", f"  {item['summary']}"]
    lines += ["", "Matched rules:" if record.matches else "Matched rules: none"]
    for m in record.matches:
        terms = ", ".join(
            f"{h.get('term')} ({h.get('field')} {h.get('start')}-{h.get('end')})" for h in m["hits"]
        )
        lines.append(
            f"  {m['rule_id']}  score {m['score']:g}  version {m['rule_version']}"
            f"  at {m['matched_at']}"
        )
        if terms:
            lines.append(f"    hits: {terms}")
    lines += ["", "Sent in:" if record.deliveries else "Sent in: not delivered"]
    for d in record.deliveries:
        when = d.get("sent_at") or d.get("created_at") or ""
        lines.append(
            f"  {d.get('kind', '')} {d.get('name', '')} → {d.get('channel', '')}"
            f"  {d.get('state', '')}  {when}  (rule {d.get('rule_id', '-')})"
        )
    click.echo("\n".join(lines))


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
@click.pass_context
def export(
    ctx: click.Context, query: str | None, fmt: str, output: Path | None, **opts: Any
) -> None:
    """Export items as rows, one per item and matched rule (streamed, constant memory).

    QUERY is optional: without it every item passing the filters is exported.
    Columns: item_id, feed, kind, country, lang, published, title, url, summary,
    rule, score, terms, rule_version, matched_at.

    \b
    Example:
      monitor export --rule critical-minerals --since 7d -o minerals.csv
      monitor export 'lithium OR nickel' --country AU --format ndjson
    """
    actx = app(ctx)
    db = _open(actx)
    node: Node | None = None
    confirm: store_search.Confirmer | None = None
    lists: Lists | None = None
    if query:
        node, confirm, lists = _compile(query, actx.rules_path)
    filters = _filters(db, actx, opts)
    rows = store_search.export_rows(db, node, confirm, filters, lists=lists)
    try:
        stream: IO[str] = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    except OSError as exc:
        raise MonitorError(f"cannot write {output}: {exc.strerror}") from None
    try:
        count = _write_rows(_with_progress(rows), stream, fmt)
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


def _write_rows(rows: Iterator[tuple[Any, ...]], out: IO[str], fmt: str) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(store_search.EXPORT_FIELDS)
        # writerows in batches: the loop runs in C, and the batch length gives the count.
        while batch := list(itertools.islice(rows, 2000)):
            writer.writerows(batch)
            count += len(batch)
        return count
    dumps = json.dumps
    if fmt == "ndjson":
        for count, record in enumerate(store_search.export_dicts(rows), 1):  # noqa: B007
            out.write(dumps(record, ensure_ascii=False) + "\n")
        return count
    out.write("[")
    for count, record in enumerate(store_search.export_dicts(rows), 1):  # noqa: B007
        out.write(("\n" if count == 1 else ",\n") + dumps(record, ensure_ascii=False))
    out.write("\n]\n" if count else "]\n")
    return count


# --- stats ------------------------------------------------------------------------------


@click.command()
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 3660))
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_context
def stats(ctx: click.Context, days: int, as_json: bool) -> None:
    """Archive figures: items per feed, matches per rule, items per day, size on disk.

    \b
    Example:
      monitor stats
      monitor stats --days 30 --json
    """
    actx = app(ctx)
    db = _open(actx)
    s = store_archive.stats(db, actx.db_path, days=days)
    if as_json:
        click.echo(json.dumps(s.__dict__, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    console.print(
        f"{s.items:,} items, {s.matches:,} matches, {_size(s.size_bytes)} on disk"
        + (f"; published {s.oldest[:10]} to {s.newest[:10]}" if s.oldest and s.newest else "")
    )
    day_title = f"Per day, {s.first_day} to {s.last_day} (last {days} days, UTC)"
    for title, rows, cols in (
        ("Items per feed", s.per_feed, ("feed", "kind", "country", "items", "latest")),
        ("Matches per rule", s.per_rule, ("rule", "matches", "latest")),
        (day_title, s.per_day, ("day", "items", "matches")),
    ):
        console.print(Text(title, style="italic"))  # above, not Table(title=): never wrapped
        table = Table()
        for col in cols:
            table.add_column(col, justify="right" if col in ("items", "matches") else "left")
        for row in rows:
            # Text: feed and rule ids are user text, never rich markup
            table.add_row(*(Text(str(row.get(c) if row.get(c) is not None else "-")) for c in cols))
        console.print(table)
    if s.newest and s.newest[:10] < s.first_day:
        console.print(
            Text(
                f"No items in those {days} days: the newest was published {s.newest[:10]}"
                f" (monitor stats --days N looks further back)."
            )
        )


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


# --- prune ------------------------------------------------------------------------------


@click.command()
@click.option("--older-than", "older_than", required=True, type=Duration(), help="Age, e.g. 365d.")
@click.option("--dry-run", is_flag=True, help="Count what would go; change nothing.")
@click.option(
    "--include-matched",
    is_flag=True,
    help="Also delete items that matched a rule (not delivered ones).",
)
@click.pass_context
def prune(ctx: click.Context, older_than: timedelta, dry_run: bool, include_matched: bool) -> None:
    """Delete items published longer ago than --older-than, then VACUUM.

    Items that matched a rule are kept unless --include-matched; items that went
    out in a digest or alert are always kept.

    \b
    Example:
      monitor prune --older-than 365d --dry-run
      monitor prune --older-than 180d --include-matched
    """
    actx = app(ctx)
    if not actx.db_path.exists():
        raise MonitorError(f"no archive at {actx.db_path}", "pass --db or set MONITOR_DB")
    db = open_db(actx.db_path)
    report = store_archive.prune(
        db,
        actx.db_path,
        utcnow() - older_than,
        dry_run=dry_run,
        include_matched=include_matched,
    )
    verb = "Would delete" if dry_run else "Deleted"
    click.echo(
        f"{verb} {report.deleted:,} of {report.candidates:,} items published before"
        f" {report.cutoff}; kept {report.kept:,} matched or delivered."
    )
    if not dry_run and report.deleted:
        click.echo(f"Archive {_size(report.size_before)} → {_size(report.size_after)}.")


# --- serve ------------------------------------------------------------------------------


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535))
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Browse the archive in Datasette, read-only, with facets and saved queries.

    Needs the web extra: pip install '.[web]'. Binds to localhost unless --host says
    otherwise.

    \b
    Example:
      monitor serve
      monitor serve --port 8080
    """
    from monitor.web import datasette_command, remove_metadata, run_datasette, write_metadata

    actx = app(ctx)
    if not actx.db_path.exists():
        raise MonitorError(
            f"no archive at {actx.db_path}",
            "run `monitor poll --once` (or `make demo`) first, or pass --db",
        )
    open_db(actx.db_path, readonly=True).close()  # not an archive: one sentence, exit 2
    meta_path = write_metadata(actx.db_path)
    try:
        args = datasette_command(actx.db_path, host, port, meta_path)
        click.echo(
            f"Serving {actx.db_path} read-only at http://{host}:{port}/ (Ctrl-C stops)",
            err=True,
        )
        code = run_datasette(args)
    finally:
        remove_metadata(meta_path)
    if code not in (0, -2, -15):  # stopped by Ctrl-C or SIGTERM is a normal end
        sys.exit(code if code > 0 else EXIT_CHECK_FAILED)


commands: list[click.Command] = [search, show, export, stats, prune, serve]
