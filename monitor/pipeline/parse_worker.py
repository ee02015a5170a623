"""What the pipeline runs in its worker processes: bytes in, normalised (and matched) items out.

Kept apart from monitor.pipeline.poll so a worker imports only the parse and normalise steps
(about a third of the pipeline's import time and memory), not httpx or the store.

Matching is pure and costs more CPU than parsing, while the writer thread that used to do
it is one thread for the whole cycle. So a worker also matches the items it parsed, with
the rule set loaded from the same files the pipeline's rules were (``MatchPlan.files``),
skipping items the pipeline says are already stored unchanged. The writer keeps these
matches only for items that turn out new or updated, and matches anything else itself:
the stored result is the same as matching on the writer thread.
"""

from __future__ import annotations

import importlib
import pickle
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.errors import ParseError, ParseKind
from monitor.model import FeedSource, Item, Match
from monitor.pipeline.rules import RuleFiles, rule_files


@dataclass(frozen=True)
class MatchPlan:
    """How a worker matches like the writer would: the rule files the pipeline's rule set
    was loaded from, and the items (id → content hash) already stored for this feed."""

    rules_dir: str
    files: RuleFiles
    known: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Parsed:
    """What a worker sends back. Errors travel as fields: exceptions with custom
    constructors do not survive pickling."""

    items: tuple[Item, ...] = ()
    warnings: tuple[str, ...] = ()
    title: str = ""  # the feed's own title (plain text): names a feed configured without one
    error_kind: ParseKind | None = None
    error: str | None = None
    # item id → its matches, for the items matched here (None: nothing was matched here)
    matches: dict[str, tuple[Match, ...]] | None = None


# This worker's matcher and the rule files it came from (None: that set did not load).
_rules: tuple[RuleFiles, Any] | None = None


def install_rules(files: RuleFiles, matcher: bytes) -> None:
    """Pool initializer: the pipeline's own compiled matcher (pickled once by the pipeline),
    so a worker neither reads the YAML nor compiles the rules (0.5-0.8 s a worker before)."""
    global _rules
    compiled = pickle.loads(matcher)
    compiled.vocab.prepare()  # the automata, now rather than on the first item
    _rules = (files, compiled)


def _matcher(plan: MatchPlan) -> Any:
    """The matcher of ``plan.files``: the one installed at start when it is that set, else
    loaded from the files once (after a reload); None if the files on disk are no longer
    those (the pipeline reloads first) or do not load."""
    global _rules
    if _rules is None or _rules[0] != plan.files:
        matcher = None
        rules_dir = Path(plan.rules_dir)
        if rule_files(rules_dir) == plan.files:
            try:
                from monitor.config.rules import load_rules  # only matching workers pay for it

                matcher = load_rules(rules_dir).matcher
            except Exception:  # noqa: BLE001 - a broken set: the writer matches with the set in force
                matcher = None
            if rule_files(rules_dir) != plan.files:
                matcher = None  # changed while loading: not the pipeline's set
        _rules = (plan.files, matcher)
    return _rules[1]


def _match(source: FeedSource, items: list[Item], plan: MatchPlan) -> dict[str, tuple[Match, ...]]:
    matcher = _matcher(plan)
    if matcher is None:
        return {}
    found: dict[str, tuple[Match, ...]] = {}
    for item in items:
        if plan.known.get(item.id) == item.content_hash:
            continue  # stored unchanged: the writer will not match it
        try:
            found[item.id] = tuple(matcher.match(item, source))
        except Exception:  # noqa: BLE001 - left to the writer, which logs it
            continue
    return found


def load_parsers() -> None:
    """What a new worker runs first (monitor.pipeline.workers starts each with it): the parse
    modules imported while the first requests are in flight, not when the first body comes."""
    from monitor.pipeline.forkserver import PARSERS

    for name in PARSERS:
        importlib.import_module(name)


def parse_body(
    source: FeedSource,
    body: bytes,
    headers: dict[str, str],
    url: str,
    now: datetime,
    plan: MatchPlan | None = None,
) -> Parsed:
    """Parse, normalise and (with a plan) match one fetched body. Module-level so worker
    processes can run it."""
    # Imported here, not above: the Poller's own process needs this module's names, but runs
    # the parsers (feedparser, fastfeedparser, lxml: ~0.1 s of imports) only with no workers.
    from monitor.reader.normalize import normalize_entries, plain_text
    from monitor.reader.parse import parse_feed

    try:
        parsed = parse_feed(body, headers, url)
        items = normalize_entries(source, parsed, now=now)
    except ParseError as exc:
        return Parsed(error_kind=exc.kind, error=exc.message)
    except Exception as exc:  # noqa: BLE001 - a parser bug must not take the cycle down
        return Parsed(error_kind=ParseKind.INTERNAL, error=f"could not read the feed: {exc}")
    try:
        matches = _match(source, items, plan) if plan is not None else None
    except Exception:  # noqa: BLE001 - e.g. a rule file removed mid-scan: the writer matches instead
        matches = None
    return Parsed(
        items=tuple(items),
        warnings=tuple(parsed.warnings),
        matches=matches,
        title=plain_text(parsed.title),
    )


@dataclass(frozen=True)
class ArticleRead:
    """An article page read in a worker: the text (or why none) and, with a plan, the
    item's matches with its body (None: the writer matches)."""

    status: str  # ok, not_html, empty (monitor.reader.article), or fetch_error
    text: str = ""
    note: str | None = None
    matches: tuple[Match, ...] | None = None


def read_article(
    source: FeedSource,
    item: Item,
    body: bytes,
    headers: dict[str, str],
    url: str,
    plan: MatchPlan | None = None,
) -> ArticleRead:
    """Extract an article page's text and match the item with it. Module-level so worker
    processes can run it; trafilatura is imported on the first page a worker reads."""
    from dataclasses import replace

    from monitor.reader.article import extract_article

    try:
        article = extract_article(body, headers, url)
    except Exception as exc:  # noqa: BLE001 - a page that breaks the extractor is a page without text
        return ArticleRead("empty", note=f"the page could not be read ({type(exc).__name__})")
    if article.status != "ok" or plan is None:
        return ArticleRead(article.status, article.text, article.note)
    matches: tuple[Match, ...] | None = None
    try:
        matcher = _matcher(plan)
        if matcher is not None:
            matches = tuple(matcher.match(replace(item, body=article.text), source))
    except Exception:  # noqa: BLE001 - left to the writer, which logs it
        matches = None
    return ArticleRead("ok", article.text, article.note, matches)
