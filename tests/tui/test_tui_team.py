"""Two dashboards on one PostgreSQL store: a colleague's trends and feedback show within 2 s (LISTEN/NOTIFY).

Real MonitorServices (real scheduler, leases, store) under two Pilot-driven apps; only the scorer is the
keyword fake (this is about what travels between dashboards, not about judging text).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from conftest import settle
from fakes import KeywordScorer
from textual.widgets import DataTable

from brand_dna.dna import BrandDNA
from monitor.clustering import Clusterer
from monitor.compose import HttpConnections
from monitor.config import Settings
from monitor.models import SourceItem
from monitor.service import MonitorService
from monitor.sources.base import NotModified, PollContext
from monitor.storage import Storage
from tui.app import OndaApp

STORIES = ("caffè sospeso day a Napoli", "caffè espresso candidato Unesco")


class DeskSource:
    """The one source both dashboards know: whoever holds its lease polls it, once."""

    name = "desk"
    interval_s = 0.3

    def __init__(self, titles: Sequence[str]) -> None:
        self.titles = list(titles)
        self.polls = 0

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        self.polls += 1
        if self.polls > 1:
            raise NotModified()
        return [SourceItem(source=self.name, title=t, item_id=t) for t in self.titles]


def dashboard(url: str, brand: BrandDNA, analyser: object, source: DeskSource) -> tuple[OndaApp, Storage]:
    settings = Settings()
    settings.sources.jitter = 0.0
    storage = Storage(url)
    scorer = KeywordScorer([brand])
    service = MonitorService(
        settings,
        storage=storage,
        scorer=scorer,
        clusterer=Clusterer(scorer.embedder, storage, lambda: datetime.now(UTC), analyser=analyser),  # type: ignore[arg-type]
        connections=HttpConnections(settings, storage, sources=[source]),
        lease_s=60.0,  # the lease tick (every 5 s) cannot be what carries the changes within 2 s
    )
    app = OndaApp(service, paths=[])
    app.animation_level = "none"
    return app, storage


def rows(app: OndaApp, table: str) -> list[str]:
    return [str(k.value) for k in app.main.query_one(table, DataTable).rows]


async def until(pilot, cond, within: float) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while not cond():
        if time.monotonic() - started > within:
            app = pilot.app
            raise AssertionError(
                f"not within {within} s: opportunities {rows(app, '#opps')}, off-brand {rows(app, '#offbrand')}, "
                f"model {app.state.model_state!r}, {app.events_seen} events"
            )
        await pilot.pause(0.05)
    return time.monotonic() - started


async def test_feedback_in_one_dashboard_shows_in_the_other_within_two_seconds(pg_url, brand, analyser) -> None:
    source_a, source_b = DeskSource(STORIES), DeskSource(STORIES)
    app_a, store_a = dashboard(pg_url, brand, analyser, source_a)
    app_b, store_b = dashboard(pg_url, brand, analyser, source_b)
    with store_a, store_b:
        async with app_a.run_test(size=(110, 30)) as pa:
            await until(pa, lambda: len(rows(app_a, "#opps")) == 2, within=60)  # start-up (lemma tables), not measured
            async with app_b.run_test(size=(110, 30)) as pb:
                # B is a viewer of the desk (A holds its lease): A's stories reach it from the store.
                await until(pb, lambda: len(rows(app_b, "#opps")) == 2, within=60)
                assert source_b.polls == 0
                assert source_a.polls >= 1

                # A colleague marks the top story "not for us" in dashboard A ...
                await settle(pa, app_a)
                top = rows(app_a, "#opps")[0]
                await pa.press("n")
                await settle(pa, app_a)
                assert store_a.mark_for(top, brand.name) == "not_for_us"
                # ... and dashboard B moves it to the off-brand list, labelled as feedback, within 2 s.
                took = await until(pb, lambda: top not in rows(app_b, "#opps"), within=2.0)
                assert top in rows(app_b, "#offbrand")
                assert "not for us" in str(app_b.main.query_one("#offbrand", DataTable).get_row(top)[2])
                assert took < 2.0

                # A new story that A's poll stores shows in B within 2 s too (not at B's next lease tick).
                source_a.titles, source_a.polls = ["caffè al ginseng, boom nei bar"], 0
                took = await until(pb, lambda: len(rows(app_b, "#opps")) == 2, within=2.0)
                await asyncio.sleep(0)
                assert took < 2.0
