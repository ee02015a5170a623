"""Reading commands on a read-only archive, and every command on a file that is not one.

Tests run as root, and root ignores file modes. So the commands run as root *without* the
capabilities that let root ignore them (``setpriv --bounding-set -dac_override,...``): the
kernel then refuses writes to a 0444 file or a 0555 folder exactly as it would for an
analyst's own account. Real SQLite files, the real CLI in a subprocess.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from tests.test_archive_store import ITEMS, build_archive, item_id
from tests.test_serve import _free_port

SETPRIV = shutil.which("setpriv")
DROP = "-dac_override,-dac_read_search,-fowner,-linux_immutable"

# Every reading command, with what its output must show.
READING = [
    (["search", "copper", "--format", "json"], item_id(63)),
    (["stats"], "items per feed"),
    (["show", item_id(61)], "Matched rules"),
    (["feeds", "status"], "Feed"),
    (["export", "--format", "ndjson"], item_id(61)),
    (["rules", "backtest", "--since", "2000-01-01"], "copper"),
]


def unprivileged() -> list[str]:
    """The argv prefix that makes file modes bind: nothing as a normal user, setpriv as root."""
    if os.geteuid() != 0:
        return []
    if SETPRIV is None:
        pytest.skip("running as root and setpriv (util-linux) is not installed")
    probe = subprocess.run([SETPRIV, f"--bounding-set={DROP}", "--", "true"], check=False)
    if probe.returncode != 0:
        pytest.skip("setpriv cannot drop capabilities in this container")
    return [SETPRIV, f"--bounding-set={DROP}", "--"]


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "copper.yaml").write_text(
        "id: copper\nname: Copper\nquery: copper\n", encoding="utf-8"
    )
    feeds = sorted({it["feed"] for it in ITEMS})
    (tmp_path / "feeds.yaml").write_text(
        "defaults:\n  kind: news\n  lang: en\n  country: JP\nfeeds:\n"
        + "".join(f"  - id: {f}\n    name: {f}\n    url: http://127.0.0.1:9/{f}\n" for f in feeds),
        encoding="utf-8",
    )
    (tmp_path / "archive").mkdir()
    build_archive(tmp_path / "archive" / "monitor.db").conn.close()
    yield tmp_path
    for path in (tmp_path / "archive", *(tmp_path / "archive").iterdir()):
        path.chmod(0o755)  # let pytest clean up


def run(workdir: Path, db: Path, *args: str, prefix: list[str]) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "monitor", "--feeds", str(workdir / "feeds.yaml")]
    argv += ["--rules", str(workdir / "rules"), "--settings", str(workdir / "monitor.yaml")]
    return subprocess.run(
        [*prefix, *argv, "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def fingerprint(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
    }


@pytest.mark.parametrize("read_only_folder", [False, True], ids=["file-0444", "folder-0555"])
def test_reading_commands_work_on_a_read_only_archive(
    workdir: Path, read_only_folder: bool
) -> None:
    prefix = unprivileged()
    db = workdir / "archive" / "monitor.db"
    db.chmod(0o444)
    if read_only_folder:
        db.parent.chmod(0o555)
    before = fingerprint(db.parent)
    assert "monitor.db-wal" not in before
    assert "monitor.db-shm" not in before
    # the modes really bind for these processes
    denied = subprocess.run(
        [*prefix, "sh", "-c", f"echo x >> {db}"], check=False, capture_output=True
    )
    assert denied.returncode != 0
    for args, expected in READING:
        result = run(workdir, db, *args, prefix=prefix)
        assert result.returncode == 0, (args, result.stderr)
        assert "Traceback" not in result.stderr, args
        assert expected.lower() in result.stdout.lower(), (args, result.stdout)
    after = fingerprint(db.parent)
    assert after["monitor.db"] == before["monitor.db"]  # bytes and mtime unchanged
    if read_only_folder:
        assert after == before  # and no -wal or -shm could appear


def test_reading_commands_never_write_to_a_writable_archive(workdir: Path) -> None:
    db = workdir / "archive" / "monitor.db"
    before = fingerprint(db.parent)
    for args, _ in READING:
        result = run(workdir, db, *args, prefix=[])
        assert result.returncode == 0, (args, result.stderr)
    assert fingerprint(db.parent)["monitor.db"] == before["monitor.db"]


def test_serve_works_on_an_archive_in_a_read_only_folder(workdir: Path) -> None:
    pytest.importorskip("datasette")
    prefix = unprivileged()
    db = workdir / "archive" / "monitor.db"
    db.chmod(0o444)
    db.parent.chmod(0o555)
    before = fingerprint(db.parent)
    port = _free_port()
    argv = [sys.executable, "-m", "monitor", "--db", str(db), "serve", "--port", str(port)]
    log = (workdir / "serve.log").open("wb")
    proc = subprocess.Popen([*prefix, *argv], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/monitor.json?sql=select+count(*)+as+n+from+items&_shape=array"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    rows = json.loads(response.read())
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((workdir / "serve.log").read_text()) from None
                time.sleep(0.2)
        assert rows == [{"n": len(ITEMS)}]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()
    assert fingerprint(db.parent) == before


EVERY_COMMAND = [
    *(args for args, _ in READING),
    ["poll", "--once"],
    ["digest", "preview"],
    ["digest"],
    ["prune", "--older-than", "30d"],
    ["rules", "explain", "copper", item_id(61)],
]


@pytest.mark.parametrize("args", EVERY_COMMAND, ids=" ".join)
def test_a_file_that_is_not_an_archive_gets_one_sentence_and_exit_2(
    workdir: Path, args: list[str]
) -> None:
    text = workdir / "notes.txt"
    text.write_text("these are my notes, not a database\n" * 20, encoding="utf-8")
    opts = ["--feeds", str(workdir / "feeds.yaml"), "--rules", str(workdir / "rules")]
    opts += ["--settings", str(workdir / "monitor.yaml"), "--db", str(text)]
    result = CliRunner().invoke(cli, [*opts, *args])
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stderr.startswith(f"Error: {text} is not a monitor archive"), result.stderr
    assert len(result.stderr.splitlines()) == 2  # the sentence and its hint
    assert text.read_text(encoding="utf-8").startswith("these are my notes")


def test_serve_on_a_file_that_is_not_an_archive(workdir: Path) -> None:
    text = workdir / "notes.txt"
    text.write_text("not a database\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--db", str(text), "serve"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {text} is not a monitor archive")
