"""Error kinds are enums whose values are the strings stored in feeds.last_error_kind and
printed by `monitor poll --once --json`: renaming a value would change both."""

from __future__ import annotations

import json
import pickle
import sqlite3

import pytest

from monitor.errors import FetchError, FetchKind, ParseError, ParseKind


def test_the_stored_strings_stay_as_they_were() -> None:
    assert sorted(FetchKind) == sorted(
        [
            "connect",
            "decode",
            "dns",
            "gone",
            "http_status",
            "protocol",
            "redirects",
            "timeout",
            "tls",
            "too_large",
        ]
    )
    assert sorted(ParseKind) == ["empty", "internal", "malformed", "not_a_feed"]


def test_a_kind_is_written_as_its_string() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE feeds (last_error_kind TEXT)")
    db.execute("INSERT INTO feeds VALUES (?)", [FetchKind.GONE])
    assert db.execute("SELECT last_error_kind, typeof(last_error_kind) FROM feeds").fetchone() == (
        "gone",
        "text",
    )
    assert json.dumps({"error_kind": ParseKind.NOT_A_FEED}) == '{"error_kind": "not_a_feed"}'
    assert f"{FetchKind.TOO_LARGE}" == "too_large"


def test_errors_carry_their_kind_across_processes_and_refuse_unknown_ones() -> None:
    fetch = pickle.loads(pickle.dumps(FetchError(FetchKind.DNS, "could not resolve")))
    assert fetch.kind is FetchKind.DNS
    parse = pickle.loads(pickle.dumps(ParseError(ParseKind.EMPTY, "the body is empty")))
    assert parse.kind is ParseKind.EMPTY
    with pytest.raises(ValueError, match="nonsense"):
        FetchError("nonsense", "a kind nobody handles")  # type: ignore[arg-type]
