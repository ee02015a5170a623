"""What the pipeline runs in its worker processes: bytes in, normalised items out.

Kept apart from monitor.pipeline so a worker imports only the parse and normalise steps
(about a third of the pipeline's import time and memory), not httpx or the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.errors import ParseError
from monitor.model import FeedSource, Item
from monitor.reader.normalize import normalize_entries
from monitor.reader.parse import parse_feed


@dataclass(frozen=True)
class Parsed:
    """What a worker sends back. Errors travel as fields: exceptions with custom
    constructors do not survive pickling."""

    items: tuple[Item, ...] = ()
    warnings: tuple[str, ...] = ()
    error_kind: str | None = None
    error: str | None = None


def parse_body(
    source: FeedSource, body: bytes, headers: dict[str, str], url: str, now: datetime
) -> Parsed:
    """Parse and normalise one fetched body. Module-level so worker processes can run it."""
    try:
        parsed = parse_feed(body, headers, url)
        items = normalize_entries(source, parsed, now=now)
    except ParseError as exc:
        return Parsed(error_kind=exc.kind, error=exc.message)
    except Exception as exc:  # a parser bug must not take the cycle down
        return Parsed(error_kind="internal", error=f"could not read the feed: {exc}")
    return Parsed(items=tuple(items), warnings=tuple(parsed.warnings))
