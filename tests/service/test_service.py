"""MonitorService with a real AsyncIOScheduler, sub-second intervals, fake sources/scorer/alerts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from fakes import KeywordScorer, keyword_service, recorded, wait_for

from brand_dna.dna import BrandDNA, load_brand
from monitor.api import Connected
from monitor.compose import HttpConnections
from monitor.config import Settings
from monitor.events import SourceErrorEvent, SourceHealthEvent, StatusEvent, TrendEvent
from monitor.models import SourceItem
from monitor.runner import backoff_delay
from monitor.sources.base import NotModified, PollContext, SourceError
from monitor.sources.http import HttpFetcher
from monitor.storage import OutboxRow, Storage


class FakeAlerts:
    """An AlertSink that records: each flush request runs one flush (no coalescing), close cancels them."""

    def __init__(self) -> None:
        self.considered: list[TrendEvent] = []
        self.flushes = 0
        self.flushed_after: list[int] = []
        self.closed = False
        self._flushing: set[asyncio.Task[None]] = set()

    def attach(self, *, session: object = None, emit: object = None) -> None:
        pass

    def set_brands(self, brands: Sequence[BrandDNA]) -> None:
        pass

    def consider(self, event: TrendEvent) -> list[OutboxRow]:
        self.considered.append(event)
        return []

    def request_flush(self) -> None:
        task = asyncio.get_running_loop().create_task(self.flush())
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def drain(self) -> None:
        self.request_flush()
        await asyncio.gather(*self._flushing)

    async def flush(self) -> None:
        await asyncio.sleep(0.01)
        self.flushes += 1
        self.flushed_after.append(len(self.considered))

    async def close(self) -> None:
        self.closed = True
        for task in self._flushing:
            task.cancel()
        await asyncio.gather(*self._flushing, return_exceptions=True)


class OkSource:
    def __init__(self, name: str = "ok", interval_s: float = 0.1, titles: Sequence[str] = ("caffè espresso day",)):
        self.name = name
        self.interval_s = interval_s
        self.titles = list(titles)
        self.polls = 0

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        self.polls += 1
        assert ctx.fetcher is not None
        if self.polls > 1:
            raise NotModified()
        return [SourceItem(source=self.name, title=t, item_id=t) for t in self.titles]


class FailingSource:
    def __init__(self, name: str = "bad", interval_s: float = 0.1, retry_after: float | None = None):
        self.name = name
        self.interval_s = interval_s
        self.retry_after = retry_after
        self.polls = 0
        self.fail = True

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        self.polls += 1
        if self.fail:
            raise SourceError("HTTP 503 from bad.example", retry_after=self.retry_after)
        return [SourceItem(source=self.name, title="back online", item_id="b")]


class SlowSource:
    def __init__(self, name: str = "slow", interval_s: float = 0.1, delay: float = 0.3):
        self.name = name
        self.interval_s = interval_s
        self.delay = delay
        self.polls = 0
        self.finished = 0

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        self.polls += 1
        await asyncio.sleep(self.delay)
        self.finished += 1
        return [SourceItem(source=self.name, title=f"slow story number {self.polls}", item_id=str(self.polls))]


class CrashingSource(OkSource):
    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        self.polls += 1
        raise ValueError("bug in adapter")


class DebunkFeed:
    """A RiskEvidenceSource: yields no trends; `last_new` says how many new debunks its last poll found."""

    name = "factchecks"
    interval_s = 60.0
    refreshes_risk = True

    def __init__(self) -> None:
        self.next_new = 0
        self.last_new = 0

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        self.last_new, self.next_new = self.next_new, 0
        return []


class GivenConnections:
    """Connections with fixed sources and evidence sources, over a real aiohttp session."""

    def __init__(self, sources: list[Any], evidence: list[Any]) -> None:
        self.sources, self.evidence = sources, evidence
        self.session: aiohttp.ClientSession | None = None

    async def open(self) -> Connected:
        self.session = aiohttp.ClientSession()
        fetcher = HttpFetcher(self.session)
        return Connected(sources=[*self.sources, *self.evidence], fetcher=fetcher, session=self.session)

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings()
    s.storage.path = str(tmp_path / "onda.db")
    s.sources.jitter = 0.0
    s.http.max_backoff_s = 5.0
    return s


@pytest.fixture
def storage(store_target: str) -> Iterator[Storage]:
    """The service's store, once per backend: its source leases, trends and verdicts on SQLite and PostgreSQL."""
    with Storage(store_target) as store:
        yield store


