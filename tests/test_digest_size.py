"""Digest parts fit Slack's size as sent (text + blocks JSON), checked by posting to the fake.

Issue 10 point 2: parts were budgeted by visible characters, so escaping and JSON quoting
made a busy digest (40 stories, 4 rules, long titles) about 14,000 characters, which Slack
(and the fake) refuse. Here many random busy digests, with hostile text, are rendered and
every part is posted through the real slack_sdk client.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.deliver.blocks import payload, to_block
from monitor.deliver.slack import SlackWebDeliverer
from monitor.digest.render import render_alert, render_digest
from monitor.digest.select import plan_digest, stories
from monitor.message import (
    MAX_MESSAGE_CHARS,
    MAX_SECTION_TEXT,
    Block,
    Context,
    Divider,
    Header,
    Message,
    Section,
    slack_dict,
)
from monitor.model import Candidate, Hit, Rule
from tests.fakeslack import FakeSlack, payload_problems

T = datetime(2026, 8, 22, 12, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Tokyo")
NASTY = ['"', "\\", "&", "<", ">", "*", "日韓", "한일", "🇯🇵", "\u202e", "\u200b", "\n", "|"]


def web(fake: FakeSlack) -> SlackWebDeliverer:
    return SlackWebDeliverer(fake.token, base_url=fake.api_url, timeout=15, backoff=0.01)


def words(rng: random.Random, n: int, tag: str) -> str:
    """n words unique to ``tag`` (so stories do not cluster), with hostile characters mixed in."""
    out = []
    for j in range(n):
        word = f"{tag}w{j}"
        if rng.random() < 0.3:
            word += rng.choice(NASTY) * rng.randint(1, 4)
        out.append(word)
    return " ".join(out)


def busy(rng: random.Random, trial: int) -> tuple[list[Candidate], list[Rule]]:
    rules = [
        Rule(id=f"r{i}", name=words(rng, rng.randint(2, 40), f"rule{i}"), query="x")
        for i in range(rng.randint(1, 6))
    ]
    feeds = [words(rng, rng.randint(1, 30), f"feed{i}") for i in range(4)]
    cands = []
    for k in range(rng.randint(1, 120)):
        tag = f"s{trial}x{k}"
        title = words(rng, rng.randint(5, 50), tag)
        summary = words(rng, rng.randint(0, 150), tag + "sum")
        hits = tuple(
            Hit(words(rng, rng.randint(1, 12), "t"), "summary", s, s + rng.randint(1, 20))
            for s in sorted(rng.sample(range(max(len(summary), 1)), min(3, len(summary))))
        )
        url = "https://example.com/" + rng.choice(['"', "&", "a", "%"]) * rng.randint(1, 1500)
        cands.append(
            Candidate(
                f"{tag}-id",
                rng.choice(rules).id,
                float(rng.randint(1, 50)),
                hits,
                title,
                summary,
                url,
                T - timedelta(hours=k, days=rng.choice([0, 400, 1500])),
                f"f{k % 4}",
                rng.choice(feeds),
            )
        )
    return cands, rules


def render(cands: list[Candidate], rules: list[Rule], max_items: int) -> list[Message]:
    sections = plan_digest(cands, rules, channel="#w", max_items=max_items)
    return render_digest(
        sections,
        name="daily",
        channel="#w",
        start=T - timedelta(days=1500),
        end=T,
        tz=TZ,
        rules={r.id: r for r in rules},
    )


def assert_fits(message: Message) -> None:
    body = payload(message)  # slack_sdk validates every block too
    assert payload_problems(body) == [], message.size()
    assert message.size() <= MAX_MESSAGE_CHARS
    assert message.problems() == []


def test_the_size_measured_is_what_slack_sdk_sends() -> None:
    blocks: list[Block] = [
        Header('Daily "digest" \\ 日韓'),
        Section('*<https://a.example/x|Title "q">*\nfeed'),
        Context(("Why: x", "more")),
        Divider(),
    ]
    for block in blocks:
        assert slack_dict(block) == to_block(block).to_dict()


def test_a_busy_digest_of_40_stories_and_4_rules_is_accepted(fake_slack: FakeSlack) -> None:
    # The digest the issue reports: long titles, 40 stories over 4 rules, ~14,000 characters.
    rules = [
        Rule(id=f"r{i}", name=f"Rule number {i} with a long name", query="x") for i in range(4)
    ]
    cands = [
        Candidate(
            f"i{k}",
            f"r{k % 4}",
            5.0,
            (Hit("Japan", "summary", 0, 5),),
            f"Story {k} " + " ".join(f"w{k}y{j}" for j in range(40)),
            "Japan said Korea talks 日本政府は " * 20,
            f"https://example.com/{'a' * 150}/{k}",
            T - timedelta(hours=k),
            "f",
            "Some Feed Name",
        )
        for k in range(40)
    ]
    messages = render(cands, rules, max_items=100)
    assert len(messages) > 1
    deliverer = web(fake_slack)
    for m in messages:
        assert_fits(m)
        deliverer.send(m)
    assert len(fake_slack.messages) == len(messages)
    shown = sorted(c for m in messages for c in m.claims)
    assert shown == sorted((c.item_id, c.rule_id) for c in cands)


@pytest.mark.parametrize("seed", range(4))
def test_random_busy_digests_are_accepted_part_by_part(seed: int, fake_slack: FakeSlack) -> None:
    rng = random.Random(seed)
    deliverer = web(fake_slack)
    posted = 0
    for trial in range(8):
        cands, rules = busy(rng, trial)
        messages = render(cands, rules, max_items=rng.choice([3, 8, 500]))
        for m in messages:
            assert_fits(m)
            deliverer.send(m)  # raises if the fake refuses it
            posted += 1
        shown = sorted(c for m in messages for c in m.claims)
        assert shown == sorted({(c.item_id, c.rule_id) for c in cands})  # every match, once
    assert len(fake_slack.messages) == posted


def test_one_story_too_big_on_its_own_is_shortened_with_an_ellipsis(
    fake_slack: FakeSlack,
) -> None:
    rule = Rule(id="r", name='"\\&' * 400, query="x")
    other = Rule(id="o", name="&" * 900, query="x")
    summary = '"&\\' * 4000
    hits = tuple(Hit("&" * 500 + str(i), "summary", i * 7, i * 7 + 5) for i in range(30))
    lead = Candidate(
        "big",
        "r",
        9.0,
        hits,
        '"&\\<' * 3000,
        summary,
        "https://e.example/" + '"' * 300,
        T,
        "f",
        "&" * 5000,
    )
    copies = [
        Candidate(
            f"c{i}", "o", 1.0, (), '"&\\<' * 3000, "", lead.url, T, f"g{i}", "\\" * 900 + str(i)
        )
        for i in range(9)
    ]
    rules = [rule, other]
    (message,) = render([lead, *copies], rules, max_items=5)
    alert = render_alert(
        stories([lead, *copies], rules)[0], channel="#a", tz=TZ, rules={r.id: r for r in rules}
    )
    for m in (message, alert):
        assert_fits(m)
        web(fake_slack).send(m)
        section = next(b for b in m.blocks if isinstance(b, Section) and "e.example" in b.text)
        assert "…" in section.text
        assert len(section.text) <= MAX_SECTION_TEXT
    assert len(fake_slack.messages) == 2
