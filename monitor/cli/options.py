"""Click parameter types shared by several commands: a duration, and a point in time. A
helper module: it defines no command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import click

from monitor.durations import parse_duration


class Duration(click.ParamType[timedelta]):
    """``24h``, ``7d``, ``2w``: a length of time (monitor.durations' syntax).

    ``name`` is the metavar shown in help; with ``example`` an invalid value is reported as
    "'x' is not <example>" instead of the parser's own sentence.
    """

    def __init__(self, name: str = "DURATION", example: str | None = None) -> None:
        self.name = name
        self.example = example

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(f"{value!r} is not {self.example}" if self.example else str(exc), param, ctx)


class TimeSpec(click.ParamType[datetime]):
    """``30d``, ``12h``, ``2w``, ``90m`` (before now) or a date/time (``2026-06-01``, UTC)."""

    name = "when"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        if text[:1].isdigit() and not text[-1:].isdigit():
            from monitor.store.db import utcnow  # here: a command's --help opens no store

            try:
                return utcnow() - parse_duration(text)
            except ValueError:
                pass  # not a duration: maybe a date such as 2026-06-01T00:00Z
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.fail(
                f"{text!r} is neither a duration like 30d, 12h or 2w nor a date like 2026-06-01",
                param,
                ctx,
            )
        return when if when.tzinfo else when.replace(tzinfo=UTC)
