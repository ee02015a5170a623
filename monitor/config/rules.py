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

from monitor.config.rulefile import load_rule
from monitor.config.termlists import include_problems, load_list
from monitor.config.yamlsrc import (
    did_you_mean,
)
from monitor.errors import ConfigError, MonitorError, Problem
from monitor.model import Rule
from monitor.rules.limits import (
    MAX_TOTAL_TERMS,
)
from monitor.rules.matcher import Matcher
from monitor.rules.termlist import TermList, expand_terms, lists_reached, term_options


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
        "sources": [
            list(rule.sources.kinds),
            list(rule.sources.countries),
            list(rule.sources.feeds),
            list(rule.sources.langs),
        ],
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
        rule = load_rule(path, lists, not list_problems, problems)
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
