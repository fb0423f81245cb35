"""Sources pane: health per source and "poll now" (the Alerts pane is tui.alerts)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from monitor.models import SourceHealth
from monitor.text import clean_text
from tui.messages import PollSource, ReloadHealth
from tui.state import DashboardState
from tui.tables import ColumnSpec, Row, fill, selected_key, set_columns
from tui.text import age, safe, when

SOURCE_COLUMNS: list[ColumnSpec] = [
    ("name", "Source", 14, 0),
    ("status", "Status", 8, 0),
    ("success", "Last ok", 8, 0),
    ("error", "Last error", None, 1),
    ("next", "Next run", 8, 0),
    ("fails", "Fails", 5, 0),
]
STATUS_STYLE = {"ok": "bold green", "failing": "bold red", "polling": "bold yellow", "waiting": "dim", "remote": "cyan"}


def source_row(
    name: str, h: SourceHealth | None, polling: bool, now: datetime, widths: dict[str, int], remote: bool = False
) -> Row:
    """`remote`: another Onda process on the same database polls this source; the row shows its health."""
    if polling:
        status = "polling"
    elif h is not None and not h.ok:
        status = "failing"
    elif remote:
        status = "remote"
    elif h is None:
        status = "waiting"
    else:
        status = "ok"
    ok_at = f"{age(h.last_success, now)} ago" if h and h.last_success else "never"
    next_run = "—"
    if h and h.next_run:
        secs = int((h.next_run - now).total_seconds())
        next_run = "due" if secs <= 0 else f"in {age(now, h.next_run)}"
    error = safe(h.last_error or "", "red" if h and not h.ok else "dim", widths["error"]) if h else Text("")
    return (
        name,
        [
            safe(name, "bold", widths["name"]),
            Text(status, style=STATUS_STYLE[status]),
            Text(ok_at, style="dim" if h and h.ok else ""),
            error,
            Text(next_run, style="dim"),
            Text(str(h.consecutive_failures if h else 0), justify="right", style="bold red" if h and not h.ok else ""),
        ],
    )


class SourcesPane(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("p", "poll", "Poll now"), Binding("r", "reload", "Refresh")]

    def __init__(self, state: DashboardState, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.state = state
        self._width = 0
        self.widths: dict[str, int] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="sources-label")
        yield DataTable(id="sources-table", cursor_type="row")
        yield Static(id="sources-detail")

    def on_mount(self) -> None:
        self.refresh_view()

    def on_resize(self) -> None:
        if self.size.width and self.size.width != self._width:
            self.refresh_view()

    def refresh_view(self) -> None:
        state = self.state
        table = self.query_one("#sources-table", DataTable)
        width = self.size.width or 80
        if width != self._width or not self.widths:
            self._width = width
            self.widths = set_columns(table, SOURCE_COLUMNS, width)
        names = state.source_names()
        now = state.clock()
        rows = [
            source_row(n, state.health.get(n), n in state.polling, now, self.widths, n in state.viewing)
            for n in names
        ]
        fill(table, rows)
        failing = state.failing()
        self.query_one("#sources-label", Static).update(
            Text.assemble(
                ("Sources", "bold"),
                (f"  {len(names) - failing} ok", "green"),
                (f" · {failing} failing", "bold red") if failing else "",
                ("   p: poll the selected source now", "dim"),
            )
        )
        self._show_selected()

    def _show_selected(self) -> None:
        name = selected_key(self.query_one("#sources-table", DataTable))
        h = self.state.health.get(name) if name else None
        detail = Text()
        if h is not None:
            now = self.state.clock()
            detail.append(f"{clean_text(name, 40)}: ", style="bold")
            detail.append(f"last success {when(h.last_success, now)} · next run {when(h.next_run, now)}")
            detail.append(f" · {h.items_last} items last poll", style="dim")
            if h.last_error:
                detail.append("\nlast error: ", style="dim")
                detail.append_text(safe(h.last_error, "red", 400))
                if h.last_error_at:
                    detail.append(f" at {when(h.last_error_at, now)}", style="dim")
        self.query_one("#sources-detail", Static).update(detail)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_selected()

    def action_poll(self) -> None:
        name = selected_key(self.query_one("#sources-table", DataTable))
        if name is not None:
            self.post_message(PollSource(name))

    def action_reload(self) -> None:
        self.post_message(ReloadHealth())