def make_service(settings, storage, brand, analyser, sources, alerts=None, scorer=None):
    scorer = scorer or KeywordScorer([brand])
    connections = HttpConnections(settings, storage, sources=sources)
    svc = keyword_service(settings, storage, scorer, analyser, connections, alerts=alerts, flush_interval_s=0.2)
    return svc, recorded(svc), scorer


def other_tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def test_failing_source_does_not_stop_the_others(settings, storage, brand, analyser) -> None:
    ok, bad, slow = OkSource(), FailingSource(), SlowSource(delay=0.05)
    crash = CrashingSource(name="crash")
    alerts = FakeAlerts()
    svc, events, scorer = make_service(settings, storage, brand, analyser, [ok, bad, slow, crash], alerts)
    await svc.start()
    try:
        await wait_for(lambda: ok.polls >= 3 and slow.finished >= 3 and bad.polls >= 2 and crash.polls >= 2)
        await wait_for(lambda: any(isinstance(e, TrendEvent) and e.source == "ok" for e in events))
    finally:
        await svc.stop()
    assert scorer.loaded
    kinds = [e.kind for e in events if isinstance(e, StatusEvent)]
    assert kinds[0] == "model_loading" and "model_ready" in kinds and kinds[-1] == "stopped"
    errors = [e for e in events if isinstance(e, SourceErrorEvent)]
    assert {e.source for e in errors} == {"bad", "crash"}
    assert [e.consecutive_failures for e in errors if e.source == "bad"][:2] == [1, 2]
    assert any("ValueError: bug in adapter" in e.error for e in errors)
    # Health: stored, evented, and the NotModified source counts as healthy.
    health = {h.name: h for h in svc.health()}
    assert health["ok"].ok and health["ok"].last_success is not None and health["ok"].items_last == 0
    assert not health["bad"].ok and health["bad"].last_error == "HTTP 503 from bad.example"
    assert storage.get_health("bad") == health["bad"]
    assert any(isinstance(e, SourceHealthEvent) and e.health.name == "slow" for e in events)
    trend_events = [e for e in events if isinstance(e, TrendEvent)]
    fit = next(e for e in trend_events if e.source == "ok")
    assert fit.is_new and fit.verdicts["Acme"].verdict == "fit"
    assert storage.get_verdict(fit.trend.id, "Acme") is not None
    assert alerts.considered and alerts.flushes >= 1 and alerts.closed
    assert svc.recent("Acme")[0][1].breakdown == () and len(svc.recent("Acme")) == len(
        {e.trend.id for e in trend_events}
    )


async def test_backoff_grows_and_retry_after_moves_next_run(settings, storage, brand, analyser) -> None:
    bad = FailingSource(interval_s=0.1)
    polite = FailingSource(name="polite", interval_s=0.1, retry_after=30)
    svc, events, _ = make_service(settings, storage, brand, analyser, [bad, polite])
    await svc.start()
    try:
        await wait_for(lambda: bad.polls >= 3)
        await asyncio.sleep(0.3)
        assert polite.polls == 1  # Retry-After: 30 s, so no second try yet
        h = {x.name: x for x in svc.health()}["polite"]
        assert h.next_run is not None
        assert h.next_run - datetime.now(UTC) > timedelta(seconds=28)
        next_run = svc.next_run("polite")  # the scheduler's job moved with the health
        assert next_run is not None and abs((next_run - h.next_run).total_seconds()) < 0.01
        retry_ats = [e.retry_at for e in events if isinstance(e, SourceErrorEvent) and e.source == "bad"]
        assert len(retry_ats) >= 3
        # Recovery resets the failure count (logged once, not per poll).
        bad.fail = False
        await wait_for(lambda: {x.name: x for x in svc.health()}["bad"].ok, within=6)
    finally:
        await svc.stop()


