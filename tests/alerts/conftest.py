"""Fixtures for alert tests: a fake Slack (real aiohttp server on 127.0.0.1), storage, clock, events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from alerts_support import SLACK_PATH, Clock, Events, FakeSlack

from monitor.storage import Storage


@pytest.fixture
async def fake_slack(aiohttp_server: Any) -> FakeSlack:
    fake = FakeSlack()
    app = web.Application()
    app.router.add_post("/{tail:.*}", fake.handle)
    server = await aiohttp_server(app, access_log=None)  # the fake server's own log is not ours
    fake.base_url = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
def slack_env(fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> str:
    """ONDA_SLACK__WEBHOOK_URL pointing at the fake Slack; returns the URL."""
    url = fake_slack.base_url + SLACK_PATH
    monkeypatch.setenv("ONDA_SLACK__WEBHOOK_URL", url)
    monkeypatch.delenv("ONDA_WEBHOOK__URL", raising=False)
    return url


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("ONDA_SLACK__WEBHOOK_URL", "ONDA_WEBHOOK__URL", "ONDA_WEBHOOK_SECRET", "ONDA_CONFIG"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_path(store_target: str) -> str:
    """The outbox's store, once per backend: a SQLite file, or a fresh PostgreSQL database (tests/conftest.py)."""
    return store_target


@pytest.fixture
def storage(db_path: str) -> Iterator[Storage]:
    s = Storage(db_path)
    yield s
    s.close()


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    s = aiohttp.ClientSession()
    yield s
    await s.close()
