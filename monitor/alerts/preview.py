"""What an alert says on its channel, for people to read (the TUI's alert preview), with no secret in it.

`preview_text(row, secrets)` is the message as it is (or would be) sent: the Slack text for Slack and
log-only rows (what Slack would show once a webhook is set), the JSON body for the generic webhook.
Every webhook URL (and its token segments) and the HMAC key are redacted, as in error texts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from monitor.alerts import slack, webhook
from monitor.alerts.escape import REDACTED, redact
from monitor.config import Settings
from monitor.models import OutboxRow

# Any Slack incoming-webhook URL, configured here or not: a token must never reach the screen.
_SLACK_HOOK = re.compile(r"https?://hooks\.slack(?:-gov)?\.com/\S+", re.IGNORECASE)


def alert_secrets(settings: Settings, environ: Mapping[str, str]) -> list[str]:
    """Everything to redact from texts about alerts: every webhook URL and the HMAC key."""
    url = webhook.webhook_url(settings)
    key = webhook.webhook_secret(settings, environ)
    return (
        slack.all_webhooks(settings, environ)
        + ([url] if url else [])
        + ([key.decode("utf-8", "replace")] if key else [])
    )


def _block_texts(block: Mapping[str, Any]) -> list[str]:
    texts: list[Mapping[str, Any]] = [block["text"]] if isinstance(block.get("text"), Mapping) else []
    texts += [f for f in block.get("fields") or [] if isinstance(f, Mapping)]
    texts += [e for e in block.get("elements") or [] if isinstance(e, Mapping)]
    return [str(t.get("text", "")) for t in texts]


def slack_text(payload: Mapping[str, Any]) -> str:
    """The Slack message of one alert as lines of (Slack-escaped) text: header, sections, fields, footer."""
    message = slack.build_message(payload)
    lines = [f"notification: {message['text']}"]
    for block in message["blocks"]:
        lines += _block_texts(block)
    return "\n".join(lines)


def preview_text(row: OutboxRow, secrets: list[str]) -> str:
    """The alert as its channel gets it, secrets redacted (see the module docstring)."""
    if row.channel == "webhook":
        body = json.dumps(webhook.build_body(row), ensure_ascii=False, indent=2, sort_keys=True)
    else:
        body = slack_text(row.payload)
    return _SLACK_HOOK.sub(REDACTED, redact(body, secrets))
