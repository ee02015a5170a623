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

from monitor.config.yamlsrc import (
    LineDict,
    LineList,
    did_you_mean,
    load_yaml_text,
    unknown_key_problems,
)
from monitor.errors import ConfigError, MonitorError, Problem, QueryError
from monitor.model import FEED_KINDS, Rule, RuleExample, SourceFilter
from monitor.names import closest
from monitor.rules.compile import compile_query
from monitor.rules.limits import (
    MAX_LIST_FILE_BYTES,
    MAX_LIST_TERMS,
    MAX_NOT_IN,
    MAX_RULE_FILE_BYTES,
    MAX_TERM_CHARS,
    MAX_TOTAL_TERMS,
)
from monitor.rules.literals import literal_pattern
from monitor.rules.matcher import Matcher
from monitor.rules.parser import parse_query
from monitor.rules.termlist import TermList, TermOptions, expand_terms, lists_reached, term_options

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
LIST_KEYS = ("description", "label", "include", "terms")
SOURCE_KEYS = ("kinds", "countries", "feeds", "langs")
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")


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


# --- locating a query error inside the YAML file -------------------------------------------


def _value_nodes(text: str) -> dict[str, yaml.Node]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    if not isinstance(root, yaml.MappingNode):
        return {}
    return {k.value: v for k, v in root.value if isinstance(k, yaml.ScalarNode)}


def locate(lines: list[str], node: yaml.Node | None, offset: int) -> tuple[int, int, str]:
    """(line, column, source line), 1-based, of character ``offset`` of a scalar's value."""
    if node is None:
        return 0, 0, ""
    start = node.start_mark
    style = getattr(node, "style", None)
    if style in ("|", ">"):
        ln = start.line + 1
        indent = None
        remaining = offset
        while ln < len(lines):
            raw = lines[ln]
            if not raw.strip():
                remaining -= 1
                ln += 1
                continue
            if indent is None:
                indent = len(raw) - len(raw.lstrip(" "))
            content = raw[indent:]
            if remaining <= len(content):
                return ln + 1, indent + max(remaining, 0) + 1, raw
            remaining -= len(content) + 1
            ln += 1
        return start.line + 1, start.column + 1, lines[start.line] if lines else ""
    if style in ('"', "'"):
        raw = lines[start.line] if start.line < len(lines) else ""
        return start.line + 1, start.column + 2 + offset, raw
    # Plain scalar: continuation lines are joined with single spaces.
    ln, col, remaining = start.line, start.column, offset
    while ln < len(lines):
        raw = lines[ln]
        content = raw[col:].rstrip()
        if remaining <= len(content):
            return ln + 1, col + remaining + 1, raw
        remaining -= len(content) + 1
        ln += 1
        if ln < len(lines):
            col = len(lines[ln]) - len(lines[ln].lstrip())
    return start.line + 1, start.column + 1, lines[start.line] if lines else ""


# --- term lists --------------------------------------------------------------------------------


def _read_capped(path: Path, cap: int, what: str, problems: list[Problem]) -> str | None:
    """The file's text, or None (and a problem) when it is larger than ``cap`` bytes: read
    at most cap + 1 bytes, so a huge file costs nothing before it is refused."""
    with path.open("rb") as fh:
        raw = fh.read(cap + 1)
    if len(raw) > cap:
        problems.append(
            Problem(
                str(path),
                0,
                f"larger than {cap // 1000:,} KB, the limit for {what}",
                "split it into several files; term lists can include each other",
            )
        )
        return None
    return raw.decode("utf-8")


def _str_list(
    value: Any, filename: str, line: int, what: str, problems: list[Problem]
) -> list[tuple[str, int]]:
    """(string, line) pairs of a YAML list of strings; other shapes become problems."""
    if value is None:
        return []
    if isinstance(value, str):
        value_list: list[Any] = [value]
        lines = [line]
    elif isinstance(value, list):
        value_list = list(value)
        lines = [
            value.line_of(i) if isinstance(value, LineList) else line for i in range(len(value))
        ]
    else:
        problems.append(Problem(filename, line, f"{what} must be a list", f"e.g. {what}: [a, b]"))
        return []
    out = []
    for item, ln in zip(value_list, lines, strict=True):
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            problems.append(Problem(filename, ln, f"each entry of {what} must be text"))
        elif not str(item).strip():
            problems.append(Problem(filename, ln, f"empty entry in {what}"))
        else:
            out.append((str(item).strip(), ln))
    return out


