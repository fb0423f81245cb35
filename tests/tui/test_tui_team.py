"""Two dashboards on one PostgreSQL store: a colleague's feedback shows in the other within 2 s (LISTEN/NOTIFY).

Real MonitorServices (real scheduler, store, listener) under two Pilot-driven apps, on stories a worker
stored; only the scorer is the keyword fake (this is about what travels between dashboards, not about
judging text). Trends and verdicts another process stores: tests/service/test_team_views.py.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from conftest import settle
from fakes import KeywordScorer, keyword_service
from textual.widgets import DataTable

from brand_dna.dna import BrandDNA
from monitor.compose import HttpConnections
from monitor.config import Settings
from monitor.models import RiskAssessment, Trend, Verdict
from monitor.storage import Storage
from tui.app import OndaApp

STORIES = ("caffè sospeso day a Napoli", "caffè espresso candidato Unesco")


def seed(url: str, brand: BrandDNA) -> list[str]:
    """Two stories a worker stored earlier, both fits for the brand; returns their ids."""
    now = datetime.now(UTC)
    ids = []
    with Storage(url) as store:
        for n, title in enumerate(STORIES):
            trend = Trend(id=f"t{n}", title=title, lang="it", first_seen=now, last_seen=now, sources=["desk"])
            store.save_trend(trend)
            store.save_verdict(brand.name, Verdict(id=trend.id, verdict="fit", fit=0.9, matched="caffè", risk=RiskAssessment()))
            ids.append(trend.id)
    return ids


def dashboard(url: str, brand: BrandDNA, analyser: object, user: str) -> tuple[OndaApp, Storage]:
    settings = Settings()
    settings.sources.jitter = 0.0
    storage = Storage(url)
    service = keyword_service(
        settings,
        storage,
        KeywordScorer([brand]),
        analyser,  # type: ignore[arg-type]
        HttpConnections(settings, storage, sources=[]),
        lease_s=60.0,  # the lease tick (every 5 s) cannot be what carries the changes within 2 s
        user=user,
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
                f"model {app.state.model_state!r}, {app.events_seen} events, status {app.state.status_message!r}"
            )
        await pilot.pause(0.05)
    return time.monotonic() - started


async def test_feedback_in_one_dashboard_shows_in_the_other_within_two_seconds(pg_url, brand, analyser) -> None:
    ids = seed(pg_url, brand)
    app_a, store_a = dashboard(pg_url, brand, analyser, "anna")
    app_b, store_b = dashboard(pg_url, brand, analyser, "bob")
    with store_a, store_b:
        async with app_a.run_test(size=(110, 30)) as pa, app_b.run_test(size=(110, 30)) as pb:
            # start-up (lemma tables, model), not what is measured
            await until(pa, lambda: sorted(rows(app_a, "#opps")) == ids, within=60)
            await until(pb, lambda: sorted(rows(app_b, "#opps")) == ids, within=60)

            # Anna marks the top story "not for us" in her dashboard ...
            await settle(pa, app_a)
            top = rows(app_a, "#opps")[0]
            await pa.press("n")
            await settle(pa, app_a)
            assert store_a.mark_for(top, brand.name) == "not_for_us"
            # ... and Bob's dashboard moves it to the off-brand list, saying whose feedback it is, within 2 s.
            took = await until(pb, lambda: top not in rows(app_b, "#opps"), within=2.0)
            assert top in rows(app_b, "#offbrand")
            assert "not for us (anna's feedback)" in str(app_b.main.query_one("#offbrand", DataTable).get_row(top)[2])
            assert took < 2.0
