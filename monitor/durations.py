"""Durations as people write them, one syntax everywhere: feeds.yaml intervals,
monitor.yaml ages, and the CLI's --since / --older-than.

``90s``, ``15m``, ``1h30m``, ``24h``, ``7d``, ``2w``: whole numbers, units w, d, h, m, s in
that order, each at most once. Standard library only.
"""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_UNIT_SECONDS = (604_800, 86_400, 3_600, 60, 1)
HOW = "write e.g. '15m', '1h' or '1h30m'; units w, d, h, m, s"


def parse_seconds(text: str) -> int:
    """Duration text → whole seconds (> 0).

    Raises ValueError whose text reads "WHAT IS WRONG: HOW TO WRITE IT", so callers can show
    the two parts separately.
    """
    s = str(text).strip()
    if not s:
        raise ValueError(f"{text!r} is empty: {HOW}")
    if s.isdigit():
        raise ValueError(f"{s!r} has no unit: write e.g. '{s}m' for minutes; units w, d, h, m, s")
    found = _DURATION.match(s)
    if not found:
        lower = s.lower()
        if lower != s and _DURATION.match(lower):
            raise ValueError(f"{s!r} has upper-case units: write {lower!r}")
        raise ValueError(f"{s!r} is not a duration: {HOW}")
    total = sum(int(g) * size for g, size in zip(found.groups(), _UNIT_SECONDS, strict=True) if g)
    if total <= 0:
        raise ValueError(f"{s!r} is zero: a duration must be positive")
    return total


def parse_duration(text: str) -> timedelta:
    """Duration text → timedelta; see parse_seconds."""
    return timedelta(seconds=parse_seconds(text))


def format_duration(seconds: int) -> str:
    """Seconds → the shortest text parse_seconds accepts (``5400`` → ``"1h30m"``)."""
    parts = []
    for unit, size in zip("wdhms", _UNIT_SECONDS, strict=True):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
