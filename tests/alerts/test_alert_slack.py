"""AlertDispatcher against a fake Slack on 127.0.0.1: delivery, retries, pacing, restart, injection, secrecy."""

from __future__ import annotations

import itertools
import json
import logging
import re
from datetime import UTC, timedelta
from typing import Any

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

from monitor.alerts import AlertDispatcher
from monitor.storage import Storage


def statuses(storage: Storage) -> dict[str, str]:
    return {r.trend_id: r.status for r in storage.outbox()}


async def test_ok_delivers_block_kit_and_marks_sent(
    slack_env: str,
    fake_slack: FakeSlack,
    storage: Storage,
    session: aiohttp.ClientSession,
    events: Events,
    clock: Clock,
) -> None:
    d = make_dispatcher(make_settings(), storage, session, events, clock)
    rows = d.consider(trend_event())
    assert [r.channel for r in rows] == ["slack"]
    assert storage.outbox()[0].status == "pending"  # written before any send
    assert events.kinds() == ["alert_queued"]
    await d.flush()
    assert len(fake_slack.requests) == 1
    req = fake_slack.requests[0]
    assert req.path == SLACK_PATH and req.headers["Content-Type"].startswith("application/json")
    msg = req.json
    assert msg["text"].startswith("Opportunity for Lavazza")
    header = msg["blocks"][0]
    assert header["type"] == "header" and "Sinner vince gli Australian Open" in header["text"]["text"]
    body = json.dumps(msg)
    assert "0.40" in body and "Early sponsor and ambassador partnership" in body
    assert "<https://www.ansa.it/sport/sinner.html|ansa.it>" in body
    assert "Sinner trionfa a Melbourne" in body and "google_trends, rss (2 sources)" in body
    assert "+5.0 mentions/h" in body
    assert all(len(b["text"]["text"]) <= 150 for b in msg["blocks"] if b["type"] == "header")
    row = storage.outbox()[0]
    assert row.status == "sent" and row.sent_at == clock.now and row.attempts == 1
    assert events.kinds() == ["alert_queued", "alert_sent"]
    await d.flush()  # nothing more due
    assert len(fake_slack.requests) == 1


async def test_same_event_twice_queues_once(
    slack_env: str,
    fake_slack: FakeSlack,
    storage: Storage,
    session: aiohttp.ClientSession,
    events: Events,
    clock: Clock,
) -> None:
    d = make_dispatcher(make_settings(), storage, session, events, clock)
    assert len(d.consider(trend_event())) == 1
    await d.flush()
    assert d.consider(trend_event(is_new=False)) == []
    await d.flush()
    assert len(fake_slack.requests) == 1


async def test_429_waits_for_retry_after_then_sends(
    slack_env: str,
    fake_slack: FakeSlack,
    storage: Storage,
    session: aiohttp.ClientSession,
    events: Events,
    clock: Clock,
) -> None:
    fake_slack.script = [("429", 7)]
    d = make_dispatcher(make_settings(), storage, session, events, clock)
    d.consider(trend_event())
    await d.flush()
    row = storage.outbox()[0]
    assert row.status == "pending" and row.attempts == 1 and "429" in (row.last_error or "")
    assert row.next_attempt_at == clock.now + timedelta(seconds=7)
    await d.flush()  # not due yet: no request
    assert len(fake_slack.requests) == 1
    clock.advance(seconds=8)
    await d.flush()
    assert [r.status for r in fake_slack.requests] == [429, 200]
    assert storage.outbox()[0].status == "sent"
    assert events.kinds() == ["alert_queued", "status", "status", "alert_sent"]
    notices = [e.to_json()["message"] for e in events if e.to_json()["event"] == "status"]
    assert notices[0].startswith("slack alerts delayed: HTTP 429") and "again" in notices[1]


