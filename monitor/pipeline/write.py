"""One feed's write, on the writer thread: its items, their matches and its new state.

All three commit in one transaction (monitor.store.writer), so a crash never leaves a feed
marked as read without its items, nor items stored without their matches.
"""

from __future__ import annotations

import logging
from datetime import datetime

from monitor.model import FeedSource, FetchResult, Match
from monitor.pipeline.fulltext import mark_new_items
from monitor.pipeline.outcome import FeedOutcome
from monitor.pipeline.parse_worker import Parsed
from monitor.pipeline.rules import Matcher
from monitor.store.feeds import learn_name, record_success
from monitor.store.items import store_items
from monitor.store.matches import save_matches
from monitor.store.writer import Database

log = logging.getLogger("monitor.pipeline")  # the name `monitor run` has always logged as


def write_items(
    db: Database,
    feed: FeedSource,
    result: FetchResult,
    parsed: Parsed,
    matcher: Matcher | None,
    now: datetime,
    matched: dict[str, tuple[Match, ...]] | None = None,
) -> FeedOutcome:
    """Runs on the writer thread: items, matches and the feed's new state commit together.
    ``matched``: matches a worker found with the same rule set, by item id; items without
    an entry are matched here."""
    written = store_items(db, parsed.items, now=now)
    mark_new_items(db, feed, parsed.items, written.new)  # full text: their pages are read next
    saved = 0
    if matcher is not None:
        matches: list[Match] = []
        for item in [*written.new, *written.updated]:
            found = matched.get(item.id) if matched is not None else None
            if found is not None:
                matches.extend(found)
                continue
            try:
                matches.extend(matcher.match(item, feed))
            except Exception:  # one odd item must not lose the feed's other items
                log.exception("matching item %s of feed %s failed", item.id, feed.id)
        if matches:
            saved = save_matches(db, matches, now)
    record_success(db, feed.id, result, now=now, interval=feed.interval, warnings=parsed.warnings)
    if not feed.name and parsed.title:
        learn_name(db, feed.id, parsed.title)
    return FeedOutcome(
        feed.id, "ok", new=len(written.new), updated=len(written.updated), matches=saved
    )
