"""The terminal as a destination: the default when no Slack credentials are set.

``as_text`` turns a rendered message back into readable text (links as "title <url>",
entities unescaped); `monitor digest preview` shows the same.
"""

from __future__ import annotations

import html
import re

from rich.console import Console
from rich.markup import escape as rich_escape

from monitor.deliver.base import SendResult
from monitor.digest.message import Context, Divider, Header, Message, Section

_LINK = re.compile(r"<([^|<>]+)\|([^<>]*)>")


def mrkdwn_to_text(text: str) -> str:
    text = _LINK.sub(lambda m: f"{m.group(2)} <{html.unescape(m.group(1))}>", text)
    return html.unescape(text)


def as_text(message: Message) -> str:
    """Plain text of what the channel would show (bold markers kept as *…*)."""
    lines = [f"# to {message.channel}"]
    for block in message.blocks:
        if isinstance(block, Header):
            lines += [block.text, "=" * min(len(block.text), 78)]
        elif isinstance(block, Section):
            lines += [mrkdwn_to_text(block.text)]
        elif isinstance(block, Context):
            lines += ["  " + " | ".join(mrkdwn_to_text(t) for t in block.texts)]
        elif isinstance(block, Divider):
            lines.append("-" * 40)
    return "\n".join(lines)


class ConsoleDeliverer:
    name = "console"

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False, soft_wrap=True)

    def send(self, message: Message) -> SendResult:
        self.console.print(rich_escape(as_text(message)))
        self.console.print()
        return SendResult(ts=None)
