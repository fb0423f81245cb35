"""Brand DNA pane: list, add, edit and remove statements; save re-indexes and shows what changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Input, Label, LoadingIndicator, Select, Static

from brand_dna.dna import MAX_STATEMENT_CHARS, BrandDNA
from monitor.api import RescoreDiff, VerdictChange
from monitor.explain import verdict_words
from monitor.text import clean_text
from tui.tables import ColumnSpec, fill, selected_key, set_columns
from tui.text import safe

if TYPE_CHECKING:
    from tui.app import OndaApp

EDITABLE = ("dna", "positioning", "avoid")
KIND_LABEL = {"dna": "DNA", "positioning": "Positioning", "avoid": "Avoid"}
KIND_STYLE = {"dna": "bold cyan", "positioning": "cyan", "avoid": "bold red"}
COLUMNS: list[ColumnSpec] = [("kind", "Kind", 11, 0), ("statement", "Statement", None, 1)]


def validate_statement(text: str) -> str | None:
    """An error message, or None when the statement can be saved."""
    t = " ".join(text.split())
    if not t:
        return "A statement cannot be empty."
    if len(t) > MAX_STATEMENT_CHARS:
        return f"Keep it under {MAX_STATEMENT_CHARS} characters (now {len(t)})."
    return None


def edit_brand(brand: BrandDNA, kind: str, index: int | None, text: str | None) -> BrandDNA:
    """Pure edit: text None removes item `index`; index None appends; otherwise replaces."""
    items = list(getattr(brand, kind))
    if text is None:
        if index is not None:
            del items[index]
    else:
        clean_text = " ".join(text.split())
        if index is None:
            if clean_text not in items:
                items.append(clean_text)
        else:
            items[index] = clean_text
    return brand.with_lists(**{kind: items})


def diff_text(diff: RescoreDiff) -> Text:
    out = Text()
    out.append(f"Saved {clean_text(diff.brand, 60)}: {diff.rescored} recent trends re-scored.\n", style="bold green")
    if diff.backup:
        out.append("Backup of the previous file: ", style="dim")
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


class StatementDialog(ModalScreen[tuple[str, str] | None]):
    """Add or edit one statement; returns (kind, text) or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, kind: str = "dna", text: str = "") -> None:
        super().__init__()
        self.dialog_title = title
        self.kind = kind
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(self.dialog_title, style="bold"))
            yield Select([(KIND_LABEL[k], k) for k in EDITABLE], value=self.kind, allow_blank=False, id="kind")
            yield Input(value=self.text, placeholder="Statement", id="statement", max_length=MAX_STATEMENT_CHARS + 50)
            yield Static(id="dialog-error")
            with Horizontal(id="dialog-buttons"):
                yield Button("Save", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#statement", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        text = self.query_one("#statement", Input).value
        error = validate_statement(text)
        if error is not None:
            self.query_one("#dialog-error", Static).update(Text(error, style="bold red"))
            return
        self.dismiss((str(self.query_one("#kind", Select).value), " ".join(text.split())))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class BrandPane(Vertical):
    """Edits a draft of the current brand; nothing reaches the service until ctrl+s."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Edit"),
        Binding("x,delete", "remove", "Remove"),
        Binding("ctrl+s", "save", "Save"),
        Binding("z", "revert", "Revert"),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.draft: BrandDNA | None = None
        self.dirty = False
        self.saving = False
        self.last_diff: RescoreDiff | None = None
        self._width = 0

    @property
    def onda(self) -> OndaApp:
        return cast("OndaApp", self.app)

    def compose(self) -> ComposeResult:
        yield Static(id="dna-label")
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

    def load_brand(self) -> None:
        """Start a fresh draft from the service's current brand (brand switch, revert, after save)."""
        self.draft = self.onda.current_brand()
        self.dirty = False
        self.refresh_view()

    def refresh_view(self) -> None:
        draft = self.draft
        width = self.size.width or 80
        if not self.table.columns or self._width != width:
            self._width = width
            set_columns(self.table, COLUMNS, width)
        widths = {c.key.value: c.width for c in self.table.columns.values()}
        rows = []
        if draft is not None:
            for kind in EDITABLE:
                for i, st in enumerate(getattr(draft, kind)):
                    rows.append(
                        (
                            f"{kind}:{i}",
                            [Text(KIND_LABEL[kind], KIND_STYLE[kind]), safe(st, "", widths.get("statement", 60))],
                        )
                    )
        fill(self.table, rows)
        name = clean_text(draft.name if draft else "—", 60)
        path = clean_text(str(draft.path) if draft and draft.path else "(no file)", 80)
        label = Text.assemble(
            (f"Brand DNA: {name}", "bold"),
            (
                "  ● unsaved changes — ctrl+s saves, z reverts" if self.dirty else f"  {path}",
                "bold yellow" if self.dirty else "dim",
            ),
        )
        self.query_one("#dna-label", Static).update(label)

    def _selected(self) -> tuple[str, int] | None:
        key = selected_key(self.table)
        if key is None:
            return None
        kind, _, idx = key.partition(":")
        return kind, int(idx)

    def _apply(self, kind: str, index: int | None, text: str | None) -> None:
        if self.draft is None:
            return
        self.draft = edit_brand(self.draft, kind, index, text)
        self.dirty = True
        self.refresh_view()

    def action_add(self) -> None:
        sel = self._selected()

        def done(result: tuple[str, str] | None) -> None:
            if result is not None:
                self._apply(result[0], None, result[1])

        self.app.push_screen(StatementDialog("Add a statement", sel[0] if sel else "dna"), done)

    def action_edit(self) -> None:
        sel = self._selected()
        if sel is None or self.draft is None:
            return
        kind, index = sel
        current = getattr(self.draft, kind)[index]

        def done(result: tuple[str, str] | None) -> None:
            if result is None or self.draft is None:
                return
            new_kind, text = result
            if new_kind == kind:
                self._apply(kind, index, text)
            else:
                self._move(kind, index, new_kind, text)

        self.app.push_screen(StatementDialog("Edit statement", kind, current), done)

    def _move(self, kind: str, index: int, new_kind: str, text: str) -> None:
        if self.draft is None:
            return
        if kind == "dna" and len(self.draft.dna) == 1:
            self.notify("The brand needs at least one DNA statement.", severity="warning", markup=False)
            return
        self.draft = edit_brand(edit_brand(self.draft, kind, index, None), new_kind, None, text)
        self.dirty = True
        self.refresh_view()

    def action_remove(self) -> None:
        sel = self._selected()
        if sel is None or self.draft is None:
            return
        kind, index = sel
        if kind == "dna" and len(self.draft.dna) == 1:
            self.notify("The brand needs at least one DNA statement.", severity="warning", markup=False)
            return
        self._apply(kind, index, None)

    def action_revert(self) -> None:
        self.load_brand()
        self.notify("Changes reverted", markup=False)

    def action_save(self) -> None:
        if self.draft is None or self.saving:
            return
        if not self.dirty:
            self.notify("Nothing to save", markup=False)
            return
        self.saving = True
        self.query_one("#dna-progress").display = True
        self.save_worker(self.draft)

    @work(exclusive=True, group="dna-save", exit_on_error=False)
    async def save_worker(self, draft: BrandDNA) -> RescoreDiff | None:
        """update_brand rebuilds the index in a thread; the UI keeps running meanwhile."""
        try:
            diff = await self.onda.service.update_brand(draft)
        except Exception as exc:
            self.notify(f"Save failed: {clean_text(exc, 300)}", severity="error", markup=False, timeout=10)
            return None
        finally:
            self.saving = False
            self.query_one("#dna-progress").display = False
        self.last_diff = diff
        self.onda.brand_saved(diff)
        self.load_brand()
        self.query_one("#dna-diff-text", Static).update(diff_text(diff))
        self.query_one("#dna-diff").display = True
        self.notify(
            f"Saved {clean_text(diff.brand, 60)}: {len(diff.new_opportunities)} new, "
            f"{len(diff.lost_opportunities)} lost opportunities",
            markup=False,
        )
        return diff
