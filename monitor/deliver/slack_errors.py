"""What a Slack refusal means for the message: retry later, fix the setup, or set it aside.

Slack answers a failed chat.postMessage (or webhook post) with an error code. Three kinds
(monitor.errors.DeliveryError.kind):

- transient: Slack is busy or down; the same message will go through later.
- setup: the token, the webhook or the channel is wrong; no message can go through until
  someone fixes monitor.yaml or the environment, so messages wait (pending) meanwhile.
- rejected: anything else. Slack refuses *this* message (too long, malformed, an error code
  we have never seen): re-sending it cannot help and must not hold back the ones behind it,
  so it is set aside with its reason (docs/delivery.md).

Unknown codes count as rejected on purpose: a message re-sent forever blocks every later
digest, while a message set aside is visible in `monitor digest status` and can be retried.
"""

from __future__ import annotations

from monitor.errors import DeliveryError

# Codes Slack documents as temporary (https://docs.slack.dev/reference/methods/chat.postMessage).
TRANSIENT = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "message_limit_exceeded",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)

# The token or webhook is at fault: every message would fail the same way.
SETUP_EVERYWHERE = {
    "invalid_auth": "check SLACK_BOT_TOKEN (a bot token starts with xoxb-)",
    "not_authed": "set SLACK_BOT_TOKEN",
    "token_revoked": "the token was revoked: install the app again and update SLACK_BOT_TOKEN",
    "token_expired": "the token expired: install the app again and update SLACK_BOT_TOKEN",
    "account_inactive": "the token's app or user is deactivated: reinstall the Slack app",
    "missing_scope": "add the chat:write scope to the Slack app and reinstall it",
    "no_permission": "the app lacks permission to post: check its scopes and reinstall it",
    "ekm_access_denied": "your workspace administrators have suspended posting",
    "invalid_token": "check SLACK_WEBHOOK_URL: the webhook was removed or mistyped",
    "no_service": "check SLACK_WEBHOOK_URL: the webhook was removed or mistyped",
    "no_team": "check SLACK_WEBHOOK_URL",
    "no_service_id": "check SLACK_WEBHOOK_URL",
    "team_disabled": "the webhook's workspace is disabled",
    "action_prohibited": "a workspace administrator blocked this webhook",
    "unknown_method": "check SLACK_API_URL: it does not point at the Slack Web API",
}

# One channel is at fault: its messages wait, the other channels' go out.
SETUP_CHANNEL = {
    "channel_not_found": "check the channel in monitor.yaml and invite the bot: /invite @your-bot",
    "not_in_channel": "invite the bot to the channel: /invite @your-bot",
    "is_archived": "the channel is archived: pick another in monitor.yaml",
    "channel_is_archived": "the webhook's channel is archived: create a new webhook",
    "restricted_action": "the channel does not let the bot post: ask a workspace admin",
    "restricted_action_read_only_channel": "the channel is read-only: pick another",
    "restricted_action_thread_only_channel": "the channel only allows replies: pick another",
    "posting_to_general_channel_denied": "only admins may post in this channel: pick another",
}

RENDERING_BUG = "this is a bug in digest rendering; please report it"
_RENDERING = frozenset(
    {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "msg_blocks_too_long"}
    | {"invalid_payload", "no_text", "invalid_attachments", "too_many_attachments"}
)
SET_ASIDE = (
    "it is set aside: `monitor digest status` shows it, `monitor digest retry ID` resends it"
)


def classify(error: str, where: str, *, status: int = 200, webhook: bool = False) -> DeliveryError:
    """The DeliveryError for Slack's ``error`` code (or body) answered with HTTP ``status``."""
    message = f"{where} refused the message: {error}"
    if error in TRANSIENT or status == 429 or status >= 500 or status in (408, 425):
        return DeliveryError(message, kind="transient")
    hint = SETUP_EVERYWHERE.get(error)
    if hint:
        return DeliveryError(message, kind="setup", hint=hint, everywhere=True)
    hint = SETUP_CHANNEL.get(error)
    if hint:
        # A webhook is bound to one channel: when it is at fault, nothing can go out.
        return DeliveryError(message, kind="setup", hint=hint, everywhere=webhook)
    if status in (401, 403, 404, 410):
        return DeliveryError(
            message,
            kind="setup",
            everywhere=True,
            hint="check SLACK_WEBHOOK_URL"
            if webhook
            else "check SLACK_BOT_TOKEN and SLACK_API_URL",
        )
    reason = RENDERING_BUG + "; " + SET_ASIDE if error in _RENDERING else SET_ASIDE
    return DeliveryError(message, kind="rejected", hint=reason)
