"""Pilot tests: the whole brand file in the DNA editor, validation as you type, and no edit lost without asking."""

from __future__ import annotations

from conftest import make_app, settle
from fake_service import FakeService
from textual.pilot import Pilot
from textual.widgets import Button, Input, Select

from monitor.text import clean_text
from tui.app import OndaApp
from tui.brand import BrandPane
from tui.brand_dialogs import StatementDialog, UnsavedChangesScreen
from tui.demo import DUCATI, LAVAZZA


def text_of(app: OndaApp, selector: str) -> str:
    """The plain text a Static shows (on the screen on top)."""
    return clean_text(str(app.screen.query_one(selector).render()), 2000)


def saved(fake: FakeService) -> list[object]:
    return [c[2] for c in fake.calls if c[0] == "update_brand"]


async def add_item(pilot: Pilot, app: OndaApp, kind: str, text: str) -> None:
    await pilot.press("a")
    await settle(pilot, app)
    assert isinstance(app.screen, StatementDialog)
    app.screen.query_one("#kind", Select).value = kind
    app.screen.query_one("#statement", Input).value = text
    await settle(pilot, app)
    await pilot.press("enter")
    await settle(pilot, app)


async def open_dna(pilot: Pilot, app: OndaApp) -> BrandPane:
    await settle(pilot, app)
    await pilot.press("2")
    await settle(pilot, app)
    return app.main.query_one(BrandPane)


