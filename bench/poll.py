"""Poll-cycle benchmark: N feeds on 127.0.0.1 with injected latency, naive baseline beside.

    python bench/poll.py               # 1,000 feeds x 50 items, 100 ms latency (make bench)
    python bench/poll.py --feeds 200   # a quick run

Feeds are built from the items of the real snapshots shipped in monitor/demo/snapshots,
each feed with its own guids, and served by an asyncio HTTP server in a child process (so
its CPU is not counted in the monitor's peak RSS) on --hosts ports of 127.0.0.1. Each port
stands for one publisher host: the fetcher keys its per-host limits by host and port, so the
100 ports are 100 publishers (1,000 feeds on one host:port would be one publisher throttled
to a handful of connections, which is not what a real feed list looks like).

Reported in one run: the naive baseline (sequential ``feedparser.parse(url)`` into sqlite3,
timed on a sample of feeds and extrapolated linearly), the cold cycle (empty archive), the
steady cycle (every feed answers 304), items stored per second and peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import email.utils
import hashlib
import html
import json
import os
import resource
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SNAPSHOTS = ROOT / "monitor" / "demo" / "snapshots"


# ── the feeds ────────────────────────────────────────────────────────────────────────────


def corpus_items() -> list[dict[str, str]]:
    import feedparser

    items = []
    for path in sorted(SNAPSHOTS.iterdir()):
        if path.suffix not in (".xml", ".rss"):
            continue
        parsed = feedparser.parse(path.read_bytes())
        for e in parsed.entries:
            when = e.get("published_parsed") or e.get("updated_parsed")
            items.append(
                {
                    "title": e.get("title", ""),
                    "link": e.get("link", ""),
                    "summary": e.get("summary", "")[:2000],
                    "date": email.utils.formatdate(calendar.timegm(when), usegmt=True)
                    if when
                    else "",
                }
            )
    return items


def feed_body(n: int, per_feed: int, pool: list[dict[str, str]]) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>',
        f"<title>Bench feed {n}</title><link>http://127.0.0.1/{n}</link>",
    ]
    for j in range(per_feed):
        item = pool[(n * per_feed + j) % len(pool)]
        parts.append(
            "<item>"
            f"<title>{html.escape(item['title'])}</title>"
            f"<link>{html.escape(item['link'])}</link>"
            f'<guid isPermaLink="false">bench-{n}-{j}</guid>'
            f"<description>{html.escape(item['summary'])}</description>"
            + (f"<pubDate>{item['date']}</pubDate>" if item["date"] else "")
            + "</item>"
        )
    parts.append("</channel></rss>\n")
    return "".join(parts).encode("utf-8")


# ── the server (child process) ───────────────────────────────────────────────────────────


def serve(feeds: int, per_feed: int, latency: float, ports: int) -> None:
    pool = corpus_items()
    bodies = {f"/feed/{n}.xml": feed_body(n, per_feed, pool) for n in range(feeds)}
    etags = {p: '"' + hashlib.sha1(b).hexdigest()[:16] + '"' for p, b in bodies.items()}
    modified = email.utils.formatdate(1_787_400_000, usegmt=True)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                target = line.split(b" ")[1].decode()
                headers = {}
                while (h := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    key, _, value = h.decode("latin-1").partition(":")
                    headers[key.strip().lower()] = value.strip()
                await asyncio.sleep(latency)
                body = bodies.get(target)
                close = headers.get("connection", "").lower() == "close"
                if body is None:
                    head, body = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n", b""
                elif headers.get("if-none-match") == etags[target]:
                    head, body = f"HTTP/1.1 304 Not Modified\r\nETag: {etags[target]}\r\n", b""
                else:
                    head = (
                        "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8\r\n"
                        f"Content-Length: {len(body)}\r\nETag: {etags[target]}\r\n"
                        f"Last-Modified: {modified}\r\n"
                    )
                if close:
                    head += "Connection: close\r\n"
                writer.write(head.encode() + b"\r\n" + body)
                await writer.drain()
                if close:
                    break
        except (ConnectionError, IndexError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [
            await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024) for _ in range(ports)
        ]
        print(" ".join(str(s.sockets[0].getsockname()[1]) for s in servers), flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def feed_urls(port_list: list[int], feeds: int) -> list[str]:
    return [f"http://127.0.0.1:{port_list[n % len(port_list)]}/feed/{n}.xml" for n in range(feeds)]


# ── the naive baseline ───────────────────────────────────────────────────────────────────


def baseline(urls: list[str], db_path: Path) -> tuple[float, int]:
    """Sequential feedparser.parse(url) into sqlite3, one commit per feed."""
    import feedparser

    conn = sqlite3.connect(db_path)
    conn.execute(
        "CREATE TABLE items (guid TEXT PRIMARY KEY, feed TEXT, title TEXT, link TEXT,"
        " summary TEXT, published TEXT)"
    )
    stored = 0
    start = time.perf_counter()
    for url in urls:
        parsed = feedparser.parse(url)
        for e in parsed.entries:
            cur = conn.execute(
                "INSERT OR IGNORE INTO items VALUES (?, ?, ?, ?, ?, ?)",
                (
                    e.get("id"),
                    url,
                    e.get("title"),
                    e.get("link"),
                    e.get("summary"),
                    e.get("published"),
                ),
            )
            stored += cur.rowcount
        conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed, stored


# ── the monitor ──────────────────────────────────────────────────────────────────────────


def load_rules(rules_dir: Path | None) -> tuple[Any, str]:
    """The rule set to match with, and how to describe it in the report."""
    from monitor.errors import ConfigError
    from monitor.pipeline.rules import Rules

    if rules_dir is None:
        return None, "none"
    rules = Rules(rules_dir)
    try:
        rules.load()
    except ConfigError as exc:
        return None, f"none ({rules_dir} did not load: {exc.message})"
    return rules, f"{len(rules.book.rules)} from {rules_dir}"  # type: ignore[union-attr]


class FirstItem(threading.Thread):
    """When the first item of a cycle became visible to a reader of the archive (committed),
    in seconds from ``start``: what a user waiting on a first `monitor poll` sees first; and
    when the last one did (``last``): all stored and matched, the rest of the cycle being
    the writer's index fill (monitor/store/indexfill.py) and the shutdown."""

    def __init__(self, db: Path, start: float, before: int) -> None:
        super().__init__(daemon=True)
        self.db, self.start_at, self.before = db, start, before
        self.seconds: float | None = None
        self.last: float | None = None
        self._done = threading.Event()

    def run(self) -> None:
        top = self.before
        while not self._done.wait(0.01):
            try:
                con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=0.1)
                try:  # max(rowid), not count(*): a look-up, not a scan of the table
                    (now,) = con.execute("SELECT coalesce(max(rowid), 0) FROM items").fetchone()
                finally:
                    con.close()
            except sqlite3.Error:
                continue  # not created or not migrated yet
            if now > top:
                top = now
                self.last = time.perf_counter() - self.start_at
                if self.seconds is None:
                    self.seconds = self.last

    def stop(self) -> float | None:
        self._done.set()
        self.join()
        return self.seconds


