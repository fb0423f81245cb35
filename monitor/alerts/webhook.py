"""Generic JSON webhook: POST the alert payload, optionally signed with HMAC-SHA256.

Receivers verify `X-Onda-Signature: sha256=<hex>` = HMAC-SHA256(key, `<timestamp>.` + raw request body),
where `<timestamp>` is the `X-Onda-Timestamp` header (Unix seconds when the request was signed) and the
key is the value of the env var named by `settings.webhook.secret_env`. Because the timestamp is signed,
a receiver rejects a captured request replayed later (`verify(..., max_age_s=300)`). Delivery is
at-least-once (a crash between the 2xx and our bookkeeping resends, with a fresh timestamp), so the
body carries `dedupe_key` for receivers that must be idempotent. Same retry semantics as Slack
(see delivery.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp

from monitor.alerts.delivery import SendResult, post
from monitor.config import Settings
from monitor.models import OutboxRow

SIGNATURE_HEADER = "X-Onda-Signature"
TIMESTAMP_HEADER = "X-Onda-Timestamp"
MAX_AGE_S = 300.0


def webhook_url(settings: Settings) -> str | None:
    url = settings.webhook.url.strip()
    return url or None


def webhook_secret(settings: Settings, environ: Mapping[str, str] | None = None) -> bytes | None:
    env = os.environ if environ is None else environ
    name = settings.webhook.secret_env.strip()
    value = env.get(name, "") if name else ""
    return value.encode("utf-8") if value else None


def sign(body: bytes, key: bytes, timestamp: int) -> str:
    """`sha256=<hex>` of HMAC-SHA256(key, b"<timestamp>." + body)."""
    return "sha256=" + hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify(
    body: bytes,
    key: bytes,
    signature: str | None,
    timestamp: str | None,
    *,
    now: float | None = None,
    max_age_s: float = MAX_AGE_S,
) -> bool:
    """Receiver side (and tests): the signature matches (constant time) and the timestamp is recent."""
    if signature is None or timestamp is None:
        return False
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > max_age_s:
        return False
    return hmac.compare_digest(sign(body, key, ts), signature)


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
    secrets: Sequence[str] = (),
) -> SendResult:
    body = json.dumps(build_body(row), ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Onda-Alerts/0.1"}
    redact = [url, *secrets]
    if key is not None:
        timestamp = int(time.time())
        headers[TIMESTAMP_HEADER] = str(timestamp)
        headers[SIGNATURE_HEADER] = sign(body, key, timestamp)
        redact.append(key.decode("utf-8", "replace"))
    return await post(session, url, body, headers=headers, client_timeout=client_timeout, secrets=redact)
