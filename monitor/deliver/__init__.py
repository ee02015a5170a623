"""Destinations for rendered messages: Slack Web API, Slack webhook, or the terminal.

``deliverer_for`` picks one from the credentials found in the environment; the registry maps
a credentials kind to a factory, so adding a destination is one entry, not another branch.

Adding a destination: docs/architecture.md ("Adding a delivery destination").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from monitor.deliver.base import Deliverer, SendResult
from monitor.deliver.console import ConsoleDeliverer

if TYPE_CHECKING:
    from monitor.config.settings import SlackCredentials

__all__ = ["REGISTRY", "Deliverer", "SendResult", "deliverer_for"]

Factory = Callable[["SlackCredentials", int], Deliverer]


# slack_sdk is imported only when Slack is used: `monitor --help` stays quick.
def _web(c: SlackCredentials, timeout: int) -> Deliverer:
    from monitor.deliver.slack import SlackWebDeliverer

    return SlackWebDeliverer(c.token or "", base_url=c.api_url, timeout=timeout)


def _webhook(c: SlackCredentials, timeout: int) -> Deliverer:
    from monitor.deliver.slack import SlackWebhookDeliverer

    return SlackWebhookDeliverer(c.webhook_url or "", timeout=timeout)


REGISTRY: dict[str, Factory] = {"web": _web, "webhook": _webhook}


def deliverer_for(credentials: SlackCredentials | None, *, timeout: int = 15) -> Deliverer:
    """Slack when credentials are set, else the terminal (the out-of-the-box default)."""
    if credentials is None:
        return ConsoleDeliverer()
    return REGISTRY[credentials.kind](credentials, timeout)
