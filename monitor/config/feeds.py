"""feeds.yaml → validated FeedSource objects, every problem reported as FILE:LINE.

The file has a ``defaults:`` block and a ``feeds:`` list; docs/configuration.md describes
every key. Validation collects all problems before raising, so a user fixes a file in one
pass instead of one error per run.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from monitor.config.yamlsrc import (
    LineDict,
    LineList,
    ProblemCollector,
    did_you_mean,
    load_yaml_file,
)
from monitor.durations import format_duration, parse_seconds
from monitor.errors import ConfigError, MonitorError
from monitor.model import FEED_KINDS, FeedKind, FeedSource, FullText

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
FULL_TEXT = ("auto", "always", "never")
# Only the URL: id is derived from it, name comes from the feed's title after the first
# fetch, kind defaults to news, lang comes from the feed (and each item's script).
REQUIRED_KEYS = ("url",)
DEFAULT_KIND: FeedKind = "news"

MIN_INTERVAL = 60  # faster polling gets a client blocked and rarely finds anything new
MAX_INTERVAL = 86_400
MIN_TIMEOUT, MAX_TIMEOUT = 1.0, 300.0
MIN_BYTES, MAX_BYTES = 1_000, 200_000_000

# ISO 3166-1 alpha-2, officially assigned codes (249).
_ISO_3166_ALPHA2 = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
"""
COUNTRIES = frozenset(_ISO_3166_ALPHA2.split())
# Codes people write that ISO does not assign, with the one they meant.
COUNTRY_ALIASES = {"UK": "GB", "EN": "GB", "KO": "KR", "JA": "JP", "SK": "KR", "ROK": "KR"}

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_LANG = re.compile(r"^[a-z]{2,3}$")
_SIZE = re.compile(r"^(\d+)\s*(b|kb|mb)?$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1_000, "mb": 1_000_000}


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


# One duration syntax across the project (monitor/durations.py); the old names stay.
parse_interval = parse_seconds
format_interval = format_duration


# ---------------------------------------------------------------------------- value checks


class _Invalid(Exception):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def _describe(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"{key} must be non-empty text, not {_describe(value)}")
    return value.strip()


def _check_id(value: Any) -> str:
    text = _text("id", value)
    if not _ID.match(text):
        slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
        raise _Invalid(
            f"id {text!r} is not a lower-case slug",
            f"use letters, digits and single dashes, e.g. {slug or 'my-feed'!r}",
        )
    return text


def _check_name(value: Any) -> str:
    return _text("name", value)


def _check_url(value: Any) -> str:
    url = _text("url", value)
    if any(c.isspace() for c in url):
        raise _Invalid("url contains a space", "encode spaces as + or %20 in the query string")
    if not url.isascii():
        raise _Invalid(
            "url contains non-ASCII characters",
            "percent-encode them as UTF-8, e.g. 日本 → %E6%97%A5%E6%9C%AC",
        )
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise _Invalid(f"url {url!r} is malformed: {exc}") from None
    if not parts.scheme:
        raise _Invalid(f"url {url!r} is not absolute", "start it with https://")
    if parts.scheme not in ("http", "https"):
        raise _Invalid(
            f"url scheme {parts.scheme!r} is not allowed", "use an http:// or https:// URL"
        )
    if not parts.hostname:
        raise _Invalid(f"url {url!r} has no host name", "write it as https://host/path")
    return url


def _check_kind(value: Any) -> FeedKind:
    text = _text("kind", value)
    if text not in FEED_KINDS:
        prefixed = [k for k in FEED_KINDS if k.startswith(text.lower()[:3])]  # "gov", "govt"
        hint = did_you_mean(text, FEED_KINDS) or (
            f"did you mean {prefixed[0]!r}?" if prefixed else f"use one of: {', '.join(FEED_KINDS)}"
        )
        raise _Invalid(f"unknown kind {text!r}", hint)
    return cast(FeedKind, text)


def _check_country(value: Any) -> str:
    if value is None or value == "":
        return ""  # international outlet: no single country
    if not isinstance(value, str):
        raise _Invalid(f"country must be a two-letter code, not {_describe(value)}")
    text = value.strip()
    if text in COUNTRIES:
        return text
    upper = text.upper()
    if upper in COUNTRIES:
        raise _Invalid(f"country {text!r} must be upper case", f"write {upper!r}")
    if upper in COUNTRY_ALIASES:
        raise _Invalid(
            f"{text!r} is not an ISO 3166-1 country code",
            f"did you mean {COUNTRY_ALIASES[upper]!r}?",
        )
    raise _Invalid(
        f"unknown country code {text!r}",
        'use an ISO 3166-1 alpha-2 code such as JP, KR, US, AU, or "" for international',
    )


def _check_lang(value: Any) -> str:
    text = _text("lang", value)
    if _LANG.match(text):
        return text
    primary = text.split("-")[0].split("_")[0].lower()
    if _LANG.match(primary):
        raise _Invalid(f"lang {text!r} must be a primary language tag", f"write {primary!r}")
    raise _Invalid(
        f"lang {text!r} is not a language code", "use a lower-case code such as en, ja or ko"
    )


def _duration_problem(key: str, value: str, exc: ValueError) -> _Invalid:
    what, _, how = str(exc).partition(": ")
    return _Invalid(f"{key} {what}", how or None)


def _check_interval(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, str):
        hint = "write a duration such as '15m' or '1h'"
        if isinstance(value, int):
            hint = f"write a duration with a unit, e.g. '{value}m' or '{value}s'"
        raise _Invalid(f"interval must be a duration, not {_describe(value)}", hint)
    try:
        seconds = parse_interval(value)
    except ValueError as exc:
        raise _duration_problem("interval", value, exc) from None
    if seconds < MIN_INTERVAL:
        raise _Invalid(
            f"interval {value!r} is too short", "the minimum is 1m; faster polling gets blocked"
        )
    if seconds > MAX_INTERVAL:
        raise _Invalid(f"interval {value!r} is too long", "the maximum is 1d")
    return seconds


def _check_enabled(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"enabled must be true or false, not {_describe(value)}")
    return value


def _check_tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        raise _Invalid("tags must be a list", f"write tags: [{value}]")
    if not isinstance(value, list):
        raise _Invalid(f"tags must be a list, not {_describe(value)}", "write tags: [a, b]")
    tags = []
    for tag in value:
        if not isinstance(tag, str) or not _TAG.match(tag):
            raise _Invalid(
                f"tag {tag!r} is not a lower-case word",
                "use lower-case letters, digits, - and _, e.g. minerals",
            )
        tags.append(tag)
    return tuple(dict.fromkeys(tags))


def _check_timeout(value: Any) -> float:
    if isinstance(value, str):
        try:
            seconds: float = parse_interval(value)
        except ValueError as exc:
            raise _duration_problem("timeout", value, exc) from None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise _Invalid(
            f"timeout must be seconds or a duration, not {_describe(value)}", "e.g. 20 or '30s'"
        )
    if not MIN_TIMEOUT <= seconds <= MAX_TIMEOUT:
        raise _Invalid(f"timeout {value!r} is out of range", "allowed: 1s to 5m")
    return float(seconds)


def _check_max_bytes(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    elif isinstance(value, str) and (found := _SIZE.match(value.strip())):
        size = int(found.group(1)) * _SIZE_UNITS[(found.group(2) or "b").lower()]
    else:
        raise _Invalid(
            f"max_bytes must be a size, not {_describe(value)}", "e.g. 10MB, 500KB or 2000000"
        )
    if not MIN_BYTES <= size <= MAX_BYTES:
        raise _Invalid(f"max_bytes {value!r} is out of range", "allowed: 1KB to 200MB")
    return size


def _check_full_text(value: Any) -> FullText:
    if isinstance(value, bool):  # YAML reads a bare yes/no/on/off as true/false
        raise _Invalid(
            f"full_text must be auto, always or never, not {_describe(value)}",
            "write full_text: always (or never); auto fetches when summaries are short",
        )
    text = _text("full_text", value).lower()
    if text not in FULL_TEXT:
        hint = did_you_mean(text, FULL_TEXT) or "use one of: auto, always, never"
        raise _Invalid(f"unknown full_text {value!r}", hint)
    return cast(FullText, text)


MIN_WEIGHT, MAX_WEIGHT = 0.1, 5.0


def _check_weight(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid(f"weight must be a number, not {_describe(value)}", "e.g. 1.2 or 0.8")
    if not MIN_WEIGHT <= value <= MAX_WEIGHT:
        raise _Invalid(
            f"weight {value!r} is out of range",
            f"allowed: {MIN_WEIGHT} to {MAX_WEIGHT:g}; 1 is an ordinary news feed",
        )
    return float(value)


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "id": _check_id,
    "name": _check_name,
    "url": _check_url,
    "kind": _check_kind,
    "country": _check_country,
    "lang": _check_lang,
    "interval": _check_interval,
    "enabled": _check_enabled,
    "tags": _check_tags,
    "timeout": _check_timeout,
    "max_bytes": _check_max_bytes,
    "full_text": _check_full_text,
    "weight": _check_weight,
}


# ---------------------------------------------------------------------------- the file


class _Collector(ProblemCollector):
    def values(self, mapping: LineDict, keys: tuple[str, ...], where: str) -> dict[str, Any]:
        """Checked values of the known keys present; a bad value becomes a problem."""
        out: dict[str, Any] = {}
        for key in keys:
            if key not in mapping:
                continue
            try:
                out[key] = _CHECKS[key](mapping[key])
            except _Invalid as bad:
                self.add(mapping.line_of(key), f"{where}: {bad.message}", bad.hint)
        return out


def _read_defaults(doc: LineDict, c: _Collector) -> tuple[FeedDefaults, set[str]]:
    """The defaults and the keys it sets (a set-but-invalid key still counts as set)."""
    block = doc.get("defaults")
    if block is None:
        return FeedDefaults(), set()
    if not isinstance(block, LineDict):
        c.add(doc.line_of("defaults"), f"defaults must be a mapping, not {_describe(block)}")
        return FeedDefaults(), set()
    c.unknown_keys(block, DEFAULT_KEYS, "defaults")
    return replace(FeedDefaults(), **c.values(block, DEFAULT_KEYS, "defaults")), set(block)


def _read_feed(
    entry: Any, line: int, label: str, defaults: FeedDefaults, default_keys: set[str], c: _Collector
) -> FeedSource | None:
    if not isinstance(entry, LineDict):
        c.add(line, f"{label} must be a mapping of keys, not {_describe(entry)}", "see feeds.yaml")
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
        c.add(1, f"the file must be a mapping with defaults: and feeds:, not {_describe(doc)}")
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
