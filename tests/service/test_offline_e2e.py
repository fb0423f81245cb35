"""End to end on the bundled Italian-day replay: real sources, real model, fake scorer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fakes import KeywordScorer

from monitor.clustering import Clusterer
from monitor.compose import HttpConnections
from monitor.config import Settings
from monitor.events import Event, SourceErrorEvent, TrendEvent
from monitor.models import Trend
from monitor.risk.factcheck import FactCheckStore
from monitor.service import MonitorService
from monitor.storage import Storage

pytestmark = pytest.mark.model


def offline_service(storage: Storage, embedder, factchecks: FactCheckStore | None = None) -> MonitorService:
    settings = Settings()
    return MonitorService(
        settings,
        storage=storage,
        scorer=KeywordScorer([], embedder),
        clusterer=Clusterer(embedder, storage, utcnow),
        connections=HttpConnections(settings, storage, offline=True, factchecks=factchecks),
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


async def test_offline_run_once_clusters_the_replayed_day(real_embedder, tmp_path) -> None:
    storage = Storage(tmp_path / "onda.db")
    svc = offline_service(storage, real_embedder)
    events: list[Event] = []
    svc.subscribe(events.append)
    await svc.start()
    try:
        await svc.run_once()
    finally:
        await svc.stop()
    assert not [e for e in events if isinstance(e, SourceErrorEvent)]
    assert len(svc.source_names()) >= 4
    items = sum(h.items_last for h in svc.health())
    trends = {e.trend.id: e.trend for e in events if isinstance(e, TrendEvent)}
    assert trends and len(trends) < items / 2  # stories, not items
    multi = [t for t in trends.values() if t.corroboration >= 3]
    assert len(multi) >= 5

    def story(word: str) -> Trend:
        found = [t for t in trends.values() if any(word in x for x in [t.title, *t.context])]
        return max(found, key=lambda t: t.corroboration)

    # The bundled day: one tennis story, one earthquake, one road accident (both with "morti"), one derby.
    sinner, quake, crash, derby = story("Sinner"), story("Terremoto"), story("Incidente"), story("Derby")
    assert len({sinner.id, quake.id, crash.id, derby.id}) == 4
    assert min(t.corroboration for t in (sinner, quake, crash, derby)) >= 3
    assert len(storage.recent_trends(limit=1000)) == len(svc.clusterer)


async def test_polled_fact_checks_are_stored_for_the_next_start(real_embedder, tmp_path) -> None:
    storage = Storage(tmp_path / "onda.db")
    store = FactCheckStore(embedder=real_embedder)
    svc = offline_service(storage, real_embedder, store)
    await svc.start()
    try:
        await svc.run_once()
    finally:
        await svc.stop()
    assert len(store) > 0
    again = Storage(tmp_path / "onda.db")  # a restart: what the poller learnt is still known
    stored = again.load_factchecks()
    again.close()
    assert len(stored) == len(store)
    assert any("facta" in fc.url for fc in stored)
