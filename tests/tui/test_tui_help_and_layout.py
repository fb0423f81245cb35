"""Help screen, Esc and toggle keys, off-loop batched reloads, the central worker error handler, layouts."""

from __future__ import annotations

import threading

from conftest import make_app, settle
from fake_service import FakeService, fit_verdict, make_trend
from textual import work
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import DataTable, HelpPanel

from monitor.events import TrendEvent
from monitor.models import RiskAssessment, Verdict
from tui.app import OndaApp
from tui.demo import NOW
from tui.help import HelpScreen
from tui.opportunities import OpportunitiesPane
from tui.tables import column_widths


def all_text(widget: Widget) -> str:
    """Every line a widget renders (scrolled out of view or not), joined."""
    lines = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return " ".join(" ".join(line.text.split()) for line in lines)


async def test_f1_and_question_mark_open_help_and_esc_closes_it(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        for key in ("f1", "question_mark"):
            await pilot.press(key)
            await settle(pilot, app)
            assert isinstance(app.screen, HelpScreen)
            text = all_text(app.screen.query_one("#help-text"))
            for words in ("do not ride", "off brand", "caution", "config file", "Opportunities"):
                assert words in text
            await pilot.press("escape")
            await settle(pilot, app)
            assert not isinstance(app.screen, HelpScreen)
        assert app.focused is app.main.query_one("#opps")  # back where we were


async def test_help_shows_the_paths_it_is_given(fake: FakeService) -> None:
    app = OndaApp(fake, clock=lambda: NOW, paths=[("database", "/srv/onda/onda.db")])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f1")
        await settle(pilot, app)  # type: ignore[arg-type]
        assert "database /srv/onda/onda.db" in all_text(app.screen.query_one("#help-text"))


async def test_esc_closes_the_keys_panel_then_works_as_before(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        app.action_show_help_panel()
        await settle(pilot, app)
        assert app.screen.query(HelpPanel)
        await pilot.press("escape")
        await settle(pilot, app)
        assert not app.screen.query(HelpPanel)
        await pilot.press("enter")  # detail open; Esc still goes back from it
        await settle(pilot, app)
        await pilot.press("escape")
        await settle(pilot, app)
        assert app.screen is app.main


async def test_d_toggles_between_the_list_and_do_not_ride(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        opps, risky = app.main.query_one("#opps"), app.main.query_one("#risky")
        assert app.focused is opps
        await pilot.press("d")
        assert app.focused is risky
        await pilot.press("d")
        assert app.focused is opps
        await pilot.press("o", "d", "d")  # from the off-brand list, back to it
        assert app.focused is app.main.query_one("#offbrand")


async def test_reload_reads_each_brand_once_in_a_thread() -> None:
    fake = FakeService()
    threads: list[str] = []
    recent = fake.recent

    def tracking_recent(brand: str, limit: int = 500) -> list:  # type: ignore[type-arg]
        threads.append(threading.current_thread().name)
        return recent(brand, limit)

    fake.recent = tracking_recent  # type: ignore[method-assign]
    app = make_app(fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        threads.clear()
        calls = len(fake.calls)
        app.reload()
        await settle(pilot, app)
        brands = [c[1] for c in fake.calls[calls:] if c[0] == "recent"]
        assert sorted(brands) == sorted(b.name for b in fake.brands)  # once per brand, not per trend
        assert threads and all(name != threading.main_thread().name for name in threads)
        for _ in range(5):  # a burst of events re-renders from state: no query at all
            trend = make_trend(f"t-burst-{_}", "Espresso burst")
            fake.push(TrendEvent(trend, {"Lavazza": fit_verdict(trend, 0.8)}, "gdelt", True))
        await settle(pilot, app)
        assert not [c for c in fake.calls[calls + len(brands) :] if c[0] == "recent"]
        assert "t-burst-4" in [str(r.value) for r in app.main.query_one("#opps", DataTable).rows]


async def test_a_failing_worker_is_one_notification_and_the_app_keeps_running(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        before = len(app._notifications)

        @work(thread=True, name="boom", exit_on_error=False)
        def boom(self: OndaApp) -> None:
            raise RuntimeError("disk\n full [bold]x[/bold]")

        boom(app)
        await settle(pilot, app)
        new = list(app._notifications)[before:]
        assert len(new) == 1 and new[0].severity == "error"
        assert new[0].message == "disk full [bold]x[/bold]" and not new[0].markup
        assert app.is_running
        await pilot.press("3")
        assert app.main.query_one("#tabs").active == "sources"  # type: ignore[attr-defined]


async def test_a_failing_poll_is_reported_and_the_source_leaves_polling(fake: FakeService) -> None:
    async def fail(source: str) -> None:
        raise OSError("connection refused")

    fake.poll_now = fail  # type: ignore[method-assign]
    app = make_app(fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        app.poll_source("gdelt")
        await settle(pilot, app)
        assert "gdelt" not in app.state.polling
        assert [n.message for n in app._notifications if n.severity == "error"] == ["connection refused"]


def test_flexible_columns_take_what_their_content_needs() -> None:
    specs = [("title", "Trend", None, 3), ("fit", "Fit", 4, 0), ("why", "Why", None, 2)]
    # A short title leaves its share to the long reason.
    w = column_widths(specs, 120, {"title": 20, "why": 200})
    assert w["title"] == 20 and w["why"] == 120 - 4 - 2 * 3 - 2 - 20
    # Everything fits: the heaviest column takes the rest, nothing is cut.
    w = column_widths(specs, 200, {"title": 30, "why": 40})
    assert w["why"] == 40 and w["title"] == 200 - 4 - 8 - 40
    # Both too long: shares by weight, as before.
    assert column_widths(specs, 120, {"title": 500, "why": 500}) == column_widths(specs, 120)


async def test_lists_split_the_height_by_their_rows() -> None:
    fake = FakeService()
    app = make_app(fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        pane = app.main.query_one(OpportunitiesPane)
        opps, panel = app.main.query_one("#opps", DataTable), app.main.query_one("#risky-panel")
        # The demo fits: each list as tall as its rows, the panel right below the list.
        assert opps.size.height == opps.row_count + 1
        assert panel.region.y == opps.region.bottom
        # Many risky trends: the short opportunity list keeps its rows, the panel takes the rest and scrolls.
        for i in range(30):
            trend = make_trend(f"t-risky-{i}", f"Risky story {i}")
            verdict = Verdict(trend.id, "risky", 0.1, "", RiskAssessment("high", ("tragedy",)))
            fake.push(TrendEvent(trend, {"Lavazza": verdict}, "gdelt", True))
        await settle(pilot, app)
        assert opps.size.height == opps.row_count + 1
        assert panel.region.bottom <= pane.region.bottom and panel.size.height > 8