def run_cycle(
    db: Path, urls: list[str], rules: Any, workers: int | None
) -> tuple[float, Any, FirstItem]:
    """One cycle: its wall time, its summary, and when its first and last items were
    stored."""
    from monitor.model import FeedSource
    from monitor.pipeline.poll import poll_once

    # full_text "never": the items link to the corpus's real hosts, which this machine cannot
    # reach, so "auto" (short summaries) would time article pages out on DNS and measure
    # that; reading article pages has its own benchmark (bench/fulltext.py).
    sources = [
        FeedSource(
            f"bench-{n}", f"Bench {n}", url, "news", "", "en", 900, timeout=60.0,
            full_text="never",
        )
        for n, url in enumerate(urls)
    ]  # fmt: skip
    start = time.perf_counter()
    first = FirstItem(db, start, before=0)
    first.start()
    summary = poll_once(db, sources, rules=rules, workers=workers)
    took = time.perf_counter() - start
    first.stop()
    return took, summary, first


def run_process(
    tmp: Path, urls: list[str], rules_dir: str, workers: int | None, *, embed: bool = True
) -> tuple[float, str]:
    """One cold cycle as a user runs it: `monitor poll --once` as a new process (start-up,
    imports, the forkserver and its workers included), into an empty archive. With the
    embed extra installed it then embeds the matches (loading the model, about 0.9 s);
    ``embed=False`` times it without that pass (MONITOR_EMBED=0, as without the extra)."""
    lines = ["defaults:", "  interval: 15m", "  timeout: 60s", "  full_text: never", "feeds:"]
    for n, url in enumerate(urls):
        lines += [f"  - id: bench-{n}", f"    name: Bench {n}", f"    url: {url}"]
    tmp = tmp / ("process" if embed else "process-no-embed")
    tmp.mkdir()
    feeds = tmp / "process-feeds.yaml"
    feeds.write_text("\n".join(lines) + "\n")
    monitor = Path(sys.executable).with_name("monitor")
    argv = [str(monitor), "--feeds", str(feeds), "--db", str(tmp / "process.db")]
    argv += ["--rules", rules_dir or str(tmp / "no-rules"), "--settings", str(tmp / "none.yaml")]
    argv += ["poll", "--once", "--json"] + ([] if workers is None else ["--workers", str(workers)])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = dict(os.environ, **({} if embed else {"MONITOR_EMBED": "0"}))
    done = subprocess.run(argv, capture_output=True, text=True, cwd=tmp, env=env)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode not in (0, 1):
        return took, f"exit {done.returncode}: {done.stderr.strip()[-300:]}"
    try:
        got = json.loads(done.stdout)
    except ValueError:
        return took, f"unreadable output: {done.stdout[-200:]!r}"
    return took, (
        f"{got['ok']} ok, {got['failed']} failed; {got['new_items']} new items, "
        f"{got['matches']} matches; CPU {cpu:.1f} s (the process and the children it waited for)"
    )


