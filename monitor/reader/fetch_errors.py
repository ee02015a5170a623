"""What went wrong fetching, in words: HTTP statuses and httpx exceptions as FetchErrors.

Each becomes a ``FetchError`` with a ``FetchKind`` and a sentence naming the host and what
happened (``Progress`` says how far the request got when the deadline struck). Beside
monitor.reader.fetch, the only other module importing httpx.
"""

from __future__ import annotations

import email.utils
import http
import socket
import ssl
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from monitor.errors import FetchError, FetchKind


class Timeouts(Protocol):
    """The fetcher's limits a timeout's sentence names."""

    @property
    def connect_timeout(self) -> float: ...
    @property
    def read_timeout(self) -> float: ...


_RETRY_STATUSES = {429, 503}
# seconds: far below timedelta's overflow; the store waits a day at most
RETRY_AFTER_CAP = 100 * 365 * 86400.0


class Progress:
    """What had happened when the deadline struck, for a precise message."""

    def __init__(self) -> None:
        self.answered = False
        self.received = 0


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def bad_address(url: str) -> str:
    return f"the address {url[:80]} is not a valid web address"


# Errors that do not come as httpx.HTTPError but that a server's answer can still cause;
# ExceptionGroup: anyio wraps connect() errors (OverflowError for a port out of range).
ODD_ERRORS = (
    httpx.InvalidURL,
    httpx.StreamError,
    ValueError,
    OverflowError,
    LookupError,
    ExceptionGroup,
)


def odd_sentence(exc: BaseException, progress: Progress) -> str:
    cause = exc
    while isinstance(cause, BaseExceptionGroup) and cause.exceptions:
        cause = cause.exceptions[0]
    detail = str(cause) or type(cause).__name__
    where = "answer" if progress.answered else "address"
    return f"the server's {where} could not be handled ({detail[:160]})"


def status_error(response: httpx.Response) -> FetchError:
    status = response.status_code
    words = f"HTTP {status} {_phrase(response)}"
    if status == 410:
        return FetchError(
            FetchKind.GONE, f"{words}: the publisher removed this feed", status=status
        )
    if status in _RETRY_STATUSES:
        wait = parse_retry_after(response.headers.get("retry-after"))
        if wait is not None:
            words += f"; the server asked us to wait {_wait_words(wait)}"
        return FetchError(FetchKind.HTTP_STATUS, words, status=status, retry_after=wait)
    if status < 400:
        return FetchError(
            FetchKind.PROTOCOL, f"{words}: not a response a feed should give", status=status
        )
    return FetchError(FetchKind.HTTP_STATUS, words, status=status)


def _wait_words(seconds: float) -> str:
    if seconds >= RETRY_AFTER_CAP:
        return "100 years or more"
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:,.0f} days"
    return f"{seconds:.0f} s"


def _phrase(response: httpx.Response) -> str:
    try:
        return http.HTTPStatus(response.status_code).phrase
    except ValueError:
        return response.reason_phrase or "(unknown status)"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²".isdigit() too, which float() refuses
        # 40 digits once overflowed the back-off arithmetic (timedelta): capped
        return min(float(value), RETRY_AFTER_CAP)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    wait = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(0.0, wait), RETRY_AFTER_CAP)


def deadline_error(limit: float, progress: Progress) -> FetchError:
    if progress.received:
        why = "the server sent the body too slowly"
    elif progress.answered:
        why = "the server sent headers but no body"
    else:
        why = "the server did not answer"
    return FetchError(FetchKind.TIMEOUT, f"gave up after {limit:g} s: {why}")


def classify(exc: httpx.HTTPError, fetcher: Timeouts) -> FetchError:
    """Turn an httpx exception into a FetchError with a plain sentence."""
    host = _host(str(exc.request.url)) if _has_request(exc) else "the server"
    if isinstance(exc, httpx.ConnectTimeout):
        return FetchError(
            FetchKind.TIMEOUT, f"could not connect to {host} within {fetcher.connect_timeout:g} s"
        )
    if isinstance(exc, httpx.TimeoutException):
        return FetchError(
            FetchKind.TIMEOUT, f"{host} sent nothing for {fetcher.read_timeout:g} s, so we gave up"
        )
    if isinstance(exc, httpx.ConnectError):
        return _connect_error(exc, host)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return FetchError(
            FetchKind.PROTOCOL, "the feed URL does not start with http:// or https://"
        )
    if isinstance(exc, httpx.InvalidURL):
        return FetchError(FetchKind.PROTOCOL, "the feed URL is not a valid web address")
    if isinstance(exc, httpx.TooManyRedirects):
        return FetchError(FetchKind.REDIRECTS, "too many redirects")
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.RemoteProtocolError):
        lowered = detail.lower()
        if "location header" in lowered:
            return FetchError(
                FetchKind.REDIRECTS,
                f"{host} redirected to an address that is not valid ({detail[:120]})",
            )
        if "header" in lowered or "content-length" in lowered or "too long" in lowered:
            return FetchError(FetchKind.PROTOCOL, f"{host} sent malformed headers ({detail[:120]})")
    return FetchError(FetchKind.PROTOCOL, f"the connection to {host} broke: {detail}")


def _connect_error(exc: httpx.ConnectError, host: str) -> FetchError:
    cause = _root(exc)
    text = str(exc)
    if isinstance(cause, socket.gaierror) or "name or service not known" in text.lower():
        return FetchError(FetchKind.DNS, f"could not resolve the host name {host}")
    if isinstance(cause, ssl.SSLError) or "ssl" in text.lower() or "certificate" in text.lower():
        reason = getattr(cause, "reason", None) or text
        return FetchError(FetchKind.TLS, f"the secure connection to {host} failed ({reason})")
    reason = getattr(cause, "strerror", None) or text or "refused"
    return FetchError(FetchKind.CONNECT, f"could not connect to {host} ({str(reason).lower()})")


def _root(exc: BaseException) -> BaseException:
    seen: set[int] = set()
    while True:
        nxt = exc.__cause__ or exc.__context__
        if nxt is None or id(nxt) in seen:
            return exc
        seen.add(id(exc))
        exc = nxt


def _has_request(exc: httpx.HTTPError) -> bool:
    try:
        exc.request  # noqa: B018  (raises RuntimeError when unset)
    except RuntimeError:
        return False
    return True