def test_backoff_policy() -> None:
    assert backoff_delay(1, 60, 3600, jitter=0.0) == 60
    assert backoff_delay(3, 60, 3600, jitter=0.0) == 240
    assert backoff_delay(10, 60, 3600, jitter=0.0) == 3600
    assert backoff_delay(1, 60, 3600, retry_after=900, jitter=0.0) == 900
    assert backoff_delay(1, 60, 3600, retry_after=10**9, jitter=0.0) == 24 * 3600
    spread = {backoff_delay(2, 100, 3600, jitter=0.1) for _ in range(50)}
    assert all(180 <= d <= 220 for d in spread) and len(spread) > 1


async def test_log_once_on_failure_and_once_on_recovery(settings, storage, brand, analyser, caplog) -> None:
    bad = FailingSource(interval_s=0.05)
    settings.http.max_backoff_s = 0.1
    svc, _, _ = make_service(settings, storage, brand, analyser, [bad])
    caplog.set_level(logging.INFO, logger="monitor.runner")
    await svc.start()
    try:
        await wait_for(lambda: bad.polls >= 4)
        bad.fail = False
        await wait_for(lambda: svc.health()[0].ok)
    finally:
        await svc.stop()
    msgs = [r.getMessage() for r in caplog.records if r.name == "monitor.runner"]
    assert sum("source bad failed" in m for m in msgs) == 1
    assert sum("source bad recovered" in m for m in msgs) == 1


async def test_run_once_returns_after_everything_finished(settings, storage, brand, analyser) -> None:
    ok = OkSource(interval_s=60, titles=("caffè sospeso day", "nuovo treno regionale"))
    slow = SlowSource(interval_s=60, delay=0.3)
    bad = FailingSource(interval_s=60)
    alerts = FakeAlerts()
    svc, events, _ = make_service(settings, storage, brand, analyser, [ok, slow, bad], alerts)
    await svc.start()
    try:
        await svc.run_once()
        # Everything is done when run_once returns: polls, clustering, scoring, storage, alerts.
        assert (ok.polls, slow.finished, bad.polls) == (1, 1, 1)
        trend_events = [e for e in events if isinstance(e, TrendEvent)]
        assert {e.trend.title for e in trend_events} == {
            "caffè sospeso day",
            "nuovo treno regionale",
            "slow story number 1",
        }
        assert len(alerts.considered) == 3
        assert alerts.flushed_after and alerts.flushed_after[-1] == 3
        assert len(storage.recent_trends()) == 3
        await asyncio.sleep(0.2)
        assert ok.polls == 1  # the scheduled jobs were re-armed an interval ahead, not run again
        h = {x.name: x for x in svc.health()}
        assert h["ok"].next_run is not None and h["ok"].next_run > datetime.now(UTC) + timedelta(seconds=55)
        assert storage.get_health("ok") == h["ok"]
    finally:
        await svc.stop()


async def test_stop_leaves_no_pending_tasks(settings, storage, brand, analyser) -> None:
    before = other_tasks()
    slow = SlowSource(delay=5.0)
    alerts = FakeAlerts()
    svc, events, _ = make_service(settings, storage, brand, analyser, [slow, OkSource()], alerts)
    await svc.start()
    await wait_for(lambda: slow.polls >= 1)
    await svc.stop()
    await asyncio.sleep(0)
    assert other_tasks() - before == set()
    assert slow.finished == 0 and alerts.closed
    assert isinstance(events[-1], StatusEvent) and events[-1].kind == "stopped"


