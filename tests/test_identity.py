"""Item identity: distinct stories never merge, ids stay as archives already hold them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.model import Entry, FeedSource, ParsedFeed
from monitor.reader.normalize import make_item_id, normalize_entries
from monitor.reader.script import script_lang

NOW = datetime(2026, 8, 22, 12, 0, tzinfo=UTC)
SOURCE = FeedSource(
    id="fb", name="FB", url="https://example.com/rss", kind="news", country="", lang="en",
    interval=900,
)  # fmt: skip
DAY = datetime(2026, 8, 1, tzinfo=UTC)


def entry(**fields: object) -> Entry:
    base: dict[str, object] = dict(
        guid=None, link=None, title="", summary="", published=None, updated=None,
        author=None, categories=(), lang=None,
    )  # fmt: skip
    base.update(fields)
    return Entry(**base)  # type: ignore[arg-type]


def ids(*entries: Entry, now: datetime = NOW) -> list[str]:
    parsed = ParsedFeed(title="F", link="https://example.com/", lang=None, entries=entries)
    return [i.id for i in normalize_entries(SOURCE, parsed, now=now)]


def test_shared_guid_and_link_keep_every_story() -> None:
    # A FeedBurner feed: four stories, one guid, one link.
    stories = [
        entry(guid="g", link="https://example.com/x", title=f"Story {n}", published=DAY)
        for n in range(4)
    ]
    assert len(set(ids(*stories))) == 4


def test_description_only_items_keep_every_story() -> None:
    stories = [entry(summary=f"Notice number {n}") for n in range(3)]
    assert len(set(ids(*stories))) == 3


def test_podcast_repeating_a_guid_keeps_both_episodes() -> None:
    a = entry(guid="ep", link="https://example.com/pod", title="Ep 1", published=DAY)
    b = entry(guid="ep", link="https://example.com/pod", title="Ep 2", published=DAY + timedelta(7))
    assert len(set(ids(b, a))) == 2


def test_entries_identical_in_every_field_merge() -> None:
    a = entry(guid="g", link="https://example.com/x", title="Same", summary="s", published=DAY)
    assert len(ids(a, a, a)) == 1


def test_ids_are_stable_across_polls_and_orders() -> None:
    stories = [entry(guid="g", link="https://example.com/x", title=f"S{n}") for n in range(3)]
    first = ids(*stories, now=NOW)
    assert first == ids(*stories, now=NOW + timedelta(hours=3))
    undated = [entry(summary=f"only text {n}") for n in range(3)]
    assert ids(*undated) == ids(*undated, now=NOW + timedelta(days=2))


def test_archive_ids_made_by_the_old_code_are_unchanged() -> None:
    # Ids as the code before content hashes computed them (key strings pinned here), for
    # items whose identity does not change: an old archive sees them as known, never new.
    old = {
        make_item_id("fb", "guid:g1"),
        make_item_id("fb", "guid:g2\x1fhttps://example.com/a"),
        make_item_id("fb", "guid:g2\x1fhttps://example.com/b"),
        make_item_id("fb", "link:https://example.com/c"),
        make_item_id("fb", "link:https://example.com/d\x1fD1"),
        make_item_id("fb", "link:https://example.com/d\x1fD2"),
        make_item_id("fb", "title:Only title\x1f" + DAY.isoformat()),
    }
    got = ids(
        entry(guid="g1", link="https://example.com/1", title="One"),
        entry(guid="g2", link="https://example.com/a", title="A"),
        entry(guid="g2", link="https://example.com/b", title="B"),
        entry(link="https://example.com/c", title="C"),
        entry(link="https://example.com/d", title="D1"),
        entry(link="https://example.com/d", title="D2"),
        entry(title="Only title", published=DAY),
    )
    assert set(got) == old
    # Pinned value (sha256 of "fb\x1fguid:g1"): a change here would re-alert every archive.
    assert make_item_id("fb", "guid:g1") == "d8273fa1e9fa08bf"


def test_a_shared_guid_gives_each_story_its_own_content_id() -> None:
    old = entry(guid="ep", link="https://example.com/pod", title="Old", published=DAY)
    new = entry(
        guid="ep", link="https://example.com/pod", title="New", published=DAY + timedelta(1)
    )
    assert ids(old) == [make_item_id("fb", "guid:ep")]  # alone: the plain key, as before
    both = ids(new, old)
    assert make_item_id("fb", "guid:ep") not in both
    assert len(set(both)) == 2
    assert ids(old, new) == both[::-1]  # the order in the feed does not matter


def test_script_decides_japanese_and_korean() -> None:
    assert script_lang("東京で会議が開かれた", "en") == "ja"
    assert script_lang("한국 정부는 발표했다", "en") == "ko"
    assert script_lang("Toyota adopts カイゼン across its plants worldwide", "en") == "en"
    assert script_lang("北京新闻", "zh") == "zh"  # Han alone is not Japanese
    assert script_lang("plain", None) is None


def test_a_korean_item_in_an_english_feed_is_stored_as_ko() -> None:
    parsed = ParsedFeed(
        title="F", link=None, lang="en-US",
        entries=(entry(guid="k", title="한국 정부 발표"), entry(guid="e", title="US news")),
    )  # fmt: skip
    langs = [i.lang for i in normalize_entries(SOURCE, parsed, now=NOW)]
    assert langs == ["ko", "en"]


# --- an archive made by the code before content hashes ------------------------------------


def _old_code_keys(source: FeedSource, parsed: ParsedFeed) -> list[str]:
    """Identity keys exactly as normalize_entries computed them before issue 13 (its
    fallback chain restated here as the reference): what an existing archive's ids hash."""
    from monitor.reader.normalize import canonical_url, plain_text

    base = canonical_url(parsed.link, source.url) if parsed.link else source.url
    base = base or source.url
    urls = [canonical_url(e.link or "", base) for e in parsed.entries]
    variants: dict[str, set[str]] = {}
    for e, url in zip(parsed.entries, urls, strict=True):
        if e.guid:
            variants.setdefault(f"guid:{e.guid}", set()).add(url)
        elif url:
            variants.setdefault(f"link:{url}", set()).add(e.title)
    repeated = {k for k, seen in variants.items() if len(seen) > 1}
    keys: list[str] = []
    for e, url in zip(parsed.entries, urls, strict=True):
        title, dated = plain_text(e.title), e.published or e.updated
        if e.guid:
            key = f"guid:{e.guid}"
            key = f"{key}\x1f{url}" if key in repeated else key
        elif url:
            key = f"link:{url}"
            key = f"{key}\x1f{title}" if key in repeated else key
        else:
            key = f"title:{title}\x1f{dated.isoformat() if dated else ''}"
        keys.append(key)
    return keys


