"""One `SourceRunner` per source: its schedule, backoff, health, lease and the health of its parts.

In the manner of Home Assistant's DataUpdateCoordinator: a runner polls its source on an APScheduler
interval job (jittered, one instance at a time, coalesced); a failure is logged once and then only
counted, a recovery is logged once; after a failure the next poll moves out by `backoff_delay` (a
server's Retry-After is a floor); after an out-of-schedule poll (`poll_now`, `run_once`) the next
scheduled one is re-armed a full interval away. Health is kept in memory, stored and emitted as
`SourceHealthEvent`s; failures are `SourceErrorEvent`s.

Several processes may share one database. A runner polls only while it holds its source's lease
(`Storage.acquire_lease`); when another live process holds it, the runner is a *viewer*: it says so
once (a `notice` status event), stops keeping its own health (the poller stores it) and takes the
source over when the other lease expires.

A source made of parts (RSS feeds) reports each part's outcome; each part gets a health entry of its
own (`rss:host/path`), evented and logged once on failure and once on recovery.

What a poll returns goes to the `TrendProcessor`; a source that feeds the risk gate (fact-checks)
makes it re-score recent trends when its poll found new evidence.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.events import EventBus, SourceErrorEvent, SourceHealthEvent, StatusKind
from monitor.models import SourceHealth, SourceItem
from monitor.sources.base import NotModified, PollContext, RiskEvidenceSource, Source, SourceError, StreamSource
from monitor.storage import Storage, StorageError, describe_holder
from monitor.text import ERROR_CHARS, clean_text

if TYPE_CHECKING:
    from monitor.processing import TrendProcessor
    from monitor.sources.http import HttpFetcher

log = logging.getLogger(__name__)

MAX_RETRY_AFTER_S = 24 * 3600.0


def backoff_delay(
    failures: int,
    interval_s: float,
    max_backoff_s: float,
    *,
    jitter: float = 0.1,
    retry_after: float | None = None,
    rand: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds until the next try after `failures` consecutive failures (pure policy).

    interval * 2^(failures-1), capped at `max_backoff_s`, spread by +/- `jitter`; a
    server's Retry-After is a floor (capped at one day, never below the backoff).
    """
    exp = interval_s * (2.0 ** max(0, failures - 1))
    delay = min(max_backoff_s, exp)
    if jitter:
        delay *= rand(1 - jitter, 1 + jitter)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_S))
    return max(0.0, delay)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RunnerContext:
    """What every runner of one service shares."""

    storage: Storage
    fetcher: HttpFetcher
    processor: TrendProcessor
    bus: EventBus
    clock: Callable[[], datetime]
    holder: str  # this process's lease holder id
    lease_s: float
    poll_timeout_s: float  # a poll may fetch several URLs with per-host throttling; a hung one must end
    jitter: float  # fraction of the interval (schedule) and of the backoff
    max_backoff_s: float


