"""The running monitor: a facade over the source runners, the trend processor and the alert dispatcher.

One `MonitorService` per process, started and stopped on the caller's event loop (the TUI's or
`onda watch`'s). It receives its collaborators (monitor.api contracts, built by monitor.compose) and
wires them at start():

- `Connections` gives the sources, the one aiohttp session and its fetcher;
- one `SourceRunner` per source (monitor.runner) polls it on an APScheduler 3.x `AsyncIOScheduler`
  job, with backoff, health and a lease in the database;
- the `TrendProcessor` (monitor.processing) clusters, scores, stores and emits what polls find and
  hands it to the alert policy;
- the `AlertSink` sends alerts; the service only tells it when there is work.

The service itself keeps the life-cycle (start/stop leave nothing behind), the event bus, the
periodic jobs (lease renewal, store watchdog, alert tick) and answers queries, feedback and brand
edits. Brand edits are stored as versions (monitor.brands); the lease tick also checks the stored
versions (one query) and re-scores a brand another process changed, the same way as a local edit.
A failure anywhere is logged and emitted as an event; it never stops the other sources.

Several processes may run a service on one database (a headless `onda watch` and the dashboard).
Each source is polled by one of them at a time, through its lease; a process that finds a source
leased by another becomes a *viewer* of it: it shows the health the poller stores and replays the
trends the poller stores as `trend` events, without alerting on them (the poller's alerts are the
ones sent). When the poller goes away its leases expire and the viewer takes the sources over.

A store that keeps failing (corrupted, or every write refused for `store_failure_limit_s`; a full
disk is not counted, alerts wait in memory for space) ends in a `fatal` status event: `onda watch`
then exits non-zero instead of running without storing.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import undefined

from brand_dna.dna import BrandDNA
from monitor.alerts.preview import alert_secrets, preview_text
from monitor.api import AlertSink, Connections, RescoreDiff, TrendScorer
from monitor.brand_edits import BrandEdits
from monitor.brands import BrandBook
from monitor.clustering import Clusterer
from monitor.config import Settings
from monitor.events import EventBus, Listener, StatusKind
from monitor.models import Mark, OutboxRow, SourceHealth, Trend, Verdict
from monitor.processing import TrendProcessor
from monitor.runner import RunnerContext, SourceRunner
from monitor.storage import Storage, StorageError, new_holder_id
from monitor.store_changes import ChangeListener
from monitor.text import ERROR_CHARS, clean_text

log = logging.getLogger(__name__)

FLUSH_JOB = "__alerts_flush__"
LEASE_JOB = "__source_leases__"
WATCHDOG_JOB = "__store_watchdog__"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class MonitorService:
    """Implements monitor.api.ServiceAPI."""

    def __init__(
        self,
        settings: Settings,
        *,
        storage: Storage,
        scorer: TrendScorer,
        clusterer: Clusterer,
        connections: Connections,
        alerts: AlertSink | None = None,
        clock: Callable[[], datetime] = _utcnow,
        flush_interval_s: float = 5.0,
        poll_timeout_s: float | None = None,
        holder: str | None = None,
        lease_s: float = 60.0,
        store_failure_limit_s: float = 60.0,
        credibility_dir: Path | None = None,
        user: str | None = None,
        brand_versions: Mapping[str, int] | None = None,
    ) -> None:
        """`credibility_dir`: where the source-credibility lists live (None: the scorer has no risk gate).

        `user`: who marks stories and edits brands here (default: `settings.user_name()`).
        `brand_versions`: the stored version of each brand the scorer was built with (None: read at start).
        """
        self.settings = settings
        self.storage = storage
        self.scorer = scorer
        self.clusterer = clusterer
        self.connections = connections
        self.alerts = alerts
        self.clock = clock
        self.flush_interval_s = flush_interval_s
        # A poll may fetch several URLs (RSS feeds) with per-host throttling; a hung one must not block forever.
        self.poll_timeout_s = poll_timeout_s or max(60.0, 4 * settings.http.total_timeout_s)
        self.holder = holder or new_holder_id()
        self.lease_s = lease_s
        self.store_failure_limit_s = store_failure_limit_s
        self.fatal_error: str | None = None
        self.user = user or settings.user_name()
        self.events = EventBus()
        self.processor = TrendProcessor(
            storage=storage,
            scorer=scorer,
            clusterer=clusterer,
            alerts=alerts,
            bus=self.events,
            clock=clock,
            credibility_dir=credibility_dir,
        )
        self.brand_edits = BrandEdits(
            BrandBook(storage, self.user),
            self.processor,
            self.events,
            rescore_limit=settings.tui.recent_rescore,
            versions=brand_versions,
        )
        self._runners: dict[str, SourceRunner] = {}
        self._scheduler: AsyncIOScheduler | None = None
        self._changes: ChangeListener | None = None
        self._started = False

    # -- events ------------------------------------------------------------------------------------
    @property
    def brands(self) -> list[BrandDNA]:
        return self.scorer.brands

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return self.events.subscribe(listener)

    # -- life-cycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start inside the running loop: prune, connections, model load (thread), scheduler and runners."""
        if self._started:
            return
        self._started = True
        try:
            await self._start()
        except BaseException:
            await self.stop()  # nothing half-started is left behind (session, replay server, tasks)
            raise

    async def _start(self) -> None:
        self._prune()
        self.brand_edits.start()
        connected = await self.connections.open()
        for notice in connected.notices:
            self.events.status(StatusKind.NOTICE, notice)
        if self.alerts is not None:
            self.alerts.attach(session=connected.session, emit=self.events.emit)
        # A viewer replays what the poller stored from one lease period before we started (start-up skew).
        self.processor.start(replay_since=self.clock() - timedelta(seconds=self.lease_s))

        self._scheduler = scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.start()
        shared = RunnerContext(
            storage=self.storage,
            fetcher=connected.fetcher,
            processor=self.processor,
            bus=self.events,
            clock=self.clock,
            holder=self.holder,
            lease_s=self.lease_s,
            poll_timeout_s=self.poll_timeout_s,
            jitter=self.settings.sources.jitter,
            max_backoff_s=self.settings.http.max_backoff_s,
        )
        runners = [SourceRunner(s, shared) for s in connected.sources]
        self._runners = {r.name: r for r in runners}
        now = _utcnow()
        for runner in self._runners.values():
            runner.schedule(scheduler, first_run=now)
        # Leases are renewed three times per lease; the same tick lets a viewer pick up the poller's results.
        self._add_job(self._lease_job, min(self.lease_s / 3, 5.0), LEASE_JOB)
        self._add_job(self._watchdog_job, max(0.05, min(5.0, self.store_failure_limit_s / 4)), WATCHDOG_JOB)
        if self.alerts is not None:  # retries and held-back alerts fall due without new trends
            self._add_job(self._flush_job, self.flush_interval_s, FLUSH_JOB, first_run=now)
        if self.storage.supports_notify:  # PostgreSQL: others' writes show within a second, not at the next tick
            self._changes = ChangeListener(self.storage, self._on_store_changes)
            self._changes.start()

    def _add_job(
        self,
        job: Callable[[], Coroutine[Any, Any, None]],  # a coroutine: APScheduler runs plain functions in threads
        interval_s: float,
        job_id: str,
        first_run: datetime | None = None,
    ) -> None:
        assert self._scheduler is not None
        self._scheduler.add_job(
            job,
            IntervalTrigger(seconds=interval_s),
            id=job_id,
            max_instances=1,
            coalesce=True,
            next_run_time=first_run or undefined,  # undefined: one interval from now
            misfire_grace_time=None,
        )

    def _prune(self) -> None:
        try:
            cutoff = self.clock() - timedelta(days=self.settings.storage.keep_days)
            pruned = self.storage.prune_trends(cutoff)
            if pruned:
                log.info("pruned %d trends older than %d days", pruned, self.settings.storage.keep_days)
        except Exception as exc:
            log.warning("could not prune old trends: %s", exc)
            self.events.status(StatusKind.ERROR, f"could not prune old trends: {clean_text(str(exc), ERROR_CHARS)}")

    async def stop(self) -> None:
        """Stop the scheduler, cancel in-flight polls, close alerts and connections. No task is left."""
        if not self._started:
            return
        for runner in self._runners.values():
            runner.detach()
        if self._changes is not None:
            await self._changes.stop()
            self._changes = None
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.pause()  # no new job tasks from here on
            # Job tasks created just before the pause start running (and register themselves) on the
            # next iterations; cancelling them before they start would make APScheduler log an error.
            for _ in range(2):
                await asyncio.sleep(0)
        pending = [t for r in self._runners.values() for t in r.in_flight()] + self.processor.in_flight()
        pending += self.brand_edits.in_flight()
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)  # deferred to the next loop iteration
            for _ in range(2):
                await asyncio.sleep(0)
        if self.alerts is not None:
            try:
                await self.alerts.close()
            except Exception:
                log.exception("closing alerts failed")
        try:
            self.storage.release_leases(self.holder)  # another process may take the sources over at once
        except StorageError as exc:
            log.warning("could not release source leases: %s", exc)
        for runner in self._runners.values():
            runner.forget_lease()
        try:
            await self.connections.close()
        except Exception:
            log.exception("closing the connections failed")
        self._started = False
        self.events.status(StatusKind.STOPPED, "monitor stopped")

    # -- polling -----------------------------------------------------------------------------------
    def source_names(self) -> list[str]:
        return list(self._runners)

    def health(self) -> list[SourceHealth]:
        """Each source's health, then the health of its parts (RSS feeds, `rss:host/path`) that were seen."""
        runners = self._runners.values()
        return [r.health for r in runners] + [h for r in runners for h in r.part_health()]

    def next_run(self, source: str) -> datetime | None:
        """When `source` is polled next by the scheduler (None when not scheduled)."""
        return self._runner(source).next_run()

    def polled_elsewhere(self) -> dict[str, str]:
        """Sources another process polls for us (source -> its holder id); empty when we poll them all."""
        return {name: r.polled_by for name, r in self._runners.items() if r.polled_by is not None}

    def _runner(self, source: str) -> SourceRunner:
        runner = self._runners.get(source)
        if runner is None:
            raise KeyError(f"unknown source {source!r}")
        return runner

    async def poll_now(self, source: str) -> None:
        """Poll one source now (the TUI's refresh key). If it is already polling, wait for that poll."""
        if not self._started:
            raise RuntimeError("MonitorService.poll_now() needs start() first")
        await self._runner(source).poll_now()

    async def run_once(self) -> None:
        """Poll every enabled source once concurrently, then wait for clustering, scoring and alerts."""
        if not self._started:
            raise RuntimeError("MonitorService.run_once() needs start() first")
        scheduler = self._scheduler
        paused = scheduler is not None and scheduler.running and scheduler.state == STATE_RUNNING
        if paused and scheduler is not None:
            scheduler.pause()  # no scheduled poll doubles ours
        try:
            await asyncio.gather(*(r.poll_or_join() for r in self._runners.values()))
            await self.processor.drain()
            if self.alerts is not None:
                await self.alerts.drain()
        finally:
            for runner in self._runners.values():
                if runner.health.ok:
                    runner.rearm()
            if paused and self._scheduler is not None:
                self._scheduler.resume()
            self.check_store()

    # -- periodic jobs -------------------------------------------------------------------------------
    async def _flush_job(self) -> None:
        if self.alerts is not None:
            self.alerts.request_flush()

    async def _lease_job(self) -> None:
        """Renew our leases; as a viewer, try to take sources over and replay what the poller stored."""
        for runner in self._runners.values():
            if runner.holds_lease:
                runner.lease()
        for runner in self._runners.values():
            if runner.polled_by is not None and runner.lease():  # the poller is gone: poll now, not at the interval
                runner.reschedule(0.0)
        if self.polled_elsewhere():
            self._sync_from_store()
        self.brand_edits.check_versions({b.name: b.path for b in self.brands})

    def _on_store_changes(self, kinds: frozenset[str]) -> None:
        """Writes committed by any process on the store (ours included): show others' at once."""
        if kinds & {"trend", "verdict"} and self.polled_elsewhere():
            self._sync_from_store()
        if "brand" in kinds:  # a colleague's DNA edit: re-score now, not at the next lease tick
            self.brand_edits.check_versions({b.name: b.path for b in self.brands})
        self.events.status(StatusKind.STORE_CHANGED, "the shared store changed", changes=sorted(kinds))

    def _sync_from_store(self) -> None:
        """Viewer: show the health and the trends another process stored since we last looked."""
        try:
            for health in self.storage.all_health():
                runner = self._runners.get(health.name)
                if runner is not None:
                    runner.show_stored_health(health)
            names = [b.name for b in self.brands]
            self.processor.replay_stored(names)
            self.processor.refresh_stored_verdicts(names)  # the poller re-scored (a new debunk): show the new risk
        except StorageError as exc:
            log.warning("could not read what the other process stored: %s", exc)

    async def _watchdog_job(self) -> None:
        self.check_store()

    def check_store(self) -> str | None:
        """A store that is corrupted, or has refused reads/writes for too long, is fatal: emit it once."""
        if self.fatal_error is not None:
            return self.fatal_error
        problem: str | None = None
        if self.storage.corrupted:
            problem = f"the database {self.storage.path} is corrupted"
        elif self.storage.failing_since is not None:
            failing_s = (_utcnow() - self.storage.failing_since).total_seconds()
            if failing_s >= self.store_failure_limit_s:
                problem = f"the database {self.storage.path} has refused reads and writes for {failing_s:.0f} s"
        if problem is None:
            return None
        self.fatal_error = f"{problem}: nothing can be stored or alerted; stopping"
        log.error("%s", self.fatal_error)
        self.events.status(StatusKind.FATAL, self.fatal_error)
        return self.fatal_error

    # -- queries, feedback, brand edits ----------------------------------------------------------------
    def recent(self, brand: str, limit: int = 500) -> list[tuple[Trend, Verdict]]:
        """Latest trends with `brand`'s verdict: in-memory (full breakdown) first, then storage."""
        return self.processor.latest.recent(brand, limit)

    def set_mark(self, trend_id: str, brand: str, mark: Mark | None) -> None:
        self.storage.set_mark(trend_id, brand, mark, by=self.user)

    def mark_authors(self, brand: str, trend_ids: Sequence[str]) -> dict[str, str]:
        return self.storage.mark_authors(brand, trend_ids)

    def mark_for(self, trend_id: str, brand: str) -> Mark | None:
        return self.storage.mark_for(trend_id, brand)

    def marks(self, brand: str, trend_ids: Sequence[str]) -> dict[str, Mark]:
        return self.storage.marks(brand, trend_ids)

    def outbox(self, limit: int = 200) -> list[OutboxRow]:
        return self.storage.outbox(limit=limit)

    def alert_channels(self, brand: str) -> list[str]:
        return self.alerts.channels_for(brand) if self.alerts is not None else []

    def alert_preview(self, row: OutboxRow) -> str:
        return preview_text(row, alert_secrets(self.settings, os.environ))

    async def update_brand(self, brand: BrandDNA, *, save: bool = True) -> RescoreDiff:
        """Store the edit as a new version (and write the brand file, with backup, when it has one), re-score.

        `save` False only re-scores. Other processes on the store notice the new version on their lease
        tick and re-score too (monitor.brand_edits).
        """
        return await self.brand_edits.update(brand, save=save)
