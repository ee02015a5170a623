"""Article text from an article page we fetched ourselves: bytes in, plain text out. No I/O.

The page is decoded here (charset from the Content-Type header, else the page's own
<meta>, else a byte-order mark, else UTF-8 if it decodes, else charset-normalizer's guess)
and handed to trafilatura as text, so its downloader is never used: that one turns
certificate checks off when it retries. trafilatura and its dependencies take a second or
two to import, so the import happens on the first page, in the process that extracts.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

MAX_BODY_BYTES = 100_000  # stored article text, UTF-8; longer text is cut at a paragraph
# Less than this is a menu item or a cookie line the extractor kept, not an article (a
# one-sentence Japanese press notice is still over 20 characters).
MIN_TEXT_CHARS = 20
HTML_TYPES = ("text/html", "application/xhtml+xml")
# Content types that say nothing about the body: sniff those.
_VAGUE_TYPES = ("", "application/octet-stream", "text/plain", "binary/octet-stream")
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)
_HTML_START = re.compile(rb"<\s*(!doctype\s+html|html|head|body|meta|title|p|div)\b", re.I)
# The WHATWG encoding standard decodes these labels as their supersets, as browsers do.
_SUPERSETS = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
}

ArticleStatus = Literal["ok", "not_html", "empty"]


@dataclass(frozen=True)
class Article:
    status: ArticleStatus
    text: str = ""
    note: str | None = None  # a sentence: why there is no text, or that it was cut


def _media_type(headers: dict[str, str]) -> tuple[str, str | None]:
    value = headers.get("content-type", "")
    kind, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset" and val.strip():
            charset = val.strip().strip("\"'")
    return kind.strip().lower(), charset


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    name = _SUPERSETS.get(label.strip().lower(), label.strip().lower())
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(body: bytes, headers: dict[str, str]) -> str:
    """The page as text: header charset, <meta> charset, BOM, UTF-8, then a guess."""
    _, header_charset = _media_type(headers)
    for label in (header_charset, _meta_charset(body)):
        codec = _codec(label)
        if codec is not None:
            return body.decode(codec, errors="replace")
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16")):
        if body.startswith(bom):
            return body.decode(codec, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    return body.decode(best.encoding if best else "cp1252", errors="replace")


def _meta_charset(body: bytes) -> str | None:
    found = _META_CHARSET.search(body[:8192])
    return found.group(1).decode("ascii") if found else None


def looks_like_html(body: bytes, headers: dict[str, str]) -> bool:
    kind, _ = _media_type(headers)
    if kind in HTML_TYPES:
        return True
    if kind not in _VAGUE_TYPES:
        return False  # a PDF, an image, a feed: not an article page we can read
    return _HTML_START.search(body[:2048].lstrip(codecs.BOM_UTF8)) is not None


def extract_article(body: bytes, headers: dict[str, str], url: str = "") -> Article:
    """The main text of an article page, or why there is none. Pure: no network."""
    if not looks_like_html(body, headers):
        kind, _ = _media_type(headers)
        return Article("not_html", note=f"the page is {kind or 'not HTML'}, not a web page")
    html = decode_html(body, headers)
    import trafilatura  # here, not at the top: importing it costs about a second

    text = trafilatura.extract(
        html,
        url=url or None,
        favor_precision=True,  # a missed paragraph costs less than a menu matched as news
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        with_metadata=False,
        output_format="txt",
    )
    text = unicodedata.normalize("NFKC", text or "").strip()
    if len(text) < MIN_TEXT_CHARS:
        return Article("empty", note="no article text found on the page")
    return cap_text(text)


def cap_text(text: str, limit: int = MAX_BODY_BYTES) -> Article:
    """The text within ``limit`` UTF-8 bytes, cut at the last paragraph that fits."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return Article("ok", text)
    cut = data[:limit].decode("utf-8", errors="ignore")
    para = cut.rfind("\n")
    if para > len(cut) // 2:
        cut = cut[:para]
    note = f"the article text was cut at {limit // 1000} KB (it had {len(data) // 1000} KB)"
    return Article("ok", cut.rstrip(), note)
