"""A compiled matcher survives pickling (the pipeline ships it to its worker processes):
the copy matches exactly like the original, on the shipped rules and real feed items."""

from __future__ import annotations

import pickle
from pathlib import Path

from monitor.config.rules import load_rules
from monitor.model import FeedSource
from monitor.reader.normalize import normalize_entries
from monitor.reader.parse import parse_feed
from monitor.store.db import utcnow

ROOT = Path(__file__).resolve().parent.parent
FEEDS = ROOT / "tests" / "data" / "feeds"


def test_a_pickled_matcher_matches_like_the_original() -> None:
    original = load_rules(ROOT / "rules").matcher
    copy = pickle.loads(pickle.dumps(original))
    assert copy.vocab._automaton is None  # the automata are rebuilt, not pickled
    now = utcnow()
    items = 0
    matched = 0
    for path in sorted(FEEDS.glob("*.xml"))[:60]:
        source = FeedSource(path.stem, path.stem, path.as_uri(), "news", "JP", "", 900)
        try:
            entries = normalize_entries(
                source, parse_feed(path.read_bytes(), {}, source.url), now=now
            )
        except Exception:  # noqa: BLE001 - a fixture that is not a feed is not the point here
            continue
        for item in entries:
            items += 1
            want = original.match(item, source)
            matched += bool(want)
            assert copy.match(item, source) == want, (path.name, item.title)
    assert items > 500, (items, matched)
    assert matched > 0, (items, matched)
