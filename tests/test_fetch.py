"""Fetch against a real HTTP server on 127.0.0.1: each misbehaviour → the right FetchError."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from monitor.errors import FetchError
from monitor.model import FeedSource, FetchResult
from monitor.reader.fetch import DEFAULT_USER_AGENT, Fetcher
from monitor.reader.fetch_errors import classify, parse_retry_after
from tests.feedserver import SMALL_FEED, FeedServer


def source(url: str, **overrides: Any) -> FeedSource:
    fields: dict[str, Any] = dict(
        id="test", name="Test", url=url, kind="news", country="", lang="en", interval=900
    )
    fields.update(overrides)
    return FeedSource(**fields)


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


async def fetch_one(src: FeedSource, fetcher: Fetcher | None = None, **kw: Any) -> FetchResult:
    async with fetcher or Fetcher() as f:
        return await f.fetch(src, **kw)


def fetch_error(src: FeedSource, fetcher: Fetcher | None = None, **kw: Any) -> FetchError:
    with pytest.raises(FetchError) as info:
        run(fetch_one(src, fetcher, **kw))
    return info.value


def test_ok_returns_body_headers_and_validators(feed_server: FeedServer) -> None:
    feed_server.add_file("/feed.xml", SMALL_FEED)
    result = run(fetch_one(source(feed_server.url("/feed.xml"))))
    assert result.status == "ok"
    assert result.http_status == 200
    assert result.body == SMALL_FEED
    assert result.etag
    assert result.last_modified
    assert result.headers["content-type"].startswith("application/rss+xml")
    assert all(k == k.lower() for k in result.headers)
    _, _, sent = feed_server.requests[-1]
    assert sent["user-agent"] == DEFAULT_USER_AGENT
    assert sent["accept-encoding"] == "gzip, deflate"


def test_conditional_get_with_etag_gives_not_modified(feed_server: FeedServer) -> None:
    feed_server.add_scenario("/e.xml", "not_modified_etag", etag='"abc"')
    first = run(fetch_one(source(feed_server.url("/e.xml"))))
    assert first.status == "ok"
    assert first.etag == '"abc"'
    again = run(fetch_one(source(feed_server.url("/e.xml")), etag=first.etag, body_hash="h"))
    assert again.status == "not_modified"
    assert again.body is None
    assert again.etag == '"abc"'
    assert again.body_hash == "h"
    assert feed_server.requests[-1][2]["if-none-match"] == '"abc"'


def test_conditional_get_with_last_modified_gives_not_modified(feed_server: FeedServer) -> None:
    feed_server.add_scenario("/m.xml", "not_modified_last_modified")
    first = run(fetch_one(source(feed_server.url("/m.xml"))))
    assert first.etag is None
    assert first.last_modified
    again = run(fetch_one(source(feed_server.url("/m.xml")), last_modified=first.last_modified))
    assert again.status == "not_modified"
    assert again.last_modified == first.last_modified
    assert "if-modified-since" in feed_server.requests[-1][2]


def test_same_body_hash_is_unchanged_and_skips_the_body(feed_server: FeedServer) -> None:
    feed_server.add_file("/feed.xml", SMALL_FEED)
    first = run(fetch_one(source(feed_server.url("/feed.xml"))))
    again = run(fetch_one(source(feed_server.url("/feed.xml")), body_hash=first.body_hash))
    assert again.status == "unchanged"
    assert again.body is None
    assert again.body_hash == first.body_hash
    changed = run(fetch_one(source(feed_server.url("/feed.xml")), body_hash="0" * 64))
    assert changed.status == "ok"
    assert changed.body == SMALL_FEED


@pytest.mark.parametrize(
    ("scenario", "kind", "status", "message"),
    [
        ("status_500", "http_status", 500, "HTTP 500 Internal Server Error"),
        (
            "status_503",
            "http_status",
            503,
            "HTTP 503 Service Unavailable; the server asked us to wait 120 s",
        ),
        (
            "retry_after_429",
            "http_status",
            429,
            "HTTP 429 Too Many Requests; the server asked us to wait 120 s",
        ),
        ("not_found_404", "http_status", 404, "HTTP 404 Not Found"),
        ("gone_410", "gone", 410, "HTTP 410 Gone: the publisher removed this feed"),
    ],
)
def test_http_errors_are_typed_with_plain_messages(
    feed_server: FeedServer, scenario: str, kind: str, status: int, message: str
) -> None:
    feed_server.add_scenario("/bad", scenario)
    error = fetch_error(source(feed_server.url("/bad")))
    assert (error.kind, error.status, error.message) == (kind, status, message)
    assert error.retry_after == (120.0 if status in (429, 503) else None)


def test_retry_after_as_http_date(feed_server: FeedServer) -> None:
    feed_server.add_scenario(
        "/busy", "retry_after_429", retry_after="Fri, 01 Jan 2100 00:00:00 GMT"
    )
    error = fetch_error(source(feed_server.url("/busy")))
    assert error.retry_after is not None
    assert error.retry_after > 365 * 86400


def test_parse_retry_after_forms() -> None:
    now = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)
    assert parse_retry_after("30", now=now) == 30.0
    assert parse_retry_after("Fri, 21 Aug 2026 09:02:00 GMT", now=now) == 120.0
    assert parse_retry_after("Fri, 21 Aug 2026 08:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


def test_no_answer_hits_the_total_deadline(feed_server: FeedServer) -> None:
    feed_server.add_scenario("/stall", "timeout")
    error = fetch_error(source(feed_server.url("/stall"), timeout=0.5))
    assert error.kind == "timeout"
    assert error.message == "gave up after 0.5 s: the server did not answer"


def test_trickle_is_stopped_by_the_total_deadline_not_the_read_timeout(
    feed_server: FeedServer,
) -> None:
    feed_server.add_scenario("/slow", "trickle", interval=0.05)
    # Each byte arrives well within the read timeout; only the total deadline can stop it.
    error = fetch_error(source(feed_server.url("/slow"), timeout=0.6), Fetcher(read_timeout=5))
    assert error.kind == "timeout"
    assert error.message == "gave up after 0.6 s: the server sent the body too slowly"


def test_read_timeout_is_a_timeout(feed_server: FeedServer) -> None:
    feed_server.add_scenario("/stall", "timeout")
    error = fetch_error(source(feed_server.url("/stall"), timeout=5), Fetcher(read_timeout=0.3))
    assert error.kind == "timeout"
    assert error.message == "127.0.0.1 sent nothing for 0.3 s, so we gave up"


@pytest.mark.parametrize("declared", [False, True])
def test_body_over_the_cap(feed_server: FeedServer, declared: bool) -> None:
    feed_server.add_scenario("/big", "too_large", size=300_000, content_length=declared)
    error = fetch_error(source(feed_server.url("/big"), max_bytes=100_000))
    assert error.kind == "too_large"
    assert error.message == "body larger than 100 KB after decompression"


def test_gzip_bomb_stops_at_the_cap_early(feed_server: FeedServer) -> None:
    feed_server.add_scenario("/bomb", "gzip_bomb")
    error = fetch_error(source(feed_server.url("/bomb"), max_bytes=10_000_000))
    assert error.kind == "too_large"
    assert error.message == "body larger than 10 MB after decompression"


def test_stacked_encodings_are_refused(feed_server: FeedServer) -> None:
    feed_server.add_scenario("/bomb2", "gzip_bomb", size=1_000_000, stacked=True)
    error = fetch_error(source(feed_server.url("/bomb2")))
    assert error.kind == "decode"
    assert error.message == "the server stacked compressions (gzip, gzip); refusing the body"


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_bodies_are_decoded(feed_server: FeedServer, encoding: str) -> None:
    feed_server.add_scenario("/z.xml", "compressed", encoding=encoding)
    result = run(fetch_one(source(feed_server.url("/z.xml"))))
    assert result.body == SMALL_FEED


def test_unknown_encoding_is_refused(feed_server: FeedServer) -> None:
    feed_server.add_scenario("/br.xml", "compressed", encoding="br")
    error = fetch_error(source(feed_server.url("/br.xml")))
    assert error.kind == "decode"
    assert error.message == "the server used br compression, which we did not ask for"


def test_corrupt_gzip_is_a_decode_error(feed_server: FeedServer) -> None:
    body = gzip.compress(SMALL_FEED)
    feed_server.add_file(
        "/broken.xml", body[:20] + b"garbage" * 5, headers={"content-encoding": "gzip"}
    )
    error = fetch_error(source(feed_server.url("/broken.xml")))
    assert error.kind == "decode"


def test_redirect_loop(feed_server: FeedServer) -> None:
    feed_server.add_scenario("/loop", "redirect_loop")
    error = fetch_error(source(feed_server.url("/loop")))
    assert error.kind == "redirects"
    assert error.message == f"redirect loop: the server sent us back to {feed_server.url('/loop')}"


def test_redirect_cap(feed_server: FeedServer) -> None:
    feed_server.add_scenario("/chain", "redirect_chain", hops=4)
    error = fetch_error(source(feed_server.url("/chain")), Fetcher(max_redirects=3))
    assert (error.kind, error.message) == ("redirects", "gave up after 3 redirects")
    ok = run(fetch_one(source(feed_server.url("/chain")), Fetcher(max_redirects=4)))
    assert ok.body == SMALL_FEED
    assert ok.url == feed_server.url("/chain?n=4")


def test_redirect_is_followed_and_final_url_reported(feed_server: FeedServer) -> None:
    feed_server.add_file("/new.xml", SMALL_FEED)
    feed_server.add_scenario("/old.xml", "redirect", to="/new.xml")
    result = run(fetch_one(source(feed_server.url("/old.xml"))))
    assert result.status == "ok"
    assert result.url == feed_server.url("/new.xml")


def test_html_page_and_empty_body_are_fetched_for_the_parser(feed_server: FeedServer) -> None:
    # Fetching succeeds; telling "not a feed" apart is the parse step's job (test_parse).
    feed_server.add_scenario("/page", "html_page")
    feed_server.add_scenario("/empty", "empty")
    page = run(fetch_one(source(feed_server.url("/page"))))
    empty = run(fetch_one(source(feed_server.url("/empty"))))
    assert page.headers["content-type"].startswith("text/html")
    assert b"<html>" in (page.body or b"")
    assert empty.status == "ok"
    assert empty.body == b""


def test_connection_refused_is_connect() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = fetch_error(source(f"http://127.0.0.1:{port}/feed.xml"))
    assert error.kind == "connect"
    assert error.message.startswith("could not connect to 127.0.0.1 (")


def test_tls_failure_is_tls(feed_server: FeedServer) -> None:
    feed_server.add_file("/feed.xml", SMALL_FEED)
    url = feed_server.url("/feed.xml").replace("http://", "https://")
    error = fetch_error(source(url, timeout=3))
    assert error.kind == "tls"
    assert error.message.startswith("the secure connection to 127.0.0.1 failed")


def test_dns_failure_is_classified_without_touching_the_network() -> None:
    request = httpx.Request("GET", "http://feeds.example.invalid/rss")
    exc = httpx.ConnectError("[Errno -2] Name or service not known", request=request)
    exc.__cause__ = socket.gaierror(-2, "Name or service not known")
    error = classify(exc, Fetcher())
    assert error.kind == "dns"
    assert error.message == "could not resolve the host name feeds.example.invalid"


def test_bad_scheme_is_protocol() -> None:
    error = fetch_error(source("ftp://127.0.0.1/feed.xml"))
    assert error.kind == "protocol"


def test_per_host_limit_bounds_parallel_requests(feed_server: FeedServer) -> None:
    feed_server.add_scenario("/slow", "trickle", body=b"<rss/>", interval=0.05)

    async def many() -> list[FetchResult]:
        async with Fetcher(per_host=2) as fetcher:
            tasks = [fetcher.fetch(source(feed_server.url("/slow"))) for _ in range(6)]
            return await asyncio.gather(*tasks)

    active = {"now": 0, "peak": 0}
    lock = threading.Lock()
    route = feed_server.routes["/slow"]
    inner = route.handler

    def counting(handler: Any, r: Any) -> None:  # wraps the route to count parallel requests
        with lock:
            active["now"] += 1
            active["peak"] = max(active["peak"], active["now"])
        try:
            inner(handler, r)
        finally:
            with lock:
                active["now"] -= 1

    route.handler = counting
    results = run(many())
    assert [r.body for r in results] == [b"<rss/>"] * 6
    assert active["peak"] == 2


def test_one_bad_feed_does_not_stop_the_others(feed_server: FeedServer) -> None:
    feed_server.add_file("/good.xml", SMALL_FEED)
    feed_server.add_scenario("/stall", "timeout")
    feed_server.add_scenario("/gone", "gone_410")

    async def cycle() -> list[FetchResult | BaseException]:
        async with Fetcher() as fetcher:
            done = await asyncio.gather(
                fetcher.fetch(source(feed_server.url("/stall"), timeout=0.5)),
                fetcher.fetch(source(feed_server.url("/gone"))),
                fetcher.fetch(source(feed_server.url("/good.xml"))),
                return_exceptions=True,
            )
            return list(done)

    stalled, gone, good = run(cycle())
    assert isinstance(stalled, FetchError)
    assert stalled.kind == "timeout"
    assert isinstance(gone, FetchError)
    assert gone.kind == "gone"
    assert isinstance(good, FetchResult)
    assert good.body == SMALL_FEED


def test_per_host_limits_count_each_port_as_its_own_host() -> None:
    from monitor.reader.fetch import _host_key

    assert _host_key("http://Example.com:80/feed") == "example.com"
    assert _host_key("https://example.com:443/feed") == "example.com"
    assert _host_key("https://example.com/feed") == "example.com"
    assert _host_key("http://127.0.0.1:8080/a") == "127.0.0.1:8080"
    assert _host_key("http://127.0.0.1:8081/a") != _host_key("http://127.0.0.1:8080/a")
    assert _host_key("http://[bad") == ""


def test_a_hosts_connection_serves_its_feeds_and_closes_when_none_waits(
    feed_server: FeedServer,
) -> None:
    """One client per host: its feeds share a connection while any of them waits, and it
    is closed (a later feed of that host connects afresh) once none does, even though the
    cycle goes on with another host."""
    feed_server.add_file("/a.xml", SMALL_FEED)
    ports: list[int] = []
    route = feed_server.routes["/a.xml"]
    inner = route.handler

    def recording(handler: Any, r: Any) -> None:  # the client's port names its connection
        ports.append(handler.client_address[1])
        inner(handler, r)

    route.handler = recording
    with FeedServer() as other:
        other.add_scenario("/slow", "trickle", body=b"<rss/>", interval=0.05)

        async def cycle() -> None:
            async with Fetcher(per_host=1) as fetcher:
                slow = asyncio.ensure_future(fetcher.fetch(source(other.url("/slow"))))
                await asyncio.gather(
                    *(fetcher.fetch(source(feed_server.url("/a.xml"))) for _ in range(5))
                )
                assert not slow.done()  # the cycle is still open for the other host
                await fetcher.fetch(source(feed_server.url("/a.xml")))
                await slow

        run(cycle())
    assert len(ports) == 6
    assert len(set(ports[:5])) == 1  # five feeds, one connection
    assert ports[5] != ports[0]  # nothing of the host waited: its connection was closed
