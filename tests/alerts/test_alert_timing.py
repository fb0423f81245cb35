"""Policy inside the dispatcher: cool-down, max per hour, quiet hours, digest, pull-the-post urgency."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from alerts_support import (
    BRAND,
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
from monitor.events import TrendEvent
from monitor.storage import Storage


def story(i: int, title: str | None = None) -> TrendEvent:
    return trend_event(make_trend(f"t{i}", title or f"Storia numero {i}"), make_verdict(f"t{i}"))


def by_trend(storage: Storage) -> dict[str, tuple[str, object]]:
    return {r.trend_id: (r.status, r.next_attempt_at) for r in storage.outbox()}


async def test_off_brand_risky_and_flat_trends_do_not_alert(
    slack_env: str, storage: Storage, session: aiohttp.ClientSession, events: Events, clock: Clock
) -> None:
    d = make_dispatcher(make_settings(), storage, session, events, clock)
    assert d.consider(trend_event(verdict=make_verdict(verdict="off_brand", fit=-0.2))) == []
    assert d.consider(trend_event(verdict=make_verdict(verdict="risky", level="high"))) == []
    assert d.consider(trend_event(make_trend(momentum=0.0), is_new=False)) == []
    assert (
        d.consider(
            trend_event(verdict=make_verdict(fit=0.05)),
        )
        != []
    )  # fit >= 0 + 0 passes
    strict = make_dispatcher(make_settings(alerts={"min_fit": 0.3}), storage, session, events, clock)
    assert strict.consider(story(2)) != []  # 0.4 >= 0.3
    stricter = make_dispatcher(make_settings(alerts={"min_fit": 0.5}), storage, session, events, clock)
    assert stricter.consider(story(3)) == []
    off = make_dispatcher(make_settings(alerts={"enabled": False}), storage, session, events, clock)
    assert off.consider(story(4)) == []


async def test_brand_alert_threshold_raises_the_bar_above_the_fit_threshold(
    slack_env: str, storage: Storage, session: aiohttp.ClientSession, events: Events, clock: Clock
) -> None:
    d = make_dispatcher(make_settings(), storage, session, events, clock, fit_threshold=0.26)

    def fit(i: int, value: float) -> TrendEvent:
        return trend_event(make_trend(f"t{i}", f"Storia numero {i}"), make_verdict(f"t{i}", fit=value))

    assert d.consider(fit(1, 0.30)) != []  # alert_threshold 0: every fit verdict alerts
    d.set_brands([replace(BRAND, alert_threshold=0.1)])  # what a DNA save hands over
    assert d.consider(fit(2, 0.30)) == []  # 0.30 < 0.26 + 0.1
    assert d.consider(fit(3, 0.36)) != []  # the brand's bar reached
    other = replace(BRAND, name="Other", alert_threshold=0.0)
    d.set_brands([replace(BRAND, alert_threshold=0.1), other])
    both = TrendEvent(
        make_trend("t4", "Storia numero 4"),
        {BRAND.name: make_verdict("t4", fit=0.30), other.name: make_verdict("t4", fit=0.30)},
        "rss",
        True,
    )
    assert [r.brand for r in d.consider(both)] == ["Other"]  # each brand is judged against its own bar


def test_the_composed_service_gives_the_dispatcher_the_scorer_fit_threshold(tmp_path: Path) -> None:
    from monitor.compose import build_service
    from monitor.config import BrandSettings

    brand = tmp_path / "acme.toml"
    brand.write_text('[brand]\nname = "Acme"\ndna = ["caffè"]\nalert_threshold = 0.1\n', encoding="utf-8")
    settings = make_settings(brand=BrandSettings(files=[str(brand)]), scoring={"margin": 0.05})
    service = build_service(settings, offline=True, db=str(tmp_path / "onda.db"))
    try:
        assert isinstance(service.alerts, AlertDispatcher)
        assert service.alerts.fit_threshold == service.scorer.threshold
        assert service.alerts.fit_threshold == pytest.approx(service.scorer.calibration.threshold + 0.05)
    finally:
        service.storage.close()


async def test_cooldown_blocks_same_topic_under_new_cluster_id(
    slack_env: str, storage: Storage, session: aiohttp.ClientSession, events: Events, clock: Clock
) -> None:
    d = make_dispatcher(make_settings(alerts={"cooldown_min": 60}), storage, session, events, clock)
    assert len(d.consider(story(1, "Sinner vince gli Australian Open"))) == 1
    clock.advance(minutes=30)
    assert d.consider(story(2, "SINNER vince gli Australian Open!")) == []  # re-clustered, same story
    assert len(d.consider(story(3, "Nuovo caffè Lavazza"))) == 1  # other topic
    clock.advance(minutes=31)
    assert len(d.consider(story(4, "Sinner vince gli Australian Open"))) == 1  # cool-down over


async def test_max_per_hour_defers_not_drops(
    slack_env: str,
    fake_slack: FakeSlack,
    storage: Storage,
    session: aiohttp.ClientSession,
    events: Events,
    clock: Clock,
) -> None:
    d = make_dispatcher(make_settings(alerts={"max_per_hour": 2}), storage, session, events, clock)
    start = clock.now
    for i in range(4):
        d.consider(story(i))
        clock.advance(minutes=1)
    await d.flush()  # at start+4min: two go out
    rows = by_trend(storage)
    assert [rows[f"t{i}"][0] for i in range(4)] == ["sent", "sent", "pending", "pending"]
    assert rows["t2"][1] == clock.now + timedelta(hours=1)  # both were sent at this clock time
    assert len(fake_slack.requests) == 2
    clock.advance(minutes=30)
    await d.flush()
    assert len(fake_slack.requests) == 2
    clock.advance(minutes=31)
    await d.flush()
    assert [by_trend(storage)[f"t{i}"][0] for i in range(4)] == ["sent"] * 4
    assert start < clock.now


async def test_max_per_hour_survives_restart(
    slack_env: str, fake_slack: FakeSlack, db_path: str, session: aiohttp.ClientSession, events: Events, clock: Clock
) -> None:
    settings = make_settings(alerts={"max_per_hour": 1})
    s1 = Storage(db_path)
    d1 = make_dispatcher(settings, s1, session, events, clock)
    d1.consider(story(1))
    await d1.flush()
    s2 = Storage(db_path)
    d2 = make_dispatcher(settings, s2, session, events, clock)
    d2.consider(story(2))
    await d2.flush()
    assert len(fake_slack.requests) == 1  # the cap is read from the outbox, not from memory
    s1.close()
    s2.close()


async def test_quiet_hours_hold_opportunities_but_not_pull_the_post(
    slack_env: str,
    fake_slack: FakeSlack,
    storage: Storage,
    session: aiohttp.ClientSession,
    events: Events,
    clock: Clock,
) -> None:
    clock.now = clock.now.replace(hour=23, minute=15)
    d = make_dispatcher(make_settings(alerts={"quiet_hours": "22:00-07:00"}), storage, session, events, clock)
    d.consider(story(1))
    storage.set_mark("t2", "Lavazza", "used")
    d.consider(trend_event(make_trend("t2", "Used story"), make_verdict("t2", "risky", level="high", terms=("r",))))
    await d.flush()
    rows = {r.trend_id: r for r in storage.outbox()}
    assert rows["t2"].status == "sent" and rows["t2"].kind == "used_turned_risky"
    assert rows["t1"].status == "pending"
    assert rows["t1"].next_attempt_at == (clock.now + timedelta(days=1)).replace(hour=7, minute=0)
    assert rows["t1"].attempts == 0  # deferral is not a failed attempt
    clock.now = clock.now.replace(hour=6, minute=59) + timedelta(days=1)
    await d.flush()
    assert storage.outbox(status="pending")
    clock.advance(minutes=1)
    await d.flush()
    assert not storage.outbox(status="pending")
    assert len(fake_slack.requests) == 2


async def test_digest_sends_one_message_every_n_minutes(
    slack_env: str,
    fake_slack: FakeSlack,
    storage: Storage,
    session: aiohttp.ClientSession,
    events: Events,
    clock: Clock,
) -> None:
    d = make_dispatcher(make_settings(alerts={"digest_min": 30}), storage, session, events, clock)
    for i in range(3):
        d.consider(story(i))
    await d.flush()
    assert len(fake_slack.requests) == 1
    msg = fake_slack.requests[0].json
    assert "digest: 3 opportunities" in msg["blocks"][0]["text"]["text"]
    body = json.dumps(msg)
    assert all(f"Storia numero {i}" in body for i in range(3))
    assert {r.status for r in storage.outbox()} == {"sent"}
    clock.advance(minutes=10)
    d.consider(story(7))
    d.consider(story(8))
    await d.flush()
    assert len(fake_slack.requests) == 1  # next digest not due
    pending = storage.outbox(status="pending")
    assert {r.next_attempt_at for r in pending} == {clock.now + timedelta(minutes=20)}
    clock.advance(minutes=20)
    await d.flush()
    assert len(fake_slack.requests) == 2
    assert "digest: 2 opportunities" in fake_slack.requests[1].json["blocks"][0]["text"]["text"]
    sent = [e for e in events if e.to_json()["event"] == "alert_sent"]
    assert len(sent) == 5


async def test_used_turned_risky_is_sent_once_and_looks_different(
    slack_env: str,
    fake_slack: FakeSlack,
    storage: Storage,
    session: aiohttp.ClientSession,
    events: Events,
    clock: Clock,
) -> None:
    d = make_dispatcher(make_settings(), storage, session, events, clock)
    d.consider(story(1))
    await d.flush()
    storage.set_mark("t1", "Lavazza", "used")
    risky = make_verdict(
        "t1", "risky", fit=0.4, level="high", categories=("tragedy",), terms=("lutto",)
    )
    rows = d.consider(trend_event(make_trend("t1"), risky, is_new=False))
    assert [r.kind for r in rows] == ["used_turned_risky"]
    assert d.consider(trend_event(make_trend("t1"), risky, is_new=False)) == []  # never twice
    await d.flush()
    msg = fake_slack.requests[1].json
    assert msg["blocks"][0]["text"]["text"].startswith(":warning: PULL THE POST? Lavazza:")
    assert msg["text"].startswith("PULL THE POST?")
    body = json.dumps(msg, ensure_ascii=False)
    assert "'lutto' — tragedy: death (GARM: Death, Injury or Military Conflict)" in body and "RISKY" in body
    assert "do not ride (tragedy)" in body  # levels in words, not internal names
    # not marked used -> a risky verdict alone raises nothing
    assert d.consider(trend_event(make_trend("t5"), make_verdict("t5", "risky", level="high"))) == []
