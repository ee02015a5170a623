"""Plain frozen dataclasses shared by every pipeline step. Standard library only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from typing import Literal, NamedTuple, get_args

FeedKind = Literal["news", "government", "search"]
FEED_KINDS: tuple[FeedKind, ...] = get_args(FeedKind)
Priority = Literal["normal", "high"]
Field = Literal["title", "summary", "body"]
FullText = Literal["auto", "always", "never"]  # fetch each item's article page (issue 15)


@dataclass(frozen=True)
class FeedSource:
    """One entry of feeds.yaml, defaults applied."""

    id: str
    name: str
    url: str
    kind: FeedKind
    country: str  # ISO 3166-1 alpha-2, upper case ("JP", "KR", "US", "AU"); "" for international
    lang: str  # BCP 47 primary tag, lower case ("en", "ja", "ko")
    interval: int  # seconds between polls
    enabled: bool = True
    tags: tuple[str, ...] = ()
    timeout: float = 20.0  # total seconds allowed for one fetch
    max_bytes: int = 10_000_000  # cap on the decompressed body
    # article pages: auto = when the feed's summaries are short or absent (pipeline.fulltext)
    full_text: FullText = "auto"
    weight: float | None = None  # ranking weight; None: the kind's (monitor.digest.relevance)


@dataclass(frozen=True)
class FetchResult:
    """What the fetch step hands to the parse step."""

    feed_id: str
    status: Literal["ok", "not_modified", "unchanged"]  # unchanged: 200 but same body hash
    url: str  # final URL after redirects
    http_status: int
    body: bytes | None
    headers: dict[str, str]  # lower-case keys
    etag: str | None
    last_modified: str | None
    body_hash: str | None


@dataclass(frozen=True)
class Enclosure:
    """A file attached to an entry (podcast audio, PDF): url, MIME type, size in bytes."""

    url: str
    type: str = ""
    length: int | None = None


@dataclass(frozen=True)
class Entry:
    """One parsed feed entry, before normalisation (text may still hold HTML)."""

    guid: str | None
    link: str | None
    title: str
    summary: str
    published: datetime | None  # timezone-aware UTC, or None when the feed gave none
    updated: datetime | None
    author: str | None
    categories: tuple[str, ...]
    lang: str | None
    enclosures: tuple[Enclosure, ...] = ()
    date_raw: str | None = None  # a date the feed gave that could not be read, as written


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    link: str | None
    lang: str | None
    entries: tuple[Entry, ...]
    warnings: tuple[str, ...] = ()  # recoverable problems (feedparser "bozo") in words


@dataclass(frozen=True)
class Item:
    """A normalised news item: what is stored, matched and delivered."""

    id: str  # stable archive id: 16 hex chars derived from feed id + identity key
    feed_id: str
    guid: str | None
    url: str  # canonical absolute URL ("" if the entry had none)
    title: str  # plain text, NFKC, whitespace collapsed
    summary: str  # plain text, NFKC, whitespace collapsed
    published: datetime  # timezone-aware UTC (first-seen time when the feed gave none)
    first_seen: datetime  # timezone-aware UTC
    author: str | None = None
    categories: tuple[str, ...] = ()
    lang: str | None = None
    content_hash: str = ""  # changes when title, summary or url change
    enclosures: tuple[Enclosure, ...] = ()
    date_raw: str | None = None  # unreadable feed date, kept as written (published = first seen)
    body: str = ""  # article text fetched from ``url`` (monitor.pipeline.fulltext); "" if none


class Hit(NamedTuple):
    """One term occurrence behind a match: explanations and highlighting use it.

    A named tuple, not a dataclass: a match carries every occurrence, and a frozen
    dataclass costs about a microsecond each to build."""

    term: str
    field: Field
    start: int  # character offsets into the item's field
    end: int
    group: str = ""  # the reader's name of the term list it came from ("Japan"), if it has one


class Match(NamedTuple):
    """One rule matching one item. A named tuple, like Hit: the matcher builds one per match."""

    item_id: str
    rule_id: str
    score: float
    hits: tuple[Hit, ...]
    rule_version: str  # short hash of the rule's definition when it matched


@dataclass(frozen=True)
class SourceFilter:
    """Restricts a rule to some feeds; an empty tuple means no restriction."""

    kinds: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleExample:
    title: str
    summary: str = ""
    line: int = 0  # line in the rule file, for failure messages


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    query: str
    description: str = ""
    exclude: str | None = None
    priority: Priority = "normal"
    channel: str | None = None
    sources: SourceFilter = field(default_factory=SourceFilter)
    min_score: float = 0.0
    weight: float = 1.0
    tags: tuple[str, ...] = ()
    match_examples: tuple[RuleExample, ...] = ()
    no_match_examples: tuple[RuleExample, ...] = ()
    version: str = ""  # short hash of the definition (query, exclude, filters, lists used)
    path: str = ""  # file it came from


# Ranking and delivery: what the digest step plans and the store records.

KIND_WEIGHT = {"government": 1.2, "news": 1.0, "search": 0.8}


def feed_weight(kind: str, weight: float | None) -> float:
    """feeds.yaml's weight, else the kind's default (1.0 for an unknown kind)."""
    if weight is not None:
        return weight
    return KIND_WEIGHT.get(kind, 1.0)


@dataclass(frozen=True)
class StoryKey:
    """What clustering needs to know about one item."""

    id: str
    url: str
    title: str
    published: datetime
    lang: str = ""  # the item's (or its feed's) language, for "also: Nikkei (ja)"


Claim = tuple[str, str]  # (item id, rule id)


@dataclass(frozen=True)
class Candidate:
    """One undelivered match with what rendering needs of its item and feed."""

    item_id: str
    rule_id: str
    score: float
    hits: tuple[Hit, ...]
    title: str
    summary: str
    url: str
    published: datetime
    feed_id: str
    feed_name: str
    lang: str = ""  # the item's language, else its feed's ("" when neither says)
    feed_kind: str = ""
    feed_weight: float | None = None  # feeds.yaml's weight; None: the kind's default
    feedback: float = 1.0  # from readers' clicks on similar items (relevance.feedback_factor)

    @property
    def weight(self) -> float:
        return feed_weight(self.feed_kind, self.feed_weight)

    @property
    def weighted(self) -> float:
        """The match's score times its outlet's weight: what picks a story's lead item."""
        return round(self.score * self.weight, 3)

    def key(self) -> StoryKey:
        return StoryKey(self.item_id, self.url, self.title, self.published, self.lang)


# Spikes: a rule's daily match counts (monitor.digest.spikes decides, the store counts).
BASELINE_DAYS = 14
MIN_HISTORY_DAYS = 7
SPREADS = 3.0


@dataclass(frozen=True)
class Volume:
    rule_id: str
    last_24h: int
    daily: tuple[int, ...]  # the BASELINE_DAYS days before the last 24 h, oldest first
    history: bool  # the archive reaches back far enough for a baseline

    @property
    def usual(self) -> float:
        return float(median(self.daily)) if self.daily else 0.0

    @property
    def spread(self) -> float:
        if not self.daily:
            return 0.0
        mid = self.usual
        return float(median(abs(d - mid) for d in self.daily))

    @property
    def ratio(self) -> float:
        return self.last_24h / max(self.usual, 1.0)

    def is_spike(self, *, factor: float, minimum: int) -> bool:
        return (
            self.history
            and self.last_24h >= minimum
            and self.ratio >= factor
            and self.last_24h > self.usual + SPREADS * self.spread
        )


@dataclass(frozen=True)
class TopItem:
    title: str
    url: str
