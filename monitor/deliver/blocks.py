"""Rendered messages as Slack payloads, built and validated with slack_sdk.models.blocks.

The pure digest step produces plain data (monitor/message.py); here each block becomes
a slack_sdk block object, whose ``to_dict()`` checks Slack's limits (header ≤ 150 characters,
section text ≤ 3,000, …) before anything leaves the process.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from monitor import message as m
from monitor.deliver.slack_errors import RENDERING_BUG, SET_ASIDE
from monitor.errors import DeliveryError


def to_block(block: m.Block) -> Block:
    # verbatim: Slack must not turn bare words like #channel or URLs in feed text into links.
    if isinstance(block, m.Header):
        return HeaderBlock(text=PlainTextObject(text=block.text, emoji=True))
    if isinstance(block, m.Section):
        return SectionBlock(text=MarkdownTextObject(text=block.text, verbatim=True))
    if isinstance(block, m.Context):
        return ContextBlock(
            elements=[MarkdownTextObject(text=t, verbatim=True) for t in block.texts]
        )
    if isinstance(block, m.Actions):
        return ActionsBlock(
            block_id=block.block_id,
            elements=[
                ButtonElement(
                    text=PlainTextObject(text=b.text, emoji=True),
                    action_id=b.action_id,
                    value=b.value,
                )
                for b in block.buttons
            ],
        )
    return DividerBlock()


def blocks_json(message: m.Message) -> list[dict[str, Any]]:
    """The ``blocks`` array Slack receives; DeliveryError if a block breaks a limit."""
    problems = message.problems()
    if problems:
        raise DeliveryError(
            "message breaks Slack limits: " + "; ".join(problems),
            kind="rejected",
            hint=f"{RENDERING_BUG}; {SET_ASIDE}",
        )
    try:
        return [to_block(b).to_dict() for b in message.blocks]
    except SlackObjectFormationError as exc:
        raise DeliveryError(
            f"invalid Block Kit: {exc}", kind="rejected", hint=f"{RENDERING_BUG}; {SET_ASIDE}"
        ) from None


def payload(message: m.Message) -> dict[str, Any]:
    """The full chat.postMessage arguments: links never unfurl, names never become mentions."""
    body = {
        "channel": message.channel,
        "text": message.text,
        "blocks": blocks_json(message),
        "unfurl_links": False,
        "unfurl_media": False,
    }
    if message.thread_ts:  # a reply in a threaded digest
        body["thread_ts"] = message.thread_ts
    return body
