"""One rule file: read, checked field by field, and made a Rule (or its problems noted).

monitor.config.rules loads every rule file and term list into a RuleBook with these.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from monitor.config.querylocate import locate, value_nodes
from monitor.config.termlists import NAME_RE, read_capped, str_list
from monitor.config.yamlsrc import (
    LineDict,
    LineList,
    did_you_mean,
    load_yaml_text,
    unknown_key_problems,
)
from monitor.errors import ConfigError, Problem, QueryError
from monitor.model import FEED_KINDS, Priority, Rule, RuleExample, SourceFilter
from monitor.rules.compile import compile_query
from monitor.rules.limits import MAX_RULE_FILE_BYTES
from monitor.rules.parser import parse_query
from monitor.rules.termlist import TermList

RULE_KEYS = (
    "id",
    "name",
    "description",
    "priority",
    "channel",
    "query",
    "exclude",
    "sources",
    "min_score",
    "weight",
    "tags",
    "examples",
)
SOURCE_KEYS = ("kinds", "countries", "feeds", "langs")


def _number(
    data: LineDict, key: str, default: float, filename: str, problems: list[Problem]
) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(
            Problem(filename, data.line_of(key), f"{key} must be a number", f"e.g. {key}: 1")
        )
        return default
    return float(value)


def _examples(
    value: Any, filename: str, line: int, problems: list[Problem]
) -> tuple[tuple[RuleExample, ...], tuple[RuleExample, ...]]:
    if value is None:
        return (), ()
    if not isinstance(value, LineDict):
        problems.append(
            Problem(filename, line, "examples must be a mapping", "use `match:` and `no_match:`")
        )
        return (), ()
    problems.extend(unknown_key_problems(value, ("match", "no_match"), filename, "examples"))
    out: list[tuple[RuleExample, ...]] = []
    for key in ("match", "no_match"):
        entries = value.get(key)
        examples: list[RuleExample] = []
        if entries is not None and not isinstance(entries, list):
            problems.append(Problem(filename, value.line_of(key), f"examples.{key} must be a list"))
            entries = None
        for i, entry in enumerate(entries or []):
            ln = entries.line_of(i) if isinstance(entries, LineList) else value.line_of(key)
            if isinstance(entry, str) and entry.strip():
                examples.append(RuleExample(entry, "", ln))
            elif isinstance(entry, LineDict):
                problems.extend(
                    unknown_key_problems(entry, ("title", "summary"), filename, "an example")
                )
                title, summary = entry.get("title", ""), entry.get("summary", "")
                if not isinstance(title, str) or not isinstance(summary, str):
                    problems.append(Problem(filename, ln, "example title and summary are text"))
                elif not (title.strip() or summary.strip()):
                    problems.append(Problem(filename, ln, "an example needs a title or summary"))
                else:
                    examples.append(RuleExample(title, summary, ln))
            else:
                problems.append(
                    Problem(
                        filename,
                        ln,
                        "an example is a title string or {title: …, summary: …}",
                    )
                )
        out.append(tuple(examples))
    return out[0], out[1]


def _query_problem(
    exc: QueryError, filename: str, lines: list[str], node: yaml.Node | None, key: str
) -> Problem:
    line, column, source = locate(lines, node, exc.column - 1)
    return Problem(
        filename,
        line,
        f"{key}: {exc.message}",
        exc.hint,
        column=column,
        source_line=source if column else None,
    )


def _read_rule_file(path: Path, problems: list[Problem]) -> tuple[str, LineDict] | None:
    """The file's text and its mapping, or None with the problem noted."""
    filename = str(path)
    try:
        text = read_capped(path, MAX_RULE_FILE_BYTES, "a rule file", problems)
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(filename, 0, f"cannot read: {exc}", "save the file as UTF-8"))
        return None
    if text is None:
        return None
    try:
        data = load_yaml_text(text, filename)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None
    if not isinstance(data, LineDict):
        problems.append(
            Problem(filename, 1, "a rule file must be a mapping", "start with `name:` and `query:`")
        )
        return None
    return text, data


def _check_id(data: LineDict, stem: str, filename: str, problems: list[Problem]) -> None:
    rule_id = data.get("id", stem)
    if not isinstance(rule_id, str) or rule_id != stem:
        problems.append(
            Problem(
                filename,
                data.line_of("id"),
                f"id {rule_id!r} differs from the file name",
                f"use id: {stem}, or rename the file to {rule_id}.yaml",
            )
        )
    if not NAME_RE.match(stem):
        problems.append(
            Problem(filename, 0, f"rule id {stem!r}", "use letters, digits, - and _ in file names")
        )


