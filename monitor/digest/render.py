"""Digest, alert and ops messages as Block Kit-shaped data, split to respect Slack's limits.

A digest too big for one message continues in the next ("part 2/3"); no story is cut in two
or left out. Parts are measured as Slack receives them (fallback text plus the blocks' JSON,
message.Message.size), not by their visible characters: escaping and JSON quoting can make a
part half as big again. Each story is a section (linked title, source and time, other
sources, snippet with the matched terms in bold) plus a one-line context saying why it
matched (story.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo

from monitor.digest.buttons import feedback_row
from monitor.digest.mrkdwn import code, escape, escape_fit, plain, shorten
from monitor.digest.select import Entry, RuleSection
from monitor.digest.story import (
    TITLE_LIMIT,
    entry_section,
    period_text,
    rule_heading,
    rule_name,
    when,
    why_context,
)
from monitor.message import (
    MAX_BLOCKS,
    MAX_HEADER_TEXT,
    MAX_MESSAGE_CHARS,
    SEPARATOR,
    Block,
    Context,
    Divider,
    Header,
    Message,
    Section,
    block_size,
    blocks_size,
)
from monitor.model import Claim, Rule

__all__ = ["period_text", "render_alert", "render_digest", "render_set_aside", "when"]

TEXT_BUDGET = 400  # the plain fallback text (notifications), as sent
HEADER_SLACK = 100  # header JSON beyond the worst case measured (quoting in the digest name)


def _entry_blocks(
    entry: Entry,
    tz: tzinfo,
    rules: Mapping[str, Rule],
    year: int | None = None,
    feedback: bool = False,
) -> list[Block]:
    blocks: list[Block] = [entry_section(entry, tz, year), why_context(entry, rules)]
    if feedback:  # Relevant / Not relevant / Mute source, answered by `monitor slack`
        blocks.append(feedback_row(entry.lead.item_id, entry.rule_id))
    return blocks


def _header(name: str, part: str, period: str) -> Header:
    return Header(shorten(plain(f"{name.capitalize()} digest{part} · {period}"), MAX_HEADER_TEXT))


def render_digest(
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
    """Messages for one digest: one set per channel (rules may route elsewhere), in order."""
    period = period_text(start, end, tz)
    channels: dict[str, list[RuleSection]] = {}
    for s in sections:
        channels.setdefault(s.channel, []).append(s)
    if not channels:
        if not post_when_empty:
            return []
        header = Header(
            shorten(plain(f"{name.capitalize()} digest · nothing new"), MAX_HEADER_TEXT)
        )
        body = Context((f"No new matches · {escape(period)}",))
        text = f"{escape_fit(name, 100)} digest: nothing new"
        return [Message(channel, text, (header, body))]
    messages = []
    # the digest's own channel first, then channels that rules route to, in rule order
    for target, mine in sorted(channels.items(), key=lambda kv: kv[0] != channel):
        messages += _pack(
            target, mine, name, period, tz, rules, search_hint, end.astimezone(tz).year, feedback
        )
    return messages


def _pack(
    channel: str,
    sections: Sequence[RuleSection],
    name: str,
    period: str,
    tz: tzinfo,
    rules: Mapping[str, Rule],
    search_hint: str,
    year: int,
    feedback: bool = False,
) -> list[Message]:
    stories = sum(len(s.entries) + len(s.more) for s in sections)
    noun = "story" if stories == 1 else "stories"
    rule_count = f"{len(sections)} rule{'s' if len(sections) != 1 else ''}"
    summary = Context((f"{stories} {noun} · {rule_count}",))  # the period is in the header
    names = escape_fit(", ".join(s.rule.name or s.rule.id for s in sections), TEXT_BUDGET // 2)
    # Units are kept whole; a rule heading travels with its first story.
    units: list[tuple[RuleSection, list[Block], list[Claim]]] = []
    for s in sections:
        first = True
        for entry in s.entries:
            blocks = _entry_blocks(entry, tz, rules, year, feedback)
            if first:
                blocks = [Divider(), rule_heading(s), *blocks]
                first = False
            units.append((s, blocks, list(entry.claims)))
        if s.more:
            hint = escape_fit(search_hint.format(rule=s.rule.id), 200)
            more = Context((f"…and {len(s.more)} more for this rule: `{hint}`",))
            units.append((s, [more], [c for e in s.more for c in e.claims]))
    # What every part carries besides its stories, at its largest ("(999/999)").
    reserve = (
        block_size(_header(name, " (999/999)", period))
        + HEADER_SLACK
        + block_size(summary)
        + TEXT_BUDGET
        + 2 * SEPARATOR
    )
    pages: list[tuple[list[Block], list[Claim]]] = [([], [])]
    current_rule: RuleSection | None = None
    used = 0  # characters the current page's blocks take as sent
    for rule_section, blocks, claims in units:
        page, page_claims = pages[-1]
        if page and _too_big(len(page) + len(blocks), used + _size(blocks), reserve):
            page, page_claims = [], []
            pages.append((page, page_claims))
            used = 0
            if rule_section is current_rule and not isinstance(blocks[0], Divider):
                blocks = [rule_heading(rule_section, continued=True), *blocks]
        page.extend(blocks)
        page_claims.extend(claims)
        used += _size(blocks)
        current_rule = rule_section
    messages = []
    safe_name = escape_fit(name, 100)
    for i, (page, page_claims) in enumerate(pages, start=1):
        part = f" ({i}/{len(pages)})" if len(pages) > 1 else ""
        text = f"{safe_name} digest{part}: {stories} new {noun} for {names}"
        page_blocks = (_header(name, part, period), summary, *page)
        messages.append(Message(channel, text, page_blocks, tuple(sorted(set(page_claims)))))
    return messages


def _size(blocks: Sequence[Block]) -> int:
    """What ``blocks`` add to a page's JSON: each block and the separator before it."""
    return sum(block_size(b) + SEPARATOR for b in blocks)


