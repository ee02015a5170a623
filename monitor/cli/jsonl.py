"""Labelled items from a JSON Lines file, for `monitor match` and `monitor rules eval`. A
helper module: it defines no command (the lines are read by monitor.rules.evaluation)."""

from __future__ import annotations

from pathlib import Path

from monitor.errors import ConfigError, Problem
from monitor.rules.evaluation import Record, records_from_jsonl


def read_jsonl(path: Path, *, need_labels: bool = False) -> list[Record]:
    """Items from a JSON Lines file; every bad line is reported (ConfigError, exit 2)."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(name, 0, "file not found", "check the path")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(name, 0, f"cannot read: {exc}")]) from None
    return records_from_jsonl(text, name, need_labels=need_labels)
