"""Crontab expressions checked as monitor.yaml is loaded, with the field at fault named.

APScheduler may be imported by monitor/scheduler.py only, so the five fields are checked here.
"""

from __future__ import annotations

from collections.abc import Sequence

_CRON_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    (
        "month",
        1,
        12,
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
    ),
    ("day of week", 0, 7, ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]),
)


def cron_problem(expr: str) -> str | None:
    """Why ``expr`` is not a five-field crontab expression, or None when it is one."""
    parts = str(expr).split()
    if len(parts) != 5:
        return f"a schedule has 5 fields (minute hour day month weekday), got {len(parts)}"
    for text, (label, low, high, names) in zip(parts, _CRON_FIELDS, strict=True):
        for piece in text.split(","):
            problem = _cron_piece_problem(piece.lower(), low, high, names)
            if problem:
                return f"{label} field {text!r}: {problem}"
    return None


def _cron_piece_problem(piece: str, low: int, high: int, names: Sequence[str]) -> str | None:
    base, _, step = piece.partition("/")
    if step and (not step.isdigit() or int(step) == 0):
        return f"bad step {step!r}"
    if base == "*":
        return None
    for value in base.split("-", 1):
        if value in names:
            continue
        if not value.isdigit():
            return f"{value!r} is not a number"
        if not low <= int(value) <= high:
            return f"{value} is outside {low}-{high}"
    return None
