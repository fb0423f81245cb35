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


FIXED_PATHS = [("config file", "/home/me/.config/onda/config.toml"), ("database", "/home/me/.local/share/onda/onda.db")]


def make_app(service: FakeService, brand: str | None = None) -> OndaApp:
    """The app over a fake service with a fixed clock and fixed file locations (the help screen shows them)."""
    app = OndaApp(service, brand=brand, clock=fixed_clock, paths=FIXED_PATHS)
    app.animation_level = "none"
    return app


async def settle(pilot: Pilot, app: OndaApp) -> None:
    """Let workers finish and queued messages/refreshes run."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()