async def test_scoring_error_is_reported_and_polling_goes_on(settings, storage, brand, analyser) -> None:
    src = SlowSource(delay=0.0, interval_s=0.1)
    svc, events, scorer = make_service(settings, storage, brand, analyser, [src])
    scorer.fail = True
    await svc.start()
    try:
        await wait_for(lambda: any(isinstance(e, StatusEvent) and e.kind == "error" for e in events))
        scorer.fail = False
        await wait_for(lambda: any(isinstance(e, TrendEvent) for e in events))
    finally:
        await svc.stop()
    err = next(e for e in events if isinstance(e, StatusEvent) and e.kind == "error")
    assert "scorer exploded" in err.message


async def test_poll_now_and_unknown_source(settings, storage, brand, analyser) -> None:
    ok = OkSource(interval_s=60)
    svc, _, _ = make_service(settings, storage, brand, analyser, [ok])
    with pytest.raises(RuntimeError):
        await svc.poll_now("ok")  # not started
    await svc.start()
    try:
        await wait_for(lambda: ok.polls == 1)
        await svc.poll_now("ok")
        assert ok.polls == 2
        with pytest.raises(KeyError):
            await svc.poll_now("nope")
        assert svc.source_names() == ["ok"]
    finally:
        await svc.stop()


async def test_update_brand_returns_rescore_diff(settings, storage, brand, analyser) -> None:
    ok = OkSource(interval_s=60, titles=("caffè sospeso day", "Sinner vince le ATP Finals", "nuovo treno regionale"))
    svc, events, _ = make_service(settings, storage, brand, analyser, [ok])
    await svc.start()
    try:
        await svc.run_once()
        svc.set_mark(svc.recent("Acme")[0][0].id, "Acme", "used")
        edited = brand.with_lists(dna=["Sinner", "treno"])
        diff = await svc.update_brand(edited)
    finally:
        await svc.stop()
    assert diff.brand == "Acme" and diff.rescored == 3
    assert sorted(c.title for c in diff.new_opportunities) == ["Sinner vince le ATP Finals", "nuovo treno regionale"]
    assert [c.title for c in diff.lost_opportunities] == ["caffè sospeso day"]
    assert diff.backup is not None and Path(diff.backup).exists()  # noqa: ASYNC240
    assert brand.path is not None and load_brand(brand.path).dna == ("Sinner", "treno")
    rescored = [e for e in events if isinstance(e, StatusEvent) and e.kind == "rescored"]
    assert rescored and rescored[0].data["changed"] == 3
    by_title = {t.title: v.verdict for t, v in svc.recent("Acme")}
    assert by_title["nuovo treno regionale"] == "fit" and by_title["caffè sospeso day"] == "off_brand"
    assert svc.brands[0].dna == ("Sinner", "treno")


async def test_new_evidence_rescores_held_trends_and_publishes_only_those_that_moved(
    settings, storage, brand, analyser
) -> None:
    ok = OkSource(interval_s=60, titles=("caffè sospeso day", "nuovo treno regionale"))
    feed = DebunkFeed()
    alerts = FakeAlerts()
    scorer = KeywordScorer([brand])
    svc = keyword_service(settings, storage, scorer, analyser, GivenConnections([ok], [feed]), alerts=alerts)
    events = recorded(svc)
    await svc.start()
    try:
        await svc.run_once()
        assert svc.source_names() == ["ok", "factchecks"]
        assert {e.change for e in events if isinstance(e, TrendEvent)} == {"new"}
        scored = scorer.calls
        await svc.poll_now("factchecks")  # nothing new: no re-scoring
        assert scorer.calls == scored
        scorer.risky = {"treno"}
        feed.next_new = 1
        await svc.poll_now("factchecks")
    finally:
        await svc.stop()
    moved = [e for e in events if isinstance(e, TrendEvent) and e.change == "risk_changed"]
    assert [e.trend.title for e in moved] == ["nuovo treno regionale"]
    assert moved[0].source == "factchecks" and moved[0].verdicts["Acme"].verdict == "risky"
    assert alerts.considered[-1] is moved[0]  # the alert policy sees it (a used trend turning risky)
    stored = storage.get_verdict(moved[0].trend.id, "Acme")
    assert stored is not None and stored.verdict == "risky"
    assert {t.title: v.verdict for t, v in svc.recent("Acme")}["nuovo treno regionale"] == "risky"


