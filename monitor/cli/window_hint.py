"""The sentence shown when a time window over the archive holds no items.

`--since 90d` on an archive whose newest item is older finds nothing; without a word about
why, that reads like "the rules match nothing". This says what the archive does hold and
which --since would reach it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.store.db import utcnow


def since_to_reach(newest: datetime, now: datetime | None = None) -> str:
    """A --since value that includes ``newest``: whole days, rounded up plus one, so the
    few seconds between this hint and the next run cannot leave the item just outside."""
    age = (now or utcnow()) - newest
    return f"{max(age // timedelta(days=1), 0) + 1}d"


def empty_window_hint(newest: datetime | None, since: datetime) -> str | None:
    """What to say when no item was published since ``since`` (None: nothing to add)."""
    if newest is None:
        return "The archive holds no items yet: run `monitor poll --once` (or `make demo`) first."
    if newest >= since:
        return None
    return (
        f"The archive's newest item is from {newest:%Y-%m-%d %H:%M} UTC: "
        f"try --since {since_to_reach(newest)}."
    )
