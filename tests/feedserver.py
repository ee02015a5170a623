"""A real HTTP server on 127.0.0.1 (port 0) that serves feeds and misbehaves on request.

Test-only. Use the ``feed_server`` fixture, or ``with FeedServer() as server:`` elsewhere.

    server.add_file("/a.xml", body)                  # 200 with ETag + Last-Modified, 304 on match
    server.add_scenario("/slow.xml", "trickle")       # see SCENARIOS below
    server.url("/a.xml"); server.requests             # [(method, path, {lower-case headers})]
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

SMALL_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Test feed</title><link>http://127.0.0.1/</link>
<item><title>Japan and Korea agree on critical minerals</title>
<link>http://127.0.0.1/news/1</link><guid>news-1</guid>
<pubDate>Fri, 21 Aug 2026 09:00:00 GMT</pubDate></item>
</channel></rss>
"""

HTML_PAGE = b"""<!DOCTYPE html>
<html><head><title>Welcome</title></head>
<body><h1>Our news</h1><p>This page moved; no feed here.</p></body></html>
"""

# Korean titles in EUC-KR with no charset anywhere: neither header nor XML declaration.
_CJK_TITLES = [
    "한미일 정상, 핵심광물 공급망 협력 강화 합의",
    "정부, 희토류 수출 통제에 대응해 비축 확대",
    "일본과 한국 외교장관 회담…북한 문제 논의",
]
LEGACY_CJK_TITLES = tuple(_CJK_TITLES)


def legacy_cjk_feed() -> bytes:
    items = "".join(
        f"<item><title>{t}</title><link>http://127.0.0.1/kr/{i}</link>"
        f"<description>{t} 관련 기사입니다. 자세한 내용은 본문을 참고하세요.</description></item>"
        for i, t in enumerate(_CJK_TITLES)
    )
    text = f'<rss version="2.0"><channel><title>한국 뉴스</title>{items}</channel></rss>'
    return text.encode("euc-kr")


LAST_MODIFIED = "Fri, 21 Aug 2026 09:00:00 GMT"


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up mid-body is what several scenarios are about


@dataclass
class _Route:
    handler: Callable[[BaseHTTPRequestHandler, _Route], None]
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


class FeedServer:
    """Threaded HTTP/1.1 server; routes are exact paths (query string ignored)."""

    def __init__(self) -> None:
        self.routes: dict[str, _Route] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append(("GET", self.path, headers))
                route = server.routes.get(self.path.split("?")[0])
                if route is None:
                    _send(self, 404, b"no such path", {"content-type": "text/plain"})
                    return
                try:
                    route.handler(self, route)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # wakes handlers that stall on purpose
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_file(
        self,
        path: str,
        body: bytes,
        *,
        headers: dict[str, str] | None = None,
        status: int = 200,
    ) -> None:
        """Serve ``body`` with ETag and Last-Modified; answer 304 to a matching request."""
        base = {
            "content-type": "application/rss+xml; charset=utf-8",
            "etag": f'"{hashlib.sha256(body).hexdigest()[:16]}"',
            "last-modified": LAST_MODIFIED,
        }
        base.update({k.lower(): v for k, v in (headers or {}).items()})
        self.routes[path] = _Route(_serve_file, body=body, status=status, headers=base)

    def add_scenario(self, path: str, name: str, **params: Any) -> None:
        """Register a misbehaving (or special) route; see SCENARIOS for names and params."""
        if name not in SCENARIOS:
            raise ValueError(f"unknown scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}")
        SCENARIOS[name](self, path, params)

    def count(self, path: str) -> int:
        return sum(1 for _, p, _ in self.requests if p.split("?")[0] == path)


