"""Archive benchmark: search, CLI and export speed on a generated 1,000,000-item archive.

Items are generated from the vocabulary of the real feed snapshots shipped in the
repository (tests/data/feeds, monitor/demo/snapshots): English titles and summaries are
made of word windows cut from real items (so real phrases occur), Japanese and Korean ones
of character windows. Beside each search the same question is put to raw FTS5 on the same
file in the same run, so the cost of confirming candidates with the rule matcher shows.

    .venv/bin/python bench/archive.py               # 1,000,000 items (about 4 minutes)
    .venv/bin/python bench/archive.py --items 50000 # a quick run

Targets (issue 5): newest-20 <= 10 ms; relevance top-20 <= 100 ms; `monitor search`
end to end <= 400 ms; export >= 50,000 rows/s.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.rules.cjk import has_cjk  # noqa: E402
from monitor.rules.compile import compile_query  # noqa: E402
from monitor.rules.parser import parse_query  # noqa: E402
from monitor.store import candidates as store_candidates  # noqa: E402
from monitor.store import indexfill  # noqa: E402
from monitor.store import search as store_search  # noqa: E402
from monitor.store.db import open_db  # noqa: E402
from monitor.store.trigramflag import in_trigram_sql, needs_trigram  # noqa: E402

CORPUS_DIRS = [ROOT / "tests" / "data" / "feeds", ROOT / "monitor" / "demo" / "snapshots"]
RULES = [
    "jkus-trilateral",
    "japan-korea",
    "critical-minerals",
    "tech-competition",
    "australia-angle",
]
LANG_SHARE = {"en": 0.6, "ja": 0.25, "ko": 0.15}
QUERIES = {
    "two-term": "China trade",
    "phrase": '"White House"',
    "Japanese (3+ chars, trigram)": "ロイター",
    "Japanese (2 chars, scan)": "日本",
}


def _clean(text: str) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", " ", text or ""))
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def corpus_texts() -> dict[str, list[str]]:
    """Real titles and summaries, grouped by script: en (Latin), ja, ko."""
    texts: dict[str, list[str]] = {"en": [], "ja": [], "ko": []}
    files = [p for d in CORPUS_DIRS if d.is_dir() for p in sorted(d.rglob("*")) if p.is_file()]
    for path in files:
        if path.suffix not in (".xml", ".rss", ".atom", ".rdf"):
            continue
        parsed = feedparser.parse(path.read_bytes())
        for entry in parsed.entries:
            for text in (_clean(entry.get("title", "")), _clean(entry.get("summary", ""))):
                if not text:
                    continue
                if re.search(r"[\uac00-\ud7af]", text):
                    texts["ko"].append(text)
                elif has_cjk(text):
                    texts["ja"].append(text)
                else:
                    texts["en"].append(text)
    return texts


class Generator:
    """Titles and summaries cut from real text: word windows (en), character windows (ja, ko)."""

    def __init__(self, texts: dict[str, list[str]], rng: random.Random) -> None:
        self.rng = rng
        self.words = [t.split() for t in texts["en"] if len(t.split()) >= 4]
        self.cjk = {lang: [t for t in texts[lang] if len(t) >= 12] for lang in ("ja", "ko")}

    def _en(self, n_words: int) -> str:
        out: list[str] = []
        while len(out) < n_words:
            words = self.rng.choice(self.words)
            start = self.rng.randrange(0, max(1, len(words) - 3))
            out += words[start : start + self.rng.randint(4, 10)]
        return " ".join(out[:n_words])

    def _cjk(self, lang: str, n_chars: int) -> str:
        out = ""
        while len(out) < n_chars:
            text = self.rng.choice(self.cjk[lang])
            start = self.rng.randrange(0, max(1, len(text) - 8))
            out += text[start : start + self.rng.randint(8, 30)]
        return out[:n_chars]

    def item(self, lang: str) -> tuple[str, str]:
        if lang == "en":
            return self._en(self.rng.randint(7, 14)), self._en(self.rng.randint(20, 45))
        return self._cjk(lang, self.rng.randint(18, 40)), self._cjk(lang, self.rng.randint(60, 160))


def build(path: Path, n: int, seed: int = 7) -> dict[str, float]:
    """Write the archive: schema by open_db, rows in bulk, then the indexes in one pass."""
    started = time.perf_counter()
    rng = random.Random(seed)
    gen = Generator(corpus_texts(), rng)
    db = open_db(path)
    feeds = []
    for k in range(60):
        lang = ("en", "ja", "ko")[k % 3] if k % 5 else "en"
        country = {"ja": "JP", "ko": "KR"}.get(lang, ("US", "AU", "GB", "")[k % 4])
        kind = ("news", "government", "search")[k % 3]
        feeds.append(
            (f"feed-{k:02d}", f"Feed {k}", f"https://example.org/{k}", kind, country, lang)
        )
    conn = db.conn
    conn.commit()
    conn.isolation_level = None  # explicit BEGIN/COMMIT below
    conn.executemany(
        "INSERT INTO feeds(id, name, url, kind, country, lang) VALUES (?, ?, ?, ?, ?, ?)", feeds
    )
    by_lang = {lang: [f for f in feeds if f[5] == lang] for lang in LANG_SHARE}
    triggers = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'items'"
    ).fetchall()
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    start_time = datetime(2024, 1, 1, tzinfo=UTC)
    step = timedelta(days=730) / n
    langs = list(LANG_SHARE)
    weights = list(LANG_SHARE.values())
    batch: list[tuple[object, ...]] = []
    matches: list[tuple[object, ...]] = []
    conn.execute("BEGIN")
    for i in range(n):
        lang = rng.choices(langs, weights)[0]
        feed = rng.choice(by_lang[lang])
        title, summary = gen.item(lang)
        seen = start_time + step * i
        published = seen - timedelta(seconds=rng.randint(0, 6 * 3600))
        item_id = f"{i:016x}"
        batch.append(
            (
                item_id,
                feed[0],
                f"https://example.org/{feed[0]}/{i}",
                title,
                summary,
                published.strftime("%Y-%m-%dT%H:%M:%SZ"),
                seen.strftime("%Y-%m-%dT%H:%M:%SZ"),
                lang,
            )
        )
        if rng.random() < 0.04:
            rule = rng.choice(RULES)
            word = (title.split() or [title])[0][:20]
            hits = json.dumps([{"term": word, "field": "title", "start": 0, "end": len(word)}])
            matches.append((item_id, rule, "bench", 1.0 + rng.random() * 4, hits, batch[-1][6]))
        if len(batch) >= 50_000:
            _flush(conn, batch, matches)
    _flush(conn, batch, matches)
    conn.execute("COMMIT")
    rows_done = time.perf_counter()
    conn.execute("INSERT INTO items_fts(items_fts) VALUES ('rebuild')")
    conn.execute(
        "INSERT INTO items_cjk(rowid, title, summary)"
        f" SELECT rowid, title, summary FROM items WHERE {in_trigram_sql()}"
    )
    conn.execute("INSERT INTO items_fts(items_fts) VALUES ('optimize')")
    conn.execute("INSERT INTO items_cjk(items_cjk) VALUES ('optimize')")
    for _, sql in triggers:
        conn.execute(sql)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("ANALYZE")
    conn.close()
    done = time.perf_counter()
    return {"rows_s": rows_done - started, "index_s": done - rows_done}


def _flush(conn: sqlite3.Connection, batch: list[tuple[object, ...]], matches: list) -> None:  # type: ignore[type-arg]
    conn.executemany(
        "INSERT INTO items(id, feed_id, url, title, summary, published, first_seen, lang)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        batch,
    )
    conn.executemany(
        "INSERT INTO matches(item_id, rule_id, rule_version, score, hits, matched_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        matches,
    )
    batch.clear()
    matches.clear()


# Ingest without the trigram index: the insert trigger with only its word-index step.
WORDS_ONLY = """
    DROP TRIGGER items_index_ai;
    CREATE TRIGGER items_words_ai AFTER INSERT ON items BEGIN
        INSERT INTO items_fts(rowid, title, summary) VALUES (new.rowid, new.title, new.summary);
    END;