def _old_code_ids(source: FeedSource, parsed: ParsedFeed) -> list[str]:
    """The ids an old archive holds: one per key, first entry wins."""
    return list(dict.fromkeys(make_item_id(source.id, k) for k in _old_code_keys(source, parsed)))


def _real_feeds() -> list[tuple[str, ParsedFeed]]:
    from monitor.errors import ParseError
    from monitor.reader.parse import parse_feed

    data = Path(__file__).parent / "data"
    paths = sorted((data / "feeds").iterdir()) + sorted((data / "odd-feeds").iterdir())
    paths += sorted(p for p in (data / "peer-feeds").rglob("*.xml"))
    found = []
    for path in paths:
        try:
            found.append((path.name, parse_feed(path.read_bytes(), {}, SOURCE.url)))
        except ParseError:
            continue
    return found


def test_non_merging_feeds_keep_every_id_an_old_archive_holds() -> None:
    merging = []
    for name, parsed in _real_feeds():
        old = _old_code_ids(SOURCE, parsed)
        new = [i.id for i in normalize_entries(SOURCE, parsed, now=NOW)]
        if len(new) > len(old):
            merging.append(name)  # stories the old code merged away: new ids, see below
        else:
            assert new == old, name
    assert len(_real_feeds()) > 800
    assert 0 < len(merging) < 20


