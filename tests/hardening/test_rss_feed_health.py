"""RSS health per feed: a broken feed is visible on its own while the other feeds work; a slow feed holds up only itself."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from aiohttp import web
from fakes import KeywordScorer, wait_for
from hardening_support import utcnow

from brand_dna.dna import BrandDNA
from monitor.clustering import Clusterer, TextAnalyser
from monitor.compose import HttpConnections
from monitor.config import Settings
from monitor.events import SourceErrorEvent, TrendEvent
from monitor.service import MonitorService
from monitor.sources.rss import RssSource
from monitor.storage import Storage


def rss(title: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>{title}</title><link>https://example.com/{abs(hash(title))}</link></item>"
        "</channel></rss>"
    ).encode()


async def test_a_failing_feed_is_its_own_health_problem_and_a_slow_one_holds_up_only_itself(
    serve: Any, fast_settings: Settings, brand: BrandDNA, analyser: TextAnalyser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="monitor.runner")
    broken = {"on": True}
    release_slow = asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.path == "/good.xml":
            return web.Response(body=rss("caffè sospeso in piazza"), content_type="application/rss+xml")
        if request.path == "/broken.xml":
            if broken["on"]:
                return web.Response(status=500, text="boom")
            return web.Response(body=rss("torrefazione aperta al pubblico"), content_type="application/rss+xml")
        await release_slow.wait()  # /slow.xml: answers only when the test says so
        return web.Response(body=rss("neve a Milano"), content_type="application/rss+xml")

    server = await serve(handler)
    fast_settings.http.total_timeout_s = 30.0
    storage = Storage(fast_settings.storage.path)
    scorer = KeywordScorer([brand])
    source = RssSource(feeds=[server.base_url + p for p in ("/good.xml", "/broken.xml", "/slow.xml")], interval_s=3600)
    svc = MonitorService(
        fast_settings,
        storage=storage,
        scorer=scorer,
        connections=HttpConnections(fast_settings, storage, sources=[source]),
        clusterer=Clusterer(scorer.embedder, storage, utcnow, analyser=analyser),
    )
    events: list[Any] = []
    svc.subscribe(events.append)
    await svc.start()
    try:
        # the good feed's story is out while the slow feed still hangs
        await wait_for(lambda: any(isinstance(e, TrendEvent) for e in events), within=30)
        assert "caffè sospeso in piazza" in [e.trend.title for e in events if isinstance(e, TrendEvent)]
        assert "/slow.xml" in server.requests and not release_slow.is_set()
        release_slow.set()
        await wait_for(lambda: len([e for e in events if isinstance(e, TrendEvent)]) >= 2, within=30)

        feed = "rss:127.0.0.1/broken.xml"
        health = {h.name: h for h in svc.health()}
        assert health["rss"].ok  # the source works...
        assert not health[feed].ok and "500" in (health[feed].last_error or "")  # ...and its broken feed shows
        assert health["rss:127.0.0.1/good.xml"].ok
        assert storage.get_health(feed) is not None and not storage.get_health(feed).ok  # type: ignore[union-attr]
        errors = [e for e in events if isinstance(e, SourceErrorEvent)]
        assert [e.source for e in errors] == [feed]

        await svc.poll_now("rss")  # still broken: another event, no second log line
        assert len([e for e in events if isinstance(e, SourceErrorEvent)]) == 2
        broken["on"] = False
        await svc.poll_now("rss")
        assert {h.name: h for h in svc.health()}[feed].ok
    finally:
        release_slow.set()
        await svc.stop()
        storage.close()
    lines = [r.getMessage() for r in caplog.records if "broken.xml" in r.getMessage()]
    assert len([m for m in lines if "failed" in m]) == 1, lines  # logged once on failure...
    assert len([m for m in lines if "recovered" in m]) == 1, lines  # ...and once on recovery
