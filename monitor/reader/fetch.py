"""Fetch step: one HTTP GET per feed, turned into a FetchResult or a typed FetchError.

With monitor.reader.fetch_errors (failures in words), the only module importing httpx, so
swapping the HTTP client touches those two files; monitor.reader.inflate caps the body.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import ssl
import sys
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpx

from monitor import __version__
from monitor.errors import FetchError, FetchKind
from monitor.model import FeedSource, FetchResult
from monitor.reader.fetch_errors import (
    ODD_ERRORS,
    Progress,
    bad_address,
    classify,
    deadline_error,
    odd_sentence,
    status_error,
)
from monitor.reader.inflate import decoder_for, size_words

# httpcore runs `import sniffio` on every lock it takes (about six per request). Without
# sniffio installed (anyio 4 no longer pulls it in), each is a failed import searching all
# of sys.path: ~0.35 ms of event-loop CPU per request (bench/poll.py, steady cycle: 3.7 s
# of CPU for 1,000 feeds without this, 3.35 s with it). A None entry makes the failure
# instant; an installed sniffio is left alone. Here, beside the httpx client.
if importlib.util.find_spec("sniffio") is None:
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

DEFAULT_USER_AGENT = f"jkus-monitor/{__version__} (+https://github.com/jkus-monitor; news monitor)"

# One client per publisher (host and port), closed once none of its feeds is waiting.
# httpcore's pool looks at every connection it holds on each request (has_expired asks
# anyio for the socket's state, a getpeername call each): a cost that grows with the pool.
# Sharing clients between hosts (shards of 25 connections, before) spent about a fifth of
# the event loop's time there; a host's own client holds at most `per_host` connections,
# and its connections are still reused across that host's feeds.
_REDIRECTS = {301, 302, 303, 307, 308}


@dataclass
class _Host:
    """One publisher's share of a cycle: its slot, its client, its feeds not yet done."""

    slot: asyncio.Semaphore
    waiting: int = 0
    client: httpx.AsyncClient | None = None


class Fetcher:
    """Async context manager; one per poll cycle. Bounded overall and per host.

    Open sockets: at most ``max_connections`` in use, plus the idle connections (up to
    ``per_host`` each) of hosts that still have a feed waiting for a free slot.
    """

    def __init__(
        self,
        *,
        max_connections: int = 200,  # bench/poll.py steady cycle: 1.6 s at 100, 1.25 s at 200
        per_host: int = 4,
        user_agent: str = DEFAULT_USER_AGENT,
        max_redirects: int = 5,
        connect_timeout: float = 10.0,
        read_timeout: float = 15.0,
    ) -> None:
        self.max_connections = max(1, max_connections)
        self.per_host = max(1, per_host)
        self.user_agent = user_agent
        self.max_redirects = max_redirects
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._slots = asyncio.Semaphore(self.max_connections)
        self._hosts: dict[str, _Host] = {}
        self._ssl: ssl.SSLContext | None = None

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        hosts, self._hosts = list(self._hosts.values()), {}
        for host in hosts:
            if host.client is not None:
                await host.client.aclose()

    async def fetch(
        self,
        source: FeedSource,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        body_hash: str | None = None,
    ) -> FetchResult:
        """GET the feed; waiting for a free slot does not count against source.timeout."""
        key = _host_key(source.url)
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(asyncio.Semaphore(self.per_host))
        host.waiting += 1
        try:
            async with host.slot, self._slots:
                progress = Progress()
                try:
                    async with asyncio.timeout(source.timeout):
                        client = self._client(host)
                        return await self._get(
                            client, source, etag, last_modified, body_hash, progress
                        )
                except TimeoutError:
                    raise deadline_error(source.timeout, progress) from None
                except httpx.HTTPError as exc:
                    raise classify(exc, self) from exc
                except FetchError:
                    raise
                except ODD_ERRORS as exc:
                    # What a hostile or broken server can still provoke below httpx's own
                    # error types (a port out of range reaching connect(), an odd header):
                    # a typed failure with a sentence, recorded on the feed like any other.
                    raise FetchError(FetchKind.PROTOCOL, odd_sentence(exc, progress)) from exc
        finally:
            host.waiting -= 1
            if host.waiting == 0 and self._hosts.get(key) is host:
                del self._hosts[key]
                if host.client is not None:
                    await host.client.aclose()

    def _client(self, host: _Host) -> httpx.AsyncClient:
        if host.client is None:
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()  # loading CA certs once, not per host
            host.client = httpx.AsyncClient(
                limits=httpx.Limits(
                    max_connections=self.per_host, max_keepalive_connections=self.per_host
                ),
                timeout=httpx.Timeout(
                    connect=self.connect_timeout,
                    read=self.read_timeout,
                    write=self.read_timeout,
                    pool=None,  # the host's slot already bounds the wait
                ),
                headers={"user-agent": self.user_agent, "accept-encoding": "gzip, deflate"},
                follow_redirects=False,  # followed by hand: loop detection, scheme check
                verify=self._ssl,
            )
        return host.client

    async def _get(
        self,
        client: httpx.AsyncClient,
        source: FeedSource,
        etag: str | None,
        last_modified: str | None,
        body_hash: str | None,
        progress: Progress,
    ) -> FetchResult:
        headers = {
            "accept": "application/rss+xml, application/atom+xml, application/feed+json,"
            " application/xml, */*"
        }
        if etag:
            headers["if-none-match"] = etag
        if last_modified:
            headers["if-modified-since"] = last_modified
        url = source.url
        seen = {url}
        for _hop in range(self.max_redirects + 1):
            try:
                request = client.build_request("GET", url, headers=headers)
            except httpx.InvalidURL:
                raise FetchError(FetchKind.PROTOCOL, bad_address(url)) from None
            try:
                response = await client.send(request, stream=True)
            except httpx.InvalidURL as exc:
                # httpx prepares the redirect's request even when it does not follow it, so a
                # Location that is not a URL (javascript:…, http://[::1) fails here.
                raise FetchError(
                    FetchKind.REDIRECTS,
                    f"the server redirected to an address that is not valid ({exc})",
                ) from None
            progress.answered = True
            try:
                if response.status_code not in _REDIRECTS:
                    return await _finish(
                        response, source, url, etag, last_modified, body_hash, progress
                    )
                url = _next_url(response, url)
            finally:
                await response.aclose()
            if url in seen:
                raise FetchError(
                    FetchKind.REDIRECTS, f"redirect loop: the server sent us back to {url}"
                )
            seen.add(url)
        raise FetchError(FetchKind.REDIRECTS, f"gave up after {self.max_redirects} redirects")


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _host_key(url: str) -> str:
    """Whom a request goes to, for the per-host limit and client: the host name, with
    the port when it is not the scheme's default (two servers on one machine are two
    publishers)."""
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        return ""
    if port is None or port == _DEFAULT_PORTS.get(parts.scheme.lower()):
        return host
    return f"{host}:{port}"


