"""feeds.yaml's values, one check per key: each returns the value or raises BadValueError with a hint.

monitor/config/feeds.py reads the file and applies these to every entry and to ``defaults:``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlsplit

from monitor.config.yamlsrc import did_you_mean
from monitor.durations import format_duration, parse_seconds
from monitor.model import FEED_KINDS, FeedKind, FullText

# One duration syntax across the project (monitor/durations.py); the old names stay.
parse_interval = parse_seconds
format_interval = format_duration


FULL_TEXT = ("auto", "always", "never")

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


class BadValueError(Exception):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def describe(value: Any) -> str:
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
        raise BadValueError(f"{key} must be non-empty text, not {describe(value)}")
    return value.strip()


def _check_id(value: Any) -> str:
    text = _text("id", value)
    if not _ID.match(text):
        slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
        raise BadValueError(
            f"id {text!r} is not a lower-case slug",
            f"use letters, digits and single dashes, e.g. {slug or 'my-feed'!r}",
        )
    return text


def _check_name(value: Any) -> str:
    return _text("name", value)


def _check_url(value: Any) -> str:
    url = _text("url", value)
    if any(c.isspace() for c in url):
        raise BadValueError("url contains a space", "encode spaces as + or %20 in the query string")
    if not url.isascii():
        raise BadValueError(
            "url contains non-ASCII characters",
            "percent-encode them as UTF-8, e.g. 日本 → %E6%97%A5%E6%9C%AC",
        )
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise BadValueError(f"url {url!r} is malformed: {exc}") from None
    if not parts.scheme:
        raise BadValueError(f"url {url!r} is not absolute", "start it with https://")
    if parts.scheme not in ("http", "https"):
        raise BadValueError(
            f"url scheme {parts.scheme!r} is not allowed", "use an http:// or https:// URL"
        )
    if not parts.hostname:
        raise BadValueError(f"url {url!r} has no host name", "write it as https://host/path")
    return url


def _check_kind(value: Any) -> FeedKind:
    text = _text("kind", value)
    if text not in FEED_KINDS:
        prefixed = [k for k in FEED_KINDS if k.startswith(text.lower()[:3])]  # "gov", "govt"
        hint = did_you_mean(text, FEED_KINDS) or (
            f"did you mean {prefixed[0]!r}?" if prefixed else f"use one of: {', '.join(FEED_KINDS)}"
        )
        raise BadValueError(f"unknown kind {text!r}", hint)
    return text


def _check_country(value: Any) -> str:
    if value is None or value == "":
        return ""  # international outlet: no single country
    if not isinstance(value, str):
        raise BadValueError(f"country must be a two-letter code, not {describe(value)}")
    text = value.strip()
    if text in COUNTRIES:
        return text
    upper = text.upper()
    if upper in COUNTRIES:
        raise BadValueError(f"country {text!r} must be upper case", f"write {upper!r}")
    if upper in COUNTRY_ALIASES:
        raise BadValueError(
            f"{text!r} is not an ISO 3166-1 country code",
            f"did you mean {COUNTRY_ALIASES[upper]!r}?",
        )
    raise BadValueError(
        f"unknown country code {text!r}",
        'use an ISO 3166-1 alpha-2 code such as JP, KR, US, AU, or "" for international',
    )


def _check_lang(value: Any) -> str:
    text = _text("lang", value)
    if _LANG.match(text):
        return text
    primary = text.split("-")[0].split("_")[0].lower()
    if _LANG.match(primary):
        raise BadValueError(f"lang {text!r} must be a primary language tag", f"write {primary!r}")
    raise BadValueError(
        f"lang {text!r} is not a language code", "use a lower-case code such as en, ja or ko"
    )


def _duration_problem(key: str, value: str, exc: ValueError) -> BadValueError:
    what, _, how = str(exc).partition(": ")
    return BadValueError(f"{key} {what}", how or None)


def _check_interval(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, str):
        hint = "write a duration such as '15m' or '1h'"
        if isinstance(value, int):
            hint = f"write a duration with a unit, e.g. '{value}m' or '{value}s'"
        raise BadValueError(f"interval must be a duration, not {describe(value)}", hint)
    try:
        seconds = parse_interval(value)
    except ValueError as exc:
        raise _duration_problem("interval", value, exc) from None
    if seconds < MIN_INTERVAL:
        raise BadValueError(
            f"interval {value!r} is too short", "the minimum is 1m; faster polling gets blocked"
        )
    if seconds > MAX_INTERVAL:
        raise BadValueError(f"interval {value!r} is too long", "the maximum is 1d")
    return seconds


def _check_enabled(value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadValueError(f"enabled must be true or false, not {describe(value)}")
    return value


def _check_tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        raise BadValueError("tags must be a list", f"write tags: [{value}]")
    if not isinstance(value, list):
        raise BadValueError(f"tags must be a list, not {describe(value)}", "write tags: [a, b]")
    tags = []
    for tag in value:
        if not isinstance(tag, str) or not _TAG.match(tag):
            raise BadValueError(
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
        raise BadValueError(
            f"timeout must be seconds or a duration, not {describe(value)}", "e.g. 20 or '30s'"
        )
    if not MIN_TIMEOUT <= seconds <= MAX_TIMEOUT:
        raise BadValueError(f"timeout {value!r} is out of range", "allowed: 1s to 5m")
    return float(seconds)


def _check_max_bytes(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    elif isinstance(value, str) and (found := _SIZE.match(value.strip())):
        size = int(found.group(1)) * _SIZE_UNITS[(found.group(2) or "b").lower()]
    else:
        raise BadValueError(
            f"max_bytes must be a size, not {describe(value)}", "e.g. 10MB, 500KB or 2000000"
        )
    if not MIN_BYTES <= size <= MAX_BYTES:
        raise BadValueError(f"max_bytes {value!r} is out of range", "allowed: 1KB to 200MB")
    return size


def _check_full_text(value: Any) -> FullText:
    if isinstance(value, bool):  # YAML reads a bare yes/no/on/off as true/false
        raise BadValueError(
            f"full_text must be auto, always or never, not {describe(value)}",
            "write full_text: always (or never); auto fetches when summaries are short",
        )
    text = _text("full_text", value).lower()
    if text not in FULL_TEXT:
        hint = did_you_mean(text, FULL_TEXT) or "use one of: auto, always, never"
        raise BadValueError(f"unknown full_text {value!r}", hint)
    return cast(FullText, text)


MIN_WEIGHT, MAX_WEIGHT = 0.1, 5.0


def _check_weight(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadValueError(f"weight must be a number, not {describe(value)}", "e.g. 1.2 or 0.8")
    if not MIN_WEIGHT <= value <= MAX_WEIGHT:
        raise BadValueError(
            f"weight {value!r} is out of range",
            f"allowed: {MIN_WEIGHT} to {MAX_WEIGHT:g}; 1 is an ordinary news feed",
        )
    return float(value)


CHECKS: dict[str, Callable[[Any], Any]] = {
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
