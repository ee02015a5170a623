"""Is the network down? Judged from feeds' outcomes, for `poll --once` and `monitor run`.

Offline, every feed fails with a connection error: fifty-three lines that each blame one
publisher. One line saying the network looks down tells the analyst what to fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from monitor.errors import FetchKind

# FetchError kinds that say nothing about the publisher: the request never got an answer
NETWORK_KINDS = frozenset({FetchKind.CONNECT, FetchKind.DNS, FetchKind.TIMEOUT, FetchKind.TLS})


class OutcomeLike(Protocol):
    @property
    def feed_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def error_kind(self) -> str | None: ...


def attempted(outcomes: Iterable[OutcomeLike]) -> list[OutcomeLike]:
    return [o for o in outcomes if o.status != "skipped"]


def all_failed(outcomes: Sequence[OutcomeLike]) -> bool:
    """Every feed that was tried failed (and at least one was tried)."""
    tried = attempted(outcomes)
    return bool(tried) and all(o.status == "failed" for o in tried)


def verdict(outcomes: Sequence[OutcomeLike]) -> str | None:
    """One sentence when every feed tried failed, else None."""
    tried = attempted(outcomes)
    if not all_failed(tried):
        return None
    n = len(tried)
    every = "the feed" if n == 1 else f"all {n} feeds"
    if n > 1 and all(o.error_kind in NETWORK_KINDS for o in tried):
        return (
            f"{every} failed without an answer (connection, DNS or timeout): the network looks"
            " down; check this machine's connection or proxy, then poll again"
        )
    return f"{every} failed; see the reasons above and `monitor feeds status`"


class NetworkWatch:
    """For `monitor run`, where feeds are polled one job at a time: remembers each feed's
    latest outcome and says once when all of them have failed without an answer, and once
    when a feed gets through again."""

    def __init__(self, feed_ids: Iterable[str]) -> None:
        self.feed_ids = frozenset(feed_ids)
        self.latest: dict[str, str | None] = {}  # feed id → error kind, None when it worked
        self.down = False

    def observe(self, feed_id: str, status: str, error_kind: str | None) -> str | None:
        """A sentence to log when the network's state changes, else None."""
        if status == "skipped":
            return None
        self.latest[feed_id] = error_kind if status == "failed" else None
        if status != "failed":
            if self.down:
                self.down = False
                return f"the network is back: feed {feed_id} answered"
            return None
        if self.down or len(self.feed_ids) < 2 or set(self.latest) != self.feed_ids:
            return None
        if all(kind in NETWORK_KINDS for kind in self.latest.values()):
            self.down = True
            return (
                f"all {len(self.feed_ids)} feeds failed without an answer (connection, DNS"
                " or timeout): the network looks down; feeds keep backing off and are tried"
                " again on their schedule"
            )
        return None


def when(moment: datetime, now: datetime) -> str:
    """``07:12 UTC (in 25m)``: a time a user can compare with the clock."""
    seconds = max(0, int((moment - now).total_seconds()))
    if seconds < 3600:
        rel = f"{max(1, round(seconds / 60))}m"
    elif seconds < 2 * 86400:
        rel = f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    else:
        rel = f"{seconds // 86400}d"
    day = "" if moment.date() == now.date() else f"{moment:%Y-%m-%d} "
    return f"{day}{moment:%H:%M} UTC (in {rel})"
