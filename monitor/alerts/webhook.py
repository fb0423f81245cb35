"""Generic JSON webhook: POST the alert payload, optionally signed with HMAC-SHA256.

Receivers verify `X-Onda-Signature: sha256=<hex>` = HMAC-SHA256(key, raw request body), the key
being the value of the env var named by `settings.webhook.secret_env`. Delivery is at-least-once
(a crash between the 2xx and our bookkeeping resends), so the body carries `dedupe_key` for
receivers that must be idempotent. Same retry semantics as Slack (see delivery.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from typing import Any

import aiohttp

from monitor.alerts.delivery import SendResult, post
from monitor.config import Settings
from monitor.storage import OutboxRow

SIGNATURE_HEADER = "X-Onda-Signature"


def webhook_url(settings: Settings) -> str | None:
    url = settings.webhook.url.strip()
    return url or None


def webhook_secret(settings: Settings, environ: Mapping[str, str] | None = None) -> bytes | None:
    env = os.environ if environ is None else environ
    name = settings.webhook.secret_env.strip()
    value = env.get(name, "") if name else ""
    return value.encode("utf-8") if value else None


def sign(body: bytes, key: bytes) -> str:
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(body: bytes, key: bytes, header: str | None) -> bool:
    """Receiver side (and tests): constant-time check of the signature header."""
    return header is not None and hmac.compare_digest(sign(body, key), header)


def build_body(row: OutboxRow) -> dict[str, Any]:
    return {
        "event": "onda.alert",
        "alert_id": row.id,
        "dedupe_key": row.dedupe_key,
        "created_at": row.created_at.isoformat(),
        **row.payload,
    }


async def send(
    session: aiohttp.ClientSession,
    url: str,
    row: OutboxRow,
    *,
    key: bytes | None,
    client_timeout: aiohttp.ClientTimeout,
) -> SendResult:
    body = json.dumps(build_body(row), ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Onda-Alerts/0.1"}
    if key is not None:
        headers[SIGNATURE_HEADER] = sign(body, key)
    return await post(session, url, body, headers=headers, client_timeout=client_timeout, secrets=[url])
