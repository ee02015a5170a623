"""The health of every feed (`monitor feeds status` and `/monitor status` in Slack): the
configured feeds against the archive's feed state, item counts and Slack mutes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.config.feeds import FeedsConfig
from monitor.store.feedback import active_mutes
from monitor.store.feeds import RULES_ERROR_KEY, FeedState, get_state_value, load_states
from monitor.store.items import count_by_feed
from monitor.store.writer import Database


@dataclass(frozen=True)
class FeedHealth:
    id: str
    name: str
    status: str  # ok, failing, disabled, never polled, off (enabled: false), not listed
    enabled: bool
    items: int
    state: FeedState | None
    muted_until: datetime | None = None  # muted from Slack: kept out of digests until then
    muted_by: str = ""


def status_of(state: FeedState | None, configured: bool, enabled: bool) -> str:
    if not configured:
        return "not listed"
    if not enabled:
        return "off"
    if state is None or state.last_polled_at is None:
        return "never polled"
    if state.disabled_reason:
        return "disabled"
    if state.consecutive_failures:
        return "failing"
    return "ok"


def feed_health(
    db: Database, config: FeedsConfig, now: datetime
) -> tuple[list[FeedHealth], tuple[str, datetime] | None]:
    """Every configured feed, then archived feeds no longer listed; and the last failed
    rules reload (message, time) when `monitor run` could not load edited rules."""
    states = load_states(db)
    counts = count_by_feed(db)
    mutes = active_mutes(db, now)
    rules_error = get_state_value(db, RULES_ERROR_KEY)

    def health(feed_id: str, name: str, status: str, enabled: bool) -> FeedHealth:
        mute = mutes.get(feed_id)
        return FeedHealth(
            feed_id,
            name,
            status,
            enabled,
            counts.get(feed_id, 0),
            states.get(feed_id),
            mute.until if mute else None,
            mute.by if mute else "",
        )

    out = [
        health(f.id, f.name, status_of(states.get(f.id), True, f.enabled), f.enabled)
        for f in config.feeds
    ]
    configured = {f.id for f in config.feeds}
    out += [
        health(s.id, s.name, "not listed", False) for s in states.values() if s.id not in configured
    ]
    return out, rules_error
