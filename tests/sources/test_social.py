"""Mastodon trends (tags + links), Bluesky trending topics, YouTube (keyed)."""

from __future__ import annotations

import json

import pytest
from aiohttp import web

from monitor.config import Settings
from monitor.sources.base import NotModified, PollContext, SourceError
from monitor.sources.bluesky import BlueskySource
from monitor.sources.mastodon import MastodonSource
from monitor.sources.youtube import YouTubeSource

TAGS = [
    {
        "name": "sinner",
        "url": "https://mastodon.example/tags/sinner",
        "history": [
            {"day": "1795392000", "uses": "200", "accounts": "31"},
            {"day": "1795305600", "uses": "72", "accounts": "39"},
            {"day": "1795219200", "uses": "345", "accounts": "40"},
        ],
        "following": False,
    },
    {"name": "", "url": "https://mastodon.example/tags/x", "history": []},
    {"name": "caffè", "url": "javascript:x", "history": "nope"},
]
LINKS = [
    {
        "url": "https://www.ilpost.it/2026/11/22/sinner-atp-finals/",
        "title": "Jannik Sinner ha vinto le ATP Finals",
        "description": "Ha battuto Alcaraz in finale.",
        "type": "link",
        "provider_name": "Il Post",
        "language": "it",
        "history": [{"day": "1795392000", "accounts": "7", "uses": "7"}, {"day": "1795305600", "uses": "23"}],
    },
    {"url": "ftp://bad", "title": "bad url"},
]
BSKY_OLD = {
    "topics": [
        {"topic": "FIFA", "link": "/profile/trending.bsky.app/feed/814821759"},
        {"topic": "", "link": "/x"},
        {"topic": "Evil", "link": "//evil.example/x"},
    ],
    "suggested": [{"topic": "Popular with Friends", "link": "/profile/bsky.app/feed/with-friends"}],
}
BSKY_NEW = {
    "topics": [
        {
            "link": "/profile/did:plc:qrz3lhbyuxbeilrc6nekdqme/feed/30f1646be875",
            "description": "Infantino reversed course after backlash.",
            "topic": "FIFA scraps World Cup sell-off",
            "displayName": "FIFA scraps World Cup sell-off",
        }
    ],
    "suggested": [],
    "recIdStr": "761433928885927517",
}