async def test_5xx_backs_off_exponentially_then_sends(
    slack_env: str,
    fake_slack: FakeSlack,
    storage: Storage,
    session: aiohttp.ClientSession,
    events: Events,
    clock: Clock,
) -> None:
    fake_slack.script = [("status", 500, "rollup_error"), ("status", 503, "unavailable")]
    d = make_dispatcher(make_settings(), storage, session, events, clock, retry_base_s=10)
    d.consider(trend_event())
    await d.flush()
    row = storage.outbox()[0]
    assert row.next_attempt_at == clock.now + timedelta(seconds=10) and row.status == "pending"
    clock.advance(seconds=10)
    await d.flush()
    row = storage.outbox()[0]
    assert row.next_attempt_at == clock.now + timedelta(seconds=20) and row.attempts == 2
    assert "503" in (row.last_error or "")
    clock.advance(seconds=20)
    await d.flush()
    assert [r.status for r in fake_slack.requests] == [500, 503, 200]
    assert storage.outbox()[0].status == "sent"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "invalid_payload"),
        (403, "invalid_token"),
        (404, "channel_not_found"),
        (404, "no_service"),
        (410, "channel_is_archived"),
    ],
)
async def test_permanent_4xx_fails_once_and_is_never_retried(
    slack_env: str,
    fake_slack: FakeSlack,
    storage: Storage,
    session: aiohttp.ClientSession,
    events: Events,
    clock: Clock,
    status: int,
    code: str,
) -> None:
    fake_slack.script = [("status", status, code)]
    d = make_dispatcher(make_settings(), storage, session, events, clock)
    d.consider(trend_event())
    await d.flush()
    row = storage.outbox()[0]
    assert row.status == "failed" and row.last_error == f"HTTP {status}: {code}"
    failed = [e for e in events if e.to_json()["event"] == "alert_failed"]
    assert len(failed) == 1 and failed[0].to_json()["error"] == f"HTTP {status}: {code}"
    assert "\n" not in failed[0].to_json()["error"]
    clock.advance(days=2)
    await d.flush()
    assert len(fake_slack.requests) == 1


async def test_hanging_slack_times_out_and_retries_later(
    slack_env: str,
    fake_slack: FakeSlack,
    storage: Storage,
    session: aiohttp.ClientSession,
    events: Events,
    clock: Clock,
) -> None:
    fake_slack.script = [("hang", 1.5)]
    settings = make_settings(http={"total_timeout_s": 0.3, "connect_timeout_s": 0.3})
    d = make_dispatcher(settings, storage, session, events, clock, retry_base_s=5)
    d.consider(trend_event())
    await d.flush()
    row = storage.outbox()[0]
    assert row.status == "pending" and row.last_error == "timed out after 0.3 s"
    assert row.next_attempt_at == clock.now + timedelta(seconds=5)
    clock.advance(seconds=5)
    await d.flush()
    assert storage.outbox()[0].status == "sent"
    assert len(fake_slack.requests) == 2


async def test_one_message_per_second_per_webhook(
    slack_env: str,
    fake_slack: FakeSlack,
    storage: Storage,
    session: aiohttp.ClientSession,
    events: Events,
    clock: Clock,
) -> None:
    d = make_dispatcher(make_settings(), storage, session, events, clock, slack_pace_s=1.0)
    for i in range(3):
        d.consider(trend_event(make_trend(f"t{i}", f"Storia numero {i}"), make_verdict(f"t{i}")))
    await d.flush()
    times = [r.at for r in fake_slack.requests]
    assert len(times) == 3
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(g >= 0.95 for g in gaps), gaps
    assert set(statuses(storage).values()) == {"sent"}


