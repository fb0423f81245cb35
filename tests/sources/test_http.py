"""HttpFetcher against real loopback servers: every failure becomes SourceError / NotModified."""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import aiohttp
import pytest
from aiohttp import web

from monitor.config import HttpSettings
from monitor.http_headers import parse_retry_after
from monitor.sources.base import NotModified, SourceError
from monitor.sources.http import HttpFetcher, endpoint, rebase_url
from monitor.storage import Storage


async def test_get_sends_user_agent_and_returns_body(aiohttp_server, fetcher: HttpFetcher) -> None:
    seen: dict[str, str] = {}

    async def handler(request: web.Request) -> web.Response:
        seen.update(request.headers)
        seen["query"] = request.query.get("q", "")
        return web.Response(text="ciao è", content_type="text/plain", charset="utf-8")

    app = web.Application()
    app.router.add_get("/x", handler)
    server = await aiohttp_server(app)
    res = await fetcher.get(str(server.make_url("/x")), params={"q": "a b"}, accept="text/plain")
    assert res.status == 200
    assert res.text() == "ciao è"
    assert res.content_type == "text/plain"
    assert seen["User-Agent"] == "OndaTest/1"
    assert seen["Accept"] == "text/plain"
    assert seen["query"] == "a b"


def _etag_app(counter: dict[str, int]) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        counter["n"] += 1
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304)
        if request.headers.get("If-Modified-Since") == "Mon, 23 Nov 2026 10:00:00 GMT":
            return web.Response(status=304)
        headers = {"ETag": '"v1"'} if request.path == "/etag" else {"Last-Modified": "Mon, 23 Nov 2026 10:00:00 GMT"}
        return web.Response(text="payload", headers=headers)

    app = web.Application()
    app.router.add_get("/etag", handler)
    app.router.add_get("/lm", handler)
    return app


@pytest.mark.parametrize("path", ["/etag", "/lm"])
async def test_conditional_get_round_trip_raises_not_modified(aiohttp_server, fetcher: HttpFetcher, path: str) -> None:
    counter = {"n": 0}
    server = await aiohttp_server(_etag_app(counter))
    url = str(server.make_url(path))
    assert (await fetcher.get(url)).body == b"payload"
    with pytest.raises(NotModified):
        await fetcher.get(url)
    # Unconditional GET ignores the validators.
    assert (await fetcher.get(url, conditional=False)).body == b"payload"
    # forget() drops validators: the next conditional GET fetches the body again.
    fetcher.forget(url)
    assert (await fetcher.get(url)).body == b"payload"
    assert counter["n"] == 4


async def test_validators_persist_in_storage(aiohttp_server, session, http_settings, tmp_path) -> None:
    server = await aiohttp_server(_etag_app({"n": 0}))
    url = str(server.make_url("/etag"))
    storage = Storage(tmp_path / "onda.db")
    await HttpFetcher(session, http_settings, storage).get(url)
    assert storage.get_http_cache(url) == ('"v1"', None)
    # A new fetcher (e.g. after restart) over the same storage sends If-None-Match.
    with pytest.raises(NotModified):
        await HttpFetcher(session, http_settings, storage).get(url)
    storage.close()


def _status_app(status: int, headers: dict[str, str] | None = None, body: str = "err") -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, text=body, headers=headers or {})

    app = web.Application()
    app.router.add_get("/s", handler)
    return app


async def test_429_with_retry_after_seconds(aiohttp_server, fetcher: HttpFetcher) -> None:
    server = await aiohttp_server(_status_app(429, {"Retry-After": "120"}))
    with pytest.raises(SourceError) as err:
        await fetcher.get(str(server.make_url("/s")))
    assert err.value.retry_after == 120
    assert err.value.status == 429
    assert "429" in str(err.value)


async def test_503_with_retry_after_http_date(aiohttp_server, fetcher: HttpFetcher) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=300), usegmt=True)
    server = await aiohttp_server(_status_app(503, {"Retry-After": when}))
    with pytest.raises(SourceError) as err:
        await fetcher.get(str(server.make_url("/s")))
    assert err.value.retry_after is not None
    assert 290 <= err.value.retry_after <= 301


@pytest.mark.parametrize("status", [400, 403, 404, 500, 502])
async def test_other_errors_carry_status(aiohttp_server, fetcher: HttpFetcher, status: int) -> None:
    server = await aiohttp_server(_status_app(status))
    with pytest.raises(SourceError) as err:
        await fetcher.get(str(server.make_url("/s")))
    assert err.value.status == status
    assert err.value.retry_after is None
    assert str(status) in str(err.value)
    assert "\n" not in str(err.value)


