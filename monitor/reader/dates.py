"""Dates feedparser does not read (pure): Japanese, Korean and localised RFC 822 forms.

Japanese and Korean forms without a zone are taken as JST/KST (UTC+9): they come from
Japanese and Korean publishers. Localised RFC 822 dates (``Seg, 24 Set 2018 10:00:00
+0000``, ``mer, 16 nov 2022``) have their day name dropped and month name translated, then
are read by the standard library; with no zone they are UTC, as feedparser does.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_tz

_KST = timezone(timedelta(hours=9))
_ZONE = r"\s*(?P<zone>JST|KST|GMT|UTC|Z|[+-]\d\d:?\d\d)?"
_JA = re.compile(
    r"^\s*(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日\s*(?:[(（][^)）]*[)）])?"
    r"\s*(?:(?P<H>\d{1,2})\s*(?:時|:)\s*(?P<M>\d{1,2})\s*分?(?:\s*(?P<S>\d{1,2})\s*秒?)?)?"
    + _ZONE
    + r"\s*$"
)
_KO = re.compile(
    r"^\s*(?P<y>\d{4})\s*년\s*(?P<m>\d{1,2})\s*월\s*(?P<d>\d{1,2})\s*일\s*(?:[(（][^)）]*[)）])?"
    r"\s*(?P<ampm>오전|오후)?\s*(?:(?P<H>\d{1,2})\s*(?:시|:)\s*(?P<M>\d{1,2})\s*분?"
    r"(?:\s*:?(?P<S>\d{1,2})\s*초?)?)?" + _ZONE + r"\s*$"
)
_DOTTED = re.compile(
    r"^\s*(?P<y>\d{4})\.\s*(?P<m>\d{1,2})\.\s*(?P<d>\d{1,2})\.?"
    r"(?:\s+(?P<H>\d{1,2}):(?P<M>\d\d)(?::(?P<S>\d\d))?)?" + _ZONE + r"\s*$"
)
_MONTH_WORDS = (
    "jan janeiro enero ene gen gennaio janvier janv januar",
    "fev fevereiro feb febrero febbraio fevrier fevr februar",
    "mar marco marzo mars marz mrz",
    "abr abril apr aprile avr avril april",
    "mai maio may mayo mag maggio",
    "jun junho junio giu giugno juin juni",
    "jul julho julio lug luglio juil juillet juli",
    "ago agosto aou aout aug august",
    "set setembro sep sept septiembre setiembre settembre septembre september",
    "out outubro oct octubre ott ottobre octobre okt oktober",
    "nov novembro noviembre novembre november",
    "dez dezembro dic diciembre dicembre dec decembre dezember",
)
_ENGLISH = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {word: _ENGLISH[n] for n, words in enumerate(_MONTH_WORDS) for word in words.split()}
_LEADING_DAY = re.compile(r"^\s*[^\W\d]+\.?,?\s+(?=\d)")
_WORD = re.compile(r"[^\W\d]+\.?")
_FILLER = {"de", "del"}  # "24 de septiembre de 2018"


def parse_localized(raw: str) -> datetime | None:
    """A UTC datetime for the forms above, or None."""
    text = raw.strip()
    if not text or len(text) > 100:
        return None
    for pattern in (_JA, _KO, _DOTTED):
        found = pattern.match(text)
        if found:
            return _from_parts(found)
    return _rfc822_like(text)


def _from_parts(found: re.Match[str]) -> datetime | None:
    parts = found.groupdict()
    hour = int(parts["H"] or 0)
    if parts.get("ampm") == "오후" and hour < 12:
        hour += 12
    elif parts.get("ampm") == "오전" and hour == 12:
        hour = 0
    try:
        value = datetime(
            int(parts["y"]),
            int(parts["m"]),
            int(parts["d"]),
            hour,
            int(parts["M"] or 0),
            int(parts["S"] or 0),
            tzinfo=_zone(parts["zone"]),
        )
    except ValueError:
        return None
    return value.astimezone(UTC)


def _zone(word: str | None) -> timezone:
    if not word or word in ("JST", "KST"):
        return _KST
    if word in ("GMT", "UTC", "Z"):
        return UTC
    sign = 1 if word[0] == "+" else -1
    digits = word[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _rfc822_like(text: str) -> datetime | None:
    text = _LEADING_DAY.sub("", _ascii(text).lower())
    words: list[str] = []
    for token in text.split():
        bare = token.rstrip(".,")
        if bare in _FILLER:
            continue
        if _WORD.fullmatch(token) and bare in _MONTHS:
            words.append(_MONTHS[bare])
        else:
            words.append(token.upper() if token.isalpha() else token)
    if not any(w in _ENGLISH for w in words):
        return None
    parsed = parsedate_tz(" ".join(words))
    if parsed is None:
        return None
    try:
        value = datetime(*parsed[:6], tzinfo=UTC)
    except ValueError:
        return None
    return value - timedelta(seconds=parsed[9] or 0)


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))
