"""A poll cycle with full text on: feeds whose items link to real article pages on 127.0.0.1.

    python bench/fulltext.py                       # 20 feeds x 10 items, 2 worker processes
    python bench/fulltext.py --feeds 50 --items 20 --workers 2

Each feed has headline-only items (as press feeds do) linking to the 16 real benchmark pages
in tests/data/articles/benchmark (cycled, each URL distinct). The same feeds are polled into
fresh archives: full_text: never (the baseline), then always; the next cycle on the
full-text archive reads the pages the budget left (feeds answer 304), and the one after
shows the steady state (no page is fetched again). The
cycle budget (monitor.pipeline.fulltext: PAGES_PER_CYCLE, PAGES_PER_FEED) applies as shipped,
so with more than PAGES_PER_CYCLE new items the rest wait for the next cycle.
"""

from __future__ import annotations

import argparse
import gzip
import sqlite3
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = ROOT / "tests" / "data" / "articles" / "benchmark" / "html"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, tuple[bytes, str]]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        if self.headers.get("If-None-Match") == '"1"':
            self.send_response(304)
            self.end_headers()
            return
        body, kind = self.server.routes.get(self.path, (b"", ""))
        if not kind:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"1"')
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from monitor.model import FeedSource
    from monitor.pipeline import fulltext
    from monitor.pipeline.poll import poll_once

    pages = [gzip.decompress(p.read_bytes()) for p in sorted(PAGES.glob("*.html.gz"))]
    server = _Server(("127.0.0.1", 0), _Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    server.routes = {}
    for f in range(args.feeds):
        items = ""
        for i in range(args.items):
            path = f"/a/{f}/{i}"
            server.routes[path] = (pages[(f * args.items + i) % len(pages)], "text/html")
            items += (
                f"<item><title>Press release {f}-{i}</title><link>{base}{path}</link>"
                f"<guid>{base}{path}</guid></item>"
            )
        feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>f{f}</title>{items}'
        server.routes[f"/f/{f}.xml"] = ((feed + "</channel></rss>").encode(), "application/rss+xml")
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def sources(full_text: str) -> list[FeedSource]:
        return [
            FeedSource(f"f{f}", f"f{f}", f"{base}/f/{f}.xml", "government", "JP", "en", 900,
                       full_text=full_text)  # type: ignore[arg-type]
            for f in range(args.feeds)
        ]  # fmt: skip

    print(
        f"{args.feeds} feeds x {args.items} items, {args.workers} workers; budget "
        f"{fulltext.PAGES_PER_CYCLE} pages / {fulltext.SECONDS_PER_CYCLE:g} s "
        f"a cycle, {fulltext.PAGES_PER_FEED} a feed"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for label, mode, db in (
            ("full_text: never (baseline)", "never", "never.db"),
            ("full_text: always, cold", "always", "always.db"),
            ("full_text: always, next cycle", "always", "always.db"),
            ("full_text: always, steady", "always", "always.db"),
        ):
            t0 = time.perf_counter()
            summary = poll_once(Path(tmp) / db, sources(mode), workers=args.workers)
            took = time.perf_counter() - t0
            with sqlite3.connect(Path(tmp) / db) as conn:
                ok, waiting = conn.execute(
                    "SELECT count(*) FILTER (WHERE body_status = 'ok'),"
                    " count(*) FILTER (WHERE body_status = 'pending') FROM items"
                ).fetchone()
            print(
                f"  {label:<30} {took:6.2f} s  {summary.new_items} new items, "
                f"{ok} bodies stored, {waiting} waiting for the next cycle"
            )
    server.shutdown()


if __name__ == "__main__":
    main()