class MemorySampler(threading.Thread):
    """Peak resident memory and CPU time of this process and its descendants (the parser
    processes are children of the forkserver, which rusage does not see), from /proc."""

    PAGE = os.sysconf("SC_PAGE_SIZE")
    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, exclude: int) -> None:
        super().__init__(daemon=True)
        self.exclude = exclude  # the feed server: not the monitor's memory
        self.peak_self = self.peak_total = self.peak_child = 0
        self.cpu: dict[int, float] = {}  # pid -> CPU seconds at its last sample
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.2):
            self.sample()

    def stop(self) -> None:
        self._done.set()
        self.join()

    def sample(self) -> None:
        parents: dict[int, int] = {}
        rss: dict[int, int] = {}
        ticks: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * self.PAGE
            ticks[int(entry)] = int(fields[11]) + int(fields[12])
        me = os.getpid()

        def mine(pid: int) -> bool:
            while pid > 1:
                if pid == self.exclude:
                    return False
                if pid == me:
                    return True
                pid = parents.get(pid, 1)
            return False

        tree = [pid for pid in rss if mine(pid)]
        self.peak_self = max(self.peak_self, rss.get(me, 0))
        self.peak_total = max(self.peak_total, sum(rss[p] for p in tree))
        self.peak_child = max([self.peak_child, *(rss[p] for p in tree if p != me)])
        for p in tree:
            self.cpu[p] = ticks[p] / self.TICK

    def cpu_seconds(self) -> float:
        """CPU used so far by the monitor and every process it started (sampled)."""
        self.sample()
        return sum(self.cpu.values())


def seconds(value: float | None) -> str:
    return f"{value:8.2f} s" if value is not None else "       -"