async def test_every_list_of_the_brand_file_can_be_edited(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await open_dna(pilot, app)
        await add_item(pilot, app, "entities", "Jannik  Sinner")
        await add_item(pilot, app, "allow", "death")
        await add_item(pilot, app, "audience", "Tennis fans")
        assert pane.draft is not None
        assert pane.draft.entities == ("Jannik Sinner",) and pane.draft.allow == ("death",)
        assert pane.draft.audience == ("Tennis fans",)
        kinds = list(dict.fromkeys(str(r.value).partition(":")[0] for r in pane.table.rows))
        assert kinds == ["dna", "positioning", "audience", "avoid", "allow", "entities"]  # the file's order
        assert app.main.query_one("#tabs").get_tab("dna").label.plain.endswith("●")  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        [brand] = saved(fake)
        assert brand.entities == ("Jannik Sinner",) and brand.allow == ("death",)  # type: ignore[attr-defined]
        assert not app.main.query_one("#tabs").get_tab("dna").label.plain.endswith("●")  # type: ignore[attr-defined]


async def test_the_item_dialog_validates_as_you_type(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await open_dna(pilot, app)
        await pilot.press("a")
        await settle(pilot, app)
        dialog = app.screen
        assert isinstance(dialog, StatementDialog)
        assert text_of(app, "#dialog-error") == ""  # an untouched empty field is not scolded
        assert dialog.query_one("#ok", Button).disabled
        dialog.query_one("#kind", Select).value = "avoid"
        dialog.query_one("#statement", Input).value = "politics"
        await settle(pilot, app)
        assert text_of(app, "#dialog-error") == "Already in Avoid."
        assert dialog.query_one("#ok", Button).disabled
        assert "never rides" in text_of(app, "#kind-help")
        await pilot.press("enter")  # refused: the dialog stays
        await settle(pilot, app)
        assert app.screen is dialog
        dialog.query_one("#statement", Input).value = "politics and elections"
        await settle(pilot, app)
        assert text_of(app, "#dialog-error") == "" and not dialog.query_one("#ok", Button).disabled
        await pilot.press("enter")
        await settle(pilot, app)
        assert pane.draft is not None and pane.draft.avoid == (*LAVAZZA.avoid, "politics and elections")


async def test_alert_threshold_and_language_are_validated_as_you_type(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await open_dna(pilot, app)
        field = app.main.query_one("#dna-threshold", Input)
        assert field.value == "0"
        field.focus()
        field.value = ""
        await pilot.press(*"1.5")
        await settle(pilot, app)
        assert "✗ Alert threshold: between -1 and 1." in str(app.main.query_one("#dna-field-note").render())
        assert field.has_class("-invalid") and pane.unsaved
        assert "fix the field marked ✗" in str(app.main.query_one("#dna-label").render())
        await pilot.press("ctrl+s")  # refused, with the reason
        await settle(pilot, app)
        assert saved(fake) == []
        assert any(n.message == "Cannot save: Alert threshold: between -1 and 1." for n in app._notifications)
        await pilot.press("backspace", "backspace", "backspace", *"0.2", "enter")
        await settle(pilot, app)
        assert app.focused is pane.table  # enter (or escape) leaves the field for the list
        language = app.main.query_one("#dna-language", Input)
        language.value = "EN"
        await settle(pilot, app)
        assert not field.has_class("-invalid") and pane.refusal() is None
        assert pane.draft is not None and pane.draft.alert_threshold == 0.2 and pane.draft.language == "en"
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        [brand] = saved(fake)
        assert brand.alert_threshold == 0.2 and brand.language == "en"  # type: ignore[attr-defined]
        assert field.value == "0.2" and not pane.unsaved


async def test_quit_with_unsaved_edits_asks_and_cancel_keeps_the_app(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await open_dna(pilot, app)
        await add_item(pilot, app, "dna", "Espresso at the bar")
        await pilot.press("q")
        await settle(pilot, app)
        modal = app.screen
        assert isinstance(modal, UnsavedChangesScreen)
        assert "DNA: 1 added" in text_of(app, "#unsaved-text") and "before you quit" in text_of(app, "#unsaved-text")
        assert app.focused is modal.query_one("#save", Button)
        await pilot.press("ctrl+q")  # asked again while asking: still one dialog
        await settle(pilot, app)
        assert app.screen is modal
        await pilot.press("escape")
        await settle(pilot, app)
        assert app.is_running and app.return_code is None
        assert not isinstance(app.screen, UnsavedChangesScreen)
        assert pane.draft is not None and "Espresso at the bar" in pane.draft.dna and pane.unsaved
        assert ("stop",) not in fake.calls


async def test_quit_discard_drops_the_edits_and_quits(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_dna(pilot, app)
        await add_item(pilot, app, "dna", "Espresso at the bar")
        await pilot.press("q")
        await settle(pilot, app)
        assert isinstance(app.screen, UnsavedChangesScreen)
        await pilot.press("d")
        await settle(pilot, app)
    assert app.return_code == 0
    assert saved(fake) == [] and fake.calls.count(("stop",)) == 1


async def test_quit_save_writes_then_quits(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_dna(pilot, app)
        await add_item(pilot, app, "dna", "Espresso at the bar")
        await pilot.press("q")
        await settle(pilot, app)
        await pilot.press("enter")  # Save has the focus
        await settle(pilot, app)
    assert app.return_code == 0
    [brand] = saved(fake)
    assert "Espresso at the bar" in brand.dna  # type: ignore[attr-defined]
    assert fake.calls.index(("stop",)) > next(i for i, c in enumerate(fake.calls) if c[0] == "update_brand")


async def test_a_failed_save_on_quit_keeps_the_app_and_the_edits() -> None:
    fake = FakeService(fail_update="cannot write brands/lavazza.toml: read-only")
    app = make_app(fake)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await open_dna(pilot, app)
        await add_item(pilot, app, "dna", "Espresso at the bar")
        await pilot.press("q")
        await settle(pilot, app)
        await pilot.press("s")
        await settle(pilot, app)
        assert app.is_running and pane.unsaved
        assert any("Save failed" in n.message for n in app._notifications)


async def test_quit_with_an_invalid_field_offers_no_save(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await open_dna(pilot, app)
        app.main.query_one("#dna-threshold", Input).value = "lots"
        await settle(pilot, app)
        assert pane.unsaved  # the text typed is an edit too, even though the draft could not take it
        await pilot.press("q")
        await settle(pilot, app)
        modal = app.screen
        assert isinstance(modal, UnsavedChangesScreen)
        assert modal.query_one("#save", Button).disabled
        assert "Cannot save: Alert threshold: a number such as 0.1." in text_of(app, "#unsaved-text")
        await pilot.press("s")
        await settle(pilot, app)
        assert app.screen is modal and saved(fake) == []
        await pilot.press("d")
        await settle(pilot, app)
    assert app.return_code == 0


async def test_switching_brand_with_unsaved_edits_asks(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await open_dna(pilot, app)
        await add_item(pilot, app, "avoid", "gambling ads")
        await pilot.press("b")
        await settle(pilot, app)
        assert isinstance(app.screen, UnsavedChangesScreen)
        assert "before you switch brand" in text_of(app, "#unsaved-text")
        await pilot.press("escape")
        await settle(pilot, app)
        assert app.brand_name == "Lavazza" and pane.draft is not None and "gambling ads" in pane.draft.avoid
        await pilot.press("b")
        await settle(pilot, app)
        await pilot.press("s")
        await settle(pilot, app)
        [brand] = saved(fake)
        assert "gambling ads" in brand.avoid  # type: ignore[attr-defined]
        assert app.brand_name == "Ducati" and pane.draft == DUCATI
        await add_item(pilot, app, "dna", "Superbike world titles")
        await pilot.press("b")
        await settle(pilot, app)
        await pilot.press("d")
        await settle(pilot, app)
        assert app.brand_name == "Lavazza" and len(saved(fake)) == 1
        await pilot.press("b")  # nothing unsaved: no question
        await settle(pilot, app)
        assert app.brand_name == "Ducati" and not isinstance(app.screen, UnsavedChangesScreen)
        assert pane.draft == DUCATI  # the discarded edit is gone


async def test_leaving_the_dna_tab_keeps_the_draft(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await open_dna(pilot, app)
        await add_item(pilot, app, "positioning", "Official coffee of the ATP Finals")
        await pilot.press("1")
        await settle(pilot, app)
        assert not isinstance(app.screen, UnsavedChangesScreen)
        await pilot.press("2")
        await settle(pilot, app)
        assert pane.draft is not None and "Official coffee of the ATP Finals" in pane.draft.positioning


async def test_a_brand_saved_in_another_dashboard_is_shown_unless_edits_are_unsaved(fake: FakeService) -> None:
    from monitor.events import StatusEvent, StatusKind

    app = make_app(fake)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await open_dna(pilot, app)
        elsewhere = LAVAZZA.with_lists(avoid=[*LAVAZZA.avoid, "guerra"])
        fake._brands = [elsewhere if b.name == LAVAZZA.name else b for b in fake._brands]
        fake.push(
            StatusEvent(
                StatusKind.RESCORED,
                "Lavazza (edited by anna): re-scored 3 trends, 1 changed",
                {"brand": "Lavazza", "rescored": 3, "changed": 1, "edited_by": "anna"},
            )
        )
        await settle(pilot, app)
        assert pane.draft == elsewhere and not pane.unsaved  # the other dashboard's version, nothing to save
        assert any("edited by anna" in n.message for n in app._notifications)
        await add_item(pilot, app, "entities", "Sinner")  # now an unsaved edit here
        again = elsewhere.with_lists(avoid=[*elsewhere.avoid, "sangue"])
        fake._brands = [again if b.name == LAVAZZA.name else b for b in fake._brands]
        fake.push(
            StatusEvent(
                StatusKind.RESCORED,
                "Lavazza (edited by anna): re-scored 3 trends, 0 changed",
                {"brand": "Lavazza", "rescored": 3, "changed": 0, "edited_by": "anna"},
            )
        )
        await settle(pilot, app)
        assert pane.unsaved and pane.draft is not None and pane.draft.entities == ("Sinner",)  # not thrown away
