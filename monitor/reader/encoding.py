"""Encoding repair for the parse step: what feedparser guessed wrong, read again.

feedparser falls back to windows-1252 when bytes do not fit what was declared (or nothing
was). That is right for Western European feeds and wrong for everything else; these rules
say when another reading is clearly better, and the parse step's warning says which.
"""

from __future__ import annotations

import codecs
import importlib
import re
from collections.abc import Callable
from typing import Any

import charset_normalizer

Parse = Callable[[bytes, dict[str, str]], Any]

# Encodings charset detection may substitute for feedparser's single-byte guess. For Latin
# text the detector's guesses (cp1250, cp1257, …) are no better than feedparser's
# windows-1252, so only multi-byte East Asian results are trusted, and single-byte ones
# for other scripts (Cyrillic, Greek, Hebrew, Thai, Arabic) when the bytes look like it.
_CJK_ENCODINGS = {
    "euc_jp",
    "euc_jis_2004",
    "shift_jis",
    "shift_jis_2004",
    "cp932",
    "iso2022_jp",
    "euc_kr",
    "cp949",
    "johab",
    "iso2022_kr",
    "gb2312",
    "gbk",
    "gb18030",
    "big5",
    "big5hkscs",
    "cp950",
    "hz",
}
# feedparser's fallbacks when bytes do not fit the declared encoding (codec names).
_LATIN_FALLBACKS = {"cp1252", "iso8859-1", "iso8859-2", "ascii"}

_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*\?>")
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def fix_encoding(
    body: bytes, headers: dict[str, str], result: Any, parse: Parse
) -> tuple[Any, str | None]:
    """Re-parse when feedparser's single-byte fallback produced mojibake; say what happened."""
    label = _declared(body, headers)
    declared = _codec(label)
    used = _codec(result.get("encoding"))
    said = (
        f"declared encoding {label} was wrong" if label else "the feed did not declare its encoding"
    )
    single = _single_byte(declared) and _single_byte(used)
    if (
        not body.isascii()
        and (single or (declared is not None and used in _LATIN_FALLBACKS))
        and _valid_utf8(body)
    ):
        # Declared a single-byte charset (cp1252, windows-1251, KOI8-R, ISO-8859-7, …) or
        # an unknown one, but the bytes are valid UTF-8 with multi-byte sequences: real
        # single-byte text practically never looks like that (its letters would have to
        # pair up as UTF-8 lead and continuation bytes throughout).
        return _reparse(parse, body, "utf-8", headers), f"{said}; read as UTF-8"
    if body.isascii() or used not in _LATIN_FALLBACKS:
        wrong = label is not None and used is not None and declared != used
        return result, f"{said}; read as {result.get('encoding')}" if wrong else None
    if declared is None or declared != used:
        best = charset_normalizer.from_bytes(body).best()
        if best is not None and (
            best.encoding in _CJK_ENCODINGS
            # "utf-8" declared on bytes that are not UTF-8 says as little as no declaration
            or (declared in (None, "utf-8") and _non_latin_single_byte(best.encoding, body))
        ):
            return _reparse(
                parse, body, best.encoding, headers
            ), f"{said}; detected {best.encoding}"
        return result, f"{said}; read as {result.get('encoding')}"
    return result, None


def _declared(body: bytes, headers: dict[str, str]) -> str | None:
    """The encoding the publisher stated: HTTP charset, else BOM, else XML declaration."""
    for param in headers.get("content-type", "").split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'").lower()
    if body.startswith(_BOMS):
        return "utf-8" if body.startswith(_BOMS[0]) else "utf-16"
    found = _XML_ENCODING.match(body)
    return found.group(1).decode("ascii").lower() if found else None


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        return codecs.lookup(label).name
    except LookupError:
        return "unknown:" + label


def _reparse(parse: Parse, body: bytes, encoding: str, headers: dict[str, str]) -> Any:
    text = body.decode(encoding, errors="replace").lstrip("\ufeff")
    data = _XML_DECL.sub(b"", text.encode("utf-8"), count=1)
    data = b'<?xml version="1.0" encoding="utf-8"?>' + data
    fixed = dict(headers, **{"content-type": "application/xml; charset=utf-8"})
    return parse(data, fixed)


def _valid_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _single_byte(codec: str | None) -> bool:
    """A charmap codec: one byte, one character (cp1252, koi8-r, iso8859-7, tis-620, …)."""
    if codec is None or codec.startswith("unknown:"):
        return False
    if codec in _LATIN_FALLBACKS:
        return True
    try:
        module = importlib.import_module("encodings." + codec.replace("-", "_"))
    except ImportError:
        return False
    return hasattr(module, "decoding_table")


# A run of letters that holds a byte >= 0x80.
_HIGH_WORD = re.compile(rb"[A-Za-z\x80-\xff]*[\x80-\xff][A-Za-z\x80-\xff]*")
_ASCII_LETTER = re.compile(rb"[A-Za-z]")
# Share of high-byte words that may also hold ASCII letters. Latin text in any single-byte
# encoding puts its accented letters inside ASCII words ("café", "Müller": nearly all mixed);
# Cyrillic, Greek, Hebrew, Thai or Arabic text has whole words of high bytes (nearly none).
_MAX_MIXED = 0.2
_MIN_WORDS = 3


def _non_latin_single_byte(encoding: str, body: bytes) -> bool:
    if not _single_byte(_codec(encoding)):
        return False
    words = _HIGH_WORD.findall(body[:200_000])
    if len(words) < _MIN_WORDS:
        return False
    mixed = sum(1 for w in words if _ASCII_LETTER.search(w))
    return mixed / len(words) <= _MAX_MIXED
