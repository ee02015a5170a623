"""Digest, alert and ops messages as Block Kit-shaped data, split to respect Slack's limits.

A digest too big for one message continues in the next ("part 2/3"); nothing is cut. Each
story is a section (linked title, source and time, other sources, snippet with the matched
terms in bold) plus a one-line context saying why it matched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo

from monitor.digest.message import (
    MAX_BLOCKS,
    MAX_HEADER_TEXT,
    MAX_MESSAGE_CHARS,
    Block,
    Context,
    Divider,
    Header,
    Message,
    Section,
    block_chars,
)
from monitor.digest.mrkdwn import escape, highlight, link, shorten
from monitor.digest.select import Claim, Entry, RuleSection
from monitor.model import Rule

TITLE_LIMIT = 300  # a longer feed title is shortened with a visible "…"; the link has it all
SNIPPET_LIMIT = 240
MAX_TERMS_SHOWN = 6
MAX_SOURCES_SHOWN = 5


def when(dt: datetime, tz: tzinfo) -> str:
    return dt.astimezone(tz).strftime("%d %b %H:%M")


def period_text(start: datetime, end: datetime, tz: tzinfo) -> str:
    zone = end.astimezone(tz).tzname() or ""
    return f"{when(start, tz)} – {when(end, tz)} {zone}".strip()


def entry_section(entry: Entry, tz: tzinfo) -> Section:
    lead = entry.lead
    title = link(lead.url, shorten(lead.title, TITLE_LIMIT) or "(untitled)")
    source = f"{escape(lead.feed_name)} · {when(lead.published, tz)}"
    sources = entry.also_sources
    if sources:
        shown = ", ".join(escape(s) for s in sources[:MAX_SOURCES_SHOWN])
        extra = len(sources) - MAX_SOURCES_SHOWN
        source += f" · also carried by {shown}" + (f" and {extra} more" if extra > 0 else "")
    lines = [f"*{title}*", source]
    field_hits = [h for h in lead.hits if h.field == "summary"]
    if lead.summary:
        lines.append(
            highlight(lead.summary, [(h.start, h.end) for h in field_hits], limit=SNIPPET_LIMIT)
        )
    return Section("\n".join(line for line in lines if line))


def why_context(entry: Entry, rules: Mapping[str, Rule]) -> Context:
    terms: list[str] = []
    for hit in sorted(entry.lead.hits, key=lambda h: (h.field != "title", h.start)):
        if hit.term not in terms:
            terms.append(hit.term)
    text = f"Why: {escape(_rule_name(entry.rule_id, rules))} · score {entry.score:g}"
    if terms:
        shown = ", ".join(escape(shorten(t, 60)) for t in terms[:MAX_TERMS_SHOWN])
        text += f" · terms: {shown}" + (" …" if len(terms) > MAX_TERMS_SHOWN else "")
    if entry.also_rules:
        text += " · also matched: " + ", ".join(
            escape(_rule_name(r, rules)) for r in entry.also_rules
        )
    return Context((text,))


def _rule_name(rule_id: str, rules: Mapping[str, Rule]) -> str:
    rule = rules.get(rule_id)
    return rule.name if rule and rule.name else rule_id


def _entry_blocks(entry: Entry, tz: tzinfo, rules: Mapping[str, Rule]) -> list[Block]:
    return [entry_section(entry, tz), why_context(entry, rules)]


def _rule_heading(section: RuleSection, continued: bool = False) -> Section:
    shown, total = len(section.entries), len(section.entries) + len(section.more)
    count = f"{total} new" if shown == total else f"top {shown} of {total} new"
    suffix = " (continued)" if continued else ""
    return Section(f"*{escape(section.rule.name or section.rule.id)}*{suffix} — {count}")


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
) -> list[Message]:
    """Messages for one digest: one set per channel (rules may route elsewhere), in order."""
    period = period_text(start, end, tz)
    channels: dict[str, list[RuleSection]] = {}
    for s in sections:
        channels.setdefault(s.channel, []).append(s)
    if not channels:
        if not post_when_empty:
            return []
        header = Header(shorten(f"{name.capitalize()} digest · nothing new", MAX_HEADER_TEXT))
        body = Context((f"No new matches · {escape(period)}",))
        return [Message(channel, f"{name} digest: nothing new", (header, body))]
    messages = []
    # the digest's own channel first, then channels that rules route to, in rule order
    for target, mine in sorted(channels.items(), key=lambda kv: kv[0] != channel):
        messages += _pack(target, mine, name, period, tz, rules, search_hint)
    return messages


def _pack(
    channel: str,
    sections: Sequence[RuleSection],
    name: str,
    period: str,
    tz: tzinfo,
    rules: Mapping[str, Rule],
    search_hint: str,
) -> list[Message]:
    stories = sum(len(s.entries) + len(s.more) for s in sections)
    summary = f"{stories} {'story' if stories == 1 else 'stories'} · {len(sections)} rule{'s' if len(sections) != 1 else ''} · {escape(period)}"
    # Units are kept whole; a rule heading travels with its first story.
    units: list[tuple[RuleSection, list[Block], list[Claim]]] = []
    for s in sections:
        first = True
        for entry in s.entries:
            blocks = _entry_blocks(entry, tz, rules)
            if first:
                blocks = [Divider(), _rule_heading(s), *blocks]
                first = False
            units.append((s, blocks, list(entry.claims)))
        if s.more:
            hint = escape(search_hint.format(rule=s.rule.id))
            more = Context((f"…and {len(s.more)} more for this rule: `{hint}`",))
            units.append((s, [more], [c for e in s.more for c in e.claims]))
    reserve = 2  # header + summary context on every part
    pages: list[tuple[list[Block], list[Claim]]] = [([], [])]
    current_rule: RuleSection | None = None
    for rule_section, blocks, claims in units:
        page, page_claims = pages[-1]
        if page and _too_big(page + blocks, reserve):
            page, page_claims = [], []
            pages.append((page, page_claims))
            if rule_section is current_rule and not isinstance(blocks[0], Divider):
                blocks = [_rule_heading(rule_section, continued=True), *blocks]
        page.extend(blocks)
        page_claims.extend(claims)
        current_rule = rule_section
    messages = []
    for i, (page, page_claims) in enumerate(pages, start=1):
        part = f" ({i}/{len(pages)})" if len(pages) > 1 else ""
        header = Header(shorten(f"{name.capitalize()} digest{part} · {period}", MAX_HEADER_TEXT))
        text = f"{name} digest{part}: {stories} new {'story' if stories == 1 else 'stories'} for {', '.join(escape(s.rule.name or s.rule.id) for s in sections)}"
        page_blocks = (header, Context((summary,)), *page)
        messages.append(Message(channel, text, page_blocks, tuple(sorted(set(page_claims)))))
    return messages


def _too_big(blocks: list[Block], reserve: int) -> bool:
    chars = sum(block_chars(b) for b in blocks) + 400  # header and summary
    return len(blocks) + reserve > MAX_BLOCKS or chars > MAX_MESSAGE_CHARS


def render_alert(entry: Entry, *, channel: str, tz: tzinfo, rules: Mapping[str, Rule]) -> Message:
    name = _rule_name(entry.rule_id, rules)
    header = Header(shorten(f"Alert: {name}", MAX_HEADER_TEXT))
    text = f"Alert ({escape(name)}): {escape(shorten(entry.lead.title, TITLE_LIMIT))}"
    return Message(channel, text, (header, *_entry_blocks(entry, tz, rules)), entry.claims)


def render_feed_failing(
    *, channel: str, feed_name: str, since: datetime, error: str, failures: int, tz: tzinfo
) -> Message:
    text = f"Feed {escape(feed_name)} has been failing since {when(since, tz)} ({failures} failed polls)"
    detail = f"*{text}*\nLast error: {escape(shorten(error or 'unknown', 500))}"
    return Message(
        channel, text, (Section(detail), Context(("`monitor feeds status` shows every feed",)))
    )


def render_feed_recovered(*, channel: str, feed_name: str, since: datetime, tz: tzinfo) -> Message:
    text = f"Feed {escape(feed_name)} has recovered (it had been failing since {when(since, tz)})"
    return Message(channel, text, (Section(text),))
