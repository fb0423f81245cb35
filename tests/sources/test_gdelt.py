"""GDELT DOC 2.0 artlist: JSON articles, plain-text errors with HTTP 200, `{}`."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from aiohttp import web

from monitor.config import Settings
from monitor.sources.base import NotModified, PollContext, SourceError
from monitor.sources.gdelt import GdeltSource

ARTLIST = {
    "articles": [
        {
            "url": "https://www.ansa.it/sito/notizie/sport/sinner.html",
            "url_mobile": "",
            "title": "Sinner vince le ATP Finals a Torino",
            "seendate": "20261122T183000Z",
            "socialimage": "",
            "domain": "ansa.it",
            "language": "Italian",
            "sourcecountry": "Italy",
        },
        {
            "url": "https://www.bbc.com/news/q",
            "title": "Italy earthquake",
            "seendate": "bad",
            "domain": "bbc.com",
            "language": "English",
        },
        {"url": "javascript:alert(1)", "title": "x"},
        "not an object",
        {"title": "no url"},
    ]
}
KEYWORD_ERROR = "One or more of your keywords were too short, too long or too common: (locationcc:br)"
RATE_LIMITED = "Please limit requests to one every 5 seconds or contact kalev.leetaru5@gmail.com for larger queries."


def _app(body: str, status: int = 200, ctype: str = "application/json", seen: list | None = None) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        if seen is not None:
            seen.append(dict(request.query))
        if request.headers.get("If-None-Match") == '"g1"':
            return web.Response(status=304)
        return web.Response(status=status, text=body, content_type=ctype, headers={"ETag": '"g1"'})

    app = web.Application()
    app.router.add_get("/api/v2/doc/doc", handler)
    return app


def _source(server) -> GdeltSource:
    s = GdeltSource.from_settings(Settings(), str(server.make_url("")))
    s.min_interval_s = 0.0
    return s


async def test_artlist_items_and_query(aiohttp_server, ctx: PollContext) -> None:
    seen: list[dict[str, str]] = []
    server = await aiohttp_server(_app(json.dumps(ARTLIST), seen=seen))
    source = _source(server)
    items = await source.poll(ctx)
    assert [i.title for i in items] == ["Sinner vince le ATP Finals a Torino", "Italy earthquake"]
    assert items[0].lang == "it" and items[1].lang == "en"
    assert items[0].published == datetime(2026, 11, 22, 18, 30, tzinfo=UTC)
    assert items[1].published is None
    assert items[0].context == ("ansa.it",)
    assert seen[0] == {
        "query": "sourcelang:italian",
        "mode": "artlist",
        "format": "json",
        "timespan": "1h",
        "maxrecords": "75",
        "sort": "hybridrel",
    }
    with pytest.raises(NotModified):
        await source.poll(ctx)


@pytest.mark.parametrize("ctype", ["text/html", "text/plain", "application/json"])
async def test_plain_text_error_with_200_is_a_source_error(aiohttp_server, ctx: PollContext, ctype: str) -> None:
    server = await aiohttp_server(_app(KEYWORD_ERROR, ctype=ctype))
    with pytest.raises(SourceError, match="too short") as err:
        await _source(server).poll(ctx)
    assert err.value.retry_after is None


async def test_rate_limit_text_with_200_asks_to_wait(aiohttp_server, ctx: PollContext) -> None:
    server = await aiohttp_server(_app(RATE_LIMITED, ctype="text/plain"))
    with pytest.raises(SourceError, match="limit requests") as err:
        await _source(server).poll(ctx)
    assert err.value.retry_after == 5.0


async def test_error_body_is_not_cached(aiohttp_server, ctx: PollContext) -> None:
    """After an error body with an ETag, the next poll must fetch again (not 304 forever)."""
    server = await aiohttp_server(_app(KEYWORD_ERROR, ctype="text/plain"))
    source = _source(server)
    for _ in range(2):
        with pytest.raises(SourceError):
            await source.poll(ctx)


async def test_empty_object_means_no_articles(aiohttp_server, ctx: PollContext) -> None:
    server = await aiohttp_server(_app("{}"))
    assert await _source(server).poll(ctx) == []


@pytest.mark.parametrize("body", ['{"articles": "nope"}', '{"status": "error"}', "[1,2]", "{broken"])
async def test_unexpected_json(aiohttp_server, ctx: PollContext, body: str) -> None:
    server = await aiohttp_server(_app(body))
    with pytest.raises(SourceError):
        await _source(server).poll(ctx)


def test_defaults_respect_gdelt_rate() -> None:
    s = GdeltSource.from_settings(Settings())
    assert s.url == "https://api.gdeltproject.org/api/v2/doc/doc"
    assert s.min_interval_s == 5.0
