"""`monitor match`: feed files, URLs or JSON Lines items against the rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from monitor.cli.common import app
from monitor.cli.jsonl import read_jsonl
from monitor.config.rules import load_rules
from monitor.errors import FetchError, MonitorError
from monitor.model import FeedSource, Item, Match, Rule
from monitor.rules.why import hit_dict, why_text


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
    book = load_rules(app(ctx).rules_path)
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


commands: list[click.Command] = [match_cmd]
