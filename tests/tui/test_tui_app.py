"""Pilot tests: every pane and key action against the FakeService."""

from __future__ import annotations

import asyncio
import threading

from conftest import make_app, settle
from fake_service import FakeService, fit_verdict, make_trend
from rich.text import Text
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import DataTable, Input

from monitor.events import AlertEvent, SourceErrorEvent, StatusEvent, TrendEvent
from tui.brand import BrandPane
from tui.brand_dialogs import StatementDialog
from tui.demo import DUCATI, LAVAZZA, MARKUP_TITLE, NOW, demo_outbox
from tui.detail import DetailScreen
from tui.messages import ServiceEvent
from tui.text import summary


def rendered(widget: Widget) -> str:
    """The text a widget puts on screen right now."""
    lines = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return "\n".join(line.text for line in lines)


def keys(table: DataTable) -> list[str]:
    return [str(r.value) for r in table.rows]


def cursor_key(table: DataTable) -> str:
    return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)


async def test_first_frame_before_model_ready_then_rows() -> None:
    gate = asyncio.Event()
    fake = FakeService(gate=gate)
    app = make_app(fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert ("start",) in fake.calls  # started from on_mount, not awaited before the first frame
        assert app.state.model_state == "loading"
        assert "loading model…" in app.sub_title
        banner = app.main.query_one("#banner")
        assert banner.display and "Loading the language model" in rendered(banner)
        assert app.main.query_one("#opps", DataTable).row_count == 0
        await pilot.press("3")  # stays responsive while loading
        assert app.main.query_one("#tabs").active == "sources"  # type: ignore[attr-defined]
        await pilot.press("1")
        gate.set()
        await settle(pilot, app)
        assert app.state.model_state == "ready"
        assert "model ready" in app.sub_title and "3/4 sources ok, 1 failing" in app.sub_title
        assert keys(app.main.query_one("#opps", DataTable)) == ["t-sinner", "t-barista", "t-coffeeday", "t-markup"]
        assert not app.main.query_one("#banner").display


async def test_start_failure_shows_error_and_keeps_running() -> None:
    fake = FakeService(fail_start="model file is corrupt")
    app = make_app(fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert app.state.model_state == "error"
        assert "model file is corrupt" in app.sub_title
        assert "model file is corrupt" in rendered(app.main.query_one("#banner"))
        assert any("model file is corrupt" in n.message for n in app._notifications)
        fake.push(StatusEvent("error", "faiss index unreadable"))
        await settle(pilot, app)
        assert app.state.status_message == "faiss index unreadable"


async def test_opportunities_risky_and_off_brand(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        risky = app.main.query_one("#risky", DataTable)
        assert sorted(keys(risky)) == ["t-cure", "t-election", "t-quake"]
        assert "Do not ride (3)" in rendered(app.main.query_one("#risky-panel"))
        text = rendered(risky)
        assert "high tragedy" in text and "high polarizing" in text
        why_not = {key: str(risky.get_row(key)[2]) for key in keys(risky)}  # cells cut to the column width
        assert why_not["t-quake"].startswith("'vittime' — tragedy")  # the evidence first
        assert why_not["t-election"].startswith("brand avoids 'politic")
        assert why_not["t-cure"].startswith("only low-credibility")
        off = app.main.query_one("#offbrand", DataTable)
        assert not off.display
        await pilot.press("o")
        await settle(pilot, app)
        assert off.display and not app.main.query_one("#opps").display
        assert sorted(keys(off)) == ["t-crypto", "t-motogp", "t-phone"]
        assert str(off.get_row("t-phone")[2]).startswith("no statement close")  # what was missing
        assert app.focused is off
        await pilot.press("o")
        assert app.main.query_one("#opps").display
        await pilot.press("d")
        assert app.focused is risky
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, DetailScreen) and app.screen.trend_id == "t-cure"


async def test_new_trend_is_announced_and_cursor_stays_on_same_trend(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        table = app.main.query_one("#opps", DataTable)
        await pilot.press("down")
        assert cursor_key(table) == "t-barista"
        trend = make_trend("t-new", "Espresso world record in Turin")
        fake.push(
            TrendEvent(
                trend,
                {"Lavazza": fit_verdict(trend, 0.93), "Ducati": fit_verdict(trend, 0.1, verdict="off_brand")},
                "gdelt",
                True,
            )
        )
        await settle(pilot, app)
        assert keys(table)[0] == "t-new"  # best first
        assert cursor_key(table) == "t-barista"  # not stolen
        assert app.state.new_ids == {"t-new"}
        assert "1 new" in rendered(app.main.query_one("#opps-label"))
        assert "● Espresso world record" in rendered(table)
        assert any(n.title == "New opportunity" and "Espresso world record" in n.message for n in app._notifications)
        assert app.state.last_update == NOW and app.sub_title.endswith(" · 09:30")  # 80 columns: the short form
        # an update of an already-fit trend is not announced again
        fake.push(TrendEvent(trend, {"Lavazza": fit_verdict(trend, 0.95)}, "gdelt", False))
        await settle(pilot, app)
        assert sum(1 for n in app._notifications if n.title == "New opportunity") == 1


async def test_events_from_another_thread_are_delivered(fake: FakeService) -> None:
    app = make_app(fake)
    messages: list[object] = []
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(pilot, app)
        trend = make_trend("t-thread", "Cappuccino day from a worker thread")
        event = TrendEvent(trend, {"Lavazza": fit_verdict(trend, 0.8)}, "gdelt", True)
        worker = threading.Thread(target=fake.push, args=(event,))
        worker.start()
        worker.join()
        await settle(pilot, app)
        assert "t-thread" in keys(app.main.query_one("#opps", DataTable))
        assert any(isinstance(m, ServiceEvent) and m.event is event for m in messages)


async def test_markup_in_titles_renders_literally_and_triggers_nothing(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot, app)
        table = app.main.query_one("#opps", DataTable)
        cell = table.get_row("t-markup")[0]
        assert isinstance(cell, Text) and cell.plain.startswith("[bold red]BREAKING[/] espresso")
        assert "[bold red]BREAKING[/] espresso [@click=app.q" in rendered(table)
        # a markup-laden trend arriving live: the toast must not parse it either
        evil = make_trend("t-evil", "[link=https://x.example]cheap[/link] [@click=app.quit]espresso[/] [/]")
        fake.push(TrendEvent(evil, {"Lavazza": fit_verdict(evil, 0.99, matched="[b]x[/b]")}, "mastodon", True))
        await settle(pilot, app)
        assert "[link=https://x.example]cheap[/link] [@click=app.quit]espresso" in rendered(table)
        await pilot.click(table, offset=(20, 1))  # click on the [@click=app.quit] text
        await settle(pilot, app)
        assert app.is_running
        table.move_cursor(row=keys(table).index("t-markup"))
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, DetailScreen)
        title = rendered(app.screen.query_one("#d-title"))
        assert MARKUP_TITLE[:60] in title
        headlines = rendered(app.screen.query_one("#d-headlines"))
        assert "[b]not bold[/b] and [@click=app.bell]no action[/]" in headlines
        assert "https://example.org/[red]x[/red]" in headlines
        await pilot.click("#d-title", offset=(30, 0))
        await settle(pilot, app)
        assert app.is_running and isinstance(app.screen, DetailScreen)


async def test_detail_screen_content_and_keys(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.trend_id == "t-sinner"
        text = "\n".join(rendered(w) for w in screen.query("#detail Static"))
        assert "Sinner vince gli Australian Open" in text
        assert "FIT" in text and "fit 0.71" in text
        assert "Ambassador partnership with Italian tennis champion Jannik Sinner" in text
        assert "0.71" in text and "0.50" in text and "0.76" in text  # semantic, lexical, combined
        assert "No risk layer fired." in text
        assert "first seen 07:55:00 (1h ago)" in text and "last seen 09:28:00 (2m ago)" in text
        assert "▁▂▃▄▆█" in text
        assert "Sinner batte Medvedev in finale a Melbourne" in text
        assert "https://www.ansa.it/sport/tennis/sinner-melbourne" in text

        await pilot.press("u")
        await pilot.press("c")
        await settle(pilot, app)
        assert ("set_mark", "t-sinner", "Lavazza", "used") in fake.calls
        assert "your feedback: used" in rendered(screen.query_one("#d-verdict"))
        entry = app.state.store.get("Lavazza", "t-sinner")
        assert entry is not None
        assert app.clipboard == summary(entry[0], entry[1], "Lavazza")
        assert "Sinner vince" in app.clipboard and "[" not in app.clipboard.splitlines()[0]
        assert any("copied" in n.message for n in app._notifications)

        await pilot.press("n")
        await settle(pilot, app)
        assert ("set_mark", "t-sinner", "Lavazza", "not_for_us") in fake.calls
        assert "your feedback: not for us" in rendered(screen.query_one("#d-verdict"))
        await pilot.press("escape")
        await settle(pilot, app)
        assert not isinstance(app.screen, DetailScreen)
        assert "t-sinner" not in keys(app.main.query_one("#opps", DataTable))  # moved out of opportunities
        await pilot.press("o")
        await settle(pilot, app)
        assert "not for us" in rendered(app.main.query_one("#offbrand"))


async def test_detail_shows_every_risk_layer_and_overrides(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(250, 50)) as pilot:  # wide: each reason on one line
        await settle(pilot, app)
        app.open_detail("t-quake")
        await settle(pilot, app)
        text = rendered(app.screen.query_one("#d-risk"))
        assert "terms" in text and "examples" in text  # layers in words
        assert "'vittime' — tragedy: death (GARM: Death, Injury or Military Conflict), strong evidence" in text
        assert "close to 'Natural disaster with casualties' (similarity 0.41" in text
        assert "'crolli' — tragedy: disaster" in text and "allowed by brand: 'disasters'" in text
        verdict = rendered(app.screen.query_one("#d-verdict"))
        assert "DO NOT RIDE" in verdict and "matched:" not in verdict and "why:" not in verdict
        app.screen.dismiss(None)
        await settle(pilot, app)
        app.open_detail("t-election")
        await settle(pilot, app)
        assert rendered(app.screen.query_one("#d-risk")).count("brand avoids 'politics'") == 1
        app.screen.dismiss(None)
        await settle(pilot, app)
        app.open_detail("t-crypto")
        await settle(pilot, app)
        verdict = rendered(app.screen.query_one("#d-verdict"))
        assert "OFF BRAND" in verdict and "why: no statement close enough: best" in verdict


async def test_brand_dna_add_edit_remove_and_save(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("2")
        await settle(pilot, app)
        pane = app.main.query_one(BrandPane)
        table = app.main.query_one("#statements", DataTable)
        assert app.focused is table
        assert table.row_count == 3 + 2 + 2
        # add: empty is refused, then a real statement
        await pilot.press("a")
        await settle(pilot, app)
        assert isinstance(app.screen, StatementDialog)
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, StatementDialog)
        assert "cannot be empty" in rendered(app.screen.query_one("#dialog-error"))
        app.screen.query_one("#statement", Input).value = "Bitcoin and crypto coffee payments"
        await pilot.press("enter")
        await settle(pilot, app)
        assert not isinstance(app.screen, StatementDialog)
        assert pane.draft is not None and "Bitcoin and crypto coffee payments" in pane.draft.dna
        assert pane.unsaved and "unsaved changes" in rendered(app.main.query_one("#dna-label"))
        # edit the first avoid statement
        table.move_cursor(row=keys(table).index("avoid:1"))
        await pilot.press("e")
        await settle(pilot, app)
        assert app.screen.query_one("#statement", Input).value == "gambling"
        app.screen.query_one("#statement", Input).value = "betting and gambling"
        await pilot.press("enter")
        await settle(pilot, app)
        assert pane.draft.avoid == ("politics", "betting and gambling")
        # remove a positioning statement
        table.move_cursor(row=keys(table).index("positioning:0"))
        await pilot.press("x")
        await settle(pilot, app)
        assert pane.draft.positioning == (LAVAZZA.positioning[1],)
        # save: update_brand in a worker, then the diff
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        sent = [c for c in fake.calls if c[0] == "update_brand"]
        assert len(sent) == 1
        new_brand = sent[0][2]
        assert "Bitcoin and crypto coffee payments" in new_brand.dna
        assert new_brand.avoid == ("politics", "betting and gambling")
        assert not pane.unsaved and not pane.saving
        assert pane.last_diff is not None and [c.trend_id for c in pane.last_diff.new_opportunities] == ["t-crypto"]
        diff = rendered(app.main.query_one("#dna-diff-text"))
        assert "Now opportunities (1)" in diff and "Bitcoin sopra i 120 mila dollari" in diff
        assert "kept in" not in diff  # the demo brands have no file: no previous version to keep
        assert "t-crypto" in keys(app.main.query_one("#opps", DataTable))  # opportunities re-read after rescoring
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert len([c for c in fake.calls if c[0] == "update_brand"]) == 1
        assert any(n.message == "Nothing to save" for n in app._notifications)


async def test_brand_dna_guards_and_failed_save() -> None:
    fake = FakeService(fail_update="cannot write examples/brands/lavazza.toml: read-only")
    app = make_app(fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("2")
        pane = app.main.query_one(BrandPane)
        table = app.main.query_one("#statements", DataTable)
        for _ in range(2):
            table.move_cursor(row=0)
            await pilot.press("x")
        assert pane.draft is not None and len(pane.draft.dna) == 1
        table.move_cursor(row=0)
        await pilot.press("x")  # the last DNA statement stays
        await settle(pilot, app)
        assert len(pane.draft.dna) == 1
        assert any("at least one DNA statement" in n.message for n in app._notifications)
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert pane.unsaved and not pane.saving  # edits kept after a failed save
        assert any("Save failed" in n.message and "read-only" in n.message for n in app._notifications)
        await pilot.press("z")
        await settle(pilot, app)
        assert pane.draft == LAVAZZA and not pane.unsaved


async def test_sources_health_poll_now_and_errors(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("3")
        await settle(pilot, app)
        table = app.main.query_one("#sources-table", DataTable)
        assert app.focused is table
        assert keys(table) == ["google_trends", "gdelt", "mastodon", "rss_ansa"]
        text = rendered(table)
        assert "failing" in text and "HTTP 429 Too Many Requ" in text and "48m ago" in text
        table.move_cursor(row=2)
        await settle(pilot, app)
        assert "HTTP 429 Too Many Requests [retry-after: 600]" in rendered(app.main.query_one("#sources-detail"))
        await pilot.press("p")
        await settle(pilot, app)
        assert ("poll_now", "mastodon") in fake.calls
        assert app.state.health["mastodon"].ok and "failing" not in rendered(table)
        assert "4/4 sources ok" in app.sub_title
        fake.push(SourceErrorEvent("gdelt", "timeout after 20 s", 2, None))
        await settle(pilot, app)
        assert "timeout after 20 s" in rendered(table)
        assert "3/4 sources ok, 1 failing" in app.sub_title


async def test_alerts_log_and_alert_events(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("4")
        await settle(pilot, app)
        table = app.main.query_one("#alerts-table", DataTable)
        assert keys(table) == ["3", "2", "1"]
        text = rendered(table)
        assert "waiting" in text and "sent" in text and "failed" in text and "HTTP 500 from" in text
        assert "[bold red]BREAKING[/" in text
        assert "Slack: 1 delivered · 1 waiting · 1 failed" in rendered(app.main.query_one("#alerts-channels"))
        before = fake.calls.count(("outbox",))
        fake.push(AlertEvent("failed", demo_outbox()[0], error="HTTP 403 [b]x[/b]"))
        await settle(pilot, app)
        assert fake.calls.count(("outbox",)) == before + 1
        assert any("Alert failed" in n.message and "[b]x[/b]" in n.message for n in app._notifications)


async def test_brand_switch(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert app.title == "Onda · Lavazza"
        await pilot.press("b")
        await settle(pilot, app)
        assert app.brand_name == "Ducati" and app.title == "Onda · Ducati"
        assert keys(app.main.query_one("#opps", DataTable)) == ["t-motogp"]
        assert app.main.query_one(BrandPane).draft == DUCATI
        await pilot.press("b")
        assert app.brand_name == "Lavazza"
    one = FakeService(brands=[LAVAZZA])
    app = make_app(one)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("b")
        assert app.brand_name == "Lavazza"
        assert "Next brand" not in [c.title for c in app.get_system_commands(app.screen)]


async def test_command_palette_runs_actions(fake: FakeService) -> None:
    app = make_app(fake, brand="Lavazza")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for expected in (
            "Opportunities",
            "Brand DNA",
            "Sources",
            "Alerts log",
            "Toggle off-brand",
            "Open trend detail",
            "Mark used",
            "Mark not for us",
            "Next brand",
            "Add DNA statement",
            "Save brand DNA",
            "Poll mastodon now",
            "Refresh alerts",
        ):
            assert expected in titles
        await pilot.press("ctrl+p")
        await settle(pilot, app)
        await pilot.press(*"Poll gdelt now")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot, app)
        assert ("poll_now", "gdelt") in fake.calls
        cmd = next(c for c in app.get_system_commands(app.screen) if c.title == "Mark used")
        cmd.callback()
        assert fake.calls[-1] == ("set_mark", "t-sinner", "Lavazza", "used")


async def test_quit_stops_the_service(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("q")
        await pilot.pause()
    assert fake.calls.count(("stop",)) == 1
    assert fake.listeners == []
    assert app.return_code == 0