async def test_restart_does_not_duplicate_stories(settings, storage, brand, analyser) -> None:
    ok = OkSource(interval_s=60, titles=("caffè sospeso day",))
    svc, _events, _ = make_service(settings, storage, brand, analyser, [ok])
    await svc.start()
    await svc.run_once()
    await svc.stop()
    again = OkSource(interval_s=60, titles=("caffè sospeso day",))
    svc2, events2, _ = make_service(settings, storage, brand, analyser, [again])
    await svc2.start()
    await svc2.run_once()
    await svc2.stop()
    assert again.polls == 1
    assert [e for e in events2 if isinstance(e, TrendEvent)] == []  # recognised as already seen
    assert len(storage.recent_trends()) == 1
    assert len(svc2.recent("Acme")) == 1  # from storage


async def test_hung_poll_times_out_as_a_failure(settings, storage, brand, analyser) -> None:
    slow = SlowSource(delay=5.0, interval_s=60)
    svc, events, _ = make_service(settings, storage, brand, analyser, [slow])
    svc.poll_timeout_s = 0.2
    await svc.start()
    try:
        await svc.run_once()
    finally:
        await svc.stop()
    err = next(e for e in events if isinstance(e, SourceErrorEvent))
    assert err.source == "slow" and "timed out" in err.error
    assert slow.finished == 0


class NoReplay:
    """Connections whose open() fails the way a missing offline replay server does."""

    def __init__(self) -> None:
        self.closed = 0

    async def open(self) -> Connected:
        from monitor.api import ServiceError

        raise ServiceError("offline mode is not available")

    async def close(self) -> None:
        self.closed += 1


async def test_failed_start_cleans_up(settings, storage, brand, analyser) -> None:
    from monitor.api import ServiceError

    before = other_tasks()
    connections = NoReplay()
    svc = keyword_service(settings, storage, KeywordScorer([brand]), analyser, connections, alerts=FakeAlerts())
    with pytest.raises(ServiceError):
        await svc.start()
    await asyncio.sleep(0)
    assert other_tasks() - before == set()
    assert connections.closed == 1 and svc.source_names() == []
    with pytest.raises(RuntimeError):
        await svc.run_once()


async def test_stop_with_due_jobs_logs_no_scheduler_error(settings, storage, brand, analyser, caplog) -> None:
    alerts = FakeAlerts()
    svc, _, _ = make_service(settings, storage, brand, analyser, [OkSource(interval_s=0.01)], alerts)
    svc.flush_interval_s = 0.01
    caplog.set_level(logging.INFO, logger="apscheduler")
    await svc.start()
    await wait_for(lambda: alerts.flushes >= 3)
    await svc.stop()
    assert not [r for r in caplog.records if r.name.startswith("apscheduler") and r.levelno >= logging.ERROR]


class ScriptedSource:
    """Returns the next scripted list of items on each poll (then nothing new)."""

    def __init__(self, polls: list[list[SourceItem]], name: str = "scripted") -> None:
        self.name = name
        self.interval_s = 60.0
        self.script = list(polls)

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        if not self.script:
            raise NotModified()
        return self.script.pop(0)