def _too_big(count: int, size: int, reserve: int) -> bool:
    """Whether a page of ``count`` blocks taking ``size`` characters breaks Slack's limits
    once it has its header and summary (``reserve``)."""
    return count + 2 > MAX_BLOCKS or size + reserve + blocks_size(()) > MAX_MESSAGE_CHARS


def render_alert(
    entry: Entry,
    *,
    channel: str,
    tz: tzinfo,
    rules: Mapping[str, Rule],
    feedback: bool = False,
) -> Message:
    name = rule_name(entry.rule_id, rules)
    header = Header(shorten(plain(f"Alert: {name}"), MAX_HEADER_TEXT))
    title = escape_fit(entry.lead.title, TEXT_BUDGET // 2, TITLE_LIMIT)
    text = f"Alert ({escape_fit(name, 100)}): {title}"
    blocks = (header, *_entry_blocks(entry, tz, rules, feedback=feedback))
    return Message(channel, text, blocks, entry.claims)


def render_feed_failing(
    *, channel: str, feed_name: str, since: datetime, error: str, failures: int, tz: tzinfo
) -> Message:
    text = (
        f"Feed {escape_fit(feed_name, 200)} has been failing since {when(since, tz)}"
        f" ({failures} failed polls)"
    )
    detail = f"*{text}*\nLast error: {escape_fit(error or 'unknown', 1000, 500)}"
    return Message(
        channel, text, (Section(detail), Context(("`monitor feeds status` shows every feed",)))
    )


def render_feed_recovered(*, channel: str, feed_name: str, since: datetime, tz: tzinfo) -> Message:
    text = (
        f"Feed {escape_fit(feed_name, 200)} has recovered"
        f" (it had been failing since {when(since, tz)})"
    )
    return Message(channel, text, (Section(text),))


def render_set_aside(
    *, channel: str, delivery_id: int, what: str, target: str, reason: str
) -> Message:
    """Tells the ops channel, once, that Slack refused a message for good and it waits aside.

    ``what``: e.g. "daily digest (part 2/3)"; ``target``: the channel it was meant for.
    """
    text = (
        f"A message was set aside: Slack refused the {escape_fit(what, 200)} for"
        f" {escape_fit(target, 100)} for good"
    )
    detail = f"*{text}*\nReason: {code(reason or 'unknown', 1000)}"
    hint = (
        f"`monitor digest status` shows it · `monitor digest retry {delivery_id}` resends it ·"
        f" `monitor digest drop {delivery_id}` gives it up (its stories go into the next digest)"
    )
    return Message(channel, text, (Section(detail), Context((hint,))))
