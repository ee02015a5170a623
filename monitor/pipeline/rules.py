"""The rule set in force while polling: loaded once, reloaded only when the whole set is valid.

The pipeline sees rules through two small protocols (``Matcher``, ``RuleBookLike``), so a
test can poll with a rule book of its own. A rule set's identity is its files and their
modification times (``rule_files``): what a parser process checks before matching with it.
Light on purpose (no rules engine until ``load_rulebook``): the parser processes import it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from monitor.errors import ConfigError
from monitor.model import FeedSource, Item, Match

log = logging.getLogger("monitor.pipeline")

RuleFiles = tuple[tuple[str, float], ...]


def rule_files(rules_dir: Path) -> RuleFiles:
    """Every rule file under ``rules_dir`` with its modification time: a rule set's identity."""
    if not rules_dir.is_dir():
        return ()
    return tuple(
        (str(p), p.stat().st_mtime)
        for p in sorted(rules_dir.rglob("*"))
        if p.suffix in (".yaml", ".yml") and p.is_file()
    )


class Matcher(Protocol):
    def match(self, item: Item, feed: FeedSource | None) -> list[Match]: ...


class RuleBookLike(Protocol):
    @property
    def matcher(self) -> Matcher: ...


def load_rulebook(rules_dir: Path) -> RuleBookLike:
    """Every rule and list under ``rules_dir``; raises ConfigError listing every problem."""
    from monitor.config.rules import load_rules

    book: RuleBookLike = load_rules(rules_dir)
    return book


class Rules:
    """The rule set in force, reloaded only when the whole new set is valid.

    ``reload()`` compares file modification times (or is forced, on SIGHUP); a broken set
    leaves the last good one in force and is reported in ``error`` for `feeds status`.
    """

    def __init__(
        self, rules_dir: Path, loader: Callable[[Path], RuleBookLike] = load_rulebook
    ) -> None:
        self.rules_dir = rules_dir
        self._loader = loader
        self._seen: RuleFiles = ()
        self.book: RuleBookLike | None = None
        self.error: str | None = None
        self.book_files: RuleFiles | None = None  # the files self.book was loaded from

    @property
    def from_files(self) -> bool:
        """True when the rule set is the rules folder as loaded by load_rulebook (so a
        worker process loading the same files gets the same set)."""
        return self._loader is load_rulebook and self.book_files is not None

    @property
    def matcher(self) -> Matcher | None:
        return self.book.matcher if self.book is not None else None

    def load(self) -> None:
        """First load: a broken set raises ConfigError, so `monitor run` refuses to start."""
        self._seen = rule_files(self.rules_dir)
        self.book = self._loader(self.rules_dir)
        self.book_files = self._seen
        self.error = None

    def adopt(self, book: RuleBookLike, files: RuleFiles) -> None:
        """A first load done elsewhere (`monitor poll` checks the configuration first, which
        loads the rules): ``files`` must be ``rule_files`` taken before that load."""
        self._seen = files
        self.book, self.book_files, self.error = book, files, None

    def reload(self, *, force: bool = False) -> bool:
        """Reload if a rule file changed (or ``force``). True when a new set took effect."""
        seen = rule_files(self.rules_dir)
        if seen == self._seen and not force:
            return False
        self._seen = seen
        try:
            book = self._loader(self.rules_dir)
        except ConfigError as exc:
            self.error = "\n".join(p.format() for p in exc.problems) or exc.message
            log.error("rules not reloaded, the last good set stays in force:\n%s", self.error)
            return False
        self.book, self.error, self.book_files = book, None, seen
        log.info("rules reloaded from %s", self.rules_dir)
        return True
