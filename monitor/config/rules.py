"""Load rules/*.yaml and rules/lists/*.yaml into a RuleBook, reporting every problem.

Every problem in every file is collected before anything is raised, each with FILE:LINE
(and, for a query, the column inside the YAML file and the line with a caret), so an analyst
fixes a whole batch in one go. A bad set raises ConfigError and changes nothing: a running
monitor keeps its last good RuleBook.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from monitor.config.querylocate import locate, value_nodes
from monitor.config.termlists import NAME_RE, include_problems, load_list, read_capped, str_list
from monitor.config.yamlsrc import (
    LineDict,
    LineList,
    did_you_mean,
    load_yaml_text,
    unknown_key_problems,
)
from monitor.errors import ConfigError, MonitorError, Problem, QueryError
from monitor.model import FEED_KINDS, Rule, RuleExample, SourceFilter
from monitor.rules.compile import compile_query
from monitor.rules.limits import (
    MAX_RULE_FILE_BYTES,
    MAX_TOTAL_TERMS,
)
from monitor.rules.matcher import Matcher
from monitor.rules.parser import parse_query
from monitor.rules.termlist import TermList, expand_terms, lists_reached, term_options

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


@dataclass
class RuleBook:
    """A valid set of rules and term lists, compiled into one Matcher."""

    rules: tuple[Rule, ...]
    lists: dict[str, TermList]
    matcher: Matcher
    files: tuple[Path, ...] = field(default=())  # every file read, for change detection

    def get(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        ids = [r.id for r in self.rules]
        hint = did_you_mean(rule_id, ids) or (
            "known rules: " + ", ".join(ids) if ids else "there are no rules yet"
        )
        raise MonitorError(f"unknown rule {rule_id!r}", hint)


def rule_version(rule: Rule, lists: Mapping[str, TermList]) -> str:
    """A short hash of what decides matching: query, exclude, filters, scoring, lists used."""
    used: set[str] = set()
    for text in (rule.query, rule.exclude or ""):
        for name in re.findall(r"@([A-Za-z0-9][A-Za-z0-9_-]*)", text):
            used.update(lists_reached(name, lists))
    definition = {
        "query": rule.query.strip(),
        "exclude": (rule.exclude or "").strip(),
        "sources": [list(rule.sources.kinds), list(rule.sources.countries)]
        + [list(rule.sources.feeds), list(rule.sources.langs)],
        "min_score": rule.min_score,
        "weight": rule.weight,
        "lists": {name: list(expand_terms(name, lists)) for name in sorted(used)},
    }
    options = {
        name: {t: [list(o.not_in), o.exact_case] for t, o in term_options(name, lists).items()}
        for name in sorted(used)
    }
    if any(options.values()):  # only then: versions of rules without such entries stay put
        definition["options"] = {n: o for n, o in options.items() if o}
    blob = json.dumps(definition, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:12]


# --- rules ---------------------------------------------------------------------------------


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


def _load_rule(
    path: Path, lists: dict[str, TermList], lists_ok: bool, problems: list[Problem]
) -> Rule | None:
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
    before = len(problems)
    problems.extend(unknown_key_problems(data, RULE_KEYS, filename, "a rule"))
    stem = path.stem
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
    priority = data.get("priority", "normal")
    if priority not in ("normal", "high"):
        problems.append(
            Problem(
                filename,
                data.line_of("priority"),
                f"priority must be normal or high, not {priority!r}",
                did_you_mean(str(priority), ["normal", "high"]),
            )
        )
        priority = "normal"
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
    nodes = value_nodes(text)
    lines = text.splitlines()
    for key, value in (("query", query), ("exclude", exclude)):
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


def load_rules(rules_dir: Path) -> RuleBook:
    """Load and compile every rule and list; ConfigError lists every problem in every file."""
    rules_dir = Path(rules_dir)
    if not rules_dir.is_dir():
        raise ConfigError(
            [
                Problem(
                    str(rules_dir),
                    0,
                    "rules folder not found",
                    "create it, or point --rules / MONITOR_RULES at it",
                )
            ]
        )
    problems: list[Problem] = []
    lists: dict[str, TermList] = {}
    include_lines: dict[str, dict[str, int]] = {}
    list_files = sorted((rules_dir / "lists").glob("*.yaml"))
    for path in list_files:
        loaded = load_list(path, problems)
        if loaded:
            lists[loaded[0].name] = loaded[0]
            include_lines[loaded[0].name] = loaded[1]
    list_problems = include_problems(lists, include_lines)
    total = sum(len(t.terms) for t in lists.values())
    if total > MAX_TOTAL_TERMS:
        list_problems.append(
            Problem(
                str(rules_dir / "lists"),
                0,
                f"{total:,} terms in all lists together, more than the limit of "
                f"{MAX_TOTAL_TERMS:,}",
                "remove terms that no rule needs",
            )
        )
    problems.extend(list_problems)
    rule_files = sorted(rules_dir.glob("*.yaml"))
    for odd in sorted(rules_dir.glob("*.yml")):
        problems.append(Problem(str(odd), 0, "ignored: rule files end in .yaml", "rename it"))
    rules: list[Rule] = []
    for path in rule_files:
        rule = _load_rule(path, lists, not list_problems, problems)
        if rule is not None:
            rules.append(rule)
    if problems:
        raise ConfigError(problems)
    versioned = tuple(_with_version(r, lists) for r in rules)
    matcher = Matcher(versioned, lists)
    return RuleBook(versioned, lists, matcher, tuple(list_files + rule_files))


def _with_version(rule: Rule, lists: Mapping[str, TermList]) -> Rule:
    from dataclasses import replace

    return replace(rule, version=rule_version(rule, lists))
