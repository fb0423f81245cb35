"""Helpers for the hardening tests (imported by name: `conftest` is ambiguous across test folders)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

REPO = Path(__file__).resolve().parents[2]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class LoopbackServer:
    """A real aiohttp server on 127.0.0.1 with one catch-all handler; records every request path."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[str] = []
        self.runner: web.AppRunner | None = None
        self.base_url = ""

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request.path_qs)
        return await self.handler(request)

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1]) if self.base_url else 0

    async def start(self, port: int = 0) -> str:
        """Listen on 127.0.0.1 (`port` 0: any free port; a former port: the same URL again after stop())."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        port = self.runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        """Stop listening: connections to the URL are refused until start(port) again."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


def utcnow() -> datetime:
    return datetime.now(UTC)


def onda_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for an `onda` subprocess that never touches the user's config, data or cache dirs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONDA_")}
    env.update(
        {
            "ONDA_STORAGE__PATH": str(tmp_path / "onda.db"),
            "ONDA_MODEL__CACHE_DIR": str(tmp_path / "cache"),
            "ONDA_RISK__CREDIBILITY_DIR": str(tmp_path / "credibility"),
            "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
            "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
            "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


PYTHON = sys.executable


def json_response(obj: Any, status: int = 200) -> web.Response:
    return web.json_response(obj, status=status)


TEN_MB = 10 * 1024 * 1024


async def flood(request: web.Request) -> web.StreamResponse:
    """10 MB of JSON-looking bytes, streamed without Content-Length (the cap must count, not trust)."""
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    await resp.prepare(request)
    chunk = b'{"articles": [' + b" " * (64 * 1024 - 14)
    try:
        for _ in range(TEN_MB // len(chunk)):
            await resp.write(chunk)
    except (ConnectionError, RuntimeError):
        pass  # the client hung up (reset or lost): that is the point
    return resp


class Proc:
    """An `onda` subprocess (or the watch harness) with its output collected in the background."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.stdout = b""
        self.stderr = b""
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        out, err = await self.proc.communicate()
        self.stdout, self.stderr = out, err

    async def finish(self, within: float) -> int:
        await asyncio.wait_for(asyncio.shield(self._reader), within)
        assert self.proc.returncode is not None
        return self.proc.returncode

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.decode().splitlines() if line.strip()]
