"""feeds.yaml → validated FeedSource objects, every problem reported as FILE:LINE.

The file has a ``defaults:`` block and a ``feeds:`` list; docs/configuration.md describes
every key. Validation collects all problems before raising, so a user fixes a file in one
pass instead of one error per run.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monitor.config.feedvalues import (
    CHECKS,
    BadValueError,
    describe,
)
from monitor.config.yamlsrc import (
    LineDict,
    LineList,
    ProblemCollector,
    did_you_mean,
    load_yaml_file,
)
from monitor.errors import ConfigError, MonitorError
from monitor.model import FeedKind, FeedSource, FullText

TOP_KEYS = ("defaults", "feeds")
FEED_KEYS = (
    "id",
    "name",
    "url",
    "kind",
    "country",
    "lang",
    "interval",
    "enabled",
    "tags",
    "timeout",
    "max_bytes",
    "full_text",
    "weight",
)
DEFAULT_KEYS = (
    "interval",
    "timeout",
    "max_bytes",
    "enabled",
    "kind",
    "country",
    "lang",
    "full_text",
)
# Only the URL: id is derived from it, name comes from the feed's title after the first
# fetch, kind defaults to news, lang comes from the feed (and each item's script).
REQUIRED_KEYS = ("url",)
DEFAULT_KIND: FeedKind = "news"


@dataclass(frozen=True)
class FeedDefaults:
    """The ``defaults:`` block; a feed's own keys override these."""

    interval: int = 900
    timeout: float = 20.0
    max_bytes: int = 10_000_000
    enabled: bool = True
    kind: FeedKind | None = None  # None: news, unless a feed says
    country: str = ""
    lang: str | None = None  # None: "" (unknown) unless a feed says; items then tell
    full_text: FullText = "auto"


@dataclass(frozen=True)
class FeedsConfig:
    defaults: FeedDefaults
    feeds: tuple[FeedSource, ...]
    path: Path

    def enabled(self) -> tuple[FeedSource, ...]:
        return tuple(f for f in self.feeds if f.enabled)

    def get(self, feed_id: str) -> FeedSource:
        for feed in self.feeds:
            if feed.id == feed_id:
                return feed
        ids = [f.id for f in self.feeds]
        hint = did_you_mean(feed_id, ids) or f"known feeds are listed in {self.path}"
        raise MonitorError(f"unknown feed {feed_id!r}", hint)


# ---------------------------------------------------------------------------- the file


class _Collector(ProblemCollector):
    def values(self, mapping: LineDict, keys: tuple[str, ...], where: str) -> dict[str, Any]:
        """Checked values of the known keys present; a bad value becomes a problem."""
        out: dict[str, Any] = {}
        for key in keys:
            if key not in mapping:
                continue
            try:
                out[key] = CHECKS[key](mapping[key])
            except BadValueError as bad:
                self.add(mapping.line_of(key), f"{where}: {bad.message}", bad.hint)
        return out


def _read_defaults(doc: LineDict, c: _Collector) -> tuple[FeedDefaults, set[str]]:
    """The defaults and the keys it sets (a set-but-invalid key still counts as set)."""
    block = doc.get("defaults")
    if block is None:
        return FeedDefaults(), set()
    if not isinstance(block, LineDict):
        c.add(doc.line_of("defaults"), f"defaults must be a mapping, not {describe(block)}")
        return FeedDefaults(), set()
    c.unknown_keys(block, DEFAULT_KEYS, "defaults")
    return replace(FeedDefaults(), **c.values(block, DEFAULT_KEYS, "defaults")), set(block)


def _read_feed(
    entry: Any, line: int, label: str, defaults: FeedDefaults, default_keys: set[str], c: _Collector
) -> FeedSource | None:
    if not isinstance(entry, LineDict):
        c.add(line, f"{label} must be a mapping of keys, not {describe(entry)}", "see feeds.yaml")
        return None
    before = len(c.problems)
    c.unknown_keys(entry, FEED_KEYS, label)
    values = c.values(entry, FEED_KEYS, label)
    for key in REQUIRED_KEYS:
        if key not in entry:
            c.add(entry.line, f"{label} is missing required key {key!r}", f"add {key}: …")
    if len(c.problems) > before:
        return None
    url = values["url"]
    return FeedSource(
        id=values.get("id") or slug_from_url(url),
        name=values.get("name", ""),
        url=url,
        kind=values.get("kind", defaults.kind or DEFAULT_KIND),
        country=values.get("country", defaults.country),
        lang=values.get("lang", defaults.lang or ""),
        interval=values.get("interval", defaults.interval),
        enabled=values.get("enabled", defaults.enabled),
        tags=values.get("tags", ()),
        timeout=values.get("timeout", defaults.timeout),
        max_bytes=values.get("max_bytes", defaults.max_bytes),
        full_text=values.get("full_text", defaults.full_text),
        weight=values.get("weight"),
    )


