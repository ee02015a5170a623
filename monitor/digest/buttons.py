"""The feedback buttons under every item of a digest or an alert, and how a click shows.

Each button's ``value`` is ``{"item": …, "rule": …}`` (JSON), which the Slack app checks
against the archive before storing anything. A click is shown in place by relabelling the
clicked button ("✓ relevant · @user"): the message keeps its number of blocks, so an update
can never break Slack's 50-block limit.
"""

from __future__ import annotations

import json
from copy import deepcopy
from typing import Any

from monitor.digest.mrkdwn import shorten
from monitor.message import Actions, Button

BUTTONS = (
    ("feedback:relevant", "Relevant"),
    ("feedback:not_relevant", "Not relevant"),
    ("feedback:mute_source", "Mute source"),
)
SHOWN = {
    "relevant": "✓ relevant",
    "not_relevant": "✗ not relevant",
    "mute_source": "🔇 source muted 7d",
}
MAX_BUTTON_TEXT = 75  # Slack's limit for a button's text


def value(item_id: str, rule_id: str) -> str:
    return json.dumps({"item": item_id, "rule": rule_id}, separators=(",", ":"))


def block_id(item_id: str, rule_id: str) -> str:
    # Unique within a message (an item appears once per rule); Slack caps block_id at 255.
    return f"fb:{item_id}:{rule_id}"[:255]


def feedback_row(item_id: str, rule_id: str) -> Actions:
    """The buttons under one item: Relevant, Not relevant, Mute source."""
    v = value(item_id, rule_id)
    return Actions(block_id(item_id, rule_id), tuple(Button(t, a, v) for a, t in BUTTONS))


def marked(
    blocks: list[dict[str, Any]], button_value: str, label: str, user: str
) -> list[dict[str, Any]] | None:
    """The message's blocks with the clicked button relabelled, the others of its row reset;
    None when no button row carries ``button_value`` (the message was edited since)."""
    out = deepcopy(blocks)
    found = False
    for block in out:
        if block.get("type") != "actions":
            continue
        elements = block.get("elements") or []
        if not any(e.get("value") == button_value for e in elements):
            continue
        found = True
        for element in elements:
            default = dict(BUTTONS).get(element.get("action_id", ""), "?")
            element.pop("style", None)
            element["text"] = {"type": "plain_text", "text": default, "emoji": True}
            if element.get("action_id") == f"feedback:{label}":
                shown = shorten(f"{SHOWN.get(label, label)} · @{user}", MAX_BUTTON_TEXT)
                element["text"]["text"] = shown
                element["style"] = "primary"
    return out if found else None
