"""Pilot tests: feedback marks are state (toggle, replace, undo) that survives a restart."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from conftest import make_app, settle
from fake_service import FakeService
from test_tui_app import keys, rendered
from textual.widgets import DataTable

from monitor.models import Mark
from monitor.storage import Storage
from tui.app import OndaApp
from tui.detail import DetailScreen


class StoredMarksService(FakeService):
    """The demo data, with marks kept in a real SQLite store (as MonitorService keeps them)."""

    def __init__(self, storage: Storage, user: str = "demo") -> None:
        super().__init__()
        self.storage = storage
        self.user = user

    def set_mark(self, trend_id: str, brand: str, mark: Mark | None) -> None:
        self.calls.append(("set_mark", trend_id, brand, mark))
        self.storage.set_mark(trend_id, brand, mark, by=self.user)

    def mark_authors(self, brand: str, trend_ids: Sequence[str]) -> dict[str, str]:
        return self.storage.mark_authors(brand, trend_ids)

    def mark_for(self, trend_id: str, brand: str) -> Mark | None:
        return self.storage.mark_for(trend_id, brand)

    def marks(self, brand: str, trend_ids: Sequence[str]) -> dict[str, Mark]:
        return self.storage.marks(brand, trend_ids)


def last_toast(app: OndaApp) -> str:
    return list(app._notifications)[-1].message


def title_cell(table: DataTable, key: str) -> str:
    return str(table.get_row(key)[0])


async def test_u_and_n_toggle_replace_and_undo_on_the_dashboard(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        opps = app.main.query_one("#opps", DataTable)
        off = app.main.query_one("#offbrand", DataTable)
        assert keys(opps)[0] == "t-sinner"

        await pilot.press("u")
        await settle(pilot, app)
        assert fake.mark_for("t-sinner", "Lavazza") == "used"
        assert title_cell(opps, "t-sinner").startswith("used · Sinner vince")
        await pilot.press("u")  # the same key again clears it
        await settle(pilot, app)
        assert fake.mark_for("t-sinner", "Lavazza") is None
        assert title_cell(opps, "t-sinner").startswith("Sinner vince")

        await pilot.press("u", "n")  # n replaces used: one mark, never "not for us, used"
        await settle(pilot, app)
        assert fake.mark_for("t-sinner", "Lavazza") == "not_for_us"
        assert "t-sinner" not in keys(opps)
        assert "t-sinner" in keys(off)
        assert "not for us (your feedback)" in str(off.get_row("t-sinner")[2])
        assert "Marked not for us (was used)" in last_toast(app)

        await pilot.press("ctrl+z")  # back to used, and back in Opportunities
        await settle(pilot, app)
        assert fake.mark_for("t-sinner", "Lavazza") == "used"
        assert "t-sinner" in keys(opps) and "t-sinner" not in keys(off)
        await pilot.press("ctrl+z", "ctrl+z", "ctrl+z")  # used -> none, none -> used, used -> none
        await settle(pilot, app)
        assert fake.mark_for("t-sinner", "Lavazza") is None
        await pilot.press("ctrl+z")
        await settle(pilot, app)
        assert last_toast(app) == "Nothing to undo"
        sets = [c for c in fake.calls if c[0] == "set_mark"]
        assert [c[3] for c in sets] == ["used", None, "used", "not_for_us", "used", None, "used", None]


async def test_detail_shows_one_mark_and_the_same_key_clears_it(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        await pilot.press("u", "n")
        await settle(pilot, app)
        verdict = rendered(screen.query_one("#d-verdict"))
        assert "your feedback: not for us" in verdict and "used" not in verdict.split("your feedback:")[1]
        await pilot.press("n")
        await settle(pilot, app)
        assert "your feedback" not in rendered(screen.query_one("#d-verdict"))
        await pilot.press("ctrl+z")
        await settle(pilot, app)
        assert "your feedback: not for us" in rendered(screen.query_one("#d-verdict"))


async def test_marks_survive_a_restart_on_the_same_store(tmp_path: Path) -> None:
    path = tmp_path / "onda.db"
    first = StoredMarksService(Storage(path))
    app = make_app(first)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("n")  # t-sinner: not for us
        await pilot.press("u")  # the cursor stays on the first row, now t-barista: used
        await settle(pilot, app)
        await pilot.press("q")
    first.storage.close()

    second = StoredMarksService(Storage(path))
    app = make_app(second)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        opps = app.main.query_one("#opps", DataTable)
        off = app.main.query_one("#offbrand", DataTable)
        assert "t-sinner" not in keys(opps)  # still out of Opportunities after the restart
        assert "not for us (your feedback)" in str(off.get_row("t-sinner")[2])
        assert title_cell(opps, "t-barista").startswith("used · ")
        await pilot.press("o")
        await settle(pilot, app)
        off.move_cursor(row=keys(off).index("t-sinner"))
        await pilot.press("enter")
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.trend_id == "t-sinner"
        assert "your feedback: not for us" in rendered(screen.query_one("#d-verdict"))  # list and detail agree
        await pilot.press("ctrl+z")  # nothing was changed in this session
        await settle(pilot, app)
        assert last_toast(app) == "Nothing to undo"
    assert second.storage.marks("Lavazza", ["t-sinner", "t-barista"]) == {"t-sinner": "not_for_us", "t-barista": "used"}
    second.storage.close()


async def test_an_update_of_a_marked_story_keeps_its_mark(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("n")
        await settle(pilot, app)
        trend, verdict = fake.trends["t-sinner"], fake.verdicts["Lavazza"]["t-sinner"]
        fake.add_trend(trend, {"Lavazza": verdict})  # the service reports the story again, with its mark
        await settle(pilot, app)
        assert app.state.marks.get("Lavazza", "t-sinner") == "not_for_us"
        assert "t-sinner" not in keys(app.main.query_one("#opps", DataTable))


async def test_the_detail_says_who_marked_a_story(tmp_path: Path) -> None:
    path = tmp_path / "onda.db"
    anna = StoredMarksService(Storage(path), user="anna")
    app = make_app(anna)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.press("n")
        await settle(pilot, app)
        assert "your feedback: not for us — by anna" in rendered(app.screen.query_one("#d-verdict"))
        await pilot.press("escape", "q")
    anna.storage.close()

    bob = StoredMarksService(Storage(path), user="bob")  # another dashboard on the same store
    app = make_app(bob)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("o")
        await settle(pilot, app)
        off = app.main.query_one("#offbrand", DataTable)
        assert "not for us (anna's feedback)" in str(off.get_row("t-sinner")[2])  # the list says whose, too
        off.move_cursor(row=keys(off).index("t-sinner"))
        await pilot.press("enter")
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.trend_id == "t-sinner"
        verdict = rendered(screen.query_one("#d-verdict"))
        assert "feedback: not for us — by anna" in verdict and "your feedback" not in verdict
        await pilot.press("u")  # bob changes it: now his
        await settle(pilot, app)
        assert "your feedback: used — by bob" in rendered(screen.query_one("#d-verdict"))
    bob.storage.close()
