"""`monitor serve`: Datasette started for real on 127.0.0.1, queried over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from tests.test_archive_store import ITEMS, build_archive, item_id

pytest.importorskip("datasette")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("serve")
    db_path = folder / "archive.db"
    build_archive(db_path).conn.close()
    port = _free_port()
    log = (folder / "serve.log").open("wb")
    env = {**os.environ, "MONITOR_DB": str(db_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "serve", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((folder / "serve.log").read_text()) from None
                time.sleep(0.2)
        yield base + "/archive", db_path
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def get(url: str, **params: str) -> tuple[int, Any]:
    if params:
        url += "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def test_search_query_returns_the_items(server: tuple[str, Path]) -> None:
    base, _ = server
    status, rows = get(base + "/search.json", q="copper", _shape="array")
    assert status == 200
    assert [r["item_id"] for r in rows] == [item_id(61), item_id(63)]
    status, rows = get(base + "/search.json", q="日本経済", _shape="array")
    assert status == 200
    assert rows
    assert all("日本経済" in ITEMS[int(r["item_id"][4:7])]["title"] for r in rows)


def test_items_table_full_text_search(server: tuple[str, Path]) -> None:
    base, _ = server
    status, rows = get(base + "/items.json", _search="copper", _shape="array")
    assert status == 200
    assert {r["id"] for r in rows} == {item_id(61), item_id(63)}


def test_facets_on_the_archive_view(server: tuple[str, Path]) -> None:
    base, _ = server
    status, data = get(base + "/archive.json", _facet="rule", _size="0")
    assert status == 200
    counts = {r["value"]: r["count"] for r in data["facet_results"]["rule"]["results"]}
    assert counts["copper"] == 2
    assert counts["us-defense"] == 1
    status, data = get(base + "/archive.json", _facet="country", _size="0")
    countries = {r["value"] for r in data["facet_results"]["country"]["results"]}
    assert {"JP", "KR", "US"} <= countries


def test_canned_queries_run(server: tuple[str, Path]) -> None:
    base, _ = server
    _, latest = get(base + "/latest_matches.json", _shape="array")
    assert [(r["rule"], r["item_id"]) for r in latest][:2] == [
        ("copper", item_id(61)),
        ("copper", item_id(63)),
    ]
    _, health = get(base + "/feed_health.json", _shape="array")
    assert sum(r["items"] for r in health) == len(ITEMS)
    _, days = get(base + "/items_per_day.json", _shape="array")
    assert sum(r["items"] for r in days) == len(ITEMS)


def test_metadata_is_served(server: tuple[str, Path]) -> None:
    status, meta = get(server[0].rsplit("/", 1)[0] + "/-/metadata.json")
    assert status == 200
    assert meta["title"] == "News monitor archive"
    assert meta["databases"]["archive"]["tables"]["items"]["fts_table"] == "items_fts"


def test_writes_are_refused(server: tuple[str, Path]) -> None:
    base, _db_path = server
    for sql in ("delete from items", "drop table matches"):
        status, body = get(base + ".json", sql=sql)
        assert status == 400, sql
        assert body["error"] == "Statement must be a SELECT"
    request = urllib.request.Request(base + "/search", data=b"q=copper", method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    assert err.value.code >= 400
    # A statement that passes the SELECT check still meets a read-only connection.
    status, body = get(base + ".json", sql="with x as (select 1) delete from items")
    assert status == 400
    assert "readonly" in body["error"].replace("read-only", "readonly")
    status, rows = get(base + ".json", sql="select count(*) as n from items", _shape="array")
    assert (status, rows) == (200, [{"n": len(ITEMS)}])


def test_friendly_error_without_datasette(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "datasette" else real(name)
    )
    db_path = tmp_path / "m.db"
    build_archive(db_path, ITEMS[:2])
    result = CliRunner().invoke(cli, ["--db", str(db_path), "serve"])
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: Datasette is not installed, so the archive cannot be served\n"
        "Hint: install the web extra: pip install '.[web]' (or pip install datasette)\n",
    )
