"""One exception hierarchy. Every message is a sentence a user can act on.

    MonitorError (exit 2)
    ├── ConfigError   every problem in a user-edited file (``Problem``)
    ├── QueryError    a rule query that does not parse, with its column
    ├── FetchError    a feed could not be fetched; ``kind`` is a ``FetchKind``
    ├── ParseError    a fetched body is not a readable feed; ``kind`` is a ``ParseKind``
    ├── StoreError    the archive cannot be opened or written
    ├── DeliveryError Slack refused or could not be reached; ``kind`` says what happens next
    └── LockedError   another monitor holds the archive

A feed's failure is stored (``feeds.last_error_kind``) and shown (`monitor poll --once
--json`, `monitor feeds status`) as the kind's string: the enums are ``StrEnum``s, so a
kind compares equal to, and is written as, that string.

Library code raises these; only monitor.cli turns them into output and exit codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class MonitorError(Exception):
    """Base class. ``message`` says what is wrong, ``hint`` what to do about it."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Problem:
    """One problem in a user-edited file, shown as ``FILE:LINE[:COL]: message (hint)``."""

    file: str
    line: int  # 1-based; 0 when unknown
    message: str
    hint: str | None = None
    column: int = 0  # 1-based; 0 when unknown
    source_line: str | None = None  # the offending line, shown with a caret under column

    def format(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        text = f"{where}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        if self.source_line is not None and self.column:
            text += f"\n    {self.source_line}\n    {' ' * (self.column - 1)}^"
        return text


class ConfigError(MonitorError):
    """A configuration, feed list, rule or settings file is invalid. Carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        n = len(self.problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} found")

    def format(self) -> str:
        return "\n".join(p.format() for p in self.problems)


class QueryError(MonitorError):
    """A query in the rule language does not parse. ``column`` is 1-based within ``query``."""

    def __init__(self, message: str, query: str, column: int, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.query = query
        self.column = column


class FetchKind(StrEnum):
    """Why a fetch failed: a stable machine-readable category (``FetchError.kind``)."""

    TIMEOUT = "timeout"
    CONNECT = "connect"  # no connection: refused, unreachable
    DNS = "dns"
    TLS = "tls"
    HTTP_STATUS = "http_status"  # an error status (404, 429, 5xx…)
    GONE = "gone"  # the publisher removed the feed (410): the feed is disabled
    TOO_LARGE = "too_large"
    DECODE = "decode"  # a corrupt or truncated compressed body
    REDIRECTS = "redirects"  # too many, a loop, or to an address we do not fetch
    PROTOCOL = "protocol"  # not a web address, malformed headers, a broken connection


class ParseKind(StrEnum):
    """Why a fetched body gave no items (``ParseError.kind``), or ``INTERNAL``: our failure,
    not the feed's (a parser bug, a crashed parser process, any unexpected error polling
    the feed)."""

    EMPTY = "empty"
    NOT_A_FEED = "not_a_feed"  # an HTML page, or XML that is no RSS, Atom or RDF
    MALFORMED = "malformed"
    INTERNAL = "internal"


FailureKind = FetchKind | ParseKind  # what a failed poll records on its feed


class FetchError(MonitorError):
    """A feed could not be fetched. ``kind`` says why (``FetchKind``)."""

    def __init__(
        self,
        kind: FetchKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = FetchKind(kind)
        self.status = status
        self.retry_after = retry_after  # seconds the server asked us to wait, if any

    def __reduce__(self) -> tuple[Any, ...]:
        # Parsing runs in worker processes: errors must survive pickling.
        return (_fetch_error, (self.kind, self.message, self.status, self.retry_after))


class ParseError(MonitorError):
    """The body is not a feed we can read (an HTML page, an empty body, broken XML)."""

    def __init__(self, kind: ParseKind, message: str) -> None:
        super().__init__(message)
        self.kind = ParseKind(kind)

    def __reduce__(self) -> tuple[Any, ...]:
        return (ParseError, (self.kind, self.message))


def _fetch_error(
    kind: FetchKind, message: str, status: int | None, retry: float | None
) -> FetchError:
    return FetchError(kind, message, status=status, retry_after=retry)


class StoreError(MonitorError):
    """The archive cannot be opened or written."""


class DeliveryError(MonitorError):
    """Slack (or another destination) refused or could not be reached.

    ``kind`` says what the delivery loop does next (docs/delivery.md):

    - ``transient``: Slack down or busy, rate limits, the network. The message stays pending
      and is retried on the next run; the loop stops so parts keep their order.
    - ``setup``: the configuration (token, webhook, channel). Retrying cannot help until it
      is fixed, so the message stays pending; ``everywhere`` says the token or webhook is at
      fault (stop sending altogether) rather than one channel (hold back that channel).
    - ``rejected``: Slack refuses this one message for good. It is set aside as ``failed``
      with its reason, so the messages behind it still flow.
    """

    KINDS = ("transient", "setup", "rejected")

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = True,
        hint: str | None = None,
        kind: str | None = None,
        everywhere: bool = False,
    ) -> None:
        super().__init__(message, hint)
        self.kind = kind or ("transient" if retryable else "setup")
        if self.kind not in self.KINDS:
            raise ValueError(f"unknown delivery error kind {self.kind!r}")
        self.retryable = self.kind == "transient"
        self.everywhere = everywhere


class LockedError(MonitorError):
    """Another monitor process holds the database lock."""