async def test_outage_then_restart_delivers_each_alert_exactly_once(
    slack_env: str, fake_slack: FakeSlack, db_path: Any, events: Events, clock: Clock
) -> None:
    fake_slack.default = ("status", 503, "service unavailable")
    storage1 = Storage(db_path)
    async with aiohttp.ClientSession() as s1:
        d1 = make_dispatcher(make_settings(), storage1, s1, events, clock, retry_base_s=30)
        for i in range(3):
            d1.consider(trend_event(make_trend(f"t{i}", f"Storia {i}"), make_verdict(f"t{i}")))
        await d1.flush()
        clock.advance(seconds=31)
        await d1.flush()
    assert fake_slack.delivered == []
    assert set(statuses(storage1).values()) == {"pending"}
    # "kill": the process dies without close(); a new process opens the same file.
    del d1
    fake_slack.default = ("ok",)
    clock.advance(minutes=5)
    storage2 = Storage(db_path)
    async with aiohttp.ClientSession() as s2:
        d2 = make_dispatcher(make_settings(), storage2, s2, Events(), clock)
        for i in range(3):  # the restarted pipeline sees the same stories again
            assert (
                d2.consider(trend_event(make_trend(f"t{i}", f"Storia {i}"), make_verdict(f"t{i}"), is_new=False)) == []
            )
        await d2.flush()
        await d2.close()
    storage3 = Storage(db_path)
    async with aiohttp.ClientSession() as s3:
        d3 = make_dispatcher(make_settings(), storage3, s3, Events(), clock)
        clock.advance(hours=3)
        await d3.flush()
    titles = [r.json["blocks"][0]["text"]["text"] for r in fake_slack.delivered]
    assert sorted(titles) == [f":sparkles: Lavazza: Storia {i}" for i in range(3)]
    assert set(statuses(storage3).values()) == {"sent"}
    for s in (storage1, storage2, storage3):
        s.close()


HOSTILE_TITLE = (
    "<!channel> <!here> <!everyone> <@U123> <#C999|general> <!subteam^S1> <https://evil.example|click> "
    "@here @channel & *bold* `x`"
)
HOSTILE_HEADLINE = "<https://evil.example/phish|Your bank> says @everyone <!date^1|x>"
LINK_RE = re.compile(r"<([^<>]*)>")


def strings(obj: Any) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in strings(v)]
    return []


@pytest.mark.parametrize("kind", ["opportunity", "used_turned_risky"])
async def test_hostile_text_cannot_ping_or_mislink(
    slack_env: str,
    fake_slack: FakeSlack,
    storage: Storage,
    session: aiohttp.ClientSession,
    events: Events,
    clock: Clock,
    kind: str,
) -> None:
    trend = make_trend(
        "evil",
        HOSTILE_TITLE,
        context=[HOSTILE_HEADLINE, "normal & fine"],
        urls=["javascript:alert(1)", "https://ok.example/a|b>c<d", "https://good.example/x?a=1&b=2"],
        sources=["rss", "<!channel>"],
    )
    if kind == "opportunity":
        verdict = make_verdict("evil")
    else:
        storage.set_mark("evil", "Lavazza", "used")
        verdict = make_verdict("evil", "risky", level="high", terms=("<!here> tragedy: <@U1> @channel",))
    d = make_dispatcher(make_settings(), storage, session, events, clock)
    d.consider(trend_event(trend, verdict))
    await d.flush()
    assert len(fake_slack.requests) == 1
    msg = fake_slack.requests[0].json
    allowed = {"https://ok.example/a%7Cb%3Ec%3Cd", "https://good.example/x?a=1&amp;b=2"}
    for text in strings(msg):
        for inner in LINK_RE.findall(text):
            url, _, label = inner.partition("|")
            assert url in allowed, f"unexpected control sequence <{inner}> in {text!r}"
            assert "<" not in label and ">" not in label
        assert not re.search(r"@(here|channel|everyone)\b", text, re.IGNORECASE), text
        assert "<!" not in text and "<@" not in text and "<#" not in text
        assert "javascript:" not in text
        assert not re.search(r"&(?!amp;|lt;|gt;)", text), text  # every & is an entity
    for block in msg["blocks"]:
        for obj in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
                assert obj["verbatim"] is True
    header = msg["blocks"][0]["text"]["text"]
    assert "&lt;!channel&gt;" in header and len(header) <= 150
    if kind == "used_turned_risky":
        assert header.startswith(":warning: PULL THE POST?")
        assert "&lt;!here&gt; tragedy" in json.dumps(msg)


