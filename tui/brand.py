"""Brand DNA pane: the whole brand file (every list, language, alert threshold) edited as a draft.

Nothing reaches the service until ctrl+s; an invalid field shows its reason next to it and the save
is refused with that reason. `unsaved` tells the app whether quitting or switching brand would drop
edits (the app then asks, tui.brand_dialogs.UnsavedChangesScreen).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Input, Label, LoadingIndicator, Static

from brand_dna.dna import BrandDNA
from monitor.api import RescoreDiff, ServiceAPI, VerdictChange
from monitor.explain import verdict_words
from monitor.text import clean_text
from tui.brand_dialogs import StatementDialog, UnsavedChangesScreen, UnsavedChoice
from tui.brand_edit import (
    KIND_LABEL,
    KIND_STYLE,
    KINDS,
    THRESHOLD_HELP,
    changes,
    edit_item,
    move_item,
    parse_language,
    parse_threshold,
    with_settings,
)
from tui.messages import BrandSaved
from tui.state import DashboardState
from tui.tables import ColumnSpec, fill, selected_key, set_columns
from tui.text import safe

COLUMNS: list[ColumnSpec] = [("kind", "Kind", 11, 0), ("statement", "Item", None, 1)]
FIELDS = {"dna-language": "language", "dna-threshold": "alert_threshold"}


def diff_text(diff: RescoreDiff) -> Text:
    out = Text()
    out.append(f"Saved {clean_text(diff.brand, 60)}: {diff.rescored} recent trends re-scored.\n", style="bold green")
    if diff.backup:
        out.append("Previous version kept in: ", style="dim")
        out.append_text(safe(diff.backup, "", 300))
        out.append("\n")

    def section(title: str, changes: list[VerdictChange], style: str, sign: str) -> None:
        if not changes:
            return
        out.append(f"{title} ({len(changes)}):\n", style=f"bold {style}")
        for c in changes:
            out.append(f" {sign} ", style=style)
            out.append_text(safe(c.title, "", 70))
            before, after = verdict_words(c.before), verdict_words(c.after)
            out.append(f"  {before} → {after}  {c.fit_before:.2f} → {c.fit_after:.2f}\n", style="dim")

    new, lost = diff.new_opportunities, diff.lost_opportunities
    other = [c for c in diff.changes if c not in new and c not in lost]
    section("Now opportunities", new, "green", "+")
    section("No longer opportunities", lost, "red", "−")
    section("Other changes", other, "yellow", "~")
    if not diff.changes:
        out.append("No verdict changed.\n", style="dim")
    return out


class BrandPane(Vertical):
    """Edits a draft of the current brand; nothing reaches the service until ctrl+s."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Edit"),
        Binding("x,delete", "remove", "Remove"),
        Binding("ctrl+s", "save", "Save"),
        Binding("z", "revert", "Revert"),
        Binding("escape", "leave_field", "Back to the list", show=False),
    ]

    @dataclass
    class Edited(Message):
        """The draft went from saved to unsaved or back (the app marks the tab)."""

        unsaved: bool

    def __init__(self, state: DashboardState, service: ServiceAPI, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.state = state
        self.service = service  # update_brand (save) only; every other read comes from `state`
        self.base: BrandDNA | None = None  # the brand as the service has it
        self.draft: BrandDNA | None = None
        self.field_errors: dict[str, str] = {}  # field -> why its text cannot be saved
        self.saving = False
        self.last_diff: RescoreDiff | None = None
        self._width = 0
        self._was_unsaved = False

    def compose(self) -> ComposeResult:
        yield Static(id="dna-label")
        with Horizontal(id="dna-fields"):
            yield Label("Language ")
            yield Input(id="dna-language", placeholder="it", compact=True, max_length=20)
            yield Label("  Alert threshold ")
            yield Input(id="dna-threshold", placeholder="0", compact=True, max_length=20)
            yield Static(id="dna-field-note")
        yield DataTable(id="statements", cursor_type="row")
        with Horizontal(id="dna-progress"):
            yield LoadingIndicator()
            yield Static(Text("rebuilding index and re-scoring recent trends…", style="bold"))
        with VerticalScroll(id="dna-diff"):
            yield Static(id="dna-diff-text")

    def on_mount(self) -> None:
        self.query_one("#dna-progress").display = False
        self.query_one("#dna-diff").display = False
        self.load_brand()

    def on_resize(self) -> None:
        if self.size.width and self.size.width != self._width:
            self._width = self.size.width
            self.refresh_view()

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#statements", DataTable)

    @property
    def unsaved(self) -> bool:
        """Edits that quitting or loading another brand would lose (an invalid field counts)."""
        return self.draft != self.base or bool(self.field_errors)

    def refusal(self) -> str | None:
        """Why the draft cannot be saved now, or None."""
        return next(iter(self.field_errors.values()), None)

    def change_lines(self) -> list[str]:
        return changes(self.base, self.draft) if self.base and self.draft else []

    def load_brand(self) -> None:
        """Start a fresh draft from the service's current brand (brand switch, revert, after save)."""
        self.base = self.draft = next((b for b in self.service.brands if b.name == self.state.brand), None)
        self.field_errors.clear()
        language = self.draft.language if self.draft else None
        threshold = self.draft.alert_threshold if self.draft else 0.0
        self.query_one("#dna-language", Input).value = language or ""
        self.query_one("#dna-threshold", Input).value = f"{threshold:g}"
        self.refresh_view()

    @on(Input.Changed, "#dna-language, #dna-threshold")
    def _field_changed(self, event: Input.Changed) -> None:
        """Validate as you type: a valid value goes into the draft, an invalid one shows why."""
        if self.draft is None:
            return
        field = FIELDS[event.input.id or ""]
        if field == "language":
            language, error = parse_language(event.value)
            if error is None:
                self.draft = with_settings(self.draft, language=language, alert_threshold=self.draft.alert_threshold)
        else:
            threshold, error = parse_threshold(event.value)
            if threshold is not None:
                self.draft = with_settings(self.draft, language=self.draft.language, alert_threshold=threshold)
        if error is None:
            self.field_errors.pop(field, None)
        else:
            self.field_errors[field] = error
        event.input.set_class(error is not None, "-invalid")
        self.refresh_view()

    @on(Input.Submitted, "#dna-language, #dna-threshold")
    def action_leave_field(self) -> None:
        """Enter or escape in a field: back to the list, where the single-key bindings (q, a, e…) work."""
        self.table.focus()

    def refresh_view(self) -> None:
        draft = self.draft
        width = self.size.width or 80
        if not self.table.columns or self._width != width:
            self._width = width
            set_columns(self.table, COLUMNS, width)
        widths = {c.key.value: c.width for c in self.table.columns.values()}
        rows = []
        if draft is not None:
            for kind in KINDS:
                for i, item in enumerate(getattr(draft, kind)):
                    cells = [Text(KIND_LABEL[kind], KIND_STYLE[kind]), safe(item, "", widths.get("statement", 60))]
                    rows.append((f"{kind}:{i}", cells))
        fill(self.table, rows)
        self._update_label()
        note = self.query_one("#dna-field-note", Static)
        error = self.refusal()
        note.update(Text(f"  ✗ {error}", style="bold red") if error else Text(f"  {THRESHOLD_HELP}", style="dim"))
        if self.unsaved != self._was_unsaved:
            self._was_unsaved = self.unsaved
            self.post_message(self.Edited(self.unsaved))

    def _update_label(self) -> None:
        draft = self.draft
        name = clean_text(draft.name if draft else "—", 60)
        if self.refusal():
            state = ("  ● unsaved changes — fix the field marked ✗ to save, z reverts", "bold red")
        elif self.unsaved:
            state = ("  ● unsaved changes — ctrl+s saves, z reverts", "bold yellow")
        else:
            where = str(draft.path) if draft and draft.path else "(no file: saved in the store)"
            state = (f"  {clean_text(where, 80)}", "dim")
        self.query_one("#dna-label", Static).update(Text.assemble((f"Brand DNA: {name}", "bold"), state))

    def _selected(self) -> tuple[str, int] | None:
        key = selected_key(self.table)
        if key is None:
            return None
        kind, _, idx = key.partition(":")
        return kind, int(idx)

    def _set_draft(self, draft: BrandDNA) -> None:
        self.draft = draft
        self.refresh_view()

    def action_add(self) -> None:
        if self.draft is None:
            return
        sel = self._selected()

        def done(result: tuple[str, str] | None) -> None:
            if result is not None and self.draft is not None:
                self._set_draft(edit_item(self.draft, result[0], None, result[1]))

        self.app.push_screen(StatementDialog("Add an item", self.draft, sel[0] if sel else "dna"), done)

    def action_edit(self) -> None:
        sel = self._selected()
        if sel is None or self.draft is None:
            return
        kind, index = sel
        current = getattr(self.draft, kind)[index]

        def done(result: tuple[str, str] | None) -> None:
            if result is not None and self.draft is not None:
                self._set_draft(move_item(self.draft, kind, index, result[0], result[1]))

        self.app.push_screen(StatementDialog(f"Edit {KIND_LABEL[kind]}", self.draft, kind, current, sel), done)

    def action_remove(self) -> None:
        sel = self._selected()
        if sel is None or self.draft is None:
            return
        kind, index = sel
        if kind == "dna" and len(self.draft.dna) == 1:
            self.notify("The brand needs at least one DNA statement.", severity="warning", markup=False)
            return
        self._set_draft(edit_item(self.draft, kind, index, None))

    def action_revert(self) -> None:
        self.load_brand()
        self.notify("Changes reverted", markup=False)

    def action_save(self) -> None:
        self.save()

    def edits_would_be_lost(self, doing: str, then: Callable[[], object]) -> bool:
        """True when unsaved edits stand in the way of `doing` (quit, switch brand); False: nothing to lose.

        A dialog asks save / discard / cancel and runs `then` after a successful save or a discard.
        """
        if self.saving:
            self.notify("The Brand DNA is being saved: try again when it is done.", severity="warning", markup=False)
            return True
        if not self.unsaved:
            return False
        if isinstance(self.app.screen, UnsavedChangesScreen):  # already asking (ctrl+q pressed again)
            return True

        def chosen(choice: UnsavedChoice | None) -> None:
            if choice == "save":
                self.save(then=then)
            elif choice == "discard":
                self.load_brand()
                self.app.call_later(then)

        name = self.draft.name if self.draft else "—"
        self.app.push_screen(UnsavedChangesScreen(name, doing, self.change_lines(), self.refusal()), chosen)
        return True

    def save(self, then: Callable[[], object] | None = None) -> bool:
        """Save the draft in a worker; `then` runs after a successful save. False when refused (reason shown)."""
        if self.draft is None or self.saving:
            return False
        refusal = self.refusal()
        if refusal is not None:
            self.notify(f"Cannot save: {refusal}", severity="error", markup=False)
            return False
        if not self.unsaved:
            self.notify("Nothing to save", markup=False)
            if then is not None:
                self.app.call_later(then)
            return True
        self.saving = True
        self.query_one("#dna-progress").display = True
        self.save_worker(self.draft, then)
        return True

    @work(exclusive=True, group="dna-save", exit_on_error=False)
    async def save_worker(self, draft: BrandDNA, then: Callable[[], object] | None = None) -> RescoreDiff | None:
        """update_brand rebuilds the index in a thread; the UI keeps running meanwhile."""
        try:
            diff = await self.service.update_brand(draft)
        except Exception as exc:
            self.notify(f"Save failed: {clean_text(exc, 300)}", severity="error", markup=False, timeout=10)
            return None
        finally:
            self.saving = False
            self.query_one("#dna-progress").display = False
        self.last_diff = diff
        self.post_message(BrandSaved(diff))
        self.load_brand()
        self.query_one("#dna-diff-text", Static).update(diff_text(diff))
        self.query_one("#dna-diff").display = True
        self.notify(
            f"Saved {clean_text(diff.brand, 60)}: {len(diff.new_opportunities)} new, "
            f"{len(diff.lost_opportunities)} lost opportunities",
            markup=False,
        )
        if then is not None:
            self.app.call_later(then)
        return diff
