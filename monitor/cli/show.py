"""`monitor show`: one stored item, with its feed, matches and deliveries."""

from __future__ import annotations

import json
from typing import Any

import click

from monitor.cli.common import app, open_archive
from monitor.store import archive as store_archive


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
        click.echo(json.dumps(_payload(record), ensure_ascii=False, indent=2))
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


def _payload(record: store_archive.ItemRecord) -> dict[str, Any]:
    """What `monitor show --json` prints."""
    return {
        "item": {
            **record.item,
            "enclosures": _enclosures(record.item),
            "body_status_text": _body_words(record.item),
        },
        "feed": {k: record.feed.get(k) for k in ("id", "name", "url", "kind", "country", "lang")},
        "matches": record.matches,
        "deliveries": record.deliveries,
    }


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


commands: list[click.Command] = [show]