async def test_timeout_becomes_source_error(aiohttp_server, fetcher: HttpFetcher) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.Response(text="late")

    app = web.Application()
    app.router.add_get("/slow", slow)
    server = await aiohttp_server(app)
    t0 = time.monotonic()
    with pytest.raises(SourceError, match=r"timed out after 0.5 s"):
        await fetcher.get(str(server.make_url("/slow")))
    assert time.monotonic() - t0 < 2


async def test_size_cap_by_content_length(aiohttp_server, fetcher: HttpFetcher) -> None:
    server = await aiohttp_server(_status_app(200, body="x" * (200 * 1024)))
    with pytest.raises(SourceError, match="too large"):
        await fetcher.get(str(server.make_url("/s")))


async def test_size_cap_when_streamed_without_length(aiohttp_server, fetcher: HttpFetcher) -> None:
    sent = {"bytes": 0}

    async def stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        try:
            for _ in range(1000):  # 16 MB if nobody stops us
                await resp.write(b"y" * 16384)
                sent["bytes"] += 16384
        except (ConnectionResetError, RuntimeError):
            pass
        return resp

    app = web.Application()
    app.router.add_get("/stream", stream)
    server = await aiohttp_server(app)
    with pytest.raises(SourceError, match="too large"):
        await fetcher.get(str(server.make_url("/stream")))


async def test_connection_refused_is_one_line(fetcher: HttpFetcher) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SourceError) as err:
        await fetcher.get(f"http://127.0.0.1:{port}/nothing?key=SECRET")
    assert "cannot connect" in str(err.value)
    assert "SECRET" not in str(err.value)
    assert "\n" not in str(err.value)


async def test_broken_connection_mid_body(aiohttp_raw_server, fetcher: HttpFetcher) -> None:
    async def handler(request: web.BaseRequest) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Length": "10000"})
        await resp.prepare(request)
        await resp.write(b"partial")
        assert request.transport is not None
        request.transport.close()
        return resp

    server = await aiohttp_raw_server(handler)
    with pytest.raises(SourceError):
        await fetcher.get(str(server.make_url("/")))


@pytest.mark.parametrize("url", ["ftp://example.org/x", "not a url", "http:///path"])
async def test_invalid_urls(fetcher: HttpFetcher, url: str) -> None:
    with pytest.raises(SourceError, match="invalid URL"):
        await fetcher.get(url)


async def test_json_helper_rejects_html(aiohttp_server, fetcher: HttpFetcher) -> None:
    server = await aiohttp_server(_status_app(200, body="<html>oops</html>"))
    res = await fetcher.get(str(server.make_url("/s")))
    with pytest.raises(SourceError, match="not JSON"):
        res.json()


async def test_min_interval_spaces_requests_to_one_host(aiohttp_server, session) -> None:
    server = await aiohttp_server(_status_app(200, body="ok"))
    f = HttpFetcher(session, HttpSettings())
    t0 = time.monotonic()
    await f.get(str(server.make_url("/s")), min_interval=0.4)
    await f.get(str(server.make_url("/s")), min_interval=0.4)
    assert time.monotonic() - t0 >= 0.39


def test_parse_retry_after() -> None:
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert parse_retry_after("30") == 30
    assert parse_retry_after("Mon, 23 Nov 2026 10:01:00 GMT", now) == 60
    assert parse_retry_after("Mon, 23 Nov 2026 09:00:00 GMT", now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("-5") == 0


def test_rebase_and_endpoint() -> None:
    assert rebase_url("https://trends.google.com/trending/rss?geo=IT", "http://127.0.0.1:9") == (
        "http://127.0.0.1:9/trending/rss?geo=IT"
    )
    assert rebase_url("https://a.org/x", "http://h:1/prefix/") == "http://h:1/prefix/x"
    assert endpoint("", "https://a.org/x", None) == "https://a.org/x"
    assert endpoint("https://mirror/x", "https://a.org/x", None) == "https://mirror/x"
    assert endpoint("https://mirror/x", "https://a.org/x", "http://h:1") == "http://h:1/x"


async def test_no_aiohttp_exception_escapes_on_garbage_response(aiohttp_raw_server, fetcher) -> None:
    """A server answering with garbage instead of HTTP."""

    async def handler(request: web.BaseRequest) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.write(b"NOT HTTP AT ALL\r\n\r\n")
        request.transport.close()
        return web.StreamResponse()

    server = await aiohttp_raw_server(handler)
    with pytest.raises(SourceError):
        await fetcher.get(str(server.make_url("/")))
    assert not isinstance(SourceError("x"), aiohttp.ClientError)