def _load_list(path: Path, problems: list[Problem]) -> tuple[TermList, dict[str, int]] | None:
    filename = str(path)
    name = path.stem
    if not NAME_RE.match(name):
        problems.append(
            Problem(
                filename,
                0,
                f"list name {name!r} cannot be referenced as @{name}",
                "use letters, digits, - and _ in the file name",
            )
        )
        return None
    try:
        text = _read_capped(path, MAX_LIST_FILE_BYTES, "a term list", problems)
        if text is None:
            return None
        data = load_yaml_text(text, filename)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(filename, 0, f"cannot read: {exc}", "save the file as UTF-8"))
        return None
    if not isinstance(data, LineDict):
        problems.append(
            Problem(filename, 1, "a term list must be a mapping", "start with `terms:`")
        )
        return None
    problems.extend(unknown_key_problems(data, LIST_KEYS, filename, "a term list"))
    if "terms" not in data and "include" not in data:
        problems.append(Problem(filename, data.line, "a term list needs `terms:`"))
    terms: list[str] = []
    include_lines: dict[str, int] = {}
    for entry, ln in _str_list(
        data.get("include"), filename, data.line_of("include"), "include", problems
    ):
        include_lines.setdefault(entry.lstrip("@"), ln)
    raw_terms = data.get("terms")
    options: dict[str, TermOptions] = {}
    plain: list[Any] = []
    if isinstance(raw_terms, LineList):  # entries written as mappings: {term: …, not_in: …}
        kept = LineList()
        kept.line, kept.item_lines = raw_terms.line, []
        for i, item in enumerate(raw_terms):
            if isinstance(item, LineDict):
                found = _term_entry(item, filename, raw_terms.line_of(i), problems)
                if found is None:
                    continue
                item, opts = found
                options.setdefault(item, opts)
            kept.append(item)
            kept.item_lines.append(raw_terms.line_of(i))
        raw_terms = kept
    plain = raw_terms if raw_terms is not None else []
    entries = _str_list(plain or None, filename, data.line_of("terms"), "terms", problems)
    if len(entries) > MAX_LIST_TERMS:
        problems.append(
            Problem(
                filename,
                entries[MAX_LIST_TERMS][1],
                f"more than {MAX_LIST_TERMS:,} terms in one list (the limit)",
                "split it into several lists and join them with include:",
            )
        )
        return None
    for entry, ln in entries:
        if len(entry) > MAX_TERM_CHARS:
            problems.append(
                Problem(
                    filename,
                    ln,
                    f"a term longer than {MAX_TERM_CHARS} characters (the limit)",
                    "a term is a word or a short phrase",
                )
            )
            continue
        if entry.startswith("@"):
            include_lines.setdefault(entry[1:], ln)
            continue
        try:
            literal_pattern(entry, options.get(entry))
        except ValueError as exc:
            problems.append(Problem(filename, ln, f"term {entry!r}: {exc}"))
            continue
        terms.append(entry)
    description = data.get("description") or ""
    label = data.get("label") or ""
    if not isinstance(label, str) or len(label) > 60:
        problems.append(
            Problem(
                filename,
                data.line_of("label"),
                "label must be a short text (60 characters at most)",
                "e.g. label: Japan",
            )
        )
        label = ""
    kept_options = tuple((t, o) for t, o in options.items() if t in terms)
    return (
        TermList(
            name,
            tuple(terms),
            tuple(include_lines),
            str(description).strip(),
            filename,
            kept_options,
            label.strip(),
        ),
        include_lines,
    )


TERM_KEYS = ("term", "not_in", "case")


def _term_entry(
    item: LineDict, filename: str, line: int, problems: list[Problem]
) -> tuple[str, TermOptions] | None:
    """A list entry written as a mapping: ``{term: 日韓, not_in: [訪韓日程]}`` or
    ``{term: Tokyo, case: exact}``; None (with a problem) when it is malformed."""
    problems.extend(unknown_key_problems(item, TERM_KEYS, filename, "a term entry"))
    term = item.get("term")
    if not isinstance(term, str) or not term.strip():
        problems.append(
            Problem(
                filename,
                line,
                "a term entry needs `term:`",
                "e.g. {term: 日韓, not_in: [訪韓日程]}",
            )
        )
        return None
    not_in = [w for w, _ in _str_list(item.get("not_in"), filename, line, "not_in", problems)]
    if len(not_in) > MAX_NOT_IN or any(len(w) > MAX_TERM_CHARS for w in not_in):
        problems.append(
            Problem(
                filename,
                line,
                f"not_in holds more than {MAX_NOT_IN} words, or one longer than"
                f" {MAX_TERM_CHARS} characters (the limit)",
                "name the few longer words the term must not be read inside",
            )
        )
        return None
    case = item.get("case")
    if case is not None and case != "exact":
        problems.append(
            Problem(
                filename, line, f"case: {case!r} is not known", "write case: exact, or leave it out"
            )
        )
        return None
    return term.strip(), TermOptions(tuple(not_in), case == "exact")


def _include_problems(
    lists: dict[str, TermList], include_lines: dict[str, dict[str, int]]
) -> list[Problem]:
    problems = []
    for name, term_list in lists.items():
        for inc in term_list.includes:
            if inc not in lists:
                close = closest(inc, lists)
                hint = f"did you mean @{close}?" if close else None
                problems.append(
                    Problem(
                        term_list.path,
                        include_lines[name][inc],
                        f"unknown list @{inc}",
                        hint or "term lists are the files in rules/lists/",
                    )
                )
    # Circular includes: report each cycle once, at its first list.
    reported: set[frozenset[str]] = set()

    def walk(name: str, trail: list[str]) -> None:
        for inc in lists[name].includes:
            if inc not in lists:
                continue
            if inc in trail:
                cycle = trail[trail.index(inc) :] + [inc]
                members = frozenset(cycle)
                if members not in reported:
                    reported.add(members)
                    first = cycle[0]
                    problems.append(
                        Problem(
                            lists[first].path,
                            include_lines[first].get(cycle[1], 0),
                            "circular include: " + " → ".join(f"@{c}" for c in cycle),
                            "remove one of these includes",
                        )
                    )
                continue
            walk(inc, trail + [inc])

    for name in sorted(lists):
        walk(name, [name])
    return problems


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
        text = _read_capped(path, MAX_RULE_FILE_BYTES, "a rule file", problems)
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
        t for t, _ in _str_list(data.get("tags"), filename, data.line_of("tags"), "tags", problems)
    ]
    sources = _sources(data, filename, problems)
    match_ex, no_match_ex = _examples(
        data.get("examples"), filename, data.line_of("examples"), problems
    )
    nodes = _value_nodes(text)
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
        entries = _str_list(
            value.get(key), filename, value.line_of(key), f"sources.{key}", problems
        )
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
        loaded = _load_list(path, problems)
        if loaded:
            lists[loaded[0].name] = loaded[0]
            include_lines[loaded[0].name] = loaded[1]
    list_problems = _include_problems(lists, include_lines)
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
