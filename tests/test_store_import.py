"""Opening the archive does not import numpy: sqlite_utils would, for column types the archive
never asks it to infer (about a tenth of a second of every command that opens it). Each
check runs in a fresh interpreter, since this suite's process has numpy loaded already."""

from __future__ import annotations

import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(find_spec("numpy") is None, reason="numpy is not installed")


def run(script: str, tmp_path: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_archive_opens_and_searches_without_numpy_loaded(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from monitor.store.db import open_db\n"
        "db = open_db('a.db')\n"
        "db.execute(\"INSERT INTO feeds(id) VALUES ('f')\")\n"
        'db.execute("INSERT INTO items(id, feed_id, title, summary, published, first_seen)'
        " VALUES ('i', 'f', 'Lithium deal', '', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')\")\n"
        "db.conn.commit()\n"
        "print('numpy' in sys.modules)\n"
        "print(db.execute(\"SELECT count(*) FROM items_fts WHERE items_fts MATCH 'lithium'\")"
        ".fetchone()[0])\n"
    )
    assert run(script, tmp_path) == ["False", "1"]


AFTERWARDS = """
import monitor.store.db
import numpy, sqlite_utils
print(numpy.int8(3) + 1)
db = sqlite_utils.Database(memory=True)
db["t"].insert({"a": 1, "b": "x"})
print(db["t"].count)
"""
# A process that loaded numpy first (the embedding job) gets sqlite_utils as published.
NUMPY_FIRST = """
import numpy
import monitor.store.db
from sqlite_utils.db import COLUMN_TYPE_MAPPING
print(numpy.int8 in COLUMN_TYPE_MAPPING)
"""


@pytest.mark.parametrize(
    ("script", "printed"),
    [(AFTERWARDS, ["4", "1"]), (NUMPY_FIRST, ["True"])],
    ids=["after", "first"],
)
def test_numpy_imports_as_usual_and_sqlite_utils_is_whole(
    script: str, printed: list[str], tmp_path: Path
) -> None:
    assert run(script, tmp_path) == printed
