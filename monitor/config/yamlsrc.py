"""YAML loading that remembers where every key and list item came from.

Validators report ``FILE:LINE`` for each problem, so mappings and lists loaded here carry
their line numbers: ``LineDict.line_of(key)`` and ``LineList.line_of(index)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from monitor.errors import ConfigError, Problem
from monitor.names import closest


class LineDict(dict[str, Any]):
    """A mapping that knows the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


class _Loader(yaml.SafeLoader):
    pass


# The same constructors over libyaml's parser (C, when PyYAML has it): about a third of
# loading the shipped rules was the pure-Python parser. A file it refuses is parsed again
# by the pure-Python loader, so every message stays the one the tests and docs show.
_CBase: Any = getattr(yaml, "CSafeLoader", None)


class _FastLoader(_CBase or yaml.SafeLoader):  # type: ignore[misc]
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain value", key_node.start_mark
            )
        key = str(key)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


for _cls in (_Loader, _FastLoader):
    _cls.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _cls.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml_text(text: str, filename: str) -> Any:
    """Parse YAML text; a syntax error becomes a ConfigError with the file and line."""
    try:
        return yaml.load(text, Loader=_FastLoader)
    except yaml.YAMLError:
        pass  # the message comes from the loader below, the one it always came from
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        column = mark.column + 1 if mark else 0
        what = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(
            [
                Problem(
                    filename,
                    line,
                    f"YAML syntax error: {what}",
                    "check indentation and quoting around this line",
                    column=column,
                )
            ]
        ) from None
    except yaml.YAMLError as exc:  # pragma: no cover - non-marked errors are rare
        raise ConfigError([Problem(filename, 0, f"YAML error: {exc}")]) from None


def load_yaml_file(path: Path) -> Any:
    """Read and parse a YAML file; a missing or unreadable file is a ConfigError too."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [Problem(str(path), 0, "file not found", "check the path, or create the file")]
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [Problem(str(path), 0, f"not UTF-8 text ({exc.reason})", "save the file as UTF-8")]
        ) from None
    except OSError as exc:
        raise ConfigError([Problem(str(path), 0, f"cannot read: {exc.strerror}")]) from None
    return load_yaml_text(text, str(path))


def did_you_mean(word: str, choices: list[str] | tuple[str, ...] | set[str]) -> str | None:
    """A hint naming the closest known word, or None when nothing is close."""
    close = closest(word, choices)
    return f"did you mean {close!r}?" if close else None


def unknown_key_problems(
    mapping: LineDict, known: tuple[str, ...] | list[str], filename: str, where: str
) -> list[Problem]:
    """One problem per key not in ``known``, each with a did-you-mean hint."""
    problems = []
    for key in mapping:
        if key not in known:
            hint = did_you_mean(key, list(known)) or f"known keys: {', '.join(known)}"
            problems.append(
                Problem(filename, mapping.line_of(key), f"unknown key {key!r} in {where}", hint)
            )
    return problems


class ProblemCollector:
    """Problems of one file, gathered while reading it (every one is reported, not the first)."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[Problem] = []

    def add(self, line: int, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(self.filename, line, message, hint))

    def unknown_keys(self, mapping: LineDict, known: tuple[str, ...], where: str) -> None:
        self.problems += unknown_key_problems(mapping, known, self.filename, where)
