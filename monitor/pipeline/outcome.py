"""What polling reports: one ``FeedOutcome`` per feed, a ``PollSummary`` per cycle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from monitor.errors import FailureKind

Mode = Literal["scheduled", "once", "forced"]
Status = Literal["ok", "not_modified", "unchanged", "failed", "skipped"]

STATUS_WORDS = {
    "ok": "ok",
    "not_modified": "not modified",
    "unchanged": "unchanged",
    "failed": "failed",
    "skipped": "skipped",
}


@dataclass(frozen=True)
class FeedOutcome:
    feed_id: str
    status: Status
    new: int = 0
    updated: int = 0
    matches: int = 0
    error: str | None = None  # a sentence: why it failed or was skipped
    error_kind: FailureKind | None = None
    disabled: bool = False  # this failure disabled the feed


@dataclass
class PollSummary:
    outcomes: list[FeedOutcome] = field(default_factory=list)
    started: datetime | None = None
    finished: datetime | None = None

    def count(self, *statuses: Status) -> int:
        return sum(1 for o in self.outcomes if o.status in statuses)

    @property
    def ok(self) -> int:
        return self.count("ok")

    @property
    def not_modified(self) -> int:
        return self.count("not_modified", "unchanged")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def skipped(self) -> int:
        return self.count("skipped")

    @property
    def new_items(self) -> int:
        return sum(o.new for o in self.outcomes)

    @property
    def updated_items(self) -> int:
        return sum(o.updated for o in self.outcomes)

    @property
    def matches(self) -> int:
        return sum(o.matches for o in self.outcomes)

    def line(self) -> str:
        """One sentence, for logs and the end of `monitor poll --once`."""
        n = len(self.outcomes)
        parts = [f"{self.ok} ok", f"{self.not_modified} not modified", f"{self.failed} failed"]
        if self.skipped:
            parts.append(f"{self.skipped} skipped")
        return (
            f"{n} feed{'s' if n != 1 else ''}: {', '.join(parts)}; "
            f"{self.new_items} new item{'s' if self.new_items != 1 else ''}, "
            f"{self.updated_items} updated, {self.matches} match"
            f"{'es' if self.matches != 1 else ''}"
        )


Progress = Callable[[FeedOutcome], None]
