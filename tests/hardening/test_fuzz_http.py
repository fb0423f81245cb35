"""Property tests for the HTTP layer: any status, headers and body a server sends -> FetchResult, NotModified
or SourceError (with a sane retry_after), never another exception; a 2xx within the size cap is always a
FetchResult, whatever (sendable) headers it has. Real loopback server per example."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from monitor.alerts.delivery import parse_retry_after as alert_retry_after
from monitor.config import HttpSettings
from monitor.http_headers import parse_retry_after
from monitor.sources.base import NotModified, SourceError
from monitor.sources.http import FetchResult, HttpFetcher

WEEK = 7 * 24 * 3600.0
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=40)
DATES = st.sampled_from(
    ["Wed, 21 Oct 2015 07:28:00 GMT", "Mon, 01 Jan 99999 00:00:00 GMT", "Fri, 3 Jul 2026 10:00:00 -0700", "0", "-5"]
)
RETRY_AFTER = st.one_of(HEADER_TEXT, DATES, st.sampled_from(["inf", "nan", "1e400", "-inf", "120", " 30 ", ""]))
LOCATIONS = st.sampled_from(
    ["/loop", "a/b", "", "/%zz", "http://127.0.0.1:1/x", "ftp://127.0.0.1/x", "http://[::1", "x:y"]
)
CONTENT_TYPES = st.one_of(
    HEADER_TEXT,
    st.sampled_from(
        ["application/json; charset=idna", "text/xml; charset=undefined", "application/rss+xml; charset=", "a/b; c=d"]
    ),
)


@settings(max_examples=200, deadline=None, database=None)
@given(RETRY_AFTER)
def test_retry_after_is_bounded(value: str) -> None:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    secs = parse_retry_after(value, now)
    assert secs is None or (0.0 <= secs <= WEEK)
    alert = alert_retry_after(value, now)
    assert alert >= 0.0 and not math.isnan(alert)


async def _one(status: int, headers: dict[str, str], body: bytes) -> Any:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, headers=headers, body=body if status not in (204, 304) else None)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/feed?q=1"
    try:
        async with aiohttp.ClientSession() as session:
            fetcher = HttpFetcher(session, HttpSettings(total_timeout_s=10, connect_timeout_s=5, max_bytes=4096))
            try:
                return await fetcher.get(url)
            except (SourceError, NotModified) as exc:
                return exc
    finally:
        await runner.cleanup()


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    status=st.sampled_from([200, 203, 204, 299, 301, 302, 307, 304, 400, 404, 408, 429, 500, 503, 599]),
    retry_after=st.none() | RETRY_AFTER,
    location=st.none() | LOCATIONS,
    content_type=st.none() | CONTENT_TYPES,
    etag=st.none() | HEADER_TEXT,
    body=st.binary(max_size=300) | st.just(b"x" * 5000),
)
@example(status=429, retry_after="1e400", location=None, content_type=None, etag=None, body=b"")
@example(status=302, retry_after=None, location="/loop", content_type=None, etag=None, body=b"")
@example(
    status=200, retry_after=None, location=None, content_type="application/json; charset=idna", etag=None, body=b"{"
)
def test_fetcher_survives_any_response(
    status: int,
    retry_after: str | None,
    location: str | None,
    content_type: str | None,
    etag: str | None,
    body: bytes,
) -> None:
    headers = {}
    for name, value in (
        ("Retry-After", retry_after),
        ("Location", location),
        ("Content-Type", content_type),
        ("ETag", etag),
    ):
        if value is not None:
            headers[name] = value
    out = asyncio.run(_one(status, headers, body))
    sendable = all(v.isascii() and v.isprintable() for v in headers.values())  # else aiohttp's server drops it
    if 200 <= status < 300 and len(body) <= 4096 and sendable:  # a success within the size cap is delivered
        assert isinstance(out, FetchResult), out
    if isinstance(out, FetchResult):
        assert 200 <= out.status < 300 and len(out.body) <= 4096
        out.text()  # never raises, whatever charset was declared
        return
    if isinstance(out, NotModified):
        assert status == 304
        return
    assert isinstance(out, SourceError)
    msg = str(out)
    assert msg.strip() and "\n" not in msg and "q=1" not in msg  # one line, no query string (API keys)
    assert out.retry_after is None or 0.0 <= out.retry_after <= WEEK
