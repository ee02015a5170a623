"""A digest as a Slack thread: one parent message (counts per rule, the top three headlines),
then one reply per rule with its items. A channel then shows one line per digest; the
stories are a click away. Pure, like the rest of the digest step.

The replies are ordinary digest messages (split in parts when big, as render.py does); the
ledger links each to its parent (monitor/store/threads.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, tzinfo

from monitor.digest.message import MAX_HEADER_TEXT, Context, Header, Message, Section
from monitor.digest.mrkdwn import escape, link, shorten
from monitor.digest.render import _pack, period_text, render_digest
from monitor.digest.select import RuleSection
from monitor.model import Rule

TOP_STORIES = 3
MAX_RULE_LINES = 40  # a digest with more rules lists the first 40 in the parent


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
    header = Header(shorten(f"{name.capitalize()} digest · {period}", MAX_HEADER_TEXT))
    counts = [
        f"• *{escape(shorten(s.rule.name or s.rule.id, 120))}* — {len(s.entries) + len(s.more)} new"
        for s in sections[:MAX_RULE_LINES]
    ]
    if len(sections) > MAX_RULE_LINES:
        counts.append(f"• …and {len(sections) - MAX_RULE_LINES} more rules")
    entries = sorted(
        (e for s in sections for e in s.entries),
        key=lambda e: (-e.score, -e.lead.published.timestamp(), e.lead.item_id),
    )[:TOP_STORIES]
    top = [
        f"{i}. *{link(e.lead.url, shorten(e.lead.title, 200) or '(untitled)')}* — "
        f"{escape(shorten(e.lead.feed_name, 80))}"
        for i, e in enumerate(entries, 1)
    ]
    blocks = (
        header,
        Context(
            (
                f"{stories} {noun} · {len(sections)} rule{'s' if len(sections) != 1 else ''} · one reply per rule in the thread",
            )
        ),
        Section("\n".join(counts)),
        Section("*Top stories*\n" + "\n".join(top)),
    )
    names = ", ".join(escape(shorten(s.rule.name or s.rule.id, 60)) for s in sections[:10])
    text = shorten(f"{name} digest: {stories} new {noun} for {names}", 400)
    return Message(channel, text, blocks, (), thread="parent")
