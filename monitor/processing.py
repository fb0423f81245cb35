"""The one processing path of scored trends: cluster -> score -> remember -> store -> emit -> alert policy.

`TrendProcessor` owns the clustering pipeline, the scorer calls and the scored trends held in
memory. Three things send trends down the same path (`_run`), each a `Cause`:

- a poll (`process`): items are clustered into stories; new stories are scored and published before
  the updates of stories already on screen (a first sighting is what a team waits for);
- new risk evidence (`rescore_recent`, after a fact-check feed found new debunks): the trends in
  memory are re-scored and those whose verdict or risk level moved are published as `risk_changed`;
- a DNA edit (`rescore_brand`): the recent trends are re-scored for the edited brand; its verdicts
  are stored and the caller gets the changes (no trend events: the DNA screen shows the diff).

Blocking work (model load, clustering, scoring) runs in worker threads, serialised by one lock
because the machine has few cores. A failure is logged and emitted as a status event; it never
stops polling. The processor also replays, for a viewer process, the trends another process
stored (`replay_stored`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import time
from collections.abc import Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from brand_dna.dna import BrandDNA
from monitor.api import AlertSink, TrendScorer, VerdictChange
from monitor.clustering import RESTORE_LIMIT, Clusterer, display_title
from monitor.events import EventBus, StatusKind, TrendEvent
from monitor.latest import LatestTrends
from monitor.models import Mark, SourceItem, Trend, Verdict
from monitor.storage import Storage, StorageError
from monitor.text import ERROR_CHARS, clean_text

log = logging.getLogger(__name__)

PEER_LOOKBACK = timedelta(minutes=10)
"""How far before the newest stored sighting a worker re-reads what others stored (commit delay, clock skew)."""


def snapshot(trend: Trend) -> Trend:
    """A copy the event loop can hand out while the pipeline keeps growing the original."""
    return dataclasses.replace(
        trend,
        context=list(trend.context),
        urls=list(trend.urls),
        sources=list(trend.sources),
        mentions=list(trend.mentions),
        joined=dict(trend.joined),
    )


class Cause(Enum):
    """Why a batch of trends goes down the path, and so what the path does with it."""

    POLL = "poll"  # new or updated stories: store trends and verdicts, emit, alert policy
    EVIDENCE = "evidence"  # new risk evidence: only trends whose verdict/risk moved; store verdicts, emit, alert
    BRAND = "brand"  # a DNA edit: store the brand's verdicts, refresh those held; no events


@dataclass(frozen=True, slots=True)
class Job:
    """One trend going down the path, with the verdicts it was shown with so far (re-scores)."""

    trend: Trend
    is_new: bool = False
    before: dict[str, Verdict] = field(default_factory=dict)


def _moved(before: dict[str, Verdict], after: dict[str, Verdict]) -> bool:
    return any(
        before.get(b) is None or before[b].verdict != v.verdict or before[b].risk.level != v.risk.level
        for b, v in after.items()
    )


class TrendProcessor:
    """Clusters, scores, stores, emits and hands scored trends to the alert policy; see the module docstring."""

    def __init__(
        self,
        *,
        storage: Storage,
        scorer: TrendScorer,
        clusterer: Clusterer,
        alerts: AlertSink | None,
        bus: EventBus,
        clock: Callable[[], datetime],
        credibility_dir: Path | None = None,
    ) -> None:
        """Wire the pipeline to its store and scorer.

        `credibility_dir`: where the source-credibility lists live, checked once the model is ready
        (None when the scorer has no risk gate).
        """
        self.storage = storage
        self.scorer = scorer
        self.clusterer = clusterer
        self.alerts = alerts
        self.bus = bus
        self.clock = clock
        self.credibility_dir = credibility_dir
        self.latest = LatestTrends(storage)
        self._work_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._model_ready: asyncio.Event | None = None
        self._model_error: str | None = None
        self._synced_at: datetime | None = None  # viewer: last_seen of the newest stored trend replayed
        self._peers_seen_at: datetime | None = None  # poller: last_seen of the newest stored trend taken in

    # -- life-cycle ------------------------------------------------------------------------------
    def start(self, *, replay_since: datetime) -> None:
        """Load the model in the background; a viewer replays stored trends seen after `replay_since`."""
        self._model_ready = asyncio.Event()
        self._synced_at = replay_since
        self._spawn(self._load_model(), "onda-model-load")

    def in_flight(self) -> list[asyncio.Task[Any]]:
        """Model load and processing tasks still running (stop cancels them)."""
        return [t for t in self._tasks if not t.done()]

    async def drain(self) -> None:
        """Wait until every task (model load, processing of early-delivered items) has finished."""
        while True:
            pending = [t for t in self._tasks if not t.done() and t is not asyncio.current_task()]
            if not pending:
                return
            await asyncio.gather(*pending, return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _load_model(self) -> None:
        assert self._model_ready is not None
        self.bus.status(StatusKind.MODEL_LOADING, "loading the embedding model and brand indexes")
        try:
            await asyncio.to_thread(self.scorer.load)
            await asyncio.to_thread(self.clusterer.analyser.ensure)
            since = self.clock() - self.clusterer.config.window
            stored = self.storage.recent_trends(limit=RESTORE_LIMIT, since=since)  # on the loop: one DB user
            self._peers_seen_at = max((t.last_seen for t in stored), default=None)
            restored = await asyncio.to_thread(self.clusterer.restore, stored)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._model_error = clean_text(str(exc), ERROR_CHARS)
            log.error("model load failed: %s", self._model_error)
            self.bus.status(StatusKind.ERROR, f"model load failed: {self._model_error}")
        else:
            self.bus.status(StatusKind.MODEL_READY, "model ready", restored=restored)
            if self.credibility_dir is not None:
                self._notice_credibility(self.credibility_dir)
        finally:
            self._model_ready.set()

    def _notice_credibility(self, directory: Path) -> None:
        """Say clearly when no source-credibility list is installed (the layer is then mainstream-only)."""
        try:
            from monitor.risk.credibility import missing_lists_notice

            notice = missing_lists_notice(directory)
        except Exception as exc:  # a notice must never stop the service
            notice = f"credibility lists unreadable: {clean_text(str(exc), ERROR_CHARS)}"
        if notice:
            log.warning("%s", notice)
            self.bus.status(StatusKind.NOTICE, notice, topic="credibility")

    async def _model_usable(self) -> bool:
        if self._model_ready is not None:
            await self._model_ready.wait()
        return self._model_error is None

    # -- the three causes ------------------------------------------------------------------------
    def submit(self, source: str, items: list[SourceItem]) -> None:
        """Process items in the background (a part of a source delivered them before its poll ended)."""
        self._spawn(self.process(source, items), f"onda-process-{source}")

    async def process(self, source: str, items: list[SourceItem]) -> None:
        """A poll's items: cluster them, then send new stories and then updated ones down the path."""
        if not await self._model_usable():
            log.debug("dropping %d items from %s: model unavailable", len(items), source)
            return
        async with self._work_lock:
            t0 = time.perf_counter()
            try:
                peers = self._stored_by_peers()
                changed = await asyncio.to_thread(self._ingest_snapshot, items, peers)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._failed(source, exc)
                return
            if not changed:
                return
            t1 = time.perf_counter()
            # New stories first: a first sighting is what an instant-marketing team waits for, so it is
            # scored and shown before the batch's updates of stories already on screen.
            for group in ([j for j in changed if j.is_new], [j for j in changed if not j.is_new]):
                if not group:
                    continue
                try:
                    await self._run(Cause.POLL, group, source=source)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self._failed(source, exc)
                    return
            log.debug(
                "%s: %d items -> %d trends (%d new) in %.0f ms (cluster %.0f ms)",
                source,
                len(items),
                len(changed),
                sum(1 for j in changed if j.is_new),
                1000 * (time.perf_counter() - t0),
                1000 * (t1 - t0),
            )

    def _stored_by_peers(self) -> list[Trend]:
        """Trends stored since we last looked, by us or by other workers sharing the store (read on the loop).

        The clusterer takes them in before a poll is clustered, so one story stays one row whichever
        worker saw it first. A store that cannot be read gives none: clustering goes on with what we hold.
        """
        # Look back PEER_LOOKBACK before the newest sighting taken in: another worker stores a story seconds
        # after it clustered it (scoring comes first), and hosts' clocks differ. Re-reading is harmless.
        newest = self._peers_seen_at
        since = newest - PEER_LOOKBACK if newest is not None else self.clock() - self.clusterer.config.window
        try:
            stored = self.storage.recent_trends(limit=RESTORE_LIMIT, since=since)
        except StorageError as exc:
            log.warning("could not read the trends other workers stored: %s", exc)
            return []
        if stored:
            self._peers_seen_at = max(newest or stored[0].last_seen, *(t.last_seen for t in stored))
        return stored

    def _ingest_snapshot(self, items: list[SourceItem], peers: Sequence[Trend] = ()) -> list[Job]:
        if peers:
            self.clusterer.sync(peers)
        return [Job(snapshot(t), is_new=new) for t, new in self.clusterer.ingest(items)]

    def _failed(self, source: str, exc: Exception) -> None:
        """Clustering or scoring a poll failed: the traceback to the log, one line to the user; polling goes on."""
        log.exception("processing items from %s failed", source)
        self.bus.status(StatusKind.ERROR, f"processing {source} failed: {clean_text(str(exc), ERROR_CHARS)}", source=source)

    async def rescore_recent(self, source: str) -> None:
        """New risk evidence (`source` found debunks): re-score the trends held; publish those that moved."""
        if not await self._model_usable() or not len(self.latest):
            return
        async with self._work_lock:
            jobs = [Job(trend, before=verdicts) for trend, verdicts in self.latest.oldest_first()]
            try:
                await self._run(Cause.EVIDENCE, jobs, source=source)
            except Exception as exc:
                log.exception("re-scoring after %s failed", source)
                self.bus.status(StatusKind.ERROR, f"re-scoring after {source} failed: {clean_text(str(exc), ERROR_CHARS)}")

    async def rescore_brand(self, brand: BrandDNA, limit: int) -> tuple[int, list[VerdictChange]]:
        """Swap in an edited brand, re-score its `limit` latest trends; (how many, the verdicts that changed)."""
        async with self._work_lock:
            await asyncio.to_thread(self.scorer.replace_brand, brand)
            if self.alerts is not None:
                self.alerts.set_brands(self.scorer.brands)
            rows = self.latest.recent(brand.name, limit)
            jobs = [Job(trend, before={brand.name: verdict}) for trend, verdict in rows]
            if len(jobs) < limit:  # trends scored before this brand existed
                seen = {t.id for t, _ in rows}
                missing = [Job(t) for t, _ in self.latest.newest_first() if t.id not in seen]
                jobs += missing[: limit - len(jobs)]
            done = await self._run(Cause.BRAND, jobs, brand=brand.name) if jobs else []
        changes: list[VerdictChange] = []
        for job, verdicts in done:
            old, new = job.before.get(brand.name), verdicts[brand.name]
            if old is not None and old.verdict != new.verdict:
                changes.append(
                    VerdictChange(
                        trend_id=job.trend.id,
                        title=display_title(job.trend),
                        before=old.verdict,
                        after=new.verdict,
                        fit_before=old.fit,
                        fit_after=new.fit,
                    )
                )
        return len(jobs), changes

    # -- the path ------------------------------------------------------------------------------------
    async def _run(
        self, cause: Cause, jobs: Sequence[Job], *, source: str | None = None, brand: str | None = None
    ) -> list[tuple[Job, dict[str, Verdict]]]:
        """Score -> keep what the cause keeps -> remember -> store -> emit -> alert policy; returns what was kept.

        Scoring errors are raised (each cause reports them its own way); storage errors are reported here.
        """
        scored = await asyncio.to_thread(self.scorer.score_trends, [j.trend for j in jobs])
        if len(scored) != len(jobs):
            raise RuntimeError(f"scorer returned {len(scored)} results for {len(jobs)} trends")
        if cause is Cause.EVIDENCE:
            kept = [(j, v) for j, v in zip(jobs, scored, strict=True) if _moved(j.before, v)]
        elif cause is Cause.BRAND:
            kept = [(j, v) for j, v in zip(jobs, scored, strict=True) if brand in v]
        else:
            kept = list(zip(jobs, scored, strict=True))
        for job, verdicts in kept:
            if cause is Cause.BRAND:
                self.latest.merge(job.trend, verdicts)
            else:
                self.latest.put(job.trend, verdicts)
        self._store(cause, kept, source=source, brand=brand)
        if cause is not Cause.BRAND:
            brands = {name for _, verdicts in kept for name in verdicts}
            marks = self._marks([job.trend.id for job, _ in kept], brands=brands)
            self._publish(
                [
                    TrendEvent(
                        trend=job.trend,
                        verdicts=verdicts,
                        source=source or "",
                        is_new=job.is_new,
                        risk_changed=cause is Cause.EVIDENCE,
                        marks=marks.get(job.trend.id, {}),
                    )
                    for job, verdicts in kept
                ]
            )
        return kept

    def _store(
        self, cause: Cause, kept: list[tuple[Job, dict[str, Verdict]]], *, source: str | None, brand: str | None
    ) -> None:
        """Store what the cause changed: a poll its trends and verdicts, a re-score the verdicts (of `brand`)."""
        unstored: list[str] = []
        last_error = ""
        for job, verdicts in kept:
            try:
                if cause is Cause.POLL:
                    self.storage.save_trend(job.trend)
                for name, verdict in verdicts.items():
                    if brand is None or name == brand:
                        self.storage.save_verdict(name, verdict)
            except Exception as exc:
                unstored.append(job.trend.id)
                last_error = clean_text(str(exc), ERROR_CHARS)
        if not unstored:
            return
        # One notice per batch, not one per trend (a full disk fails them all).
        origin = source or f"the {brand} DNA edit"
        log.warning("could not store %d of %d trends from %s: %s", len(unstored), len(kept), origin, last_error)
        log.debug("unstored trends: %s", ", ".join(unstored))
        message = f"could not store {len(unstored)} trend(s): {last_error}"
        if source is None:
            self.bus.status(StatusKind.ERROR, message)
        else:
            self.bus.status(StatusKind.ERROR, message, source=source)

    def _marks(self, trend_ids: list[str], brands: Collection[str]) -> dict[str, dict[str, Mark]]:
        """Each story's current feedback mark per brand (trend id -> brand -> mark), for the events.

        A store that cannot be read gives no marks: the events still go out (the store watchdog reports it).
        """
        out: dict[str, dict[str, Mark]] = {}
        for brand in brands:
            try:
                found = self.storage.marks(brand, trend_ids)
            except StorageError as exc:
                log.warning("could not read feedback marks for %s: %s", brand, exc)
                continue
            for tid, mark in found.items():
                out.setdefault(tid, {})[brand] = mark
        return out

    def _publish(self, events: list[TrendEvent]) -> None:
        """Emit scored trends, let the alert policy see each, and tell the alerts there is work."""
        started = time.perf_counter()
        for event in events:
            self.bus.emit(event)
            if self.alerts is not None:
                try:
                    self.alerts.consider(event)
                except Exception as exc:
                    log.exception("alert policy failed for trend %s", event.trend.id)
                    self.bus.status(StatusKind.ERROR, f"alert policy failed: {clean_text(str(exc), ERROR_CHARS)}")
        if self.alerts is not None and events:
            self.alerts.request_flush()
        log.debug("published %d events in %.0f ms", len(events), 1000 * (time.perf_counter() - started))

    # -- reading ----------------------------------------------------------------------------------
    def refresh_stored_verdicts(self, brands: Sequence[str], limit: int = 300) -> int:
        """Viewer: emit the held trends whose stored verdict or risk level another process changed.

        E.g. the poller's re-score after a new debunk: `risk_changed` events; returns how many. One query
        per brand. Raises StorageError (nothing is emitted then; the next change or tick tries again).
        """
        held = list(itertools.islice(self.latest.newest_first(), limit))
        ids = [trend.id for trend, _ in held]
        if not ids:
            return 0
        stored = {brand: self.storage.verdicts_for(brand, ids) for brand in brands}
        moved: list[tuple[Trend, dict[str, Verdict]]] = []
        for trend, verdicts in held:
            after = {brand: found[trend.id] for brand, found in stored.items() if trend.id in found}
            before = {brand: verdicts[brand] for brand in after if brand in verdicts}
            if after and before and _moved(before, after):
                self.latest.put(trend, {**verdicts, **after})
                moved.append((trend, after))
        marks = self._marks([trend.id for trend, _ in moved], brands=brands) if moved else {}
        for trend, after in moved:
            self.bus.emit(
                TrendEvent(
                    trend=trend,
                    verdicts=after,
                    source="store",
                    is_new=False,
                    risk_changed=True,
                    marks=marks.get(trend.id, {}),
                )
            )
        return len(moved)

    def replay_stored(self, brands: Sequence[str]) -> None:
        """Viewer: emit the trends another process stored since we last looked (no alert policy: it alerts).

        Raises StorageError (nothing is emitted then; the next tick tries again).
        """
        since = self._synced_at
        found: list[tuple[Trend, dict[str, Verdict]]] = []
        for trend in reversed(self.storage.recent_trends(limit=500, since=since)):  # oldest first
            known = self.latest.get(trend.id)
            if known is not None and known[0].last_seen >= trend.last_seen:
                continue
            verdicts = {b: self.storage.get_verdict(trend.id, b) for b in brands}
            if any(v is None for v in verdicts.values()):
                continue  # the poller is still writing its verdicts: next tick
            found.append((trend, {b: v for b, v in verdicts.items() if v is not None}))
        marks = self._marks([trend.id for trend, _ in found], brands=brands) if found else {}
        events: list[TrendEvent] = []
        for trend, scored in found:
            self.latest.put(trend, scored)
            is_new = since is None or trend.first_seen >= since
            events.append(
                TrendEvent(trend=trend, verdicts=scored, source="store", is_new=is_new, marks=marks.get(trend.id, {}))
            )
            if since is None or trend.last_seen > since:
                self._synced_at = trend.last_seen
        for event in events:
            self.bus.emit(event)
