"""Secrets never survive in an error text: redaction runs on the whole body before anything is cut.

The fake Slack answers 404 with bodies that echo the webhook URL, its path and the bare token at
the point where the old 120-character cut fell (up to 20 of 22 token characters used to survive);
the generic webhook's receiver echoes the HMAC key.
"""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest
from alerts_support import (
    SECRET_TOKEN,
    SLACK_PATH,
    Clock,
    Events,
    FakeSlack,
    make_dispatcher,
    make_settings,
    make_trend,
    make_verdict,
    trend_event,
)

from monitor.alerts.escape import redact
from monitor.storage import Storage

HMAC_KEY = "hmacKEYvalue0987654321"


def fragments(secret: str, size: int = 6) -> list[str]:
    """Every run of `size` characters of the secret: none may appear anywhere."""
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


def leaked(text: str, secret: str) -> list[str]:
    return [f for f in fragments(secret) if f in text]


@pytest.mark.parametrize("pad", [90, 100, 105, 110, 117])
def test_redact_then_cut_leaves_no_token_part(pad: int) -> None:
    url = "https://hooks.slack.example/services/T0000TEST/B0000TEST/" + SECRET_TOKEN
    from monitor.alerts.delivery import classify

    result = classify(404, redact("x" * pad + " " + url + " tail", [url]))
    assert result.error is not None and not leaked(result.error, SECRET_TOKEN)


async def test_echoed_url_path_and_bare_token_are_redacted_everywhere(
    slack_env: str,
    fake_slack: FakeSlack,
    storage: Storage,
    session: aiohttp.ClientSession,
    events: Events,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("ONDA_WEBHOOK_SECRET", HMAC_KEY)
    pad = "channel_not_found: " + "y" * 90  # the secret starts just before the old 120-character cut
    fake_slack.script = [
        ("status", 404, f"{pad} {slack_env}"),
        ("status", 404, f"{pad} {SLACK_PATH}"),
        ("status", 404, f"{pad}{SECRET_TOKEN}"),
        ("status", 500, f"{pad} {SECRET_TOKEN} again"),
        ("status", 400, f"bad signature with key {HMAC_KEY}"),
    ]
    settings = make_settings(webhook={"url": fake_slack.base_url + "/generic"}, alerts={"max_per_hour": 1000})
    d = make_dispatcher(settings, storage, session, events, clock, retry_base_s=1)
    for i in range(3):
        d.consider(trend_event(make_trend(f"t{i}", f"Storia {i}"), make_verdict(f"t{i}")))
    for _ in range(4):
        await d.flush()
        clock.advance(seconds=120)
    assert len(fake_slack.requests) >= 5
    rows = storage.outbox()
    everything = caplog.text + json.dumps([e.to_json() for e in events]) + repr(events)
    everything += json.dumps([[r.last_error, r.payload] for r in rows])
    assert not leaked(everything, SECRET_TOKEN), leaked(everything, SECRET_TOKEN)
    assert not leaked(everything, HMAC_KEY), leaked(everything, HMAC_KEY)
    assert "T0000TEST" not in everything and "B0000TEST" not in everything
    errors = [r.last_error or "" for r in rows]
    assert sum("<redacted>" in e for e in errors) >= 3, errors
