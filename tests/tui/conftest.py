from __future__ import annotations

import os

import pytest

os.environ["TEXTUAL_ANIMATIONS"] = "none"

from textual.pilot import Pilot  # noqa: E402

from fake_service import FakeService  # noqa: E402
from tui.app import OndaApp  # noqa: E402
from tui.demo import NOW  # noqa: E402


def fixed_clock():  # type: ignore[no-untyped-def]
    return NOW


@pytest.fixture
def fake() -> FakeService:
    return FakeService()


def make_app(service: FakeService, brand: str | None = None) -> OndaApp:
    app = OndaApp(service, brand=brand, clock=fixed_clock)
    app.animation_level = "none"
    return app


async def settle(pilot: Pilot, app: OndaApp) -> None:  # type: ignore[type-arg]
    """Let workers finish and queued messages/refreshes run."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()
