"""Home pane: opportunities best first, the red "Do not ride" panel, and off-brand one key away."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from monitor.clustering.title import display_title
from monitor.explain import risk_reasons, verdict_why
from monitor.models import Mark, Trend, Verdict
from monitor.text import clean_text
from tui.marks import MARK_WORDS
from tui.state import Entry
from tui.tables import ColumnSpec, Row, fill, selected_key, set_columns
from tui.text import age, momentum_arrow, safe, sparkline, trend_counts

if TYPE_CHECKING:
    from tui.app import OndaApp

OPP_COLUMNS: list[ColumnSpec] = [
    ("title", "Trend", None, 3),
    ("fit", "Fit", 4, 0),
    ("matched", "Matched DNA", None, 2),
    ("momentum", "Momentum", 8, 0),
    ("sources", "Src", 3, 0),
    ("age", "Age", 4, 0),
]
RISKY_COLUMNS: list[ColumnSpec] = [
    ("title", "Trend", None, 3),
    ("risk", "Risk", 20, 0),
    ("reason", "Why not", None, 3),
    ("age", "Age", 4, 0),
]
OFF_COLUMNS: list[ColumnSpec] = [
    ("title", "Trend", None, 3),
    ("fit", "Fit", 4, 0),
    ("why", "Why", None, 2),
    ("age", "Age", 4, 0),
]
ARROW_STYLE = {"↑": "bold green", "↓": "red", "→": "yellow"}


def momentum_cell(trend: Trend) -> Text:
    arrow = momentum_arrow(trend)
    return Text.assemble((arrow, ARROW_STYLE[arrow]), " ", (sparkline(trend_counts(trend), 6), "cyan"))


def mark_tag(mark: Mark | None) -> Text:
    """The brand's feedback mark in front of a title ("" when none): the same words as the detail."""
    return Text(f"{MARK_WORDS[mark]} · ", style="bold cyan") if mark else Text("")


def titled(trend: Trend, mark: Mark | None, style: str, width: int, prefix: Text | None = None) -> Text:
    """Title cell: optional prefix, the mark, then the display title cut to what is left of `width`."""
    head = Text.assemble(prefix or "", mark_tag(mark))
    return Text.assemble(head, safe(display_title(trend), style, max(width - head.cell_len, 1)))


def opportunity_row(
    trend: Trend, verdict: Verdict, widths: dict[str, int], now_age: str, new: bool, mark: Mark | None = None
) -> Row:
    new_dot = Text("● ", "bold yellow") if new else None
    title = titled(trend, mark, "bold" if new else "", widths["title"], new_dot)
    sources = str(trend.corroboration)
    return (
        trend.id,
        [
            title,
            Text(f"{verdict.fit:.2f}", style="bold green"),
            safe(verdict.matched or "—", "italic", widths["matched"]),
            momentum_cell(trend),
            Text(sources, justify="right"),
            Text(now_age, style="dim"),
        ],
    )


def risky_row(trend: Trend, verdict: Verdict, widths: dict[str, int], now_age: str, mark: Mark | None = None) -> Row:
    risk = verdict.risk
    category = risk.categories[0] if risk.categories else ("avoid" if risk.avoid_hit else "risk")
    label = f"{risk.level} {category}"
    reasons = risk_reasons(risk)
    reason = reasons[0] if reasons else ""
    return (
        trend.id,
        [
            titled(trend, mark, "", widths["title"]),
            Text(clean_text(label, widths["risk"]), style="bold red"),
            safe(reason, "", widths["reason"]),
            Text(now_age, style="dim"),
        ],
    )


def off_brand_row(
    trend: Trend, verdict: Verdict, widths: dict[str, int], now_age: str, mark: Mark | None = None
) -> Row:
    dismissed = mark == "not_for_us"
    why = "not for us (your feedback)" if dismissed else verdict_why(verdict)
    return (
        trend.id,
        [
            titled(trend, None if dismissed else mark, "dim" if dismissed else "", widths["title"]),
            Text(f"{verdict.fit:.2f}", style="dim"),
            safe(why, "dim", widths["why"]),
            Text(now_age, style="dim"),
        ],
    )


