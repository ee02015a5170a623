"""Our reader against plain feedparser on one fixture: what differs, and whether that is allowed.

Used by tests/test_peer_feeds.py. Allowed differences are the documented improvements
(docs/configuration.md, "How feeds are read"): JSON Feed read (feedparser reads none),
an encoding repaired (more entries, or text instead of mojibake), a link made canonical
by ``feedburner:origLink`` or resolved against the item's own ``xml:base``, entries that
are identical in every field kept once.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser

from monitor.errors import ParseError
from monitor.model import FeedSource
from monitor.reader.normalize import canonical_url, normalize_entries, plain_text
from monitor.reader.parse import parse_feed

PEER = Path(__file__).parent / "data" / "peer-feeds"
URL = "https://peer.example/feed"
NOW = datetime(2026, 8, 22, 12, 0, tzinfo=UTC)
SOURCE = FeedSource(id="peer", name="Peer", url=URL, kind="news", country="", lang="", interval=900)
# UTF-8 read as cp1252/latin-1: a lead byte rendered as Ã/Â/â/ã followed by a continuation.
MOJIBAKE = re.compile("[ÃÂâãìíëÐÑ][\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]")
_HEADER = re.compile(rb"^Header:\s*([\w-]+):\s*(.*?)\s*$", re.M)


def fixtures() -> list[Path]:
    return sorted(p for p in PEER.rglob("*") if p.is_file() and p.suffix in (".xml", ".json"))


def headers_of(body: bytes) -> dict[str, str]:
    """feedparser's own test files state the HTTP headers they were served with."""
    found = {}
    for name, value in _HEADER.findall(body[:2000]):
        found[name.decode().lower()] = value.decode("latin-1")
    return found


@dataclass
class Diff:
    path: Path
    fp_entries: int
    our_entries: int
    our_items: int
    error: str | None = None
    allowed: list[str] = field(default_factory=list)  # documented improvements seen
    problems: list[str] = field(default_factory=list)  # differences not allowed


def _garbled(texts: list[str]) -> int:
    return sum(t.count("\ufffd") + len(MOJIBAKE.findall(t)) for t in texts)


def compare(path: Path) -> Diff:
    body = path.read_bytes()
    headers = headers_of(body)
    fp: Any = feedparser.parse(io.BytesIO(body), response_headers=headers)
    fp_entries = list(fp.get("entries", []))
    try:
        parsed = parse_feed(body, headers, URL)
    except ParseError as exc:
        diff = Diff(path, len(fp_entries), 0, 0, error=f"{exc.kind}: {exc.message}")
        if fp_entries:
            diff.problems.append(f"we refused a feed feedparser read {len(fp_entries)} entries of")
        return diff
    items = normalize_entries(SOURCE, parsed, now=NOW)
    diff = Diff(path, len(fp_entries), len(parsed.entries), len(items))
    repaired = any("read as" in w or "detected" in w for w in parsed.warnings)
    if len(parsed.entries) != len(fp_entries):
        if path.suffix == ".json" and not fp_entries:
            diff.allowed.append("json feed")
        elif repaired and len(parsed.entries) > len(fp_entries):
            diff.allowed.append("encoding repaired: more entries")
        else:
            diff.problems.append(f"{len(parsed.entries)} entries, feedparser {len(fp_entries)}")
    distinct = {
        (e.guid, canonical_url(e.link or "", URL), plain_text(e.title), plain_text(e.summary),
         e.published or e.updated)
        for e in parsed.entries
    }  # fmt: skip
    if len(items) != len(distinct):
        diff.problems.append(f"{len(items)} items from {len(distinct)} distinct entries")
    elif len(items) < len(parsed.entries):
        diff.allowed.append("identical entries merged")
    ours = [parsed.title] + [t for e in parsed.entries for t in (e.title, e.summary)]
    theirs = [str(fp.get("feed", {}).get("title", ""))] + [
        str(t) for e in fp_entries for t in (e.get("title", ""), e.get("summary", ""))
    ]
    if _garbled(ours) > _garbled(theirs):
        diff.problems.append(f"garbled text: {_garbled(ours)} marks, feedparser {_garbled(theirs)}")
    elif _garbled(ours) < _garbled(theirs):
        diff.allowed.append("encoding repaired: less garbled text")
    kept = {i.url for i in items} | {enc.url for i in items for enc in i.enclosures}
    for e in fp_entries:
        link = str(e.get("link") or "")
        if not re.match(r"https?://", link):
            continue
        if canonical_url(link) in kept:
            continue
        if e.get("feedburner_origlink"):
            diff.allowed.append("origLink canonical")
        elif b"xml:base" in body:
            diff.allowed.append("per-item xml:base")
        else:
            diff.problems.append(f"http link lost: {link}")
    return diff
