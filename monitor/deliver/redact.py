"""Secrets never reach a log line.

slack_sdk redacts the bot token's Authorization header in its debug log, but it prints a
webhook's URL as it is, and the URL *is* the webhook's secret (anyone who has it can post).
Every Slack client gets our logger; this filter on it rewrites any record that contains a
registered secret, message and traceback alike, before a handler formats it.
"""

from __future__ import annotations

import logging
import threading
import traceback
from urllib.parse import urlsplit

REDACTED = "…(redacted)"


class SecretFilter(logging.Filter):
    """Replaces each registered secret by its harmless form in a record's text."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: dict[str, str] = {}

    def add(self, secret: str, shown: str) -> None:
        if len(secret) >= 8:  # a short string would redact ordinary words
            with self._lock:
                self._secrets[secret] = shown

    def redact(self, text: str) -> str:
        with self._lock:
            pairs = sorted(self._secrets.items(), key=lambda kv: -len(kv[0]))
        for secret, shown in pairs:
            text = text.replace(secret, shown)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        text = record.getMessage()
        safe = self.redact(text)
        if safe != text:
            record.msg, record.args = safe, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self.redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_text = record.exc_text.rstrip("\n")
        return True


SECRETS = SecretFilter()


def protect(logger: logging.Logger) -> logging.Logger:
    """``logger`` with the secret filter on (once)."""
    if SECRETS not in logger.filters:
        logger.addFilter(SECRETS)
    return logger


def add_webhook(url: str) -> str:
    """Register a webhook URL (and its path) as secret; returns the URL as it may be shown."""
    parts = urlsplit(url)
    # Slack's webhook paths are /services/T…/B…/secret: only "/services/" is not secret.
    shown_path = "/services/" + REDACTED if parts.path.startswith("/services/") else REDACTED
    shown = f"{parts.scheme}://{parts.netloc}{shown_path}" if parts.netloc else REDACTED
    SECRETS.add(url, shown)
    if parts.path and parts.path != "/":
        SECRETS.add(parts.path, shown_path)
    return shown


def add_token(token: str) -> None:
    SECRETS.add(token, token[:5] + REDACTED if token.startswith("xox") else REDACTED)
