"""Wikimedia top articles: yesterday, 404 fallback to the day before, namespaces skipped."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from aiohttp import web

from monitor.config import Settings
from monitor.sources.base import NotModified, SourceError
from monitor.sources.wikipedia import WikipediaSource, is_article

NOT_AVAILABLE = {
    "type": "about:blank",
    "title": "Not Found",
    "method": "get",
    "detail": "The date(s) you used are valid, but we either do not have data for those date(s)",
    "uri": "/metrics/pageviews/top/it.wikipedia/all-access/2026/11/22",
}


def _top(day: str, n: int = 60) -> dict:
    y, m, d = day.split("/")
    arts = [
        {"article": "Pagina_principale", "views": 900000, "rank": 1},
        {"article": "Speciale:Ricerca", "views": 300000, "rank": 2},
        {"article": "Jannik_Sinner", "views": 150000, "rank": 3},
        {"article": "File:Sinner.jpg", "views": 90000, "rank": 4},
        {"article": "Special:Search", "views": 80000, "rank": 5},
        {"article": "Terremoto_della_Calabria_del_2026", "views": 70000, "rank": 6},
        {"article": "Wikipedia:Bar", "views": 60000, "rank": 7},
        {"article": "Star_Wars:_Episodio_IV", "views": 50000, "rank": 8},
        {"article": "Main_Page", "views": 40000, "rank": 9},
        {"article": "-", "views": 30000, "rank": 10},
        {"article": None, "views": 1, "rank": 11},
    ] + [{"article": f"Voce_{i}", "views": 1000 - i, "rank": 12 + i} for i in range(n)]
    return {
        "items": [
            {"project": "it.wikipedia", "access": "all-access", "year": y, "month": m, "day": d, "articles": arts}
        ]
    }


def _app(available: set[str], status_other: int = 404, seen: list[str] | None = None) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        mi = request.match_info
        day = f"{mi['y']}/{mi['m']}/{mi['d']}"
        if seen is not None:
            seen.append(day)
        if day in available:
            return (
                web.json_response(_top(day), headers={"ETag": f'"{day}"'})
                if not request.headers.get("If-None-Match")
                else web.Response(status=304)
            )
        if status_other == 404:
            return web.Response(status=404, text=json.dumps(NOT_AVAILABLE), content_type="application/problem+json")
        return web.Response(status=status_other, text="oops")

    app = web.Application()
    app.router.add_get("/api/rest_v1/metrics/pageviews/top/{project}/all-access/{y}/{m}/{d}", handler)
    return app


NOW = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)


def _source(server) -> WikipediaSource:
    return WikipediaSource.from_settings(Settings(), str(server.make_url("")))


async def test_yesterday_top_list(aiohttp_server, make_ctx) -> None:
    seen: list[str] = []
    server = await aiohttp_server(_app({"2026/11/22"}, seen=seen))
    items = await _source(server).poll(make_ctx(NOW))
    assert seen == ["2026/11/22"]
    assert items[0].title == "Jannik Sinner" and items[0].traffic == 150000
    assert items[0].url == "https://it.wikipedia.org/wiki/Jannik_Sinner"
    assert items[0].lang == "it"
    assert items[0].published == datetime(2026, 11, 22, tzinfo=UTC)
    titles = [i.title for i in items]
    assert "Terremoto della Calabria del 2026" in titles
    assert "Star Wars: Episodio IV" in titles  # a colon in an article title is not a namespace
    assert not {"Pagina principale", "Main Page", "-"} & set(titles)
    assert not any(t.startswith(("Speciale:", "Special:", "File:", "Wikipedia:")) for t in titles)
    assert len(items) == 50


async def test_falls_back_to_the_day_before_on_404(aiohttp_server, make_ctx) -> None:
    seen: list[str] = []
    server = await aiohttp_server(_app({"2026/11/21"}, seen=seen))
    items = await _source(server).poll(make_ctx(NOW))
    assert seen == ["2026/11/22", "2026/11/21"]
    assert items[0].published == datetime(2026, 11, 21, tzinfo=UTC)


async def test_both_days_missing_is_not_modified(aiohttp_server, make_ctx) -> None:
    server = await aiohttp_server(_app(set()))
    with pytest.raises(NotModified):
        await _source(server).poll(make_ctx(NOW))


async def test_server_error_is_a_source_error(aiohttp_server, make_ctx) -> None:
    server = await aiohttp_server(_app(set(), status_other=500))
    with pytest.raises(SourceError) as err:
        await _source(server).poll(make_ctx(NOW))
    assert err.value.status == 500


async def test_second_poll_same_day_is_not_modified(aiohttp_server, make_ctx) -> None:
    server = await aiohttp_server(_app({"2026/11/22"}))
    source = _source(server)
    ctx = make_ctx(NOW)
    await source.poll(ctx)
    with pytest.raises(NotModified):
        await source.poll(ctx)


@pytest.mark.parametrize(
    ("title", "ok"),
    [
        ("Jannik_Sinner", True),
        ("Speciale:Ricerca", False),
        ("Categoria:Tennisti", False),
        ("Discussione:Italia", False),
        ("Pagina_principale", False),
        ("Star_Wars:_Episodio_IV", True),
    ],
)
def test_is_article(title: str, ok: bool) -> None:
    assert is_article(title) is ok