async def test_webhook_url_never_in_logs_events_or_outbox(
    slack_env: str,
    fake_slack: FakeSlack,
    storage: Storage,
    session: aiohttp.ClientSession,
    events: Events,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # Slack errors that echo the URL back, then a 400 that does too: the token must be redacted everywhere.
    fake_slack.script = [
        ("status", 500, f"upstream {slack_env} failed"),
        ("status", 400, f"invalid_payload {SLACK_PATH}"),
    ]
    d = make_dispatcher(make_settings(), storage, session, events, clock, retry_base_s=1)
    d.consider(trend_event())
    await d.flush()
    clock.advance(seconds=2)
    await d.flush()
    assert storage.outbox()[0].status == "failed"
    # a connection error to a closed port, with the token in the URL path
    with socket_closed_port() as port:
        url = f"http://127.0.0.1:{port}{SLACK_PATH}"
        settings = make_settings(slack={"brand_webhook_env": {"Lavazza": "DEAD_SLACK_URL"}})
        d2 = AlertDispatcher(
            settings, storage, session, [], events.append, clock, environ={"DEAD_SLACK_URL": url}, tz=UTC
        )
        d2.consider(trend_event(make_trend("t2", "Altra storia"), make_verdict("t2")))
        await d2.flush()
    everything = caplog.text + json.dumps([e.to_json() for e in events]) + repr(events)
    everything += json.dumps([[r.last_error, r.payload] for r in storage.outbox()])
    assert SECRET_TOKEN not in everything
    assert "T0000TEST/B0000TEST" not in everything
    assert any("<redacted>" in (r.last_error or "") for r in storage.outbox())


class socket_closed_port:
    """A loopback port with nothing listening (bound, then closed)."""

    def __enter__(self) -> int:
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
        s.close()
        return port

    def __exit__(self, *exc: object) -> None:
        return None


async def test_no_channel_configured_logs_and_marks_sent(
    storage: Storage, events: Events, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="monitor.alerts")
    d = make_dispatcher(make_settings(), storage, None, events, clock)
    rows = d.consider(trend_event())
    assert [(r.channel, r.status) for r in rows] == [("log", "sent")]
    assert events.kinds() == ["alert_queued", "alert_sent"]
    assert storage.outbox()[0].status == "sent"
    assert "Sinner vince" in caplog.text
    await d.flush()
    await d.close()


async def test_per_brand_routing(
    fake_slack: FakeSlack,
    storage: Storage,
    session: aiohttp.ClientSession,
    events: Events,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from brand_dna.dna import BrandDNA
    from monitor.events import TrendEvent

    monkeypatch.setenv("ONDA_SLACK__WEBHOOK_URL", fake_slack.base_url + "/services/GLOBAL")
    monkeypatch.setenv("ACME_SLACK_URL", fake_slack.base_url + "/services/ACME")
    settings = make_settings(slack={"brand_webhook_env": {"Acme": "ACME_SLACK_URL"}})
    brands = [BrandDNA(name="Lavazza", dna=("coffee",)), BrandDNA(name="Acme", dna=("anvils",))]
    d = AlertDispatcher(settings, storage, session, brands, events.append, clock, slack_pace_s=0, tz=UTC)
    t = make_trend()
    d.consider(TrendEvent(t, {"Lavazza": make_verdict(), "Acme": make_verdict()}, "rss", True))
    await d.flush()
    assert sorted(r.path for r in fake_slack.requests) == ["/services/ACME", "/services/GLOBAL"]


async def test_own_session_is_created_and_closed(
    slack_env: str, fake_slack: FakeSlack, storage: Storage, events: Events, clock: Clock
) -> None:
    d = make_dispatcher(make_settings(), storage, None, events, clock)
    d.consider(trend_event())
    await d.flush()
    assert fake_slack.delivered
    own = d._sender._own_session
    await d.close()
    assert own is not None and own.closed
    assert d.consider(trend_event(make_trend("t9", "Altro"), make_verdict("t9"))) == []


def test_bad_quiet_hours_is_a_config_error(storage: Storage) -> None:
    from monitor.config import ConfigError

    with pytest.raises(ConfigError, match=r"alerts\.quiet_hours"):
        AlertDispatcher(make_settings(alerts={"quiet_hours": "late"}), storage)