class TrendTable(DataTable[Text]):
    """A row-cursor table whose Enter is labelled in the footer."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Detail")]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]


class OpportunitiesPane(Vertical):
    """Three tables; only data from the app's TrendStore, re-rendered by `refresh_view()`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "toggle_off_brand", "Off-brand"),
        Binding("d", "focus_risky", "Do not ride"),
        Binding("u", "mark('used')", "Used", show=False),
        Binding("n", "mark('not_for_us')", "Not for us", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.show_off_brand = False
        self._width = 0
        self._widths: dict[str, dict[str, int]] = {}

    @property
    def onda(self) -> OndaApp:
        return cast("OndaApp", self.app)

    def compose(self) -> ComposeResult:
        yield Static(id="opps-label")
        yield Static(id="banner")
        yield TrendTable(id="opps")
        yield TrendTable(id="offbrand")
        with Vertical(id="risky-panel"):
            yield TrendTable(id="risky")

    def on_mount(self) -> None:
        self.query_one("#offbrand").display = False
        self._layout(self.size.width or 80)
        self.refresh_view()

    def on_resize(self) -> None:
        if self.size.width and self.size.width != self._width:
            self._layout(self.size.width)
            self.refresh_view()

    def _layout(self, width: int) -> None:
        self._width = width
        panel_inner = width - 2  # the risky panel's border
        self._widths = {
            "opps": set_columns(self.query_one("#opps", DataTable), OPP_COLUMNS, width),
            "offbrand": set_columns(self.query_one("#offbrand", DataTable), OFF_COLUMNS, width),
            "risky": set_columns(self.query_one("#risky", DataTable), RISKY_COLUMNS, panel_inner),
        }

    @property
    def opps_table(self) -> DataTable[Text]:
        return self.query_one("#opps", DataTable)

    def refresh_view(self) -> None:
        app = self.onda
        brand = app.brand_name
        now = app.clock()
        def mark(e: Entry) -> Mark | None:
            return app.marks.get(brand, e[0].id)

        # A fit story marked not for us leaves Opportunities for the off-brand list (key o), labelled so.
        fits = [e for e in app.store.by_verdict(brand, "fit") if mark(e) != "not_for_us"]
        dismissed = [e for e in app.store.by_verdict(brand, "fit") if mark(e) == "not_for_us"]
        off = app.store.by_verdict(brand, "off_brand") + dismissed
        risky = app.store.by_verdict(brand, "risky")

        def age_of(e: Entry) -> str:
            return age(e[0].first_seen, now)

        w = self._widths
        fill(
            self.opps_table,
            [opportunity_row(t, v, w["opps"], age_of((t, v)), t.id in app.new_ids, mark((t, v))) for t, v in fits],
        )
        fill(
            self.query_one("#offbrand", DataTable),
            [off_brand_row(t, v, w["offbrand"], age_of((t, v)), mark((t, v))) for t, v in off],
        )
        fill(
            self.query_one("#risky", DataTable),
            [risky_row(t, v, w["risky"], age_of((t, v)), mark((t, v))) for t, v in risky],
        )
        panel = self.query_one("#risky-panel")
        panel.border_title = f"⚠ Do not ride ({len(risky)})"
        panel.border_subtitle = "risky for this brand — details: Enter"
        new = sum(1 for t, _ in fits if t.id in app.new_ids)
        if self.show_off_brand:
            label = Text.assemble(
                (f"Off-brand for {clean_text(brand, 40)}", "bold"), (f" ({len(off)})", "dim"), ("  o: back", "dim")
            )
        else:
            label = Text.assemble(
                (f"Opportunities for {clean_text(brand, 40)}", "bold"),
                (f" ({len(fits)})", "dim"),
                (f"  ● {new} new", "bold yellow") if new else "",
                (f"  · {len(off)} off-brand: o", "dim"),
            )
        self.query_one("#opps-label", Static).update(label)
        banner = self.query_one("#banner", Static)
        banner_text = app.banner_text(has_rows=bool(fits or off or risky))
        banner.display = banner_text is not None
        if banner_text is not None:
            banner.update(banner_text)
            banner.set_class(app.model_state == "error", "error")

    def action_toggle_off_brand(self) -> None:
        self.show_off_brand = not self.show_off_brand
        self.query_one("#opps").display = not self.show_off_brand
        off = self.query_one("#offbrand")
        off.display = self.show_off_brand
        (off if self.show_off_brand else self.query_one("#opps")).focus()
        self.refresh_view()

    def action_mark(self, mark: Mark) -> None:
        """u / n on a row: toggle the brand's mark on that story (the app stores it; ctrl+z undoes)."""
        trend_id = self.highlighted_trend()
        if trend_id is not None:
            self.onda.toggle_mark(trend_id, self.onda.brand_name, mark)

    def action_focus_risky(self) -> None:
        self.query_one("#risky").focus()

    def highlighted_trend(self) -> str | None:
        """The trend id under the cursor of the focused table (or the main table)."""
        focused = self.app.focused
        table = focused if isinstance(focused, DataTable) and focused in self.query(DataTable) else None
        return selected_key(
            table or (self.query_one("#offbrand", DataTable) if self.show_off_brand else self.opps_table)
        )

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.onda.open_detail(event.row_key.value)

    @on(DataTable.RowHighlighted, "#opps")
    def _seen(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        # Refills emit highlights for intermediate rows: only the row really under the cursor counts as seen.
        if key in self.onda.new_ids and self.has_focus_within and selected_key(self.opps_table) == key:
            self.onda.new_ids.discard(key)
            self.onda.schedule_refresh()
