"""A digest as a Slack thread: one parent message (counts per rule, the top three headlines
by relevance), then one reply per rule with its items. A channel then shows one line per
digest; the stories are a click away. Pure, like the rest of the digest step.

The replies are ordinary digest messages (split in parts when big, as render.py does); the
ledger links each to its parent (monitor/store/threads.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, tzinfo

from monitor.digest.mrkdwn import escape, link, plain, shorten
from monitor.digest.render import _pack, period_text, render_digest
from monitor.digest.select import RuleSection, by_relevance
from monitor.message import MAX_HEADER_TEXT, Block, Context, Header, Message, Section
from monitor.model import Rule

TOP_STORIES = 3
COUNTS_BUDGET = 2800  # characters of the per-rule counts in the parent (a section: 3,000)


def render_thread(
    sections: Sequence[RuleSection],
    *,
    name: str,
    channel: str,
    start: datetime,
    end: datetime,
    tz: tzinfo,
    rules: Mapping[str, Rule],
    post_when_empty: bool = False,
    search_hint: str = "monitor search --rule {rule}",
    feedback: bool = False,
) -> list[Message]:
    """Per channel (the digest's first): the parent, then the replies, in rule order."""
    if not sections:  # "nothing new" needs no thread
        return render_digest(
            sections,
            name=name,
            channel=channel,
            start=start,
            end=end,
            tz=tz,
            rules=rules,
            post_when_empty=post_when_empty,
        )
    period = period_text(start, end, tz)
    channels: dict[str, list[RuleSection]] = {}
    for s in sections:
        channels.setdefault(s.channel, []).append(s)
    messages: list[Message] = []
    for target, mine in sorted(channels.items(), key=lambda kv: kv[0] != channel):
        messages.append(parent(target, mine, name, period))
        for section in mine:
            for reply in _pack(
                target,
                [section],
                name,
                period,
                tz,
                rules,
                search_hint,
                feedback,
            ):
                messages.append(replace(reply, thread="reply"))
    return messages


def parent(channel: str, sections: Sequence[RuleSection], name: str, period: str) -> Message:
    stories = sum(len(s.entries) + len(s.more) for s in sections)
    noun = "story" if stories == 1 else "stories"
    header = Header(shorten(plain(f"{name.capitalize()} digest · {period}"), MAX_HEADER_TEXT))
    counts: list[str] = []
    used = 0
    for i, s in enumerate(sections):
        line = f"• *{escape(shorten(s.rule.name or s.rule.id, 120))}* — {len(s.entries) + len(s.more)} new"
        if used + len(line) > COUNTS_BUDGET:  # a section holds 3,000 characters
            counts.append(f"• …and {len(sections) - i} more rules")
            break
        counts.append(line)
        used += len(line) + 1
    # The order each reply shows (relevance, then recency), so the parent's first headline
    # is the strongest reply's lead, not the highest raw score of a weak outlet.
    entries = sorted((e for s in sections for e in s.entries), key=by_relevance)[:TOP_STORIES]
    # One section per headline: a link may take 1,000 characters, three would not fit one.
    top = [
        Section(
            f"{i}. *{link(e.lead.url, shorten(e.lead.title, 200) or '(untitled)')}* — "
            f"{escape(shorten(e.lead.feed_name, 80))}"
        )
        for i, e in enumerate(entries, 1)
    ]
    summary = f"{stories} {noun} · {len(sections)} rule{'s' if len(sections) != 1 else ''}"
    blocks: tuple[Block, ...] = (
        header,
        Context((f"{summary} · one reply per rule in the thread",)),
        Section("\n".join(counts)),
        Context(("*Top stories*",)),
        *top,
    )
    names = ", ".join(escape(shorten(s.rule.name or s.rule.id, 60)) for s in sections[:10])
    text = shorten(f"{name} digest: {stories} new {noun} for {names}", 400)
    return Message(channel, text, blocks, (), thread="parent")
