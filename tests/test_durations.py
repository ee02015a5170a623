"""One duration syntax for feeds.yaml, monitor.yaml and the CLI."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from monitor.durations import format_duration, parse_duration, parse_seconds


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h30m", 5400), ("24h", 86400), ("7d", 604800), ("2w", 1209600)],
)
def test_parses(text: str, seconds: int) -> None:
    assert parse_seconds(text) == seconds
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "'' is empty: write e.g. '15m', '1h' or '1h30m'; units w, d, h, m, s"),
        ("15", "'15' has no unit: write e.g. '15m' for minutes; units w, d, h, m, s"),
        ("15M", "'15M' has upper-case units: write '15m'"),
        ("0m", "'0m' is zero: a duration must be positive"),
        (
            "1m1h",
            "'1m1h' is not a duration: write e.g. '15m', '1h' or '1h30m'; units w, d, h, m, s",
        ),
    ],
)
def test_errors_say_how_to_write_it(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as exc:
        parse_seconds(text)
    assert str(exc.value) == message


def test_format_round_trips() -> None:
    for seconds in (1, 60, 5400, 86400, 694861):
        assert parse_seconds(format_duration(seconds)) == seconds
