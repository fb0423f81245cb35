"""Every built-in poller against a misbehaving loopback server: only SourceError / NotModified escape."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from aiohttp import web

from monitor.config import Settings
from monitor.sources import build_sources
from monitor.sources.base import NotModified, PollContext, Source, SourceError

SOURCES = ["google_trends", "rss", "gdelt", "wikipedia", "mastodon", "bluesky"]


def _source(name: str, base_url: str) -> Source:
    by_name = {s.name: s for s in build_sources(Settings(), base_url=base_url)}
    return by_name[name]


def _app(mode: str) -> web.Application:
    async def handler(request: web.Request) -> web.StreamResponse:
        if mode == "429":
            return web.Response(status=429, text="slow down", headers={"Retry-After": "42"})
        if mode == "500":
            return web.Response(status=500, text="boom")
        if mode == "timeout":
            await asyncio.sleep(3)
            return web.Response(text="late")
        if mode == "oversized":
            return web.Response(body=b"{" + b" " * (200 * 1024) + b"}", content_type="application/json")
        if mode == "html":
            return web.Response(text="<html><body><h1>Service Unavailable</h1>", content_type="text/html")
        if mode == "empty":
            return web.Response(body=b"", content_type="application/json")
        if mode == "binary":
            return web.Response(body=bytes(range(256)) * 10, content_type="application/octet-stream")
        if mode == "wrong_json":
            return web.Response(text=json.dumps([1, "two", None, {"x": []}]), content_type="application/json")
        if mode == "truncated_xml":
            return web.Response(text='<?xml version="1.0"?><rss><channel><item><title>Half', content_type="text/xml")
        raise AssertionError(mode)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return app


@pytest.mark.parametrize("name", SOURCES)
async def test_429_retry_after_reaches_the_service(aiohttp_server, ctx: PollContext, name: str) -> None:
    server = await aiohttp_server(_app("429"))
    with pytest.raises(SourceError) as err:
        await _source(name, str(server.make_url(""))).poll(ctx)
    assert err.value.retry_after == 42


@pytest.mark.parametrize("name", SOURCES)
@pytest.mark.parametrize("mode", ["500", "timeout", "oversized"])
async def test_transport_failures(aiohttp_server, ctx: PollContext, name: str, mode: str) -> None:
    server = await aiohttp_server(_app(mode))
    with pytest.raises(SourceError) as err:
        await _source(name, str(server.make_url(""))).poll(ctx)
    msg = str(err.value)
    assert msg and "\n" not in msg
    assert {"500": "500", "timeout": "timed out", "oversized": "too large"}[mode] in msg


@pytest.mark.parametrize("name", SOURCES)
@pytest.mark.parametrize("mode", ["html", "empty", "binary", "wrong_json", "truncated_xml"])
async def test_malformed_bodies(aiohttp_server, make_ctx: Callable[..., PollContext], name: str, mode: str) -> None:
    server = await aiohttp_server(_app(mode))
    ctx = make_ctx()
    source = _source(name, str(server.make_url("")))
    try:
        items = await source.poll(ctx)
    except (SourceError, NotModified):
        return
    # Parsers may find nothing in garbage, but never invent items from it.
    assert items == [], (name, mode, items)