def _next_url(response: httpx.Response, current: str) -> str:
    location: str | None = response.headers.get("location")
    if not location:
        raise FetchError(
            FetchKind.PROTOCOL, f"HTTP {response.status_code} redirect without a Location header"
        )
    try:
        target = urljoin(current, location.strip())
        parts = urlsplit(target)
        parts.port  # noqa: B018 - raises ValueError when out of range (http://h:99999/)
    except ValueError:
        raise FetchError(
            FetchKind.REDIRECTS, f"redirect to an address that is not valid ({location[:80]})"
        ) from None
    if parts.scheme not in ("http", "https"):
        raise FetchError(FetchKind.REDIRECTS, f"redirect to a non-web address ({target[:80]})")
    if not parts.hostname:
        raise FetchError(
            FetchKind.REDIRECTS, f"redirect to an address without a host ({target[:80]})"
        )
    return target


async def _finish(
    response: httpx.Response,
    source: FeedSource,
    url: str,
    etag: str | None,
    last_modified: str | None,
    body_hash: str | None,
    progress: Progress,
) -> FetchResult:
    status = response.status_code
    headers = {k.lower(): v for k, v in response.headers.items()}
    if status == 304:
        return FetchResult(
            feed_id=source.id,
            status="not_modified",
            url=url,
            http_status=status,
            body=None,
            headers=headers,
            etag=headers.get("etag", etag),
            last_modified=headers.get("last-modified", last_modified),
            body_hash=body_hash,
        )
    if not 200 <= status < 300:
        raise status_error(response)
    body = await _read_body(response, source.max_bytes, progress)
    digest = hashlib.sha256(body).hexdigest()
    same = body_hash is not None and digest == body_hash
    return FetchResult(
        feed_id=source.id,
        status="unchanged" if same else "ok",
        url=url,
        http_status=status,
        body=None if same else body,
        headers=headers,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        body_hash=digest,
    )


async def _read_body(response: httpx.Response, cap: int, progress: Progress) -> bytes:
    """Read raw bytes and decompress them ourselves, so the cap holds for a gzip bomb."""
    decoder = decoder_for(response.headers.get("content-encoding", ""))
    declared = response.headers.get("content-length", "")
    if decoder is None and declared.isdigit() and int(declared) > cap:
        raise FetchError(
            FetchKind.TOO_LARGE, f"body larger than {size_words(cap)} after decompression"
        )
    parts: list[bytes] = []
    total = 0
    async for chunk in response.aiter_raw():
        progress.received += len(chunk)
        for piece in decoder.feed(chunk, cap - total) if decoder else (chunk,):
            total += len(piece)
            if total > cap:
                raise FetchError(
                    FetchKind.TOO_LARGE, f"body larger than {size_words(cap)} after decompression"
                )
            parts.append(piece)
    if decoder:
        tail = decoder.finish()
        if total + len(tail) > cap:
            raise FetchError(
                FetchKind.TOO_LARGE, f"body larger than {size_words(cap)} after decompression"
            )
        parts.append(tail)
    return b"".join(parts)
