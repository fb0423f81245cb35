"""The service only says "there is work": the dispatcher coalesces those requests into non-overlapping flushes."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from alerts_support import Clock, Events, FakeSlack, make_dispatcher, make_settings, trend_event

from monitor.alerts import AlertDispatcher
from monitor.events import StatusEvent, StatusKind
from monitor.storage import Storage


class CountingFlush:
    """Stands in for AlertDispatcher.flush: slow, counted, and it notices overlapping runs."""

    def __init__(self, fail_first: bool = False) -> None:
        self.started = 0
        self.finished = 0
        self.running = 0
        self.overlapped = False
        self.fail_first = fail_first
        self.release = asyncio.Event()

    async def __call__(self) -> None:
        self.started += 1
        self.running += 1
        self.overlapped = self.overlapped or self.running > 1
        try:
            await self.release.wait()
            if self.fail_first and self.started == 1:
                raise RuntimeError("outbox exploded\nsecond line")
        finally:
            self.running -= 1
        self.finished += 1


def counted(d: AlertDispatcher, flush: CountingFlush) -> None:
    d.flush = flush  # type: ignore[method-assign]


async def test_requests_during_a_flush_make_exactly_one_more(
    storage: Storage, session: aiohttp.ClientSession, events: Events, clock: Clock
) -> None:
    d = make_dispatcher(make_settings(), storage, session, events, clock)
    flush = CountingFlush()
    counted(d, flush)
    d.request_flush()
    await asyncio.sleep(0)
    for _ in range(5):  # all while the first flush runs
        d.request_flush()
    flush.release.set()
    await d.drain()
    assert (flush.started, flush.finished) == (2, 2) and not flush.overlapped
    await d.drain()  # nothing running: drain flushes once more
    assert flush.finished == 3
    await d.close()


async def test_a_failing_flush_is_reported_and_the_next_request_tries_again(
    storage: Storage, session: aiohttp.ClientSession, events: Events, clock: Clock
) -> None:
    d = make_dispatcher(make_settings(), storage, session, events, clock)
    flush = CountingFlush(fail_first=True)
    flush.release.set()
    counted(d, flush)
    await d.drain()
    errors = [e for e in events if isinstance(e, StatusEvent) and e.kind == StatusKind.ERROR]
    assert [e.message for e in errors] == ["sending alerts failed: outbox exploded second line"]
    await d.drain()
    assert (flush.started, flush.finished) == (2, 1)
    await d.close()


async def test_close_cancels_a_running_flush_and_ignores_later_requests(
    storage: Storage, session: aiohttp.ClientSession, events: Events, clock: Clock
) -> None:
    d = make_dispatcher(make_settings(), storage, session, events, clock)
    flush = CountingFlush()
    counted(d, flush)
    d.request_flush()
    await asyncio.sleep(0)
    assert flush.running == 1
    await d.close()
    assert flush.running == 0 and flush.finished == 0
    d.request_flush()
    await d.drain()
    assert flush.started == 1


@pytest.mark.usefixtures("slack_env")
async def test_a_request_sends_what_was_queued(
    storage: Storage, session: aiohttp.ClientSession, events: Events, clock: Clock, fake_slack: FakeSlack
) -> None:
    d = make_dispatcher(make_settings(), storage, session, events, clock)
    assert d.consider(trend_event())
    d.request_flush()
    await d.drain()
    assert len(fake_slack.requests) == 1
    assert [r.status for r in storage.outbox()] == ["sent"]
    await d.close()
