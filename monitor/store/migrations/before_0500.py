"""Steps 0001 to 0400 (and 0110, 0120, 0300, registered after 0400 as they shipped): the
archive's tables, the full-text and trigram indexes, deliveries, bodies, feedback."""

from __future__ import annotations

import sqlite_utils

from monitor.store.migrations.registry import migrations
from monitor.store.trigramflag import GLOB


@migrations(name="0001_core")
def _core(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE feeds (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            url TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL DEFAULT 'news',
            country TEXT NOT NULL DEFAULT '',
            lang TEXT NOT NULL DEFAULT '',
            etag TEXT,
            last_modified TEXT,
            body_hash TEXT,
            last_polled_at TEXT,
            last_success_at TEXT,
            last_error TEXT,
            last_error_kind TEXT,
            error_since TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            retry_after_until TEXT,
            next_poll_at TEXT,
            disabled_reason TEXT,
            warnings TEXT
        );

        CREATE TABLE items (
            id TEXT PRIMARY KEY,
            feed_id TEXT NOT NULL REFERENCES feeds(id),
            guid TEXT,
            url TEXT NOT NULL DEFAULT '',
            title TEXT NOT NULL DEFAULT '',
            summary TEXT NOT NULL DEFAULT '',
            published TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            updated_at TEXT,
            author TEXT,
            categories TEXT NOT NULL DEFAULT '[]',
            lang TEXT,
            content_hash TEXT NOT NULL DEFAULT '',
            revision INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX items_published ON items(published);
        CREATE INDEX items_feed_published ON items(feed_id, published);
        CREATE INDEX items_url ON items(url);

        CREATE VIRTUAL TABLE items_fts USING fts5(
            title, summary, content='items', content_rowid='rowid',
            tokenize='unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER items_fts_ai AFTER INSERT ON items BEGIN
            INSERT INTO items_fts(rowid, title, summary)
            VALUES (new.rowid, new.title, new.summary);
        END;
        CREATE TRIGGER items_fts_ad AFTER DELETE ON items BEGIN
            INSERT INTO items_fts(items_fts, rowid, title, summary)
            VALUES ('delete', old.rowid, old.title, old.summary);
        END;
        CREATE TRIGGER items_fts_au AFTER UPDATE OF title, summary ON items BEGIN
            INSERT INTO items_fts(items_fts, rowid, title, summary)
            VALUES ('delete', old.rowid, old.title, old.summary);
            INSERT INTO items_fts(rowid, title, summary)
            VALUES (new.rowid, new.title, new.summary);
        END;

        CREATE TABLE matches (
            item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            rule_id TEXT NOT NULL,
            rule_version TEXT NOT NULL,
            score REAL NOT NULL,
            hits TEXT NOT NULL DEFAULT '[]',
            matched_at TEXT NOT NULL,
            PRIMARY KEY (item_id, rule_id)
        );
        CREATE INDEX matches_rule ON matches(rule_id, matched_at);
        """
    )


@migrations(name="0100_pipeline_state")
def _pipeline_state(db: sqlite_utils.Database) -> None:
    # not_found_since: start of an unbroken run of 404s (disable after 3 days of them).
    # state: small key/value facts the daemon reports, e.g. the last rules reload error.
    db.executescript(
        """
        ALTER TABLE feeds ADD COLUMN not_found_since TEXT;
        CREATE TABLE state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL
        );
        """
    )


# Characters that make an item need the trigram index: kana, CJK ideographs, Hangul.
# unicode61 sees a run of them as one token, so 日本 inside 日本政府は is invisible to it.
_CJK_GLOB = GLOB  # monitor/store/trigramflag.py says which characters, and why
_HAS_CJK_OLD = f"(old.title GLOB {_CJK_GLOB} OR old.summary GLOB {_CJK_GLOB})"
_HAS_CJK_NEW = f"(new.title GLOB {_CJK_GLOB} OR new.summary GLOB {_CJK_GLOB})"


@migrations(name="0101_archive_cjk_trigram")
def _archive_cjk_trigram(db: sqlite_utils.Database) -> None:
    """Trigram (substring) index over items with CJK text only, for archive search.

    Contentless, and only items containing kana, ideographs or Hangul are indexed, so
    ingest of English items pays nothing but a GLOB. Each trigger does its own
    delete-then-insert in one body, so the order of the two steps is guaranteed.
    """
    db.executescript(
        f"""
        CREATE VIRTUAL TABLE items_cjk USING fts5(
            title, summary, content='', tokenize='trigram'
        );
        CREATE TRIGGER items_cjk_ai AFTER INSERT ON items BEGIN
            INSERT INTO items_cjk(rowid, title, summary)
            SELECT new.rowid, new.title, new.summary WHERE {_HAS_CJK_NEW};
        END;
        CREATE TRIGGER items_cjk_ad AFTER DELETE ON items BEGIN
            INSERT INTO items_cjk(items_cjk, rowid, title, summary)
            SELECT 'delete', old.rowid, old.title, old.summary WHERE {_HAS_CJK_OLD};
        END;
        CREATE TRIGGER items_cjk_au AFTER UPDATE OF title, summary ON items BEGIN
            INSERT INTO items_cjk(items_cjk, rowid, title, summary)
            SELECT 'delete', old.rowid, old.title, old.summary WHERE {_HAS_CJK_OLD};
            INSERT INTO items_cjk(rowid, title, summary)
            SELECT new.rowid, new.title, new.summary WHERE {_HAS_CJK_NEW};
        END;
        INSERT INTO items_cjk(rowid, title, summary)
        SELECT rowid, title, summary FROM items
        WHERE title GLOB {_CJK_GLOB} OR summary GLOB {_CJK_GLOB};
        """
    )


@migrations(name="0200_deliveries")
def _deliveries(db: sqlite_utils.Database) -> None:
    """Delivery ledger: one row per Slack (or console) message, and the matches it carries.

    A (kind, name, item, rule) pair can be claimed once: the primary key of delivery_items
    is what makes "never posted twice" hold even if two processes race. ops_alerts remembers
    which feeds the ops channel was told are failing, so it hears once, and once on recovery.
    """
    db.executescript(
        """
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            channel TEXT NOT NULL,
            part INTEGER NOT NULL DEFAULT 1,
            parts INTEGER NOT NULL DEFAULT 1,
            message TEXT NOT NULL,
            items INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL DEFAULT 'pending',
            destination TEXT,
            ts TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at TEXT NOT NULL,
            attempted_at TEXT,
            sent_at TEXT,
            period_start TEXT,
            period_end TEXT
        );
        CREATE INDEX deliveries_state ON deliveries(state, id);
        CREATE INDEX deliveries_kind_name ON deliveries(kind, name, created_at);

        CREATE TABLE delivery_items (
            delivery_id INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            item_id TEXT NOT NULL,
            rule_id TEXT NOT NULL,
            PRIMARY KEY (kind, name, item_id, rule_id)
        );
        CREATE INDEX delivery_items_delivery ON delivery_items(delivery_id);
        CREATE INDEX delivery_items_item ON delivery_items(item_id);

        CREATE TABLE ops_alerts (
            feed_id TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            since TEXT,
            changed_at TEXT NOT NULL
        );
        """
    )


@migrations(name="0201_archive_view")
def _archive_view(db: sqlite_utils.Database) -> None:
    """One row per item and matched rule, with the feed's kind and country: what the
    archive web page facets on (feed, rule, country, kind, lang) and what export writes."""
    db.executescript(
        """
        CREATE VIEW archive AS
        SELECT i.id AS item_id, i.published, i.feed_id AS feed, f.kind, f.country,
               COALESCE(NULLIF(i.lang, ''), f.lang) AS lang, i.title, i.url,
               m.rule_id AS rule, m.score, m.matched_at
        FROM items i
        JOIN feeds f ON f.id = i.feed_id
        LEFT JOIN matches m ON m.item_id = i.id;
        """
    )


@migrations(name="0201_delivery_sender")
def _delivery_sender(db: sqlite_utils.Database) -> None:
    # The pid of the process sending a pending row, so two processes never send one row at once.
    db.execute("ALTER TABLE deliveries ADD COLUMN sender INTEGER")


@migrations(name="0400_pad_years")
def _pad_years(db: sqlite_utils.Database) -> None:
    """Pad years before 1000 to four digits ("999-01-01T…" → "0999-01-01T…").

    Older versions wrote such years unpadded: the text sorted after every real date (so the
    item looked newest) and could not be read back. Only the text changes; the FTS triggers
    watch title and summary, so no index is rewritten.
    """
    for column in ("published", "first_seen", "updated_at"):
        db.execute(
            f"UPDATE items SET {column} = substr('000', 1, 5 - instr({column}, '-')) || {column}"
            f" WHERE instr({column}, '-') BETWEEN 2 AND 4"
        )


@migrations(name="0110_item_enclosures_date_raw")
def _item_enclosures_date_raw(db: sqlite_utils.Database) -> None:
    # enclosures: JSON list of {"url","type","length"} ('' for none, so old rows need no
    # rewrite); date_raw: a feed date that could not be read, kept as written.
    db.execute("ALTER TABLE items ADD COLUMN enclosures TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE items ADD COLUMN date_raw TEXT")
    # store_items looks up (feed, content) so that a story whose id moved within a group of
    # items sharing a guid is not stored, or alerted, a second time.
    db.execute("CREATE INDEX items_feed_content ON items(feed_id, content_hash)")


@migrations(name="0120_item_body")
def _item_body(db: sqlite_utils.Database) -> None:
    """The article text of items of full-text feeds (issue 15), and its own indexes.

    ``ALTER TABLE … ADD COLUMN`` changes only the schema, so an existing archive is not
    rewritten; existing rows have no body, so the new indexes start empty and grow as
    bodies arrive (an UPDATE of ``body``). The body gets tables of its own rather than a
    column in items_fts/items_cjk: adding one there would rebuild both indexes.

    body_status: NULL (not wanted: the feed's summaries suffice, or an item from before),
    'pending', 'ok', 'fetch_error', 'not_html', 'empty' (nothing extracted).
    """
    db.executescript(
        f"""
        ALTER TABLE items ADD COLUMN body TEXT;
        ALTER TABLE items ADD COLUMN body_status TEXT;
        ALTER TABLE items ADD COLUMN body_error TEXT;
        ALTER TABLE items ADD COLUMN body_attempts INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE items ADD COLUMN body_at TEXT;
        CREATE INDEX items_body_todo ON items(feed_id, first_seen)
            WHERE body_status IN ('pending', 'fetch_error', 'empty');

        CREATE VIRTUAL TABLE items_body_fts USING fts5(
            body, content='items', content_rowid='rowid',
            tokenize='unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER items_body_fts_ad AFTER DELETE ON items WHEN old.body IS NOT NULL BEGIN
            INSERT INTO items_body_fts(items_body_fts, rowid, body)
            VALUES ('delete', old.rowid, old.body);
        END;
        CREATE TRIGGER items_body_fts_au AFTER UPDATE OF body ON items BEGIN
            INSERT INTO items_body_fts(items_body_fts, rowid, body)
            SELECT 'delete', old.rowid, old.body WHERE old.body IS NOT NULL;
            INSERT INTO items_body_fts(rowid, body)
            SELECT new.rowid, new.body WHERE new.body IS NOT NULL;
        END;

        CREATE VIRTUAL TABLE items_body_cjk USING fts5(body, content='', tokenize='trigram');
        CREATE TRIGGER items_body_cjk_ad AFTER DELETE ON items
            WHEN old.body GLOB {_CJK_GLOB} BEGIN
            INSERT INTO items_body_cjk(items_body_cjk, rowid, body)
            VALUES ('delete', old.rowid, old.body);
        END;
        CREATE TRIGGER items_body_cjk_au AFTER UPDATE OF body ON items BEGIN
            INSERT INTO items_body_cjk(items_body_cjk, rowid, body)
            SELECT 'delete', old.rowid, old.body WHERE old.body GLOB {_CJK_GLOB};
            INSERT INTO items_body_cjk(rowid, body)
            SELECT new.rowid, new.body WHERE new.body GLOB {_CJK_GLOB};
        END;
        """
    )


@migrations(name="0300_feedback")
def _feedback(db: sqlite_utils.Database) -> None:
    """Readers' judgements from Slack buttons, and feeds muted from Slack.

    Every click is a row (history kept); the latest row per (item, rule, user) counts.
    ``event_key`` is the click's identity (team, user, action, action_ts): Slack redelivers
    an envelope it thinks was not acknowledged, and the second copy must not count twice.
    A mute is a row too: ``ended_at`` is set by an unmute, and items first seen while a
    mute was in force stay out of digests (they never flood in when it ends)."""
    db.executescript(
        """
        CREATE TABLE feedback (
            id INTEGER PRIMARY KEY,
            item_id TEXT NOT NULL,
            rule_id TEXT NOT NULL,
            label TEXT NOT NULL CHECK (label IN ('relevant', 'not_relevant', 'mute_source')),
            user_id TEXT NOT NULL,
            user_name TEXT NOT NULL DEFAULT '',
            team_id TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            event_key TEXT NOT NULL UNIQUE,
            channel TEXT,
            message_ts TEXT
        );
        CREATE INDEX feedback_item_rule ON feedback(item_id, rule_id, user_id, id);
        CREATE INDEX feedback_rule ON feedback(rule_id);

        CREATE TABLE feed_mutes (
            id INTEGER PRIMARY KEY,
            feed_id TEXT NOT NULL,
            since TEXT NOT NULL,
            until TEXT NOT NULL,
            ended_at TEXT,
            user_id TEXT NOT NULL DEFAULT '',
            user_name TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX feed_mutes_feed ON feed_mutes(feed_id, until);
        """
    )


@migrations(name="0300_delivery_threads")
def _delivery_threads(db: sqlite_utils.Database) -> None:
    # A threaded digest's reply names its parent's row; it is sent only once the parent has
    # a ts, into that thread. A parent is a row like any other: sent once, then reused.
    db.execute("ALTER TABLE deliveries ADD COLUMN thread_of INTEGER REFERENCES deliveries(id)")
