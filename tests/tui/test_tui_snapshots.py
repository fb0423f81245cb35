"""SVG snapshots with fixed data and a fixed clock (update: pytest tests/tui --snapshot-update, then look at them)."""

from __future__ import annotations

import asyncio

from conftest import make_app, settle
from fake_service import FakeService
from textual.pilot import Pilot
from textual.widgets import Input

from tui.app import OndaApp


async def _ready(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, OndaApp)
    await settle(pilot, app)


def test_dashboard_80x24(snap_compare) -> None:
    assert snap_compare(make_app(FakeService()), terminal_size=(80, 24), run_before=_ready)


def test_dashboard_160x45(snap_compare) -> None:
    assert snap_compare(make_app(FakeService()), terminal_size=(160, 45), run_before=_ready)


def test_detail_80x24(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await pilot.press("enter")
        await _ready(pilot)

    assert snap_compare(make_app(FakeService()), terminal_size=(80, 24), run_before=run_before)


def test_brand_dna_after_save(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await pilot.press("2", "a")
        await _ready(pilot)
        dialog_input = pilot.app.screen.query_one("#statement", Input)
        dialog_input.cursor_blink = False
        dialog_input.value = "Bitcoin and crypto coffee payments"
        await pilot.press("enter", "ctrl+s")
        await _ready(pilot)

    assert snap_compare(make_app(FakeService()), terminal_size=(100, 30), run_before=run_before)


def test_sources_80x24(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await pilot.press("3", "down", "down")
        await _ready(pilot)

    assert snap_compare(make_app(FakeService()), terminal_size=(80, 24), run_before=run_before)


def test_loading_model_80x24(snap_compare) -> None:
    assert snap_compare(make_app(FakeService(gate=asyncio.Event())), terminal_size=(80, 24), run_before=_ready_loading)


async def _ready_loading(pilot: Pilot) -> None:
    await pilot.pause()
    await pilot.pause()


def test_start_error_80x24(snap_compare) -> None:
    fake = FakeService(fail_start="cannot load model: /models/all-MiniLM-L6-v2 [Errno 2] No such file")
    assert snap_compare(make_app(fake), terminal_size=(80, 24), run_before=_ready)
