"""One exception hierarchy. Every message is a sentence a user can act on.

Library code raises these; only monitor.cli turns them into output and exit codes.
"""

from __future__ import annotations

from dataclasses import dataclass
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


class FetchError(MonitorError):
    """A feed could not be fetched. ``kind`` is a stable machine-readable category.

    Kinds: timeout, connect, dns, http_status, too_large, decode, redirects, tls, protocol, gone.
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after  # seconds the server asked us to wait, if any

    def __reduce__(self) -> tuple[Any, ...]:
        # Parsing runs in worker processes: errors must survive pickling.
        return (_fetch_error, (self.kind, self.message, self.status, self.retry_after))


class ParseError(MonitorError):
    """The body is not a feed we can read (an HTML page, an empty body, broken XML)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind

    def __reduce__(self) -> tuple[Any, ...]:
        return (ParseError, (self.kind, self.message))


def _fetch_error(kind: str, message: str, status: int | None, retry: float | None) -> FetchError:
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
