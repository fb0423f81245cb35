"""Alerts pane: what was delivered, is waiting or failed per channel, and why; Enter previews one alert.

Rows come from the outbox (`service.outbox`): status, attempts, last error. A row on the `log` channel
went nowhere (no Slack or webhook is configured): it is "logged only", never "sent".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from monitor.api import ServiceAPI
from monitor.models import OutboxRow
from monitor.text import clean_text
from tui.state import DashboardState
from tui.tables import ColumnSpec, Row, fill, set_columns
from tui.text import safe, when

ALERT_COLUMNS: list[ColumnSpec] = [
    ("time", "Time", 5, 0),
    ("status", "Status", 7, 0),  # 11 when a row says "logged only"
    ("brand", "Brand", 8, 0),
    ("kind", "Kind", 11, 0),
    ("via", "Via", 5, 0),  # shown when alerts go out on more than one channel (Slack and the webhook)
    ("title", "Title", None, 3),
    ("error", "Last error", None, 2),
]
CHANNEL_LABEL = {"slack": "slack", "webhook": "hook", "log": "log"}
CHANNEL_NAME = {"slack": "Slack", "webhook": "Webhook", "log": "Log only"}
STATUS_STYLE = {"sent": "green", "logged only": "dim", "waiting": "yellow", "failed": "bold red"}
NO_CHANNEL = (
    "⚠ No Slack or webhook configured: alerts are only logged, nothing leaves this machine — "
    "set ONDA_SLACK__WEBHOOK_URL or [webhook] url (see README, Alerts)"
)


def status_word(row: OutboxRow) -> str:
    """Sent | logged only | waiting | failed: a log-only row is never called sent."""
    if row.status == "sent":
        return "logged only" if row.channel == "log" else "sent"
    return {"pending": "waiting"}.get(row.status, row.status)


@dataclass(frozen=True, slots=True)
class ChannelSummary:
    """One channel's alerts: delivered (or logged only), waiting, failed, and the newest error."""

    channel: str
    delivered: int = 0
    waiting: int = 0
    failed: int = 0
    last_error: str | None = None
    next_attempt: datetime | None = None  # the earliest retry among the waiting alerts

    def line(self) -> Text:
        done = "logged only" if self.channel == "log" else "delivered"
        out = Text.assemble(
            (f"{CHANNEL_NAME.get(self.channel, self.channel)}: ", "bold"),
            (f"{self.delivered} {done}", "dim" if self.channel == "log" else "green"),
            (f" · {self.waiting} waiting", "yellow" if self.waiting else "dim"),
            (f" · {self.failed} failed", "bold red" if self.failed else "dim"),
        )
        if self.next_attempt is not None:
            out.append(f" · next try {self.next_attempt:%H:%M}", style="dim")
        if self.last_error:
            out.append(" · last error: ", style="dim")
            out.append_text(safe(self.last_error, "red", 160))
        return out


def channel_summaries(rows: list[OutboxRow], channels: list[str]) -> list[ChannelSummary]:
    """Per channel (the configured ones first, then any other found in the rows), from the outbox rows."""
    names = list(dict.fromkeys([*channels, *(r.channel for r in rows)]))
    out = []
    for name in names:
        mine = [r for r in rows if r.channel == name]
        waiting = [r for r in mine if r.status == "pending"]
        errors = sorted((r for r in mine if r.last_error and r.status != "sent"), key=lambda r: r.next_attempt_at)
        out.append(
            ChannelSummary(
                channel=name,
                delivered=sum(1 for r in mine if r.status == "sent"),
                waiting=len(waiting),
                failed=sum(1 for r in mine if r.status == "failed"),
                last_error=errors[-1].last_error if errors else None,
                next_attempt=min((r.next_attempt_at for r in waiting), default=None),
            )
        )
    return out


def alert_row(row: OutboxRow, widths: dict[str, int], now: datetime) -> Row:
    at = row.sent_at or row.created_at
    local = at.astimezone(now.tzinfo) if at.tzinfo is not None else at
    word = status_word(row)
    return (
        str(row.id),
        [
            Text(f"{local:%H:%M}"),
            Text(word, style=STATUS_STYLE.get(word, "")),
            safe(row.brand, "", widths["brand"]),
            safe(row.kind.replace("_", " "), "", widths["kind"]),
            *([safe(CHANNEL_LABEL.get(row.channel, row.channel), "dim", widths["via"])] if "via" in widths else []),
            safe(row.payload.get("title") or row.trend_id, "", widths["title"]),
            safe(row.last_error or "", "red", widths["error"]),
        ],
    )


