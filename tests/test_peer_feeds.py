"""Other projects' feed fixtures (tests/data/peer-feeds, see SOURCES.md) against plain feedparser.

For each file: the same number of items as feedparser unless the difference is one of the
documented improvements (tests/peerdiff.py lists them), no more garbled text than
feedparser, every http link feedparser found kept. And the fast path, wherever it takes a
body, gives exactly the fallback's items.
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import pytest

from monitor.reader.fastparse import fast_parse
from monitor.reader.normalize import normalize_entries
from monitor.reader.parse import _absolute, parse_feed
from tests.peerdiff import NOW, PEER, SOURCE, URL, compare, fixtures, headers_of

SOURCES = ("feedparser", "gofeed", "miniflux", "feed-rs", "rome", "rust-rss")
FILES = fixtures()


def _of(source: str) -> list[Path]:
    return [p for p in FILES if p.relative_to(PEER).parts[0] == source]


def test_fixture_counts_and_provenance() -> None:
    counts = Counter(p.relative_to(PEER).parts[0] for p in FILES)
    assert set(counts) == set(SOURCES)
    assert sum(counts.values()) >= 300
    assert all(counts[s] >= 10 for s in SOURCES)
    listed = (PEER.parent / "SOURCES.md").read_text(encoding="utf-8")
    assert all(f"peer-feeds/{s}/" in listed for s in SOURCES)
    size = sum(p.stat().st_size for p in PEER.rglob("*") if p.is_file())
    assert size < 3_000_000  # a few MB at most


@pytest.mark.parametrize("source", SOURCES)
def test_differential_against_plain_feedparser(source: str) -> None:
    problems = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # feedparser's own deprecation chatter
        for path in _of(source):
            diff = compare(path)
            problems += [f"{path.relative_to(PEER)}: {p}" for p in diff.problems]
    assert problems == []


def test_documented_improvements_show_up() -> None:
    seen: Counter[str] = Counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in FILES:
            seen.update(set(compare(path).allowed))
    assert seen["json feed"] >= 8  # feedparser reads no JSON Feed at all
    assert seen["origLink canonical"] >= 4
    assert seen["encoding repaired: less garbled text"] >= 5


@pytest.mark.parametrize("source", SOURCES)
def test_fast_path_is_identical_or_refused_on_peer_fixtures(source: str) -> None:
    for path in _of(source):
        body = path.read_bytes()
        headers = headers_of(body)
        quick = fast_parse(body, headers, URL, _absolute)
        if quick is None:
            continue
        slow = parse_feed(body, headers, URL, fast=False)
        fast_items = normalize_entries(SOURCE, quick, now=NOW)
        assert fast_items == normalize_entries(SOURCE, slow, now=NOW), path
