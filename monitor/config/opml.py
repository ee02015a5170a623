"""OPML (the subscription list every feed reader imports and exports) ⇄ feeds.yaml.

Reading: every ``<outline xmlUrl=…>`` is a feed; its ``title`` (else ``text``) the name; its
``category`` (comma-separated, ``/`` for levels) and the folders it sits in become tags.
Writing an import keeps the feeds file as the user wrote it, comments included: new entries
are appended as text to the ``feeds:`` list, never by re-dumping the YAML.
"""

from __future__ import annotations

import json
import re
import xml.parsers.expat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import quoteattr

from monitor.errors import ConfigError, Problem
from monitor.model import FeedSource

MAX_BYTES = 10_000_000  # an OPML of 10,000 feeds is ~2 MB
MAX_OUTLINES = 10_000
MAX_DEPTH = 50
_TAG_SPLIT = re.compile(r"[,/]")
_NOT_TAG = re.compile(r"[^a-z0-9_-]+")
_TOP_KEY = re.compile(r"^[^\s#-][^:]*:")
_FEEDS_KEY = re.compile(r"^feeds\s*:\s*(#.*)?$")
_ITEM = re.compile(r"^(\s*)-\s")


@dataclass(frozen=True)
class Outline:
    url: str
    title: str
    tags: tuple[str, ...] = ()
    line: int = 0


@dataclass
class _Reader:
    path: str
    folders: list[str | None] = field(default_factory=list)
    found: list[Outline] = field(default_factory=list)
    parser: xml.parsers.expat.XMLParserType | None = None
    problem: Problem | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name != "outline":
            return
        line = self.parser.CurrentLineNumber if self.parser else 0
        if len(self.folders) >= MAX_DEPTH or len(self.found) >= MAX_OUTLINES:
            limit = "folders nested deeper than 50" if self.folders else "more than 10,000 feeds"
            self.problem = Problem(self.path, line, f"OPML has {limit}", "split the file")
            raise _LimitReachedError
        url = (attrs.get("xmlUrl") or attrs.get("xmlurl") or "").strip()
        title = (attrs.get("title") or attrs.get("text") or "").strip()
        if url:
            tags = [t for f in self.folders if f for t in [_tag(f)] if t]
            tags += [t for c in _TAG_SPLIT.split(attrs.get("category", "")) if (t := _tag(c))]
            self.found.append(Outline(url, title, tuple(dict.fromkeys(tags)), line))
            self.folders.append(None)
        else:
            self.folders.append(title or None)

    def end(self, name: str) -> None:
        if name == "outline" and self.folders:
            self.folders.pop()


class _LimitReachedError(Exception):
    pass


def read_opml(path: Path) -> list[Outline]:
    """The feeds an OPML file lists; ConfigError with FILE:LINE when it is not readable OPML."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            [Problem(str(path), 0, f"cannot read the file: {exc.strerror}")]
        ) from None
    if len(data) > MAX_BYTES:
        raise ConfigError([Problem(str(path), 0, "the file is over 10 MB", "split the file")])
    if b"<!ENTITY" in data:
        # Entity declarations are how expansion bombs are built; no reader's export has them.
        line = data[: data.index(b"<!ENTITY")].count(b"\n") + 1
        raise ConfigError([Problem(str(path), line, "OPML with entity declarations is refused")])
    reader = _Reader(str(path))
    parser = xml.parsers.expat.ParserCreate()
    reader.parser = parser
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    try:
        parser.Parse(data, True)
    except _LimitReachedError:
        assert reader.problem is not None
        raise ConfigError([reader.problem]) from None
    except xml.parsers.expat.ExpatError as exc:
        message = xml.parsers.expat.ErrorString(exc.code)
        raise ConfigError(
            [
                Problem(
                    str(path), exc.lineno, f"not well-formed OPML: {message}", column=exc.offset + 1
                )
            ]
        ) from None
    return reader.found


def _tag(text: str) -> str:
    return _NOT_TAG.sub("-", text.strip().lower()).strip("-_")


def yaml_entries(outlines: list[Outline], ids: dict[str, str], indent: str) -> str:
    """Readable YAML list entries; ``ids`` gives an explicit id where the derived one clashes."""
    lines: list[str] = []
    for o in outlines:
        lines.append(f"{indent}- url: {_scalar(o.url)}")
        pad = indent + "  "
        if o.url in ids:
            lines.append(f"{pad}id: {ids[o.url]}")
        if o.title:
            lines.append(f"{pad}name: {_scalar(o.title)}")
        if o.tags:
            lines.append(f"{pad}tags: [{', '.join(o.tags)}]")
    return "\n".join(lines) + "\n"


def _scalar(text: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar: no quoting rules to get wrong.
    return json.dumps(" ".join(text.split()), ensure_ascii=False)


def append_entries(text: str, entries: str) -> str:
    """``text`` (a feeds file) with ``entries`` added at the end of its ``feeds:`` list."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    start = next((i for i, line in enumerate(lines) if _FEEDS_KEY.match(line)), None)
    if start is None:
        return "".join(lines) + "feeds:\n" + entries
    end = next((i for i in range(start + 1, len(lines)) if _TOP_KEY.match(lines[i])), len(lines))
    # Insert after the last non-blank line of the list, before blank lines and comments
    # that introduce the next top-level key.
    at = end
    while at > start + 1 and (not lines[at - 1].strip() or lines[at - 1].lstrip().startswith("#")):
        at -= 1
    return "".join(lines[:at]) + entries + "".join(lines[at:])


def list_indent(text: str) -> str:
    """The indentation the file's ``feeds:`` items use (two spaces when there are none)."""
    inside = False
    for line in text.splitlines():
        if _FEEDS_KEY.match(line):
            inside = True
        elif inside and (found := _ITEM.match(line)):
            return found.group(1)
        elif inside and _TOP_KEY.match(line):
            break
    return "  "


def to_opml(feeds: tuple[FeedSource, ...], *, now: datetime | None = None) -> str:
    """OPML 2.0 listing every feed (name, URL, tags as category)."""
    when = format_datetime((now or datetime.now(UTC)).astimezone(UTC), usegmt=True)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head>",
        "    <title>jkus-monitor feeds</title>",
        f"    <dateCreated>{when}</dateCreated>",
        "  </head>",
        "  <body>",
    ]
    for f in feeds:
        name = f.name or f.id
        attrs = (
            f'type="rss" text={quoteattr(name)} title={quoteattr(name)} xmlUrl={quoteattr(f.url)}'
        )
        if f.tags:
            attrs += f" category={quoteattr(','.join(f.tags))}"
        out.append(f"    <outline {attrs}/>")
    out += ["  </body>", "</opml>", ""]
    return "\n".join(out)
