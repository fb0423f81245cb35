"""The running monitor: schedules sources, clusters and scores what they find, emits events, feeds alerts.

One `MonitorService` per process, started and stopped on the caller's event loop
(the TUI's or `onda watch`'s). It owns ONE aiohttp session, an APScheduler 3.x
`AsyncIOScheduler` with one job per source (own interval, jitter, max one
instance, coalesced), per-source health with exponential backoff, and the
poll -> cluster -> score -> store -> event -> alert chain. Blocking work
(model load, clustering, scoring) runs in worker threads, serialised by one
asyncio.Lock because the machine has few cores. A failure anywhere is logged and
emitted as an event; it never stops the other sources or the scheduler.

Several processes may run a service on one database (a headless `onda watch` and
the dashboard). Each source is polled by one of them at a time, through a lease in
the database (`Storage.acquire_lease`), renewed while the process runs and released
when it stops. A process that finds a source leased by another becomes a *viewer* of
it: it says so once (a `notice` status event), shows the health the poller stores and
replays the trends the poller stores as `trend` events, without alerting on them (the
poller's alerts are the ones sent). When the poller goes away its leases expire and
the viewer takes the sources over.

A store that keeps failing (corrupted, or every write refused for `store_failure_limit_s`;
a full disk is not counted, alerts wait in memory for space) ends in a `fatal` status
event: `onda watch` then exits non-zero instead of running without storing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.interval import IntervalTrigger

from brand_dna.dna import BrandDNA, save_brand
from monitor.api import AlertSink, RescoreDiff, TrendScorer, VerdictChange
from monitor.config import Settings
from monitor.events import (
    Event,
    Listener,
    SourceErrorEvent,
    SourceHealthEvent,
    StatusEvent,
    TrendEvent,
)
from monitor.models import Trend, Verdict
from monitor.pipeline import RESTORE_LIMIT, TrendPipeline
from monitor.sources.base import NotModified, PollContext, RiskEvidenceSource, Source, SourceError
from monitor.storage import OutboxRow, SourceHealth, Storage, StorageError, describe_holder, new_holder_id

if TYPE_CHECKING:
    import aiohttp

    from brand_dna.embedder import Embedder

log = logging.getLogger(__name__)

FLUSH_JOB = "__alerts_flush__"
LEASE_JOB = "__source_leases__"
WATCHDOG_JOB = "__store_watchdog__"
MAX_RETRY_AFTER_S = 24 * 3600.0
LATEST_KEEP = 2000  # scored trends kept in memory for recent()


class ServiceError(Exception):
    """The service cannot start (e.g. offline replay requested but not available)."""


def one_line(text: str, limit: int = 300) -> str:
    """Errors shown in health and events are one short human line."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


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
    exp = interval_s * (2 ** max(0, failures - 1))
    delay = min(max_backoff_s, exp)
    if jitter:
        delay *= rand(1 - jitter, 1 + jitter)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_S))
    return max(0.0, delay)


