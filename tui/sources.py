"""Sources pane: health per source and "poll now"; Alerts pane: the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from monitor.api import ServiceAPI
from monitor.models import OutboxRow, SourceHealth
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
ALERT_COLUMNS: list[ColumnSpec] = [
    ("time", "Time", 5, 0),
    ("status", "Status", 7, 0),
    ("brand", "Brand", 8, 0),
    ("kind", "Kind", 11, 0),
    ("via", "Via", 5, 0),  # shown when alerts go out on more than one channel (Slack and the webhook)
    ("title", "Title", None, 3),
    ("error", "Last error", None, 2),
]
CHANNEL_LABEL = {"slack": "slack", "webhook": "hook"}
STATUS_STYLE = {"ok": "bold green", "failing": "bold red", "polling": "bold yellow", "waiting": "dim", "remote": "cyan"}
OUTBOX_STYLE = {"sent": "green", "pending": "yellow", "failed": "bold red"}


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


def alert_row(row: OutboxRow, widths: dict[str, int], now: datetime) -> Row:
    at = row.sent_at or row.created_at
    local = at.astimezone(now.tzinfo) if at.tzinfo is not None else at
    return (
        str(row.id),
        [
            Text(f"{local:%H:%M}"),
            Text(row.status, style=OUTBOX_STYLE.get(row.status, "")),
            safe(row.brand, "", widths["brand"]),
            safe(row.kind.replace("_", " "), "", widths["kind"]),
            *([safe(CHANNEL_LABEL.get(row.channel, row.channel), "dim", widths["via"])] if "via" in widths else []),
            safe(row.payload.get("title") or row.trend_id, "", widths["title"]),
            safe(row.last_error or "", "red", widths["error"]),
        ],
    )


def alert_columns(rows: list[OutboxRow]) -> list[ColumnSpec]:
    """One row per alert per channel; the Via column only when there is more than one channel to tell apart."""
    if len({r.channel for r in rows}) > 1:
        return ALERT_COLUMNS
    return [c for c in ALERT_COLUMNS if c[0] != "via"]


class AlertsPane(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "reload", "Refresh")]

    def __init__(self, state: DashboardState, service: ServiceAPI, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.state = state
        self.service = service
        self._width = 0
        self.widths: dict[str, int] = {}
        self.rows: list[OutboxRow] = []
        self._specs: list[ColumnSpec] = []

    def compose(self) -> ComposeResult:
        yield Static(id="alerts-label")
        yield DataTable(id="alerts-table", cursor_type="row")

    def on_mount(self) -> None:
        self.reload()

    def on_resize(self) -> None:
        if self.size.width and self.size.width != self._width:
            self.refresh_view()

    def reload(self) -> None:
        try:
            self.rows = self.service.outbox(200)
        except Exception as exc:
            self.notify(f"Cannot read the alert outbox: {clean_text(exc, 200)}", severity="error", markup=False)
            self.rows = []
        self.refresh_view()

    def refresh_view(self) -> None:
        table = self.query_one("#alerts-table", DataTable)
        width = self.size.width or 80
        specs = alert_columns(self.rows)
        if width != self._width or not self.widths or specs != self._specs:
            self._width = width
            self._specs = specs
            self.widths = set_columns(table, specs, width)
        fill(table, [alert_row(r, self.widths, self.state.clock()) for r in self.rows])
        counts = {s: sum(1 for r in self.rows if r.status == s) for s in ("sent", "pending", "failed")}
        self.query_one("#alerts-label", Static).update(
            Text.assemble(
                ("Alerts", "bold"),
                (f"  {counts['sent']} sent", "green"),
                (f" · {counts['pending']} pending", "yellow"),
                (f" · {counts['failed']} failed", "bold red" if counts["failed"] else "dim"),
            )
        )

    def action_reload(self) -> None:
        self.reload()