def slug_from_url(url: str) -> str:
    """A readable, stable id for a feed given by URL alone: host and path as a slug
    (``https://www.mining.com/feed/`` → ``mining-com-feed``), plus a short hash of the
    query when there is one, so two searches on one host get two ids."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    slug = re.sub(r"[^a-z0-9]+", "-", f"{host} {parts.path}".lower()).strip("-")[:60].strip("-")
    if parts.query:
        slug += "-" + hashlib.sha256(parts.query.encode("utf-8")).hexdigest()[:6]
    return slug or "feed"


def validate_feeds(doc: Any, path: Path) -> FeedsConfig:
    """Validate a parsed feeds.yaml document; raises ConfigError listing every problem."""
    c = _Collector(str(path))
    if doc is None:
        c.add(0, "the file is empty", "add a feeds: list (see docs/configuration.md)")
        raise ConfigError(c.problems)
    if not isinstance(doc, LineDict):
        c.add(1, f"the file must be a mapping with defaults: and feeds:, not {describe(doc)}")
        raise ConfigError(c.problems)
    c.unknown_keys(doc, TOP_KEYS, "feeds.yaml")
    defaults, default_keys = _read_defaults(doc, c)
    entries = doc.get("feeds")
    feeds: list[FeedSource] = []
    if "feeds" not in doc:
        c.add(doc.line, "no feeds: list", "add feeds: with one entry per feed")
    elif not isinstance(entries, LineList) or not entries:
        c.add(doc.line_of("feeds"), "feeds must be a non-empty list", "add - url: … entries")
    else:
        first_line: dict[str, int] = {}
        first_url: dict[str, tuple[str, int]] = {}
        derived: list[tuple[str, int, str]] = []
        for index, entry in enumerate(entries):
            line = entries.line_of(index)
            raw_id = entry.get("id") if isinstance(entry, LineDict) else None
            label = f"feed {raw_id!r}" if isinstance(raw_id, str) else f"feed #{index + 1}"
            if isinstance(raw_id, str) and isinstance(entry, LineDict):
                id_line = entry.line_of("id")
                if raw_id in first_line:
                    c.add(
                        id_line,
                        f"duplicate feed id {raw_id!r}",
                        f"first used on line {first_line[raw_id]}; ids must be unique",
                    )
                else:
                    first_line[raw_id] = id_line
            feed = _read_feed(entry, line, label, defaults, default_keys, c)
            if feed is None:
                continue
            if raw_id is None:
                derived.append((feed.id, entry.line_of("url"), label))
            url_line = entry.line_of("url")
            if feed.url in first_url:
                other_id, other_line = first_url[feed.url]
                c.add(
                    url_line,
                    f"{label}: same url as feed {other_id!r}",
                    f"line {other_line}; poll each URL once, remove one of them",
                )
            else:
                first_url[feed.url] = (feed.id, url_line)
            feeds.append(feed)
        _derived_clashes(derived, first_line, c)
    if c.problems:
        c.problems.sort(key=lambda p: p.line)
        raise ConfigError(c.problems)
    return FeedsConfig(defaults=defaults, feeds=tuple(feeds), path=path)


def _derived_clashes(
    derived: list[tuple[str, int, str]], first_line: dict[str, int], c: _Collector
) -> None:
    """An id derived from a URL must not equal another feed's id, given or derived."""
    seen = dict(first_line)
    for feed_id, line, label in derived:
        if feed_id in seen:
            c.add(
                line,
                f"{label}: the id derived from its url, {feed_id!r}, is already used"
                f" (line {seen[feed_id]})",
                "give one of them its own id: key, e.g. id: " + f"{feed_id}-2",
            )
        else:
            seen[feed_id] = line


def load_feeds(path: Path) -> FeedsConfig:
    """Read and validate feeds.yaml; raises ConfigError listing every problem."""
    return validate_feeds(load_yaml_file(path), path)