def _mastodon_app(tags: object, links: object, links_status: int = 200) -> web.Application:
    async def tags_h(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == '"t"':
            return web.Response(status=304)
        return web.Response(text=json.dumps(tags), content_type="application/json", headers={"ETag": '"t"'})

    async def links_h(request: web.Request) -> web.Response:
        if links_status != 200:
            return web.Response(status=links_status)
        if request.headers.get("If-None-Match") == '"l"':
            return web.Response(status=304)
        return web.Response(text=json.dumps(links), content_type="application/json", headers={"ETag": '"l"'})

    app = web.Application()
    app.router.add_get("/api/v1/trends/tags", tags_h)
    app.router.add_get("/api/v1/trends/links", links_h)
    return app


async def test_mastodon_tags_and_links(aiohttp_server, ctx: PollContext) -> None:
    server = await aiohttp_server(_mastodon_app(TAGS, LINKS))
    source = MastodonSource.from_settings(Settings(), str(server.make_url("")))
    items = await source.poll(ctx)
    by_title = {i.title: i for i in items}
    assert set(by_title) == {"#sinner", "#caffè", "Jannik Sinner ha vinto le ATP Finals"}
    assert by_title["#sinner"].traffic == 272  # uses of the last two days
    assert by_title["#caffè"].url is None and by_title["#caffè"].traffic is None
    link = by_title["Jannik Sinner ha vinto le ATP Finals"]
    assert link.context == ("Ha battuto Alcaraz in finale.", "Il Post")
    assert link.lang == "it" and link.traffic == 30
    with pytest.raises(NotModified):
        await source.poll(ctx)


async def test_mastodon_one_endpoint_failing_keeps_the_other(aiohttp_server, ctx: PollContext) -> None:
    server = await aiohttp_server(_mastodon_app(TAGS, LINKS, links_status=404))
    source = MastodonSource.from_settings(Settings(), str(server.make_url("")))
    items = await source.poll(ctx)
    assert {i.title for i in items} == {"#sinner", "#caffè"}


async def test_mastodon_wrong_shape(aiohttp_server, ctx: PollContext) -> None:
    server = await aiohttp_server(_mastodon_app({"error": "This method requires an authenticated user"}, {"x": 1}))
    with pytest.raises(SourceError, match="array"):
        await MastodonSource.from_settings(Settings(), str(server.make_url(""))).poll(ctx)


def _bsky_app(payload: object) -> web.Application:
    async def h(request: web.Request) -> web.Response:
        return web.Response(text=json.dumps(payload), content_type="application/json")

    app = web.Application()
    app.router.add_get("/xrpc/app.bsky.unspecced.getTrendingTopics", h)
    return app


async def test_bluesky_old_shape(aiohttp_server, ctx: PollContext) -> None:
    server = await aiohttp_server(_bsky_app(BSKY_OLD))
    items = await BlueskySource.from_settings(Settings(), str(server.make_url(""))).poll(ctx)
    assert [i.title for i in items] == ["FIFA", "Evil"]
    assert items[0].url == "https://bsky.app/profile/trending.bsky.app/feed/814821759"
    assert items[1].url is None  # protocol-relative link to another host refused


async def test_bluesky_new_shape(aiohttp_server, ctx: PollContext) -> None:
    server = await aiohttp_server(_bsky_app(BSKY_NEW))
    [item] = await BlueskySource.from_settings(Settings(), str(server.make_url(""))).poll(ctx)
    assert item.title == "FIFA scraps World Cup sell-off"
    assert item.context == ("Infantino reversed course after backlash.",)


@pytest.mark.parametrize("payload", [{"topics": "x"}, [], {"error": "InternalServerError"}])
async def test_bluesky_wrong_shape(aiohttp_server, ctx: PollContext, payload: object) -> None:
    server = await aiohttp_server(_bsky_app(payload))
    with pytest.raises(SourceError):
        await BlueskySource.from_settings(Settings(), str(server.make_url(""))).poll(ctx)


async def test_youtube_without_key(ctx: PollContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONDA_YOUTUBE_API_KEY", raising=False)
    with pytest.raises(SourceError, match="ONDA_YOUTUBE_API_KEY not set"):
        await YouTubeSource.from_settings(Settings()).poll(ctx)


async def test_youtube_key_goes_in_a_header_not_the_url(
    aiohttp_server, ctx: PollContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, str] = {}

    async def h(request: web.Request) -> web.Response:
        seen["key"] = request.headers.get("X-Goog-Api-Key", "")
        seen["qs"] = request.query_string
        return web.json_response(
            {
                "items": [
                    {
                        "id": "abc123",
                        "snippet": {"title": "Sanremo 2027 - i Big", "channelTitle": "Rai"},
                        "statistics": {"viewCount": "24631851"},
                    },
                    {"id": "x", "snippet": None},
                ]
            }
        )

    app = web.Application()
    app.router.add_get("/youtube/v3/videos", h)
    server = await aiohttp_server(app)
    monkeypatch.setenv("ONDA_YOUTUBE_API_KEY", "k-secret")
    [item] = await YouTubeSource.from_settings(Settings(), str(server.make_url(""))).poll(ctx)
    assert seen["key"] == "k-secret" and "k-secret" not in seen["qs"] and "regionCode=IT" in seen["qs"]
    assert item.title == "Sanremo 2027 - i Big" and item.traffic == 24631851
    assert item.url == "https://www.youtube.com/watch?v=abc123"