async def test_new_stories_are_published_before_updates_of_known_ones(settings, storage, brand, analyser) -> None:
    known = "Sanremo 2027 ospiti annunciati"
    source = ScriptedSource(
        [
            [SourceItem(source="scripted", title=known, item_id="a", traffic=1000)],
            [  # the update (traffic x5) comes first in the feed, the new story second
                SourceItem(source="scripted", title=known, item_id="a", traffic=5000),
                SourceItem(source="scripted", title="caffè espresso day", item_id="c", url="https://news.example/c"),
            ],
        ]
    )
    svc, events, scorer = make_service(settings, storage, brand, analyser, [source])
    await svc.start()
    try:
        await svc.run_once()
        await svc.run_once()
    finally:
        await svc.stop()
    trend_events = [e for e in events if isinstance(e, TrendEvent)]
    assert [(e.trend.title, e.is_new) for e in trend_events] == [
        (known, True),
        ("caffè espresso day", True),  # first sighting shown before ...
        (known, False),  # ... the known story's update from the same poll
    ]
    assert trend_events[2].trend.traffic == 5000
    assert scorer.calls == 3  # poll 1; poll 2 = new group + update group


class LateSource:
    """Nothing on its first poll; then one more headline of an already known story."""

    def __init__(self, title: str) -> None:
        self.name = "late"
        self.interval_s = 60.0
        self.title = title
        self.polls = 0

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        self.polls += 1
        return [] if self.polls == 1 else [SourceItem(source=self.name, title=self.title, item_id="late-1")]


async def test_trend_events_carry_the_current_feedback_mark(settings, storage, brand, analyser) -> None:
    ok = OkSource(interval_s=60, titles=("caffè sospeso day",))
    svc, events, _ = make_service(settings, storage, brand, analyser, [ok, LateSource("caffè sospeso day")])
    await svc.start()
    try:
        await svc.run_once()
        first = [e for e in events if isinstance(e, TrendEvent)]
        assert [e.to_json()["feedback"] for e in first] == [{"Acme": None}]
        svc.set_mark(first[0].trend.id, "Acme", "used")
        svc.set_mark(first[0].trend.id, "Acme", "not_for_us")  # replaces
        await svc.poll_now("late")
    finally:
        await svc.stop()
    update = [e for e in events if isinstance(e, TrendEvent)][-1]
    assert update.trend.id == first[0].trend.id and update.change == "update"
    line = update.to_json()
    assert line["feedback"] == {"Acme": "not_for_us"}
    assert svc.mark_for(first[0].trend.id, "Acme") == "not_for_us"


class StreamStub:
    """A stream source (keeps a connection between polls): records when it is closed."""

    name = "stream"
    interval_s = 60.0

    def __init__(self) -> None:
        self.closed = 0

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        raise NotModified()

    async def close(self) -> None:
        self.closed += 1


async def test_a_stream_source_stops_streaming_when_another_process_takes_its_lease(storage: Storage) -> None:
    from monitor.events import EventBus
    from monitor.runner import RunnerContext, SourceRunner

    stub = StreamStub()
    shared = RunnerContext(
        storage=storage,
        fetcher=None,  # type: ignore[arg-type]  # lease() only
        processor=None,  # type: ignore[arg-type]
        bus=EventBus(),
        clock=lambda: datetime.now(UTC),
        holder="worker-a",
        lease_s=60.0,
        poll_timeout_s=10.0,
        jitter=0.0,
        max_backoff_s=5.0,
    )
    runner = SourceRunner(stub, shared)
    assert runner.lease() and runner.holds_lease
    assert runner.lease() and stub.closed == 0  # renewing keeps the stream
    # worker A stalled past its lease; worker B takes the source over
    later = datetime.now(UTC) + timedelta(seconds=61)
    assert storage.acquire_lease("stream", "worker-b", later + timedelta(seconds=60), now=later) == "worker-b"
    assert not runner.lease()
    await asyncio.gather(*runner.in_flight())
    assert stub.closed == 1 and runner.polled_by == "worker-b"
    assert not runner.lease() and stub.closed == 1  # closed once, not on every tick as a viewer
