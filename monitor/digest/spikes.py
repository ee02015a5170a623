"""Volume spikes: a rule matching far more in the last 24 hours than it usually does.

The baseline is the rule's daily counts over the 14 days before those 24 hours: the median
(what a day usually brings) and the median absolute deviation (how much days vary), both
robust to one busy day. A spike needs all three: at least ``minimum`` items (a quiet rule
does not spike on two), at least ``factor`` times the usual day (the usual day counted as
one when the median is 0), and more than the usual plus three spreads. An archive with less
than ``MIN_HISTORY_DAYS`` of history has no baseline yet, so a fresh archive, where
everything is new, never spikes.
"""

from __future__ import annotations

from collections.abc import Sequence

from monitor.digest.mrkdwn import escape, link, shorten
from monitor.message import Context, Header, Message, Section
from monitor.model import TopItem, Volume

TOP_SHOWN = 3


def spike_text(volume: Volume, name: str, top: Sequence[TopItem]) -> str:
    """'japan-korea: 14 items in 24 h, 3.1× usual · top: …' (plain text, for notifications)."""
    text = f"{name}: {volume.last_24h} items in 24 h, {volume.ratio:.1f}× usual"
    if top:
        text += " · top: " + " · ".join(shorten(t.title, 90) for t in top[:TOP_SHOWN])
    return text


def render_spike(volume: Volume, *, name: str, top: Sequence[TopItem], channel: str) -> Message:
    head = f"*{escape(name)}*: {volume.last_24h} items in 24 h, {volume.ratio:.1f}× usual"
    lines = [head]
    for t in top[:TOP_SHOWN]:
        lines.append("• " + (link(t.url, shorten(t.title, 200)) if t.url else escape(t.title)))
    usual = (
        f"usual day: {volume.usual:g} (median of the previous {len(volume.daily)} days,"
        f" spread {volume.spread:g})"
    )
    return Message(
        channel,
        escape(spike_text(volume, name, top)),
        (
            Header(shorten(f"Spike: {name}", 150)),
            Section("\n".join(lines)),
            Context((f"{usual} · `monitor search --rule {escape(volume.rule_id)} --since 24h`",)),
        ),
    )
