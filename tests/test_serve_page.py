"""`monitor serve` as an analyst's page: real Datasette on 127.0.0.1, real SQLite file.

The canned search finds what `monitor search` finds (two-character Japanese and Korean
words included); search and latest matches are on the first screen; rows stay short; the
metadata lives in a private temporary folder that is removed when the server stops.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from tests.test_archive_store import ITEMS, build_archive
from tests.test_serve import _free_port, get

pytest.importorskip("datasette")

LONG_SUMMARY = "日韓の半導体協力について。" * 80  # ~1,000 characters
# Headlines written for these tests (core terms of the project in two characters).
CJK = [
    ("日韓首脳会談、半導体で協力", "ja", "首脳会談の詳細"),
    ("한일 외교장관 회담 개최", "ko", "한일 관계 개선 논의"),
    ("日韓関係の改善へ", "ja", LONG_SUMMARY),
    ("韓日関係と日本の経済", "ja", "日本と韓国"),  # no 日韓: must not be found by it
]


def extra_items() -> list[dict[str, Any]]:
    out = []
    for n, (title, lang, summary) in enumerate(CJK):
        it = dict(ITEMS[0])
        it.update(
            title=title,
            summary=summary,
            lang=lang,
            guid=f"cjk-{n}",
            url=f"https://example.org/cjk/{n}",
            published=f"2026-08-23T0{n}:00:00Z",
        )
        out.append(it)
    return out


def start(db_path: Path, env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--db", str(db_path), "serve", "--port", str(port)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/-/versions.json", timeout=1).read()
            return proc, base
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(log.read_text()) from None
            time.sleep(0.2)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("page")
    db_path = folder / "archive.db"
    build_archive(db_path, ITEMS + extra_items()).conn.close()
    proc, base = start(db_path, dict(os.environ), folder / "serve.log")
    try:
        yield base, db_path
    finally:
        stop(proc)


def html(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode("utf-8"))


def cli_ids(db_path: Path, query: str) -> list[str]:
    result = CliRunner().invoke(
        cli,
        [
            "--db",
            str(db_path),
            "--rules",
            str(db_path.parent / "none"),
            "search",
            query,
            "--format",
            "json",
            "--limit",
            "200",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return [r["id"] for r in json.loads(result.stdout)]


@pytest.mark.parametrize(
    "query", ["日韓", "한일", "copper", "日本 AND 経済", '"critical minerals"']
)
def test_canned_search_finds_what_monitor_search_finds(
    server: tuple[str, Path], query: str
) -> None:
    base, db_path = server
    status, rows = get(base + "/archive/search.json", q=query, _shape="array")
    assert status == 200
    web = [r["item_id"] for r in rows]
    assert web == cli_ids(db_path, query)
    if query in ("日韓", "한일"):
        assert web
        assert all(query in r["title"] + r["summary"] for r in rows)


def test_the_first_screen_has_search_and_latest_matches(server: tuple[str, Path]) -> None:
    base, _ = server
    for page in ("/", "/archive"):
        text = html(base + page)
        form = text.find('action="/archive/search"')
        latest = text.find('href="/archive/latest_matches"')
        assert form != -1, page
        assert latest != -1, page
        if page == "/archive":  # above the list of tables, not at the foot of the page
            assert max(form, latest) < text.find('href="/archive/items"')
    # the form's own target answers with results for a CJK word
    text = html(base + "/archive/search?" + urllib.parse.urlencode({"q": "日韓"}))
    assert "日韓首脳会談" in text
    assert "韓日関係と日本の経済" not in text


def test_items_page_rows_are_short(server: tuple[str, Path]) -> None:
    base, _ = server
    text = html(base + "/archive/items")
    assert "column-descriptions" not in text
    assert "Archive id (16 hex" not in text
    assert "日韓関係の改善へ" in text
    assert LONG_SUMMARY not in text
    assert LONG_SUMMARY[:100] in text
    _, rows = get(base + "/archive/search.json", q="日韓", _shape="array")
    assert max(len(r["summary"]) for r in rows) <= 161


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(x) for x in text.split()]


def test_metadata_is_private_and_removed_and_a_planted_link_is_not_followed(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "archive.db"
    build_archive(db_path, ITEMS[:3]).conn.close()
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    victim = tmp_path / "victim"
    victim.mkdir()
    (tmpdir / f"monitor-serve-{os.getuid()}").symlink_to(victim)  # what an attacker plants
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    proc, base = start(db_path, env, tmp_path / "serve.log")
    try:
        assert list(victim.iterdir()) == []
        (child,) = _children(proc.pid)
        argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        meta = Path(argv[argv.index(b"--metadata") + 1].decode())
        assert meta.parent.parent == tmpdir
        assert not meta.parent.is_symlink()
        assert stat.S_IMODE(meta.parent.stat().st_mode) == 0o700
        assert json.loads(meta.read_text())["title"] == "News monitor archive"
        status, served = get(base + "/-/metadata.json")
        assert status == 200
        assert "archive" in served["databases"]
    finally:
        stop(proc)
    assert proc.returncode == 0
    assert not meta.parent.exists()
    assert sorted(p.name for p in tmpdir.iterdir()) == [f"monitor-serve-{os.getuid()}"]
    assert list(victim.iterdir()) == []


def test_canned_search_says_what_is_wrong_with_a_query(server: tuple[str, Path]) -> None:
    base, _ = server
    status, rows = get(base + "/archive/search.json", q="(copper OR gold", _shape="array")
    assert status == 200
    assert rows == [
        {
            "published": None,
            "feed": None,
            "title": "Query problem: unbalanced parenthesis (column 1); this ( is never closed:"
            " add a )",
            "summary": None,
            "url": None,
            "item_id": None,
        }
    ]
