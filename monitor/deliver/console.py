"""The terminal as a destination: the default when no Slack credentials are set.

A rendered message is Slack mrkdwn; on a terminal it is shown with rich instead: bold as
bold, ``<url|title>`` as the title (a hyperlink where the terminal supports them) followed
by the URL, entities unescaped, and the zero-width spaces that give Slack's bold a word edge
in CJK text removed. The text is built as rich ``Text`` objects, never parsed as rich markup,
so feed text such as ``[bold]`` or ``[link=…]`` is shown as it is. `monitor digest preview`
and `--dry-run` show the same.
"""

from __future__ import annotations

import re

from rich.console import Console, Group, RenderableType
from rich.rule import Rule
from rich.style import Style
from rich.text import Text

from monitor.deliver.base import SendResult
from monitor.message import Actions, Context, Divider, Header, Message, Section

# Our own mrkdwn: links <url|label>, *bold*, `code`, and zero-width spaces beside bold.
# Feed text cannot contain any of these (mrkdwn.escape replaces them), so they are ours.
_TOKEN = re.compile(r"<([^|<>]+)\|([^<>]*)>|(\*)|(`)|(\u200b)")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def unescape(text: str) -> str:
    """Undo mrkdwn.escape's entities (only those three: feed text was escaped once)."""
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


def mrkdwn_to_rich(text: str, base: str = "") -> Text:
    """Our mrkdwn as rich Text: bold, code, links with their URL shown after the title."""
    out = Text(style=base)
    bold = code = False

    def style(extra: Style | None = None) -> Style:
        s = Style(bold=bold or None) + (Style(color="cyan") if code else Style())
        return s + extra if extra else s

    pos = 0
    for found in _TOKEN.finditer(text):
        out.append(unescape(text[pos : found.start()]), style())
        pos = found.end()
        url, label, star, tick, _ = found.groups()
        if star:
            bold = not bold
        elif tick:
            code = not code
        elif url is not None:
            target = unescape(url)
            out.append(unescape(label) or target, style(Style(link=target)))
            out.append(f" {target}", Style(dim=True, bold=False, link=target))
    out.append(unescape(text[pos:]), style())
    return out


def renderables(message: Message) -> list[RenderableType]:
    """What the channel would show, for a terminal."""
    where = {"parent": " (a thread: its replies follow)", "reply": ", a reply in the thread"}
    heading = Text(f"# to {message.channel}{where.get(message.thread, '')}", style="dim")
    parts: list[RenderableType] = []
    for block in message.blocks:
        if isinstance(block, Header):
            parts.append(Text(block.text, style="bold underline"))
        elif isinstance(block, Section):
            parts.append(mrkdwn_to_rich(block.text))
        elif isinstance(block, Context):
            line = Text("  ", style="dim")
            for i, t in enumerate(block.texts):
                line.append_text(mrkdwn_to_rich(("  |  " if i else "") + t, "dim"))
            parts.append(line)
        elif isinstance(block, Divider):
            parts.append(Rule(style="dim", characters="─"))
        elif isinstance(block, Actions):
            parts.append(Text("  " + " ".join(f"[{b.text}]" for b in block.buttons), style="dim"))
    if message.thread == "reply":  # indented under its parent, as Slack shows a thread
        return [heading, *(_indented(p) for p in parts)]
    return [heading, *parts]


def _indented(part: RenderableType) -> RenderableType:
    # A prefix, not rich's Padding: Padding would crop long lines that soft wrap keeps.
    if isinstance(part, Text):
        return Text("\n").join(Text("    ") + line for line in part.split("\n"))
    return Text("    " + "─" * 40, style="dim")  # the divider


def as_text(message: Message, width: int = 100) -> str:
    """The message as plain terminal text, without styles (for logs and tests)."""
    console = Console(width=width, no_color=True, highlight=False, soft_wrap=True)
    with console.capture() as captured:
        console.print(Group(*renderables(message)))
    return captured.get()


def print_message(message: Message, console: Console | None = None) -> None:
    console = console or Console(highlight=False, soft_wrap=True)
    console.print(Group(*renderables(message)))
    console.print()


class ConsoleDeliverer:
    name = "console"

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False, soft_wrap=True)

    def send(self, message: Message) -> SendResult:
        print_message(message, self.console)
        return SendResult(ts=None)
