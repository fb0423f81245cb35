"""Brand DNA dialogs: add/edit one item (validated as you type) and the unsaved-edits question."""

from __future__ import annotations

from typing import ClassVar, Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from brand_dna.dna import MAX_STATEMENT_CHARS, BrandDNA
from monitor.text import clean_text
from tui.brand_edit import KIND_HELP, KIND_LABEL, KINDS, clean_item, validate_item

UnsavedChoice = Literal["save", "discard", "cancel"]


class StatementDialog(ModalScreen[tuple[str, str] | None]):
    """Add or edit one item of any list of the brand file; returns (kind, text) or None.

    The reason an item cannot be saved shows under the field as you type, and Save stays disabled.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, title: str, brand: BrandDNA, kind: str = "dna", text: str = "", editing: tuple[str, int] | None = None
    ) -> None:
        super().__init__()
        self.dialog_title = title
        self.brand = brand
        self.kind = kind
        self.text = text
        self.editing = editing
        self._touched = False  # an empty field is only scolded once typed in or submitted

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(self.dialog_title, style="bold"))
            yield Select([(KIND_LABEL[k], k) for k in KINDS], value=self.kind, allow_blank=False, id="kind")
            yield Static(id="kind-help")
            yield Input(value=self.text, placeholder="Statement", id="statement", max_length=MAX_STATEMENT_CHARS + 50)
            yield Static(id="dialog-error")
            with Horizontal(id="dialog-buttons"):
                yield Button("Save", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#statement", Input).focus()
        self._check()

    @property
    def chosen_kind(self) -> str:
        return str(self.query_one("#kind", Select).value)

    def error(self) -> str | None:
        return validate_item(self.brand, self.chosen_kind, self.query_one("#statement", Input).value, self.editing)

    def _check(self) -> str | None:
        """Validate now: the reason under the field, Save on/off."""
        self.query_one("#kind-help", Static).update(Text(KIND_HELP[self.chosen_kind], style="dim"))
        error = self.error()
        quiet = not self._touched and not self.query_one("#statement", Input).value.strip()
        self.query_one("#dialog-error", Static).update(Text(error or "", style="bold red") if not quiet else "")
        self.query_one("#ok", Button).disabled = error is not None
        return error

    @on(Input.Changed, "#statement")
    def _typed(self) -> None:
        self._touched = True
        self._check()

    @on(Select.Changed, "#kind")
    def _kind_changed(self) -> None:
        self._check()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        self._touched = True
        if self._check() is not None:
            return
        self.dismiss((self.chosen_kind, clean_item(self.query_one("#statement", Input).value)))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class UnsavedChangesScreen(ModalScreen[UnsavedChoice]):
    """Unsaved Brand DNA edits would be lost: save, discard or cancel (escape)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "choose('save')", "Save"),
        Binding("d", "choose('discard')", "Discard"),
        Binding("escape,c", "choose('cancel')", "Cancel"),
    ]

    def __init__(self, brand: str, doing: str, changes: list[str], refusal: str | None) -> None:
        super().__init__()
        self.brand = brand
        self.doing = doing
        self.changes = changes
        self.refusal = refusal

    def compose(self) -> ComposeResult:
        with Vertical(id="unsaved"):
            yield Label(Text(f"Unsaved Brand DNA edits for {clean_text(self.brand, 60)}", style="bold"))
            body = Text()
            for line in self.changes[:8]:
                body.append(f" • {clean_text(line, 90)}\n")
            if self.refusal:
                body.append(f"Cannot save: {clean_text(self.refusal, 200)}\n", style="bold red")
                body.append(f"Cancel to fix it, or discard the edits and {self.doing}.", style="dim")
            else:
                body.append(f"Save them before you {self.doing}?", style="dim")
            yield Static(body, id="unsaved-text")
            with Horizontal(id="unsaved-buttons"):
                yield Button("Save", variant="primary", id="save", disabled=self.refusal is not None)
                yield Button("Discard", variant="error", id="discard")
                yield Button("Cancel", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#cancel" if self.refusal else "#save", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_choose(event.button.id or "cancel")

    def action_choose(self, choice: str) -> None:
        if choice == "save" and self.refusal is not None:
            self.notify(f"Cannot save: {clean_text(self.refusal, 200)}", severity="error", markup=False)
            return
        self.dismiss("save" if choice == "save" else "discard" if choice == "discard" else "cancel")
