"""Item identity (pure): the key an item's archive id is hashed from.

The fallback chain, first that applies:

1. ``guid`` — plus the link when the guid repeats in the feed with distinct links;
2. ``link`` — plus the title when the link repeats with distinct titles;
3. title and date.

Then, for entries whose key is still shared (a FeedBurner feed whose stories share guid
and link, items with only a description, a podcast repeating a guid), each gets a hash of
its content (title, summary, date, link) added, so no story is lost. Entries identical in
all of these merge, as they are the same story.

A story's id thus depends on whether its key is shared in the current poll. The store keeps
that from mattering (monitor/store/items.py): an item whose feed, guid and content are
already stored under another id is known, never new nor an edit of another row. So an old
archive's merged row (plain key) is recognised too.

Keys never depend on the time of the poll, so an unchanged feed gives the same ids each time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Facts:
    """What identity looks at for one entry (text already plain, URL canonical)."""

    guid: str | None
    url: str
    title: str
    summary: str
    dated: datetime | None


def identity_keys(facts: list[Facts]) -> list[str]:
    """One key per entry; equal keys mean the same story."""
    repeated = _repeated_keys(facts)
    keys = [_base_key(f, repeated) for f in facts]
    groups: dict[str, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    for key, members in groups.items():
        if len(members) < 2:
            continue
        if len({_content(facts[i]) for i in members}) < 2:
            continue  # identical in every field: one story
        for i in members:
            keys[i] = f"{key}\x1fcontent:{_content(facts[i])}"
    return keys


def _repeated_keys(facts: list[Facts]) -> set[str]:
    """Guids shared by entries with different links, and guid-less links shared by entries
    with different titles (a government index page linking several notices to one page)."""
    variants: dict[str, set[str]] = {}
    for f in facts:
        if f.guid:
            variants.setdefault(f"guid:{f.guid}", set()).add(f.url)
        elif f.url:
            variants.setdefault(f"link:{f.url}", set()).add(f.title)
    return {key for key, seen in variants.items() if len(seen) > 1}


def _base_key(f: Facts, repeated: set[str]) -> str:
    # These three forms are what archives made before content hashes hold: never change them.
    if f.guid:
        key = f"guid:{f.guid}"
        return f"{key}\x1f{f.url}" if key in repeated else key
    if f.url:
        key = f"link:{f.url}"
        return f"{key}\x1f{f.title}" if key in repeated else key
    # Never use "now" here: an undated item must keep its id from one poll to the next.
    return f"title:{f.title}\x1f{f.dated.isoformat() if f.dated else ''}"


def _content(f: Facts) -> str:
    dated = f.dated.isoformat() if f.dated else ""
    text = f"{f.title}\x1f{f.summary}\x1f{dated}\x1f{f.url}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