"""


def ingest_cost(n: int = 20_000) -> dict[str, float]:
    """Items/s as other writers store them (indexed by the insert trigger, with and without
    the CJK trigram index) and as the poll's writer does (queued, then filled in chunks)."""
    rng = random.Random(3)
    gen = Generator(corpus_texts(), rng)
    rows = []
    for i in range(n):
        lang = rng.choices(list(LANG_SHARE), list(LANG_SHARE.values()))[0]
        title, summary = gen.item(lang)
        cjk = needs_trigram(title, summary)
        rows.append((f"{i:016x}", "f", title, summary, "2026-01-01T00:00:00Z", lang, cjk))
    out: dict[str, float] = {}
    trigger, words_only, queued = (
        "trigger, with trigram", "trigger, without trigram", "queued, then filled"
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(3):
            for n_label, label in enumerate((trigger, words_only, queued)):
                db = open_db(Path(tmp) / f"{n_label}-{rep}.db")
                db.conn.execute("INSERT INTO feeds(id) VALUES ('f')")
                if label == words_only:
                    db.conn.executescript(WORDS_ONLY)
                db.conn.commit()
                # CPU time, not wall time: other processes on a shared machine skew the latter.
                t0 = time.process_time()
                with db.conn:
                    if label == queued:
                        indexfill.defer(db)
                    db.conn.executemany(
                        "INSERT INTO items(id, feed_id, title, summary, published, first_seen,"
                        " lang, cjk) VALUES (?, ?, ?, ?, ?, ?5, ?6, ?7)",
                        rows,
                    )
                    if label == queued:
                        indexfill.undefer(db)
                while label == queued and indexfill.queued(db):
                    with db.conn:
                        indexfill.fill(db)
                out[label] = max(out.get(label, 0.0), n / (time.process_time() - t0))
                db.conn.close()
    return out


def timed(fn: Callable[[], object], repeat: int = 5) -> tuple[float, object]:
    fn()  # warm the page cache and the statement cache
    times = []
    result: object = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, result


def raw_fts(conn: sqlite3.Connection, query: str, relevance: bool) -> list[int]:
    """The same question put to raw FTS5 (no matcher, no joins): the floor."""
    node = parse_query(query)
    p = store_candidates.plan(node)
    if p.mode != "index":
        sql = f"SELECT i.rowid FROM items i WHERE {p.scan_sql} ORDER BY i.published DESC LIMIT 20"
        return [r[0] for r in conn.execute(sql, p.scan_params)]
    table, expr = ("items_fts", p.fts) if p.fts else ("items_cjk", p.cjk)
    order = "rank" if relevance else "rowid DESC"
    sql = f"SELECT rowid FROM {table} WHERE {table} MATCH ? ORDER BY {order} LIMIT 20"
    return [r[0] for r in conn.execute(sql, [expr])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="reuse or create this archive file")
    parser.add_argument("--ingest", type=int, default=20_000, help="items of the ingest rows")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    path = args.db or Path(tmp.name) / "archive.db"
    print(f"archive: {args.items:,} items at {path}")
    if not path.exists():
        t = build(path, args.items)
        print(f"  built in {t['rows_s']:.0f} s (rows) + {t['index_s']:.0f} s (FTS5 + trigram)")
    size = path.stat().st_size
    print(f"  size {size / 1e9:.2f} GB; SQLite {sqlite3.sqlite_version}")
    ingest = ingest_cost(args.ingest)
    print(
        f"ingest, rows and both indexes ({args.ingest:,} items, 40% Japanese/Korean, one"
        " transaction, best of 3, per CPU second): "
        + "; ".join(f"{k} {v:,.0f} items/s" for k, v in ingest.items())
    )

    db = open_db(path, readonly=True)
    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    print()
    print(
        f"{'query':34} {'plan':6} {'newest-20':>10} {'raw FTS5':>9} {'top-20':>9} {'raw FTS5':>9}"
    )
    for label, text in QUERIES.items():
        node = parse_query(text)
        confirm = compile_query(node)
        mode = store_candidates.plan(node).mode
        newest, found = timed(lambda n=node, c=confirm: store_search.search(db, n, c, limit=20))
        best, _ = timed(
            lambda n=node, c=confirm: store_search.search(db, n, c, limit=20, sort="relevance")
        )
        raw_new, _ = timed(lambda t=text: raw_fts(raw, t, False))
        raw_best, _ = timed(lambda t=text: raw_fts(raw, t, True))
        assert isinstance(found, list), (label, found)
        assert len(found) == 20, (label, found)
        print(
            f"{label + ' ' + text:34} {mode:6} {newest:8.1f}ms {raw_new:7.1f}ms"
            f" {best:7.1f}ms {raw_best:7.1f}ms"
        )

    monitor = [sys.executable, "-m", "monitor", "--db", str(path)]
    print()
    for text in (QUERIES["two-term"], QUERIES["Japanese (3+ chars, trigram)"]):
        cmd = [*monitor, "search", text, "--format", "json"]
        times = []
        for _ in range(4):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times.append(time.perf_counter() - t0)
        print(
            f"`monitor search {text} --format json` end to end: {statistics.median(times[1:]) * 1000:.0f} ms"
        )
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    print(f"  (python start-up alone: {(time.perf_counter() - t0) * 1000:.0f} ms)")

    since = (datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=730 * 0.8)).date().isoformat()
    out = Path(tmp.name) / "export.csv"
    for label, extra in (
        (f"all items since {since}", ["--since", since]),
        ("every match of every rule", [arg for r in RULES for arg in ("--rule", r)]),
    ):
        t0 = time.perf_counter()
        run = subprocess.run(
            [*monitor, "export", *extra, "-o", str(out)], check=True, capture_output=True, text=True
        )
        wall = time.perf_counter() - t0
        rows = int(run.stderr.split()[1])
        print(
            f"`monitor export` ({label}): {rows:,} rows in {wall:.2f} s = {rows / wall:,.0f} rows/s"
        )
    tmp.cleanup()


if __name__ == "__main__":
    main()