def alert_columns(rows: list[OutboxRow]) -> list[ColumnSpec]:
    """One row per alert per channel.

    The Via column only when there is more than one channel to tell apart, a wider Status column
    only when a row says "logged only".
    """
    status_width = max((len(status_word(r)) for r in rows), default=7)
    specs = [("status", "Status", max(status_width, 7), 0) if c[0] == "status" else c for c in ALERT_COLUMNS]
    if len({r.channel for r in rows}) > 1:
        return specs
    return [c for c in specs if c[0] != "via"]


def alert_facts(row: OutboxRow, now: datetime) -> Text:
    """The alert's delivery state as lines: channel, status, attempts, times, last error."""
    out = Text.assemble(
        ("Alert ", "bold"),
        (f"#{row.id}", "bold"),
        ("  ", ""),
        safe(row.kind.replace("_", " "), "", 40),
        (" for ", "dim"),
        safe(row.brand, "bold", 60),
        ("\ntitle ", "dim"),
        safe(row.payload.get("title") or row.trend_id, "", 300),
        ("\nchannel ", "dim"),
        CHANNEL_NAME.get(row.channel, clean_text(row.channel, 20)),
        ("  status ", "dim"),
        (status_word(row), STATUS_STYLE.get(status_word(row), "")),
        ("  attempts ", "dim"),
        str(row.attempts),
        ("\nqueued ", "dim"),
        when(row.created_at, now),
    )
    if row.sent_at is not None:
        out.append("  done ", style="dim")
        out.append(when(row.sent_at, now))
    elif row.status == "pending":
        out.append("  next try ", style="dim")
        out.append(when(row.next_attempt_at, now))
    if row.last_error:
        out.append("\nlast error ", style="dim")
        out.append_text(safe(row.last_error, "red", 600))
    if row.channel == "log":
        out.append("\nNo Slack or webhook was configured: this alert was only logged.", style="italic")
    return out


def preview_lines(text: str) -> Text:
    """The message text shown literally: each line cleaned (no control characters), never markup."""
    out = Text()
    for line in text.splitlines() or [""]:
        out.append_text(safe(line, "", 2000))
        out.append("\n")
    return out


class AlertPreview(ModalScreen[None]):
    """One alert: its delivery state and the message as its channel gets it (secrets redacted)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter,q", "close", "Close")]

    def __init__(self, row: OutboxRow, facts: Text, message: Text, heading: str) -> None:
        super().__init__()
        self.row = row
        self.facts = facts
        self.message = message
        self.heading = heading

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="alert-preview"):
            yield Static(self.facts, id="ap-facts")
            yield Static(Text(self.heading, style="bold underline"), id="ap-heading")
            yield Static(self.message, id="ap-message")

    def action_close(self) -> None:
        self.dismiss(None)


class AlertsPane(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "reload", "Refresh")]

    def __init__(self, state: DashboardState, service: ServiceAPI, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.state = state
        self.service = service
        self._width = 0
        self.widths: dict[str, int] = {}
        self.rows: list[OutboxRow] = []
        self.channels: list[str] = []
        self._specs: list[ColumnSpec] = []

    def compose(self) -> ComposeResult:
        yield Static(id="alerts-label")
        yield Static(id="alerts-banner")
        yield Static(id="alerts-channels")
        yield DataTable(id="alerts-table", cursor_type="row")

    def on_mount(self) -> None:
        self.reload()

    def on_resize(self) -> None:
        if self.size.width and self.size.width != self._width:
            self.refresh_view()

    def reload(self) -> None:
        try:
            self.rows = self.service.outbox(200)
            self.channels = self.service.alert_channels(self.state.brand)
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
        self.query_one("#alerts-label", Static).update(
            Text.assemble(("Alerts", "bold"), (f"  {len(self.rows)} in the outbox · Enter: preview", "dim"))
        )
        banner = self.query_one("#alerts-banner", Static)
        banner.display = self.channels in ([], ["log"])
        banner.update(Text(NO_CHANNEL if self.channels else "Alerts are off in this process.", style="bold yellow"))
        lines = Text("\n").join(s.line() for s in channel_summaries(self.rows, self.channels))
        self.query_one("#alerts-channels", Static).update(lines)

    def action_reload(self) -> None:
        self.reload()

    @on(DataTable.RowSelected, "#alerts-table")
    def _preview(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = next((r for r in self.rows if str(r.id) == event.row_key.value), None)
        if row is None:
            return
        try:
            message = self.service.alert_preview(row)
        except Exception as exc:
            message = f"(preview not available: {clean_text(exc, 200)})"
        heading = "Webhook JSON body" if row.channel == "webhook" else "Slack message (as it is sent)"
        if row.channel == "log":
            heading = "Slack message (as it would be sent once a webhook is set)"
        self.app.push_screen(AlertPreview(row, alert_facts(row, self.state.clock()), preview_lines(message), heading))
