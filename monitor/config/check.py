"""Every configuration file checked together: feeds.yaml, the rules folder, monitor.yaml.

Each loader reports its own file's problems; this module adds the checks across files (a
rule naming a feed feeds.yaml lacks, a digest naming an unknown rule) and collects every
problem instead of stopping at the first. `monitor config check` prints the report;
``check_all`` is the start-up guard of `monitor run` and `monitor poll` (exit 2 before
anything is written).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from monitor.config.feeds import FeedsConfig, load_feeds
from monitor.config.rules import RuleBook, load_rules
from monitor.config.settings import load_settings, rule_problems
from monitor.config.yamlsrc import LineDict, LineList, did_you_mean, load_yaml_file
from monitor.errors import ConfigError, Problem


class ConfigPaths(Protocol):
    """Where the three files are (the CLI's AppContext is one)."""

    @property
    def feeds_path(self) -> Path: ...

    @property
    def rules_path(self) -> Path: ...

    @property
    def settings_path(self) -> Path: ...


T = TypeVar("T")


@dataclass
class CheckReport:
    """Every problem found, plus one summary line per file that loaded."""

    problems: list[Problem] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)
    # what loaded, so a command that checks first need not load (and compile) it again
    feeds: FeedsConfig | None = None
    book: RuleBook | None = None

    def load(self, loader: Callable[[], T]) -> T | None:
        try:
            return loader()
        except ConfigError as exc:
            self.problems.extend(exc.problems)
            return None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _feed_ref_line(rule_path: str, index: int) -> int:
    """Line of ``sources: feeds: [...]`` item ``index`` in a rule file; 0 if not found."""
    try:
        data = load_yaml_file(Path(rule_path))
    except ConfigError:
        return 0
    sources = data.get("sources") if isinstance(data, LineDict) else None
    if not isinstance(sources, LineDict):
        return 0
    feeds = sources.get("feeds")
    return feeds.line_of(index) if isinstance(feeds, LineList) else sources.line_of("feeds")


def _unknown_feed_problems(book: RuleBook, feeds: FeedsConfig, rules_path: Path) -> list[Problem]:
    """Rules whose source filter names a feed id that feeds.yaml does not define."""
    known = {f.id for f in feeds.feeds}
    problems = []
    for rule in book.rules:
        for index, feed_id in enumerate(rule.sources.feeds):
            if feed_id not in known:
                hint = did_you_mean(feed_id, known) or f"feed ids are listed in {feeds.path}"
                where = rule.path or str(rules_path)
                line = _feed_ref_line(rule.path, index) if rule.path else 0
                problems.append(
                    Problem(where, line, f"rule {rule.id!r} names unknown feed {feed_id!r}", hint)
                )
    return problems


def collect_checks(ctx: ConfigPaths) -> CheckReport:
    """Load all three configuration sources, collecting every problem instead of stopping."""
    report = CheckReport()

    feeds = report.load(lambda: load_feeds(ctx.feeds_path))
    if feeds is not None:
        enabled = len(feeds.enabled())
        report.summaries.append(
            f"{ctx.feeds_path}: {_plural(len(feeds.feeds), 'feed')} ({enabled} enabled)"
        )

    book = report.load(lambda: load_rules(ctx.rules_path))
    if book is not None:
        report.summaries.append(
            f"{ctx.rules_path}: {_plural(len(book.rules), 'rule')}, "
            f"{_plural(len(book.lists), 'list')}"
        )

    settings = report.load(lambda: load_settings(ctx.settings_path))
    if settings is not None:
        alerts = "on" if settings.alerts.enabled else "off"
        line = f"{ctx.settings_path}: {_plural(len(settings.digests), 'digest')}, alerts {alerts}"
        if not ctx.settings_path.exists():
            line += " (file not found: defaults used)"
        report.summaries.append(line)

    report.feeds, report.book = feeds, book
    # Cross-file checks, only when both sides loaded (otherwise their own problems come first).
    if book is not None and settings is not None:
        report.problems.extend(rule_problems(settings, {r.id for r in book.rules}))
    if book is not None and feeds is not None:
        report.problems.extend(_unknown_feed_problems(book, feeds, ctx.rules_path))
    return report


def check_all(ctx: ConfigPaths) -> CheckReport:
    """Start-up guard: raise one ConfigError listing every problem in every config file;
    else the report, with the feeds and rules as loaded."""
    report = collect_checks(ctx)
    if report.problems:
        raise ConfigError(report.problems)
    return report
