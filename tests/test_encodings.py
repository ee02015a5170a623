"""Encodings feedparser guesses wrong: undeclared non-Latin single-byte, mislabelled UTF-8."""

from __future__ import annotations

import pytest

from monitor.reader.parse import parse_feed

URL = "https://example.org/rss"
TEXTS = {
    "koi8_r": "Кто виноват и что делать? Правительство объявило новые меры",
    "cp1251": "Кто виноват и что делать? Правительство объявило новые меры",
    "iso8859_7": "Η κυβέρνηση ανακοίνωσε σήμερα νέα μέτρα για την οικονομία",
    "cp1255": "הממשלה הודיעה היום על צעדים חדשים בכלכלה של המדינה",
    "tis_620": "รัฐบาลประกาศมาตรการใหม่สำหรับเศรษฐกิจของประเทศในวันนี้",
}


def rss(text: str, decl: str = "") -> str:
    head = f'<?xml version="1.0"{decl}?>' if decl is not None else ""
    return (
        f'{head}<rss version="2.0"><channel><title>{text}</title><link>https://e.example/</link>'
        f"<item><title>{text}</title><link>https://e.example/1</link>"
        f"<description>{text} {text}</description></item></channel></rss>"
    )


@pytest.mark.parametrize("encoding", sorted(TEXTS))
def test_undeclared_non_latin_single_byte_is_detected(encoding: str) -> None:
    text = TEXTS[encoding]
    parsed = parse_feed(rss(text).encode(encoding), {}, URL)
    assert parsed.entries[0].title == text
    assert parsed.warnings
    assert "did not declare its encoding; detected" in parsed.warnings[0]


@pytest.mark.parametrize(
    "text",
    [
        "Die Regierung hat heute neue Maßnahmen für die Wirtschaft angekündigt, sagt Müller",
        "Le gouvernement a annoncé des mesures économiques très sévères à Orléans",
    ],
)
def test_undeclared_latin_text_stays_latin(text: str) -> None:
    parsed = parse_feed(rss(text).encode("cp1252"), {}, URL)
    assert parsed.entries[0].title == text


@pytest.mark.parametrize("label", ["windows-1251", "koi8-r", "iso-8859-5", "iso-8859-7"])
@pytest.mark.parametrize("where", ["header", "declaration"])
def test_utf8_bytes_labelled_single_byte_are_read_as_utf8(label: str, where: str) -> None:
    text = "Кто виноват — Η κυβέρνηση"
    if where == "header":
        body, headers = rss(text).encode(), {"content-type": f"application/xml; charset={label}"}
    else:
        body, headers = rss(text, f' encoding="{label}"').encode(), {}
    parsed = parse_feed(body, headers, URL)
    assert parsed.entries[0].title == text
    assert parsed.warnings == (f"declared encoding {label} was wrong; read as UTF-8",)


def test_real_windows_1251_declared_stays_windows_1251() -> None:
    text = TEXTS["cp1251"]
    body = rss(text, ' encoding="windows-1251"').encode("cp1251")
    parsed = parse_feed(body, {}, URL)
    assert parsed.entries[0].title == text
    assert parsed.warnings == ()


def test_koi8_r_bytes_wrongly_declared_utf8_are_detected() -> None:
    text = TEXTS["koi8_r"]
    parsed = parse_feed(rss(text, ' encoding="utf-8"').encode("koi8_r"), {}, URL)
    assert parsed.entries[0].title == text
    assert parsed.warnings[0].startswith("declared encoding utf-8 was wrong; detected")