def _send(
    handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]
) -> None:
    handler.send_response(status)
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.send_header("content-length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _serve_file(handler: BaseHTTPRequestHandler, route: _Route) -> None:
    etag = route.headers.get("etag")
    modified = route.headers.get("last-modified")
    inm = handler.headers.get("if-none-match")
    ims = handler.headers.get("if-modified-since")
    if route.status == 200 and (
        (inm is not None and etag is not None and inm == etag)
        or (inm is None and ims is not None and modified is not None and ims == modified)
    ):
        keep = {k: v for k, v in route.headers.items() if k in ("etag", "last-modified")}
        handler.send_response(304)
        for key, value in keep.items():
            handler.send_header(key, value)
        handler.send_header("content-length", "0")
        handler.end_headers()
        return
    _send(handler, route.status, route.body, route.headers)


def _stream(
    handler: BaseHTTPRequestHandler,
    chunks: Iterator[bytes],
    headers: dict[str, str],
    delay: float = 0.0,
    stopping: threading.Event | None = None,
) -> None:
    """Send a close-delimited body (no Content-Length), optionally pausing between chunks."""
    handler.send_response(200)
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.send_header("connection", "close")
    handler.end_headers()
    handler.close_connection = True
    for chunk in chunks:
        handler.wfile.write(chunk)
        handler.wfile.flush()
        if delay and stopping is not None and stopping.wait(delay):
            return


def _scenario(
    make: Callable[[FeedServer, dict[str, Any]], _Route],
) -> Callable[[FeedServer, str, dict[str, Any]], None]:
    def register(server: FeedServer, path: str, params: dict[str, Any]) -> None:
        server.routes[path] = make(server, params)

    return register


def _fixed(status: int, body: bytes, **headers: str) -> Callable[..., _Route]:
    def make(server: FeedServer, params: dict[str, Any]) -> _Route:
        extra = {k.replace("_", "-"): v for k, v in headers.items()}
        extra.update(params.get("headers", {}))
        return _Route(
            lambda h, r: _send(h, r.status, r.body, r.headers),
            body=params.get("body", body),
            status=status,
            headers=extra,
        )

    return make


def _not_modified(keep: str) -> Callable[..., _Route]:
    def make(server: FeedServer, params: dict[str, Any]) -> _Route:
        body = params.get("body", SMALL_FEED)
        headers = {"content-type": "application/rss+xml"}
        if keep == "etag":
            headers["etag"] = params.get("etag", '"v1"')
        else:
            headers["last-modified"] = params.get("last_modified", LAST_MODIFIED)
        return _Route(_serve_file, body=body, headers=headers)

    return make


def _retry(status: int, default: str | None) -> Callable[..., _Route]:
    def make(server: FeedServer, params: dict[str, Any]) -> _Route:
        headers = {"content-type": "text/plain"}
        wait = params.get("retry_after", default)
        if wait is not None:
            headers["retry-after"] = str(wait)
        return _fixed(status, b"slow down", **headers)(server, {})

    return make


def _stall(server: FeedServer, params: dict[str, Any]) -> _Route:
    def handle(handler: BaseHTTPRequestHandler, route: _Route) -> None:
        server.stopping.wait(params.get("seconds", 60.0))  # never answers within a test
        handler.close_connection = True

    return _Route(handle)


def _trickle(server: FeedServer, params: dict[str, Any]) -> _Route:
    body = params.get("body", SMALL_FEED)
    interval = params.get("interval", 0.2)

    def handle(handler: BaseHTTPRequestHandler, route: _Route) -> None:
        one_by_one = (body[i : i + 1] for i in range(len(body)))
        _stream(
            handler, one_by_one, {"content-type": "application/rss+xml"}, interval, server.stopping
        )

    return _Route(handle)


def _too_large(server: FeedServer, params: dict[str, Any]) -> _Route:
    size = params.get("size", 2_000_000)
    declare = params.get("content_length", False)
    filler = b"<!-- " + b"x" * 65_000 + b" -->\n"

    def chunks() -> Iterator[bytes]:
        yield b'<?xml version="1.0"?><rss version="2.0"><channel>'
        for _ in range(size // len(filler) + 1):
            yield filler

    def handle(handler: BaseHTTPRequestHandler, route: _Route) -> None:
        if declare:
            body = b"".join(chunks())
            _send(handler, 200, body, {"content-type": "application/rss+xml"})
        else:
            _stream(handler, chunks(), {"content-type": "application/rss+xml"})

    return _Route(handle)


@functools.lru_cache(maxsize=4)
def _bomb_bytes(size: int, stacked: bool) -> bytes:
    """``size`` zero bytes, gzip-compressed incrementally (never held in memory)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    parts = [packer.compress(block) for _ in range(size // len(block))]
    parts.append(packer.flush())
    data = b"".join(parts)
    return gzip.compress(data) if stacked else data


def _gzip_bomb(server: FeedServer, params: dict[str, Any]) -> _Route:
    stacked = params.get("stacked", False)
    body = _bomb_bytes(params.get("size", 50_000_000), stacked)
    encoding = "gzip, gzip" if stacked else "gzip"
    return _fixed(200, body, content_type="application/rss+xml", content_encoding=encoding)(
        server, {}
    )


def _gzipped(server: FeedServer, params: dict[str, Any]) -> _Route:
    raw = params.get("body", SMALL_FEED)
    encoding = params.get("encoding", "gzip")
    if encoding == "deflate":
        body = zlib.compress(raw)
    elif encoding == "gzip":
        body = gzip.compress(raw)
    else:
        body = raw
    return _fixed(200, body, content_type="application/rss+xml", content_encoding=encoding)(
        server, {}
    )


def _redirect(server: FeedServer, params: dict[str, Any]) -> _Route:
    return _fixed(params.get("status", 301), b"", location=params["to"])(server, {})


def _redirect_loop(server: FeedServer, params: dict[str, Any]) -> _Route:
    """path → path?again → path → …: two URLs sending the client back and forth."""

    def handle(handler: BaseHTTPRequestHandler, route: _Route) -> None:
        here, _, query = handler.path.partition("?")
        target = here if query else f"{here}?again"
        _send(handler, 302, b"", {"location": target})

    return _Route(handle)


def _redirect_chain(server: FeedServer, params: dict[str, Any]) -> _Route:
    """path?n=0 → path?n=1 → … → path?n=hops, which serves the feed (no loop)."""
    hops = params.get("hops", 10)
    body = params.get("body", SMALL_FEED)

    def handle(handler: BaseHTTPRequestHandler, route: _Route) -> None:
        here, _, query = handler.path.partition("?")
        n = int(query[2:]) if query.startswith("n=") else 0
        if n >= hops:
            _send(handler, 200, body, {"content-type": "application/rss+xml"})
        else:
            _send(handler, 302, b"", {"location": f"{here}?n={n + 1}"})

    return _Route(handle)


def _reason(server: FeedServer, params: dict[str, Any]) -> _Route:
    """An error status with the server's own reason phrase (params: status=500, reason)."""

    def handle(handler: BaseHTTPRequestHandler, route: _Route) -> None:
        handler.send_response(params.get("status", 500), params["reason"])
        handler.send_header("content-length", "0")
        handler.end_headers()

    return _Route(handle)


SCENARIOS: dict[str, Callable[[FeedServer, str, dict[str, Any]], None]] = {
    # 304 when If-None-Match matches (params: body, etag)
    "not_modified_etag": _scenario(_not_modified("etag")),
    # 304 when If-Modified-Since matches (params: body, last_modified)
    "not_modified_last_modified": _scenario(_not_modified("last_modified")),
    # 429 with Retry-After (param retry_after: seconds or an HTTP date; default 120)
    "retry_after_429": _scenario(_retry(429, "120")),
    "status_500": _scenario(_fixed(500, b"internal error", content_type="text/plain")),
    # 503 with Retry-After (param retry_after, default 120; None for no header)
    "status_503": _scenario(_retry(503, "120")),
    # accepts the connection, never answers (param seconds, default 60)
    "timeout": _scenario(_stall),
    # 1 byte every interval seconds (params: body, interval=0.2)
    "trickle": _scenario(_trickle),
    # a body of size bytes (default 2 MB), close-delimited unless content_length=True
    "too_large": _scenario(_too_large),
    # size (default 50 MB) of zeros gzip-compressed; stacked=True sends "gzip, gzip"
    "gzip_bomb": _scenario(_gzip_bomb),
    # a feed compressed with params encoding="gzip" | "deflate" | anything (sent as is)
    "compressed": _scenario(_gzipped),
    "redirect": _scenario(_redirect),  # params: to (a path or URL), status=301
    "redirect_loop": _scenario(_redirect_loop),
    "redirect_chain": _scenario(_redirect_chain),  # params: hops=10, body
    "html_page": _scenario(_fixed(200, HTML_PAGE, content_type="text/html; charset=utf-8")),
    "empty": _scenario(_fixed(200, b"", content_type="application/rss+xml")),
    "gone_410": _scenario(_fixed(410, b"gone", content_type="text/plain")),
    "not_found_404": _scenario(_fixed(404, b"not found", content_type="text/plain")),
    # EUC-KR Korean feed declaring no charset anywhere (titles in LEGACY_CJK_TITLES)
    "legacy_cjk": _scenario(_fixed(200, legacy_cjk_feed(), content_type="application/xml")),
    "reason_phrase": _scenario(_reason),  # params: reason (any text), status=500
}


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


# ── article pages (issue 15): real pages from tests/data/articles (see SOURCES.md) ────────

ARTICLES = Path(__file__).resolve().parent / "data" / "articles"


def article_page(name: str) -> bytes:
    """A real article page: ``trafilatura/<file>.html`` or ``benchmark/<sha>`` (gzipped)."""
    if name.startswith("benchmark/"):
        return gzip.decompress(
            (ARTICLES / "benchmark" / "html" / f"{name[10:]}.html.gz").read_bytes()
        )
    return (ARTICLES / name).read_bytes()


def add_article(
    server: FeedServer, path: str, body: bytes, content_type: str = "text/html; charset=utf-8"
) -> str:
    """Serve an article page at ``path``; returns its URL."""
    server.add_file(path, body, headers={"content-type": content_type})
    return server.url(path)


def feed_of(items: list[tuple[str, str, str]], title: str = "Press releases") -> bytes:
    """RSS 2.0 with (title, link, description) items, as a government press feed has them."""
    from xml.sax.saxutils import escape

    parts = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link><guid>{escape(link)}</guid>"
        f"<description>{escape(d)}</description>"
        f"<pubDate>Tue, 01 Dec 2026 0{i % 10}:00:00 GMT</pubDate></item>"
        for i, (t, link, d) in enumerate(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>http://127.0.0.1/</link>{parts}</channel></rss>"
    ).encode()
