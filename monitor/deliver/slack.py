"""Slack: chat.postMessage with a bot token (WebClient) or an incoming webhook (WebhookClient).

Retries are slack_sdk's own handlers: rate limits honour Retry-After; failures to connect or
send, and 500/503 answers, are retried a few times with backoff. A timeout or a dropped
connection while awaiting the answer is *not* retried here: Slack may already have posted the
message, so it stays pending in the ledger for the next run (docs/delivery.md). What a
refusal means (retry later, fix the setup, or set the message aside) is slack_errors.py.
"""

from __future__ import annotations

import logging
import random
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient, WebhookClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import Jitter

from monitor.deliver.base import SendResult
from monitor.deliver.blocks import payload
from monitor.deliver.redact import add_token, add_webhook, protect
from monitor.deliver.slack_errors import classify
from monitor.errors import DeliveryError
from monitor.message import Message

# slack_sdk logs through this logger; the filter keeps the webhook URL and token out of it.
log = protect(logging.getLogger(__name__))


class _Jitter(Jitter):
    """Up to ``backoff`` seconds of random extra wait (slack_sdk's default adds up to 1 s)."""

    def __init__(self, backoff: float) -> None:
        self.backoff = backoff

    def recalculate(self, duration: float) -> float:
        return duration + random.random() * self.backoff


def retry_handlers(retries: int = 2, backoff: float = 0.5) -> list[RetryHandler]:
    interval = BackoffRetryIntervalCalculator(backoff_factor=backoff, jitter=_Jitter(backoff))
    return [
        RateLimitErrorRetryHandler(max_retry_count=retries),
        # Only URLError: raised when the request could not be sent, so Slack cannot have
        # posted it. A reset or timeout while awaiting the answer is left to the ledger.
        ConnectionErrorRetryHandler(
            max_retry_count=retries, interval_calculator=interval, error_types=[URLError]
        ),
        ServerErrorRetryHandler(max_retry_count=retries, interval_calculator=interval),
    ]


def _unreachable(exc: Exception, where: str) -> DeliveryError:
    reason = getattr(exc, "reason", None) or exc
    return DeliveryError(
        f"cannot reach {where}: {type(exc).__name__}: {reason}",
        hint="the message stays pending and is retried on the next run",
    )


class SlackWebDeliverer:
    """chat.postMessage through the Web API; gives a ts for every message."""

    name = "slack"

    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        timeout: int = 15,
        retries: int = 2,
        backoff: float = 0.5,
    ) -> None:
        kwargs: dict[str, Any] = {"base_url": base_url} if base_url else {}
        add_token(token)
        self.client = WebClient(
            token=token,
            timeout=timeout,
            retry_handlers=retry_handlers(retries, backoff),
            logger=log,
            **kwargs,
        )

    def send(self, message: Message) -> SendResult:
        try:
            response = self.client.chat_postMessage(**payload(message))
        except SlackApiError as exc:
            status = exc.response.status_code
            if status == 429 or status >= 500:  # retries exhausted: Slack is down or busy
                raise DeliveryError(f"Slack answered HTTP {status} (retried)") from None
            error = str(exc.response.get("error") or f"HTTP {status}")
            raise classify(error, "Slack", status=status) from None
        except (OSError, ValueError) as exc:  # URLError, timeouts, dropped connections
            raise _unreachable(exc, "Slack") from None
        ts = response.get("ts")
        return SendResult(ts=str(ts) if ts else None)


class SlackWebhookDeliverer:
    """An incoming webhook: posts to the channel the webhook was made for; no ts."""

    name = "webhook"

    def __init__(
        self, url: str, *, timeout: int = 15, retries: int = 2, backoff: float = 0.5
    ) -> None:
        self.shown_url = add_webhook(url)
        self.client = WebhookClient(
            url, timeout=timeout, retry_handlers=retry_handlers(retries, backoff), logger=log
        )

    def send(self, message: Message) -> SendResult:
        body = payload(message)
        body.pop("channel")  # a webhook is bound to one channel
        try:
            response = self.client.send(**body)
        except (OSError, ValueError) as exc:
            raise _unreachable(exc, "the Slack webhook") from None
        if response.status_code != 200 or response.body.strip() != "ok":
            error = response.body.strip()[:200] or f"HTTP {response.status_code}"
            if response.status_code == 429 or response.status_code >= 500:
                raise DeliveryError(f"the Slack webhook answered {error}")
            raise classify(error, "the Slack webhook", status=response.status_code, webhook=True)
        return SendResult(ts=None)