class SourceRunner:
    """Polls one source on its schedule and keeps its health; see the module docstring."""

    def __init__(self, source: Source, shared: RunnerContext) -> None:
        """A source that feeds the risk gate (`RiskEvidenceSource`) makes its new evidence re-score recent trends."""
        self.source = source
        self.name = source.name
        self._shared = shared
        self._evidence = source if isinstance(source, RiskEvidenceSource) and source.refreshes_risk else None
        self._lock = asyncio.Lock()
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[Any]] = set()  # scheduled polls in flight (cancelled by stop)
        self._stopping = False
        self._parts: dict[str, SourceHealth] = {}  # `name:part` -> health, for the parts seen so far
        self.holds_lease = False
        self.polled_by: str | None = None  # the other process polling this source (we are its viewer)
        self._closing: set[asyncio.Task[None]] = set()  # a stream source closing after its lease was lost
        try:
            stored = shared.storage.get_health(self.name)
        except Exception:
            stored = None
        self.health: SourceHealth = stored or SourceHealth(name=self.name)

    def part_health(self) -> list[SourceHealth]:
        """Health of the parts of the source (RSS feeds) seen so far."""
        return list(self._parts.values())

    # -- schedule -------------------------------------------------------------------------------
    def schedule(self, scheduler: AsyncIOScheduler, *, first_run: datetime) -> None:
        """Add this source's interval job (jittered, one instance, coalesced); its first run at `first_run`."""
        self._scheduler = scheduler
        self._stopping = False
        interval = float(self.source.interval_s)
        scheduler.add_job(
            self._scheduled_poll,
            IntervalTrigger(seconds=interval, jitter=self._shared.jitter * interval or None),
            id=self.name,
            name=f"poll {self.name}",
            max_instances=1,
            coalesce=True,
            next_run_time=first_run,
            misfire_grace_time=None,
            replace_existing=True,
        )

    def detach(self) -> None:
        """The service is stopping: no more rescheduling, and cancelled polls end quietly."""
        self._stopping = True
        self._scheduler = None

    def in_flight(self) -> list[asyncio.Task[Any]]:
        """Scheduled polls (and a stream closing after its lease was lost) still running (stop cancels them)."""
        return [t for t in (*self._running, *self._closing) if not t.done()]

    def next_run(self) -> datetime | None:
        """When the scheduler runs this source next (None when not scheduled)."""
        if self._scheduler is None:
            return None
        job = self._scheduler.get_job(self.name)
        return job.next_run_time if job is not None else None

    def reschedule(self, delay_s: float) -> datetime | None:
        """Move the next scheduled run to now + delay; returns it (None when not scheduled)."""
        if self._scheduler is None or self._scheduler.get_job(self.name) is None:
            return None
        when = _utcnow() + timedelta(seconds=delay_s)
        self._scheduler.modify_job(self.name, next_run_time=when)
        return when

    def rearm(self) -> None:
        """After an out-of-schedule poll, the next scheduled one is a full interval away."""
        when = self.reschedule(float(self.source.interval_s))
        if when is not None:
            self._set_health(dataclasses.replace(self.health, next_run=when))

    # -- polling --------------------------------------------------------------------------------
    async def _scheduled_poll(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await self.poll()
        except asyncio.CancelledError:
            if self._stopping:
                return  # a clean stop, not a job failure for APScheduler to log
            raise
        finally:
            if task is not None:
                self._running.discard(task)

    async def poll_now(self) -> None:
        """Poll now (the TUI's refresh key) and re-arm the schedule; if a poll is running, wait for it."""
        if self._lock.locked():
            async with self._lock:
                return
        await self.poll()
        if self.health.ok:
            self.rearm()

    async def poll_or_join(self) -> None:
        """Poll now unless a scheduled poll is running: then its result is ours (`run_once`)."""
        if self._lock.locked():
            async with self._lock:
                return
        await self.poll()

    async def poll(self) -> None:
        """One poll: lease, fetch (timed out), health, then processing of what it found."""
        shared = self._shared
        async with self._lock:
            if not self.lease():
                return  # another process polls it; its results reach us through the store
            delivered = 0

            def deliver(early: list[SourceItem]) -> None:  # a part of the source is done: process it now
                nonlocal delivered
                delivered += len(early)
                shared.processor.submit(self.name, early)

            ctx = PollContext(fetcher=shared.fetcher, now=shared.clock, report_part=self._on_part, deliver=deliver)
            started = time.perf_counter()
            try:
                async with asyncio.timeout(shared.poll_timeout_s):
                    items = await self.source.poll(ctx)
                log.debug(
                    "%s: polled %d items in %.0f ms", self.name, len(items), 1000 * (time.perf_counter() - started)
                )
            except TimeoutError:
                self._on_failure(f"poll timed out after {shared.poll_timeout_s:.0f} s", None)
                return
            except NotModified:
                items = []
            except SourceError as exc:
                self._on_failure(clean_text(str(exc), ERROR_CHARS) or "source error", exc.retry_after)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._on_failure(clean_text(f"{type(exc).__name__}: {exc}", ERROR_CHARS), None)
                return
            self._on_success(len(items) + delivered)
        if items:
            await shared.processor.process(self.name, items)
        if self._evidence is not None and self._evidence.last_new:
            await shared.processor.rescore_recent(self.name)

    # -- lease (one poller per source across processes) ---------------------------------------------
    def lease(self) -> bool:
        """Take or renew this source's lease; False when another live process holds it (we only view it)."""
        shared = self._shared
        until = _utcnow() + timedelta(seconds=shared.lease_s)
        try:
            holder = shared.storage.acquire_lease(self.name, shared.holder, until)
        except StorageError as exc:
            # Nothing can be written (full disk, ...): poll anyway. A second poller costs requests, not alerts
            # (the outbox's dedupe keys and claims still send each alert once).
            log.debug("could not take the lease of %s: %s", self.name, exc)
            return True
        if holder == shared.holder:
            self.holds_lease = True
            other, self.polled_by = self.polled_by, None
            if other is not None:
                message = f"{self.name}: {describe_holder(other)} stopped polling it; this process polls it now"
                log.info("%s", message)
                shared.bus.status(StatusKind.NOTICE, message, topic="leases", source=self.name, viewing=False)
            return True
        if self.holds_lease and isinstance(self.source, StreamSource):
            self._close_stream()  # another process streams it now: stop decoding a firehose nobody polls
        self.holds_lease = False
        if self.polled_by != holder:
            self.polled_by = holder
            message = (
                f"{self.name} is polled by another Onda process ({describe_holder(holder)}) on this database: "
                "showing its results instead of polling it twice"
            )
            log.info("%s", message)
            shared.bus.status(
                StatusKind.NOTICE,
                message,
                topic="leases",
                source=self.name,
                viewing=True,
                polled_by=describe_holder(holder),
            )
        return False

    def _close_stream(self) -> None:
        assert isinstance(self.source, StreamSource)
        task = asyncio.get_running_loop().create_task(self.source.close(), name=f"onda-close-{self.name}")
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def forget_lease(self) -> None:
        """The service released its leases (stop)."""
        self.holds_lease = False

    def show_stored_health(self, health: SourceHealth) -> None:
        """Viewer: show the health the polling process stored, when it changed."""
        if self.polled_by is not None and health != self.health:
            self.health = health
            self._shared.bus.emit(SourceHealthEvent(health=health))

    # -- health ---------------------------------------------------------------------------------------
    def _on_success(self, count: int) -> None:
        before = self.health
        if before.consecutive_failures:
            log.info("source %s recovered after %d failures", self.name, before.consecutive_failures)
        self._set_health(
            dataclasses.replace(
                before,
                last_success=self._shared.clock(),
                consecutive_failures=0,
                next_run=self.next_run(),
                items_last=count,
            )
        )

    def _on_failure(self, error: str, retry_after: float | None) -> None:
        shared = self._shared
        before = self.health
        failures = before.consecutive_failures + 1
        if failures == 1:
            log.warning("source %s failed: %s (will retry with backoff)", self.name, error)
        delay = backoff_delay(
            failures, float(self.source.interval_s), shared.max_backoff_s, jitter=shared.jitter, retry_after=retry_after
        )
        retry_at = self.reschedule(delay) or (_utcnow() + timedelta(seconds=delay))
        health = dataclasses.replace(
            before,
            last_error=error,
            last_error_at=shared.clock(),
            consecutive_failures=failures,
            next_run=retry_at,
            items_last=0,
        )
        shared.bus.emit(
            SourceErrorEvent(source=self.name, error=error, consecutive_failures=failures, retry_at=retry_at)
        )
        self._set_health(health)

    def _on_part(self, part: str, error: str | None) -> None:
        """Health of one part of the source (an RSS feed): its own entry, source_error events, log once/recovery."""
        key = f"{self.name}:{part}"
        known = self._parts.get(key)
        before = known or SourceHealth(name=key)
        now = self._shared.clock()
        if error is None:
            if before.consecutive_failures:
                log.info("%s recovered after %d failures", key, before.consecutive_failures)
            elif known is not None and known.last_success is not None:
                self._parts[key] = dataclasses.replace(known, last_success=now)
                return  # steady state: no event, no write per poll and feed
            self._set_health(dataclasses.replace(before, last_success=now, consecutive_failures=0, next_run=None))
            return
        line = clean_text(error, ERROR_CHARS)
        failures = before.consecutive_failures + 1
        if failures == 1:
            log.warning("%s failed: %s (the other parts of %s go on)", key, line, self.name)
        self._shared.bus.emit(SourceErrorEvent(source=key, error=line, consecutive_failures=failures, retry_at=None))
        self._set_health(
            dataclasses.replace(
                before, last_error=line, last_error_at=now, consecutive_failures=failures, next_run=None
            )
        )

    def _set_health(self, health: SourceHealth) -> None:
        if health.name == self.name:
            if self.polled_by is not None:
                return  # the polling process owns this source's health
            self.health = health
        else:
            self._parts[health.name] = health
        try:
            self._shared.storage.save_health(health)
        except Exception as exc:
            log.warning("could not store health of %s: %s", health.name, exc)
        self._shared.bus.emit(SourceHealthEvent(health=health))
