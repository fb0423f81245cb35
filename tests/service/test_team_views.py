"""A viewer sees what the poller re-judged: a verdict changed in the store (a re-score after a new debunk)
reaches the other process as a `risk_changed` event; on PostgreSQL within 2 s (LISTEN/NOTIFY), on SQLite at
the lease tick."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from fakes import KeywordScorer, OnceSource, keyword_service, recorded, wait_for

from brand_dna.dna import BrandDNA
from monitor.clustering import TextAnalyser
from monitor.compose import HttpConnections
from monitor.config import Settings
from monitor.events import Event, TrendEvent
from monitor.service import MonitorService
from monitor.storage import Storage


def make(target: str, brand: BrandDNA, analyser: TextAnalyser, lease_s: float) -> tuple[MonitorService, list[Event]]:
    settings = Settings()
    settings.sources.jitter = 0.0
    storage = Storage(target)
    sources = [OnceSource("desk", ["caffè sospeso day"])]
    svc = keyword_service(
        settings, storage, KeywordScorer([brand]), analyser, HttpConnections(settings, storage, sources=sources), lease_s=lease_s
    )
    return svc, recorded(svc)


async def test_a_verdict_the_poller_changed_reaches_the_viewer(store_target: str, brand: BrandDNA, analyser: TextAnalyser) -> None:
    postgres = store_target.startswith("postgresql:")
    lease_s, within = (60.0, 2.0) if postgres else (0.6, 5.0)  # PostgreSQL: faster than its 5 s lease tick
    poller, _ = make(store_target, brand, analyser, lease_s)
    viewer, seen = make(store_target, brand, analyser, lease_s)
    await poller.start()
    try:
        await wait_for(lambda: bool(poller.recent("Acme")), within=60)
        await viewer.start()
        await wait_for(lambda: viewer.polled_elsewhere() == {"desk": poller.holder}, within=60)
        await wait_for(lambda: any(isinstance(e, TrendEvent) and e.source == "store" for e in seen), within=60)
        trend, verdict = viewer.recent("Acme")[0]
        assert verdict.verdict == "fit"

        # The poller re-judges the story (as after a debunk a fact-check feed brought) and stores it.
        risky = replace(verdict, verdict="risky", risk=replace(verdict.risk, level="high", categories=("misinformation",)))
        poller.storage.save_verdict("Acme", risky)

        def changed() -> list[TrendEvent]:
            return [e for e in seen if isinstance(e, TrendEvent) and e.risk_changed and e.trend.id == trend.id]

        await wait_for(lambda: bool(changed()), within=within)
        assert changed()[0].verdicts["Acme"].verdict == "risky"
        assert viewer.recent("Acme")[0][1].risk.level == "high"
        await asyncio.sleep(0.3)
        assert len(changed()) == 1  # once, not again at every later change or tick
    finally:
        await viewer.stop()
        await poller.stop()
        viewer.storage.close()
        poller.storage.close()