def _priority(data: LineDict, filename: str, problems: list[Problem]) -> Priority:
    priority = data.get("priority", "normal")
    if priority == "high":
        return "high"
    if priority != "normal":
        problems.append(
            Problem(
                filename,
                data.line_of("priority"),
                f"priority must be normal or high, not {priority!r}",
                did_you_mean(str(priority), ["normal", "high"]),
            )
        )
    return "normal"


def _check_queries(
    text: str,
    fields: tuple[tuple[str, str | None], ...],
    lists: dict[str, TermList],
    lists_ok: bool,
    filename: str,
    problems: list[Problem],
) -> None:
    """Each query field parsed and compiled; a problem with its line and caret for each."""
    nodes = value_nodes(text)
    lines = text.splitlines()
    for key, value in fields:
        if value is None:
            continue
        if key == "exclude" and not value.strip():
            continue
        try:
            node = parse_query(value)
            if lists_ok:
                compile_query(node, lists, query=value)
            else:  # a broken list set: still report unknown names
                compile_query(node, {n: TermList(n, ()) for n in lists}, query=value)
        except QueryError as exc:
            problems.append(_query_problem(exc, filename, lines, nodes.get(key), key))


def load_rule(
    path: Path, lists: dict[str, TermList], lists_ok: bool, problems: list[Problem]
) -> Rule | None:
    read = _read_rule_file(path, problems)
    if read is None:
        return None
    text, data = read
    filename = str(path)
    before = len(problems)
    problems.extend(unknown_key_problems(data, RULE_KEYS, filename, "a rule"))
    stem = path.stem
    _check_id(data, stem, filename, problems)

    def text_field(key: str, required: bool = False) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                problems.append(
                    Problem(filename, data.line, f"missing {key}", f"add `{key}:` to the rule")
                )
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            problems.append(Problem(filename, data.line_of(key), f"{key} must be text"))
            return None
        return str(value)

    name = text_field("name") or stem
    description = text_field("description") or ""
    channel = text_field("channel")
    query = text_field("query", required=True)
    exclude = text_field("exclude")
    priority = _priority(data, filename, problems)
    min_score = _number(data, "min_score", 0.0, filename, problems)
    weight = _number(data, "weight", 1.0, filename, problems)
    if weight <= 0:
        problems.append(Problem(filename, data.line_of("weight"), "weight must be above 0"))
    tags = [
        t for t, _ in str_list(data.get("tags"), filename, data.line_of("tags"), "tags", problems)
    ]
    sources = _sources(data, filename, problems)
    match_ex, no_match_ex = _examples(
        data.get("examples"), filename, data.line_of("examples"), problems
    )
    fields = (("query", query), ("exclude", exclude))
    _check_queries(text, fields, lists, lists_ok, filename, problems)
    if len(problems) > before or query is None:
        return None
    return Rule(
        id=stem,
        name=name.strip(),
        query=query,
        description=description.strip(),
        exclude=exclude if exclude and exclude.strip() else None,
        priority=priority,
        channel=channel,
        sources=sources,
        min_score=min_score,
        weight=weight,
        tags=tuple(tags),
        match_examples=match_ex,
        no_match_examples=no_match_ex,
        path=filename,
    )


def _sources(data: LineDict, filename: str, problems: list[Problem]) -> SourceFilter:
    value = data.get("sources")
    if value is None:
        return SourceFilter()
    if not isinstance(value, LineDict):
        problems.append(
            Problem(
                filename, data.line_of("sources"), "sources must be a mapping", "e.g. langs: [en]"
            )
        )
        return SourceFilter()
    problems.extend(unknown_key_problems(value, SOURCE_KEYS, filename, "sources"))
    got: dict[str, tuple[str, ...]] = {}
    for key in SOURCE_KEYS:
        entries = str_list(value.get(key), filename, value.line_of(key), f"sources.{key}", problems)
        if key == "kinds":
            for kind, ln in entries:
                if kind not in FEED_KINDS:
                    problems.append(
                        Problem(
                            filename,
                            ln,
                            f"unknown kind {kind!r}",
                            did_you_mean(kind, FEED_KINDS) or "kinds are news, government, search",
                        )
                    )
        norm = str.upper if key == "countries" else (str.lower if key == "langs" else str)
        got[key] = tuple(norm(e) for e, _ in entries)
    return SourceFilter(**got)
