"""A tiny HTTP server for the demo: shipped snapshots on 127.0.0.1, port chosen by the OS.

It answers conditional GETs like a well-behaved publisher (ETag and Last-Modified, 304 when
nothing changed), so polling the demo twice shows the steady state: nothing new is stored.
"""

from __future__ import annotations

import hashlib
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from monitor.demo import ARTICLE_FEED, article_feed, articles, snapshots

# Fixed so that every demo run serves the same validators.
LAST_MODIFIED = formatdate(1_787_400_000, usegmt=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = self.path.lstrip("/")
        body = self.server.bodies.get(path)
        kind = "text/html; charset=utf-8" if path.startswith("articles/") else "application/rss+xml"
        if path == ARTICLE_FEED.file:
            port = self.server.server_address[1]
            body = article_feed(f"http://127.0.0.1:{port}")
        if body is None:
            self.send_error(404, "no such snapshot")
            return
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag or (
            self.headers.get("If-None-Match") is None
            and self.headers.get("If-Modified-Since") == LAST_MODIFIED
        ):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", LAST_MODIFIED)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the demo prints its own story; request logs would drown it


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    bodies: dict[str, bytes]


class SnapshotServer:
    """Serves every shipped snapshot; ``url(file)`` is its address while running."""

    def __init__(self, port: int = 0) -> None:
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.bodies = {
            entry.name: entry.read_bytes()
            for entry in snapshots().iterdir()
            if entry.name.endswith((".xml", ".rss"))
        }
        self._server.bodies.update(
            (f"articles/{entry.name}", entry.read_bytes())
            for entry in articles().iterdir()
            if entry.name.endswith(".html")
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, file: str) -> str:
        return f"http://127.0.0.1:{self.port}/{file}"

    def __enter__(self) -> SnapshotServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
