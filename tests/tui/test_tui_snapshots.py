"""SVG snapshots with fixed data and a fixed clock (update: pytest tests/tui --snapshot-update, then look at them)."""

from __future__ import annotations

import asyncio

from conftest import make_app, settle
from fake_service import FakeService
from textual.pilot import Pilot
from textual.widgets import Input, Select

from tui.app import OndaApp


async def _ready(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, OndaApp)
    await settle(pilot, app)


def test_dashboard_80x24(snap_compare) -> None:
    assert snap_compare(make_app(FakeService()), terminal_size=(80, 24), run_before=_ready)


def test_dashboard_120x40(snap_compare) -> None:
    assert snap_compare(make_app(FakeService()), terminal_size=(120, 40), run_before=_ready)


def test_dashboard_160x45(snap_compare) -> None:
    assert snap_compare(make_app(FakeService()), terminal_size=(160, 45), run_before=_ready)


def test_dashboard_200x60(snap_compare) -> None:
    assert snap_compare(make_app(FakeService()), terminal_size=(200, 60), run_before=_ready)


def test_help_80x24(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await pilot.press("f1")
        await _ready(pilot)

    assert snap_compare(make_app(FakeService()), terminal_size=(80, 24), run_before=run_before)


def test_detail_160x45(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await pilot.press("enter")
        await _ready(pilot)

    assert snap_compare(make_app(FakeService()), terminal_size=(160, 45), run_before=run_before)


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


async def _edit_dna(pilot: Pilot) -> None:
    """DNA screen with an entity added and an alert threshold that cannot be saved."""
    await _ready(pilot)
    await pilot.press("2", "a")
    await _ready(pilot)
    dialog = pilot.app.screen
    dialog.query_one("#kind", Select).value = "entities"
    dialog_input = dialog.query_one("#statement", Input)
    dialog_input.cursor_blink = False
    dialog_input.value = "Jannik Sinner"
    await pilot.press("enter")
    await _ready(pilot)
    field = pilot.app.screen.query_one("#dna-threshold", Input)
    field.cursor_blink = False
    field.value = "1.5"
    pilot.app.screen.query_one("#statements").focus()
    await _ready(pilot)


def test_brand_dna_editor_invalid_field_100x30(snap_compare) -> None:
    assert snap_compare(make_app(FakeService()), terminal_size=(100, 30), run_before=_edit_dna)


def test_unsaved_edits_on_quit_100x30(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _edit_dna(pilot)
        await pilot.press("q")
        await _ready(pilot)

    assert snap_compare(make_app(FakeService()), terminal_size=(100, 30), run_before=run_before)
