"""What `monitor search` says besides its results: the whole count when --limit cuts it, a
hint for lower-case operators, and a clear error for a --country that is not a code."""

from __future__ import annotations

import re
from typing import Any

from monitor.errors import MonitorError

_COUNTRY_NAMES = {
    "JAPAN": "JP",
    "KOREA": "KR",
    "SOUTH KOREA": "KR",
    "NORTH KOREA": "KP",
    "CHINA": "CN",
    "TAIWAN": "TW",
    "AUSTRALIA": "AU",
    "USA": "US",
    "AMERICA": "US",
    "UNITED STATES": "US",
    "UK": "GB",
    "BRITAIN": "GB",
    "INDIA": "IN",
}


def check_country(db: Any, value: str) -> None:
    """--country takes ISO 3166-1 alpha-2 codes (any case); a name or a typo is an error,
    not a filter that silently finds nothing."""
    from monitor.config.feedvalues import COUNTRIES, COUNTRY_ALIASES

    upper = value.strip().upper()
    if upper in COUNTRIES:
        return
    code = _COUNTRY_NAMES.get(upper) or COUNTRY_ALIASES.get(upper)
    stored = sorted({str(r[0]) for r in db.execute("SELECT DISTINCT country FROM feeds") if r[0]})
    if code:
        hint = f"did you mean {code!r}?"
    else:
        hint = "use an ISO 3166-1 alpha-2 code such as JP, KR, US or AU"
    if stored:
        hint += f" (countries in the archive: {', '.join(stored)})"
    raise MonitorError(f"--country {value!r} is not an ISO 3166-1 country code", hint)


def describe_total(shown: int, total: int) -> str:
    """The table's last line: how many are shown, of how many, and how to see more."""
    if total <= shown:
        return f"{shown} item{'s' if shown != 1 else ''}"
    from monitor.store.counting import COUNT_CAP  # here: `search --help` opens no store

    if total >= COUNT_CAP:  # counting stopped there
        return f"{shown} of {COUNT_CAP:,}+ items; --limit (up to 10000) for more"
    return f"{shown} of {total:,} items; --limit {total} for more"


_OPERATOR_WORD = re.compile(r"(?<![\w@])(and|or|not)(?!\w)")


def lowercase_operator_hint(query: str) -> str | None:
    """Lower-case and/or/not are words to find, not operators; say so when nothing matched."""
    unquoted = re.sub(r'"[^"]*"', " ", query)
    words = sorted({m.group(1) for m in _OPERATOR_WORD.finditer(unquoted)})
    if not words:
        return None
    listed = ", ".join(repr(w) for w in words)
    upper = " / ".join(w.upper() for w in words)
    return (
        f"{listed} in lower case {'is' if len(words) == 1 else 'are'} searched as"
        f" {'a word' if len(words) == 1 else 'words'}; write {upper} to combine terms"
    )
