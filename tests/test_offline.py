"""Offline or broken networks (issue 10, point 16): each failure is said once, one line says
when the network looks down, `poll --once` exits 1 when every feed failed, and a restart
during back-off says when each feed is tried next. Real processes, real refused ports."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.feedserver import SMALL_FEED, FeedServer


def refused_url() -> str:
    """An address on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/feed.xml"


def workdir(tmp_path: Path, urls: list[str]) -> list[str]:
    feeds = "".join(f"  - id: f{i}\n    name: F{i}\n    url: {url}\n" for i, url in enumerate(urls))
    (tmp_path / "feeds.yaml").write_text(
        f"defaults:\n  interval: 15m\n  timeout: 5s\n  kind: news\n  lang: en\nfeeds:\n{feeds}",
        encoding="utf-8",
    )
    (tmp_path / "rules").mkdir(exist_ok=True)
    return [
        sys.executable, "-m", "monitor",
        "--feeds", str(tmp_path / "feeds.yaml"),
        "--rules", str(tmp_path / "rules"),
        "--settings", str(tmp_path / "monitor.yaml"),
        "--db", str(tmp_path / "archive.db"),
    ]  # fmt: skip


def test_poll_once_offline_says_it_once_and_exits_1(tmp_path: Path) -> None:
    base = workdir(tmp_path, [refused_url() for _ in range(3)])
    done = subprocess.run(
        [*base[:3], "-v", *base[3:], "poll", "--once"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    out = done.stdout + done.stderr
    for i in range(3):  # each failure once: its row in the table, no log line beside it
        assert len(re.findall(rf"^f{i} .*failed", out, re.MULTILINE)) == 1, out
    assert out.count("could not connect to 127.0.0.1") == 3, out
    assert done.stderr.count("the network looks down") == 1
    assert (
        "Warning: all 3 feeds failed without an answer (connection, DNS or timeout): the network"
        " looks down; check this machine's connection or proxy, then poll again\n"
    ) in done.stderr


def test_poll_once_exit_status_follows_the_feeds(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.add_file("/ok.xml", SMALL_FEED)
    feed_server.add_scenario("/500.xml", "status_500")
    mixed = workdir(tmp_path, [feed_server.url("/ok.xml"), feed_server.url("/500.xml")])
    done = subprocess.run([*mixed, "poll", "--once"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr

    (tmp_path / "archive.db").unlink()
    broken = workdir(tmp_path, [feed_server.url("/500.xml"), refused_url()])
    done = subprocess.run(
        [*broken, "poll", "--once", "--json"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert '"verdict": "all 2 feeds failed; see the reasons above and' in done.stdout


class Lines:
    """A process's stderr, read line by line in a thread, waited on by content."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self.cond = threading.Condition()
        assert proc.stderr is not None
        stream = proc.stderr
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()

    def wait_for(self, text: str) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: any(text in ln for ln in self.lines), timeout=60)

    @property
    def text(self) -> str:
        with self.cond:
            return "".join(self.lines)


def run_until(base: list[str], text: str) -> str:
    proc = subprocess.Popen([*base, "run", "--workers", "0"], stderr=subprocess.PIPE, text=True)
    lines = Lines(proc)
    try:
        assert lines.wait_for(text), lines.text
        assert lines.wait_for("scheduler started")  # SIGTERM is handled from here on
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert lines.wait_for("stopped")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return lines.text


@pytest.mark.slow
def test_run_offline_logs_each_failure_once_then_says_when_it_retries(tmp_path: Path) -> None:
    base = workdir(tmp_path, [refused_url() for _ in range(3)])
    log = run_until(base, "the network looks down")
    for i in range(3):
        assert len(re.findall(rf"feed f{i}\b.*could not connect", log)) == 1, log
    assert log.count("the network looks down") == 1
    assert "all 3 feeds failed without an answer (connection, DNS or timeout)" in log

    # a restart during the back-off: the start-up log says when each feed is tried next
    log = run_until(base, "next attempts:")
    line = next(ln for ln in log.splitlines() if "next attempts:" in ln)
    assert "3 feeds are backing off or asked to wait; next attempts: " in line
    for i in range(3):
        # the date is written only when the attempt falls on another day (after midnight)
        at = r"(\d{4}-\d\d-\d\d )?\d\d:\d\d UTC"
        assert re.search(rf"f{i} at {at} \(in (1[45]m|\d+h\d\dm)\)", line), line
    assert "could not connect" not in log  # nothing is fetched before its time