def _snapshot(trend: Trend) -> Trend:
    """A copy the event loop can hand out while the pipeline keeps growing the original."""
    return dataclasses.replace(
        trend,
        context=list(trend.context),
        urls=list(trend.urls),
        sources=list(trend.sources),
        mentions=list(trend.mentions),
    )


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
        sources: list[Source] | None = None,
        alerts: AlertSink | None = None,
        embedder: Embedder | None = None,
        offline: bool = False,
        clock: Callable[[], datetime] = _utcnow,
        pipeline: TrendPipeline | None = None,
        flush_interval_s: float = 5.0,
        poll_timeout_s: float | None = None,
        factchecks: Any = None,
        holder: str | None = None,
        lease_s: float = 60.0,
        store_failure_limit_s: float = 60.0,
    ) -> None:
        self.settings = settings
        self.factchecks = factchecks  # a monitor.risk.factcheck.FactCheckStore, polled as the "factchecks" source
        self.storage = storage
        self.scorer = scorer
        self.alerts = alerts
        self.offline = offline
        self.clock = clock
        self.flush_interval_s = flush_interval_s
        # A poll may fetch several URLs (RSS feeds) with per-host throttling; a hung one must not block forever.
        self.poll_timeout_s = poll_timeout_s or max(60.0, 4 * settings.http.total_timeout_s)
        if pipeline is None:
            emb = embedder if embedder is not None else getattr(scorer, "embedder", None)
            if emb is None:
                raise ValueError("MonitorService needs an embedder (pass embedder= or a scorer with .embedder)")
            pipeline = TrendPipeline(emb, storage, clock)
        self.pipeline = pipeline
        self._given_sources = sources
        self._sources: dict[str, Source] = {s.name: s for s in sources or []}
        self._listeners: list[Listener] = []
        self._health: dict[str, SourceHealth] = {}
        self._source_locks: dict[str, asyncio.Lock] = {}
        self._work_lock = asyncio.Lock()
        self._flush_lock = asyncio.Lock()
        self._latest: OrderedDict[str, tuple[Trend, dict[str, Verdict]]] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._polls: set[asyncio.Task[Any]] = set()
        self._flush_task: asyncio.Task[None] | None = None
        self._flush_again = False
        self._model_ready: asyncio.Event | None = None
        self._model_error: str | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._session: aiohttp.ClientSession | None = None
        self._fetcher: Any = None
        self._replay: Any = None
        self._started = False
        self._stopping = False
        self.holder = holder or new_holder_id()
        self.lease_s = lease_s
        self.store_failure_limit_s = store_failure_limit_s
        self._held: set[str] = set()  # sources this process polls (lease held)
        self._remote: dict[str, str] = {}  # source -> the other process polling it (we are its viewer)
        self._synced_at: datetime | None = None  # viewer: last_seen of the newest stored trend replayed
        self.fatal_error: str | None = None
        for name in self._sources:
            self._init_source(name)

    # -- ServiceAPI: events -----------------------------------------------------------------
    @property
    def brands(self) -> list[BrandDNA]:
        return self.scorer.brands

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not break polling
                log.exception("event listener failed on %s", type(event).__name__)

    def _status(self, kind: str, message: str, **data: Any) -> None:
        self._emit(StatusEvent(kind=kind, message=message, data=data))

    # -- life-cycle ----------------------------------------------------------------------
    async def start(self) -> None:
        """Start inside the running loop: prune, sources, HTTP session, model load (thread), scheduler."""
        if self._started:
            return
        self._started = True
        self._stopping = False
        self._model_ready = asyncio.Event()
        try:
            await self._start()
        except BaseException:
            await self.stop()  # nothing half-started is left behind (session, replay server, tasks)
            raise

    async def _start(self) -> None:
        try:
            cutoff = self.clock() - timedelta(days=self.settings.storage.keep_days)
            pruned = self.storage.prune_trends(cutoff)
            if pruned:
                log.info("pruned %d trends older than %d days", pruned, self.settings.storage.keep_days)
        except Exception as exc:
            log.warning("could not prune old trends: %s", exc)
            self._status("error", f"could not prune old trends: {one_line(str(exc))}")

        base_url: str | None = None
        if self.offline:
            base_url = await self._start_replay()
        if self._given_sources is None:
            self._build_sources(base_url)

        import aiohttp

        from monitor.sources.http import HttpFetcher

        self._session = aiohttp.ClientSession(headers={"User-Agent": self.settings.http.user_agent})
        self._fetcher = HttpFetcher(self._session, self.settings.http, self.storage)

        attach = getattr(self.alerts, "attach", None)
        if attach is not None:
            attach(session=self._session, emit=self._emit)

        self._spawn(self._load_model(), "onda-model-load")

        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.start()
        now = _utcnow()
        for name, source in self._sources.items():
            self._add_source_job(name, source, first_run=now)
        # A viewer replays what the poller stored from one lease period before we started (start-up skew).
        self._synced_at = self.clock() - timedelta(seconds=self.lease_s)
        # Leases are renewed three times per lease; the same tick lets a viewer pick up the poller's results.
        self._scheduler.add_job(
            self._lease_job,
            IntervalTrigger(seconds=min(self.lease_s / 3, 5.0)),
            id=LEASE_JOB,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self._scheduler.add_job(
            self._watchdog_job,
            IntervalTrigger(seconds=max(0.05, min(5.0, self.store_failure_limit_s / 4))),
            id=WATCHDOG_JOB,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        if self.alerts is not None:
            # The job only *requests* a flush (coalesced with one already running), so it never overlaps
            # itself and APScheduler never logs "maximum number of running instances" during a long flush.
            self._scheduler.add_job(
                self._flush_job,
                IntervalTrigger(seconds=self.flush_interval_s),
                id=FLUSH_JOB,
                max_instances=1,
                coalesce=True,
                next_run_time=now,
                misfire_grace_time=None,
            )

    def _notice_credibility(self) -> None:
        """Say clearly when no source-credibility list is installed (the layer is then mainstream-only)."""
        try:
            from monitor.risk.credibility import missing_lists_notice

            notice = missing_lists_notice(self.settings.credibility_dir())
        except Exception as exc:  # a notice must never stop the service
            notice = f"credibility lists unreadable: {one_line(str(exc))}"
        if notice:
            log.warning("%s", notice)
            self._status("notice", notice, topic="credibility")

    async def _start_replay(self) -> str:
        try:
            from monitor.offline.server import ReplayServer
        except ImportError as exc:
            raise ServiceError(
                "offline mode is not available: monitor.offline.server (the replay server) is missing"
            ) from exc
        self._replay = ReplayServer()
        base_url = await self._replay.start()
        return str(base_url)

    def _build_sources(self, base_url: str | None) -> None:
        from monitor.sources import build_sources

        errors: list[str] = []
        built = build_sources(
            self.settings, base_url=base_url, errors=errors, factchecks=self.factchecks, factcheck_sink=self.storage
        )
        for source in built:
            self._sources[source.name] = source
            self._init_source(source.name)
        for err in errors:
            self._status("notice", err)

    def _init_source(self, name: str) -> None:
        self._source_locks.setdefault(name, asyncio.Lock())
        if name not in self._health:
            stored = None
            try:
                stored = self.storage.get_health(name)
            except Exception:
                stored = None
            self._health[name] = stored or SourceHealth(name=name)

    def _add_source_job(self, name: str, source: Source, *, first_run: datetime) -> None:
        assert self._scheduler is not None
        interval = float(source.interval_s)
        self._scheduler.add_job(
            self._scheduled_poll,
            IntervalTrigger(seconds=interval, jitter=self.settings.sources.jitter * interval or None),
            args=[name],
            id=name,
            name=f"poll {name}",
            max_instances=1,
            coalesce=True,
            next_run_time=first_run,
            misfire_grace_time=None,
            replace_existing=True,
        )

    async def _load_model(self) -> None:
        assert self._model_ready is not None
        self._status("model_loading", "loading the embedding model and brand indexes")
        try:
            await asyncio.to_thread(self.scorer.load)
            await asyncio.to_thread(self.pipeline.lexicon.ensure)
            since = self.clock() - self.pipeline.config.window
            stored = self.storage.recent_trends(limit=RESTORE_LIMIT, since=since)  # on the loop: one DB user
            restored = await asyncio.to_thread(self.pipeline.restore, stored)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._model_error = one_line(str(exc))
            log.error("model load failed: %s", self._model_error)
            self._status("error", f"model load failed: {self._model_error}")
        else:
            self._status("model_ready", "model ready", restored=restored)
            if getattr(self.scorer, "risk_gate", None) is not None:
                self._notice_credibility()
        finally:
            self._model_ready.set()

    async def stop(self) -> None:
        """Stop the scheduler, cancel in-flight polls, close alerts and the session. No task is left."""
        if not self._started:
            return
        self._stopping = True
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.pause()  # no new job tasks from here on
            # Job tasks created just before the pause start running (and register themselves) on the
            # next iterations; cancelling them before they start would make APScheduler log an error.
            for _ in range(2):
                await asyncio.sleep(0)
        pending = [t for t in (self._polls | self._tasks) if not t.done()]
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
        self._held.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._replay is not None:
            try:
                await self._replay.stop()
            except Exception:
                log.exception("stopping the replay server failed")
            self._replay = None
        self._started = False
        self._status("stopped", "monitor stopped")

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- polling -----------------------------------------------------------------------------
    def source_names(self) -> list[str]:
        return list(self._sources)

    def health(self) -> list[SourceHealth]:
        """Each source's health, then the health of its parts (RSS feeds, `rss:host/path`) that were seen."""
        parts = [h for key, h in self._health.items() if key not in self._sources and ":" in key]
        return [self._health[name] for name in self._sources if name in self._health] + parts

    async def _scheduled_poll(self, name: str) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._polls.add(task)
        try:
            await self._poll(name)
        except asyncio.CancelledError:
            if self._stopping:
                return  # a clean stop, not a job failure for APScheduler to log
            raise
        finally:
            if task is not None:
                self._polls.discard(task)

    async def poll_now(self, source: str) -> None:
        """Poll one source now (the TUI's refresh key). If it is already polling, wait for that poll."""
        if not self._started:
            raise RuntimeError("MonitorService.poll_now() needs start() first")
        if source not in self._sources:
            raise KeyError(f"unknown source {source!r}")
        lock = self._source_locks[source]
        if lock.locked():
            async with lock:
                return
        await self._poll(source)
        if self._health[source].ok:
            self._rearm(source)

    async def run_once(self) -> None:
        """Poll every enabled source once concurrently, then wait for clustering, scoring and alerts."""
        if not self._started:
            raise RuntimeError("MonitorService.run_once() needs start() first")
        scheduler = self._scheduler
        paused = scheduler is not None and scheduler.running and scheduler.state == STATE_RUNNING
        if paused and scheduler is not None:
            scheduler.pause()  # no scheduled poll doubles ours
        try:
            await asyncio.gather(*(self._poll_or_join(n) for n in self._sources))
            await self._drain()
            if self.alerts is not None:
                await self._flush()
        finally:
            for name in self._sources:
                if self._health[name].ok:
                    self._rearm(name)
            if paused and self._scheduler is not None:
                self._scheduler.resume()
            self.check_store()

    async def _poll_or_join(self, name: str) -> None:
        lock = self._source_locks[name]
        if lock.locked():  # a scheduled poll is running: its result is ours
            async with lock:
                return
        await self._poll(name)

    async def _drain(self) -> None:
        """Wait until every spawned task (model load, flushes) has finished."""
        while True:
            pending = [t for t in self._tasks if not t.done() and t is not asyncio.current_task()]
            if not pending:
                return
            await asyncio.gather(*pending, return_exceptions=True)

    async def _poll(self, name: str) -> None:
        source = self._sources[name]
        async with self._source_locks[name]:
            if not self._lease(name):
                return  # another process polls it; its results reach us through the store
            delivered = 0

            def deliver(early: list[Any]) -> None:  # a part of the source is done: process it now
                nonlocal delivered
                delivered += len(early)
                self._spawn(self._process(name, early), f"onda-process-{name}")

            ctx = PollContext(
                fetcher=self._fetcher,
                now=self.clock,
                report_part=lambda part, error: self._on_part(name, part, error),
                deliver=deliver,
            )
            started = time.perf_counter()
            try:
                async with asyncio.timeout(self.poll_timeout_s):
                    items = await source.poll(ctx)
                log.debug("%s: polled %d items in %.0f ms", name, len(items), 1000 * (time.perf_counter() - started))
            except TimeoutError:
                self._on_failure(name, f"poll timed out after {self.poll_timeout_s:.0f} s", None)
                return
            except NotModified:
                items = []
            except SourceError as exc:
                self._on_failure(name, one_line(str(exc)) or "source error", exc.retry_after)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._on_failure(name, one_line(f"{type(exc).__name__}: {exc}"), None)
                return
            self._on_success(name, len(items) + delivered)
        if items:
            await self._process(name, items)
        if isinstance(source, RiskEvidenceSource) and source.refreshes_risk and source.last_new:
            await self._rescore_recent(name)

    # -- leases (one poller per source across processes) -----------------------------------------
    def _lease(self, name: str) -> bool:
        """Take or renew this source's lease; False when another live process holds it (we only view it)."""
        until = _utcnow() + timedelta(seconds=self.lease_s)
        try:
            holder = self.storage.acquire_lease(name, self.holder, until)
        except StorageError as exc:
            # Nothing can be written (full disk, ...): poll anyway. A second poller costs requests, not alerts
            # (the outbox's dedupe keys and claims still send each alert once).
            log.debug("could not take the lease of %s: %s", name, exc)
            return True
        if holder == self.holder:
            self._held.add(name)
            other = self._remote.pop(name, None)
            if other is not None:
                message = f"{name}: {describe_holder(other)} stopped polling it; this process polls it now"
                log.info("%s", message)
                self._status("notice", message, topic="leases", source=name, viewing=False)
            return True
        self._held.discard(name)
        if self._remote.get(name) != holder:
            self._remote[name] = holder
            message = (
                f"{name} is polled by another Onda process ({describe_holder(holder)}) on this database: "
                "showing its results instead of polling it twice"
            )
            log.info("%s", message)
            self._status(
                "notice", message, topic="leases", source=name, viewing=True, polled_by=describe_holder(holder)
            )
        return False

    def polled_elsewhere(self) -> dict[str, str]:
        """Sources another process polls for us (source -> its holder id); empty when we poll them all."""
        return dict(self._remote)

    async def _lease_job(self) -> None:
        """Renew our leases; as a viewer, try to take sources over and replay what the poller stored."""
        for name in list(self._held):
            self._lease(name)
        for name in list(self._remote):
            if self._lease(name):  # the poller is gone: poll now rather than at the next interval
                self._reschedule(name, 0.0)
        if self._remote:
            self._sync_from_store()

    def _sync_from_store(self) -> None:
        """Viewer: emit the health and the trends another process stored since we last looked."""
        try:
            for health in self.storage.all_health():
                if health.name in self._remote and health != self._health.get(health.name):
                    self._health[health.name] = health
                    self._emit(SourceHealthEvent(health=health))
            since = self._synced_at
            trends = self.storage.recent_trends(limit=500, since=since)
            events: list[TrendEvent] = []
            for trend in reversed(trends):  # oldest first
                known = self._latest.get(trend.id)
                if known is not None and known[0].last_seen >= trend.last_seen:
                    continue
                verdicts = {b.name: self.storage.get_verdict(trend.id, b.name) for b in self.brands}
                if any(v is None for v in verdicts.values()):
                    continue  # the poller is still writing its verdicts: next tick
                scored = {b: v for b, v in verdicts.items() if v is not None}
                self._remember(trend, scored)
                is_new = since is None or trend.first_seen >= since
                events.append(TrendEvent(trend=trend, verdicts=scored, source="store", is_new=is_new))
                if since is None or trend.last_seen > since:
                    self._synced_at = trend.last_seen
        except StorageError as exc:
            log.warning("could not read what the other process stored: %s", exc)
            return
        for event in events:
            self._emit(event)  # no alert policy here: the polling process alerts on its own results

    # -- store watchdog ---------------------------------------------------------------------------
    async def _watchdog_job(self) -> None:  # a coroutine: APScheduler runs plain functions in threads
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
        self._status("fatal", self.fatal_error)
        return self.fatal_error

    def _on_part(self, source: str, part: str, error: str | None) -> None:
        """Health of one part of a source (an RSS feed): its own entry, source_error events, log once/recovery."""
        key = f"{source}:{part}"
        before = self._health.get(key) or SourceHealth(name=key)
        if error is None:
            if before.consecutive_failures:
                log.info("%s recovered after %d failures", key, before.consecutive_failures)
            elif before.last_success is not None and key in self._health:
                self._health[key] = dataclasses.replace(before, last_success=self.clock())
                return  # steady state: no event, no write per poll and feed
            self._set_health(
                dataclasses.replace(before, last_success=self.clock(), consecutive_failures=0, next_run=None)
            )
            return
        line = one_line(error)
        failures = before.consecutive_failures + 1
        if failures == 1:
            log.warning("%s failed: %s (the other parts of %s go on)", key, line, source)
        self._emit(SourceErrorEvent(source=key, error=line, consecutive_failures=failures, retry_at=None))
        self._set_health(
            dataclasses.replace(
                before, last_error=line, last_error_at=self.clock(), consecutive_failures=failures, next_run=None
            )
        )

    def _on_success(self, name: str, count: int) -> None:
        before = self._health[name]
        if before.consecutive_failures:
            log.info("source %s recovered after %d failures", name, before.consecutive_failures)
        health = dataclasses.replace(
            before,
            last_success=self.clock(),
            consecutive_failures=0,
            next_run=self._next_run(name),
            items_last=count,
        )
        self._set_health(health)

    def _on_failure(self, name: str, error: str, retry_after: float | None) -> None:
        before = self._health[name]
        failures = before.consecutive_failures + 1
        if failures == 1:
            log.warning("source %s failed: %s (will retry with backoff)", name, error)
        delay = backoff_delay(
            failures,
            float(self._sources[name].interval_s),
            self.settings.http.max_backoff_s,
            jitter=self.settings.sources.jitter,
            retry_after=retry_after,
        )
        retry_at = self._reschedule(name, delay) or (_utcnow() + timedelta(seconds=delay))
        health = dataclasses.replace(
            before,
            last_error=error,
            last_error_at=self.clock(),
            consecutive_failures=failures,
            next_run=retry_at,
            items_last=0,
        )
        self._emit(SourceErrorEvent(source=name, error=error, consecutive_failures=failures, retry_at=retry_at))
        self._set_health(health)

    def _set_health(self, health: SourceHealth) -> None:
        if health.name in self._remote:
            return  # the polling process owns this source's health
        self._health[health.name] = health
        try:
            self.storage.save_health(health)
        except Exception as exc:
            log.warning("could not store health of %s: %s", health.name, exc)
        self._emit(SourceHealthEvent(health=health))

    def _next_run(self, name: str) -> datetime | None:
        if self._scheduler is None:
            return None
        job = self._scheduler.get_job(name)
        return job.next_run_time if job is not None else None

    def _rearm(self, name: str) -> None:
        """After an out-of-schedule poll, the next scheduled one is a full interval away."""
        when = self._reschedule(name, float(self._sources[name].interval_s))
        if when is not None:
            self._set_health(dataclasses.replace(self._health[name], next_run=when))

    def _reschedule(self, name: str, delay_s: float) -> datetime | None:
        """Move a source's next scheduled run to now + delay; returns it (None without a scheduler)."""
        if self._scheduler is None or self._scheduler.get_job(name) is None:
            return None
        when = _utcnow() + timedelta(seconds=delay_s)
        self._scheduler.modify_job(name, next_run_time=when)
        return when

    # -- pipeline, scoring, alerts -----------------------------------------------------------
    async def _process(self, source: str, items: list[Any]) -> None:
        if self._model_ready is not None:
            await self._model_ready.wait()
        if self._model_error is not None:
            log.debug("dropping %d items from %s: model unavailable", len(items), source)
            return
        async with self._work_lock:
            t0 = time.perf_counter()
            try:
                changed = await asyncio.to_thread(self._ingest_snapshot, items)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._processing_failed(source, exc)
                return
            if not changed:
                return
            t1 = time.perf_counter()
            # New stories first: a first sighting is what an instant-marketing team waits for, so it is
            # scored and shown before the batch's updates of stories already on screen.
            for group in ([c for c in changed if c[1]], [c for c in changed if not c[1]]):
                if group and not await self._score_and_publish(source, group):
                    return
            log.debug(
                "%s: %d items -> %d trends (%d new) in %.0f ms (cluster %.0f ms)",
                source,
                len(items),
                len(changed),
                sum(1 for _, new in changed if new),
                1000 * (time.perf_counter() - t0),
                1000 * (t1 - t0),
            )

    def _processing_failed(self, source: str, exc: Exception) -> None:
        """Clustering or scoring a poll failed: the traceback to the log, one line to the user; polling goes on."""
        log.exception("processing items from %s failed", source)
        self._status("error", f"processing {source} failed: {one_line(str(exc))}", source=source)

    async def _score_and_publish(self, source: str, changed: list[tuple[Trend, bool]]) -> bool:
        """Score, store and publish one group of a poll's trends; False when scoring failed (reported)."""
        trends = [t for t, _ in changed]
        try:
            verdicts = await asyncio.to_thread(self.scorer.score_trends, trends)
            if len(verdicts) != len(trends):
                raise RuntimeError(f"scorer returned {len(verdicts)} results for {len(trends)} trends")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._processing_failed(source, exc)
            return False
        events: list[TrendEvent] = []
        unstored: list[str] = []
        last_error = ""
        for (trend, is_new), by_brand in zip(changed, verdicts, strict=True):
            self._remember(trend, by_brand)
            try:
                self.storage.save_trend(trend)
                for brand, verdict in by_brand.items():
                    self.storage.save_verdict(brand, verdict)
            except Exception as exc:
                unstored.append(trend.id)
                last_error = one_line(str(exc))
            events.append(TrendEvent(trend=trend, verdicts=by_brand, source=source, is_new=is_new))
        if unstored:  # one notice per group, not one per trend (a full disk fails them all)
            log.warning("could not store %d of %d trends from %s: %s", len(unstored), len(changed), source, last_error)
            log.debug("unstored trends: %s", ", ".join(unstored))
            self._status("error", f"could not store {len(unstored)} trend(s): {last_error}", source=source)
        self._publish(events)
        return True

    def _publish(self, events: list[TrendEvent]) -> None:
        """Emit scored trends, let the alert policy see each, and schedule a send of what it queued."""
        started = time.perf_counter()
        for event in events:
            self._emit(event)
            if self.alerts is not None:
                try:
                    self.alerts.consider(event)
                except Exception as exc:
                    log.exception("alert policy failed for trend %s", event.trend.id)
                    self._status("error", f"alert policy failed: {one_line(str(exc))}")
        if self.alerts is not None and events:
            self._request_flush()
        log.debug("published %d events in %.0f ms", len(events), 1000 * (time.perf_counter() - started))

    async def _rescore_recent(self, source: str) -> None:
        """Re-score the trends in memory after the risk evidence changed; emit those whose verdict moved."""
        if self._model_ready is not None:
            await self._model_ready.wait()
        if self._model_error is not None or not self._latest:
            return
        events: list[TrendEvent] = []
        async with self._work_lock:
            current = list(self._latest.values())
            try:
                scored = await asyncio.to_thread(self.scorer.score_trends, [t for t, _ in current])
            except Exception as exc:
                log.exception("re-scoring after %s failed", source)
                self._status("error", f"re-scoring after {source} failed: {one_line(str(exc))}")
                return
            for (trend, before), after in zip(current, scored, strict=True):
                moved = any(
                    before.get(b) is None or before[b].verdict != v.verdict or before[b].risk.level != v.risk.level
                    for b, v in after.items()
                )
                if not moved:
                    continue
                self._remember(trend, after)
                try:
                    for brand, verdict in after.items():
                        self.storage.save_verdict(brand, verdict)
                except Exception as exc:
                    log.warning("could not store verdicts of %s: %s", trend.id, exc)
                events.append(TrendEvent(trend=trend, verdicts=after, source=source, is_new=False, risk_changed=True))
        self._publish(events)

    def _ingest_snapshot(self, items: list[Any]) -> list[tuple[Trend, bool]]:
        return [(_snapshot(t), new) for t, new in self.pipeline.ingest(items)]

    def _remember(self, trend: Trend, verdicts: dict[str, Verdict]) -> None:
        self._latest[trend.id] = (trend, verdicts)
        self._latest.move_to_end(trend.id)
        while len(self._latest) > LATEST_KEEP:
            self._latest.popitem(last=False)

    def _request_flush(self) -> None:
        if self._stopping:
            return
        if self._flush_task is not None and not self._flush_task.done():
            self._flush_again = True
            return
        self._flush_task = self._spawn(self._flush_loop(), "onda-alerts-flush")

    async def _flush_job(self) -> None:
        """The periodic tick only requests a flush (coalesced with one already running): it never overlaps itself."""
        self._request_flush()

    async def _flush_loop(self) -> None:
        while True:
            self._flush_again = False
            await self._flush()
            if not self._flush_again or self._stopping:
                return

    async def _flush(self) -> None:
        if self.alerts is None:
            return
        async with self._flush_lock:
            try:
                await self.alerts.flush()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("sending alerts failed")
                self._status("error", f"sending alerts failed: {one_line(str(exc))}")

    # -- queries and feedback -------------------------------------------------------------------
    def recent(self, brand: str, limit: int = 500) -> list[tuple[Trend, Verdict]]:
        """Latest trends with `brand`'s verdict: in-memory (full breakdown) first, then storage."""
        out: dict[str, tuple[Trend, Verdict]] = {}
        for trend, verdicts in reversed(self._latest.values()):
            v = verdicts.get(brand)
            if v is not None:
                out[trend.id] = (trend, v)
            if len(out) >= limit:
                break
        if len(out) < limit:
            try:
                for trend in self.storage.recent_trends(limit=limit):
                    if trend.id in out:
                        continue
                    v = self.storage.get_verdict(trend.id, brand)
                    if v is not None:
                        out[trend.id] = (trend, v)
                    if len(out) >= limit:
                        break
            except Exception as exc:
                log.warning("could not read recent trends: %s", exc)
        rows = sorted(out.values(), key=lambda tv: tv[0].last_seen, reverse=True)
        return rows[:limit]

    def feedback(self, trend_id: str, brand: str, kind: str) -> None:
        self.storage.add_feedback(trend_id, brand, kind)

    def feedback_for(self, trend_id: str, brand: str) -> set[str]:
        return self.storage.feedback_for(trend_id, brand)

    def outbox(self, limit: int = 200) -> list[OutboxRow]:
        return self.storage.outbox(limit=limit)

    async def update_brand(self, brand: BrandDNA, *, save: bool = True) -> RescoreDiff:
        """Save the brand file (with backup), rebuild its index in a thread, re-score recent trends."""
        backup = await asyncio.to_thread(save_brand, brand) if save else None
        limit = self.settings.tui.recent_rescore
        async with self._work_lock:
            await asyncio.to_thread(self.scorer.replace_brand, brand)
            set_brands = getattr(self.alerts, "set_brands", None)
            if set_brands is not None:
                set_brands(self.scorer.brands)
            rows = self.recent(brand.name, limit)
            before = {t.id: v for t, v in rows}
            trends = [t for t, _ in rows]
            if len(trends) < limit:  # trends scored before this brand existed
                missing = [t for t, _ in reversed(self._latest.values()) if t.id not in before]
                trends += missing[: limit - len(trends)]
            scored = await asyncio.to_thread(self.scorer.score_trends, trends) if trends else []
        changes: list[VerdictChange] = []
        for trend, by_brand in zip(trends, scored, strict=True):
            after = by_brand.get(brand.name)
            if after is None:
                continue
            old = before.get(trend.id)
            merged = dict(self._latest[trend.id][1]) if trend.id in self._latest else {}
            merged.update(by_brand)
            if trend.id in self._latest:
                self._latest[trend.id] = (trend, merged)
            try:
                self.storage.save_verdict(brand.name, after)
            except Exception as exc:
                log.warning("could not store verdict: %s", exc)
            if old is not None and old.verdict != after.verdict:
                changes.append(
                    VerdictChange(
                        trend_id=trend.id,
                        title=trend.title,
                        before=old.verdict,
                        after=after.verdict,
                        fit_before=old.fit,
                        fit_after=after.fit,
                    )
                )
        diff = RescoreDiff(
            brand=brand.name, rescored=len(trends), changes=changes, backup=str(backup) if backup else None
        )
        self._status(
            "rescored",
            f"{brand.name}: re-scored {diff.rescored} trends, {len(changes)} changed",
            brand=brand.name,
            rescored=diff.rescored,
            changed=len(changes),
            new_opportunities=len(diff.new_opportunities),
            lost_opportunities=len(diff.lost_opportunities),
        )
        return diff
