"""Fixtures for the fault tests: loopback HTTP servers that hang, flood or flap, and a cheap service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from hardening_support import Handler, LoopbackServer

from monitor.config import Settings


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[LoopbackServer]]]:
    servers: list[LoopbackServer] = []

    async def start(handler: Handler) -> LoopbackServer:
        server = LoopbackServer(handler)
        await server.start()
        servers.append(server)
        return server

    yield start
    for s in servers:
        await s.stop()


@pytest.fixture
def fast_settings(tmp_path: Path) -> Settings:
    s = Settings()
    s.storage.path = str(tmp_path / "onda.db")
    s.sources.jitter = 0.0
    s.http.total_timeout_s = 0.5
    s.http.connect_timeout_s = 0.5
    s.http.max_backoff_s = 3600.0
    return s
