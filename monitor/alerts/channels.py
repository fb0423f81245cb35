"""Where alerts go: the channels of a brand, the URL each one posts to, and the secrets to keep out of errors.

- `slack`   when a webhook URL is configured for the brand (per-brand env var or ONDA_SLACK__WEBHOOK_URL);
- `webhook` when `webhook.url` is set (in addition to Slack);
- `log`     when neither is configured: nothing leaves the machine.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass

from monitor.alerts import slack, webhook
from monitor.alerts.escape import redact
from monitor.alerts.preview import alert_secrets
from monitor.config import Settings
from monitor.text import clean_text

SLACK, WEBHOOK, LOG = "slack", "webhook", "log"


@dataclass(frozen=True, slots=True)
class Destination:
    """One URL alerts are POSTed to; `key` names it in memory (pacing, outages) without the URL itself."""

    channel: str
    url: str
    key: str


def _dest_key(channel: str, url: str) -> str:
    """In-memory key for pacing/blocking a destination without keeping the URL itself around as a key."""
    return f"{channel}:{hashlib.sha256(url.encode()).hexdigest()[:16]}"


class Channels:
    """The configured channels, read from the settings and the environment each time (no cached URLs)."""

    def __init__(self, settings: Settings, environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self._environ = environ

    @property
    def env(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    def for_brand(self, brand: str) -> list[str]:
        """The channels a new alert of `brand` is queued on (`log` alone when none is configured)."""
        channels = []
        if slack.webhook_for(self.settings, brand, self.env):
            channels.append(SLACK)
        if webhook.webhook_url(self.settings):
            channels.append(WEBHOOK)
        return channels or [LOG]

    def slack_url(self, brand: str) -> str | None:
        """The Slack webhook of `brand` (its own, else the global one), None when there is none."""
        return slack.webhook_for(self.settings, brand, self.env)

    def webhook_key(self) -> bytes | None:
        """The HMAC key that signs generic webhook requests, if one is set."""
        return webhook.webhook_secret(self.settings, self.env)

    def destination(self, channel: str, brand: str) -> Destination | str:
        """Where an alert of `brand` on `channel` is POSTed, or why it cannot be (no longer configured)."""
        if channel == SLACK:
            url = self.slack_url(brand)
            if url is None:
                return f"no Slack webhook configured for brand {brand!r}"
        else:
            url = webhook.webhook_url(self.settings)
            if url is None:
                return "the generic webhook is no longer configured"
        return Destination(channel, url, _dest_key(channel, url))

    def secrets(self) -> list[str]:
        """Everything to redact from error texts: every webhook URL and the HMAC key."""
        return alert_secrets(self.settings, self.env)

    def safe_error(self, text: str, limit: int = 200) -> str:
        """Redact first, then cut: a cut must never leave part of a token behind."""
        return clean_text(redact(text, self.secrets()), limit)
