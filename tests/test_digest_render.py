"""Rendering: Slack's limits respected by splitting (never truncating), feed text made inert."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.deliver.blocks import blocks_json, payload
from monitor.digest.mrkdwn import escape, highlight, link, safe_url
from monitor.digest.render import render_alert, render_digest
from monitor.digest.select import plan_digest, stories
from monitor.message import (
    MAX_BLOCKS,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    Context,
    Header,
    Message,
    Section,
)
from monitor.model import Candidate, Hit, Rule

T = datetime(2026, 8, 22, 12, 0, tzinfo=UTC)
TZ = ZoneInfo("Australia/Sydney")
RULE = Rule(id="tri", name="Trilateral", query="x", priority="high")
RULES = {"tri": RULE}

INJECTIONS = [
    "<!channel> evacuate now",
    "<!here|here> look",
    "<!everyone>",
    "ping <@U024BE7LH> and <#C024BE7LR>",
    "<!subteam^S012345|@team>",
    "<https://evil.example/login|Your bank: bank.com>",
    "&lt;!channel&gt; encoded mention",
    "&amp;lt;!here&amp;gt; double encoded",
    "*bold* _italic_ ~strike~ `code` ```block```",
    "> quoted line\n>>> more quote",
    "<mailto:ceo@example.com|click me>",
    "Tom & Jerry <b>html</b> 1 < 2 > 0",
    "\u202etxt.exe reversed",
]
BAD_URLS = [
    "javascript:alert(1)",
    "data:text/html,<script>",
    "ftp://files.example/x",
    "//no-scheme.example",
    "mailto:a@b",
]


def cand(
    item: str,
    title: str,
    *,
    summary: str = "",
    url: str = "",
    score: float = 1.0,
    hits: tuple[Hit, ...] = (),
) -> Candidate:
    return Candidate(
        item,
        "tri",
        score,
        hits,
        title,
        summary,
        url or f"https://example.com/{item}",
        T - timedelta(hours=1),
        "feed",
        "Feed <!channel>",
    )


def _render(cands: list[Candidate], max_items: int = 1000) -> list[Message]:
    sections = plan_digest(cands, [RULE], channel="#watch", max_items=max_items)
    return render_digest(
        sections,
        name="daily",
        channel="#watch",
        start=T - timedelta(days=1),
        end=T,
        tz=TZ,
        rules=RULES,
    )


def _all_text(messages: list[Message]) -> list[str]:
    out = []
    for m in messages:
        out.append(m.text)
        for b in m.blocks:
            if isinstance(b, Header | Section):
                out.append(b.text)
            elif isinstance(b, Context):
                out += list(b.texts)
    return out


OUR_LINK = re.compile(r"<https?://[^|<>\s]+\|[^<>]*>")


def _assert_inert(text: str) -> None:
    rest = OUR_LINK.sub("", text)
    assert "<" not in rest, text
    assert ">" not in rest, text
    for target in re.findall(r"<([^|<>]+)\|", text):
        assert target.startswith(("http://", "https://")), target
        assert "evil.example" not in target


@pytest.mark.parametrize("attack", INJECTIONS)
def test_feed_text_cannot_mention_link_or_format(attack: str) -> None:
    hit = Hit("attack", "summary", 0, min(6, len(attack)))
    messages = _render([cand("a", attack, summary=attack + " tail", hits=(hit,))])
    alert = render_alert(
        stories([cand("a", attack, summary=attack)], [RULE])[0], channel="#a", tz=TZ, rules=RULES
    )
    for text in _all_text([*messages, alert]):
        _assert_inert(text)
        for marker in ("<!", "<@", "<#"):
            assert marker not in text
    assert any(
        "&amp;" in t or "&lt;" in t or "∗" in t or "&gt;" in t for t in _all_text(messages)
    ) or attack.startswith("\u202e")


@pytest.mark.parametrize("url", BAD_URLS)
def test_only_http_urls_become_links(url: str) -> None:
    assert safe_url(url) is None
    assert link(url, "Title") == "Title"
    (message,) = _render([cand("a", "Japan news", url=url)])
    assert not any("<" in t for t in _all_text([message]) if "example.com" not in t)


def test_url_metacharacters_are_percent_encoded() -> None:
    assert (
        safe_url("https://ok.example/a|b<c>d?x=1&y=2")
        == "https://ok.example/a%7Cb%3Cc%3Ed?x=1&amp;y=2"
    )
    assert link("HTTPS://OK.EXAMPLE/", "x") == "<HTTPS://OK.EXAMPLE/|x>"


def test_escape_and_highlight() -> None:
    assert escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    text = "Japan & Korea meet the <US> in Tokyo"
    assert (
        highlight(text, [(0, 5), (8, 13)]) == "*Japan* &amp; *Korea* meet the &lt;US&gt; in Tokyo"
    )


def test_snippet_shows_matched_terms_in_bold_and_why_it_matched() -> None:
    summary = "Officials said Japan and South Korea would expand trilateral drills with the US."
    hits = (
        Hit("trilateral", "summary", summary.index("trilateral"), summary.index("trilateral") + 10),
        Hit("Japan", "title", 0, 5),
    )
    (message,) = _render(
        [cand("a", "Japan, Korea, US drills", summary=summary, hits=hits, score=7.5)]
    )
    texts = _all_text([message])
    assert any("*trilateral*" in t for t in texts)
    assert any(
        t.startswith("Why: Trilateral · score 7.5 · terms: Japan, trilateral") for t in texts
    )


def test_the_why_line_names_lists_and_words_never_a_regex() -> None:
    title = "日韓首脳、South Korea summit on A$5 billion fund"
    hits = (
        Hit("日韓", "title", 0, 2, "Japan"),
        Hit("South Korea", "title", 5, 16, "South Korea"),
        Hit("summit", "title", 17, 23),
        Hit(r"/\bA\$ ?\d/", "title", 27, 30),
    )
    (message,) = _render([cand("a", title, hits=hits, score=7.5)])
    assert any(
        t.startswith("Why: Trilateral · score 7.5 · terms: Japan (日韓), South Korea, summit, A$5")
        for t in _all_text([message])
    )
    assert not any("/\\b" in t or "\\$" in t for t in _all_text([message]))


@pytest.mark.parametrize("n", [1, 19, 24, 25, 60, 200])
def test_big_digests_split_within_limits_and_lose_nothing(n: int) -> None:
    cands = [
        cand(
            f"i{k:04d}",
            f"Story {k} " + " ".join(f"t{k}w{j}" for j in range(5)),
            summary="Japan Korea " * 40,
            score=1000 - k,
        )
        for k in range(n)
    ]
    messages = _render(cands)
    for m in messages:
        assert m.problems() == []
        assert len(m.blocks) <= MAX_BLOCKS
        blocks = blocks_json(m)  # slack_sdk validates every block
        assert all(
            len(b["text"]["text"]) <= MAX_HEADER_TEXT for b in blocks if b["type"] == "header"
        )
        assert all(
            len(b["text"]["text"]) <= MAX_SECTION_TEXT for b in blocks if b["type"] == "section"
        )
    shown = [c for m in messages for c in m.claims]
    assert sorted(shown) == sorted((c.item_id, "tri") for c in cands)  # every item exactly once
    if len(messages) > 1:
        assert all(f"({i}/{len(messages)})" in m.blocks[0].text for i, m in enumerate(messages, 1))  # type: ignore[union-attr]
        assert any("(continued)" in t for t in _all_text(messages[1:]))
    # ranking survives the split
    order = [
        found.group(1)
        for t in _all_text(messages)
        if (found := re.match(r"\*<[^|]+\|Story (\d+)", t))
    ]
    assert order == [str(k) for k in range(n)]


def test_huge_feed_text_is_shortened_visibly_not_silently() -> None:
    title = "Japan " * 2000
    url = "https://example.com/" + "x" * 5000
    hits = tuple(Hit("/" + "a" * 500 + f"{i}/", "title", 0, 5) for i in range(20))
    (message,) = _render([cand("a", title, summary="Korea " * 5000, url=url, hits=hits)])
    assert message.problems() == []
    section = next(b for b in message.blocks if isinstance(b, Section) and "Japan" in b.text)
    assert "…" in section.text


def test_payload_turns_unfurling_off_and_never_sets_link_names() -> None:
    (message,) = _render([cand("a", "Japan")])
    body = payload(message)
    assert body["unfurl_links"] is False
    assert body["unfurl_media"] is False
    assert "link_names" not in body
    assert "parse" not in body
    assert body["text"]
    assert body["channel"] == "#watch"


def test_empty_digest_posts_only_when_asked() -> None:
    assert render_digest([], name="daily", channel="#w", start=T, end=T, tz=TZ, rules=RULES) == []
    (m,) = render_digest(
        [], name="daily", channel="#w", start=T, end=T, tz=TZ, rules=RULES, post_when_empty=True
    )
    assert "nothing new" in m.text


def test_message_json_round_trip() -> None:
    (message,) = _render([cand("a", "Japan <!here>")])
    again = Message.from_json(message.to_json())
    assert again.blocks == message.blocks
    assert again.channel == message.channel


def test_bold_inside_unspaced_cjk_text_gets_word_edges() -> None:
    text = "日韓の通貨当局高官が会談"
    assert highlight(text, [(0, 2), (10, 12)]) == "*日韓*\u200bの通貨当局高官が\u200b*会談*"
