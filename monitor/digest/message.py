"""What a Slack message will contain, as plain data: blocks, channel and fallback text.

The digest step is pure, so it cannot import slack_sdk; monitor/deliver/blocks.py turns these
into ``slack_sdk.models.blocks`` objects, which validate them, when a message is sent or
previewed. Messages are stored in the delivery ledger as JSON (to_json/from_json), so a
retry after a restart sends exactly what was first rendered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Slack's limits (https://docs.slack.dev/reference/block-kit/blocks)
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
# Slack rejects large messages with msg_blocks_too_long around 13k characters in total.
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


Block = Header | Section | Context | Divider


def block_chars(block: Block) -> int:
    if isinstance(block, Header | Section):
        return len(block.text)
    if isinstance(block, Context):
        return sum(len(t) for t in block.texts)
    return 0


@dataclass(frozen=True)
class Message:
    channel: str
    text: str  # plain fallback for notifications and clients without Block Kit
    blocks: tuple[Block, ...]
    # The (item id, rule id) pairs this message delivers; bookkeeping, not sent to Slack.
    claims: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> str:
        return json.dumps(
            {"channel": self.channel, "text": self.text, "blocks": [_dump(b) for b in self.blocks]},
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> Message:
        data = json.loads(text)
        return cls(data["channel"], data["text"], tuple(_load(b) for b in data["blocks"]))

    def problems(self) -> list[str]:
        """Every Slack limit this message breaks (empty when it is postable)."""
        found = []
        if len(self.blocks) > MAX_BLOCKS:
            found.append(f"{len(self.blocks)} blocks > {MAX_BLOCKS}")
        total = sum(block_chars(b) for b in self.blocks)
        if total > MAX_MESSAGE_CHARS:
            found.append(f"{total} characters > {MAX_MESSAGE_CHARS}")
        for i, b in enumerate(self.blocks):
            if isinstance(b, Header) and len(b.text) > MAX_HEADER_TEXT:
                found.append(f"block {i}: header of {len(b.text)} characters > {MAX_HEADER_TEXT}")
            if isinstance(b, Section) and len(b.text) > MAX_SECTION_TEXT:
                found.append(f"block {i}: section of {len(b.text)} characters > {MAX_SECTION_TEXT}")
            if isinstance(b, Context) and len(b.texts) > MAX_CONTEXT_ELEMENTS:
                found.append(f"block {i}: context of {len(b.texts)} elements")
        return found


def _dump(block: Block) -> dict[str, Any]:
    if isinstance(block, Header):
        return {"type": "header", "text": block.text}
    if isinstance(block, Section):
        return {"type": "section", "text": block.text}
    if isinstance(block, Context):
        return {"type": "context", "texts": list(block.texts)}
    return {"type": "divider"}


def _load(data: dict[str, Any]) -> Block:
    kind = data["type"]
    if kind == "header":
        return Header(data["text"])
    if kind == "section":
        return Section(data["text"])
    if kind == "context":
        return Context(tuple(data["texts"]))
    return Divider()
