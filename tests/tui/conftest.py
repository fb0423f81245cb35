from __future__ import annotations

import os

import pytest

os.environ["TEXTUAL_ANIMATIONS"] = "none"

from fake_service import FakeService
from textual.pilot import Pilot

from tui.app import OndaApp
from tui.demo import NOW


def fixed_clock():
    return NOW


@pytest.fixture
def fake() -> FakeService:
    return FakeService()


def make_app(service: FakeService, brand: str | None = None) -> OndaApp:
    app = OndaApp(service, brand=brand, clock=fixed_clock)
    app.animation_level = "none"
    return app


async def settle(pilot: Pilot, app: OndaApp) -> None:
    """Let workers finish and queued messages/refreshes run."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()
