"""Fixtures for the source tests: real aiohttp servers on 127.0.0.1 and a fetcher with tight limits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import aiohttp
import pytest

from monitor.config import HttpSettings
from monitor.sources.base import PollContext
from monitor.sources.http import HttpFetcher

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def http_settings() -> HttpSettings:
    return HttpSettings(connect_timeout_s=1.0, total_timeout_s=0.5, max_bytes=64 * 1024, user_agent="OndaTest/1")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def fetcher(session: aiohttp.ClientSession, http_settings: HttpSettings) -> HttpFetcher:
    return HttpFetcher(session, http_settings)


@pytest.fixture
def make_ctx(fetcher: HttpFetcher) -> Callable[..., PollContext]:
    def make(now: datetime = NOW, f: HttpFetcher | None = None) -> PollContext:
        return PollContext(fetcher=f or fetcher, now=lambda: now)

    return make


@pytest.fixture
def ctx(make_ctx: Callable[..., PollContext]) -> PollContext:
    return make_ctx()
