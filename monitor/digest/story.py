"""One story as blocks: the linked title with source, time and snippet, then why it matched.

Each piece of feed text has a budget (characters as sent, see mrkdwn.escape_fit), so a story
always fits one section of at most 3,000 characters, whatever its feed sent: an absurd title,
feed name or snippet is shortened with a visible "…", never refused by Slack.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo

from monitor.digest.mrkdwn import escape_fit, fit, highlight, link
from monitor.digest.relevance import coverage
from monitor.digest.select import Entry, RuleSection
from monitor.message import MAX_SECTION_TEXT, Context, Section, json_len
from monitor.model import Rule
from monitor.rules.why import in_words

TITLE_LIMIT = 300  # a longer feed title is shortened with a visible "…"; the link has it all
SNIPPET_LIMIT = 240
MAX_TERMS_SHOWN = 6
MAX_SOURCES_SHOWN = 5
MAX_RULES_SHOWN = 5
# Budgets in characters as sent. A section's worst case: title link 1,000 (URL) + 600,
# feed 120, other sources 5 × 60, snippet 900: under MAX_SECTION_TEXT with the separators.
FEED_BUDGET = 120
SOURCE_BUDGET = 60
SNIPPET_BUDGET = 900
RULE_BUDGET = 100
TERM_BUDGET = 60


def when(dt: datetime, tz: tzinfo, *, year: bool = False) -> str:
    local = dt.astimezone(tz)
    return f"{local.day} {local:%b}" + (f" {local.year}" if year else "") + f" {local:%H:%M}"


def period_text(start: datetime, end: datetime, tz: tzinfo) -> str:
    """ "21 Aug 08:00 – 22 Aug 2026 08:00 AEST"; both years when it spans more than one."""
    a, b = start.astimezone(tz), end.astimezone(tz)
    zone = b.tzname() or ""
    if a.date() == b.date():
        return f"{when(a, tz, year=True)}–{b:%H:%M} {zone}".strip()
    return f"{when(a, tz, year=a.year != b.year)} – {when(b, tz, year=True)} {zone}".strip()


def rule_name(rule_id: str, rules: Mapping[str, Rule]) -> str:
    rule = rules.get(rule_id)
    return rule.name if rule and rule.name else rule_id


def entry_section(entry: Entry, tz: tzinfo, year: int | None = None) -> Section:
    """The story's section; the item's year is shown when it is not ``year`` (the digest's)."""
    lead = entry.lead
    title = link(lead.url, lead.title or "(untitled)", limit=TITLE_LIMIT)
    published = when(lead.published, tz, year=year is not None and lead.published.year != year)
    source = f"{escape_fit(lead.feed_name, FEED_BUDGET)} · {published}"
    sources = entry.also_sources
    also = ""
    if sources:
        shown = ", ".join(escape_fit(s, SOURCE_BUDGET) for s in sources[:MAX_SOURCES_SHOWN])
        extra = len(sources) - MAX_SOURCES_SHOWN
        also = f" · also: {shown}" + (f" and {extra} more" if extra > 0 else "")
    snippet = ""
    if lead.summary:
        spans = [(h.start, h.end) for h in lead.hits if h.field == "summary"]
        snippet = fit(
            lambda n: highlight(lead.summary, spans, limit=n), SNIPPET_BUDGET, SNIPPET_LIMIT
        )
    # The budgets keep this within Slack's limit; dropping the extras is the last resort.
    for parts in ((source + also, snippet), (source + also, ""), (source, "")):
        text = "\n".join(p for p in (f"*{title}*", *parts) if p)
        if json_len(text) <= MAX_SECTION_TEXT:
            break
    return Section(text)


def why_context(entry: Entry, rules: Mapping[str, Rule]) -> Context:
    # What matched, in words: the list and the words found ("Japan (日韓)"), never a regex.
    terms = in_words(entry.lead.hits, entry.lead.title, entry.lead.summary or "")
    name = escape_fit(rule_name(entry.rule_id, rules), RULE_BUDGET)
    text = f"Why: {name} · score {entry.score:g}"
    if entry.relevance != entry.score:  # the parts that ranked it: outlet weight, coverage
        text += f" · ranked {entry.relevance:g}"
        parts = []
        if entry.lead.weight != 1.0:
            parts.append(f"feed ×{entry.lead.weight:g}")
        if len(entry.outlets) > 1:
            parts.append(f"{len(entry.outlets)} outlets ×{coverage(len(entry.outlets)):.2f}")
        if entry.lead.feedback != 1.0:
            parts.append(f"readers ×{entry.lead.feedback:g}")
        text += f" ({', '.join(parts)})" if parts else ""
    if terms:
        shown = ", ".join(escape_fit(t, TERM_BUDGET) for t in terms[:MAX_TERMS_SHOWN])
        text += f" · terms: {shown}" + (" …" if len(terms) > MAX_TERMS_SHOWN else "")
    if entry.also_rules:
        names = [escape_fit(rule_name(r, rules), RULE_BUDGET) for r in entry.also_rules]
        extra = len(names) - MAX_RULES_SHOWN
        text += " · also matched: " + ", ".join(names[:MAX_RULES_SHOWN])
        text += f" and {extra} more" if extra > 0 else ""
    return Context((text,))


def rule_heading(section: RuleSection, continued: bool = False) -> Section:
    shown, total = len(section.entries), len(section.entries) + len(section.more)
    count = f"{total} new" if shown == total else f"top {shown} of {total} new"
    suffix = " (continued)" if continued else ""
    name = escape_fit(section.rule.name or section.rule.id, 150)
    return Section(f"*{name}*{suffix} — {count}")
