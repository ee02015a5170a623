"""items.cjk (migration 0502): the writer's answer to "does this item go in items_cjk?"
is the GLOB's answer, and rows written before the column leave the index by the GLOB.

The items are the archive fixture's real titles and summaries (tests/data/archive_items.jsonl:
English, Japanese and Korean feed items, see tests/data/archive_items.md).
"""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from monitor.model import FeedSource, Item
from monitor.store.db import open_db
from monitor.store.feeds import sync_feeds
from monitor.store.items import store_items
from monitor.store.migrations import migrations
from monitor.store.trigramflag import GLOB, needs_trigram

DATA = Path(__file__).parent / "data" / "archive_items.jsonl"
NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)
# The first and last character of each range of the class, and their neighbours outside.
EDGES = [0x303F, 0x3040, 0x30FF, 0x3100, 0x3130, 0x3131, 0x318E, 0x318F, 0x33FF, 0x3400]
EDGES += [0x8C47, 0x8C48, 0x9FFF, 0xA000, 0xABFF, 0xAC00, 0xD7AF, 0xE000, 0xF900, 0xFAFF, 0xFB00]


def _glob(conn: sqlite3.Connection, text: str) -> bool:
    return bool(conn.execute(f"SELECT ? GLOB {GLOB}", [text]).fetchone()[0])


def _strings() -> list[str]:
    rng = random.Random(17)
    real = [json.loads(x) for x in DATA.read_text(encoding="utf-8").splitlines()]
    texts = [r[k] for r in real for k in ("title", "summary")]
    texts += [chr(c) for c in EDGES] + [f"word {chr(c)} word" for c in EDGES]
    texts += ["", "plain ascii", "café", "“quoted”", "abc\0日本", "日本\0abc", "\0"]
    for _ in range(3000):
        # mostly ASCII, with characters drawn from the BMP (no surrogates) and past it
        chars = [
            chr(
                rng.choice(
                    [
                        rng.randrange(32, 127),
                        rng.randrange(0x80, 0xD800),
                        rng.randrange(0xE000, 0x10000),
                        rng.randrange(0x10000, 0x30000),
                    ]
                )
            )
            for _ in range(rng.randrange(0, 12))
        ]
        texts.append("".join(chars))
    return texts


def test_the_writer_says_what_the_glob_says() -> None:
    conn = sqlite3.connect(":memory:")
    texts = _strings()
    differ = [t for t in texts if needs_trigram(t) != _glob(conn, t)]
    assert differ == []
    assert sum(_glob(conn, t) for t in texts) > 100  # both answers occur, many times
    assert sum(not _glob(conn, t) for t in texts) > 100
    assert needs_trigram("English", "日本")
    assert not needs_trigram("English", "Deutsch")


def _item(n: int, title: str) -> Item:
    when = NOW + timedelta(minutes=n)
    url = f"https://x.test/{n}"
    return Item(f"{n:016x}", "press", None, url, title, "", when, when, content_hash=title)


def _found(db: sqlite_utils.Database, text: str) -> list[int]:
    return [
        r[0]
        for r in db.execute(
            "SELECT rowid FROM items_cjk WHERE items_cjk MATCH ? ORDER BY rowid", [f'"{text}"']
        ).fetchall()
    ]


def test_rows_from_before_the_flag_are_indexed_and_removed_by_the_glob(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="0502_item_cjk_flag")
    sync_feeds(old, [FeedSource("press", "P", "https://x.test/f", "government", "JP", "ja", 900)])
    old.execute(  # as the version before wrote it: no cjk column yet
        "INSERT INTO items (id, feed_id, url, title, summary, published, first_seen)"
        " VALUES ('old', 'press', 'https://x.test/0', '日本政府が発表', '', ?, ?)",
        ["2026-12-01T09:00:00Z", "2026-12-01T09:00:00Z"],
    )
    old.conn.commit()
    old.close()

    db = open_db(path)
    assert db.execute("SELECT cjk FROM items WHERE id = 'old'").fetchone()[0] is None
    store_items(db, [_item(1, "日本政府の新方針"), _item(2, "Export controls")], now=NOW)
    flags = dict(db.execute("SELECT title, cjk FROM items WHERE id != 'old'").fetchall())
    assert flags == {"日本政府の新方針": 1, "Export controls": 0}
    assert len(_found(db, "日本政府")) == 2

    # An edit to English takes the new item out; removing the old row takes it out too.
    store_items(db, [_item(1, "Japan's new policy")], now=NOW + timedelta(hours=1))
    assert db.execute(f"SELECT cjk FROM items WHERE id = '{1:016x}'").fetchone()[0] == 0
    with db.atomic():
        db.execute("DELETE FROM items WHERE id = 'old'")
    assert _found(db, "日本政府") == []
    store_items(db, [_item(3, "日本政府、再び")], now=NOW)
    assert len(_found(db, "日本政府")) == 1
    db.execute("INSERT INTO items_cjk(items_cjk) VALUES ('integrity-check')")
