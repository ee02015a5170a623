"""Which items the trigram indexes take, as one rule for SQL and for Python.

The rule is the character class the first trigram migration wrote as a GLOB. Its last
range was meant to start at U+F900 (豈), but the source held U+8C48, the same ideograph
after Unicode normalisation, so the class as SQLite reads it is U+3040-U+30FF,
U+3131-U+318E and U+3400-U+FAFF. It is kept so: archives already hold rows indexed by it.

SQLite's GLOB tries the class at every character and costs ~80 µs for a 650-character
English summary, most of a feed's indexing time; the writer now works the answer out
in Python (``needs_trigram``, ~0.1 µs for ASCII text) and stores it in ``items.cjk``,
and the triggers read that, falling back to the GLOB for rows written before the
column existed (so a row is always removed from the index by the rule that added it).
"""

from __future__ import annotations

import re

_RANGES = ((0x3040, 0x30FF), (0x3131, 0x318E), (0x3400, 0xFAFF))
_CLASS = "".join(f"{chr(a)}-{chr(b)}" for a, b in _RANGES)
_RE = re.compile(f"[{_CLASS}]")
# The GLOB of migration 0101, character for character: '*[぀-ヿㄱ-ㆎ㐀-鿿가-힯豈-﫿]*'.
GLOB = "'*[\u3040-\u30ff\u3131-\u318e\u3400-\u9fff\uac00-\ud7af\u8c48-\ufaff]*'"


def needs_trigram(*texts: str) -> bool:
    """True when any text has a character of the class, as ``text GLOB GLOB`` says."""
    for text in texts:
        if text.isascii():
            continue
        if "\0" in text:  # SQLite reads a text only up to its first NUL
            text = text[: text.index("\0")]
        if _RE.search(text):
            return True
    return False


def in_trigram_sql(row: str = "") -> str:
    """The rule as an SQL condition on a row of ``items`` (``new``, ``old``, an alias, or
    none): items.cjk when the writer set it, else the GLOB (rows from before the column)."""
    p = f"{row}." if row else ""
    return f"coalesce({p}cjk, {p}title GLOB {GLOB} OR {p}summary GLOB {GLOB})"


# Migration 0502's triggers.
_NEW = in_trigram_sql("new")
_OLD = in_trigram_sql("old")
FLAGGED_TRIGGERS = f"""
    ALTER TABLE items ADD COLUMN cjk INTEGER;
    DROP TRIGGER items_cjk_ai;
    DROP TRIGGER items_cjk_ad;
    DROP TRIGGER items_cjk_au;
    CREATE TRIGGER items_cjk_ai AFTER INSERT ON items BEGIN
        INSERT INTO items_cjk(rowid, title, summary)
        SELECT new.rowid, new.title, new.summary WHERE {_NEW};
    END;
    CREATE TRIGGER items_cjk_ad AFTER DELETE ON items BEGIN
        INSERT INTO items_cjk(items_cjk, rowid, title, summary)
        SELECT 'delete', old.rowid, old.title, old.summary WHERE {_OLD};
    END;
    CREATE TRIGGER items_cjk_au AFTER UPDATE OF title, summary ON items BEGIN
        INSERT INTO items_cjk(items_cjk, rowid, title, summary)
        SELECT 'delete', old.rowid, old.title, old.summary WHERE {_OLD};
        INSERT INTO items_cjk(rowid, title, summary)
        SELECT new.rowid, new.title, new.summary WHERE {_NEW};
    END;
"""