def test_polling_an_old_archive_stores_only_the_stories_it_had_lost(tmp_path: Path) -> None:
    from monitor.store.db import open_db
    from monitor.store.items import store_items

    db = open_db(tmp_path / "old.db")
    db.execute("INSERT INTO feeds(id, name, url) VALUES ('fb', 'FB', ?)", [SOURCE.url])
    lost_total = 0
    for name, parsed in _real_feeds():
        new_items = normalize_entries(SOURCE, parsed, now=NOW)
        by_story = {(i.guid, i.content_hash): i for i in new_items}
        # The old archive: per old id, the first entry with it, as the old code stored it.
        old_rows, seen = [], set()
        for entry_, old_id in zip(parsed.entries, _old_code_ids_per_entry(parsed), strict=True):
            if old_id in seen:
                continue
            seen.add(old_id)
            (item,) = normalize_entries(
                SOURCE, dataclasses.replace(parsed, entries=(entry_,)), now=NOW
            )
            old_rows.append(
                dataclasses.replace(by_story[(item.guid, item.content_hash)], id=old_id)
            )
        store_items(db, old_rows, now=NOW)
        written = store_items(db, new_items, now=NOW + timedelta(hours=1))
        kept = {(i.guid, i.content_hash) for i in old_rows}
        lost = {(i.guid, i.content_hash) for i in new_items} - kept
        assert {(i.guid, i.content_hash) for i in written.new} == lost, name
        assert not written.updated, name
        lost_total += len(lost)
        db.execute("DELETE FROM items")  # each fixture is its own feed's archive
    assert lost_total > 0
    db.close()


def _old_code_ids_per_entry(parsed: ParsedFeed) -> list[str]:
    """The old code's id for each entry (before its keep-first de-duplication)."""
    return [make_item_id(SOURCE.id, k) for k in _old_code_keys(SOURCE, parsed)]


def test_a_story_whose_id_moves_in_a_shared_guid_group_is_not_stored_again(
    tmp_path: Path,
) -> None:
    from monitor.store.db import open_db
    from monitor.store.items import store_items

    def poll(*entries: Entry, hours: int) -> list[str]:
        parsed = ParsedFeed(title="F", link="https://example.com/", lang=None, entries=entries)
        items = normalize_entries(SOURCE, parsed, now=NOW + timedelta(hours=hours))
        return [i.title for i in store_items(db, items, now=NOW + timedelta(hours=hours)).new]

    db = open_db(tmp_path / "a.db")
    db.execute("INSERT INTO feeds(id, name, url) VALUES ('fb', 'FB', ?)", [SOURCE.url])
    story = [
        entry(guid="g", link="https://example.com/x", title=f"S{n}", published=DAY + timedelta(n))
        for n in range(4)
    ]
    assert poll(story[1], story[2], hours=0) == ["S1", "S2"]
    assert poll(story[0], story[1], story[2], hours=1) == ["S0"]
    # S0 drops out of the feed window, S3 comes in.
    assert poll(story[3], story[1], story[2], hours=2) == ["S3"]
    # Only S2 is left: it is alone, so back to the plain guid id; still the same story.
    assert poll(story[2], hours=3) == []
    rows = db.execute("SELECT title, revision FROM items ORDER BY title").fetchall()
    assert rows == [("S0", 0), ("S1", 0), ("S2", 0), ("S3", 0)]  # none lost, none rewritten
    db.close()


def test_a_daily_notice_with_the_same_title_is_a_new_story_each_day(tmp_path: Path) -> None:
    from monitor.store.db import open_db
    from monitor.store.items import store_items

    db = open_db(tmp_path / "a.db")
    db.execute("INSERT INTO feeds(id, name, url) VALUES ('fb', 'FB', ?)", [SOURCE.url])
    for day in range(3):
        notice = entry(title="Daily press briefing", published=DAY + timedelta(day))
        parsed = ParsedFeed(title="F", link=None, lang=None, entries=(notice,))
        written = store_items(db, normalize_entries(SOURCE, parsed, now=NOW), now=NOW)
        assert len(written.new) == 1
    db.close()
