"""Generic JSON webhook with HMAC-SHA256 signature, verified by a fake receiver on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from alerts_support import Clock, Events, FakeSlack, make_dispatcher, make_settings, trend_event

from monitor.alerts.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from monitor.storage import Storage

KEY = "s3cr3t-hmac-key"


def receiver_checker(key: bytes) -> Callable[[web.Request, bytes], tuple[int, str] | None]:
    def check(request: web.Request, body: bytes) -> tuple[int, str] | None:
        # the receiver's own check, written out: HMAC over "<timestamp>." + body
        stamp = request.headers.get(TIMESTAMP_HEADER, "")
        expected = "sha256=" + hmac.new(key, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        got = request.headers.get(SIGNATURE_HEADER, "")
        return None if hmac.compare_digest(expected, got) else (401, "bad signature")

    return check


async def test_signed_webhook_is_verified_by_receiver(
    fake_slack: FakeSlack,
    storage: Storage,
    session: aiohttp.ClientSession,
    events: Events,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ONDA_WEBHOOK_SECRET", KEY)
    fake_slack.checker = receiver_checker(KEY.encode())
    settings = make_settings(webhook={"url": fake_slack.base_url + "/hook"})
    d = make_dispatcher(settings, storage, session, events, clock)
    rows = d.consider(trend_event())
    assert [r.channel for r in rows] == ["webhook"]
    await d.flush()
    req = fake_slack.requests[0]
    assert req.status == 200 and req.path == "/hook"
    signature, stamp = req.headers[SIGNATURE_HEADER], req.headers[TIMESTAMP_HEADER]
    assert verify(req.body, KEY.encode(), signature, stamp)
    # a replay: the same captured request presented ten minutes later is refused, as is a moved timestamp
    assert not verify(req.body, KEY.encode(), signature, stamp, now=int(stamp) + 600)
    assert not verify(req.body, KEY.encode(), signature, str(int(stamp) + 1))
    body = req.json
    assert body["event"] == "onda.alert" and body["kind"] == "opportunity" and body["brand"] == "Lavazza"
    assert body["title"] == "Sinner vince gli Australian Open" and body["dedupe_key"] == rows[0].dedupe_key
    assert storage.outbox()[0].status == "sent"
    assert KEY not in str(events) and KEY not in req.body.decode()


async def test_wrong_key_is_rejected_and_not_retried(
    fake_slack: FakeSlack,
    storage: Storage,
    session: aiohttp.ClientSession,
    events: Events,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ONDA_WEBHOOK_SECRET", "another key")
    fake_slack.checker = receiver_checker(KEY.encode())
    d = make_dispatcher(make_settings(webhook={"url": fake_slack.base_url + "/hook"}), storage, session, events, clock)
    d.consider(trend_event())
    await d.flush()
    row = storage.outbox()[0]
    assert row.status == "failed" and row.last_error == "HTTP 401: bad signature"


async def test_unsigned_when_no_secret_and_same_retry_semantics(
    fake_slack: FakeSlack, storage: Storage, session: aiohttp.ClientSession, events: Events, clock: Clock
) -> None:
    fake_slack.script = [("429", 3), ("status", 502, "bad gateway")]
    d = make_dispatcher(
        make_settings(webhook={"url": fake_slack.base_url + "/hook"}), storage, session, events, clock, retry_base_s=10
    )
    d.consider(trend_event())
    await d.flush()
    assert storage.outbox()[0].next_attempt_at == clock.now + timedelta(seconds=3)
    clock.advance(seconds=3)
    await d.flush()
    assert storage.outbox()[0].next_attempt_at == clock.now + timedelta(seconds=20)  # 2nd failure: 2 * base
    clock.advance(seconds=20)
    await d.flush()
    assert [r.status for r in fake_slack.requests] == [429, 502, 200]
    assert SIGNATURE_HEADER not in fake_slack.requests[0].headers
    assert storage.outbox()[0].status == "sent"


async def test_slack_and_webhook_both_get_one_row_each(
    slack_env: str,
    fake_slack: FakeSlack,
    storage: Storage,
    session: aiohttp.ClientSession,
    events: Events,
    clock: Clock,
) -> None:
    d = make_dispatcher(make_settings(webhook={"url": fake_slack.base_url + "/hook"}), storage, session, events, clock)
    assert sorted(r.channel for r in d.consider(trend_event())) == ["slack", "webhook"]
    await d.flush()
    assert sorted(r.path.split("/")[1] for r in fake_slack.requests) == ["hook", "services"]
