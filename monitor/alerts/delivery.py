"""One HTTP POST of an alert, turned into a decision: sent, retry later, or give up.

Shared by the Slack and the generic-webhook senders so both have the same retry semantics:
2xx -> sent; 429 -> retry after Retry-After; 5xx, 408, timeouts, connection errors -> retry with
backoff; any other 4xx (Slack's invalid_payload, invalid_token, channel_not_found, no_service, ...)
-> failed, never retried. Error texts are one line and never contain the URL, any of its token-carrying
segments or the HMAC key: the whole body is redacted first, then shortened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import aiohttp

from monitor.alerts.escape import redact
from monitor.http_headers import parse_retry_after as parse_retry_after_header
from monitor.text import clean_text

Outcome = Literal["sent", "retry", "failed"]
DEFAULT_RETRY_AFTER_S = 30.0
MAX_BODY_READ = 4096


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one POST of an alert came to: sent, retry (when), or failed (why)."""

    outcome: Outcome
    error: str | None = None
    retry_after_s: float | None = None  # the server's own Retry-After (429), if it said one


def parse_retry_after(value: str | None, now: datetime | None = None) -> float:
    """Retry-After as seconds; 30 s when missing or unreadable.

    The sources' parser: delta-seconds or HTTP date, capped at a week.
    """
    secs = parse_retry_after_header(value, now)
    return DEFAULT_RETRY_AFTER_S if secs is None else secs


def classify(status: int, body: str, retry_after: str | None = None, now: datetime | None = None) -> SendResult:
    """Pure: an HTTP status and body -> what to do with the alert."""
    line = clean_text(body, 120) or "(empty body)"
    if 200 <= status < 300:
        return SendResult("sent")
    if status == 429:
        return SendResult("retry", f"HTTP 429 rate limited: {line}", parse_retry_after(retry_after, now))
    if status >= 500 or status == 408:
        return SendResult("retry", f"HTTP {status}: {line}")
    return SendResult("failed", f"HTTP {status}: {line}")


async def post(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    *,
    headers: dict[str, str],
    client_timeout: aiohttp.ClientTimeout,
    secrets: list[str],
) -> SendResult:
    """POST `body` to `url`; every exception becomes a SendResult whose text is redacted."""
    try:
        async with session.post(url, data=body, headers=headers, timeout=client_timeout, allow_redirects=False) as resp:
            raw = await resp.content.read(MAX_BODY_READ)
            text = redact(raw.decode("utf-8", errors="replace"), secrets)  # before classify() cuts it
            result = classify(resp.status, text, resp.headers.get("Retry-After"))
    except aiohttp.InvalidURL:
        return SendResult("failed", "the webhook URL is not a valid http(s) URL")
    except TimeoutError:
        total = client_timeout.total
        return SendResult("retry", f"timed out after {total:g} s" if total else "timed out")
    except (aiohttp.ClientError, OSError) as exc:
        return SendResult("retry", clean_text(redact(f"{type(exc).__name__}: {exc}", secrets), 200))
    if result.error:
        result = SendResult(result.outcome, clean_text(redact(result.error, secrets), 200), result.retry_after_s)
    return result
