"""What a Slack message will contain, as plain data: blocks, channel and fallback text.

The digest step is pure, so it cannot import slack_sdk; monitor/deliver/blocks.py turns these
into ``slack_sdk.models.blocks`` objects, which validate them, when a message is sent or
previewed. Messages are stored in the delivery ledger as JSON (to_json/from_json), so a
retry after a restart sends exactly what was first rendered.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


def json_len(text: str) -> int:
    """Characters ``text`` takes inside a JSON string, as Slack receives it."""
    return len(json.dumps(text, ensure_ascii=False)) - 2


# Slack's limits (https://docs.slack.dev/reference/block-kit/blocks)
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
# What we send, measured as sent: the fallback text plus the blocks' JSON. Slack refuses a
# message (msg_blocks_too_long) at about 13,000 characters of blocks; 12,000 leaves margin.
MAX_MESSAGE_CHARS = 12000


@dataclass(frozen=True)
class Header:
    text: str  # plain text


@dataclass(frozen=True)
class Section:
    text: str  # mrkdwn, already escaped


@dataclass(frozen=True)
class Context:
    texts: tuple[str, ...]  # mrkdwn elements, already escaped


@dataclass(frozen=True)
class Divider:
    pass


@dataclass(frozen=True)
class Button:
    text: str  # plain text
    action_id: str
    value: str


@dataclass(frozen=True)
class Actions:
    """A row of buttons (the feedback buttons under an item)."""

    block_id: str
    buttons: tuple[Button, ...]


Block = Header | Section | Context | Divider | Actions


def slack_dict(block: Block) -> dict[str, Any]:
    """The block as Slack receives it: what slack_sdk's ``to_dict()`` makes of it (a test in
    tests/test_digest_size.py keeps the two equal). Here so the pure step can measure it."""
    if isinstance(block, Header):
        return {"type": "header", "text": {"type": "plain_text", "text": block.text, "emoji": True}}
    if isinstance(block, Section):
        return {"type": "section", "text": _mrkdwn(block.text)}
    if isinstance(block, Context):
        return {"type": "context", "elements": [_mrkdwn(t) for t in block.texts]}
    if isinstance(block, Actions):
        return {
            "type": "actions",
            "block_id": block.block_id,
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": b.text, "emoji": True},
                    "action_id": b.action_id,
                    "value": b.value,
                }
                for b in block.buttons
            ],
        }
    return {"type": "divider"}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def block_size(block: Block) -> int:
    """Characters the block takes in the JSON sent (quotes and backslashes count twice)."""
    return len(json.dumps(slack_dict(block), ensure_ascii=False))


SEPARATOR = len(", ")  # json.dumps puts this between array items


def blocks_size(blocks: Sequence[Block]) -> int:
    """Characters of the ``blocks`` array as sent: ``[b1, b2, …]``."""
    return 2 + sum(block_size(b) for b in blocks) + SEPARATOR * max(len(blocks) - 1, 0)


@dataclass(frozen=True)
class Message:
    channel: str
    text: str  # plain fallback for notifications and clients without Block Kit
    blocks: tuple[Block, ...]
    # The (item id, rule id) pairs this message delivers; bookkeeping, not sent to Slack.
    claims: tuple[tuple[str, str], ...] = ()
    # "parent": a threaded digest's top message; "reply": goes in the thread of the parent
    # before it (the ledger links the two); "": a message of its own.
    thread: str = ""
    # Slack's ts of the parent, set just before a reply is sent; never stored.
    thread_ts: str | None = None

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "channel": self.channel,
            "text": self.text,
            "blocks": [_dump(b) for b in self.blocks],
        }
        if self.thread:
            data["thread"] = self.thread
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Message:
        data = json.loads(text)
        blocks = tuple(_load(b) for b in data["blocks"])
        return cls(data["channel"], data["text"], blocks, thread=data.get("thread", ""))

    def size(self) -> int:
        """Characters sent: the fallback text and the blocks' JSON."""
        return json_len(self.text) + blocks_size(self.blocks)

    def problems(self) -> list[str]:
        """Every Slack limit this message breaks (empty when it is postable)."""
        found = []
        if len(self.blocks) > MAX_BLOCKS:
            found.append(f"{len(self.blocks)} blocks > {MAX_BLOCKS}")
        total = self.size()
        if total > MAX_MESSAGE_CHARS:
            found.append(f"{total} characters (text and blocks as sent) > {MAX_MESSAGE_CHARS}")
        for i, b in enumerate(self.blocks):
            if isinstance(b, Header) and len(b.text) > MAX_HEADER_TEXT:
                found.append(f"block {i}: header of {len(b.text)} characters > {MAX_HEADER_TEXT}")
            if isinstance(b, Section) and len(b.text) > MAX_SECTION_TEXT:
                found.append(f"block {i}: section of {len(b.text)} characters > {MAX_SECTION_TEXT}")
            if isinstance(b, Context) and len(b.texts) > MAX_CONTEXT_ELEMENTS:
                found.append(f"block {i}: context of {len(b.texts)} elements")
            if isinstance(b, Context) and any(len(t) > MAX_SECTION_TEXT for t in b.texts):
                found.append(f"block {i}: context text over {MAX_SECTION_TEXT} characters")
        return found


def _dump(block: Block) -> dict[str, Any]:
    if isinstance(block, Header):
        return {"type": "header", "text": block.text}
    if isinstance(block, Section):
        return {"type": "section", "text": block.text}
    if isinstance(block, Context):
        return {"type": "context", "texts": list(block.texts)}
    if isinstance(block, Actions):
        return {
            "type": "actions",
            "block_id": block.block_id,
            "buttons": [[b.text, b.action_id, b.value] for b in block.buttons],
        }
    return {"type": "divider"}


def _load(data: dict[str, Any]) -> Block:
    kind = data["type"]
    if kind == "header":
        return Header(data["text"])
    if kind == "section":
        return Section(data["text"])
    if kind == "context":
        return Context(tuple(data["texts"]))
    if kind == "actions":
        return Actions(data["block_id"], tuple(Button(*b) for b in data["buttons"]))
    return Divider()
