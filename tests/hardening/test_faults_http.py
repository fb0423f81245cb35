"""Source servers misbehaving on 127.0.0.1: one hangs, one floods 10 MB, one flaps ok/500/ok.

The real adapters (Bluesky, GDELT, Mastodon) and the real HttpFetcher and MonitorService run against
them; only the scorer is a keyword stand-in (these tests judge plumbing, not text).
"""

from __future__ import annotations

import asyncio
import logging
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from fakes import KeywordScorer, wait_for
from hardening_support import TEN_MB, LoopbackServer, flood, json_response, utcnow

from brand_dna.dna import BrandDNA
from monitor.clustering import Clusterer, TextAnalyser
from monitor.compose import HttpConnections
from monitor.config import HttpSettings, Settings
from monitor.events import Event, SourceErrorEvent, SourceHealthEvent, TrendEvent
from monitor.service import MonitorService
from monitor.sources.base import PollContext, SourceError
from monitor.sources.bluesky import BlueskySource
from monitor.sources.gdelt import GdeltSource
from monitor.sources.http import HttpFetcher
from monitor.storage import Storage

Serve = Callable[[Callable[[web.Request], Awaitable[web.StreamResponse]]], Awaitable[LoopbackServer]]
TOPICS = {"topics": [{"topic": "caffè sospeso", "link": "/profile/x/feed/caffe"}, {"topic": "Sanremo 2027"}]}


def build_service(
    settings: Settings, brand: BrandDNA, analyser: TextAnalyser, sources: list[Any]
) -> tuple[MonitorService, list[Event]]:
    storage = Storage(settings.storage.path)
    scorer = KeywordScorer([brand])
    clusterer = Clusterer(scorer.embedder, storage, utcnow, analyser=analyser)
    svc = MonitorService(
        settings,
        storage=storage,
        scorer=scorer,
        clusterer=clusterer,
        connections=HttpConnections(settings, storage, sources=sources),
    )
    events: list[Event] = []
    svc.subscribe(events.append)
    return svc, events


