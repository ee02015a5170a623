"""A poll killed with SIGKILL mid-cycle, then rerun: a sound archive, every item exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from monitor.model import FeedSource
from monitor.pipeline.parse_worker import parse_body
from monitor.store.db import utcnow
from tests.feedserver import FeedServer

DATA = Path(__file__).parent / "data" / "feeds"
FEED = FeedSource("feed", "Feed", "http://127.0.0.1/", "news", "", "en", 900)
FEEDS = 24
LATENCY = 0.3  # seconds per request while the first run is killed: keeps the cycle long
# the smaller real feeds (under 50 KB): parsing is the slow part of these tests
FILES = sorted(p for p in DATA.iterdir() if p.stat().st_size < 50_000)


def serve(server: FeedServer, delay: list[float]) -> list[str]:
    """FEEDS feeds cycling over real corpus files, each answer delayed by delay[0]."""
    paths = []
    for n in range(FEEDS):
        path = f"/feed-{n}.xml"
        server.add_file(path, FILES[n % len(FILES)].read_bytes())
        route = server.routes[path]
        serve_file = route.handler

        def slow(handler: object, r: object, serve_file: object = serve_file) -> None:
            time.sleep(delay[0])
            serve_file(handler, r)  # type: ignore[operator]

        route.handler = slow  # type: ignore[assignment]
        paths.append(path)
    return paths


def write_feeds_yaml(path: Path, server: FeedServer, paths: list[str]) -> None:
    lines = ["defaults:", "  interval: 15m", "  kind: news", "  lang: en", "feeds:"]
    for n, p in enumerate(paths):
        lines += [f"  - id: feed-{n}", f"    name: Feed {n}", f"    url: {server.url(p)}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_sigkill_mid_cycle_then_rerun(feed_server: FeedServer, tmp_path: Path) -> None:
    delay = [0.0]
    paths = serve(feed_server, delay)

    # How many items each feed holds: the reference for "exactly once".
    now = utcnow()
    per_file = [
        len({i.id for i in parse_body(FEED, f.read_bytes(), {}, "", now).items}) for f in FILES
    ]
    expected = {f"feed-{n}": per_file[n % len(FILES)] for n in range(FEEDS)}
    assert all(expected.values())

    write_feeds_yaml(tmp_path / "feeds.yaml", feed_server, paths)
    (tmp_path / "rules").mkdir()
    db = tmp_path / "archive.db"
    command = [
        sys.executable, "-m", "monitor",
        "--feeds", str(tmp_path / "feeds.yaml"),
        "--rules", str(tmp_path / "rules"),
        "--settings", str(tmp_path / "monitor.yaml"),
        "--db", str(db),
        "poll", "--once", "--workers", "2",
    ]  # fmt: skip

    delay[0] = LATENCY
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 30
        stored = 0
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists():
                try:
                    stored = count(db, "SELECT count(*) FROM items")
                except sqlite3.OperationalError:
                    stored = 0  # schema not created yet
                if stored:
                    break
            time.sleep(0.02)
        assert proc.poll() is None, "the poll finished before it could be killed"
        assert 0 < stored < sum(expected.values())
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the poll and its parser processes, mid-cycle
        proc.wait()

    # Whatever committed is whole: a feed marked as read has all its items.
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        read = [r[0] for r in conn.execute("SELECT id FROM feeds WHERE body_hash IS NOT NULL")]
        partial = dict(conn.execute("SELECT feed_id, count(*) FROM items GROUP BY feed_id"))
    assert read
    assert len(read) < FEEDS
    assert {f: partial.get(f, 0) for f in read} == {f: expected[f] for f in read}
    assert set(partial) <= set(read)

    delay[0] = 0.0
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.execute("INSERT INTO items_fts(items_fts) VALUES ('integrity-check')")
        stored_now = dict(conn.execute("SELECT feed_id, count(*) FROM items GROUP BY feed_id"))
    assert stored_now == expected