def mb(size: int) -> str:
    return f"{size / 1e6:.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000, help="feeds served (default 1000)")
    parser.add_argument("--items", type=int, default=50, help="items per feed (default 50)")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per request (0.1)")
    parser.add_argument("--hosts", type=int, default=100, help="ports standing for hosts (100)")
    parser.add_argument(
        "--baseline-sample", type=int, default=50, help="feeds timed for the baseline"
    )
    parser.add_argument("--workers", type=int, default=None, help="parser processes (CPU count)")
    parser.add_argument("--rules", default=str(ROOT / "rules"), help="rules folder; '' for none")
    parser.add_argument(
        "--process",
        action="store_true",
        help="also time one cold cycle as a `monitor poll --once` process",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.feeds, args.items, args.latency, args.hosts)
        return

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--feeds", str(args.feeds), "--items", str(args.items),
         "--latency", str(args.latency), "--hosts", str(args.hosts)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        ports = [int(p) for p in server.stdout.readline().split()]
        urls = feed_urls(ports, args.feeds)
        rules, rules_note = load_rules(Path(args.rules) if args.rules else None)
        with tempfile.TemporaryDirectory() as tmp:
            sample = urls[: min(args.baseline_sample, args.feeds)]
            base_time, base_items = baseline(sample, Path(tmp) / "baseline.db")
            base_total = base_time * args.feeds / len(sample)

            db = Path(tmp) / "monitor.db"
            memory = MemorySampler(exclude=server.pid)
            memory.start()
            cpu_start = memory.cpu_seconds()
            cold_time, cold, first_item = run_cycle(db, urls, rules, args.workers)
            cpu_cold = memory.cpu_seconds()
            steady_time, steady, _ = run_cycle(db, urls, rules, args.workers)
            cpu_steady = memory.cpu_seconds()
            memory.stop()
            size = db.stat().st_size
            process = bare = None
            if args.process:
                process = run_process(Path(tmp), urls, args.rules, args.workers)
                from monitor.embed.model import available as embed_available

                if embed_available():
                    bare = run_process(Path(tmp), urls, args.rules, args.workers, embed=False)
    finally:
        server.terminate()
        server.wait()

    new = cold.new_items  # type: ignore[attr-defined]
    print(f"\nPoll benchmark: {args.feeds} feeds x {args.items} items on 127.0.0.1 "
          f"({args.hosts} ports as hosts), {args.latency * 1000:.0f} ms latency per request, "
          f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} at the start); "
          f"rules: {rules_note}")  # fmt: skip
    print(f"command: {shlex.join(['python', 'bench/poll.py', *sys.argv[1:]])}")
    rows = [
        ("naive baseline", f"{base_total:8.1f} s",
         f"extrapolated from {len(sample)} feeds ({base_time:.1f} s, {base_items} items): "
         "sequential feedparser.parse(url) + sqlite3"),
        ("cold cycle", f"{cold_time:8.1f} s",
         f"{cold.line()}; {new / cold_time:,.0f} items stored/s; "
         f"{base_total / cold_time:.1f}x faster than the baseline; "
         f"CPU {cpu_cold - cpu_start:.1f} s in all processes"),
        ("first item", seconds(first_item.seconds),
         "from the cold cycle's start until its first item was committed (seen by a reader)"),
        ("all stored", seconds(first_item.last),
         "until its last item was committed, matched (the rest: the index fill, the close)"),
        ("steady cycle", f"{steady_time:8.1f} s",
         f"{steady.line()}; CPU {cpu_steady - cpu_cold:.1f} s in all processes"),
    ]  # fmt: skip
    if process is not None:
        rows.append(
            ("as a process", f"{process[0]:8.1f} s",
             f"`monitor poll --once` into an empty archive, start-up included; "
             f"{base_total / process[0]:.1f}x faster than the baseline; {process[1]}")
        )  # fmt: skip
    if bare is not None:
        rows.append(
            ("  no embedding", f"{bare[0]:8.1f} s",
             f"the same with MONITOR_EMBED=0 (no vectors after the cycle, as without the embed "
             f"extra); {base_total / bare[0]:.1f}x faster than the baseline; {bare[1]}")
        )  # fmt: skip
    for name, took, note in rows:
        print(f"  {name:<15}{took}   {note}")
    for name, summary in (("cold", cold), ("steady", steady)):
        for o in [o for o in summary.outcomes if o.status == "failed"][:3]:
            print(f"  {name} cycle failure: {o.feed_id}: {o.error_kind}: {o.error}")
    print(
        f"  peak RSS       {mb(memory.peak_total)} in all (monitor process "
        f"{mb(memory.peak_self)}, largest parser process {mb(memory.peak_child)})"
    )
    print(f"  archive size   {size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