async def hang(request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(60)
    return web.Response(text="too late")


async def flood_with_length(request: web.Request) -> web.StreamResponse:
    """The same 10 MB, honestly announced: refused from the header, before reading the body."""
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.content_length = TEN_MB
    await resp.prepare(request)
    chunk = b"x" * (64 * 1024)
    try:
        for _ in range(TEN_MB // len(chunk)):
            await resp.write(chunk)
    except (ConnectionResetError, RuntimeError):
        pass
    return resp


# -- hang ----------------------------------------------------------------------------------------------------
async def test_hanging_server_times_out_as_source_error(serve: Serve) -> None:
    server = await serve(hang)
    async with aiohttp.ClientSession() as session:
        fetcher = HttpFetcher(session, HttpSettings(total_timeout_s=0.5, connect_timeout_s=0.5))
        source = BlueskySource(url=server.base_url + "/xrpc/topics")
        started = time.monotonic()
        with pytest.raises(SourceError, match=r"timed out after 0.5 s") as info:
            await source.poll(PollContext(fetcher=fetcher, now=utcnow))
    assert time.monotonic() - started < 3
    assert "\n" not in str(info.value)


async def test_service_keeps_going_when_one_source_hangs(
    serve: Serve, fast_settings: Settings, brand: BrandDNA, analyser: TextAnalyser
) -> None:
    stuck = await serve(hang)
    good = await serve(lambda r: _ok(TOPICS))
    sources = [
        BlueskySource(url=stuck.base_url + "/xrpc/topics", interval_s=3600, name="stuck"),
        BlueskySource(url=good.base_url + "/xrpc/topics", interval_s=3600, name="good"),
    ]
    svc, events = build_service(fast_settings, brand, analyser, sources)
    await svc.start()
    started = time.monotonic()
    try:
        await svc.run_once()
        elapsed = time.monotonic() - started
        health = {h.name: h for h in svc.health()}
    finally:
        await svc.stop()
    assert elapsed < 5, f"run_once waited {elapsed:.1f} s for a hung server"
    assert not health["stuck"].ok and "timed out" in (health["stuck"].last_error or "")
    assert health["good"].ok and health["good"].items_last == 2
    assert {e.trend.title for e in events if isinstance(e, TrendEvent) and e.source == "good"} >= {"caffè sospeso"}
    assert [e.source for e in events if isinstance(e, SourceErrorEvent)] == ["stuck"]


async def _ok(obj: Any) -> web.StreamResponse:
    return json_response(obj)


# -- 10 MB -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("handler", [flood, flood_with_length], ids=["streamed", "content-length"])
async def test_ten_megabytes_are_refused_with_bounded_memory(serve: Serve, handler: Any) -> None:
    server = await serve(handler)
    cap = 1_000_000
    async with aiohttp.ClientSession() as session:
        fetcher = HttpFetcher(session, HttpSettings(max_bytes=cap, total_timeout_s=10))
        source = GdeltSource(url=server.base_url + "/api/v2/doc/doc", min_interval_s=0)
        tracemalloc.start()
        try:
            with pytest.raises(SourceError, match="too large") as info:
                await source.poll(PollContext(fetcher=fetcher, now=utcnow))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert str(cap) in str(info.value)
    limit = 3 * cap  # server and client share this process: both stream, so neither may hold the 10 MB
    assert peak < limit, f"peak {peak / 1e6:.1f} MB while refusing a 10 MB body (cap {cap / 1e6:.0f} MB)"


async def test_ten_megabytes_through_the_service(
    serve: Serve, fast_settings: Settings, brand: BrandDNA, analyser: TextAnalyser
) -> None:
    server = await serve(flood)
    fast_settings.http.total_timeout_s = 10
    sources = [GdeltSource(url=server.base_url + "/api/v2/doc/doc", interval_s=3600, min_interval_s=0)]
    svc, events = build_service(fast_settings, brand, analyser, sources)
    await svc.start()
    try:
        await svc.run_once()
        health = svc.health()[0]
    finally:
        await svc.stop()
    assert not health.ok and "too large" in (health.last_error or "")
    assert not [e for e in events if isinstance(e, TrendEvent)]


# -- flapping ------------------------------------------------------------------------------------------------
async def test_flapping_source_fails_once_and_recovers_once(
    serve: Serve, fast_settings: Settings, brand: BrandDNA, analyser: TextAnalyser, caplog: pytest.LogCaptureFixture
) -> None:
    answers = ["ok", "500", "ok"]

    async def flap(request: web.Request) -> web.StreamResponse:
        answer = answers.pop(0) if answers else "ok"
        if answer == "500":
            return web.Response(status=500, text="<html>Internal Server Error</html>", content_type="text/html")
        return json_response(TOPICS)

    server = await serve(flap)
    source = BlueskySource(url=server.base_url + "/xrpc/topics", interval_s=3600)
    svc, events = build_service(fast_settings, brand, analyser, [source])
    caplog.set_level(logging.INFO, logger="monitor.runner")
    await svc.start()
    try:
        await wait_for(lambda: len(server.requests) >= 1 and svc.health()[0].last_success is not None, within=10.0)
        await svc.poll_now("bluesky")  # 500
        failing = svc.health()[0]
        await svc.poll_now("bluesky")  # ok again
        recovered = svc.health()[0]
    finally:
        await svc.stop()
    assert len(server.requests) == 3
    assert not failing.ok and failing.consecutive_failures == 1 and "HTTP 500" in (failing.last_error or "")
    assert recovered.ok and recovered.last_success is not None and recovered.last_success > failing.last_error_at
    errors = [e for e in events if isinstance(e, SourceErrorEvent)]
    assert len(errors) == 1 and errors[0].source == "bluesky" and errors[0].consecutive_failures == 1
    states = [e.health.ok for e in events if isinstance(e, SourceHealthEvent)]
    transitions = [ok for i, ok in enumerate(states) if i == 0 or ok != states[i - 1]]
    assert transitions == [True, False, True]  # one transition to failing, one back
    warnings = [r for r in caplog.records if "failed" in r.getMessage() and r.levelno == logging.WARNING]
    recoveries = [r for r in caplog.records if "recovered" in r.getMessage()]
    assert len(warnings) == 1 and len(recoveries) == 1
    # the recovered poll did not re-announce unchanged stories as new
    new_titles = [e.trend.title for e in events if isinstance(e, TrendEvent) and e.is_new]
    assert len(new_titles) == len(set(new_titles))
