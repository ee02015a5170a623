"""`/monitor …` text → a command, without I/O. The text is untrusted: it is capped in length,
split here, and a query in it only ever reaches the rule parser (never SQL or mrkdwn)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import timedelta

from monitor.durations import parse_duration

MAX_TEXT = 1000  # characters of slash-command text we read at all
MAX_MUTE = timedelta(days=90)
DEFAULT_MUTE = timedelta(days=7)
DEFAULT_SINCE = timedelta(days=7)  # /monitor rules counts matches over this window
NAMES = ("search", "explain", "rules", "status", "mute", "unmute", "help")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$")

HELP = """\
*/monitor* — the archive and the rules, from Slack (answers only you see):
• `/monitor search QUERY [--rule R] [--since 7d]` — the ten best archive hits, same language as the rules
• `/monitor explain ITEM_ID RULE` — why an item did or did not match a rule
• `/monitor rules` — each rule's matches in the last 7 days and its precision from your feedback
• `/monitor status` — feeds failing, muted, disabled
• `/monitor mute FEED [7d]` · `/monitor unmute FEED` — keep a feed out of digests for a while
• `/monitor help` — this list"""


class CommandError(ValueError):
    """The command text is not understood; the message says what to type instead."""


@dataclass(frozen=True)
class Command:
    name: str
    args: tuple[str, ...] = ()
    query: str = ""
    rules: tuple[str, ...] = ()
    since: timedelta | None = None
    duration: timedelta | None = None
    options: dict[str, str] = field(default_factory=dict)


def clean(text: str) -> str:
    """What the user typed: Slack sends &, < and > as entities and may curl quotes."""
    return html.unescape(text or "").translate(_QUOTES).strip()


def _tokens(text: str) -> list[tuple[int, int, str]]:
    """Whitespace-separated tokens outside double quotes, with their spans."""
    out, start, quoted = [], None, False
    for i, ch in enumerate(text + " "):
        if ch == '"':
            quoted = not quoted
        if ch.isspace() and not quoted:
            if start is not None:
                out.append((start, i, text[start:i]))
                start = None
        elif start is None:
            start = i
    return out


def _duration(text: str, what: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise CommandError(f"{what} {text!r}: {exc}") from None


def check_id(value: str, what: str) -> str:
    if not _ID.match(value):
        raise CommandError(f"{what} {value[:60]!r} is not a valid id (letters, digits, - _ . :)")
    return value


def parse(text: str) -> Command:
    """Raises CommandError with a sentence saying what to type."""
    if len(text or "") > MAX_TEXT:
        raise CommandError(f"that is {len(text)} characters; /monitor reads at most {MAX_TEXT}")
    text = clean(text)
    if not text:
        return Command("help")
    name, _, rest = text.partition(" ")
    name = name.lower()
    rest = rest.strip()
    if name not in NAMES:
        raise CommandError(f"unknown command {name[:40]!r}: try `/monitor help`")
    if name == "search":
        return _search(rest)
    words = rest.split()
    if name == "explain":
        if len(words) != 2:
            raise CommandError("write `/monitor explain ITEM_ID RULE`")
        return Command(name, (check_id(words[0], "item"), check_id(words[1], "rule")))
    if name in ("rules", "status", "help"):
        if words:
            raise CommandError(f"`/monitor {name}` takes nothing after it")
        return Command(name)
    if name == "unmute":
        if len(words) != 1:
            raise CommandError("write `/monitor unmute FEED`")
        return Command(name, (check_id(words[0], "feed"),))
    # mute FEED [7d]
    if len(words) not in (1, 2):
        raise CommandError("write `/monitor mute FEED [7d]`")
    duration = _duration(words[1], "duration") if len(words) == 2 else DEFAULT_MUTE
    if duration > MAX_MUTE:
        raise CommandError(f"a mute lasts at most {MAX_MUTE.days} days")
    return Command(name, (check_id(words[0], "feed"),), duration=duration)


def _search(rest: str) -> Command:
    rules: list[str] = []
    since: timedelta | None = None
    drop: list[tuple[int, int]] = []
    tokens = _tokens(rest)
    i = 0
    while i < len(tokens):
        start, end, word = tokens[i]
        if word in ("--rule", "--since"):
            if i + 1 >= len(tokens):
                raise CommandError(
                    f"{word} needs a value, e.g. {word} "
                    + ("japan-korea" if word == "--rule" else "7d")
                )
            value = tokens[i + 1][2]
            if word == "--rule":
                rules.append(check_id(value, "rule"))
            else:
                since = _duration(value, "--since")
            drop.append((start, tokens[i + 1][1]))
            i += 2
            continue
        if word.startswith("--"):
            raise CommandError(
                f"unknown option {word[:40]!r}: /monitor search takes --rule and --since"
            )
        i += 1
    query = rest
    for start, end in reversed(drop):
        query = query[:start] + " " + query[end:]
    query = " ".join(query.split()) if '"' not in query else query.strip()
    if not query:
        raise CommandError(
            "write `/monitor search QUERY`, e.g. `/monitor search gallium OR germanium`"
        )
    return Command("search", query=query, rules=tuple(rules), since=since)
