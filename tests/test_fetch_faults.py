"""Hostile answers that once escaped as untyped errors (issue 10, point 6): each becomes a
FetchError with a sentence and is recorded on the feed (last error, failure count, next
attempt) like any other failure, through the real pipeline, CLI and SQLite archive."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.reader.fetch_errors import RETRY_AFTER_CAP, parse_retry_after
from tests.feedserver import SMALL_FEED, FeedServer

# path → (scenario, params, kind, start of the stored sentence)
CASES: dict[str, tuple[str, dict[str, object], str, str]] = {
    "/retry-40-digits.xml": (
        "retry_after_429",
        {"retry_after": "9" * 40},
        "http_status",
        "HTTP 429 Too Many Requests; the server asked us to wait 100 years or more",
    ),
    "/retry-superscript.xml": (
        "retry_after_429",
        {"retry_after": "\u00b2"},  # "²".isdigit() is True, float("²") raises
        "http_status",
        "HTTP 429 Too Many Requests",
    ),
    "/retry-year-9999.xml": (
        "status_503",
        {"retry_after": "Fri, 31 Dec 9999 23:59:59 GMT"},
        "http_status",
        "HTTP 503 Service Unavailable; the server asked us to wait 100 years or more",
    ),
    "/to-javascript.xml": (
        "redirect",
        {"to": "javascript:alert(1)"},
        "redirects",
        "the server redirected to an address that is not valid (",
    ),
    "/to-port-99999.xml": (
        "redirect",
        {"to": "http://127.0.0.1:99999/x"},
        "redirects",
        "redirect to an address that is not valid (http://127.0.0.1:99999/x)",
    ),
    "/to-bad-ipv6.xml": (
        "redirect",
        {"to": "http://[::1/x"},
        "redirects",
        "127.0.0.1 redirected to an address that is not valid (",
    ),
    "/to-no-host.xml": (
        "redirect",
        {"to": "//:80/x"},
        "redirects",
        "redirect to an address without a host (http://:80/x)",
    ),
    "/bad-content-length.xml": (
        "html_page",
        {"headers": {"content-length": "12abc"}},
        "protocol",
        "127.0.0.1 sent malformed headers (bad Content-Length)",
    ),
    "/nul-in-etag.xml": (
        "html_page",
        {"body": SMALL_FEED, "headers": {"etag": "\xff\xfe\x00x"}},
        "protocol",
        "127.0.0.1 sent malformed headers (illegal header line",
    ),
    "/huge-header.xml": (
        "html_page",
        {"headers": {"x-padding": "a" * 2_000_000}},
        "protocol",
        "127.0.0.1 sent malformed headers (",
    ),
    "/odd-encoding.xml": (
        "html_page",
        {"body": SMALL_FEED, "headers": {"content-encoding": "gzip\xff"}},
        "decode",
        "the server used gzip\xff compression, which we did not ask for",
    ),
}


@pytest.fixture
def archive(tmp_path: Path, feed_server: FeedServer) -> Path:
    for path, (scenario, params, _, _) in CASES.items():
        feed_server.add_scenario(path, scenario, **params)
    feeds = "".join(
        f"  - id: f{i}\n    name: F{i}\n    url: {feed_server.url(path)}\n"
        for i, path in enumerate(CASES)
    )
    (tmp_path / "feeds.yaml").write_text(
        f"defaults:\n  timeout: 5s\n  kind: news\n  lang: en\nfeeds:\n{feeds}", encoding="utf-8"
    )
    (tmp_path / "rules").mkdir()
    opts = ["--feeds", str(tmp_path / "feeds.yaml"), "--rules", str(tmp_path / "rules")]
    opts += ["--settings", str(tmp_path / "monitor.yaml"), "--db", str(tmp_path / "a.db")]
    result = CliRunner().invoke(cli, [*opts, "poll", "--once"], catch_exceptions=False)
    assert "Traceback" not in result.output
    return tmp_path / "a.db"


def test_every_hostile_answer_is_a_recorded_failure_in_words(archive: Path) -> None:
    with sqlite3.connect(archive) as conn:
        rows = conn.execute(
            "SELECT id, last_error, last_error_kind, consecutive_failures, next_poll_at"
            " FROM feeds ORDER BY rowid"
        ).fetchall()
    assert len(rows) == len(CASES)
    for (feed, error, kind, failures, next_poll), path in zip(rows, CASES, strict=True):
        _, _, want_kind, want_start = CASES[path]
        assert (kind, failures) == (want_kind, 1), (path, error)
        assert error.startswith(want_start), (path, error)
        assert "Traceback" not in error, (path, feed)
        assert next_poll, (path, feed)


def test_retry_after_is_capped() -> None:
    assert parse_retry_after("9" * 40) == RETRY_AFTER_CAP
    assert parse_retry_after("\u00b2") is None
    assert parse_retry_after("120") == 120.0
