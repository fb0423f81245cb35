"""Offline replay: every bundled snapshot parses through the real pollers via ReplayServer."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from monitor.config import Settings
from monitor.offline import FACTCHECK_FEEDS, OFFLINE_FEEDS, offline_settings
from monitor.offline.server import ReplayServer, render_template, snapshot_names, snapshot_text
from monitor.sources import build_sources
from monitor.sources.base import NotModified, PollContext, StreamSource
from monitor.sources.http import HttpFetcher
from monitor.sources.rss import RssSource

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


def test_every_snapshot_renders_without_leftover_placeholders() -> None:
    names = snapshot_names()
    assert len(names) >= 12
    for name in names:
        text = render_template(snapshot_text(name), NOW)
        assert "{{" not in text, name


def test_render_formats() -> None:
    assert render_template("{{-2h|rfc822}}", NOW) == "Mon, 23 Nov 2026 09:00:00 +0000"
    assert render_template("{{-2h|rfc822pt}}", NOW) == "Mon, 23 Nov 2026 01:00:00 -0800"
    assert render_template("{{-1d|rfc822pt}}", datetime(2026, 7, 3, 16, tzinfo=UTC)) == "Thu, 2 Jul 2026 08:00:00 -0800"
    assert render_template("{{-30m|gdelt}}", NOW) == "20261123T103000Z"
    assert render_template("{{-1d|day}}", NOW) == str(int(datetime(2026, 11, 22, tzinfo=UTC).timestamp()))
    assert render_template("{{0|Y}}/{{0|m}}/{{0|d}}", NOW) == "2026/11/23"


@pytest.fixture
async def replay() -> ReplayServer:  # type: ignore[misc]
    server = ReplayServer(now=lambda: NOW)
    await server.start()
    yield server
    await server.stop()


async def test_all_snapshots_through_the_real_pollers(replay: ReplayServer) -> None:
    assert replay.base_url.startswith("http://127.0.0.1:")
    async with aiohttp.ClientSession() as session:
        ctx = PollContext(fetcher=HttpFetcher(session), now=lambda: NOW)
        items = []
        for source in build_sources(Settings(), base_url=replay.base_url):
            if hasattr(source, "min_interval_s"):
                source.min_interval_s = 0.0
            got = await source.poll(ctx)
            assert got, source.name
            assert not getattr(source, "last_errors", {}), source.name
            items.extend(got)
            with pytest.raises(NotModified):  # ETag round trip against the replay server (a stream: nothing new)
                await source.poll(ctx)
            if isinstance(source, StreamSource):
                await source.close()
    per_source = Counter(i.source for i in items)
    assert len(per_source) >= 5
    assert per_source["google_trends"] >= 15
    assert per_source["rss"] >= 15
    # Fresh: dates are rendered relative to the server's "now".
    dated = [i.published for i in items if i.published is not None]
    assert dated and all(NOW - timedelta(days=2) <= d <= NOW for d in dated)

    # The same stories appear in several sources, so clustering has something to merge.
    def sources_mentioning(pattern: str) -> set[str]:
        rx = re.compile(pattern, re.IGNORECASE)
        return {i.source for i in items if rx.search(" ".join((i.title, *i.context)))}

    assert len(sources_mentioning(r"sinner")) >= 5
    assert len(sources_mentioning(r"terremoto|earthquake")) >= 5
    assert len(sources_mentioning(r"espresso")) >= 4
    assert len(sources_mentioning(r"sanremo")) >= 4
    assert len(sources_mentioning(r"premierato")) >= 4
    # The hoax comes from a low-credibility domain; the debunk from a fact-checker.
    urls = {u for i in items for u in i.urls}
    assert any("ultimora24.it" in u for u in urls)
    assert any("facta.news" in u for u in urls)
    assert {i.lang for i in items} >= {"it", "en"}


async def test_factcheck_feeds_are_served(replay: ReplayServer) -> None:
    async with aiohttp.ClientSession() as session:
        ctx = PollContext(fetcher=HttpFetcher(session), now=lambda: NOW)
        source = RssSource(feeds=[replay.base_url + p for p in FACTCHECK_FEEDS])
        items = await source.poll(ctx)
    assert source.last_errors == {}
    assert any("pane" in i.title for i in items)
    assert {i.url.split("/")[2] for i in items if i.url} >= {"www.facta.news", "pagellapolitica.it", "www.open.online"}


async def test_wikimedia_today_is_not_yet_available(replay: ReplayServer) -> None:
    async with aiohttp.ClientSession() as session:
        today = f"{replay.base_url}/api/rest_v1/metrics/pageviews/top/it.wikipedia/all-access/2026/11/23"
        async with session.get(today) as resp:
            assert resp.status == 404
            assert resp.content_type == "application/problem+json"
        async with session.get(today.replace("/23", "/22")) as resp:
            data = await resp.json()
            assert data["items"][0]["day"] == "22" and data["items"][0]["project"] == "it.wikipedia"


async def test_offline_settings_point_everything_at_the_server() -> None:
    base = "http://127.0.0.1:5555"
    s = offline_settings(Settings(), base)
    assert s.sources.rss.feeds == [base + p for p in OFFLINE_FEEDS]
    assert s.risk.factcheck_feeds == [base + p for p in FACTCHECK_FEEDS]
    assert s.sources.youtube.enabled is False
    # Without base_url, build_sources with offline settings reaches only the replay server.
    sources = build_sources(s, errors=[])
    for src in sources:
        urls = [getattr(src, a) for a in ("url", "base", "instance") if hasattr(src, a)] + list(
            getattr(src, "feeds", [])
        )
        assert urls and all(u.startswith(base) for u in urls), src.name
    assert Settings().sources.rss.feeds[0].startswith("https://")  # the original is untouched


async def test_start_is_idempotent_and_stop_releases_the_port() -> None:
    server = ReplayServer()
    url = await server.start()
    assert await server.start() == url
    await server.stop()
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(url + "/trending/rss")
