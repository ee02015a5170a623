"""`monitor feeds import` / `monitor feeds export`: move subscriptions in and out as OPML."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import click

from monitor.cli.common import app
from monitor.config.feeds import load_feeds, slug_from_url, validate_feeds
from monitor.config.opml import (
    Outline,
    append_entries,
    list_indent,
    read_opml,
    to_opml,
    yaml_entries,
)
from monitor.config.yamlsrc import load_yaml_text
from monitor.errors import ConfigError, Problem
from monitor.store.db import open_db


@click.command("import")
@click.argument("opml_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Print what would be added; change nothing.")
@click.pass_context
def import_command(ctx: click.Context, opml_file: Path, dry_run: bool) -> None:
    """Add the feeds of an OPML file (from Feedly, Inoreader, Miniflux, …) to the feeds file.

    Each outline with an xmlUrl becomes a feed: its title the name, its category and
    folders the tags. URLs already in the feeds file are skipped. The new entries are
    appended to the feeds: list as readable YAML; everything already there, comments
    included, stays as it was. A broken OPML file is reported as FILE:LINE (exit 2) and
    the feeds file is not touched.

    \b
    Example:
      monitor feeds import subscriptions.opml --dry-run
      monitor feeds import subscriptions.opml
    """
    feeds_path = app(ctx).feeds_path
    outlines = read_opml(opml_file)
    text = feeds_path.read_text(encoding="utf-8") if feeds_path.exists() else ""
    known = load_feeds(feeds_path).feeds if _has_feeds(text, feeds_path) else ()
    urls = {f.url for f in known}
    ids = {f.id for f in known}
    new: list[Outline] = []
    skipped = 0
    explicit: dict[str, str] = {}
    for o in outlines:
        if o.url in urls:
            skipped += 1
            continue
        urls.add(o.url)
        slug = slug_from_url(o.url)
        if slug in ids:  # the derived id is taken: write one that is not
            n = 2
            while f"{slug}-{n}" in ids:
                n += 1
            slug = explicit[o.url] = f"{slug}-{n}"
        ids.add(slug)
        new.append(o)
    entries = yaml_entries(new, explicit, list_indent(text)) if new else ""
    updated = append_entries(text, entries) if new else text
    if new:
        # The result must load: a feed the validator refuses (an ftp:// URL, say) is
        # reported against the OPML line before anything is written.
        _check(updated, feeds_path, opml_file, new)
    verb = "would add" if dry_run else "added"
    for o in new:
        click.echo(f"{verb} {o.url}" + (f"  ({o.title})" if o.title else ""))
    click.echo(
        f"{len(new)} feed{'s' if len(new) != 1 else ''} {verb}, {skipped} already present"
        + (f" (in {feeds_path})" if new and not dry_run else "")
    )
    if new and not dry_run:
        tmp = feeds_path.with_name(feeds_path.name + ".import-tmp")
        tmp.write_text(updated, encoding="utf-8")
        os.replace(tmp, feeds_path)


def _has_feeds(text: str, feeds_path: Path) -> bool:
    """False for a new or empty file, or one whose ``feeds:`` list is still empty; any
    other problem is left to load_feeds to report."""
    if not text.strip():
        return False
    doc = load_yaml_text(text, str(feeds_path))
    return not (isinstance(doc, dict) and not doc.get("feeds"))


def _check(text: str, feeds_path: Path, opml_file: Path, new: list[Outline]) -> None:
    """Validate the would-be feeds file; a problem in an appended entry is reported at
    the OPML outline it came from."""
    try:
        validate_feeds(load_yaml_text(text, str(feeds_path)), feeds_path)
    except ConfigError as exc:
        total = text.count("\n")
        starts = [text.rfind(f"- url: {_quoted(o.url)}") for o in new]
        first = [text.count("\n", 0, at) + 1 for at in starts]
        problems = []
        for p in exc.problems:
            owner = max((k for k, line in enumerate(first) if line <= p.line), default=None)
            if owner is not None and p.line <= total:
                problems.append(Problem(str(opml_file), new[owner].line, p.message, p.hint))
            else:
                problems.append(p)
        raise ConfigError(problems) from None


def _quoted(url: str) -> str:
    return json.dumps(url, ensure_ascii=False)


@click.command("export")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write to FILE."
)
@click.pass_context
def export_command(ctx: click.Context, output: Path | None) -> None:
    """Write every configured feed as OPML 2.0, for other feed readers to import.

    A feed configured without a name gets the title learned from the feed (if the archive
    has polled it), else its id.

    \b
    Example:
      monitor feeds export -o feeds.opml
      monitor feeds export > feeds.opml
    """
    actx = app(ctx)
    feeds = load_feeds(actx.feeds_path).feeds
    learned = _learned_names(actx.db_path) if any(not f.name for f in feeds) else {}
    text = to_opml(tuple(replace(f, name=f.name or learned.get(f.id, "")) for f in feeds))
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


def _learned_names(db_path: Path) -> dict[str, str]:
    """Names learned from the feeds' own titles, for feeds configured by URL alone."""
    if not db_path.exists():
        return {}
    db = open_db(db_path, readonly=True)
    try:
        return {str(r[0]): str(r[1]) for r in db.execute("SELECT id, name FROM feeds") if r[1]}
    finally:
        db.close()


# sub-commands of `monitor feeds`: monitor.cli adds them to that group
commands: list[click.Command] = [import_command, export_command]
