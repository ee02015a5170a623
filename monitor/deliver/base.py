"""What every destination offers: send one rendered message, or raise DeliveryError."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from monitor.message import Message


@dataclass(frozen=True)
class SendResult:
    ts: str | None  # Slack's message timestamp (the Web API gives one; webhooks and console don't)


class Deliverer(Protocol):
    name: str  # "slack", "webhook", "console": recorded in the ledger

    def send(self, message: Message) -> SendResult:
        """Post ``message``; return only once the destination confirmed it.

        Raises DeliveryError(retryable=…) otherwise.
        """
        ...
